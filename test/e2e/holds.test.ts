import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';

/**
 * Two-phase usage (`usage hold`, `usage record --hold`, `usage release`) through the built CLI:
 * what a hold keeps is spent for everyone else until it is captured, released or expired, and
 * the ledger verifies after every scenario (retries, limits, overdraft and scopes through the API
 * are in holdsApi.test.ts, many processes at once in holdsConcurrency.test.ts). llama-3.1-groq
 * charges 0.05 credits a tool call, so 20 tool calls are exactly 1 credit.
 */
type Account = { account: string; millicredits: number; heldMillicredits: number; availableMillicredits: number };
type Refusal = { exitCode: number; code: string; message: string };

const LLAMA = ['--model', 'llama-3.1-groq'];
/** --tool-calls for a whole number of credits on llama-3.1-groq. */
const credits = (n: number): string[] => ['--tool-calls', String(n * 20)];

describe(`holds on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const json = async (args: string[], env: Record<string, string> = {}) => (await ledger.ok([...args, '--json'], { env })).json();
  const refused = async (args: string[], env: Record<string, string> = {}): Promise<Refusal> => {
    const result = await ledger.run([...args, '--json'], { env });
    expect(result.exitCode, `${args.join(' ')} should be refused: ${result.stdout}`).not.toBe(0);
    const { code, message } = JSON.parse(result.stderr).error;
    return { exitCode: result.exitCode, code, message };
  };
  const account = async (name: string, env: Record<string, string> = {}): Promise<Account> =>
    (await json(['balance'], env)).accounts.find((row: Account) => row.account === name);
  const hold = (user: string, max: number, extra: string[] = [], env: Record<string, string> = {}) =>
    json(['usage', 'hold', '--user', user, ...LLAMA, '--max-credits', String(max), ...extra], env);
  const capture = (holdId: number, spent: number, extra: string[] = [], env: Record<string, string> = {}) =>
    json(['usage', 'record', '--hold', String(holdId), ...credits(spent), ...extra], env);
  const verified = async (): Promise<void> => {
    const result = await ledger.run(['verify', '--json']);
    expect(result.json().problems).toEqual([]);
    expect(result.exitCode).toBe(0);
  };

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['user', 'add', 'bob@example.com', '--dept', 'Engineering']);
    await ledger.ok(['transfer', '20', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('keeps held credits from everyone else; the capture posts the actual cost and releases the rest', async () => {
    const held = await hold('ada@example.com', 15);
    expect(held).toMatchObject({ status: 'open', duplicate: false, department: 'Engineering', maxMillicredits: 15_000, departmentAvailableMillicredits: 5000 });
    expect(await account('Engineering')).toMatchObject({ millicredits: 20_000, heldMillicredits: 15_000, availableMillicredits: 5000 });
    // Another user's usage, a transfer out and a budget check all see only what is not held.
    const usage = await refused(['usage', 'record', '--user', 'bob@example.com', ...LLAMA, ...credits(6)]);
    expect(usage).toMatchObject({ exitCode: 3, code: 'INSUFFICIENT_CREDITS' });
    expect(usage.message).toContain('15.0 of them held');
    expect(await refused(['transfer', '6', '--from', 'Engineering', '--to', 'Marketing'])).toMatchObject({ exitCode: 3, code: 'INSUFFICIENT_CREDITS' });
    expect((await ledger.run(['check', '--dept', 'Engineering', '--min-credits', '6'])).exitCode).toBe(3);

    const captured = await capture(held.holdId, 8);
    expect(captured).toMatchObject({ status: 'accepted', costMillicredits: 8000, eventId: `hold:${held.holdId}`, user: 'ada@example.com' });
    expect(captured.hold).toMatchObject({ holdId: held.holdId, status: 'captured', capturedMillicredits: 8000, releasedMillicredits: 7000 });
    expect(await account('Engineering')).toMatchObject({ millicredits: 12_000, heldMillicredits: 0, availableMillicredits: 12_000 });
    expect(await json(['usage', 'record', '--user', 'bob@example.com', ...LLAMA, ...credits(6)])).toMatchObject({ status: 'accepted' });
    await verified();
  });

  it('refuses a capture above the hold, posts it with --allow-over after every check, and ends closed holds clearly', async () => {
    // Engineering: 6 credits.
    const small = await hold('ada@example.com', 2);
    expect(await refused(['usage', 'record', '--hold', String(small.holdId), ...credits(3)])).toMatchObject({ exitCode: 3, code: 'HOLD_EXCEEDED' });
    expect(await account('Engineering')).toMatchObject({ heldMillicredits: 2000 });
    expect(await capture(small.holdId, 3, ['--allow-over'])).toMatchObject({ status: 'accepted', costMillicredits: 3000 });

    // 3 credits left: a capture over its hold is checked on its whole cost, and refused it leaves the hold open.
    const other = await hold('bob@example.com', 3);
    expect(await refused(['usage', 'record', '--hold', String(other.holdId), ...credits(4), '--allow-over'])).toMatchObject({
      exitCode: 3,
      code: 'INSUFFICIENT_CREDITS',
    });
    expect(await account('Engineering')).toMatchObject({ millicredits: 3000, heldMillicredits: 3000 });
    expect(await json(['usage', 'release', String(other.holdId)])).toMatchObject({ status: 'released', alreadyClosed: false, releasedMillicredits: 3000 });
    expect(await json(['usage', 'release', String(other.holdId)])).toMatchObject({ status: 'released', alreadyClosed: true, releasedMillicredits: 0 });
    expect(await refused(['usage', 'record', '--hold', String(other.holdId), ...credits(1)])).toMatchObject({ exitCode: 5, code: 'HOLD_CLOSED' });
    expect(await refused(['usage', 'release', String(small.holdId)])).toMatchObject({ exitCode: 5, code: 'HOLD_CLOSED' });
    expect(await refused(['usage', 'release', '999'])).toMatchObject({ exitCode: 4, code: 'HOLD_NOT_FOUND' });
    expect(await refused(['usage', 'record', '--hold', String(small.holdId), '--user', 'bob@example.com', ...credits(1)])).toMatchObject({
      exitCode: 2,
      code: 'INVALID_VALUE',
    });
    expect(await account('Engineering')).toMatchObject({ millicredits: 3000, heldMillicredits: 0 });
    await verified();
  });

  it('releases expired holds by themselves: on the next write, and by notify run', async () => {
    const at = (minutes: number) => ({ CREDITS_NOW: new Date(Date.now() + 3_600_000 + minutes * 60_000).toISOString() });
    await ledger.ok(['transfer', '1', '--from', 'org', '--to', 'Engineering']); // Engineering: 4 credits
    const all = await hold('bob@example.com', 4, ['--expires', '1m'], at(0));
    expect(all.expiresAtMs - all.createdAtMs).toBe(60_000);
    expect(await refused(['usage', 'record', '--user', 'ada@example.com', ...LLAMA, ...credits(1)], at(0.5))).toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    // Past its expiry the hold is free: balance reads it so, and the next write closes it first.
    expect(await account('Engineering', at(2))).toMatchObject({ millicredits: 4000, heldMillicredits: 0, availableMillicredits: 4000 });
    expect(await json(['usage', 'record', '--user', 'ada@example.com', ...LLAMA, ...credits(1)], at(2))).toMatchObject({ status: 'accepted' });
    const late = await refused(['usage', 'record', '--hold', String(all.holdId), ...credits(1)], at(2));
    expect(late).toMatchObject({ exitCode: 5, code: 'HOLD_CLOSED' });
    expect(late.message).toContain('expired');
    expect(await json(['usage', 'release', String(all.holdId)], at(2))).toMatchObject({ status: 'expired', alreadyClosed: true });

    await hold('bob@example.com', 2, ['--expires', '30s'], at(3));
    expect(await json(['notify', 'run', '--timeout', '1'], at(5))).toMatchObject({ holdsExpired: 1 });
    expect(await account('Engineering', at(5))).toMatchObject({ millicredits: 3000, heldMillicredits: 0 });
    await verified();
  });
});
