import { execa, type ResultPromise } from 'execa';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, type RunResult } from '../helpers/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/receivers.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { runBin, takeCliSnapshot } from './snapshot.js';

/**
 * kill -9 at random moments during a transfer loop, `usage import` and `notify run`. After each
 * kill: `credits verify` passes, every operation the CLI acknowledged (exit 0) is in the ledger,
 * nothing is half-written, and running the interrupted work again ends with the ledger (and,
 * for notifications, the deliveries) one clean run gives. Local: 100 trials (CREDITS_CRASH_TRIALS),
 * two at a time on their own copies of a prepared ledger; sqld: 2 trials of each kind, each on
 * its own server. The random seed is printed; CREDITS_CRASH_SEED repeats a run.
 */
const LOCAL_TRIALS = Number(process.env.CREDITS_CRASH_TRIALS || 100);
const REMOTE_TRIALS_PER_KIND = Number(process.env.CREDITS_CRASH_REMOTE_TRIALS || 2);
const LANES = 2;
let seed = Number(process.env.CREDITS_CRASH_SEED || Date.now() % 1_000_000);
const firstSeed = seed;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

const ADA = 'ada@example.com';
const DON = 'don@example.com';
type Tx = { id: number; kind: string; memo: string; idempotencyKey: string | null; entries: { account: string; millicredits: number }[] };

let BIN = '';
const snapshot = { remove: () => {} };
beforeAll(() => {
  const taken = takeCliSnapshot();
  BIN = taken.bin;
  snapshot.remove = taken.remove;
});
afterAll(() => snapshot.remove());

const run = (location: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> => runBin(BIN, ['--db', location, ...args], env);
async function ok(location: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const result = await run(location, args, env);
  if (result.exitCode !== 0) throw new Error(`credits ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return result;
}
const history = async (location: string): Promise<Tx[]> => (await ok(location, ['history', '--limit', '999999', '--json'])).json().transactions;

/** Everything a user can see of the ledger's money: balances and every transaction's content (not its time or hash). */
async function observe(location: string) {
  const [balance, transactions, channels] = await Promise.all([
    ok(location, ['balance', '--json']),
    history(location),
    ok(location, ['notify', 'channels', '--json']),
  ]);
  return {
    balances: balance.json().accounts.map((row: { account: string; millicredits: number }) => [row.account, row.millicredits]),
    transactions: transactions.map((tx) => ({ kind: tx.kind, memo: tx.memo, idempotencyKey: tx.idempotencyKey, entries: tx.entries })).reverse(),
    pending: channels.json().channels.map((channel: { pending: number }) => channel.pending),
  };
}

async function verifyPasses(location: string): Promise<void> {
  const verify = await run(location, ['verify', '--json']);
  expect(verify.exitCode, verify.stderr).toBe(0);
  expect(verify.json()).toMatchObject({ ok: true, problems: [] });
}

/** Starts the CLI; `kill()` sends SIGKILL. */
function start(location: string, args: string[]): { child: ResultPromise; kill(): void } {
  const child = execa('node', [BIN, '--db', location, ...args], { env: { CI: '1', NO_COLOR: '1' }, extendEnv: true, reject: false, timeout: 120_000 });
  return { child, kill: () => child.kill('SIGKILL') };
}

async function seed0(location: string): Promise<void> {
  await ok(location, ['init', '--org', 'Crash GmbH', '--timezone', 'UTC']);
  await ok(location, ['dept', 'add', 'Engineering']);
  await ok(location, ['dept', 'add', 'Marketing']);
  await ok(location, ['user', 'add', ADA, '--dept', 'Engineering']);
  await ok(location, ['user', 'add', DON, '--dept', 'Marketing']);
  await ok(location, ['buy', 'professional', '--method', 'card']);
}

type Lane = { receiver: WebhookReceiver };
type Outcome = { killed: boolean; note: string };
type Kind = {
  name: string;
  /** Makes the ledger the work starts from. */
  prepare(location: string, lane: Lane, dir: string): Promise<void>;
  /** Runs the work, killing it `killAtMs` after the start (Infinity: never); checks what was acknowledged. */
  work(location: string, lane: Lane, dir: string, killAtMs: number): Promise<Outcome>;
  /** Runs the interrupted work again, to the end. */
  rerun(location: string, lane: Lane, dir: string): Promise<void>;
};

// --- a transfer loop: five transfers with idempotency keys, the fourth refused for want of credits.
const STEPS = [
  ['300', 'org', 'Engineering'],
  ['200', 'Engineering', 'Marketing'],
  ['40', 'Marketing', 'Engineering'],
  ['500', 'Engineering', 'Marketing'],
  ['90', 'Engineering', 'Marketing'],
] as const;
const stepArgs = (index: number) => [
  'transfer',
  STEPS[index]![0],
  '--from',
  STEPS[index]![1],
  '--to',
  STEPS[index]![2],
  '--reason',
  `step ${index}`,
  '--idempotency-key',
  `loop-${index}`,
  '--json',
];
const STEP_EXIT = [0, 0, 0, 3, 0];

const transferLoop: Kind = {
  name: 'transfer loop',
  prepare: seed0,
  async work(location, _lane, _dir, killAtMs) {
    const started = Date.now();
    const acknowledged: number[] = [];
    let killed = false;
    for (let index = 0; index < STEPS.length && !killed; index += 1) {
      const process = start(location, stepArgs(index));
      const timer = Number.isFinite(killAtMs)
        ? setTimeout(
            () => {
              killed = true;
              process.kill();
            },
            Math.max(0, killAtMs - (Date.now() - started)),
          )
        : undefined;
      const result = await process.child;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') break;
      killed = false;
      expect(result.exitCode, String(result.stderr)).toBe(STEP_EXIT[index]);
      if (result.exitCode === 0) acknowledged.push(JSON.parse(String(result.stdout)).transactionId);
    }
    // Every acknowledged transfer is in the ledger, whole (two entries summing to zero), as asked.
    const transfers = (await history(location)).filter((tx) => tx.memo.startsWith('step '));
    const byId = new Map(transfers.map((tx) => [tx.id, tx]));
    for (const id of acknowledged) expect(byId.has(id), `acknowledged transfer ${id}`).toBe(true);
    for (const tx of transfers) {
      const index = Number(tx.memo.slice(5));
      expect(tx.idempotencyKey).toBe(`loop-${index}`);
      expect(tx.entries).toHaveLength(2);
      expect(tx.entries.find((entry) => entry.account === STEPS[index]![2])!.millicredits).toBe(Number(STEPS[index]![0]) * 1000);
      expect(tx.entries.reduce((sum, entry) => sum + entry.millicredits, 0)).toBe(0);
    }
    // At most the one in flight when killed went in unacknowledged.
    expect(transfers.length - acknowledged.length).toBeLessThanOrEqual(1);
    return { killed, note: `${acknowledged.length} acknowledged, ${transfers.length} in the ledger` };
  },
  async rerun(location) {
    for (let index = 0; index < STEPS.length; index += 1) expect((await run(location, stepArgs(index))).exitCode).toBe(STEP_EXIT[index]);
  },
};

// --- usage import: 12,000 events in several batches, some refused by ada's daily limit.
const EVENTS = 12_000;
function writeEvents(path: string): void {
  const lines: string[] = [];
  for (let index = 0; index < EVENTS; index += 1) {
    const user = index % 2 === 0 ? ADA : DON;
    lines.push(
      JSON.stringify({
        eventId: `ev-${index}`,
        user,
        model: 'llama-3.1-groq',
        inputTokens: (index * 37) % 2000,
        toolCalls: 1 + (index % 4),
        at: `2026-05-0${1 + (index % 3)}T${String(8 + (index % 10)).padStart(2, '0')}:00:00Z`,
      }),
    );
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
const usageImport: Kind = {
  name: 'usage import',
  async prepare(location, _lane, dir) {
    await seed0(location);
    await ok(location, ['transfer', '1200', '--from', 'org', '--to', 'Engineering']);
    await ok(location, ['transfer', '400', '--from', 'org', '--to', 'Marketing']);
    await ok(location, ['limits', 'set', '--user', ADA, '--daily', '300']);
    if (!existsSync(join(dir, 'events.jsonl'))) writeEvents(join(dir, 'events.jsonl'));
  },
  async work(location, _lane, dir, killAtMs) {
    const before = (await history(location)).length;
    const process = start(location, ['usage', 'import', join(dir, 'events.jsonl'), '--json']);
    const timer = Number.isFinite(killAtMs) ? setTimeout(() => process.kill(), killAtMs) : undefined;
    const result = await process.child;
    clearTimeout(timer);
    const batches = (await history(location)).length - before;
    if (result.signal === 'SIGKILL') return { killed: true, note: `${batches} batches committed` };
    // Finished before the kill: acknowledged (the re-run then finds every accepted event a duplicate).
    expect(result.exitCode, String(result.stderr)).toBe(3);
    expect(JSON.parse(String(result.stdout))).toMatchObject({ read: EVENTS, malformed: 0, duplicates: 0 });
    expect(batches).toBeGreaterThan(0);
    return { killed: false, note: 'finished' };
  },
  async rerun(location, _lane, dir) {
    const result = await run(location, ['usage', 'import', join(dir, 'events.jsonl'), '--json']);
    expect(result.exitCode, result.stderr).toBe(3);
    const report = result.json();
    expect(report.read).toBe(EVENTS);
    expect(report.refused).toBeGreaterThan(0);
  },
};

// --- notify run: six balance events to a webhook that answers within 0-150 ms.
const notifyRun: Kind = {
  name: 'notify run',
  async prepare(location, lane) {
    await seed0(location);
    await ok(location, ['notify', 'channel', 'add', 'webhook', lane.receiver.url]);
    for (const [department, user] of [
      ['Engineering', ADA],
      ['Marketing', DON],
    ] as const) {
      await ok(location, ['transfer', '100', '--from', 'org', '--to', department]);
      await ok(location, ['usage', 'record', '--user', user, '--model', 'llama-3.1-groq', '--tool-calls', '2000', '--quiet']);
    }
  },
  async work(location, lane, _dir, killAtMs) {
    const process = start(location, ['notify', 'run', '--lease', '1', '--json']);
    const timer = Number.isFinite(killAtMs) ? setTimeout(() => process.kill(), killAtMs) : undefined;
    const result = await process.child;
    clearTimeout(timer);
    if (result.signal === 'SIGKILL') return { killed: true, note: `${lane.receiver.requests.length} requests received` };
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(JSON.parse(String(result.stdout))).toMatchObject({ delivered: 6, retrying: 0, failed: 0 });
    return { killed: false, note: 'finished' };
  },
  async rerun(location) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 1100)); // the killed run's lease
    const result = await run(location, ['notify', 'run', '--lease', '1', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ retrying: 0, failed: 0 });
  },
};

const KINDS = [transferLoop, usageImport, notifyRun];
/** What the receiver got: each event once (by id and content), whatever was sent twice. */
const deliveries = (receiver: WebhookReceiver) =>
  [...new Map(receiver.requests.map((request) => [request.json.id, `${request.json.type} ${JSON.stringify(request.json.data)}`])).values()].sort();

async function withReceiver<T>(work: (lane: Lane) => Promise<T>): Promise<T> {
  const receiver = await startWebhookReceiver();
  receiver.reply = () => ({ status: 200, delayMs: Math.floor(random() * 150) });
  try {
    return await work({ receiver });
  } finally {
    await receiver.close();
  }
}

/** One trial: the work killed at killAtMs, the checks, the re-run, the comparison with the clean run. */
async function trial(
  kind: Kind,
  location: string,
  lane: Lane,
  dir: string,
  killAtMs: number,
  reference: { ledger: unknown; deliveries: string[] },
): Promise<Outcome> {
  lane.receiver.requests.length = 0;
  const outcome = await kind.work(location, lane, dir, killAtMs);
  await verifyPasses(location);
  await kind.rerun(location, lane, dir);
  await verifyPasses(location);
  expect(await observe(location)).toEqual(reference.ledger);
  expect(deliveries(lane.receiver)).toEqual(reference.deliveries);
  // A webhook sent twice carries the same id and body both times.
  for (const request of lane.receiver.requests) {
    const first = lane.receiver.requests.find((other) => other.json.id === request.json.id)!;
    expect(request.body).toBe(first.body);
  }
  return outcome;
}

describe('kill -9 at random moments on a local ledger', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credits-stress-crash-'));
    console.log(`crash trials: seed ${firstSeed} (CREDITS_CRASH_SEED=${firstSeed} repeats it)`);
  });
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it(`${LOCAL_TRIALS} trials over ${KINDS.map((kind) => kind.name).join(', ')}`, async () => {
    const tally: Record<string, { trials: number; killed: number; finished: number }> = {};
    await Promise.all(
      Array.from({ length: LANES }, (_unused, laneIndex) =>
        withReceiver(async (lane) => {
          const laneDir = mkdtempSync(join(dir, `lane-${laneIndex}-`));
          for (const [kindIndex, kind] of KINDS.entries()) {
            const trials = Math.floor(LOCAL_TRIALS / KINDS.length / LANES) + (kindIndex * LANES + laneIndex < LOCAL_TRIALS % (KINDS.length * LANES) ? 1 : 0);
            const template = join(laneDir, `${kindIndex}-template.db`);
            await kind.prepare(template, lane, laneDir);
            // The clean run, on a copy: the ledger every interrupted run must end with, and how long it takes.
            const clean = join(laneDir, `${kindIndex}-clean.db`);
            copyFileSync(template, clean);
            lane.receiver.requests.length = 0;
            const started = Date.now();
            expect((await kind.work(clean, lane, laneDir, Infinity)).killed).toBe(false);
            const cleanMs = Date.now() - started;
            await verifyPasses(clean);
            const reference = { ledger: await observe(clean), deliveries: deliveries(lane.receiver) };
            for (let index = 0; index < trials; index += 1) {
              const location = join(laneDir, `${kindIndex}-trial-${index}.db`);
              copyFileSync(template, location);
              const killAtMs = Math.floor(random() * cleanMs * 1.1);
              const outcome = await trial(kind, location, lane, laneDir, killAtMs, reference);
              tally[kind.name] ??= { trials: 0, killed: 0, finished: 0 };
              const row = tally[kind.name]!;
              row.trials += 1;
              row[outcome.killed ? 'killed' : 'finished'] += 1;
            }
          }
        }),
      ),
    );
    console.log(`local crash trials (seed ${firstSeed}): ${JSON.stringify(tally)}`);
    expect(Object.values(tally).reduce((sum, row) => sum + row.trials, 0)).toBe(LOCAL_TRIALS);
    for (const row of Object.values(tally)) expect(row.killed).toBeGreaterThan(0);
  });
});

describe('kill -9 at random moments on a sqld ledger', () => {
  const servers: Sqld[] = [];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credits-stress-crash-remote-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    if (dir) removeDir(dir);
  });
  const fresh = async (): Promise<string> => {
    const server = await startSqld();
    servers.push(server);
    return server.wsUrl;
  };

  it.each(KINDS.map((kind) => ({ kind, name: kind.name })))(`${REMOTE_TRIALS_PER_KIND} trials of $name`, async ({ kind }) => {
    await withReceiver(async (lane) => {
      const clean = await fresh();
      await kind.prepare(clean, lane, dir);
      lane.receiver.requests.length = 0;
      const started = Date.now();
      expect((await kind.work(clean, lane, dir, Infinity)).killed).toBe(false);
      const cleanMs = Date.now() - started;
      const reference = { ledger: await observe(clean), deliveries: deliveries(lane.receiver) };
      const outcomes: Outcome[] = [];
      for (let index = 0; index < REMOTE_TRIALS_PER_KIND; index += 1) {
        const location = await fresh();
        await kind.prepare(location, lane, dir);
        outcomes.push(await trial(kind, location, lane, dir, Math.floor(random() * cleanMs * 1.1), reference));
      }
      console.log(`sqld ${kind.name} (seed ${firstSeed}): ${outcomes.map((outcome) => (outcome.killed ? `killed (${outcome.note})` : 'finished')).join('; ')}`);
    });
  });
});
