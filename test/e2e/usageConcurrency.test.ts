import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * Six processes post usage for one user at once. Every check (limit, balance) runs inside the
 * write transaction, so however the processes interleave, exactly as many events are accepted as
 * the limit or the department's credits allow, and the ledger holds exactly those.
 */

const WORKERS = 6;
const AT = '2026-06-10T10:00:00Z';
const DAY = '2026-06-10T12:00:00Z';

type Attempt = { eventId: string; result: RunResult };
type Race = { attempts: Attempt[]; balancesSeen: number[] };

describe(`concurrent usage record on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '20', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '5', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '8']);
    await ledger.ok(['limits', 'set', '--user', 'don@example.com', '--daily', '10']);
  });
  afterAll(async () => {
    await ledger?.close();
  });

  /** WORKERS loops at once, each posting `rounds` events of exactly 1 credit one after another, while the balance is watched. */
  async function race(user: string, department: string, prefix: string, rounds: number): Promise<Race> {
    const attempts: Attempt[] = [];
    const balancesSeen: number[] = [];
    let running = true;
    const watch = (async () => {
      while (running) balancesSeen.push(await balanceOf(ledger, department));
    })();
    await Promise.all(
      Array.from({ length: WORKERS }, async (_unused, worker) => {
        for (let round = 0; round < rounds; round += 1) {
          const eventId = `${prefix}-w${worker}-r${round}`;
          // llama-3.1-groq: 20 tool calls x 0.05 credits = exactly 1 credit.
          const result = await ledger.run([
            'usage',
            'record',
            '--user',
            user,
            '--model',
            'llama-3.1-groq',
            '--tool-calls',
            '20',
            '--at',
            AT,
            '--event-id',
            eventId,
            '--json',
          ]);
          attempts.push({ eventId, result });
        }
      }),
    );
    running = false;
    await watch;
    balancesSeen.push(await balanceOf(ledger, department));
    return { attempts, balancesSeen };
  }

  /** Checks every attempt ended as accepted or refused by `code`, and that the ledger holds exactly the accepted events. */
  async function checkOutcome(user: string, { attempts }: Race, code: string, allowed: number): Promise<Attempt[]> {
    for (const { eventId, result } of attempts) expect([0, 3], `${eventId} exited ${result.exitCode}: ${result.stderr}`).toContain(result.exitCode);
    const accepted = attempts.filter((attempt) => attempt.result.exitCode === 0);
    const refused = attempts.filter((attempt) => attempt.result.exitCode === 3);
    expect(accepted.length).toBeLessThanOrEqual(allowed);
    // Each refusal is the ledger rule at its edge, so the others got exactly what was allowed.
    for (const { result } of refused) expect(JSON.parse(result.stderr).error.code).toBe(code);
    expect(accepted.length).toBe(allowed);
    for (const { result } of accepted) expect(result.json()).toMatchObject({ status: 'accepted', costMillicredits: 1000 });

    // The usage transactions of this user are exactly those the accepted processes reported.
    const reported = accepted.map(({ result }) => result.json().transactionId as number).sort((a, b) => a - b);
    const logged = (await ledger.ok(['history', '--kind', 'usage', '--user', user, '--limit', '999999', '--json']))
      .json()
      .transactions.map((row: { id: number }) => row.id)
      .sort((a: number, b: number) => a - b);
    expect(logged).toEqual(reported);

    // Offered all attempts again, the ledger knows the accepted event ids and refuses the others again.
    const lines = attempts.map(({ eventId }) => JSON.stringify({ eventId, user, model: 'llama-3.1-groq', toolCalls: 20, at: AT })).join('\n');
    const replay = await ledger.run(['usage', 'import', '-', '--json'], { input: lines });
    expect(replay.exitCode).toBe(3);
    expect(JSON.parse(replay.stderr).error.code).toBe('EVENTS_REFUSED');
    const report = replay.json<{ accepted: number; duplicates: number; refused: number; problems: { eventId: string; code: string }[] }>();
    expect(report).toMatchObject({ accepted: 0, duplicates: accepted.length, refused: refused.length });
    expect(report.problems.map((problem) => problem.eventId).sort()).toEqual(refused.map((attempt) => attempt.eventId).sort());
    expect(new Set(report.problems.map((problem) => problem.code))).toEqual(new Set([code]));
    return accepted;
  }

  // Each race starts some 30 processes: room for a busy machine.
  it('six processes against one daily user limit: exactly the limit is spent, the rest is refused with LIMIT_EXCEEDED', { timeout: 120_000 }, async () => {
    const before = await balanceOf(ledger, 'Engineering'); // 20 credits; ada may spend 8 a day
    const outcome = await race('ada@example.com', 'Engineering', 'limit', 3);
    expect(outcome.attempts).toHaveLength(18);
    await checkOutcome('ada@example.com', outcome, 'LIMIT_EXCEEDED', 8);
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - 8000);
    expect(Math.min(...outcome.balancesSeen)).toBeGreaterThanOrEqual(before - 8000);
    const limits = (await ledger.ok(['limits', '--json'], { env: { CREDITS_NOW: DAY } })).json().limits;
    expect(limits.find((limit: { user: string | null }) => limit.user === 'ada@example.com')).toMatchObject({
      periodKey: '2026-06-10',
      usedMillicredits: 8000,
      leftMillicredits: 0,
    });
  });

  it('six processes against a small department balance: it reaches exactly zero and never goes below, the rest is refused with INSUFFICIENT_CREDITS', {
    timeout: 120_000,
  }, async () => {
    expect(await balanceOf(ledger, 'Marketing')).toBe(5000); // don may spend 10 a day, Marketing has 5
    const outcome = await race('don@example.com', 'Marketing', 'balance', 2);
    expect(outcome.attempts).toHaveLength(12);
    await checkOutcome('don@example.com', outcome, 'INSUFFICIENT_CREDITS', 5);
    expect(Math.min(...outcome.balancesSeen)).toBeGreaterThanOrEqual(0);
    expect(await balanceOf(ledger, 'Marketing')).toBe(0);
    const check = await ledger.run(['check', '--dept', 'Marketing', '--min-credits', '0.001', '--json']);
    expect(check.exitCode).toBe(3);
    expect(check.json()).toMatchObject({ ok: false, millicredits: 0 });
  });

  it('verifies afterwards', async () => {
    const result = await ledger.run(['verify', '--json']);
    expect(result.exitCode).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, problems: [] });
  });
});
