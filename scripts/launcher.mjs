// Copied by scripts/build.mjs to dist/credits.js. Node 20 has no compile cache for ES modules
// (module.enableCompileCache() came in 22.1), and compiling the ~0.7 MB CLI bundle was most of
// a cold start. So the CLI is bundled as one CommonJS script and compiled here through vm.Script
// with the V8 code cache the build wrote next to it: V8 then deserialises the functions a
// `balance` or `check` needs instead of parsing them. A cache that does not match (another node
// version, other V8 flags, another build) is ignored by V8 or by the checks below, and the
// bundle is simply compiled as usual.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// Node 22.1+: the packages the bundle requires only when a command needs them (fastify, pdfkit,
// the libSQL client, nodemailer) are compiled once and cached too.
module.enableCompileCache?.();

// Filled in by the build: the bundle's name, its length in UTF-16 units and the build's id.
const BUNDLE_NAME = '__BUNDLE_NAME__';
const BUNDLE_LENGTH = Number('__BUNDLE_LENGTH__');
const BUILD_ID = '__BUILD_ID__';

const bundlePath = fileURLToPath(new URL(`./${BUNDLE_NAME}`, import.meta.url));
// A V8 code cache fits one V8 version: each Node version gets its own file. The build writes the
// one for the Node that built it; another version writes its own after its first run, next to
// the bundle or, where that is read-only (a global install), in the user's cache folder.
const cacheName = `${BUNDLE_NAME}.${BUILD_ID}.${process.version}.v8cache`;
const cachePath = `${bundlePath.slice(0, -BUNDLE_NAME.length)}${cacheName}`;
const userCachePath = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'credits', cacheName);

// The build made the bundle ASCII only, so latin1 reads the same text, three times faster than utf8.
const source = readFileSync(bundlePath, 'latin1');
// The same wrapper node puts around a CommonJS module.
const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
let cachedData;
if (source.length === BUNDLE_LENGTH) {
  for (const path of [cachePath, userCachePath]) {
    try {
      cachedData = readFileSync(path);
      break;
    } catch {
      // No cache here: try the next place, or compile without one.
    }
  }
}
const script = new Script(wrapped, { filename: bundlePath, cachedData });
const bundleModule = { exports: {} };
script
  .runInThisContext()
  .call(bundleModule.exports, bundleModule.exports, createRequire(bundlePath), bundleModule, bundlePath, fileURLToPath(new URL('.', import.meta.url)));

export const { run } = bundleModule.exports;

/** Whether V8 took the cache (false also when there was none). */
export const codeCacheUsed = cachedData !== undefined && !script.cachedDataRejected;

function writeCacheAt(path) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData());
  renameSync(temporary, path);
  return path;
}

/** For scripts/warmCodeCache.mjs: the cache holds every function compiled so far in this process. */
export function writeCodeCache() {
  return writeCacheAt(cachePath);
}

/** Runs the CLI; a Node version without a usable cache leaves one behind for the next start. */
export async function main() {
  await bundleModule.exports.main();
  if (codeCacheUsed || source.length !== BUNDLE_LENGTH) return;
  try {
    writeCacheAt(cachePath);
  } catch {
    try {
      mkdirSync(join(userCachePath, '..'), { recursive: true });
      writeCacheAt(userCachePath);
    } catch {
      // Nowhere to write: the next start compiles again, as this one did.
    }
  }
}
