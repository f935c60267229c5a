/**
 * `credits __complete KIND [--db PATH]`: the names the shell completion scripts offer for
 * departments, accounts, users, models and purchases, one per line.
 *
 * A separate build entry (bin/credits.js picks it by the first argument) so that a Tab press
 * loads neither commander nor the command registry: only config resolution and better-sqlite3,
 * opened read-only, without migrations. Any failure (no ledger yet, a remote URL, a locked or
 * foreign file) prints nothing: completion must never print errors into the user's prompt.
 */
import { completionCandidates } from '../../app/completion.js';
import { resolveConfig } from '../../config.js';

/** The global flags the scripts pass along; everything else on the line is ignored. */
function flagsOf(argv: readonly string[]): { db?: string; server?: string } {
  const flags: { db?: string; server?: string } = {};
  for (let index = 0; index < argv.length; index += 1) {
    const word = argv[index]!;
    for (const name of ['db', 'server'] as const) {
      if (word === `--${name}` && index + 1 < argv.length) flags[name] = argv[++index]!;
      else if (word.startsWith(`--${name}=`)) flags[name] = word.slice(name.length + 3);
    }
  }
  return flags;
}

/** The names for `argv` (the words after `__complete`); [] on any failure. */
export async function completeNames(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const kind = argv[0];
  if (kind === undefined) return [];
  try {
    const config = resolveConfig(flagsOf(argv.slice(1)), env, { stdinIsTty: false, stdoutIsTty: false });
    return await completionCandidates(config, kind);
  } catch {
    return [];
  }
}

/** The entry bin/credits.js runs for `credits __complete ...`; always exit code 0. */
export async function completeMain(argv: readonly string[] = process.argv.slice(3)): Promise<void> {
  const names = await completeNames(argv);
  if (names.length > 0) process.stdout.write(`${names.join('\n')}\n`);
  process.exitCode = 0;
}
