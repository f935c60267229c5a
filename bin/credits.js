#!/usr/bin/env node
// A Tab press in the shell runs `credits __complete KIND`: that path loads only its own small
// entry, so completion stays fast. Everything else goes through the CLI.
if (process.argv[2] === '__complete') {
  const { completeMain } = await import('../dist/complete.js');
  await completeMain();
} else {
  const { main } = await import('../dist/credits.js');
  await main();
}
