/**
 * `credits __complete KIND [--db PATH]`: the names the shell completion scripts offer for
 * departments, accounts, users, models and purchases, one per line.
 *
 * A separate build entry (bin/credits.js picks it by the first argument) so that a Tab press
 * loads neither commander nor the command registry: only config resolution and better-sqlite3,
 * opened read-only, without migrations. Any failure (no ledger yet, a remote URL, a locked or
 * foreign file) prints nothing: completion must never print errors into the user's prompt.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { resolveConfig } from '../../config.js';
import { isRemoteLocation } from '../../store/open.js';
import { completionNames, isCompletionNameKind } from '../../store/completionNames.js';

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

/**
 * The compiled addon's path, handed to better-sqlite3 so that it skips its `bindings` lookup
 * (a stack-trace walk and a search of several folders, a few milliseconds of every Tab press).
 */
function addonPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
}

/** The names for `argv` (the words after `__complete`); [] on any failure. */
export async function completeNames(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const kind = argv[0];
  if (kind === undefined || !isCompletionNameKind(kind)) return [];
  try {
    const config = resolveConfig(flagsOf(argv.slice(1)), env, { stdinIsTty: false, stdoutIsTty: false });
    // Through a server or on a remote ledger, names would cost a network round trip per Tab.
    if (config.server !== undefined || isRemoteLocation(config.ledgerLocation)) return [];
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    const nativeBinding = addonPath();
    const db = new BetterSqlite3(resolve(config.ledgerLocation.replace(/^file:/, '')), {
      readonly: true,
      fileMustExist: true,
      timeout: 200,
      ...(nativeBinding ? { nativeBinding } : {}),
    });
    try {
      return completionNames(db, kind);
    } finally {
      db.close();
    }
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
