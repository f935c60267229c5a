import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// What a hostile review of department-bound tokens found, each closed: a token bound to
// Marketing learns nothing of Engineering and changes nothing of it, whatever route it takes.
describe('a department-bound token against the other departments', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let operator: string;
  let reader: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok([
      'org',
      'set',
      '--address',
      'Hauptstr. 1, 10115 Berlin',
      '--vat-id',
      'DE123456789',
      '--smtp-url',
      'smtp://mailer:S3cretPass@127.0.0.1:2525',
    ]);
    await ledger.ok(['provider', 'set', '--name', 'Credits Provider GmbH', '--address', 'Am Markt 1, 04109 Leipzig', '--vat-id', 'DE987654321']);
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['transfer', '7', '--from', 'Engineering', '--to', 'Marketing', '--reason', 'eng to mkt', '--idempotency-key', 'eng-mkt-q1']);
    await ledger.ok(['buy', 'basic', '--method', 'card', '--for', 'Marketing']);
    operator = (await createToken(ledger, ['--role', 'operator', '--dept', 'Marketing'])).token;
    reader = (await createToken(ledger, ['--role', 'reader', '--dept', 'Marketing'])).token;
    server = await startServer(ledger);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it("cannot replay another caller's idempotency key, nor claim one before its owner", async () => {
    const engineeringBefore = await balanceOf(ledger, 'Engineering');
    const replay = await server.request('POST', '/v1/transfers', {
      token: operator,
      body: { amount: '7', from: 'Engineering', to: 'Marketing', reason: 'eng to mkt', idempotencyKey: 'eng-mkt-q1' },
    });
    expect(replay.status).toBe(403);
    expect(replay.text).not.toContain('fromBalanceMillicredits');
    expect(await balanceOf(ledger, 'Engineering')).toBe(engineeringBefore);

    const claimed = await server.request('POST', '/v1/transfers', { token: operator, body: { amount: '1', to: 'org', idempotencyKey: 'bank-eng-1' } });
    expect(claimed.status).toBe(200);
    const owner = await ledger.run(['transfer', '2', '--from', 'Engineering', '--to', 'org', '--idempotency-key', 'bank-eng-1', '--json']);
    expect(owner.exitCode).toBe(0);
    expect(owner.json().replayed).toBe(false);
  });

  it('gives credits back to org without reading the pool balance', async () => {
    const response = await server.request('POST', '/v1/transfers', { token: operator, body: { amount: '0.001', to: 'ORG', dryRun: true } });
    expect(response.status).toBe(200);
    expect(response.body.toBalanceMillicredits).toBeNull();
    expect(typeof response.body.fromBalanceMillicredits).toBe('number');
  });

  it('refuses an existing and a missing department, user, purchase and limit alike', async () => {
    const path = (name: string) => `/v1/commands/${name.replace(/ /g, '/')}`;
    const pairs: [string, object, object][] = [
      ['balance', { args: ['Engineering'] }, { args: ['Nowhere'] }],
      ['check', { options: { user: 'ada@example.com' } }, { options: { user: 'nobody@example.com' } }],
      ['purchases settle', { args: ['1'] }, { args: ['999'] }],
      ['limits remove', { args: ['1'] }, { args: ['999'] }],
    ];
    await ledger.ok(['limits', 'set', '--dept', 'Engineering', '--daily', '50']);
    for (const [command, existing, missing] of pairs) {
      const one = await server.request('POST', path(command), { token: operator, body: existing });
      const two = await server.request('POST', path(command), { token: operator, body: missing });
      expect([command, one.status, two.status]).toEqual([command, 403, 403]);
      expect(one.body.error.message).not.toContain('Engineering (');
      expect(one.text).not.toMatch(/credited to|\(Engineering\)/);
    }
  });

  it("shows a moved-in user's history without the old department's legs", async () => {
    await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--input-tokens', '5000']);
    await ledger.ok(['user', 'move', 'ada@example.com', '--dept', 'Marketing']);
    const response = await server.request('POST', '/v1/commands/history', { token: reader, body: { options: { user: 'ada@example.com' } } });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('Engineering');
  });

  it("names no other department in a statement's transfers", async () => {
    const response = await server.request('POST', '/v1/commands/statement', { token: reader, body: { options: { format: 'json', month: monthNow() } } });
    expect(response.status).toBe(200);
    const transfers = response.body.data.transfers as { counterparty: string }[];
    expect(transfers.length).toBeGreaterThan(0);
    expect(response.text).not.toContain('Engineering');
  });

  it('hides the SMTP password from every token but an unbound admin', async () => {
    const response = await server.request('POST', '/v1/commands/org/show', { token: reader, body: {} });
    expect(response.status).toBe(200);
    expect(response.text).not.toContain('S3cretPass');
    expect(response.body.data.organisation.smtpUrl).toBe('smtp://mailer:***@127.0.0.1:2525');
    const local = await ledger.ok(['org', 'show', '--json']);
    expect(local.json().organisation.smtpUrl).toContain('S3cretPass');
  });

  it("prints an invoice for its own department's purchase", async () => {
    const purchases = await server.request('GET', '/v1/purchases', { token: reader });
    const own = (purchases.body.purchases as { purchaseId?: number; id?: number; account: string }[]).find((row) => row.account === 'Marketing');
    expect(own).toBeDefined();
    const id = String(own!.id ?? own!.purchaseId);
    const response = await server.request('POST', '/v1/commands/invoice', { token: operator, body: { args: [id], options: { output: 'inv.pdf' } } });
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body.file.base64, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('answers a broken command path as an unknown command (400), never 500', async () => {
    for (const path of ['/v1/commands/%25', '/v1/commands/balance%25zz']) {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_COMMAND');
    }
  });
});

function monthNow(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
}
