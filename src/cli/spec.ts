import type { CreditsError } from '../core/errors.js';
import type { Context } from './context.js';

/**
 * One command as data. The commander program, shell completions, the reference docs and the
 * HTTP API's "run a command" endpoint are all built from these specs, so they cannot disagree.
 */
export type OptionSpec = {
  /** commander syntax: '--from <account>', '--demo', '--limit <n>' */
  flags: string;
  description: string;
  choices?: readonly string[];
  defaultValue?: string;
  /** Where completion can find values: departments, users, models, purchases. */
  dynamic?: 'departments' | 'accounts' | 'users' | 'models' | 'purchases';
};

export type ArgumentSpec = { name: string; description: string; required: boolean; choices?: readonly string[]; dynamic?: OptionSpec['dynamic'] };

export type CommandInput = { args: string[]; options: Record<string, string | boolean | undefined> };

export type CommandOutput = {
  /** Which renderer shows the data to a person; --json prints `data` as it is. */
  view: string;
  data: object;
  /** A result that is also a failure (check below threshold, verify found damage). */
  failure?: CreditsError;
};

export type CommandSpec = {
  /** Space-separated path: 'balance', 'purchases settle'. */
  name: string;
  summary: string;
  arguments?: ArgumentSpec[];
  options?: OptionSpec[];
  examples: string[];
  /** Changes the ledger: gets --dry-run and --idempotency-key. */
  mutating?: boolean;
  ledger: 'none' | 'existing' | 'create';
  run(input: CommandInput, context: Context): Promise<CommandOutput>;
};

export const MUTATING_OPTIONS: OptionSpec[] = [
  { flags: '--dry-run', description: 'show what would happen and write nothing' },
  { flags: '--idempotency-key <key>', description: 'a retry with the same key and request returns the first result instead of acting twice' },
];

/** The long name of an option as commander stores it: '--cost-center <code>' -> 'costCenter'. */
export function optionKey(flags: string): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
