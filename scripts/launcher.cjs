// Copied by scripts/build.mjs to dist/credits.js. Node 20 has no compile cache for ES modules
// (module.enableCompileCache() came in 22.1), and compiling the ~0.7 MB CLI bundle was most of
// a cold start. So the CLI is bundled as one CommonJS script and compiled here through vm.Script
// with the V8 code cache the build wrote next to it: V8 then deserialises the functions a
// `balance` or `check` needs instead of parsing them. A cache that does not match (another node
// version, other V8 flags, another build) is ignored by V8 or by the checks below, and the
// bundle is simply compiled as usual.
// CommonJS itself (dist/package.json says so), like bin/credits.js: an ES module entry loads
// Node's ESM loader, and with it fs/promises, readline and the stream modules, about 10 ms.
'use strict';
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');

// Node 22.1+: the packages the bundle requires only when a command needs them (fastify, pdfkit,
// the libSQL client, nodemailer, the prompts) are compiled once and cached too. Turned on at the
// first such require, not here: node:module costs about 16 ms to load on Node 22, and `balance`
// or `check` require none of them.
const CACHED_PACKAGES = /^(?:@libsql\/client|pdfkit|nodemailer|fastify|@inquirer\/prompts)(?:\/|$)/;
let compileCacheOn = false;
/** The bundle's require: this file's own (the bundle is its neighbour in dist/), with that switch. */
function bundleRequire(id) {
  if (!compileCacheOn && CACHED_PACKAGES.test(id)) {
    compileCacheOn = true;
    process.getBuiltinModule?.('node:module').enableCompileCache?.();
  }
  return require(id);
}
bundleRequire.resolve = require.resolve;
bundleRequire.cache = require.cache;

// Filled in by the build: the bundle's name, its length in UTF-16 units and the build's id.
const BUNDLE_NAME = '__BUNDLE_NAME__';
const BUNDLE_LENGTH = Number('__BUNDLE_LENGTH__');
const BUILD_ID = '__BUILD_ID__';

const bundlePath = join(__dirname, BUNDLE_NAME);
// A V8 code cache fits one V8 version: each Node version gets its own file. The build writes the
// one for the Node that built it; another version writes its own after its first run, next to
// the bundle or, where that is read-only (a global install), in the user's cache folder.
const cacheName = `${BUNDLE_NAME}.${BUILD_ID}.${process.version}.v8cache`;
const cachePath = `${bundlePath.slice(0, -BUNDLE_NAME.length)}${cacheName}`;
// node:os only when it is needed: the build's cache beside the bundle is found first.
const userCachePath = () => join(process.env.XDG_CACHE_HOME || join(require('node:os').homedir(), '.cache'), 'credits', cacheName);

// The build made the bundle ASCII only, so latin1 reads the same text, three times faster than utf8.
const source = readFileSync(bundlePath, 'latin1');
// The same wrapper node puts around a CommonJS module.
const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
let cachedData;
if (source.length === BUNDLE_LENGTH) {
  for (const path of [() => cachePath, userCachePath]) {
    try {
      cachedData = readFileSync(path());
      break;
    } catch {
      // No cache here: try the next place, or compile without one.
    }
  }
}
const script = new Script(wrapped, { filename: bundlePath, cachedData });
const bundleModule = { exports: {} };
script.runInThisContext().call(bundleModule.exports, bundleModule.exports, bundleRequire, bundleModule, bundlePath, __dirname);

exports.run = bundleModule.exports.run;

/** Whether V8 took the cache (false also when there was none). */
const codeCacheUsed = cachedData !== undefined && !script.cachedDataRejected;
exports.codeCacheUsed = codeCacheUsed;

function writeCacheAt(path) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, path);
  return path;
}

/** For scripts/warmCodeCache.mjs: the cache holds every function compiled so far in this process. */
exports.writeCodeCache = function writeCodeCache() {
  return writeCacheAt(cachePath);
};

/** Runs the CLI; a Node version without a usable cache leaves one behind for the next start. */
exports.main = async function main() {
  await bundleModule.exports.main();
  if (codeCacheUsed || source.length !== BUNDLE_LENGTH) return;
  try {
    writeCacheAt(cachePath);
  } catch {
    try {
      mkdirSync(join(userCachePath(), '..'), { recursive: true });
      writeCacheAt(userCachePath());
    } catch {
      // Nowhere to write: the next start compiles again, as this one did.
    }
  }
};
