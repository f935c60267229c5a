import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCreditsError } from '../../src/core/errors.js';
import { quotePackage } from '../../src/core/packages.js';
import { parseUsageRecord } from '../../src/core/usageRecord.js';
import type { Database } from '../../src/store/driver.js';
import { buyCredits, cancelPurchase, settlePurchase, transferCredits } from '../../src/store/ops/money.js';
import { addDepartment, addUser, initLedger } from '../../src/store/ops/organisation.js';
import { setLimit } from '../../src/store/ops/rules.js';
import { recordUsage } from '../../src/store/ops/usage.js';
import { requireAccount, requireUser } from '../../src/store/orgRepo.js';
import { verifyLedger } from '../../src/store/verify.js';
import { open, tempDir } from './support.js';

/**
 * Random sequences of transfers, purchases (instant, and pending then settled or cancelled),
 * usage and limits, through the store API on a real SQLite file, against a small model of what
 * each must do. After every operation: each transaction sums to zero, the stored balances equal
 * the entries, no account but world is below zero, the outcome (accepted or which refusal) is the
 * model's, and no usage passes a limit in force; at the end verifyLedger finds nothing.
 */
const dir = tempDir('properties');
afterAll(() => dir.remove());

const ACCOUNTS = ['org', 'Engineering', 'Marketing'] as const;
const DEPARTMENTS = ['Engineering', 'Marketing'] as const;
const USERS = [
  { email: 'ada@example.com', department: 'Engineering' },
  { email: 'bob@example.com', department: 'Engineering' },
  { email: 'don@example.com', department: 'Marketing' },
] as const;
const DAYS = ['2026-06-10', '2026-06-11'];

type Op =
  | { kind: 'transfer'; from: number; to: number; credits: number }
  | { kind: 'buy'; account: number; method: 'card' | 'sepa' }
  | { kind: 'settle' | 'cancel'; pick: number }
  | { kind: 'usage'; user: number; toolCalls: number; day: number }
  | { kind: 'userLimit'; user: number; credits: number }
  | { kind: 'deptLimit'; department: number; credits: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(2), to: fc.nat(2), credits: fc.integer({ min: 1, max: 1500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('buy' as const), account: fc.nat(2), method: fc.constantFrom('card' as const, 'sepa' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('settle' as const, 'cancel' as const), pick: fc.nat(5) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('usage' as const), user: fc.nat(2), toolCalls: fc.integer({ min: 1, max: 4000 }), day: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('userLimit' as const), user: fc.nat(2), credits: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deptLimit' as const), department: fc.nat(1), credits: fc.integer({ min: 1, max: 300 }) }) },
);

type Model = {
  balances: Record<string, number>;
  pending: { id: number; account: string; millicredits: number }[];
  userLimits: Map<string, number>;
  deptLimits: Map<string, number>;
  spentByUserDay: Map<string, number>;
  spentByDeptDay: Map<string, number>;
};

let ledgers = 0;
async function freshLedger(): Promise<Database> {
  ledgers += 1;
  const db = await open(join(dir.path, `ledger-${ledgers}.db`), { mayCreate: true });
  const request = (command: string) => ({ command, args: {}, actor: 'property', nowMs: Date.parse('2026-06-10T08:00:00Z') });
  await initLedger(db, request('init'), { orgName: 'Property GmbH', timeZone: 'UTC' });
  for (const name of DEPARTMENTS) await addDepartment(db, request('dept add'), { name, costCenter: null });
  for (const user of USERS) await addUser(db, request('user add'), user);
  return db;
}

async function checkInvariants(db: Database): Promise<void> {
  const unbalanced = await db.all('SELECT transaction_id FROM entries GROUP BY transaction_id HAVING sum(amount_millicredits) <> 0');
  expect(unbalanced).toEqual([]);
  const mismatched = await db.all(
    'SELECT a.name, a.balance_millicredits AS stored, coalesce((SELECT sum(amount_millicredits) FROM entries e WHERE e.account_id = a.id), 0) AS summed FROM accounts a WHERE stored <> summed',
  );
  expect(mismatched).toEqual([]);
  expect(await db.all("SELECT name FROM accounts WHERE kind <> 'world' AND balance_millicredits < 0")).toEqual([]);
  expect((await db.get<{ total: number | null }>('SELECT sum(amount_millicredits) AS total FROM entries'))!.total ?? 0).toBe(0);
}

async function outcome(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'ok';
  } catch (error) {
    if (!isCreditsError(error)) throw error;
    return error.code;
  }
}

async function apply(db: Database, model: Model, step: Op, index: number): Promise<void> {
  const request = { command: step.kind, args: { ...step, index }, actor: 'property', nowMs: Date.parse('2026-06-11T20:00:00Z') + index };
  switch (step.kind) {
    case 'transfer': {
      const from = ACCOUNTS[step.from]!;
      const to = ACCOUNTS[step.to]!;
      const millicredits = step.credits * 1000;
      const args = { from, to, millicredits, reason: `t${index}` };
      const got = await outcome(() => transferCredits(db, { ...request, args }, args));
      const expected = from === to ? 'SAME_ACCOUNT' : model.balances[from]! < millicredits ? 'INSUFFICIENT_CREDITS' : 'ok';
      expect(got, JSON.stringify(step)).toBe(expected);
      if (got === 'ok') {
        model.balances[from]! -= millicredits;
        model.balances[to]! += millicredits;
      }
      return;
    }
    case 'buy': {
      const account = ACCOUNTS[step.account]!;
      const result = await buyCredits(db, request, { quote: quotePackage('basic', step.method), accountName: account });
      if (step.method === 'card') model.balances[account]! += result.millicredits;
      else model.pending.push({ id: result.purchaseId, account, millicredits: result.millicredits });
      return;
    }
    case 'settle':
    case 'cancel': {
      if (model.pending.length === 0) return;
      const [purchase] = model.pending.splice(step.pick % model.pending.length, 1);
      if (step.kind === 'settle') {
        await settlePurchase(db, request, purchase!.id);
        model.balances[purchase!.account]! += purchase!.millicredits;
      } else {
        await cancelPurchase(db, request, purchase!.id);
      }
      return;
    }
    case 'userLimit':
    case 'deptLimit': {
      const amountMillicredits = step.credits * 1000;
      if (step.kind === 'userLimit') {
        const user = await requireUser(db, USERS[step.user]!.email, '--user');
        await setLimit(db, request, {
          scope: 'user',
          userId: user.id,
          departmentId: null,
          model: null,
          tier: null,
          period: 'day',
          amountMillicredits,
          kind: 'hard',
        });
        model.userLimits.set(user.email, amountMillicredits);
      } else {
        const department = await requireAccount(db, DEPARTMENTS[step.department]!, '--dept');
        await setLimit(db, request, {
          scope: 'department',
          userId: null,
          departmentId: department.id,
          model: null,
          tier: null,
          period: 'day',
          amountMillicredits,
          kind: 'hard',
        });
        model.deptLimits.set(department.name, amountMillicredits);
      }
      return;
    }
    case 'usage': {
      const { email, department } = USERS[step.user]!;
      const day = DAYS[step.day]!;
      // llama-3.1-groq: 50 millicredits per tool call.
      const cost = step.toolCalls * 50;
      const raw = { user: email, model: 'llama-3.1-groq', toolCalls: step.toolCalls, eventId: `e${index}`, at: `${day}T12:00:00Z` };
      const got = await outcome(() =>
        recordUsage(
          db,
          { ...request, command: 'usage record', args: raw },
          parseUsageRecord(raw, { timeZone: 'UTC', nowMs: request.nowMs, requireEventId: false }),
          'UTC',
        ),
      );
      const userKey = `${email} ${day}`;
      const deptKey = `${department} ${day}`;
      const overUser = (model.spentByUserDay.get(userKey) ?? 0) + cost > (model.userLimits.get(email) ?? Infinity);
      const overDept = (model.spentByDeptDay.get(deptKey) ?? 0) + cost > (model.deptLimits.get(department) ?? Infinity);
      if (got === 'ok') {
        // Accepted: within every limit in force and the department's credits.
        expect(overUser || overDept, `usage ${JSON.stringify(step)} passed a limit`).toBe(false);
        expect(model.balances[department]!).toBeGreaterThanOrEqual(cost);
        model.balances[department]! -= cost;
        model.spentByUserDay.set(userKey, (model.spentByUserDay.get(userKey) ?? 0) + cost);
        model.spentByDeptDay.set(deptKey, (model.spentByDeptDay.get(deptKey) ?? 0) + cost);
      } else {
        expect(['LIMIT_EXCEEDED', 'INSUFFICIENT_CREDITS']).toContain(got);
        if (got === 'LIMIT_EXCEEDED') expect(overUser || overDept).toBe(true);
        else expect(overUser || overDept || model.balances[department]! < cost).toBe(true);
        if (!overUser && !overDept) expect(got).toBe('INSUFFICIENT_CREDITS');
        if (model.balances[department]! >= cost) expect(got).toBe('LIMIT_EXCEEDED');
      }
      return;
    }
  }
}

describe('random operation sequences on a real SQLite ledger', () => {
  it('keep every ledger invariant and match the model', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(op, { minLength: 5, maxLength: 40 }), async (packages, steps) => {
        const db = await freshLedger();
        try {
          const model: Model = {
            balances: { org: 0, Engineering: 0, Marketing: 0 },
            pending: [],
            userLimits: new Map(),
            deptLimits: new Map(),
            spentByUserDay: new Map(),
            spentByDeptDay: new Map(),
          };
          for (let index = 0; index < packages; index += 1) await apply(db, model, { kind: 'buy', account: 0, method: 'card' }, 1000 + index);
          for (const [index, step] of steps.entries()) {
            await apply(db, model, step, index);
            await checkInvariants(db);
            const stored = await db.all<{ name: string; balance: number }>(
              "SELECT name, balance_millicredits AS balance FROM accounts WHERE kind <> 'world' ORDER BY id",
            );
            expect(Object.fromEntries(stored.map((row) => [row.name, row.balance]))).toEqual(model.balances);
          }
          const report = await verifyLedger(db);
          expect(report.problems).toEqual([]);
          expect(report.ok).toBe(true);
        } finally {
          await db.close();
        }
      }),
      {
        numRuns: Number(process.env.CREDITS_PROPERTY_RUNS || 100),
        seed: process.env.CREDITS_PROPERTY_SEED ? Number(process.env.CREDITS_PROPERTY_SEED) : undefined,
      },
    );
  });
});
