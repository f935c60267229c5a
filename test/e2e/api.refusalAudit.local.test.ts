import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// A refused request leaves an audit row of bounded size, whatever it sends: a token that may not
// do something must not be able to fill the server's disk by asking for it.

const MEGABYTE = 1024 * 1024;
const BODY_CHARS = 5 * MEGABYTE;
const REQUESTS = 100;
const ROW_BOUND_BYTES = 4096;

type Summary = { args: number; options: string[]; optionCount: number; values?: Record<string, unknown>; bytes: number; sha256: string };
type AuditRow = { actor: string; command: string; outcome: string; args: { refused: string; token: number; role: string; request: Summary } };

/** The ledger's size on disk: the database and its write-ahead log. */
function ledgerBytes(location: string): number {
  return [location, `${location}-wal`].reduce((sum, path) => sum + (existsSync(path) ? statSync(path).size : 0), 0);
}

/**
 * Four ways to send ~5 MB that a `ci` token may not send, each request's content distinct. The
 * bodies are JSON text joined around one shared filler, so that the test spends its time sending.
 */
function hugeRequests(): (index: number) => { path: string; rawBody: string } {
  const filler = 'x'.repeat(BODY_CHARS);
  // Many long option names that JSON has to escape: the row still fits, cut.
  const manyNames = JSON.stringify(
    Object.fromEntries(Array.from({ length: 2000 }, (_, name) => [`\u0001${String(name).padStart(4, '0')}${'\u0002'.repeat(60)}`, filler.slice(0, 2500)])),
  );
  return (index) => {
    switch (index % 4) {
      case 0:
        return { path: '/v1/usage/batch', rawBody: `{"events":[{"eventId":"big-${index}","user":"ada@example.com","model":"gpt-4o","feature":"${filler}"}]}` };
      case 1:
        return { path: '/v1/usage', rawBody: `{"eventId":"${index}-${filler}","user":"ada@example.com","model":"gpt-4o","inputTokens":10}` };
      case 2:
        // A long webhook URL and a secret: neither may reach the audit log.
        return {
          path: '/v1/commands/notify/channel/add',
          rawBody: `{"args":["webhook","https://example.com/${index}-${filler}"],"options":{"secret":"hunter2-hunter2"}}`,
        };
      default:
        return { path: '/v1/commands/report', rawBody: `{"args":["${index}"],"options":${manyNames}}` };
    }
  };
}

describe('credits serve: audit rows of refused requests are bounded', () => {
  let ledger: Ledger;
  let server: ApiServer | undefined;
  let ci: { token: string; tokenId: number };

  beforeAll(async () => {
    ledger = await seededLedger();
    ci = await createToken(ledger, ['--role', 'ci', '--name', 'pipeline']);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('keeps 100 refused 5 MB requests under 1 MB of ledger, each a readable audit row', async () => {
    const before = ledgerBytes(ledger.location);
    server = await startServer(ledger);
    const hugeRequest = hugeRequests();
    const statuses: number[] = [];
    for (let index = 0; index < REQUESTS; index += 4) {
      const batch = [0, 1, 2, 3].map((offset) => hugeRequest(index + offset));
      const answers = await Promise.all(batch.map(({ path, rawBody }) => server!.request('POST', path, { token: ci.token, rawBody })));
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses).toEqual(Array(REQUESTS).fill(403));
    // Stopping the server closes the ledger, which folds the write-ahead log into the file.
    expect((await server.stop()).exitCode).toBe(0);
    server = undefined;
    expect(ledgerBytes(ledger.location) - before).toBeLessThan(MEGABYTE);

    const listing = await ledger.ok(['audit', '--json', '--limit', '1000']);
    expect(listing.stdout).not.toContain('hunter2');
    expect(listing.stdout).not.toContain('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    const refused = listing.json<{ entries: AuditRow[] }>().entries.filter((row) => row.outcome === 'forbidden');
    expect(refused).toHaveLength(REQUESTS);
    for (const row of refused) {
      const rowBytes = Buffer.byteLength(JSON.stringify(row.args)) + Buffer.byteLength(row.actor) + Buffer.byteLength(row.command);
      expect(rowBytes).toBeLessThanOrEqual(ROW_BOUND_BYTES);
      expect(row.args).toMatchObject({ token: ci.tokenId, role: 'ci', refused: expect.stringMatching(/role ci/) });
      expect(row.args.request.bytes).toBeGreaterThan(BODY_CHARS);
      expect(row.args.request.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(refused.map((row) => row.args.request.sha256)).size).toBe(REQUESTS);
    const commands = new Set(refused.map((row) => row.command));
    expect(commands).toEqual(new Set(['usage import', 'usage record', 'notify channel add', 'report']));
    const channel = refused.find((row) => row.command === 'notify channel add')!;
    expect(channel.args.request).toMatchObject({ args: 2, options: ['secret'], values: { secret: '***' } });
    const record = refused.find((row) => row.command === 'usage record')!;
    expect(record.args.request.values).toEqual({
      eventId: expect.stringMatching(/^\(\d+ chars\)$/),
      user: 'ada@example.com',
      model: 'gpt-4o',
      inputTokens: 10,
    });
    const batch = refused.find((row) => row.command === 'usage import')!;
    expect(batch.args.request).toMatchObject({ options: ['events'], values: { events: '(1 items)' } });
    const manyNames = refused.find((row) => row.command === 'report')!;
    expect(manyNames.args.request).toMatchObject({ args: 1, optionCount: 2000 });

    // The table a person reads: one short line per refusal, not megabytes.
    const table = await ledger.ok(['audit', '--limit', String(REQUESTS)]);
    expect(table.stdout.length).toBeLessThan(REQUESTS * 1000);
    expect(table.stdout).toMatch(/refused: token \d+ \(role ci\) may not run `report`; asked: 1 args, .*bytes, sha256 [0-9a-f]{12}/);
  });
});
