import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

const HOLD_MS = 3000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// `credits serve` waits for another process's write lock without blocking its event loop: a
// usage event waits for the lock while /health and reads keep being answered.
describe('credits serve while another process holds the write lock', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let writer: string;
  let reader: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Engineering']);
    writer = (await createToken(ledger, ['--role', 'usage-writer', '--name', 'gateway'])).token;
    reader = (await createToken(ledger, ['--role', 'reader', '--name', 'dashboard'])).token;
    // A wait time well past the hold, so that the usage event waits instead of failing with 503.
    server = await startServer(ledger, [], { CREDITS_BUSY_TIMEOUT_MS: '30000' });
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('answers /health and reads while a usage event waits for the lock, then posts the event', async () => {
    // Another process's write transaction, as a running `credits usage import` would hold it.
    const other = new BetterSqlite3(ledger.location);
    let released = false;
    let usageSettled = false;
    try {
      other.exec('BEGIN IMMEDIATE');
      const release = sleep(HOLD_MS).then(() => {
        other.exec('ROLLBACK');
        released = true;
      });
      const usage = server
        .request('POST', '/v1/usage', { token: writer, body: { eventId: 'locked-1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 523 } })
        .finally(() => {
          usageSettled = true;
        });
      await sleep(500);

      const health = await server.request('GET', '/health');
      const lockedAtHealth = !released;
      const usagePendingAtHealth = !usageSettled;
      const balances = await server.request('GET', '/v1/balances', { token: reader });
      const lockedAtRead = !released;

      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ ok: true });
      expect(lockedAtHealth).toBe(true);
      expect(usagePendingAtHealth).toBe(true);
      expect(balances.status).toBe(200);
      expect(lockedAtRead).toBe(true);

      await release;
      const posted = await usage;
      expect(posted.status).toBe(201);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    const report = await ledger.ok(['report', '--by', 'user', '--json']);
    expect(report.json().totals.events).toBe(1);
  });
});
