import { createHash } from 'node:crypto';

/**
 * What the audit log keeps of a refused request: its shape, never its content. A refused caller
 * must not be able to grow the ledger by what it sends (a 16 MB body would be a 16 MB row), so
 * the row holds counts, option names, a few short values, the size and a hash to match it with.
 */
export type RequestSummary =
  | {
      /** How many positional arguments. */
      args: number;
      /** Option (or field) names, the first MAX_NAMES, each cut to MAX_NAME_CHARS. */
      options: string[];
      optionCount: number;
      /** Short printable values of options that are not secrets; longer ones are left out. */
      values?: Record<string, string | number | boolean>;
      /** Size and sha256 of the request's canonical JSON (sorted keys, secret values as "***"). */
      bytes: number;
      sha256: string;
    }
  | { unreadable: string };

/** The most a refusal's audit row holds: args_json, actor and command together, in UTF-8 bytes. */
export const MAX_REFUSAL_ROW_BYTES = 4096;

const MAX_NAMES = 40;
const MAX_NAME_CHARS = 40;
const MAX_VALUE_CHARS = 40;
const MAX_REASON_CHARS = 300;
const MAX_DEPARTMENT_CHARS = 100;
// Names of values that are or may hold credentials (webhook secrets, SMTP URLs with passwords).
const SECRET_NAME = /secret|passw|credential|smtp|^auth|^token$|authToken|apiKey|url$/i;
const PRINTABLE = /^[\x20-\x7e]*$/;

function plainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON with keys sorted by code point at every depth (locale-independent) and secret values replaced. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (key, inner: unknown) => {
    if (key !== '' && SECRET_NAME.test(key) && typeof inner === 'string') return '***';
    if (!plainObject(inner)) return inner;
    const keys = Object.keys(inner).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(keys.map((name) => [name, inner[name]]));
  });
}

function shortValue(name: string, value: unknown): string | number | boolean | undefined {
  if (SECRET_NAME.test(name)) return value === undefined || value === null ? undefined : '***';
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return value.length <= MAX_VALUE_CHARS && PRINTABLE.test(value) ? value : `(${value.length} chars)`;
  if (Array.isArray(value)) return `(${value.length} items)`;
  return undefined;
}

function summarize(whole: unknown, args: unknown, options: unknown): RequestSummary {
  let json: string;
  try {
    json = canonicalJson(whole) ?? 'null';
  } catch {
    // Nested deeper than JSON.stringify can walk: the refusal stands, with less to say about it.
    return { unreadable: 'too deeply nested to measure' };
  }
  const names = plainObject(options) ? Object.keys(options) : [];
  const values: Record<string, string | number | boolean> = {};
  for (const name of names.slice(0, MAX_NAMES)) {
    if (name.length > MAX_NAME_CHARS || !PRINTABLE.test(name)) continue;
    const shown = shortValue(name, (options as Record<string, unknown>)[name]);
    if (shown !== undefined) values[name] = shown;
  }
  return {
    args: Array.isArray(args) ? args.length : 0,
    options: names.slice(0, MAX_NAMES).map((name) => name.slice(0, MAX_NAME_CHARS)),
    optionCount: names.length,
    ...(Object.keys(values).length > 0 ? { values } : {}),
    bytes: Buffer.byteLength(json, 'utf8'),
    sha256: createHash('sha256').update(json, 'utf8').digest('hex'),
  };
}

/** A POST /v1/commands body (or what a REST route made of its fields): {args, options, input}. */
export function summarizeCommandRequest(request: unknown): RequestSummary {
  const body = plainObject(request) ? request : {};
  return summarize(request, body.args, body.options);
}

/** A body of fields (a usage event, {"events": [...]}): its fields count as options. */
export function summarizeFields(body: unknown): RequestSummary {
  return summarize(body, undefined, body);
}

export type Refusal = { reason: string; tokenId: number; role: string; department: string | null };

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The args of a refusal's audit row, cut until the row fits MAX_REFUSAL_ROW_BYTES: first the
 * values go, then the option names; the reason, token, role, size and hash always stay.
 */
export function refusalAuditArgs(refusal: Refusal, summary: RequestSummary, row: { actor: string; command: string }): Record<string, unknown> {
  const base = {
    refused: refusal.reason.slice(0, MAX_REASON_CHARS),
    token: refusal.tokenId,
    role: refusal.role,
    department: refusal.department === null ? null : refusal.department.slice(0, MAX_DEPARTMENT_CHARS),
  };
  const budgetBytes = MAX_REFUSAL_ROW_BYTES - byteLength(row.actor) - byteLength(row.command);
  const candidates: RequestSummary[] = [summary];
  if ('sha256' in summary) {
    const { values: _values, ...withoutValues } = summary;
    candidates.push(withoutValues, { ...withoutValues, options: [] });
  }
  for (const request of candidates) {
    const args = { ...base, request };
    if (byteLength(JSON.stringify(args)) <= budgetBytes) return args;
  }
  // Unreachable while the cuts above hold (reason, department and actor are bounded); checked all the same.
  throw new Error(`a refusal's audit row would exceed ${MAX_REFUSAL_ROW_BYTES} bytes`);
}
