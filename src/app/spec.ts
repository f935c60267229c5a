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
  /** May be given several times (`--tag a=1 --tag b=2`): the request gets every value, in order. */
  repeatable?: boolean;
  /**
   * `choices` are what completion and the docs offer, not all that is allowed: the command checks
   * the value itself (`report --by tag:KEY`), so the transports do not refuse other values.
   */
  openChoices?: boolean;
};

export type ArgumentSpec = { name: string; description: string; required: boolean; choices?: readonly string[]; dynamic?: OptionSpec['dynamic'] };

/** A file's content sent along by the caller instead of a path (the API never reads the server's files). */
export type UploadedFile = { name: string; content: string };

export type CommandInput = {
  args: string[];
  /** A repeatable option's values come as an array. */
  options: Record<string, string | boolean | string[] | undefined>;
  /** The content of the file named by the argument at this index, when the transport carries it. */
  uploads?: Record<number, UploadedFile>;
};

export type CommandOutput = {
  /** Which renderer shows the data to a person; --json prints `data` as it is. */
  view: string;
  data: object;
  /** A result that is also a failure (check below threshold, verify found damage). */
  failure?: CreditsError;
  /**
   * A file the command made (statement, invoice, report). The command never writes it: the CLI
   * writes it to --output (atomically) or to standard output for `--output -`, and the API
   * returns it.
   */
  file?: OutputFile;
  /**
   * A file too big to hold (an export of a million usage events), made while it is written: the
   * CLI writes its chunks one at a time to --output or standard output; the server, which answers
   * with one document, collects them into `file`. `data` is rendered after the last chunk, so a
   * command may count what it wrote into it.
   */
  stream?: OutputStream;
};

/** A file as bytes, with the name the caller asked for and its media type. */
export type OutputFile = { name: string; mediaType: string; bytes: Uint8Array };

/** A file as a stream of text chunks; `name` is '-' when it goes to standard output. */
export type OutputStream = { name: string; mediaType: string; chunks: AsyncIterable<string> };

export const MEDIA_TYPES = {
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  datev: 'text/csv; charset=windows-1252',
  xrechnung: 'application/xml',
  zugferd: 'application/pdf',
} as const;

/** Command families (what the API's roles allow) are domain data: src/core/roles.ts. */
export { COMMAND_FAMILIES, type CommandFamily } from '../core/roles.js';
import type { CommandFamily } from '../core/roles.js';

/** Files a command reads or writes on the machine it runs on; the remote CLI carries them over HTTP. */
export type CommandFiles = {
  /** Index of the argument that names a file to read ('-' for standard input). */
  inputArgument?: number;
  /** Option key of a file the command writes (--output). */
  outputOption?: string;
  /** Option keys naming folders on the machine that runs the command: refused over the API. */
  localPathOptions?: string[];
};

/** What describes a command to its transports: name, flags, docs, family; no behaviour. */
export type CommandMeta = {
  /** Space-separated path: 'balance', 'purchases settle'. */
  name: string;
  summary: string;
  arguments?: ArgumentSpec[];
  options?: OptionSpec[];
  examples: string[];
  /** Changes the ledger: gets --dry-run and --idempotency-key. */
  mutating?: boolean;
  ledger: 'none' | 'existing' | 'create';
  /** Set in registry.ts (the one table of families); a command without one is admin-only over the API. */
  family?: CommandFamily;
  /** Set in registry.ts for commands that touch files. */
  files?: CommandFiles;
};

/**
 * One use case: a typed request of its own, made from what a transport parsed (the command
 * line's arguments and flags, or an API route's fields) without I/O, and the work itself, which
 * takes that request and the caller's context (principal, ledger, clock) and returns data.
 */
export type CommandDefinition<Request> = CommandMeta & {
  /** The transport's input as this use case's request; refuses a malformed flag by name. */
  request(input: CommandInput): Request;
  run(request: Request, context: Context): Promise<CommandOutput>;
};

/** A registered command: the transports call `execute` (request, then run) and never see the request's type. */
export type CommandSpec = CommandMeta & {
  execute(input: CommandInput, context: Context): Promise<CommandOutput>;
};

export function defineCommand<Request>(definition: CommandDefinition<Request>): CommandSpec {
  const { request, run, ...meta } = definition;
  return { ...meta, execute: async (input, context) => run(request(input), context) };
}

/** The fields every mutating request carries (see MUTATING_OPTIONS). */
export type MutatingRequest = { dryRun: boolean; idempotencyKey: string | undefined };

export function mutatingRequest(input: CommandInput): MutatingRequest {
  const key = input.options.idempotencyKey;
  return { dryRun: input.options.dryRun === true, idempotencyKey: typeof key === 'string' ? key : undefined };
}

export const MUTATING_OPTIONS: OptionSpec[] = [
  { flags: '--dry-run', description: 'show what would happen and write nothing' },
  { flags: '--idempotency-key <key>', description: 'a retry with the same key and request returns the first result instead of acting twice' },
];

/** The long name of an option as commander stores it: '--cost-center <code>' -> 'costCenter'. */
export function optionKey(flags: string): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
