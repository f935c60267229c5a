import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Config } from '../config.js';
import { CreditsError, EXIT_CODE_BY_ERROR_CODE, type ErrorCode } from '../core/errors.js';
import { addLimitWarnings } from '../core/limits.js';
import { checkedInputFile } from '../app/usageImport/importSource.js';
import { CsvRecordReader, detectCsvDelimiter, parseCsvDelimiter } from '../core/csv.js';
import { USAGE_FIELDS } from '../core/usageRecord.js';
import type { ImportTotals } from '../app/commands/usage.js';
import type { CommandInput, CommandOutput, CommandSpec } from '../app/spec.js';
import { automaticIdempotencyKey, invocationNonce } from '../app/idempotency.js';

/**
 * Remote mode (--server URL or CREDITS_SERVER, with CREDITS_TOKEN): the command line is parsed
 * here as always, then the command runs on the server through POST /v1/commands/NAME and its
 * result is rendered here exactly as a local run's would be. Nothing of a command is
 * implemented twice: the server runs the same handler.
 */
declare const CREDITS_VERSION: string | undefined;
const VERSION = typeof CREDITS_VERSION === 'string' ? CREDITS_VERSION : '0.0.0-dev';

export type RemoteIo = {
  /** main's live view (watch): redraws what `produce` returns until Ctrl-C. */
  live(produce: () => Promise<{ view: string; data: object }>, intervalMs: number): Promise<number>;
  progress(text: string | null): void;
  /** Tells main the organisation's time zone, for rendering. */
  setTimeZone(timeZone: string): void;
};

export type RemoteResult = { output: CommandOutput; timeZone: string };

type ErrorDocument = { code?: unknown; message?: unknown; hint?: unknown };
type CommandDocument = {
  view?: unknown;
  data?: unknown;
  timeZone?: unknown;
  file?: { base64?: unknown; name?: unknown; mediaType?: unknown };
  error?: ErrorDocument;
};

const ATTEMPTS = 3;
const RETRY_STATUSES = new Set([502, 503, 504]);
/** `usage import` files larger than this go in several requests (the server's default body limit is 16 MB). */
export const IMPORT_CHUNK_BYTES = 4 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(EXIT_CODE_BY_ERROR_CODE, code);
}

function fallbackCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'ROUTE_NOT_FOUND';
  if (status === 413) return 'REQUEST_TOO_LARGE';
  if (status === 409) return 'IDEMPOTENCY_CONFLICT';
  if (status === 422) return 'EVENTS_REFUSED';
  if (status >= 400 && status < 500) return 'USAGE';
  return 'SERVER_UNAVAILABLE';
}

function errorFrom(document: ErrorDocument, status: number): CreditsError {
  const message = typeof document.message === 'string' ? document.message : `the server answered ${status}`;
  const hint = typeof document.hint === 'string' ? document.hint : undefined;
  return new CreditsError(isErrorCode(document.code) ? document.code : fallbackCode(status), message, hint === undefined ? {} : { hint });
}

/**
 * No usable answer. A write that may have reached the server has an unknown outcome: only the
 * same key makes a retry safe. Anything else never acted, and running it again is safe.
 */
function unavailable(base: string, reason: string, sent: SentWrite = { key: undefined, mayHaveArrived: false }): CreditsError {
  if (sent.key !== undefined && sent.mayHaveArrived) {
    return new CreditsError('OUTCOME_UNKNOWN', `the credits server at ${base} did not answer (${reason}): the write may or may not have been applied`, {
      hint: 'run the same command again with the same --idempotency-key: a write with a key is applied at most once',
      details: { outcome: 'unknown', idempotencyKey: sent.key },
    });
  }
  return new CreditsError('SERVER_UNAVAILABLE', `the credits server at ${base} is unavailable: ${reason}`, {
    hint: `check the URL (--server or CREDITS_SERVER), that \`credits serve\` runs there, and the network; ${sent.key === undefined ? 'running it again is safe' : 'nothing reached the server, so running it again is safe'}`,
    ...(sent.key === undefined ? {} : { details: { outcome: 'not applied' } }),
  });
}

/** A write's key, and whether any attempt may have reached the server (not refused at connect). */
type SentWrite = { key: string | undefined; mayHaveArrived: boolean };

const NOT_CONNECTED = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT/;

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${(timeoutMs / 1000).toFixed(1)} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * One command on the server. Network errors, timeouts and 502/503/504 are retried twice with
 * the same body: a mutating command carries an idempotency key, so a retry never acts twice.
 */
async function postCommand(config: Config, name: string, body: object, key?: string): Promise<{ status: number; document: CommandDocument }> {
  const base = config.server!;
  const sent: SentWrite = { key, mayHaveArrived: false };
  const url = `${base}/v1/commands/${name.split(' ').map(encodeURIComponent).join('/')}`;
  const payload = JSON.stringify(body);
  let lastReason = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${config.apiToken}`,
          'x-credits-actor': config.actor.replace(/[^\x20-\x7e]/g, '?').slice(0, 60),
          'user-agent': `credits/${VERSION}`,
        },
        body: payload,
        signal: AbortSignal.timeout(config.serverTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      lastReason = networkReason(error, config.serverTimeoutMs);
      if (!NOT_CONNECTED.test(lastReason)) sent.mayHaveArrived = true;
      if (attempt < ATTEMPTS) {
        await sleep(250 * 3 ** (attempt - 1));
        continue;
      }
      throw unavailable(base, lastReason, sent);
    }
    let document: CommandDocument | undefined;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) document = parsed as CommandDocument;
    } catch {
      document = undefined;
    }
    if (response.status >= 500) {
      // A proxy's 502/504 may come after our server acted; our own answers carry a code. Our
      // server's INTERNAL says it failed while handling the request: it arrived, and nothing
      // tells whether its write was applied.
      if (!(document?.error && isErrorCode(document.error.code)) || document.error.code === 'INTERNAL') sent.mayHaveArrived = true;
      if (RETRY_STATUSES.has(response.status) && attempt < ATTEMPTS) {
        await sleep(250 * 3 ** (attempt - 1));
        continue;
      }
      // Our own server's answer keeps its code (storage busy, ledger damaged); anything else is "unavailable".
      if (document?.error && isErrorCode(document.error.code) && document.error.code !== 'INTERNAL') return { status: response.status, document };
      const detail = document?.error && typeof document.error.message === 'string' ? `: ${document.error.message}` : '';
      throw unavailable(base, `it answered ${response.status}${detail}`, sent);
    }
    if (!document || (document.view === undefined && document.error === undefined)) {
      throw unavailable(base, `it answered ${response.status} without a credits API document (is ${base} a credits server?)`);
    }
    return { status: response.status, document };
  }
  throw unavailable(base, lastReason, sent);
}

function asOutput(status: number, document: CommandDocument, key?: string): { output: CommandOutput; timeZone: string } {
  if (document.data === undefined || document.data === null || typeof document.view !== 'string') {
    const failure = errorFrom(document.error ?? {}, status);
    // The server's ledger lost the commit's answer: the key this request carried finishes it.
    if (failure.code === 'OUTCOME_UNKNOWN' && key !== undefined)
      throw new CreditsError(failure.code, failure.message, {
        ...(failure.hint ? { hint: failure.hint } : {}),
        details: { outcome: 'unknown', idempotencyKey: key },
      });
    throw failure;
  }
  const failure = document.error ? errorFrom(document.error, status) : undefined;
  const timeZone = typeof document.timeZone === 'string' ? document.timeZone : 'UTC';
  const sent = document.file;
  const file =
    typeof sent?.base64 === 'string'
      ? { name: String(sent.name ?? ''), mediaType: String(sent.mediaType ?? 'application/octet-stream'), bytes: Buffer.from(sent.base64, 'base64') }
      : undefined;
  return { output: { view: document.view, data: document.data as object, ...(failure ? { failure } : {}), ...(file ? { file } : {}) }, timeZone };
}

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function readInputFile(path: string): string {
  checkedInputFile(path);
  return readFileSync(path, 'utf8');
}

/** The format of an import file: --format, else CSV for --delimiter, else its extension, else whether it starts with `{`. */
function importFormat(input: CommandInput, fileArgument: string, lines: string[], firstContent: number): string {
  if (typeof input.options.format === 'string') return input.options.format;
  if (typeof input.options.delimiter === 'string') return 'csv';
  const extension = extname(fileArgument).toLowerCase();
  if (['.csv', '.tsv'].includes(extension)) return 'csv';
  if (['.jsonl', '.ndjson', '.json'].includes(extension)) return 'jsonl';
  return firstContent >= 0 && !lines[firstContent]!.trimStart().startsWith('{') ? 'csv' : 'jsonl';
}

/**
 * The end (exclusive) of the chunk of whole lines from `start`, at least one line, and its size
 * in bytes. A chunk ends only where a record may (`recordEnds`: not inside a CSV quoted field).
 */
function chunkEnd(lines: string[], start: number, recordEnds: (index: number) => boolean): { end: number; bytes: number } {
  let end = start;
  let bytes = 0;
  while (end < lines.length && (end === start || bytes + Buffer.byteLength(lines[end]!) + 1 <= IMPORT_CHUNK_BYTES || !recordEnds(end - 1))) {
    bytes += Buffer.byteLength(lines[end]!) + 1;
    end += 1;
  }
  return { end, bytes };
}

/**
 * After which lines a CSV record may end: not where a quoted field goes on into the next line.
 * Read with the import's own record reader, so both agree (one that never closes gives up where
 * the import does).
 */
function csvRecordEnds(input: CommandInput, lines: string[], headerIndex: number): (index: number) => boolean {
  const given = input.options.delimiter;
  const header = lines[headerIndex]!;
  const delimiter =
    typeof given === 'string' ? parseCsvDelimiter(given, '--delimiter') : (detectCsvDelimiter(header.replace(/^\uFEFF/, ''), USAGE_FIELDS) ?? ',');
  const reader = new CsvRecordReader(
    delimiter,
    () => undefined,
    () => undefined,
  );
  const open = new Uint8Array(lines.length);
  for (let index = headerIndex + 1; index < lines.length; index += 1) {
    const line = lines[index]!;
    reader.push(line.endsWith('\r') ? line.slice(0, -1) : line, index + 1);
    open[index] = reader.isOpen ? 1 : 0;
  }
  return (index) => open[index] !== 1;
}

/** Adds one chunk's totals; its line numbers are the chunk's, so `offset` maps them to the file's. */
function addChunkTotals(totals: ImportTotals, data: Partial<ImportTotals>, offset: number): void {
  totals.read += data.read ?? 0;
  totals.accepted += data.accepted ?? 0;
  totals.duplicates += data.duplicates ?? 0;
  totals.refused += data.refused ?? 0;
  totals.malformed += data.malformed ?? 0;
  totals.acceptedMillicredits += data.acceptedMillicredits ?? 0;
  if (typeof data.firstMalformedLine === 'number') totals.firstMalformedLine ??= data.firstMalformedLine + offset;
  for (const problem of data.problems ?? []) {
    if (totals.problems.length >= 1000) break;
    const line = problem.line + offset;
    totals.problems.push({ ...problem, line, message: problem.message.replace(/^line \d+/, `line ${line}`) });
  }
  addLimitWarnings(totals.warnings, data.warnings ?? []);
}

/** The whole file's result, failing as one request's would: unreadable lines first, then refused events. */
function chunkedImportResult(fileArgument: string, dryRun: boolean, totals: ImportTotals, timeZone: string): RemoteResult {
  const data = { file: fileArgument, dryRun, ...totals };
  if (totals.malformed > 0) {
    const first = totals.firstMalformedLine ?? totals.problems.find((problem) => problem.code.startsWith('INVALID'))?.line ?? '?';
    return {
      timeZone,
      output: {
        view: 'import',
        data,
        failure: new CreditsError('INVALID_INPUT_FILE', `${totals.malformed} line(s) could not be read; the first is line ${first}`, {
          hint: 'fix those lines and import the file again: accepted events are kept, and posting them again is harmless',
        }),
      },
    };
  }
  if (totals.refused > 0) {
    return {
      timeZone,
      output: {
        view: 'import',
        data,
        failure: new CreditsError('EVENTS_REFUSED', `${totals.refused} event(s) were refused by a ledger rule (credits or limits)`, {
          hint: 'see the problems listed; the other events were posted',
        }),
      },
    };
  }
  return { timeZone, output: { view: 'import', data } };
}

/**
 * `usage import` of a file too large for one request: whole lines in chunks (a CSV chunk gets
 * the header again), their totals added up and line numbers mapped back to the file's.
 */
async function chunkedImport(
  config: Config,
  spec: CommandSpec,
  input: CommandInput,
  fileArgument: string,
  content: string,
  io: RemoteIo,
): Promise<RemoteResult> {
  const lines = content.split('\n');
  const firstContent = lines.findIndex((line) => line.trim() !== '');
  const format = importFormat(input, fileArgument, lines, firstContent);
  const header = format === 'csv' && firstContent >= 0 ? lines[firstContent]! : undefined;
  const totals: ImportTotals = {
    read: 0,
    accepted: 0,
    duplicates: 0,
    refused: 0,
    malformed: 0,
    acceptedMillicredits: 0,
    firstMalformedLine: null,
    problems: [],
    warnings: [],
  };
  let timeZone = 'UTC';
  let dryRun = false;
  let start = 0;
  let sentBytes = 0;
  const totalBytes = Buffer.byteLength(content);
  const recordEnds = header === undefined ? () => true : csvRecordEnds(input, lines, firstContent);
  while (start < lines.length) {
    const { end, bytes } = chunkEnd(lines, start, recordEnds);
    const withHeader = header !== undefined && start > firstContent;
    const chunkLines = lines.slice(start, end);
    const chunk = `${withHeader ? `${header}\n` : ''}${chunkLines.join('\n')}`;
    if (chunk.trim() === '' || (withHeader && chunkLines.every((line) => line.trim() === ''))) {
      start = end;
      continue;
    }
    // Line n of this chunk is line (offset + n) of the file.
    const offset = start - (withHeader ? 1 : 0);
    const { status, document } = await postCommand(config, spec.name, {
      args: [fileArgument],
      options: input.options,
      input: { name: fileArgument, content: chunk },
    });
    const result = asOutput(status, document);
    timeZone = result.timeZone;
    const data = result.output.data as Partial<ImportTotals> & { dryRun?: boolean };
    if (typeof data.read !== 'number') throw result.output.failure ?? new CreditsError('INTERNAL', 'the server answered an import without totals');
    dryRun = Boolean(data.dryRun);
    addChunkTotals(totals, data, offset);
    sentBytes += bytes;
    io.progress(
      `sent ${(sentBytes / 1048576).toFixed(1)} of ${(totalBytes / 1048576).toFixed(1)} MB: ${totals.accepted.toLocaleString('en-US')} accepted, ${totals.duplicates.toLocaleString('en-US')} duplicates, ${(totals.refused + totals.malformed).toLocaleString('en-US')} refused`,
    );
    start = end;
  }
  io.progress(null);
  return chunkedImportResult(fileArgument, dryRun, totals, timeZone);
}

/** On a terminal, a command that changes the ledger is shown as a dry run first and asked about. */
async function confirmRemotely(config: Config, spec: CommandSpec, body: { args: string[]; options: CommandInput['options'] }): Promise<void> {
  const { status, document } = await postCommand(config, spec.name, { ...body, options: { ...body.options, dryRun: true, idempotencyKey: undefined } });
  const preview = asOutput(status, document);
  if (preview.output.failure && !preview.output.data) throw preview.output.failure;
  const { renderOutput } = await import('../render/index.js');
  const width = process.stdout.columns && process.stdout.columns > 40 ? process.stdout.columns : 100;
  process.stdout.write(await renderOutput(preview.output.view, preview.output.data, { color: config.color, width, timeZone: preview.timeZone }));
  if (preview.output.failure) throw preview.output.failure;
  const prompts = await import('@inquirer/prompts');
  const ok = await prompts.confirm({ message: `Do this on ${config.server}?`, default: false });
  if (!ok) throw new CreditsError('CONFIRMATION_DECLINED', 'nothing was done: you declined', { hint: 'add --yes to skip the question' });
}

export async function runRemote(spec: CommandSpec, input: CommandInput, config: Config, io: RemoteIo): Promise<RemoteResult> {
  if (config.apiToken === undefined) {
    throw new CreditsError('UNAUTHORIZED', `CREDITS_TOKEN is not set: remote mode (${config.server}) needs an API token`, {
      hint: `an admin creates one with \`credits token create --role ROLE\`; export it as CREDITS_TOKEN, or store it with \`credits login --server ${config.server}\``,
    });
  }
  if (spec.name === 'watch') {
    // The live view stays here; each frame is the server's `dashboard`.
    const intervalText = typeof input.options.interval === 'string' ? input.options.interval : '5';
    if (!/^\d{1,4}(\.\d{1,3})?$/.test(intervalText) || Number(intervalText) < 0.2) {
      throw new CreditsError('INVALID_VALUE', `--interval "${intervalText}" is not a number of seconds`, {
        hint: '--interval takes seconds from 0.2 up, like 5',
      });
    }
    let timeZone = 'UTC';
    const frame = async (): Promise<{ view: string; data: object }> => {
      const { status, document } = await postCommand(config, 'dashboard', { args: [], options: {} });
      const result = asOutput(status, document);
      timeZone = result.timeZone;
      io.setTimeZone(timeZone);
      return result.output;
    };
    await frame();
    const refreshes = await io.live(frame, Number(intervalText) * 1000);
    return { output: { view: 'watchEnded', data: { refreshes } }, timeZone };
  }

  const options = { ...input.options };
  const files = spec.files ?? {};
  let upload: { name: string; content: string } | undefined;
  const fileArgument = files.inputArgument === undefined ? undefined : input.args[files.inputArgument];
  if (fileArgument !== undefined) {
    const content = fileArgument === '-' ? await readStandardInput() : readInputFile(fileArgument);
    if (Buffer.byteLength(content) > IMPORT_CHUNK_BYTES && spec.name === 'usage import') {
      return chunkedImport(config, spec, { ...input, options }, fileArgument, content, io);
    }
    upload = { name: fileArgument, content };
  }
  if (spec.mutating && options.dryRun !== true && options.idempotencyKey === undefined) {
    // A retried request must not act twice: the server keeps the first result under this key.
    options.idempotencyKey = automaticIdempotencyKey(spec.name, { args: input.args, options }, invocationNonce());
  }
  const body = { args: input.args, options, ...(upload ? { input: upload } : {}) };
  if (config.interactive && spec.mutating && options.dryRun !== true) await confirmRemotely(config, spec, body);
  const key = spec.mutating && options.dryRun !== true ? String(options.idempotencyKey) : undefined;
  const { status, document } = await postCommand(config, spec.name, body, key);
  const result = asOutput(status, document, key);
  return { output: result.output, timeZone: result.timeZone };
}
