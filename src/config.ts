import { CONTROL_CHARACTERS } from './core/names.js';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { CreditsError } from './core/errors.js';

/** Every environment variable the tool reads, in one place (the README lists the same). */
export const ENVIRONMENT = {
  CREDITS_DB: 'ledger path or libsql://, http(s)://, ws(s):// URL (below --db)',
  CREDITS_DB_AUTH_TOKEN: 'auth token for a remote libSQL/Turso ledger',
  CREDITS_ACTOR: 'who is recorded as acting (below --actor; default: the OS user)',
  CREDITS_BUSY_TIMEOUT_MS: 'how long a write waits for another process holding the ledger (default 5000)',
  CREDITS_IMPORT_THREAD: 'on: usage import always parses on a second thread; off: never; default: for files of 1 MiB or more and pipes',
  CREDITS_LOCK_MODE:
    "busy_timeout: wait for a local write lock with SQLite's own busy handler (the unfair baseline of bench/concurrency.mjs); default: fair short retries",
  CREDITS_SERVER: 'URL of a `credits serve` API: every command runs through it (below --server)',
  CREDITS_TOKEN: 'API token for CREDITS_SERVER / --server (from `credits token create`)',
  CREDITS_DB_TIMEOUT_MS: 'the longest one read or one write transaction may take on a remote ledger, lock wait included (default 30000)',
  CREDITS_SERVER_TIMEOUT_MS: 'how long the remote CLI waits for one answer from the server (default 30000)',
  CREDITS_NOW: 'pretend the current time is this ISO 8601 instant (tests, replays)',
  XDG_DATA_HOME: 'base of the default ledger path ($XDG_DATA_HOME/credits/ledger.db)',
  CREDITS_SIGNING_KEY: 'the Ed25519 private key (PEM, or base64 PKCS#8) that signs checkpoints (above the key file)',
  XDG_CONFIG_HOME: 'base of the checkpoint signing key file ($XDG_CONFIG_HOME/credits/signing-key; default ~/.config)',
  NO_COLOR: 'any value turns colour off',
  FORCE_COLOR: '1, 2 or 3 forces colour on; 0 forces it off',
  CI: 'any value: never prompt',
} as const;

export type GlobalFlags = {
  db?: string | undefined;
  json?: boolean | undefined;
  yes?: boolean | undefined;
  actor?: string | undefined;
  quiet?: boolean | undefined;
  color?: boolean | undefined;
  /** false for --no-pager. */
  pager?: boolean | undefined;
  server?: string | undefined;
};

export type Config = {
  ledgerLocation: string;
  authToken: string | undefined;
  busyTimeoutMs: number;
  /** A remote ledger: the deadline of one read or one write transaction (CREDITS_DB_TIMEOUT_MS). */
  dbTimeoutMs: number;
  actor: string;
  json: boolean;
  yes: boolean;
  quiet: boolean;
  color: boolean;
  nowMs: number | undefined;
  interactive: boolean;
  /** Long output on a terminal goes through $PAGER (--no-pager turns it off). */
  pager: boolean;
  /** Remote mode: the base URL of a `credits serve` API, or undefined to use the ledger directly. */
  server: string | undefined;
  apiToken: string | undefined;
  serverTimeoutMs: number;
  /** CREDITS_SIGNING_KEY: the checkpoint signing key itself; when set, the key file is not read. */
  signingKeyText: string | undefined;
  /** Where `checkpoint --init-key` writes the key and where it is read when CREDITS_SIGNING_KEY is unset. */
  signingKeyPath: string;
  /** Inside `credits serve`: the request a command runs for, recorded in its audit rows. */
  requestId?: string | undefined;
};

export type Environment = Record<string, string | undefined>;

export function defaultLedgerPath(env: Environment): string {
  const dataHome = env.XDG_DATA_HOME && env.XDG_DATA_HOME.trim() !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'credits', 'ledger.db');
}

export function defaultSigningKeyPath(env: Environment): string {
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(configHome, 'credits', 'signing-key');
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function colourWanted(flags: GlobalFlags, env: Environment, stdoutIsTty: boolean): boolean {
  if (flags.color === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stdoutIsTty;
}

/**
 * The server of remote mode: --server, else CREDITS_SERVER unless --db names a ledger (a flag
 * beats the environment). --server with --db is a contradiction.
 */
function resolveServer(flags: GlobalFlags, env: Environment): string | undefined {
  if (flags.server !== undefined && flags.db !== undefined) {
    throw new CreditsError('USAGE', '--server and --db cannot be combined', {
      hint: 'use --server URL to go through a credits server, or --db for a ledger of your own',
    });
  }
  const text = flags.server ?? (flags.db === undefined && env.CREDITS_SERVER && env.CREDITS_SERVER.trim() !== '' ? env.CREDITS_SERVER : undefined);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CreditsError('INVALID_VALUE', `server "${text}" is not a URL`, { hint: 'like http://127.0.0.1:8787 or https://credits.example.com' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CreditsError('INVALID_VALUE', `server "${text}" is not an http(s) URL`, { hint: 'like https://credits.example.com' });
  return url.toString().replace(/\/+$/, '');
}

function waitTime(env: Environment, name: string, fallbackMs: number, minimumMs: number, maximumMs: number): number {
  const text = env[name];
  const value = text === undefined || text === '' ? fallbackMs : Number(text);
  if (!Number.isInteger(value) || value < minimumMs || value > maximumMs) {
    throw new CreditsError('INVALID_VALUE', `${name} "${text}" is not a wait time`, { hint: `use whole milliseconds from ${minimumMs} to ${maximumMs}` });
  }
  return value;
}

/** flag > environment > default, for everything but command-specific flags. */
export function resolveConfig(flags: GlobalFlags, env: Environment, terminal: { stdinIsTty: boolean; stdoutIsTty: boolean }): Config {
  const busyText = env.CREDITS_BUSY_TIMEOUT_MS;
  const busyTimeoutMs = busyText === undefined || busyText === '' ? 5000 : Number(busyText);
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 600_000) {
    throw new CreditsError('INVALID_VALUE', `CREDITS_BUSY_TIMEOUT_MS "${busyText}" is not a wait time`, { hint: 'use whole milliseconds from 0 to 600000' });
  }
  const dbTimeoutMs = waitTime(env, 'CREDITS_DB_TIMEOUT_MS', 30_000, 100, 3_600_000);
  let nowMs: number | undefined;
  if (env.CREDITS_NOW) {
    nowMs = Date.parse(env.CREDITS_NOW);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(env.CREDITS_NOW) || Number.isNaN(nowMs)) {
      throw new CreditsError('INVALID_DATE', `CREDITS_NOW "${env.CREDITS_NOW}" is not an ISO 8601 instant`, { hint: 'use a form like 2026-03-15T14:23:00Z' });
    }
  }
  const actor = (flags.actor ?? env.CREDITS_ACTOR ?? osUser()).trim();
  if (CONTROL_CHARACTERS.test(actor)) {
    throw new CreditsError('INVALID_VALUE', '--actor (or CREDITS_ACTOR) contains a control character (like ESC, backspace or carriage return)', {
      hint: 'name the person or job acting in plain text, like ada or cron-statements',
    });
  }
  if (actor === '' || actor.length > 120) {
    throw new CreditsError('INVALID_VALUE', '--actor must be 1-120 characters', { hint: 'name the person or job acting, like ada or cron-statements' });
  }
  const server = resolveServer(flags, env);
  const timeoutText = env.CREDITS_SERVER_TIMEOUT_MS;
  const serverTimeoutMs = timeoutText === undefined || timeoutText === '' ? 30_000 : Number(timeoutText);
  if (!Number.isInteger(serverTimeoutMs) || serverTimeoutMs < 100 || serverTimeoutMs > 3_600_000) {
    throw new CreditsError('INVALID_VALUE', `CREDITS_SERVER_TIMEOUT_MS "${timeoutText}" is not a wait time`, {
      hint: 'use whole milliseconds from 100 to 3600000',
    });
  }
  const json = Boolean(flags.json);
  const yes = Boolean(flags.yes);
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return {
    ledgerLocation: flags.db ?? (env.CREDITS_DB && env.CREDITS_DB !== '' ? env.CREDITS_DB : defaultLedgerPath(env)),
    authToken: env.CREDITS_DB_AUTH_TOKEN || undefined,
    busyTimeoutMs,
    dbTimeoutMs,
    actor,
    json,
    yes,
    quiet: Boolean(flags.quiet),
    color: !json && colourWanted(flags, env, terminal.stdoutIsTty),
    nowMs,
    interactive: terminal.stdinIsTty && terminal.stdoutIsTty && !ci && !yes && !json,
    pager: flags.pager !== false && terminal.stdoutIsTty && !json,
    server,
    apiToken: env.CREDITS_TOKEN && env.CREDITS_TOKEN.trim() !== '' ? env.CREDITS_TOKEN.trim() : undefined,
    serverTimeoutMs,
    signingKeyText: env.CREDITS_SIGNING_KEY && env.CREDITS_SIGNING_KEY.trim() !== '' ? env.CREDITS_SIGNING_KEY : undefined,
    signingKeyPath: defaultSigningKeyPath(env),
  };
}
