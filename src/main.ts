import { CommanderError, type Command } from 'commander';
import { defaultLoginFilePath, readStoredLogin, resolveConfig, type Config, type GlobalFlags } from './config.js';
import { CreditsError, EXIT, isCreditsError, type ExitCode } from './core/errors.js';
import { Context } from './app/context.js';
import { terminalInteraction } from './cli/prompts.js';
import { renderPresenter } from './render/presenter.js';
import { buildProgram, type Selection } from './cli/program.js';
import { COMMANDS } from './cli/commands.js';
import type { CommandInput, CommandOutput, CommandSpec } from './app/spec.js';
import { DEFAULT_TIME_ZONE, installZoneClock } from './core/time.js';
import { processZoneClock } from './cli/zoneClock.js';
import { withRetryCommand } from './cli/retryCommand.js';
import { StandardOutput, isTerminal } from './cli/stdio.js';

declare const CREDITS_VERSION: string | undefined;
const VERSION = typeof CREDITS_VERSION === 'string' ? CREDITS_VERSION : '0.0.0-dev';

function fromCommander(error: CommanderError): CreditsError | null {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return null;
  const message = error.message.replace(/^error:\s*/, '').split('\n')[0] ?? error.message;
  const suggestion = /\(Did you mean ([^?]+)\?\)/.exec(error.message)?.[1];
  const hint = suggestion ? `did you mean ${suggestion}?` : 'see `credits --help`';
  if (error.code === 'commander.unknownCommand') return new CreditsError('UNKNOWN_COMMAND', message, { hint });
  if (
    error.code === 'commander.missingArgument' ||
    error.code === 'commander.optionMissingArgument' ||
    error.code === 'commander.missingMandatoryOptionValue'
  ) {
    return new CreditsError('MISSING_FLAG', message, { hint: "see the command's --help" });
  }
  return new CreditsError('USAGE', message, { hint: "see the command's --help" });
}

async function errorText(error: CreditsError, color: boolean): Promise<string> {
  const { renderError } = await import('./render/index.js');
  return renderError(error, color);
}

/** Details a script acts on: whether a write applied, and the command that finishes it safely. */
const PUBLIC_DETAILS = ['outcome', 'idempotencyKey', 'retryCommand'] as const;

function errorJson(error: CreditsError): string {
  const details = Object.fromEntries(PUBLIC_DETAILS.filter((key) => error.details?.[key] !== undefined).map((key) => [key, error.details?.[key]]));
  return `${JSON.stringify({ error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...details } })}\n`;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Where a command's text goes: the process's (cli/stdio.ts), or a test's or warm-up's writable. */
type Output = {
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
  write(text: string | Uint8Array): boolean;
  readonly real?: NodeJS.WriteStream;
};
type Streams = { stdout: Output; stderr: Output };

/** The stream behind an output, for what pipes a stream into it. */
function writableOf(output: Output): NodeJS.WritableStream {
  return output.real ?? (output as unknown as NodeJS.WritableStream);
}

/**
 * Tables fit a terminal; piped into a file or a pager they keep their lines whole (grep and awk
 * read one row a line), unless COLUMNS asks for a width.
 */
function outputWidth(stdout: Output): number {
  if (stdout.isTTY && stdout.columns) return Math.max(40, stdout.columns);
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 40 ? columns : Number.MAX_SAFE_INTEGER;
}

/** The --output value of a command that makes a file, if given. */
function outputPathOf(spec: CommandSpec, input: CommandInput): string | undefined {
  const key = spec.files?.outputOption;
  const value = key === undefined ? undefined : input.options[key];
  return typeof value === 'string' ? value : undefined;
}

/** The commander program of every command; `onSelect` learns which command the line chose. */
function programFor(streams: Streams, onSelect: (selection: Selection) => void): Command {
  const output = { writeOut: (text: string) => void streams.stdout.write(text), writeErr: (text: string) => void streams.stderr.write(text) };
  const program = buildProgram(COMMANDS, VERSION, output, onSelect);
  // Remote mode's global flag (unless program.ts declares it among the global options itself).
  if (!program.options.some((option) => option.long === '--server')) {
    program.option('--server <url>', 'run every command through a `credits serve` API (env CREDITS_SERVER; token in CREDITS_TOKEN; else `credits login`)');
  }
  return program;
}

/** Parses the command line; false when commander has already done all there is (--help, --version). */
async function parseCommandLine(program: Command, argv: readonly string[]): Promise<boolean> {
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return true;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.unknownOption') {
        const { unknownFlagError } = await import('./cli/unknownFlag.js');
        throw unknownFlagError(error.message, argv, COMMANDS);
      }
      const mapped = fromCommander(error);
      if (mapped === null) return false;
      throw mapped;
    }
    throw error;
  }
}

type LiveView = (produce: () => Promise<{ view: string; data: object }>, intervalMs: number) => Promise<number>;

/**
 * The live view of `watch`: redraws what `produce` returns every `intervalMs` until Ctrl-C or
 * SIGTERM. `timeZone` is asked per frame: the remote one is known only after the first answer.
 */
function liveView(streams: Streams, config: Config, timeZone: () => Promise<string>): LiveView {
  return async (produce, intervalMs) => {
    const { renderOutput } = await import('./render/index.js');
    const inPlace = Boolean(streams.stdout.isTTY) && !config.json;
    let stopped = false;
    let wake: () => void = () => undefined;
    const stop = (): void => {
      stopped = true;
      wake();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // The alternate screen keeps the user's scrollback; the cursor is hidden while we redraw.
    if (inPlace) streams.stdout.write('\u001b[?1049h\u001b[?25l');
    let refreshes = 0;
    try {
      while (!stopped) {
        const frame = await produce();
        const width = outputWidth(streams.stdout);
        const text = config.json
          ? `${JSON.stringify(frame.data)}\n`
          : await renderOutput(frame.view, frame.data, { color: config.color, width, timeZone: await timeZone() });
        streams.stdout.write(inPlace ? `\u001b[H\u001b[2J${text}` : `${text}\n`);
        refreshes += 1;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (inPlace) streams.stdout.write('\u001b[?25h\u001b[?1049l');
    }
    return refreshes;
  };
}

/** Rendered text to stdout: through a pager when it is longer than the terminal (not --no-pager). */
async function writeText(text: string, config: Config, streams: Streams): Promise<void> {
  const rows = streams.stdout.isTTY ? streams.stdout.rows : undefined;
  if (config.pager && rows !== undefined && rows > 0 && text.split('\n').length > rows) {
    const { pagerCommand, showInPager } = await import('./cli/pager.js');
    const command = pagerCommand(process.env);
    if (command !== undefined && (await showInPager(command, text, process.env))) return;
  }
  streams.stdout.write(text);
}

/** Writes a command's file, its rendering or JSON, and its failure; returns the exit code. */
async function writeOutput(
  output: CommandOutput,
  timeZone: string,
  outputPath: string | undefined,
  config: Config,
  streams: Streams,
  errorColour: boolean,
): Promise<ExitCode> {
  if (output.stream) {
    // An export too big to hold: written chunk by chunk as the command reads the ledger.
    const { deliverStream } = await import('./cli/output.js');
    if ((await deliverStream(output.stream, outputPath, writableOf(streams.stdout))) === 'stdout') return output.failure ? output.failure.exitCode : EXIT.ok;
  }
  if (output.file) {
    // The command made a file; the CLI is the one that writes it (or streams it for `--output -`).
    const { deliverFile } = await import('./cli/output.js');
    if (deliverFile(output.file, outputPath, writableOf(streams.stdout)) === 'stdout') return output.failure ? output.failure.exitCode : EXIT.ok;
  }
  if (config.json) {
    streams.stdout.write(`${JSON.stringify(output.data, null, 2)}\n`);
  } else if (!config.quiet || output.failure) {
    const width = outputWidth(streams.stdout);
    const { renderOutput } = await import('./render/index.js');
    await writeText(await renderOutput(output.view, output.data, { color: config.color, width, timeZone }), config, streams);
  }
  if (output.failure) {
    streams.stderr.write(config.json ? errorJson(output.failure) : await errorText(output.failure, errorColour));
    return output.failure.exitCode;
  }
  return EXIT.ok;
}

/** Runs one invocation and returns its exit code; nothing below this function exits. */
export async function run(argv: readonly string[], streams: Streams = { stdout: new StandardOutput(1), stderr: new StandardOutput(2) }): Promise<ExitCode> {
  // Not process.stdin.isTTY: that would build a stdin stream no command may read.
  const terminal = { stdinIsTty: isTerminal(0), stdoutIsTty: Boolean(streams.stdout.isTTY) };
  const errorColour = Boolean(streams.stderr.isTTY) && !process.env.NO_COLOR && !argv.includes('--no-color');
  let json = wantsJson(argv);
  let selection: Selection | undefined;
  const program = programFor(streams, (chosen) => {
    selection = chosen;
  });
  let context: Context | undefined;
  try {
    if (argv.length === 0) {
      // outputHelp, not helpInformation: the examples are text added after the help.
      program.outputHelp();
      return EXIT.ok;
    }
    if (!(await parseCommandLine(program, argv))) return EXIT.ok;
    if (!selection) return EXIT.ok;
    const { spec, input, globals } = selection;
    // Commands that never go through a server (serve, login itself) do not read the login file.
    const stored = spec.family === 'local' ? undefined : readStoredLogin(defaultLoginFilePath(process.env));
    const config = resolveConfig(globals as GlobalFlags, process.env, terminal, stored);
    json = config.json;
    const showProgress = Boolean(streams.stderr.isTTY) && !config.json && !config.quiet;
    const progress = (text: string | null): void => {
      if (showProgress) streams.stderr.write(text === null ? '\r\u001b[2K' : `\r\u001b[2K${text}`);
    };
    let remoteTimeZone: string | undefined;
    const live = liveView(streams, config, async () => remoteTimeZone ?? (await context!.settings()).timeZone);
    let output: CommandOutput;
    let timeZone: string;
    const outputPath = outputPathOf(spec, input);
    if (outputPath !== undefined && outputPath !== '-') (await import('./cli/output.js')).checkOutputPath(outputPath);
    if (config.server !== undefined && spec.family !== 'local') {
      // Remote mode: the server runs the handler; rendering and exit codes stay here.
      const { runRemote } = await import('./cli/remote.js');
      const remote = await runRemote(spec, input, config, { live, progress, setTimeZone: (zone) => (remoteTimeZone = zone) });
      output = remote.output;
      timeZone = remote.timeZone;
    } else {
      context = new Context(config, spec.name, spec.ledger, progress, live, terminalInteraction, {
        serve: async (serveInput, serveContext) => (await import('./server/serveCommand.js')).startServe(serveInput, serveContext),
        presenter: renderPresenter,
        automaticKeys: true,
        // A migration's note is for whoever runs the first command after an upgrade; stdout stays the command's.
        note: (text) => void streams.stderr.write(config.json ? `${JSON.stringify({ note: text })}\n` : `note: ${text}\n`),
      });
      output = await spec.execute(input, context);
      timeZone = spec.ledger === 'none' ? DEFAULT_TIME_ZONE : ((await context.settings().catch(() => undefined))?.timeZone ?? DEFAULT_TIME_ZONE);
    }
    return await writeOutput(output, timeZone, outputPathOf(spec, input), config, streams, errorColour);
  } catch (error) {
    let failure = isCreditsError(error) ? error : new CreditsError('INTERNAL', error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (failure.code === 'OUTCOME_UNKNOWN') failure = withRetryCommand(failure, argv, context?.automaticKey);
    if (json) {
      streams.stderr.write(errorJson(failure));
    } else {
      streams.stderr.write(await errorText(failure, errorColour));
    }
    return failure.exitCode;
  } finally {
    await context?.close().catch(() => undefined);
  }
}

/**
 * A reader that closes the pipe early (`credits history | head -1`) has all it wanted: the rest
 * of the output goes nowhere and the command ends with its own exit code, not an EPIPE trace.
 * A write has committed before anything is printed, so its audit row says it succeeded.
 */
function ignoreClosedPipes(): void {
  // Attached when something first makes the stream (cli/stdio.ts writes most output without one).
  for (const name of ['stdout', 'stderr'] as const) {
    const made = Object.getOwnPropertyDescriptor(process, name);
    if (made?.get === undefined || made.configurable !== true) {
      guardClosedPipe(process[name]);
      continue;
    }
    const make = made.get;
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: made.enumerable ?? true,
      get: () => {
        if (stream === undefined) {
          stream = make.call(process) as NodeJS.WriteStream;
          guardClosedPipe(stream);
        }
        return stream;
      },
    });
  }
}

function guardClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

export async function main(): Promise<void> {
  ignoreClosedPipes();
  // A command line works in one zone at a time: the process clock answers its offsets (zoneClock.ts).
  installZoneClock(processZoneClock);
  const code = await run(process.argv.slice(2));
  // Let stdout drain before leaving: a piped reader must get the whole document.
  process.exitCode = code;
  // A remote call given up on may leave a socket behind; it must not keep a finished command alive.
  if (code === EXIT.storage) setTimeout(() => process.exit(code), 2000).unref();
}
