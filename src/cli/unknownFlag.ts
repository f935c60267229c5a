import { CreditsError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { MUTATING_OPTIONS, type CommandSpec, type OptionSpec } from '../app/spec.js';
import { GLOBAL_OPTIONS } from './program.js';

/** Flags that name what some commands take as their argument instead (`balance Sales`). */
const NAMING_FLAGS = new Set(['--dept', '--for', '--account', '--department', '--user', '--email', '--model']);

/** The command the words on the line name: the longest command name they start with. */
function commandOf(argv: readonly string[], commands: readonly CommandSpec[]): CommandSpec | undefined {
  const takesValue = new Set([...GLOBAL_OPTIONS.filter((option) => option.flags.includes('<')).map((option) => option.flags.split(/[ ,]/)[0]), '--server']);
  const words: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const word = argv[index]!;
    if (!word.startsWith('-')) words.push(word);
    else if (takesValue.has(word)) index += 1;
  }
  let found: CommandSpec | undefined;
  for (const spec of commands) {
    const parts = spec.name.split(' ');
    if (parts.every((part, index) => words[index] === part) && parts.length > (found?.name.split(' ').length ?? 0)) found = spec;
  }
  return found;
}

/** "credits balance [account] [--as-of <date>]": what the command takes, on one line. */
export function usageLine(spec: CommandSpec): string {
  const args = (spec.arguments ?? []).map((arg) => (arg.required ? `<${arg.name}>` : `[${arg.name}]`));
  const flags = (spec.options ?? []).map((option) => `[${option.flags.replace(/^-\w, /, '')}]`);
  return ['credits', spec.name, ...args, ...flags].join(' ');
}

function longFlags(options: readonly OptionSpec[]): string[] {
  // The long flag as the spec writes it, so `--no-pager` stays `--no-pager`.
  return options.flatMap((option) => /--[a-z][\w-]*/.exec(option.flags)?.[0] ?? []);
}

/**
 * An unknown flag (named by commander's message), answered with the command's own usage and the
 * nearest valid form: a flag that names what the command takes as its argument (`balance --dept
 * Sales`) becomes that argument (`credits balance Sales`); a typo becomes the command's nearest flag.
 */
export function unknownFlagError(commanderMessage: string, argv: readonly string[], commands: readonly CommandSpec[]): CreditsError {
  const flag = /unknown option '([^']+)'/.exec(commanderMessage)?.[1] ?? '';
  const spec = commandOf(argv, commands);
  if (spec === undefined || flag === '') return new CreditsError('UNKNOWN_FLAG', `unknown option '${flag}'`, { hint: 'see `credits --help`' });
  const usage = `usage: ${usageLine(spec)}`;
  const flagIndex = argv.findIndex((word) => word === flag || word.startsWith(`${flag}=`));
  const value = argv[flagIndex]?.startsWith(`${flag}=`) ? argv[flagIndex]!.slice(flag.length + 1) : argv[flagIndex + 1];
  const argument = spec.arguments?.[0];
  if (NAMING_FLAGS.has(flag) && argument?.dynamic !== undefined && value !== undefined && !value.startsWith('-')) {
    const form = `credits ${spec.name} ${/\s/.test(value) ? `"${value}"` : value}`;
    return new CreditsError('UNKNOWN_FLAG', `\`credits ${spec.name}\` has no ${flag}; did you mean \`${form}\`?`, { hint: `${form}; ${usage}` });
  }
  const own = [...(spec.options ?? []), ...(spec.mutating ? MUTATING_OPTIONS : [])];
  const near = closest(flag, longFlags(own)) ?? closest(flag, longFlags(GLOBAL_OPTIONS));
  const guess = near === undefined ? '' : `; did you mean ${near}?`;
  return new CreditsError('UNKNOWN_FLAG', `\`credits ${spec.name}\` has no ${flag}${guess}`, { hint: usage });
}
