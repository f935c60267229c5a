// Writes every file generated from the command registry: the shell completion scripts in
// completions/, the command reference in docs/ and the man page in man/. `npm run generate`; a test fails when the
// committed files differ from what this would write.
//
//   node scripts/generate.mjs           write the files
//   node scripts/generate.mjs --check   write nothing; exit 1 and name the stale files
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// From the TypeScript sources, so that generating needs no build first.
const { generatedFiles } = await tsImport('../src/cli/generatedFiles.ts', import.meta.url);

const check = process.argv.includes('--check');
const stale = [];
for (const file of generatedFiles()) {
  const target = join(ROOT, file.path);
  let current = null;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: written below, or reported as stale
  }
  if (current === file.content) continue;
  stale.push(file.path);
  if (!check) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
}
if (check && stale.length > 0) {
  console.error(`stale: ${stale.join(', ')} (run \`npm run generate\`)`);
  process.exitCode = 1;
} else if (!check) {
  console.log(stale.length === 0 ? 'generated files are current' : `wrote ${stale.join(', ')}`);
}
