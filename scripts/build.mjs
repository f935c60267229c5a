// Bundles the CLI into dist/credits.js: one file starts faster than hundreds of module loads.
// Native and heavy packages stay external and are loaded only when a command needs them.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/credits.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: false,
  sourcemap: 'linked',
  external: ['better-sqlite3', '@libsql/client', 'pdfkit', '@inquirer/prompts', 'drizzle-orm', 'drizzle-orm/*'],
  define: { CREDITS_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
  logLevel: 'warning',
});
