import { pdfText } from '../helpers/readBack.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';

type Event = { id: string; type: string; occurredAt: string; text: string; data: Record<string, unknown> };
type RunJson = { monthlyReport: string | null; delivered: number; retrying: number; failed: number };

/** The calendar month before now in Berlin (the ledger's default time zone): its key, name and an instant in it. */
function previousMonth(): { key: string; name: string; midMonth: string } {
  const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' })
    .format(Date.now())
    .split('-')
    .map(Number) as [number, number];
  const previous = new Date(Date.UTC(year, month - 2, 15, 10));
  return {
    key: previous.toISOString().slice(0, 7),
    name: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(previous),
    midMonth: previous.toISOString().replace('.000Z', 'Z'),
  };
}

function readEvents(file: string): Event[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
}

/**
 * A ledger whose first transactions are in the previous month (CREDITS_NOW moves the clock back
 * for them), with 8 credits used then and 2 this month, and a command channel that appends every
 * event to a file.
 */
async function ledgerFromLastMonth(eventsFile: string, env: Record<string, string>): Promise<Ledger> {
  const past = { env: { ...env, CREDITS_NOW: previousMonth().midMonth } };
  const ledger = await freshLedger();
  await ledger.ok(['init', '--org', 'Report GmbH'], past);
  await ledger.ok(['dept', 'add', 'Engineering'], past);
  await ledger.ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering'], past);
  await ledger.ok(['buy', 'basic', '--method', 'card'], past);
  await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Engineering'], past);
  await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '160', '--quiet'], past);
  await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '40', '--quiet'], { env });
  await ledger.ok(['notify', 'channel', 'add', 'command', `cat >> '${eventsFile}'`], { env });
  return ledger;
}

describe(`the monthly report from notify run on a ${TARGET} ledger`, () => {
  const month = previousMonth();
  let dir: string;
  let ledger: Ledger;
  /** Where a remote ledger's reports go by default: $XDG_DATA_HOME/credits/reports. */
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-monthly-'));
    env = { XDG_DATA_HOME: join(dir, 'data') };
    ledger = await ledgerFromLastMonth(join(dir, 'events.jsonl'), env);
  });
  afterAll(async () => {
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes last month’s statement PDF once and delivers one report.monthly event with its path', async () => {
    const expected =
      TARGET === 'local'
        ? join(ledger.location, '..', 'reports', `statement-${month.key}.pdf`)
        : join(dir, 'data', 'credits', 'reports', `statement-${month.key}.pdf`);
    const run = await ledger.ok(['notify', 'run', '--json'], { env });
    expect(run.json<RunJson>()).toMatchObject({ monthlyReport: expected, delivered: 1, retrying: 0, failed: 0 });
    expect(readFileSync(expected).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(expected);
    expect(text).toContain(`Credits statement`);
    expect(text).toContain(month.name);
    expect(text).toContain('Report GmbH');
    expect(text).toContain('ada@example.com');

    const events = readEvents(join(dir, 'events.jsonl'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'report.monthly',
      data: { monthKey: month.key, path: expected, usageMillicredits: 8000, usageEvents: 1, openingMillicredits: 0, closingMillicredits: 992_000 },
    });
    expect(events[0]!.text).toContain(`The usage report for ${month.key} is ready`);
    expect(events[0]!.text).toContain(expected);

    // The next cron run neither writes nor sends it again.
    const second = await ledger.ok(['notify', 'run', '--json'], { env });
    expect(second.json<RunJson>()).toMatchObject({ monthlyReport: null, delivered: 0 });
    const quiet = await ledger.ok(['notify', 'run', '--quiet'], { env });
    expect(quiet.stdout).toBe('');
    expect(readEvents(join(dir, 'events.jsonl'))).toHaveLength(1);
  });

  it('writes into --reports-dir when given', async () => {
    const eventsFile = join(dir, 'other-events.jsonl');
    const other = await freshLedger();
    try {
      const past = { env: { ...env, CREDITS_NOW: month.midMonth } };
      await other.ok(['init', '--org', 'Other GmbH'], past);
      await other.ok(['buy', 'basic', '--method', 'card'], past);
      await other.ok(['notify', 'channel', 'add', 'command', `cat >> '${eventsFile}'`], { env });
      const reportsDir = join(dir, 'chosen', 'reports');
      const run = await other.ok(['notify', 'run', '--reports-dir', reportsDir, '--json'], { env });
      expect(run.json<RunJson>()).toMatchObject({ monthlyReport: join(reportsDir, `statement-${month.key}.pdf`), delivered: 1 });
      expect(readdirSync(reportsDir)).toEqual([`statement-${month.key}.pdf`]);
      expect(readEvents(eventsFile).map((event) => [event.type, event.data.path, event.data.closingMillicredits])).toEqual([
        ['report.monthly', join(reportsDir, `statement-${month.key}.pdf`), 1_000_000],
      ]);
      // Nothing went to the default place beside a local ledger.
      if (TARGET === 'local') expect(existsSync(join(other.location, '..', 'reports'))).toBe(false);
    } finally {
      await other.close();
    }
  });
});
