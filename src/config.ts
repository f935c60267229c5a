import { CONTROL_CHARACTERS } from './core/names.js';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { CreditsError } from './core/errors.js';

/** Every environment variable the tool reads, in one place (the README lists the same). */
export const ENVIRONMENT = {
  CREDITS_DB: 'ledger path or libsql://, http(s)://, ws(s):// URL (below --db)',
  CREDITS_DB_AUTH_TOKEN: 'auth token for a remote libSQL/Turso ledger',
  CREDITS_ACTOR: 'who is recorded as acting (below --actor; default: the OS user)',
  CREDITS_BUSY_TIMEOUT_MS: 'how long a write waits for another process holding the ledger (default 5000)',
  CREDITS_IMPORT_THREAD: 'on: usage import always parses on a second thread; off: never; default: for files of 1 MiB or more and pipes',
  CREDITS_VERIFY_THREADS: 'threads that verify a local ledger (1: one thread, as on a busy machine); default one per core',
  CREDITS_LOCK_MODE:
    "busy_timeout: wait for a local write lock with SQLite's own busy handler (the unfair baseline of bench/concurrency.mjs); default: fair short retries",
  CREDITS_SERVER: 'URL of a `credits serve` API: every command runs through it (below --server)',
  CREDITS_TOKEN: 'API token for CREDITS_SERVER / --server (from `credits token create`); beats the token stored by `credits login`',
  CREDITS_DB_TIMEOUT_MS: 'the longest one read or one write transaction may take on a remote ledger, lock wait included (default 30000)',
  CREDITS_SERVER_TIMEOUT_MS: 'how long the remote CLI waits for one answer from the server (default 30000)',
  CREDITS_NOW: 'pretend the current time is this ISO 8601 instant (tests, replays)',
  XDG_DATA_HOME: 'base of the default ledger path ($XDG_DATA_HOME/credits/ledger.db)',
  CREDITS_SIGNING_KEY: 'the Ed25519 private key (PEM, or base64 PKCS#8) that signs checkpoints (above the key file)',
  XDG_CONFIG_HOME:
    'base of the checkpoint signing key file ($XDG_CONFIG_HOME/credits/signing-key) and of the login file of `credits login` ($XDG_CONFIG_HOME/credits/config.json); default ~/.config',
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
  /** Where server and token came from: --server, the environment, or the login file of `credits login`. */
  serverSource: 'flag' | 'env' | 'file' | undefined;
  apiTokenSource: 'env' | 'file' | undefined;
  /** The login file `credits login` writes and `credits logout` removes. */
  loginFilePath: string;
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

export function defaultLoginFilePath(env: Environment): string {
  return join(dirname(defaultSigningKeyPath(env)), 'config.json');
}

/**
 * What `credits login` stored, as read from its file: the server and token, or why they cannot
 * be used (the file is readable by others, or not what login writes). Read on every command that
 * may use it; refused only when it is used.
 */
export type StoredLogin = { path: string; server: string; token: string } | { path: string; problem: string };

export function readStoredLogin(path: string): StoredLogin | undefined {
  let text: string;
  let modeBits: number;
  try {
    modeBits = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { path, problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  // Like ssh with a private key: a token others can read is refused, not used.
  if ((modeBits & 0o077) !== 0) return { path, problem: `can be read by others (mode 0${modeBits.toString(8)}): the token in it may be known` };
  try {
    const value = JSON.parse(text) as { server?: unknown; token?: unknown };
    if (typeof value.server === 'string' && typeof value.token === 'string') return { path, server: value.server, token: value.token };
  } catch {
    // reported below
  }
  return { path, problem: 'is not a login file written by `credits login` (JSON with server and token)' };
}

/**
 * Writes the login file readable by its owner only, atomically: a new file (mode 0600 from its
 * creation, never looser for a moment) renamed over the old one; its folder is made 0700.
 */
export function writeStoredLogin(path: string, login: { server: string; token: string }): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ server: login.server, token: login.token }, null, 2)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

/** Removes the login file; false when there was none. */
export function removeStoredLogin(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The login name: $USER or $LOGNAME as the login set them, else the passwd entry (a few ms to read). */
function osUser(env: Environment): string {
  const named = env.USER ?? env.LOGNAME;
  if (named !== undefined && named.trim() !== '') return named;
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

/** A server URL as remote mode uses it: http(s), without a trailing slash. */
function serverUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CreditsError('INVALID_VALUE', `${what} "${text}" is not a URL`, { hint: 'like http://127.0.0.1:8787 or https://credits.example.com' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CreditsError('INVALID_VALUE', `${what} "${text}" is not an http(s) URL`, { hint: 'like https://credits.example.com' });
  return url.toString().replace(/\/+$/, '');
}

function isSet(text: string | undefined): text is string {
  return text !== undefined && text.trim() !== '';
}

type ServerChoice = { server: string | undefined; source: Config['serverSource']; token: string | undefined; tokenSource: Config['apiTokenSource'] };

/**
 * The server of remote mode and its token: --server, else CREDITS_SERVER unless --db names a
 * ledger, else the login file unless --db or CREDITS_DB names one (flag > environment > file).
 * CREDITS_TOKEN beats the stored token, which goes only to the server it was stored with.
 */
function resolveServer(flags: GlobalFlags, env: Environment, stored: StoredLogin | undefined): ServerChoice {
  if (flags.server !== undefined && flags.db !== undefined) {
    throw new CreditsError('USAGE', '--server and --db cannot be combined', {
      hint: 'use --server URL to go through a credits server, or --db for a ledger of your own',
    });
  }
  const envToken = isSet(env.CREDITS_TOKEN) ? env.CREDITS_TOKEN.trim() : undefined;
  const byEnv = { token: envToken, tokenSource: envToken === undefined ? undefined : ('env' as const) };
  if (flags.server !== undefined) return withStoredToken({ server: serverUrl(flags.server, 'server'), source: 'flag', ...byEnv }, stored);
  if (flags.db !== undefined) return { server: undefined, source: undefined, ...byEnv };
  if (isSet(env.CREDITS_SERVER)) return withStoredToken({ server: serverUrl(env.CREDITS_SERVER, 'server'), source: 'env', ...byEnv }, stored);
  if (stored === undefined || isSet(env.CREDITS_DB)) return { server: undefined, source: undefined, ...byEnv };
  if ('problem' in stored) {
    throw new CreditsError('CONFIG_INSECURE', `the login file ${stored.path} ${stored.problem}`, {
      hint: `run \`credits login --server URL\` again (it writes the file anew, mode 0600), or \`credits logout\`; --db or CREDITS_DB use a ledger instead`,
    });
  }
  return withStoredToken({ server: serverUrl(stored.server, `server in ${stored.path}`), source: 'file', ...byEnv }, stored);
}

function withStoredToken(choice: ServerChoice, stored: StoredLogin | undefined): ServerChoice {
  if (choice.token !== undefined || stored === undefined || 'problem' in stored) return choice;
  let storedServer: string;
  try {
    storedServer = serverUrl(stored.server, 'server');
  } catch {
    return choice;
  }
  return storedServer === choice.server ? { ...choice, token: stored.token, tokenSource: 'file' } : choice;
}

function waitTime(env: Environment, name: string, fallbackMs: number, minimumMs: number, maximumMs: number): number {
  const text = env[name];
  const value = text === undefined || text === '' ? fallbackMs : Number(text);
  if (!Number.isInteger(value) || value < minimumMs || value > maximumMs) {
    throw new CreditsError('INVALID_VALUE', `${name} "${text}" is not a wait time`, { hint: `use whole milliseconds from ${minimumMs} to ${maximumMs}` });
  }
  return value;
}

/** flag > environment > login file > default, for everything but command-specific flags. */
export function resolveConfig(
  flags: GlobalFlags,
  env: Environment,
  terminal: { stdinIsTty: boolean; stdoutIsTty: boolean },
  /** What `credits login` stored (readStoredLogin), when the command may go through a server. */
  stored?: StoredLogin,
): Config {
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
  const actor = (flags.actor ?? env.CREDITS_ACTOR ?? osUser(env)).trim();
  if (CONTROL_CHARACTERS.test(actor)) {
    throw new CreditsError('INVALID_VALUE', '--actor (or CREDITS_ACTOR) contains a control character (like ESC, backspace or carriage return)', {
      hint: 'name the person or job acting in plain text, like ada or cron-statements',
    });
  }
  if (actor === '' || actor.length > 120) {
    throw new CreditsError('INVALID_VALUE', '--actor must be 1-120 characters', { hint: 'name the person or job acting, like ada or cron-statements' });
  }
  const remote = resolveServer(flags, env, stored);
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
    server: remote.server,
    apiToken: remote.token,
    serverSource: remote.source,
    apiTokenSource: remote.tokenSource,
    loginFilePath: defaultLoginFilePath(env),
    serverTimeoutMs,
    signingKeyText: env.CREDITS_SIGNING_KEY && env.CREDITS_SIGNING_KEY.trim() !== '' ? env.CREDITS_SIGNING_KEY : undefined,
    signingKeyPath: defaultSigningKeyPath(env),
  };
}
