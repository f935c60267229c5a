import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM shared with bench/concurrency.mjs, no types
import { ADA_DAILY_LIMIT_CREDITS, bundleWorker, formatStats, latencyStats, runLoad, seedConcurrencyLedger } from '../../bench/lib/concurrencyLoad.mjs';
import { removeDir } from '../helpers/cli.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { startStressServer, type StressServer } from './serve.js';
import { runBin, takeCliSnapshot } from './snapshot.js';

/**
 * 6 processes post a random mix of transfers into and out of Engineering, usage by ada (daily
 * limit 150 credits) and bea, and card purchases for Engineering, all at once
 * (CREDITS_STRESS_SECONDS; 30 s on a file, 60 s on sqld). On a file they are 6 direct writers.
 * On sqld they are 6 HTTP clients of one `credits serve --db ws://…` (the shape for shared remote
 * ledgers: one writer), every write with an idempotency key (usage: its event id). Afterwards
 * the ledger must hold exactly the acknowledged operations, no balance below zero, ada's day at
 * most at her limit, and verify must pass.
 */
const WORKERS = Number(process.env.CREDITS_STRESS_WORKERS || 6);
const secondsFor = (target: 'local' | 'remote') => Number(process.env.CREDITS_STRESS_SECONDS || (target === 'remote' ? 60 : 30));
const HTTP_WORKER = resolve(import.meta.dirname, '../../bench/lib/httpWorker.mjs');

type Op = {
  kind: 'transfer' | 'usage' | 'purchase';
  ok: boolean;
  code?: string;
  message?: string;
  transactionId: number | null;
  millicredits?: number;
  from?: string;
  to?: string;
  user?: string;
  eventId?: string;
  ms: number;
  worker: number;
  /** HTTP clients: requests sent for this operation (more than 1: retried with the same key). */
  attempts?: number;
};
type Tx = { id: number; kind: string; memo: string; entries: { account: string; millicredits: number }[] };

let worker: { path: string; remove(): void };
let cliSnapshot: { bin: string; remove(): void };
const runCli = (args: string[], env: Record<string, string>) => runBin(cliSnapshot.bin, args, env);
beforeAll(async () => {
  cliSnapshot = takeCliSnapshot();
  worker = await bundleWorker();
});
afterAll(() => {
  worker?.remove();
  cliSnapshot?.remove();
});

describe.each([
  { target: 'local' as const, shape: '6 direct writers' },
  { target: 'remote' as const, shape: '6 HTTP clients of one credits serve' },
])('$target ledger under $shape', ({ target }) => {
  const SECONDS = secondsFor(target);
  let dir: string;
  let server: Sqld | undefined;
  let api: StressServer | undefined;
  let token: string | undefined;
  let location: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-stress-conc-'));
    if (target === 'remote') {
      server = await startSqld();
      location = server.wsUrl;
    } else {
      location = join(dir, 'ledger.db');
    }
    seedConcurrencyLedger(location);
    if (target === 'remote') {
      const created = await runCli(['--db', location, 'token', 'create', '--role', 'operator', '--name', 'load', '--json'], {});
      expect(created.exitCode, created.stderr).toBe(0);
      token = created.json().token as string;
      api = await startStressServer(cliSnapshot.bin, location);
    }
  });
  afterAll(async () => {
    if (api && !api.exited()) await api.stop();
    await server?.stop();
    if (dir) removeDir(dir);
  });

  const cli = async (args: string[]) => {
    const result = await runCli(['--db', location, ...args], {});
    expect(result.exitCode, result.stderr).toBe(0);
    return result.json();
  };

  it(`keeps every rule and every acknowledged operation for ${SECONDS} s`, async () => {
    const before = (await cli(['history', '--limit', '999999', '--json'])).transactions as Tx[];
    const balancesBefore = Object.fromEntries(
      (await cli(['balance', '--json'])).accounts.map((row: { account: string; millicredits: number }) => [row.account, row.millicredits]),
    );
    const load = target === 'remote' ? { worker: HTTP_WORKER, location: api!.url, env: { CREDITS_TOKEN: token! } } : { worker: worker.path, location, env: {} };
    const { ops, workers } = (await runLoad({ ...load, workers: WORKERS, durationMs: SECONDS * 1000 })) as {
      ops: Op[];
      workers: { code: number; stderr: string }[];
    };
    const stats = latencyStats(ops);
    const label =
      target === 'remote'
        ? `remote: ${WORKERS} HTTP clients of one credits serve on sqld for ${SECONDS} s, latency per request (queue and group commit included)`
        : `local: ${WORKERS} processes for ${SECONDS} s, latency per operation (write lock wait included)`;
    console.log(formatStats(label, stats));
    if (target === 'remote') {
      const retried = ops.filter((op) => (op.attempts ?? 1) > 1);
      const usageTxs = new Set(ops.filter((op) => op.kind === 'usage' && op.ok).map((op) => op.transactionId)).size;
      console.log(
        `remote: ${retried.length} request(s) retried with their key; ${ops.filter((op) => op.kind === 'usage' && op.ok).length} accepted usage events in ${usageTxs} ledger transactions (group commit)`,
      );
      for (const op of retried.slice(0, 3)) console.log(op);
      // The server stops cleanly with nothing left in flight.
      expect(await api!.stop(), api!.stderr()).toBe(0);
    }

    for (const outcome of workers) expect(outcome.code, outcome.stderr).toBe(0);
    expect(ops.length).toBeGreaterThan(WORKERS * 10);
    // Every refusal is a ledger rule, never a lock timeout or a crash.
    const refusals = new Set(ops.filter((op) => !op.ok).map((op) => `${op.kind}:${op.code}`));
    for (const op of ops.filter((op) => !op.ok && !/INSUFFICIENT|LIMIT/.test(op.code!)).slice(0, 3)) console.log(op);
    for (const refusal of refusals) expect(['transfer:INSUFFICIENT_CREDITS', 'usage:INSUFFICIENT_CREDITS', 'usage:LIMIT_EXCEEDED']).toContain(refusal);
    for (const kind of ['transfer', 'usage', 'purchase'])
      expect(
        ops.some((op) => op.kind === kind && op.ok),
        `some ${kind} accepted`,
      ).toBe(true);

    // The ledger holds exactly the acknowledged operations, each as reported. Usage events the
    // server group-committed share one ledger transaction (its id is in each answer); a
    // transfer or purchase has one of its own.
    const after = (await cli(['history', '--limit', '999999', '--json'])).transactions as Tx[];
    const known = new Set(before.map((tx) => tx.id));
    const fresh = new Map(after.filter((tx) => !known.has(tx.id)).map((tx) => [tx.id, tx]));
    const acknowledged = ops.filter((op) => op.ok);
    for (const op of acknowledged) expect(op.transactionId, JSON.stringify(op)).toEqual(expect.any(Number));
    const byTransaction = new Map<number, Op[]>();
    for (const op of acknowledged) byTransaction.set(op.transactionId!, [...(byTransaction.get(op.transactionId!) ?? []), op]);
    if (target === 'local') expect(byTransaction.size).toBe(acknowledged.length);
    expect([...fresh.keys()].sort((a, b) => a - b)).toEqual([...byTransaction.keys()].sort((a, b) => a - b));
    for (const [transactionId, group] of byTransaction) {
      const tx = fresh.get(transactionId)!;
      const into = (account: string) => tx.entries.filter((entry) => entry.account === account).reduce((sum, entry) => sum + entry.millicredits, 0);
      expect(tx.entries.reduce((sum, entry) => sum + entry.millicredits, 0)).toBe(0);
      if (group.length > 1)
        expect(
          group.map((op) => op.kind).filter((kind) => kind !== 'usage'),
          `transaction ${transactionId}`,
        ).toEqual([]);
      const op = group[0]!;
      if (op.kind === 'transfer') expect(into(op.to!)).toBe(op.millicredits);
      if (op.kind === 'usage') expect(into('world')).toBe(group.reduce((total, each) => total + each.millicredits!, 0));
      if (op.kind === 'purchase') expect(into('Engineering')).toBe(op.millicredits);
    }

    // Balances are what the acknowledged operations add up to, and none went below zero.
    const balances = Object.fromEntries(
      (await cli(['balance', '--json'])).accounts.map((row: { account: string; millicredits: number }) => [row.account, row.millicredits]),
    ) as Record<string, number>;
    const sum = (chosen: Op[]) => chosen.reduce((total, op) => total + op.millicredits!, 0);
    const engineering =
      balancesBefore.Engineering +
      sum(acknowledged.filter((op) => op.kind === 'transfer' && op.to === 'Engineering')) -
      sum(acknowledged.filter((op) => op.kind === 'transfer' && op.from === 'Engineering')) -
      sum(acknowledged.filter((op) => op.kind === 'usage')) +
      sum(acknowledged.filter((op) => op.kind === 'purchase'));
    expect(balances.Engineering).toBe(engineering);
    expect(balances.Marketing).toBe(balancesBefore.Marketing + sum(acknowledged.filter((op) => op.kind === 'transfer' && op.to === 'Marketing')));
    for (const [account, millicredits] of Object.entries(balances)) expect(millicredits, account).toBeGreaterThanOrEqual(0);

    // ada never spent past her daily limit; once refused for it, she had spent exactly the limit.
    const adaSpent = sum(acknowledged.filter((op) => op.kind === 'usage' && op.user === 'ada@example.com'));
    expect(adaSpent).toBeLessThanOrEqual(ADA_DAILY_LIMIT_CREDITS * 1000);
    if (ops.some((op) => op.code === 'LIMIT_EXCEEDED')) expect(adaSpent).toBe(ADA_DAILY_LIMIT_CREDITS * 1000);
    const limit = (await runCli(['--db', location, 'limits', '--json'], { CREDITS_NOW: '2026-06-10T12:00:00Z' })).json().limits[0];
    expect(limit).toMatchObject({ periodKey: '2026-06-10', usedMillicredits: adaSpent });

    const verify = await runCli(['--db', location, 'verify', '--json'], {});
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true, problems: [] });

    // Waits are figures, not assertions (the bar: speed is measured, never asserted): the stats
    // printed above and bench/concurrency.mjs show the worst wait against the plain busy_timeout.
  });
});
