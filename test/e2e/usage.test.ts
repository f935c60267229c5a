import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, seededLedger, type Ledger } from '../helpers/cli.js';

const SEED = ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--input-tokens', '523', '--output-tokens', '1247', '--tool-calls', '2'];

describe(`usage on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger.close();
  });

  it("prints the seed's breakdown exactly and charges 8.0 credits", async () => {
    const before = await balanceOf(ledger, 'Engineering');
    const result = await ledger.ok([...SEED, '--at', '2024-03-15T14:23:00+01:00']);
    expect(result.stdout.split('\n').slice(0, 5)).toEqual([
      'Chat with GPT-4o (15.03.2024, 14:23)',
      '- Input tokens: 523 (2.1 credits)',
      '- Output tokens: 1,247 (4.9 credits)',
      '- Tool usage: 2 calls (1.0 credits)',
      '- Total: 8.0 credits',
    ]);
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - 8000);
  });

  it('prices images per image and adds 50% for a workflow with database access', async () => {
    const image = (
      await ledger.ok([
        'usage',
        'record',
        '--user',
        'ada@example.com',
        '--model',
        'gpt-4o',
        '--feature',
        'image',
        '--images',
        '2',
        '--image-size',
        'hd',
        '--json',
      ])
    ).json();
    expect(image.costMillicredits).toBe(100_000);
    const workflow = (
      await ledger.ok([
        'usage',
        'record',
        '--user',
        'ada@example.com',
        '--model',
        'gpt-4o-mini',
        '--feature',
        'workflow',
        '--db-access',
        '--input-tokens',
        '10000',
        '--json',
      ])
    ).json();
    const base = workflow.priced.lines
      .filter((line: { kind: string }) => line.kind !== 'surcharge')
      .reduce((sum: number, line: { millicredits: number }) => sum + line.millicredits, 0);
    expect(workflow.priced.lines.at(-1)).toMatchObject({ kind: 'surcharge', millicredits: Math.ceil(base / 2) });
    expect(workflow.costMillicredits).toBe(base + Math.ceil(base / 2));
    const wrong = await ledger.run(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--db-access', '--input-tokens', '10', '--json']);
    expect(wrong.exitCode).toBe(2);
    expect(JSON.parse(wrong.stderr).error.message).toContain('--db-access');
  });

  it('applies a rate change from its effective time on and never to past usage', async () => {
    const oldEvent = (await ledger.ok([...SEED, '--at', '2026-06-01T10:00:00Z', '--event-id', 'before-change', '--json'])).json();
    await ledger.ok(['rates', 'set', 'gpt-4o', '--input', '8.03', '--effective', '2026-07-01']);
    const newEvent = (await ledger.ok([...SEED, '--at', '2026-07-02T10:00:00Z', '--json'])).json();
    expect(oldEvent.costMillicredits).toBe(8000);
    expect(newEvent.priced.lines[0]).toMatchObject({ kind: 'input', millicredits: Math.ceil((523 * 8030) / 1000) });
    const replay = (await ledger.ok([...SEED, '--at', '2026-06-01T10:00:00Z', '--event-id', 'before-change', '--json'])).json();
    expect(replay).toMatchObject({ status: 'duplicate', costMillicredits: 8000, transactionId: oldEvent.transactionId });
    const rates = (await ledger.ok(['rates', '--at', '2026-06-15', '--json'])).json().rates;
    expect(rates.find((rate: { model: string }) => rate.model === 'gpt-4o').inputPer1kMillicredits).toBe(4015);
  });

  it('accepts an event id once and refuses it with other content (exit 5)', async () => {
    const args = ['usage', 'record', '--user', 'ada@example.com', '--model', 'claude-3-haiku', '--input-tokens', '1000', '--event-id', 'evt-1', '--json'];
    const first = (await ledger.ok(args)).json();
    const balance = await balanceOf(ledger, 'Engineering');
    const second = (await ledger.ok(args)).json();
    expect(second.status).toBe('duplicate');
    expect(second.transactionId).toBe(first.transactionId);
    expect(await balanceOf(ledger, 'Engineering')).toBe(balance);
    const conflict = await ledger.run([
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'claude-3-haiku',
      '--input-tokens',
      '1001',
      '--event-id',
      'evt-1',
      '--json',
    ]);
    expect(conflict.exitCode).toBe(5);
    expect(JSON.parse(conflict.stderr).error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('refuses an unknown model and an unknown user, writing nothing', async () => {
    const model = await ledger.run(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-9', '--input-tokens', '5', '--json']);
    expect(model.exitCode).toBe(4);
    expect(JSON.parse(model.stderr).error.code).toBe('MODEL_NOT_FOUND');
    const user = await ledger.run(['usage', 'record', '--user', 'nobody@example.com', '--model', 'gpt-4o', '--input-tokens', '5', '--json']);
    expect(user.exitCode).toBe(4);
    expect(JSON.parse(user.stderr).error.code).toBe('USER_NOT_FOUND');
  });

  it('verifies after usage, including the usage totals', async () => {
    expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true });
  });
});

describe(`limits on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger.close();
  });

  const spend = (millicredits: number, at: string, extra: string[] = []) =>
    // llama-3.1-groq costs 0.05 credits per tool call: 50 millicredits, so amounts are exact.
    ledger.run([
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'llama-3.1-groq',
      '--tool-calls',
      String(millicredits / 50),
      '--at',
      at,
      '--json',
      ...extra,
    ]);

  it('passes exactly at a daily user limit and refuses one millicredit over', async () => {
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '1']);
    expect((await spend(600, '2026-05-04T08:00:00Z')).exitCode).toBe(0);
    expect((await spend(400, '2026-05-04T09:00:00Z')).exitCode).toBe(0);
    const over = await ledger.run([
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'llama-3.1-groq',
      '--input-tokens',
      '1',
      '--at',
      '2026-05-04T10:00:00Z',
      '--json',
    ]);
    expect(over.exitCode).toBe(3);
    const error = JSON.parse(over.stderr).error;
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.message).toContain('daily limit of ada@example.com');
    expect(error.message).toContain('0.0 left');
    expect((await spend(50, '2026-05-05T08:00:00Z')).exitCode).toBe(0);
  });

  it('counts days in the organisation time zone: 22:30Z on 31 March is April in Berlin', async () => {
    await ledger.ok(['limits', 'set', '--user', 'don@example.com', '--monthly', '0.1']);
    await ledger.ok(['transfer', '10', '--from', 'org', '--to', 'Marketing']);
    const don = (at: string) =>
      ledger.run(['usage', 'record', '--user', 'don@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '2', '--at', at, '--json']);
    expect((await don('2026-03-31T21:30:00Z')).exitCode).toBe(0);
    expect((await don('2026-03-31T22:30:00Z')).exitCode).toBe(0);
    // 21:59:59Z on 30 April is 23:59:59 in Berlin: still April, whose limit is used up.
    expect((await don('2026-04-30T21:59:59Z')).exitCode).toBe(3);
    expect((await don('2026-04-30T22:00:00Z')).exitCode).toBe(0);
    const third = await don('2026-04-15T12:00:00Z');
    expect(third.exitCode).toBe(3);
    expect(JSON.parse(third.stderr).error.code).toBe('LIMIT_EXCEEDED');
  });

  it('handles the DST change days in Berlin as one calendar day each', async () => {
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '0.1']);
    // 29 March 2026 runs from 28 March 23:00Z to 29 March 22:00Z (23 hours).
    expect((await spend(100, '2026-03-28T23:00:00Z')).exitCode).toBe(0);
    expect((await spend(50, '2026-03-29T21:59:59Z')).exitCode).toBe(3);
    expect((await spend(100, '2026-03-29T22:00:00Z')).exitCode).toBe(0);
    // 25 October 2026 runs from 24 October 22:00Z to 25 October 23:00Z (25 hours).
    expect((await spend(100, '2026-10-24T22:00:00Z')).exitCode).toBe(0);
    expect((await spend(50, '2026-10-25T22:59:59Z')).exitCode).toBe(3);
    expect((await spend(100, '2026-10-25T23:00:00Z')).exitCode).toBe(0);
  });

  it('limits a model for a department, and lists used and left', async () => {
    await ledger.ok(['limits', 'set', '--dept', 'Engineering', '--model', 'gpt-4o', '--monthly', '10']);
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '9']);
    const at = '2026-09-10T10:00:00Z';
    expect((await ledger.run([...SEED, '--at', at])).exitCode).toBe(0);
    // The next day, so that only the department's monthly gpt-4o limit stands in the way.
    const second = await ledger.run([...SEED, '--at', '2026-09-11T10:00:00Z', '--json']);
    expect(second.exitCode).toBe(3);
    expect(JSON.parse(second.stderr).error.message).toContain('on gpt-4o');
    const cheap = await ledger.run(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o-mini', '--input-tokens', '2000', '--at', at]);
    expect(cheap.exitCode).toBe(3); // 8 + 1.2 credits passes ada's daily limit of 9 credits
    const { limits } = (await ledger.ok(['limits', '--json'])).json();
    expect(limits.map((row: { scope: string }) => row.scope).sort()).toEqual(['department', 'user', 'user']);
  });

  it('replaces a limit for the same target instead of adding a second, and removes it', async () => {
    const first = (await ledger.ok(['limits', 'set', '--org', '--monthly', '100000', '--json'])).json();
    const second = (await ledger.ok(['limits', 'set', '--org', '--monthly', '200000', '--json'])).json();
    expect(second).toMatchObject({ limitId: first.limitId, replaced: true });
    await ledger.ok(['limits', 'remove', String(first.limitId)]);
    const missing = await ledger.run(['limits', 'remove', String(first.limitId), '--json']);
    expect(missing.exitCode).toBe(4);
  });
});

describe(`paused at zero and overdraft on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('refuses usage when the department has no credits: AI features paused, nothing written', async () => {
    const result = await ledger.run([...SEED, '--json']);
    expect(result.exitCode).toBe(3);
    const error = JSON.parse(result.stderr).error;
    expect(error.code).toBe('INSUFFICIENT_CREDITS');
    expect(error.message).toContain('paused');
    expect((await ledger.ok(['history', '--kind', 'usage', '--json'])).json().transactions).toEqual([]);
  });

  it('spends exactly down to zero, then pauses', async () => {
    await ledger.ok(['transfer', '16', '--from', 'org', '--to', 'Engineering']);
    expect((await ledger.run(SEED)).exitCode).toBe(0);
    expect((await ledger.run(SEED)).exitCode).toBe(0);
    expect(await balanceOf(ledger, 'Engineering')).toBe(0);
    expect((await ledger.run(SEED)).exitCode).toBe(3);
  });

  it('draws a shortfall from org up to the overdraft maximum', async () => {
    await ledger.ok(['dept', 'set', 'Engineering', '--overdraft-from', 'org', '--overdraft-max', '10']);
    const orgBefore = await balanceOf(ledger, 'org');
    const drawn = (await ledger.ok([...SEED, '--json'])).json();
    expect(drawn.drawnFromOrgMillicredits).toBe(8000);
    expect(await balanceOf(ledger, 'org')).toBe(orgBefore - 8000);
    const over = await ledger.run([...SEED, '--json']);
    expect(over.exitCode).toBe(3);
    expect(await balanceOf(ledger, 'Engineering')).toBe(0);
    expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
  });
});

describe(`check for CI on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '20']);
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('exits 0 when enough is left and 3 with BUDGET_LOW when not', async () => {
    const ok = await ledger.run(['check', '--dept', 'Engineering', '--min-credits', '1000', '--json']);
    expect(ok.exitCode).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, millicredits: 1_000_000, credits: 1000 });
    const low = await ledger.run(['check', '--dept', 'Engineering', '--min-credits', '1000.001', '--json']);
    expect(low.exitCode).toBe(3);
    expect(low.json()).toMatchObject({ ok: false, millicredits: 1_000_000 });
  });

  it("takes the least of a user's department balance and limits", async () => {
    const result = await ledger.run(['check', '--user', 'ada@example.com', '--min-credits', '25', '--json']);
    expect(result.exitCode).toBe(3);
    expect(result.json()).toMatchObject({ ok: false, millicredits: 20_000 });
    expect(result.json().limitedBy).toContain('daily');
  });

  it("checks the percentage of this month's credits: for --org the organisation's, which allocating to a department does not lower", async () => {
    expect((await ledger.ok(['check', '--org', '--min-percent', '100', '--json'])).json()).toMatchObject({ ok: true, percentLeft: 100 });
    expect((await ledger.run(['check', '--org', '--min-percent', '100.1'])).exitCode).toBe(2);
  });

  it('tells real errors apart from a low budget', async () => {
    const missing = await ledger.run(['check', '--dept', 'Nope', '--json']);
    expect(missing.exitCode).toBe(4);
  });
});
