import { beforeAll, describe, expect, it } from 'vitest';
import { isCreditsError, type CreditsError } from '../../src/core/errors.js';
import { openLedger } from '../../src/store/open.js';
import { freePort, startSqld } from '../helpers/sqld.js';
import { open } from './support.js';

async function refusal(promise: Promise<unknown>): Promise<CreditsError> {
  const error = await promise.then(
    () => new Error('it worked'),
    (reason: unknown) => reason,
  );
  if (!isCreditsError(error)) throw error;
  return error;
}

describe('a remote ledger URL where nothing listens', () => {
  let port: number;
  beforeAll(async () => {
    port = await freePort();
  });

  it.each([
    { scheme: 'http', url: () => `http://127.0.0.1:${port}` },
    { scheme: 'ws', url: () => `ws://127.0.0.1:${port}` },
    { scheme: 'libsql', url: () => `libsql://127.0.0.1:${port}?tls=0`, shown: () => `libsql://127.0.0.1:${port}` },
  ])('is STORAGE_UNAVAILABLE (exit 6) naming the $scheme URL, for a command and for init', async ({ url, shown }) => {
    for (const mayCreate of [false, true]) {
      const error = await refusal(open(url(), { mayCreate }));
      expect(error.code).toBe('STORAGE_UNAVAILABLE');
      expect(error.exitCode).toBe(6);
      expect(error.message).toContain(`the remote ledger ${(shown ?? url)()} cannot be reached`);
      expect(error.hint).toMatch(/server is running/);
    }
  });

  it('never repeats the auth token, whether it came in the URL or from CREDITS_DB_AUTH_TOKEN', async () => {
    for (const [location, authToken] of [
      [`ws://127.0.0.1:${port}/?authToken=url-secret-123`, undefined],
      [`http://127.0.0.1:${port}`, 'env-secret-456'],
      [`ws://127.0.0.1:${port}`, 'env-secret-789'],
    ] as const) {
      const error = await refusal(openLedger({ location, authToken, busyTimeoutMs: 1000 }, { mayCreate: false }));
      expect(error.code).toBe('STORAGE_UNAVAILABLE');
      expect(`${error.message} ${error.hint}`).not.toMatch(/secret/);
    }
  });

  it('with a user name and password in an http(s):// URL is a usage error (exit 2) that does not repeat them', async () => {
    const error = await refusal(open(`https://ci-bot:hunter2@127.0.0.1:${port}`));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`https://127.0.0.1:${port}`);
    expect(`${error.message} ${error.hint}`).not.toMatch(/hunter2|ci-bot/);
    expect(error.hint).toContain('CREDITS_DB_AUTH_TOKEN');
  });

  it('a malformed URL is a usage error (exit 2), not an internal one', async () => {
    for (const location of ['ws://127.0.0.1:not-a-port', 'libsql://127.0.0.1?tls=maybe', 'https://exa mple.com']) {
      const error = await refusal(open(location));
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain('is not a valid ledger URL');
    }
  });
});

describe('a sqld that goes away while a ledger is open', () => {
  it('turns the next read and the next write into STORAGE_UNAVAILABLE, over ws:// and http://', async () => {
    const server = await startSqld();
    const opened = [];
    try {
      opened.push(await open(server.wsUrl, { mayCreate: true }), await open(server.httpUrl));
    } finally {
      await server.stop();
    }
    for (const db of opened) {
      try {
        const read = await refusal(db.all('SELECT key FROM settings'));
        expect(read.code).toBe('STORAGE_UNAVAILABLE');
        expect(read.message).toContain(db.location);
        const write = await refusal(db.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES ('k', 'v')")));
        expect(write.code).toBe('STORAGE_UNAVAILABLE');
      } finally {
        await db.close();
      }
    }
  });
});
