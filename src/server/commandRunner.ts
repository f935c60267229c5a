import type { Config } from '../config.js';
import { CreditsError } from '../core/errors.js';
import {
  MUTATING_OPTIONS,
  optionKey,
  type CommandInput,
  type CommandOutput,
  type CommandSpec,
  type OptionSpec,
  type OutputFile,
  type OutputStream,
} from '../app/spec.js';
import type { Database } from '../store/driver.js';
import { appPrincipal, forbid, refusalFor, type Principal } from './auth.js';
import { capabilityRefusal, type ServerCapabilities } from './capabilities.js';
import { ServerContext, requestConfig } from './context.js';
import { SCOPED_COMMANDS } from '../app/principal.js';
import { summarizeCommandRequest } from './refusalAudit.js';

/** A file the caller sends along (the content of `usage import FILE`). */
export type Upload = { name: string; content: string };

/** What a command sent over the API is: arguments and options as the CLI's parser leaves them. */
export type CommandRequest = { args?: unknown; options?: unknown; input?: unknown };

export type CommandResult = CommandOutput & { timeZone: string };

export type RunnerDeps = {
  db: Database;
  config: Config;
  /** The organisation's time zone (cached by the server). */
  timeZone(): Promise<string>;
  /** Called after a command of a family that changes what the server caches (settings, tokens). */
  changed(family: string | undefined): void;
  /** What this server allows beyond roles (chosen by flags of `credits serve`). */
  capabilities: ServerCapabilities;
};

const MAX_ARGUMENT_CHARS = 10_000;

function isFlag(option: OptionSpec): boolean {
  return !option.flags.includes('<') && !option.flags.includes('[');
}

function optionsOf(spec: CommandSpec): Map<string, OptionSpec> {
  const all = [...(spec.options ?? []), ...(spec.mutating ? MUTATING_OPTIONS : [])];
  return new Map(all.map((option) => [optionKey(option.flags), option]));
}

function flagName(option: OptionSpec): string {
  return /--[a-z0-9-]+/.exec(option.flags)?.[0] ?? option.flags;
}

/**
 * Checks a request as commander checks a command line: known options only, values where the
 * option takes one, choices, the number of arguments. The handler then validates the values
 * themselves, exactly as on the command line.
 */
export function validateCommandInput(spec: CommandSpec, args: unknown, options: unknown): CommandInput {
  if (args !== undefined && (!Array.isArray(args) || args.some((value) => typeof value !== 'string' && value !== null))) {
    throw new CreditsError('USAGE', '`args` must be an array of strings');
  }
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new CreditsError('USAGE', '`options` must be an object of option names (camelCase, like minCredits) to values');
  }
  const list = ((args ?? []) as (string | null)[]).map((value) => (value === null ? undefined : value));
  const declared = spec.arguments ?? [];
  if (list.length > declared.length) {
    throw new CreditsError('USAGE', `too many arguments for '${spec.name}': expected ${declared.length}, got ${list.length}`, {
      hint: `see \`credits ${spec.name} --help\``,
    });
  }
  for (const [index, argument] of declared.entries()) {
    const value = list[index];
    if (argument.required && (value === undefined || value === ''))
      throw new CreditsError('MISSING_FLAG', `missing required argument '${argument.name}'`, { hint: `see \`credits ${spec.name} --help\`` });
    if (value !== undefined && value.length > MAX_ARGUMENT_CHARS) throw new CreditsError('INVALID_VALUE', `argument '${argument.name}' is too long`);
    if (value !== undefined && argument.choices && !argument.choices.includes(value)) {
      throw new CreditsError('USAGE', `argument '${argument.name}' "${value}" is invalid. Allowed choices are ${argument.choices.join(', ')}.`);
    }
  }
  const known = optionsOf(spec);
  const result: Record<string, string | boolean | string[] | undefined> = {};
  for (const [key, value] of Object.entries((options ?? {}) as Record<string, unknown>)) {
    const option = known.get(key);
    if (!option) {
      throw new CreditsError('UNKNOWN_FLAG', `unknown option '${key}' for '${spec.name}'`, {
        hint: `the options are ${[...known.keys()].join(', ') || 'none'}`,
      });
    }
    if (value === undefined || value === null || value === false) continue;
    if (isFlag(option)) {
      if (value !== true) throw new CreditsError('USAGE', `option '${key}' (${flagName(option)}) is a switch: give true or leave it out`);
      result[key] = true;
      continue;
    }
    if (option.repeatable && Array.isArray(value)) {
      if (value.length > MAX_REPEATS) throw new CreditsError('INVALID_VALUE', `option '${key}' is given more than ${MAX_REPEATS} times`);
      result[key] = value.map((item) => optionText(option, key, item));
      continue;
    }
    const text = optionText(option, key, value);
    result[key] = option.repeatable ? [text] : text;
  }
  return { args: list as string[], options: result };
}

/** How many values a repeatable option may carry in one request (commander has no limit, a request does). */
const MAX_REPEATS = 100;

/** One value of an option that takes a value, checked as commander checks it. */
function optionText(option: OptionSpec, key: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new CreditsError('USAGE', `option '${key}' (${flagName(option)}) takes a text value`);
  const text = String(value);
  if (text.length > MAX_ARGUMENT_CHARS) throw new CreditsError('INVALID_VALUE', `option '${key}' is too long`);
  if (option.choices && !option.openChoices && !option.choices.includes(text)) {
    throw new CreditsError('USAGE', `option '${flagName(option)}' argument '${text}' is invalid. Allowed choices are ${option.choices.join(', ')}.`);
  }
  return text;
}

function parseUpload(value: unknown): Upload | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new CreditsError('USAGE', '`input` must be {"name": "...", "content": "..."}');
  const { name, content, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new CreditsError('UNKNOWN_FLAG', `unknown field input.${Object.keys(rest)[0]}`);
  if (typeof name !== 'string' || typeof content !== 'string') throw new CreditsError('USAGE', '`input` must be {"name": "...", "content": "..."}');
  return { name, content };
}

/** The chunks of a streamed file as one file (the API answers with one document). */
async function collectStream(stream: OutputStream): Promise<OutputFile> {
  const parts: Buffer[] = [];
  for await (const chunk of stream.chunks) parts.push(Buffer.from(chunk, 'utf8'));
  return { name: stream.name, mediaType: stream.mediaType, bytes: Buffer.concat(parts) };
}

export type RunOptions = { principal: Principal; commandLabel?: string };

/**
 * Runs one command for a caller: role, request shape, department scope, files, then the same
 * handler the CLI runs, with the server's ledger. Files named by the caller never touch the
 * server's own paths: an input arrives as content and an output leaves as content.
 */
export async function runCommand(deps: RunnerDeps, spec: CommandSpec, request: CommandRequest, { principal }: RunOptions): Promise<CommandResult> {
  const nowMs = deps.config.nowMs ?? Date.now();
  const refuse = (reason: string) => forbid(deps.db, principal, spec.name, summarizeCommandRequest(request), reason, nowMs);
  const refusal = refusalFor(principal, spec.name, spec.family);
  if (refusal !== null) throw await refuse(refusal);
  if (principal.department !== null && !SCOPED_COMMANDS.has(spec.name))
    throw await refuse(`this token is bound to department ${principal.department}: \`${spec.name}\` covers the whole organisation`);

  let input = validateCommandInput(spec, request.args, request.options);
  const lacking = capabilityRefusal(spec.name, input, deps.capabilities);
  if (lacking !== null) throw await refuse(lacking);
  const upload = parseUpload(request.input);
  const files = spec.files ?? {};
  for (const key of files.localPathOptions ?? []) {
    if (input.options[key] !== undefined)
      throw new CreditsError('USAGE', `option '${key}' names a folder on the server and is not available over the API`, {
        hint: 'leave it out: the server uses its own default',
      });
  }
  if (upload && files.inputArgument === undefined) throw new CreditsError('USAGE', `'${spec.name}' reads no file: leave out \`input\``);

  const inputArgument = files.inputArgument;
  if (inputArgument !== undefined && input.args[inputArgument] !== undefined) {
    if (!upload)
      throw new CreditsError(
        'USAGE',
        `'${spec.name}' reads a file: send its content as \`input\` ({"name", "content"}); the server never reads its own files for a caller`,
      );
    // The command reads the content from memory; the argument stays the caller's own name.
    input = { ...input, uploads: { [inputArgument]: upload } };
  }
  const timeZone = await deps.timeZone();
  const context = new ServerContext(requestConfig(deps.config, principal.actor, principal.requestId), spec.name, deps.db, appPrincipal(principal));
  let output: CommandOutput;
  try {
    output = await spec.execute(input, context);
  } catch (error) {
    // The command refused a department outside the token's scope, inside its own transaction.
    if (error instanceof CreditsError && error.code === 'FORBIDDEN') throw await refuse(error.message);
    throw error;
  }
  deps.changed(spec.family);
  // A streamed file (an export) is answered in one document like any other: collected here.
  const file = output.stream ? await collectStream(output.stream) : output.file;
  // A file leaves as the command made it: the server never writes one for a caller.
  return {
    view: output.view,
    data: output.data,
    ...(output.failure ? { failure: output.failure } : {}),
    timeZone,
    ...(file ? { file } : {}),
  };
}
