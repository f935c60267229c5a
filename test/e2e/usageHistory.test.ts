import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, removeDir, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';
import { parseCsv } from '../helpers/readBack.js';

const SEED = ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--input-tokens', '523', '--output-tokens', '1247', '--tool-calls', '2'];

type Item = {
  id: number;
  eventId: string | null;
  user: string;
  department: string;
  model: string;
  feature: string;
  costMillicredits: number;
  occurredAt: string;
};
type Page = { events: Item[]; total: number; more: number; nextCursor: string | null };

/** A JavaScript heap too small for 50,000 events held at once (see the export test), ample for one page of them. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=32' };
/**
 * Events of the export test: 50,000 on a local file, where the small heap proves the export
 * streams; fewer through sqld, where the same pages arrive over the network (and time is dearer).
 */
const BULK = TARGET === 'local' ? 50_000 : 10_000;
/** Events of the JSON export (of don's, a fifth of BULK): more than one page of 2,000 on a local file. */
const JSON_ITEMS = Math.min(2500, BULK / 5);

describe(`usage list and usage show on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let dir: string;
  let seedOutput: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-usage-history-'));
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Marketing']);
    seedOutput = (await ledger.ok([...SEED, '--at', '2024-03-15T14:23:00+01:00', '--event-id', 'seed-1'])).stdout;
    const more = [
      [
        '--user',
        'ada@example.com',
        '--model',
        'gpt-4o-mini',
        '--feature',
        'summarize',
        '--input-tokens',
        '900',
        '--event-id',
        'e-2',
        '--at',
        '2026-11-02T09:00:00Z',
      ],
      [
        '--user',
        'don@example.com',
        '--model',
        'gpt-4o-mini',
        '--input-tokens',
        '700',
        '--output-tokens',
        '80',
        '--event-id',
        'e-3',
        '--at',
        '2026-11-03T09:00:00Z',
      ],
      // Posted without an event id: found by the ledger's own number.
      ['--user', 'ada@example.com', '--model', 'gpt-4o', '--feature', 'workflow', '--db-access', '--input-tokens', '1000', '--at', '2026-11-04T09:00:00Z'],
      ['--user', 'ada@example.com', '--model', 'gpt-4o', '--output-tokens', '100', '--event-id', 'e,"5"', '--at', '2026-11-05T09:00:00Z'],
    ];
    for (const args of more) await ledger.ok(['usage', 'record', ...args]);
  });

  afterAll(async () => {
    await ledger?.close();
    if (dir) removeDir(dir);
  });

  const list = async (args: string[]): Promise<Page> => (await ledger.ok(['usage', 'list', '--json', ...args])).json<Page>();

  it("shows a stored event's breakdown exactly as `usage record` printed it", async () => {
    const [show, jsonRun, workflow, missing] = await Promise.all([
      ledger.ok(['usage', 'show', 'seed-1']),
      ledger.ok(['usage', 'show', 'seed-1', '--json']),
      list(['--feature', 'workflow']),
      ledger.run(['usage', 'show', 'no-such-event', '--json']),
    ]);
    const block = seedOutput.split('\n').slice(0, 5);
    expect(block[0]).toBe('Chat with GPT-4o (15.03.2024, 14:23)');
    expect(show.stdout.split('\n').slice(0, 5)).toEqual(block);
    expect(show.stdout).toContain('of ada@example.com, Engineering');

    const json = jsonRun.json();
    expect(json).toMatchObject({ eventId: 'seed-1', user: 'ada@example.com', costMillicredits: 8000, repriced: true });
    expect(json.priced.lines.map((line: { millicredits: number }) => line.millicredits)).toEqual([2100, 4900, 1000]);

    // An event without an id is shown by its number, the workflow's surcharge line included.
    const numbered = workflow.events[0]!;
    expect(numbered.eventId).toBeNull();
    const byNumber = await ledger.ok(['usage', 'show', `#${numbered.id}`]);
    expect(byNumber.stdout.split('\n')[0]).toBe('Workflow with GPT-4o (04.11.2026, 10:00)');
    expect(byNumber.stdout).toContain('- Database access surcharge (+50%): +50% (');
    expect(missing.exitCode).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('EVENT_NOT_FOUND');
  });

  it('lists events newest posted first with their cost, filtered by user, department, model, feature and event time', async () => {
    const [all, don, engineering, mini, summarize, window, old, table, unknown] = await Promise.all([
      list([]),
      list(['--user', 'DON@example.com']),
      list(['--dept', 'engineering']),
      list(['--model', 'gpt-4o-mini']),
      list(['--feature', 'summarize']),
      list(['--since', '2026-11-03', '--until', '2026-11-04']),
      list(['--until', '2024-12-31']),
      ledger.ok(['usage', 'list', '--limit', '2']),
      ledger.run(['usage', 'list', '--user', 'nobody@example.com', '--json']),
    ]);
    expect(all.events.map((item) => item.eventId)).toEqual(['e,"5"', null, 'e-3', 'e-2', 'seed-1']);
    expect(all).toMatchObject({ total: 5, more: 0, nextCursor: null });
    expect(all.events[4]).toMatchObject({ user: 'ada@example.com', department: 'Engineering', model: 'gpt-4o', costMillicredits: 8000 });

    expect(don.events.map((item) => item.eventId)).toEqual(['e-3']);
    expect(engineering.total).toBe(4);
    expect(mini.events.map((item) => item.eventId)).toEqual(['e-3', 'e-2']);
    expect(summarize.events.map((item) => item.eventId)).toEqual(['e-2']);
    expect(window.events.map((item) => item.eventId)).toEqual([null, 'e-3']);
    expect(old.events.map((item) => item.eventId)).toEqual(['seed-1']);

    expect(table.stdout).toContain('e,"5"');
    expect(table.stdout).toMatch(/2 of 5 shown; --limit or --after \S+ for more/);
    expect(unknown.exitCode).toBe(4);
  });

  it('pages with an opaque cursor that stays good while events are posted', async () => {
    const first = await list(['--limit', '2']);
    expect(first).toMatchObject({ total: 5, more: 3 });
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    // An event posted between two pages is newer than the cursor: the next page goes on where the first stopped.
    await ledger.ok([
      'usage',
      'record',
      '--user',
      'don@example.com',
      '--model',
      'gpt-4o-mini',
      '--input-tokens',
      '10',
      '--event-id',
      'between',
      '--at',
      '2026-11-10T00:00:00Z',
    ]);
    const second = await list(['--limit', '2', '--after', first.nextCursor!]);
    const third = await list(['--limit', '2', '--after', second.nextCursor!]);
    expect(third).toMatchObject({ more: 0, nextCursor: null });
    const paged = [...first.events, ...second.events, ...third.events].map((item) => item.eventId);
    expect(paged).toEqual(['e,"5"', null, 'e-3', 'e-2', 'seed-1']);
    // The same cursor gives the same page again.
    expect((await list(['--limit', '2', '--after', first.nextCursor!])).events).toEqual(second.events);

    const bad = await ledger.run(['usage', 'list', '--after', 'not-a-cursor', '--json']);
    expect(bad.exitCode).toBe(2);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'INVALID_VALUE' });
    expect(JSON.parse(bad.stderr).error.message).toContain('--after');
  });

  it(`exports ${BULK.toLocaleString('en-US')} events as CSV and JSON, streaming in bounded memory`, async () => {
    const lines: string[] = [];
    for (let index = 0; index < BULK; index += 1) {
      const user = index % 5 === 0 ? 'don@example.com' : 'ada@example.com';
      lines.push(JSON.stringify({ eventId: `bulk-${index}`, user, model: 'gpt-4o-mini', inputTokens: 10 + (index % 7), at: '2026-11-20T10:00:00Z' }));
    }
    writeFileSync(join(dir, 'bulk.jsonl'), `${lines.join('\n')}\n`);
    await ledger.ok(['usage', 'import', join(dir, 'bulk.jsonl'), '--quiet']);
    const total = (await list(['--limit', '1'])).total;
    expect(total).toBe(BULK + 6);

    // Holding the list does not fit the small heap; the export, a page at a time, does.
    const csvPath = join(dir, 'events.csv');
    const [held, written] = await Promise.all([
      TARGET === 'local' ? ledger.run(['usage', 'list', '--limit', '50000', '--json'], { env: SMALL_HEAP }) : undefined,
      ledger.ok(['usage', 'list', '--output', csvPath, '--json'], { env: SMALL_HEAP }),
    ]);
    if (held !== undefined) {
      expect(held.exitCode).not.toBe(0);
      expect(held.stderr).toMatch(/heap out of memory/i);
    }
    expect(written.json()).toMatchObject({ path: csvPath, format: 'csv', rows: total });

    const rows = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(rows[0]).toEqual([
      'id',
      'event_id',
      'occurred_at',
      'user',
      'department',
      'model',
      'tier',
      'feature',
      'input_tokens',
      'output_tokens',
      'tool_calls',
      'images',
      'image_size',
      'db_access',
      'credits',
      'drawn_from_org_credits',
      'transaction_id',
      'reversed_by_transaction',
      'tags',
    ]);
    expect(rows).toHaveLength(total + 1);
    const ids = rows.slice(1).map((row) => Number(row[0]));
    expect(new Set(ids).size).toBe(total);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(rows.find((row) => row[1] === 'e,"5"')?.[3]).toBe('ada@example.com');
    const bulk = rows.filter((row) => row[1]!.startsWith('bulk-'));
    expect(bulk).toHaveLength(BULK);
    const expectedMillicredits = lines.reduce((sum, line) => sum + Math.ceil((JSON.parse(line).inputTokens * 600) / 1000), 0);
    expect(bulk.reduce((sum, row) => sum + Math.round(Number(row[14]) * 1000), 0)).toBe(expectedMillicredits);

    // JSON to standard output, filtered: a JSON array of the same items as the list.
    const json = await ledger.ok(['usage', 'list', '--format', 'json', '--user', 'don@example.com', '--since', '2026-11-20', '--limit', String(JSON_ITEMS)], {
      env: SMALL_HEAP,
    });
    const items = JSON.parse(json.stdout) as Item[];
    expect(items).toHaveLength(JSON_ITEMS);
    expect(items.every((item) => item.user === 'don@example.com' && item.department === 'Marketing')).toBe(true);

    expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
  });

  describe('through credits serve', () => {
    let server: ApiServer;
    let marketing: string;
    beforeAll(async () => {
      marketing = (await createToken(ledger, ['--role', 'reader', '--dept', 'Marketing'])).token;
      server = await startServer(ledger);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("shows a department-bound token only its department's events", async () => {
      const page = (await server.remote(marketing, ['usage', 'list', '--json', '--limit', '5'])).json<Page>();
      expect(page.total).toBe(BULK / 5 + 2);
      expect(page.events.every((item) => item.department === 'Marketing')).toBe(true);
      expect((await server.remote(marketing, ['usage', 'show', 'e-3'])).stdout.split('\n')[0]).toBe('Chat with GPT-4o mini (03.11.2026, 10:00)');

      const other = await server.remote(marketing, ['usage', 'show', 'seed-1', '--json']);
      expect(other.exitCode).toBe(8);
      expect(JSON.parse(other.stderr).error.code).toBe('FORBIDDEN');
      expect((await server.remote(marketing, ['usage', 'list', '--dept', 'Engineering', '--json'])).exitCode).toBe(8);
      expect((await server.remote(marketing, ['usage', 'list', '--user', 'ada@example.com', '--json'])).exitCode).toBe(8);

      // The export comes back through the server and is written here.
      const exported = join(dir, 'marketing.csv');
      const exportedRun = await server.remote(marketing, [
        'usage',
        'list',
        '--format',
        'csv',
        '--since',
        '2026-11-01',
        '--until',
        '2026-11-15',
        '--output',
        exported,
      ]);
      expect(exportedRun.exitCode, exportedRun.stderr).toBe(0);
      const rows = parseCsv(readFileSync(exported, 'utf8'));
      expect(rows.slice(1).map((row) => [row[1], row[4]])).toEqual([
        ['between', 'Marketing'],
        ['e-3', 'Marketing'],
      ]);
    });
  });
});
