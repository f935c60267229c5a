// Copied by scripts/build.mjs to dist/credits.js. Node 20 has no compile cache for ES modules
// (module.enableCompileCache() came in 22.1), and compiling the ~0.7 MB CLI bundle was most of
// a cold start. So the CLI is bundled as one CommonJS script and compiled here through vm.Script
// with the V8 code cache the build wrote next to it: V8 then deserialises the functions a
// `balance` or `check` needs instead of parsing them. A cache that does not match (another node
// version, other V8 flags, another build) is ignored by V8 or by the checks below, and the
// bundle is simply compiled as usual.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// Filled in by the build: the bundle's name, its length in UTF-16 units and the build's id.
const BUNDLE_NAME = '__BUNDLE_NAME__';
const BUNDLE_LENGTH = Number('__BUNDLE_LENGTH__');
const BUILD_ID = '__BUILD_ID__';

const bundlePath = fileURLToPath(new URL(`./${BUNDLE_NAME}`, import.meta.url));
const cachePath = `${bundlePath}.${BUILD_ID}.v8cache`;

// The build made the bundle ASCII only, so latin1 reads the same text, three times faster than utf8.
const source = readFileSync(bundlePath, 'latin1');
// The same wrapper node puts around a CommonJS module.
const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
let cachedData;
if (source.length === BUNDLE_LENGTH) {
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    // No cache: compile without one.
  }
}
const script = new Script(wrapped, { filename: bundlePath, cachedData });
const bundleModule = { exports: {} };
script
  .runInThisContext()
  .call(bundleModule.exports, bundleModule.exports, createRequire(bundlePath), bundleModule, bundlePath, fileURLToPath(new URL('.', import.meta.url)));

export const { main, run } = bundleModule.exports;

/** For scripts/warmCodeCache.mjs: the cache holds every function compiled so far in this process. */
export function writeCodeCache() {
  const temporary = `${cachePath}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, cachePath);
  return cachePath;
}

/** Whether V8 took the cache (false also when there was none). */
export const codeCacheUsed = cachedData !== undefined && !script.cachedDataRejected;
