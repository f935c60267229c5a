// Bundles the CLI into dist/credits.cjs, one CommonJS script that dist/credits.js (a copy of
// scripts/launcher.cjs) compiles with a V8 code cache written here after a warm-up run: on Node
// 20 that is the only way to skip most of the compiling at start-up (see launcher.cjs).
// Native and heavy packages stay external and are required only when a command needs them; the
// modules behind each dynamic import() stay in the bundle but run only when first imported.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const BUNDLE_NAME = 'credits.cjs';

/**
 * commander requires node:child_process at load for its executable subcommands, which we never
 * use: that one line loaded net, dgram and child_process (about 5 ms) on every start. It is
 * required when commander would first spawn instead.
 */
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) throw new Error(`${args.path}: the child_process require to make lazy is gone; update scripts/build.mjs`);
      return { contents: text.replace(eager, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), loader: 'js' };
    });
  },
};

/**
 * better-sqlite3 finds its native addon through the `bindings` package, which walks a stack
 * trace and tries a dozen paths: with its dozen small modules that was about 12 ms of every
 * start, against 4 ms for loading the addon itself. Its JavaScript is bundled, and `bindings`
 * becomes a direct require of build/Release, falling back to the real package when an install
 * put the addon elsewhere.
 */
const directSqliteAddon = {
  name: 'direct-sqlite-addon',
  setup(build) {
    build.onResolve({ filter: /^bindings$/ }, (args) =>
      args.namespace === 'sqlite-addon' ? { path: 'bindings', external: true } : { path: 'bindings', namespace: 'sqlite-addon' },
    );
    build.onLoad({ filter: /.*/, namespace: 'sqlite-addon' }, () => ({
      contents: `module.exports = function bindings(name) {
  try {
    return require('better-sqlite3/build/Release/' + name);
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
  }
  return require('bindings')(name);
};`,
      loader: 'js',
    }));
  },
};

/** What both CommonJS scripts share: Node 20, minified, and import.meta.url (which CommonJS lacks) from __filename. */
const COMMONJS_FOR_NODE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  banner: { js: "const __credits_module_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};

await build({
  ...COMMONJS_FOR_NODE,
  entryPoints: { credits: 'src/main.ts' },
  outfile: `dist/${BUNDLE_NAME}`,
  // CommonJS: a vm.Script with a code cache cannot hold ES modules. esbuild turns each import()
  // into a lazy require of code kept in the bundle, so nothing loads before it is used.
  // External packages too: each import() becomes a require() (every one of them ships CommonJS).
  supported: { 'dynamic-import': false },
  // Minified: less text to read, hash and deserialise at every start; the source map names things again.
  keepNames: false,
  // Only ASCII (non-ASCII is escaped), so the launcher may read it as latin1, 3x faster than utf8.
  charset: 'ascii',
  plugins: [lazyCommanderChildProcess, directSqliteAddon],
  external: ['better-sqlite3/build/*', '@libsql/client', 'pdfkit', '@inquirer/prompts', 'drizzle-orm', 'drizzle-orm/*', 'nodemailer', 'fastify'],
  define: { CREDITS_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__credits_module_url' },
});

// The parse thread of a large `usage import` (src/app/usageImport/importThread.ts): a small script of its
// own, found beside the bundle. It starts once per import, so it needs no code cache.
await build({
  ...COMMONJS_FOR_NODE,
  entryPoints: { importWorker: 'src/app/usageImport/importWorker.ts' },
  outfile: 'dist/importWorker.cjs',
  define: { 'import.meta.url': '__credits_module_url' },
});

// The worker threads of `credits verify` on a local ledger (src/store/verifyThreads.ts), found beside
// the bundle like the import's. better-sqlite3's addon is required directly, as in the bundle.
await build({
  ...COMMONJS_FOR_NODE,
  entryPoints: { verifyWorker: 'src/store/verifyWorker.ts' },
  outfile: 'dist/verifyWorker.cjs',
  plugins: [directSqliteAddon],
  external: ['better-sqlite3/build/*'],
  define: { 'import.meta.url': '__credits_module_url' },
});

const bundle = readFileSync(new URL(`../dist/${BUNDLE_NAME}`, import.meta.url), 'utf8');
// A dynamic import() left in the bundle would need vm's experimental module loader (it warns on stderr).
// A method named import (the import report's view, `import(t,e){`) is not one.
if (/(?<![\w$.])import\((?![\w$,\s]*\)\s*\{)/.test(bundle)) throw new Error(`dist/${BUNDLE_NAME} still holds a dynamic import()`);
// A remote ledger needs @libsql/client's /http and /ws entries only (the external '@libsql/client' keeps every
// entry a require): its main entry loads the native libsql addon.
if (/require\("(?:@libsql\/client(?:\/node|\/sqlite3)?|libsql)"\)/.test(bundle))
  throw new Error(`dist/${BUNDLE_NAME} requires @libsql/client's main entry or libsql; use @libsql/client/http and /ws`);
// drizzle-orm is a devDependency (drizzle-kit's schema, a test of src/store/migrationFiles.ts): kept external so an
// import of it stays a require, which a production install could not satisfy.
if (/require\("drizzle-orm(?:\/[^"]*)?"\)/.test(bundle)) throw new Error(`dist/${BUNDLE_NAME} requires drizzle-orm, a devDependency`);
if (/[^\x00-\x7f]/.test(bundle)) throw new Error(`dist/${BUNDLE_NAME} holds non-ASCII text; the launcher reads it as latin1`);
const buildId = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
const launcher = readFileSync(new URL('./launcher.cjs', import.meta.url), 'utf8')
  .replace('__BUNDLE_NAME__', BUNDLE_NAME)
  .replace('__BUNDLE_LENGTH__', String(bundle.length))
  .replace('__BUILD_ID__', buildId);
writeFileSync(new URL('../dist/credits.js', import.meta.url), launcher);
// dist/credits.js is CommonJS (see launcher.cjs); complete.mjs stays an ES module by its name.
writeFileSync(new URL('../dist/package.json', import.meta.url), '{ "type": "commonjs" }\n');
const warmed = spawnSync(process.execPath, [fileURLToPath(new URL('./warmCodeCache.mjs', import.meta.url))], { stdio: 'inherit' });
// Without a cache the CLI works the same, only slower to start.
if (warmed.status !== 0) console.warn('scripts/build.mjs: no V8 code cache was written; the CLI starts without one');

// `credits __complete KIND` runs on every Tab press: its own small file (config resolution and
// better-sqlite3 opened read-only, no commander, no registry), built apart from the main bundle.
// better-sqlite3's JavaScript is bundled in (a dozen module loads fewer); the native addon is
// required by path (names.ts passes nativeBinding), so `bindings` never runs.
await build({
  entryPoints: { complete: 'src/cli/completion/names.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
  logLevel: 'warning',
});
