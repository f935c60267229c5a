import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/receivers.js';

/**
 * Soft limits (`limits set --soft`) through the built CLI: passing one never refuses a write, the
 * answer carries a warning, the owners hear of it once per limit and period, and `check` reports
 * it without failing. llama-3.1-groq charges 0.05 credits a tool call, so 20 tool calls are
 * exactly 1 credit. Monthly limits, so that a run across midnight does not move the periods.
 */
type LimitRow = { id: number; kind: string; amountMillicredits: number };

const LLAMA = ['--model', 'llama-3.1-groq'];
/** --tool-calls for a whole number of credits on llama-3.1-groq. */
const credits = (n: number): string[] => ['--tool-calls', String(n * 20)];

describe(`soft limits on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  let softId = 0;
  let hardId = 0;
  const json = async (args: string[]) => (await ledger.ok([...args, '--json'])).json();
  const spend = (amount: number) => json(['usage', 'record', '--user', 'ada@example.com', ...LLAMA, ...credits(amount)]);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ledger = await seededLedger();
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['notify', 'channel', 'add', 'webhook', receiver.url]);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  it('keeps a soft limit beside the hard one for the same user and period, and lists both with their kind', async () => {
    const hard = await json(['limits', 'set', '--user', 'ada@example.com', '--monthly', '20']);
    expect(hard).toMatchObject({ kind: 'hard', replaced: false, amountMillicredits: 20_000 });
    const soft = await json(['limits', 'set', '--user', 'ada@example.com', '--monthly', '10', '--soft']);
    expect(soft).toMatchObject({ kind: 'soft', replaced: false, amountMillicredits: 10_000 });
    expect(soft.limitId).not.toBe(hard.limitId);
    hardId = hard.limitId;
    softId = soft.limitId;
    // Set again, the soft limit is replaced; the hard one is untouched.
    const raised = await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--monthly', '12', '--soft']);
    expect(raised.stdout).toBe(`Soft limit ${soft.limitId} (replaced): warns when ada@example.com spends more than 12.0 credits per month; never refuses.`);

    const listed = (await json(['limits'])).limits as LimitRow[];
    expect(listed.map((row) => [row.id, row.kind, row.amountMillicredits])).toEqual([
      [hardId, 'hard', 20_000],
      [softId, 'soft', 12_000],
    ]);
    const table = (await ledger.ok(['limits'])).stdout;
    expect(table).toMatch(/Kind/);
    expect(table).toMatch(new RegExp(`${softId} │ soft │ ada@example\\.com`));
  });

  it('posts usage past the soft limit with a warning, holds and captures included, while the hard limit still refuses', async () => {
    expect((await spend(10)).warnings).toEqual([]);
    const past = await spend(3);
    expect(past.status).toBe('accepted');
    expect(past.warnings).toEqual([
      expect.objectContaining({
        limitId: softId,
        kind: 'soft',
        limit: 'monthly soft limit of ada@example.com',
        user: 'ada@example.com',
        period: 'month',
        periodKey: expect.stringMatching(/^\d{4}-\d{2}$/),
        amountMillicredits: 12_000,
        spentMillicredits: 13_000,
      }),
    ]);
    const text = await ledger.ok(['usage', 'record', '--user', 'ada@example.com', ...LLAMA, ...credits(1)]);
    expect(text.stdout).toMatch(
      new RegExp(
        `\\nwarning: monthly soft limit of ada@example\\.com \\(12\\.0 credits\\) passed: 14\\.0 credits spent in ${past.warnings[0].periodKey} \\(limit ${softId};`,
      ),
    );
    const refused = await ledger.run(['usage', 'record', '--user', 'ada@example.com', ...LLAMA, ...credits(7), '--json']);
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('LIMIT_EXCEEDED');

    const lines = ['i1', 'i2'].map((eventId) => JSON.stringify({ eventId, user: 'ada@example.com', model: 'llama-3.1-groq', toolCalls: 20 }));
    const imported = (await ledger.ok(['usage', 'import', '-', '--format', 'jsonl', '--json'], { input: `${lines.join('\n')}\n` })).json();
    expect(imported).toMatchObject({ accepted: 2, refused: 0 });
    expect(imported.warnings.map((warning: { limitId: number; spentMillicredits: number }) => [warning.limitId, warning.spentMillicredits])).toEqual([
      [softId, 16_000],
    ]);

    // A hold counts as spent while open; its capture counts the actual cost instead.
    const held = await json(['usage', 'hold', '--user', 'ada@example.com', ...LLAMA, '--max-credits', '2']);
    expect(held.warnings).toEqual([expect.objectContaining({ limitId: softId, spentMillicredits: 18_000 })]);
    const captured = await json(['usage', 'record', '--hold', String(held.holdId), ...credits(1)]);
    expect(captured.warnings).toEqual([expect.objectContaining({ limitId: softId, spentMillicredits: 17_000 })]);
  });

  it('notifies once per limit and period, with what was spent when it was passed', async () => {
    await ledger.ok(['notify', 'run']);
    const soft = receiver.requests.map((request) => request.json).filter((event) => event.type === 'limit.soft_exceeded');
    expect(soft).toHaveLength(1);
    expect(soft[0]!.data).toMatchObject({ limitId: softId, user: 'ada@example.com', period: 'month', amountMillicredits: 12_000, spentMillicredits: 13_000 });
    expect(soft[0]!.text).toContain('monthly soft limit of ada@example.com (12.0 credits) passed: 13.0 credits spent');
    expect(receiver.requests.some((request) => request.json.type === 'limit.reached')).toBe(false);
  });

  it('check reports soft limits passed as warnings and exits 0; removing one by its id ends the warning', async () => {
    const user = await ledger.run(['check', '--user', 'ada@example.com', '--json']);
    expect(user.exitCode).toBe(0);
    expect(user.json()).toMatchObject({ ok: true, millicredits: 3000, limitedBy: `monthly user limit ${hardId}` });
    expect(user.json().warnings.map((warning: { limitId: number }) => warning.limitId)).toEqual([softId]);

    const dept = await json(['limits', 'set', '--dept', 'Engineering', '--monthly', '5', '--soft']);
    const checked = await ledger.run(['check', '--dept', 'Engineering', '--min-credits', '900']);
    expect(checked.exitCode).toBe(0);
    expect(checked.stdout).toContain(`warning: monthly soft limit of Engineering (5.0 credits) passed: 17.0 credits spent`);

    const removed = await ledger.ok(['limits', 'remove', String(softId)]);
    expect(removed.stdout).toContain(`soft limit ${softId} removed`);
    const after = await json(['check', '--user', 'ada@example.com']);
    expect(after.warnings.map((warning: { limitId: number }) => warning.limitId)).toEqual([dept.limitId]);
    expect((await ledger.run(['verify'])).exitCode).toBe(0);
  });
});
