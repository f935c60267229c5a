#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json says so): an ES module entry would load Node's ESM loader, and with
// it fs/promises, readline and the stream modules, on every start.
// A Tab press in the shell runs `credits __complete KIND`: that path loads only its own small
// entry, so completion stays fast. Everything else goes through the CLI.
if (process.argv[2] === '__complete') {
  import('../dist/complete.mjs').then(({ completeMain }) => completeMain());
} else {
  require('../dist/credits.js').main();
}
