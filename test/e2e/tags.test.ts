import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

/**
 * Tags on usage events: given by `usage record --tag`, import lines (JSON and CSV) and the API,
 * checked (bad ones exit 2 and write nothing), compared on a retry, shown by `usage list/show`,
 * grouped by `report --by tag:KEY` (which foots with `--by dept`, and keeps a department token's
 * scope), and covered by `verify`. One ledger for the whole file.
 */

type ReportJson = {
  rows: { key: string | null; events: number; millicredits: number; valueCents: number }[];
  totals: { events: number; millicredits: number; valueCents: number };
};
type EventJson = { eventId: string | null; department: string; costMillicredits: number; tags: Record<string, string> };

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** What a tag report must show, worked out from the events themselves: per value, then the events without the tag (key null). */
function expectedRows(events: EventJson[], key: string): Map<string | null, { events: number; millicredits: number }> {
  const rows = new Map<string | null, { events: number; millicredits: number }>();
  for (const event of events) {
    const value = event.tags[key] ?? null;
    const row = rows.get(value) ?? { events: 0, millicredits: 0 };
    rows.set(value, { events: row.events + 1, millicredits: row.millicredits + event.costMillicredits });
  }
  return rows;
}

describe(`usage tags on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let server: ApiServer;
  let writer: string;
  let marketingReader: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Marketing']);
    writer = (await createToken(ledger, ['--role', 'usage-writer', '--name', 'platform'])).token;
    marketingReader = (await createToken(ledger, ['--role', 'reader', '--dept', 'Marketing', '--name', 'mkt'])).token;
    server = await startServer(ledger);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('takes tags from --tag, import lines and the API; a retry compares them; bad tags exit 2 and write nothing', async () => {
    const record = (event: string, tags: string[]) =>
      ledger.run(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--input-tokens', '1000', '--event-id', event, ...tags, '--json']);
    const first = await record('r1', ['--tag', 'Project=apollo', '--tag', 'team=ml']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json().tags).toEqual({ project: 'apollo', team: 'ml' });
    // The same tags in another order and case are the same event; other tags are another event under the same id.
    const again = await record('r1', ['--tag', 'team=ml', '--tag', 'PROJECT=apollo']);
    expect([again.exitCode, again.json().status]).toEqual([0, 'duplicate']);
    const conflict = await record('r1', ['--tag', 'project=hermes']);
    expect([conflict.exitCode, JSON.parse(conflict.stderr).error.code]).toEqual([5, 'IDEMPOTENCY_CONFLICT']);
    // Two of the refusals (the unit tests have the rest): a bad key, and more than 10 tags.
    for (const bad of [['--tag', 'cost center=x'], Array.from({ length: 11 }, (_, i) => `--tag=k${i}=v`)]) {
      const refused = await record('r-bad', bad);
      expect(refused.exitCode, bad.join(' ')).toBe(2);
      expect(JSON.parse(refused.stderr).error).toMatchObject({ code: 'INVALID_VALUE', message: expect.stringContaining('--tag') });
    }

    const jsonl = [
      { eventId: 'j1', user: 'don@example.com', model: 'gpt-4o', inputTokens: 2000, tags: { project: 'hermes' } },
      { eventId: 'j2', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 3000 },
    ].map((line) => JSON.stringify(line));
    // A tag given twice inside `tags` is a malformed line, like a field given twice.
    jsonl.push('{"eventId":"j3","user":"don@example.com","model":"gpt-4o","inputTokens":1,"tags":{"project":"a","project":"b"}}');
    const imported = await ledger.run(['usage', 'import', '-', '--format', 'jsonl', '--json'], { input: `${jsonl.join('\n')}\n` });
    expect([imported.exitCode, imported.json().accepted, imported.json().problems[0].line]).toEqual([2, 2, 3]);
    const csv = 'eventId,user,model,inputTokens,tags\nc1,don@example.com,gpt-4o,4000,project=hermes;team=web\nc2,ada@example.com,gpt-4o,5000,\n';
    const fromCsv = await ledger.run(['usage', 'import', '-', '--format', 'csv', '--json'], { input: csv });
    expect([fromCsv.exitCode, fromCsv.json().accepted], fromCsv.stderr).toEqual([0, 2]);

    const event = { eventId: 'a1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 6000, tags: { project: 'apollo' } };
    const posted = await server.request('POST', '/v1/usage', { token: writer, body: event });
    expect([posted.status, posted.body.tags]).toEqual([201, { project: 'apollo' }]);
    const empty = await server.request('POST', '/v1/usage', { token: writer, body: { ...event, eventId: 'a2', tags: { project: ' ' } } });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'INVALID_VALUE']);
    const batch = await server.request('POST', '/v1/usage/batch', {
      token: writer,
      body: { events: [{ eventId: 'b1', user: 'don@example.com', model: 'gpt-4o', inputTokens: 7000, tags: 'project=zeus' }] },
    });
    expect([batch.status, batch.body.accepted]).toEqual([200, 1]);

    const listed = (await ledger.ok(['usage', 'list', '--json'])).json<{ events: EventJson[] }>().events;
    // Refused and malformed events left nothing behind.
    expect(listed.map((item) => item.eventId).sort()).toEqual(['a1', 'b1', 'c1', 'c2', 'j1', 'j2', 'r1']);
    expect(listed.find((item) => item.eventId === 'c1')?.tags).toEqual({ project: 'hermes', team: 'web' });
    expect(listed.find((item) => item.eventId === 'c2')?.tags).toEqual({});
    const exported = (await ledger.ok(['usage', 'list', '--format', 'csv'])).stdout;
    expect(exported.split('\n')[0]).toMatch(/,tags$/);
    expect(exported).toContain(',project=hermes;team=web\n');
    expect((await ledger.ok(['usage', 'show', 'r1'])).stdout).toContain('(tags project=apollo;team=ml)');
  });

  it('report --by tag:KEY groups by the value, untagged on a row of its own, foots with --by dept, keeps a token to its department; verify passes', async () => {
    const events = (await ledger.ok(['usage', 'list', '--json'])).json<{ events: EventJson[] }>().events;
    const report = (await ledger.ok(['report', '--by', 'tag:Project', '--json'])).json<ReportJson>();
    const byDept = (await ledger.ok(['report', '--by', 'dept', '--json'])).json<ReportJson>();
    const expected = expectedRows(events, 'project');
    expect(new Map(report.rows.map((row) => [row.key, { events: row.events, millicredits: row.millicredits }]))).toEqual(expected);
    expect(report.rows.at(-1)?.key).toBeNull();
    expect(report.totals).toMatchObject({ events: sum(report.rows.map((row) => row.events)), millicredits: sum(report.rows.map((row) => row.millicredits)) });
    expect(sum(report.rows.map((row) => row.valueCents))).toBe(report.totals.valueCents);
    expect(report.totals).toEqual(byDept.totals);
    const csv = (await ledger.ok(['report', '--by', 'tag:project', '--format', 'csv'])).stdout;
    expect(csv.split('\n')[0]).toBe('tag_project,events,credits,euros,share_percent');

    const scoped = await server.request('GET', '/v1/report?by=tag:project', { token: marketingReader });
    expect(scoped.status, scoped.text).toBe(200);
    const marketing = expectedRows(
      events.filter((event) => event.department === 'Marketing'),
      'project',
    );
    expect(new Map((scoped.body as ReportJson).rows.map((row) => [row.key, { events: row.events, millicredits: row.millicredits }]))).toEqual(marketing);

    const badBy = await ledger.run(['report', '--by', 'tag:no such key']);
    expect([badBy.exitCode, badBy.stderr]).toEqual([2, expect.stringContaining('--by tag:KEY')]);
    const verify = await ledger.run(['verify', '--json']);
    expect([verify.exitCode, verify.json().ok], verify.stdout).toEqual([0, true]);
  });
});
