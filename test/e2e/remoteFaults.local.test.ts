import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, ledgerAt, runCli, type RunResult } from '../helpers/cli.js';
import { createToken, startServer } from './apiServer.js';
import { startDropProxy, type DropProxy } from '../helpers/dropProxy.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';

/**
 * A remote ledger (a real sqld on loopback) that stops answering, or whose answer to COMMIT is
 * lost on the way back: the CLI never hangs, says whether the write happened, and the command it
 * prints as safe to run again applies the write once.
 */
type ErrorJson = { error: { code: string; message: string; hint?: string; outcome?: string; idempotencyKey?: string; retryCommand?: string } };

function errorOf(result: RunResult): ErrorJson['error'] {
  return (JSON.parse(result.stderr) as ErrorJson).error;
}

function engineeringMillicredits(db: string): Promise<number> {
  return balanceOf(ledgerAt(db), 'Engineering');
}

/** The words after `credits` of a printed retry command (single-quoted words unquoted). */
function wordsOf(retryCommand: string): string[] {
  return [...retryCommand.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((match) => (match[1] ?? match[2] ?? '').replace(/'\\''/g, "'")).slice(1);
}

describe('a remote ledger that stops answering or loses an answer', () => {
  let sqld: Sqld;
  let proxy: DropProxy;
  beforeAll(async () => {
    sqld = await startSqld();
    proxy = await startDropProxy(sqld.httpUrl);
    for (const args of [
      ['init', '--org', 'Faults GmbH'],
      ['dept', 'add', 'Engineering'],
      ['buy', 'standard', '--method', 'card'],
    ]) {
      const result = await runCli(['--db', sqld.httpUrl, ...args], {});
      expect(result.exitCode, result.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    process.kill(sqld.pid, 'SIGCONT');
    await proxy.stop();
    await sqld.stop();
  });

  it('a lost answer to COMMIT is OUTCOME_UNKNOWN (exit 6) with a retry command that applies the transfer once', async () => {
    const before = await engineeringMillicredits(sqld.httpUrl);
    proxy.dropAnswerTo(/"sql":"COMMIT"/i);
    const lost = await runCli(['--db', proxy.url, 'transfer', '25', '--from', 'org', '--to', 'Engineering', '--reason', "Q1's budget", '--json'], {});
    expect(proxy.dropped()).toBe(1);
    expect(lost.exitCode, lost.stderr).toBe(6);
    const error = errorOf(lost);
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.outcome).toBe('unknown');
    expect(error.idempotencyKey).toMatch(/^auto-transfer-/);
    expect(error.retryCommand).toContain(`--idempotency-key ${error.idempotencyKey}`);
    expect(error.hint).toContain(error.retryCommand);
    // It did commit: the answer was lost, not the write.
    expect(await engineeringMillicredits(sqld.httpUrl)).toBe(before + 25_000);

    const words = wordsOf(error.retryCommand ?? '');
    expect(words).toContain("Q1's budget");
    const retried = await runCli(words, {});
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(retried.json()).toMatchObject({ replayed: true });
    expect(await engineeringMillicredits(sqld.httpUrl)).toBe(before + 25_000);
  });

  it('a stopped server ends a write and a read with exit 6 in bounded time, and nothing is written', async () => {
    const before = await engineeringMillicredits(sqld.httpUrl);
    const env = { CREDITS_BUSY_TIMEOUT_MS: '300', CREDITS_DB_TIMEOUT_MS: '700' };
    process.kill(sqld.pid, 'SIGSTOP');
    try {
      const startedMs = Date.now();
      const write = await runCli(['--db', sqld.httpUrl, 'transfer', '5', '--from', 'org', '--to', 'Engineering', '--json'], env);
      const read = await runCli(['--db', sqld.wsUrl, 'history', '--json'], env);
      expect(Date.now() - startedMs).toBeLessThan(20_000);
      expect(write.exitCode, write.stderr).toBe(6);
      expect(read.exitCode, read.stderr).toBe(6);
      // The transfer never reached the lock: certainly not applied, and said so.
      expect(errorOf(write).code).toBe('STORAGE_TIMEOUT');
      expect(errorOf(write).message).toMatch(/nothing was written/);
      expect(errorOf(read).code).toBe('STORAGE_TIMEOUT');
    } finally {
      process.kill(sqld.pid, 'SIGCONT');
    }
    expect(await engineeringMillicredits(sqld.httpUrl)).toBe(before);
  });

  it('a direct writer whose write lock never comes ends with exit 6 saying the lock may be stuck and a restart of sqld clears it', async () => {
    const before = await engineeringMillicredits(sqld.httpUrl);
    // Another connection holds sqld's write lock, as a stuck lock queue would.
    const holder = createClient({ url: sqld.wsUrl });
    const held = await holder.transaction('write');
    await held.execute('SELECT 1');
    try {
      const startedMs = Date.now();
      const write = await runCli(['--db', sqld.wsUrl, 'transfer', '3', '--from', 'org', '--to', 'Engineering', '--json'], { CREDITS_BUSY_TIMEOUT_MS: '500' });
      expect(Date.now() - startedMs).toBeLessThan(15_000);
      expect(write.exitCode, write.stderr).toBe(6);
      const error = errorOf(write);
      expect(error.code).toBe('STORAGE_BUSY');
      expect(error.message).toMatch(/answers \/health/);
      expect(error.message).toMatch(/nothing was written/);
      expect(error.hint).toMatch(/restart sqld/);
    } finally {
      await held.rollback();
      holder.close();
    }
    expect(await engineeringMillicredits(sqld.httpUrl)).toBe(before);
  });

  it('`serve` on the stopped server answers /health within a second, saying the ledger does not answer', async () => {
    const ledger = ledgerAt(sqld.httpUrl);
    const server = await startServer(ledger);
    try {
      process.kill(sqld.pid, 'SIGSTOP');
      const startedMs = Date.now();
      const down = await server.request('GET', '/health');
      const tookMs = Date.now() - startedMs;
      process.kill(sqld.pid, 'SIGCONT');
      expect(tookMs).toBeLessThan(1500);
      expect(down.status).toBe(503);
      expect(down.body.ok).toBe(false);
      expect(down.body.error.code).toBe('STORAGE_TIMEOUT');
      // Once the database answers again, so does the server, without a restart.
      let up = await server.request('GET', '/health');
      for (let tries = 0; up.status !== 200 && tries < 20; tries += 1) up = await server.request('GET', '/health');
      expect(up.status).toBe(200);
    } finally {
      process.kill(sqld.pid, 'SIGCONT');
      await server.stop();
    }
  });
});

describe('remote mode (--server) when the answer to a transfer is lost', () => {
  let sqld: Sqld;
  beforeAll(async () => {
    sqld = await startSqld();
  });
  afterAll(async () => {
    await sqld.stop();
  });

  it('retries with the same key, so the transfer is applied once; when every answer is lost it prints a retry that finishes it once', async () => {
    const db = sqld.httpUrl;
    for (const args of [
      ['init', '--org', 'Remote GmbH'],
      ['dept', 'add', 'Engineering'],
      ['buy', 'standard', '--method', 'card'],
    ]) {
      const result = await runCli(['--db', db, ...args], {});
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const ledger = ledgerAt(db);
    const { token } = await createToken(ledger, ['--role', 'admin', '--name', 'ops']);
    const server = await startServer(ledger);
    const proxy = await startDropProxy(server.url);
    try {
      const env = { CREDITS_SERVER: proxy.url, CREDITS_TOKEN: token, CREDITS_DB: '/nonexistent/remote.db' };
      const before = await engineeringMillicredits(db);
      proxy.dropAnswerTo(/"args":\["10"\]/, 1);
      const once = await runCli(['transfer', '10', '--from', 'org', '--to', 'Engineering', '--json'], env);
      expect(once.exitCode, once.stderr).toBe(0);
      expect(proxy.dropped()).toBe(1);
      expect(await engineeringMillicredits(db)).toBe(before + 10_000);

      proxy.dropAnswerTo(/"args":\["7"\]/, Number.POSITIVE_INFINITY);
      const lost = await runCli(['transfer', '7', '--from', 'org', '--to', 'Engineering', '--json'], env);
      expect(lost.exitCode, lost.stderr).toBe(6);
      const error = errorOf(lost);
      expect(error.code).toBe('OUTCOME_UNKNOWN');
      expect(error.hint).not.toMatch(/retry is safe/);
      expect(await engineeringMillicredits(db)).toBe(before + 17_000);
      proxy.dropAnswerTo(/never/, 0);
      expect(error.retryCommand).toContain(`--idempotency-key ${error.idempotencyKey}`);
      const retried = await runCli(wordsOf(error.retryCommand ?? ''), env);
      expect(retried.exitCode, retried.stderr).toBe(0);
      expect(retried.json()).toMatchObject({ replayed: true });
      expect(await engineeringMillicredits(db)).toBe(before + 17_000);
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});
