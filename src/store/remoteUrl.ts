/** Ledger URLs: refused with credentials over fetch, shown without secrets, and their sqld /health. */
import { CreditsError } from '../core/errors.js';

/**
 * libsql:// and http(s):// go over fetch, which refuses a URL with a user name or password, and
 * its error message repeats the URL, secret included. Say so without the secret instead.
 */
export function refuseCredentialsOverHttp(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (/^(libsql|https?):$/i.test(parsed.protocol) && (parsed.username !== '' || parsed.password !== '')) {
    throw new CreditsError('INVALID_VALUE', `the ledger URL ${redactUrl(url)} must not carry a user name or password`, {
      hint: 'remove them from the URL and set CREDITS_DB_AUTH_TOKEN to the token',
    });
  }
}

/** A URL for messages: user info and query strings may carry secrets. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/(\/\/[^/]+)\/$/, '$1');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '');
  }
}

/** The sqld HTTP address behind a ledger URL (libsql:// and wss:// are https, ws:// is http). */
function httpBase(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const secure = /^(libsql|https|wss):$/i.test(parsed.protocol);
    return `${secure ? 'https' : 'http'}://${parsed.host}`;
  } catch {
    return undefined;
  }
}

/** True when the server's /health answers within a second: it is up, whatever its write lock does. */
export async function serverAnswersHealth(url: string): Promise<boolean> {
  const base = httpBase(url);
  if (base === undefined) return false;
  try {
    const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
