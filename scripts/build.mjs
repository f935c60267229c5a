// Bundles the CLI into dist/credits.js: one file starts faster than hundreds of module loads.
// Native and heavy packages stay external and are loaded only when a command needs them.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  // Splitting keeps each dynamic import() a chunk of its own: without it esbuild inlines them, and
  // the native SQLite driver, the libSQL client and prompts would load on every start.
  entryPoints: { credits: 'src/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  sourcemap: 'linked',
  external: ['better-sqlite3', '@libsql/client', 'pdfkit', '@inquirer/prompts', 'drizzle-orm', 'drizzle-orm/*', 'nodemailer', 'fastify'],
  define: { CREDITS_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
  logLevel: 'warning',
});

// `credits __complete KIND` runs on every Tab press: its own small file (config resolution and
// better-sqlite3 opened read-only, no commander, no registry), built apart from the main bundle.
// better-sqlite3's JavaScript is bundled in (a dozen module loads fewer); the native addon is
// required by path (names.ts passes nativeBinding), so `bindings` never runs.
await build({
  entryPoints: { complete: 'src/cli/completion/names.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
  logLevel: 'warning',
});
