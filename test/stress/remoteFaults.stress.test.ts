import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/cli.js';
import { startRestartableSqld, type RestartableSqld } from '../helpers/sqld.js';
import { startStressServer, type StressServer } from './serve.js';
import { runBin, takeCliSnapshot } from './snapshot.js';

/**
 * Issue 17's fault proof: sqld is killed (kill -9, then started again on the same folder and
 * port) or stopped (SIGSTOP, SIGCONT after 1 to 3 s) at a random moment while transfers are being
 * written, 20 trials of each, through two shapes:
 *
 * (a) one `credits serve --db ws://…` in front of sqld and a few clients writing through it at
 *     once, each transfer with its own idempotency key: two CLIs in remote mode (`--server`) and
 *     one plain HTTP client (POST /v1/transfers with Idempotency-Key). A client whose write fails
 *     with OUTCOME_UNKNOWN or any 5xx waits until the server's /health says the database is back
 *     and sends the same write with the same key again (the documented retry).
 * (b) a single direct writer: `credits --db ws://… transfer … --json` processes one after another.
 *     On OUTCOME_UNKNOWN it runs the printed `error.retryCommand`; on STORAGE_TIMEOUT,
 *     STORAGE_BUSY or STORAGE_UNAVAILABLE (nothing was written) it runs the same command again.
 *
 * After each 20 trials: every acknowledged transfer is in the ledger exactly once (its reason is
 * unique, so a second posting would show), with the transaction id its answer gave; no transfer
 * was given up on; balances add up; `credits verify` passes. A trial fails on any other error
 * code (INTERNAL, a conflict, a hang). kill -9 must lose nothing sqld acknowledged: sqld syncs its
 * WAL before it answers. The random seed is printed; CREDITS_FAULT_SEED repeats a run, and
 * CREDITS_FAULT_TRIALS sets the trials per kind.
 */
const TRIALS = Number(process.env.CREDITS_FAULT_TRIALS || 20);
/** Small deadlines keep each trial short, and a SIGSTOP of 1 to 3 s outlasts them: the lock within 0.5 s, each transaction within 1 s. */
const DEADLINES = { CREDITS_BUSY_TIMEOUT_MS: '500', CREDITS_DB_TIMEOUT_MS: '1000' };
/** How long a client waits for the server's answer: its queue of writes, each up to CREDITS_DB_TIMEOUT_MS, included. */
const SERVER_WAIT_MS = 15_000;
/** Sends of one write (first one included) before the trial counts it as given up. */
const MAX_SENDS = 8;
/** What a write may meet while sqld is down or stopped: each says whether the write applied, and a retry as documented is safe. */
const EXPECTED_CODES = new Set(['OUTCOME_UNKNOWN', 'STORAGE_TIMEOUT', 'STORAGE_BUSY', 'STORAGE_UNAVAILABLE']);

let seed = Number(process.env.CREDITS_FAULT_SEED || Date.now() % 1_000_000);
const firstSeed = seed;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const sleep = (ms: number) => new Promise<void>((resolveSleep) => setTimeout(resolveSleep, ms));

type FaultKind = 'kill' | 'stop';
/** One sending of a write: how, what came back, when it started (epoch ms) and how long it took. */
type Send = { how: 'first' | 'same key' | 'retryCommand' | 'plain'; code: string; at: number; ms: number; message?: string };
type Write = {
  trial: number;
  client: string;
  reason: string;
  key: string | undefined;
  millicredits: number;
  sends: Send[];
  ack?: { transactionId: number; replayed: boolean; idempotencyKey: string | undefined };
  problem?: string;
};
type Trial = {
  kind: FaultKind;
  index: number;
  faultAtMs: number;
  downMs: number;
  /** From the kill or SIGSTOP to a restarted sqld answering /health, or to SIGCONT (epoch ms). */
  faultFrom: number;
  faultTo: number;
  ms: number;
  writes: Write[];
  sqldRestartsForStuckLock: number;
};
/** The trial's fault as its writers see it: they keep writing until it is over. */
type Fault = { done: Promise<void>; over(): boolean };
/** Each writer of a trial writes at least this many transfers, and goes on while the fault lasts (up to MOST_WRITES). */
const LEAST_WRITES = 2;
const MOST_WRITES = 12;
type Tx = { id: number; kind: string; memo: string; idempotencyKey: string | null; entries: { account: string; millicredits: number }[] };

let BIN = '';
const snapshot = { remove: () => {} };
beforeAll(() => {
  const taken = takeCliSnapshot();
  BIN = taken.bin;
  snapshot.remove = taken.remove;
  console.log(`remote fault trials: seed ${firstSeed} (CREDITS_FAULT_SEED=${firstSeed} repeats it), ${TRIALS} trials per kind`);
});
afterAll(() => snapshot.remove());

function errorOf(result: RunResult): { code: string; idempotencyKey?: string; retryCommand?: string; message?: string } {
  try {
    return JSON.parse(result.stderr).error;
  } catch {
    return { code: result.exitCode === -1 ? 'HUNG_OR_KILLED' : `EXIT_${result.exitCode}`, message: result.stderr.slice(0, 500) };
  }
}

/** The words after `credits` of a printed retry command (single-quoted words unquoted). */
function wordsOf(retryCommand: string): string[] {
  return [...retryCommand.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((match) => (match[1] ?? match[2] ?? '').replace(/'\\''/g, "'")).slice(1);
}

/** Waits until `url` answers 200 (the database is back), up to 30 s. */
async function healthy(url: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) return true;
    } catch {
      // not answering yet
    }
    await sleep(100);
  }
  return false;
}

async function seedLedger(db: string): Promise<void> {
  for (const args of [
    ['init', '--org', 'Faults GmbH', '--timezone', 'UTC'],
    ['dept', 'add', 'Engineering'],
    ['buy', 'professional', '--method', 'card', '--yes'],
  ]) {
    const result = await runBin(BIN, ['--db', db, ...args, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
  }
}

async function readLedger(db: string): Promise<{ transactions: Tx[]; balances: Record<string, number> }> {
  const [history, balance] = await Promise.all([
    runBin(BIN, ['--db', db, 'history', '--limit', '999999', '--json']),
    runBin(BIN, ['--db', db, 'balance', '--json']),
  ]);
  expect(history.exitCode, history.stderr).toBe(0);
  expect(balance.exitCode, balance.stderr).toBe(0);
  return {
    transactions: history.json().transactions,
    balances: Object.fromEntries(balance.json().accounts.map((row: { account: string; millicredits: number }) => [row.account, row.millicredits])),
  };
}

/**
 * Runs one trial: the writers start, and at a random moment sqld is killed (and started again
 * after a random pause) or stopped (and continued after 1 to 3 s). Resolves once every writer is
 * done and sqld answers again.
 */
async function faultTrial(
  sqld: RestartableSqld,
  kind: FaultKind,
  index: number,
  faultWindowMs: [number, number],
  writers: (fault: Fault) => Promise<Write[]>[],
): Promise<Trial> {
  const faultAtMs = between(...faultWindowMs);
  const downMs = kind === 'kill' ? between(200, 1500) : between(1000, 3000);
  const started = Date.now();
  let over = false;
  let faultFrom = 0;
  let faultTo = 0;
  const fault = (async () => {
    await sleep(faultAtMs);
    faultFrom = Date.now();
    if (kind === 'kill') {
      await sqld.kill();
      await sleep(downMs);
      await sqld.restart();
    } else {
      sqld.pause();
      await sleep(downMs);
      sqld.resume();
    }
  })().finally(() => {
    faultTo = Date.now();
    over = true;
  });
  const settled = await Promise.allSettled([fault, ...writers({ done: fault.catch(() => undefined), over: () => over })]);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const writes = settled.slice(1).flatMap((outcome) => (outcome as PromiseFulfilledResult<Write[]>).value);
  return { kind, index, faultAtMs, downMs, faultFrom, faultTo, ms: Date.now() - started, writes, sqldRestartsForStuckLock: 0 };
}

/**
 * Writes that met a fault, per trial, and every check of "exactly once": each write is in the
 * ledger once, with the id its answer gave, and was not given up on. Returns the failures.
 */
function judge(trials: Trial[], transactions: Tx[]): { failures: string[]; table: string } {
  const byMemo = new Map<string, Tx[]>();
  for (const tx of transactions) byMemo.set(tx.memo, [...(byMemo.get(tx.memo) ?? []), tx]);
  const failures: string[] = [];
  const rows: string[] = [];
  for (const trial of trials) {
    const problems: string[] = [];
    for (const write of trial.writes) {
      const posted = byMemo.get(write.reason) ?? [];
      if (write.problem) problems.push(`${write.reason}: ${write.problem}`);
      for (const send of write.sends)
        if (send.code !== 'OK' && !EXPECTED_CODES.has(send.code))
          problems.push(`${write.reason}: unexpected ${send.code} (${send.how}, ${send.ms} ms): ${send.message}`);
      if (!write.ack)
        problems.push(`${write.reason}: never acknowledged after ${write.sends.length} sends (${write.sends.map((send) => send.code).join(', ')})`);
      if (posted.length > 1) problems.push(`${write.reason}: posted ${posted.length} times (transactions ${posted.map((tx) => tx.id).join(', ')})`);
      if (write.ack && posted.length === 0) problems.push(`${write.reason}: acknowledged as transaction ${write.ack.transactionId} but not in the ledger`);
      if (write.ack && posted.length === 1 && posted[0]!.id !== write.ack.transactionId)
        problems.push(`${write.reason}: acknowledged as transaction ${write.ack.transactionId}, the ledger has it as ${posted[0]!.id}`);
      if (write.key !== undefined && posted.length === 1 && posted[0]!.idempotencyKey !== write.key)
        problems.push(`${write.reason}: posted under key ${posted[0]!.idempotencyKey}, sent with ${write.key}`);
      if (posted.length === 1 && posted[0]!.entries.find((entry) => entry.account === 'Engineering')?.millicredits !== write.millicredits)
        problems.push(`${write.reason}: posted with other amounts ${JSON.stringify(posted[0]!.entries)}`);
    }
    const inFlight = trial.writes.filter((write) => write.sends.some((send) => send.at < trial.faultTo && send.at + send.ms > trial.faultFrom));
    const failed = trial.writes.filter((write) => write.sends.some((send) => send.code !== 'OK'));
    const codes = trial.writes.flatMap((write) => write.sends.map((send) => send.code)).filter((code) => code !== 'OK');
    rows.push(
      `  ${trial.kind} #${String(trial.index + 1).padStart(2)}  fault at ${String(trial.faultAtMs).padStart(4)} ms, down ${String(trial.downMs).padStart(4)} ms, ${String(trial.ms).padStart(5)} ms  ` +
        `writes ${trial.writes.length}, in flight during the fault ${inFlight.length}, failed by it ${failed.length}, replayed ${trial.writes.filter((write) => write.ack?.replayed).length}` +
        `${codes.length ? `  [${codes.join(' ')}]` : ''}${trial.sqldRestartsForStuckLock ? `  sqld restarted for a stuck lock ${trial.sqldRestartsForStuckLock}x` : ''}  ${problems.length ? 'FAIL' : 'pass'}`,
    );
    for (const problem of problems) {
      rows.push(`      ${problem}`);
      failures.push(`${trial.kind} #${trial.index + 1}: ${problem}`);
    }
  }
  return { failures, table: rows.join('\n') };
}

function summary(label: string, trials: Trial[], failures: string[]): string {
  const failedTrials = new Set(failures.map((failure) => failure.split(':')[0])).size;
  const writes = trials.flatMap((trial) => trial.writes);
  const codes = new Map<string, number>();
  for (const send of writes.flatMap((write) => write.sends)) codes.set(send.code, (codes.get(send.code) ?? 0) + 1);
  const inFlight = trials.filter((trial) =>
    trial.writes.some((write) => write.sends.some((send) => send.at < trial.faultTo && send.at + send.ms > trial.faultFrom)),
  ).length;
  const failed = trials.filter((trial) => trial.writes.some((write) => write.sends.some((send) => send.code !== 'OK'))).length;
  const slowest = Math.max(...writes.flatMap((write) => write.sends.map((send) => send.ms)));
  return (
    `${label}: ${trials.length} trials, ${trials.length - failedTrials} passed, ${failedTrials} failed; ${inFlight} trials had a write in flight during the fault, ${failed} had a write fail by it; ` +
    `${writes.length} writes, ${writes.filter((write) => write.ack?.replayed).length} answered by a replay of their key; sends by outcome ${JSON.stringify(Object.fromEntries(codes))}; ` +
    `slowest send ${slowest} ms; ${trials.reduce((total, trial) => total + trial.sqldRestartsForStuckLock, 0)} sqld restarts for a stuck lock; ` +
    `${(trials.reduce((total, trial) => total + trial.ms, 0) / 1000).toFixed(1)} s`
  );
}

/** After the trials: the judge's table, the balances against the acknowledged writes, and verify. */
async function checkLedger(db: string, label: string, trials: Trial[], before: Record<string, number>): Promise<void> {
  const { transactions, balances } = await readLedger(db);
  const { failures, table } = judge(trials, transactions);
  console.log(`${summary(label, trials, failures)}\n${table}`);
  const acknowledged = trials.flatMap((trial) => trial.writes).filter((write) => write.ack);
  const moved = acknowledged.reduce((total, write) => total + write.millicredits, 0);
  expect(failures).toEqual([]);
  expect(balances.Engineering).toBe(before.Engineering! + moved);
  expect(balances.org).toBe(before.org! - moved);
  const verify = await runBin(BIN, ['--db', db, 'verify', '--json']);
  expect(verify.exitCode, verify.stderr).toBe(0);
  expect(verify.json()).toMatchObject({ ok: true, problems: [] });
}

describe('(a) clients of one credits serve on sqld while sqld is killed or stopped', () => {
  let sqld: RestartableSqld;
  let server: StressServer;
  let token: string;
  beforeAll(async () => {
    sqld = await startRestartableSqld();
    await seedLedger(sqld.wsUrl);
    const created = await runBin(BIN, ['--db', sqld.wsUrl, 'token', 'create', '--role', 'operator', '--name', 'faults', '--json']);
    expect(created.exitCode, created.stderr).toBe(0);
    token = created.json().token;
    server = await startStressServer(BIN, sqld.wsUrl, DEADLINES);
  });
  afterAll(async () => {
    if (server && !server.exited()) await server.stop();
    await sqld?.stop();
  });

  /** One transfer through the server, sent again with its key until acknowledged. */
  async function serverWrite(trial: number, client: string, useCli: boolean, kind: FaultKind, count: number): Promise<Write> {
    const millicredits = between(1, 20) * 1000;
    const reason = `a-${kind}-${trial}-${client}-${count}`;
    const key = `key-${reason}`;
    const write: Write = { trial, client, reason, key, millicredits, sends: [] };
    let words = ['transfer', String(millicredits / 1000), '--from', 'org', '--to', 'Engineering', '--reason', reason, '--idempotency-key', key, '--json'];
    for (let send = 0; send < MAX_SENDS && !write.ack; send += 1) {
      if (send > 0 && !(await healthy(server.url))) {
        write.problem = `the server's /health did not come back within 30 s: ${server.stderr().slice(-500)}`;
        break;
      }
      const started = Date.now();
      const how = send === 0 ? 'first' : words.includes('--idempotency-key') ? 'same key' : 'plain';
      if (useCli) {
        const result = await runBin(BIN, words, {
          CREDITS_SERVER: server.url,
          CREDITS_TOKEN: token,
          CREDITS_DB: '/nonexistent/remote-mode.db',
          CREDITS_SERVER_TIMEOUT_MS: String(SERVER_WAIT_MS),
        });
        if (result.exitCode === 0) {
          const answer = result.json();
          write.ack = { transactionId: answer.transactionId, replayed: answer.replayed, idempotencyKey: key };
          write.sends.push({ how, code: 'OK', at: started, ms: Date.now() - started });
          break;
        }
        const error = errorOf(result);
        write.sends.push({ how, code: error.code, at: started, ms: Date.now() - started, message: error.message });
        if (error.code === 'OUTCOME_UNKNOWN') {
          if (error.idempotencyKey !== key || !error.retryCommand) {
            write.problem = `OUTCOME_UNKNOWN without the key and its retry command: ${JSON.stringify(error)}`;
            break;
          }
          words = wordsOf(error.retryCommand);
        } else if (result.exitCode !== 6) {
          write.problem = `exit ${result.exitCode}: ${result.stderr.slice(0, 500)}`;
          break;
        }
      } else {
        let status = 0;
        let document: { transactionId: number; replayed: boolean; error?: { code?: string; message?: string } } | undefined;
        try {
          const response = await fetch(`${server.url}/v1/transfers`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
            body: JSON.stringify({ amount: String(millicredits / 1000), from: 'org', to: 'Engineering', reason }),
            signal: AbortSignal.timeout(SERVER_WAIT_MS),
          });
          status = response.status;
          document = JSON.parse(await response.text());
        } catch {
          // No answer from the server itself (it should always answer): recorded, and sent again.
          write.sends.push({ how, code: 'NETWORK', at: started, ms: Date.now() - started });
          continue;
        }
        if (status < 300) {
          write.ack = { transactionId: document!.transactionId, replayed: document!.replayed, idempotencyKey: key };
          write.sends.push({ how, code: 'OK', at: started, ms: Date.now() - started });
          break;
        }
        write.sends.push({
          how,
          code: String(document?.error?.code ?? `HTTP_${status}`),
          at: started,
          ms: Date.now() - started,
          message: document?.error?.message,
        });
        if (status < 500) {
          write.problem = `answered ${status}: ${JSON.stringify(document)}`;
          break;
        }
      }
    }
    return write;
  }

  for (const kind of ['kill', 'stop'] as const) {
    it(`${TRIALS} trials of ${kind === 'kill' ? 'kill -9 and restart' : 'SIGSTOP for 1-3 s'}: every acknowledged transfer once, balances add up, verify passes`, async () => {
      const before = (await readLedger(sqld.wsUrl)).balances;
      const trials: Trial[] = [];
      for (let index = 0; index < TRIALS; index += 1) {
        expect(await healthy(server.url), server.stderr()).toBe(true);
        // Three clients at once, each writing transfers one after another while the fault lasts.
        const client = async (name: string, useCli: boolean, fault: Fault) => {
          const writes: Write[] = [];
          for (let count = 0; count < LEAST_WRITES || (!fault.over() && count < MOST_WRITES); count += 1)
            writes.push(await serverWrite(index, name, useCli, kind, count));
          return writes;
        };
        trials.push(
          await faultTrial(sqld, kind, index, [100, 900], (fault) => [client('cli1', true, fault), client('cli2', true, fault), client('http', false, fault)]),
        );
      }
      expect(server.exited(), server.stderr()).toBe(false);
      expect(await healthy(server.url)).toBe(true);
      await checkLedger(sqld.wsUrl, `(a) serve, ${kind}`, trials, before);
    });
  }
});

describe('(b) a single direct writer on sqld while sqld is killed or stopped', () => {
  let sqld: RestartableSqld;
  beforeAll(async () => {
    sqld = await startRestartableSqld();
    await seedLedger(sqld.wsUrl);
  });
  afterAll(async () => {
    await sqld?.stop();
  });

  /** One transfer by `credits --db ws://…`, finished as its errors say. */
  async function directWrite(trial: number, kind: FaultKind, count: number, stuck: { restarts: number }, fault: Fault): Promise<Write> {
    const millicredits = between(1, 20) * 1000;
    const reason = `b-${kind}-${trial}-${count}`;
    const write: Write = { trial, client: 'direct', reason, key: undefined, millicredits, sends: [] };
    let words = ['--db', sqld.wsUrl, 'transfer', String(millicredits / 1000), '--from', 'org', '--to', 'Engineering', '--reason', reason, '--json'];
    let busyInARow = 0;
    for (let send = 0; send < MAX_SENDS && !write.ack; send += 1) {
      if (send > 0 && !(await healthy(sqld.httpUrl))) {
        write.problem = `sqld's /health did not come back within 30 s: ${sqld.stderr().slice(-500)}`;
        break;
      }
      if (busyInARow >= 3) {
        // sqld 0.24.32's write lock can get stuck (README): its documented remedy is a restart
        // (never while the trial's own fault is still under way). Counted and printed.
        await fault.done;
        await sqld.restart();
        stuck.restarts += 1;
        busyInARow = 0;
      }
      const started = Date.now();
      const how = send === 0 ? 'first' : words.includes('--idempotency-key') ? 'retryCommand' : 'plain';
      const result = await runBin(BIN, words, DEADLINES);
      if (result.exitCode === 0) {
        const answer = result.json();
        write.ack = { transactionId: answer.transactionId, replayed: answer.replayed, idempotencyKey: write.key };
        write.sends.push({ how, code: 'OK', at: started, ms: Date.now() - started });
        break;
      }
      const error = errorOf(result);
      write.sends.push({ how, code: error.code, at: started, ms: Date.now() - started, message: error.message });
      busyInARow = error.code === 'STORAGE_BUSY' ? busyInARow + 1 : 0;
      if (error.code === 'OUTCOME_UNKNOWN') {
        if (!error.idempotencyKey || !error.retryCommand?.includes(`--idempotency-key ${error.idempotencyKey}`)) {
          write.problem = `OUTCOME_UNKNOWN without a key and a retry command: ${JSON.stringify(error)}`;
          break;
        }
        write.key = error.idempotencyKey;
        words = wordsOf(error.retryCommand);
      } else if (!['STORAGE_TIMEOUT', 'STORAGE_BUSY', 'STORAGE_UNAVAILABLE'].includes(error.code)) {
        write.problem = `exit ${result.exitCode}: ${result.stderr.slice(0, 500)}`;
        break;
      }
      // STORAGE_TIMEOUT, STORAGE_BUSY, STORAGE_UNAVAILABLE: nothing was written; the same words again.
    }
    return write;
  }

  for (const kind of ['kill', 'stop'] as const) {
    it(`${TRIALS} trials of ${kind === 'kill' ? 'kill -9 and restart' : 'SIGSTOP for 1-3 s'}: every acknowledged transfer once, balances add up, verify passes`, async () => {
      const before = (await readLedger(sqld.wsUrl)).balances;
      const trials: Trial[] = [];
      for (let index = 0; index < TRIALS; index += 1) {
        expect(await healthy(sqld.httpUrl), sqld.stderr()).toBe(true);
        const stuck = { restarts: 0 };
        const writer = async (fault: Fault) => {
          const writes: Write[] = [];
          for (let count = 0; count < LEAST_WRITES || (!fault.over() && count < MOST_WRITES); count += 1)
            writes.push(await directWrite(index, kind, count, stuck, fault));
          return writes;
        };
        const trial = await faultTrial(sqld, kind, index, [0, 1000], (fault) => [writer(fault)]);
        trial.sqldRestartsForStuckLock = stuck.restarts;
        trials.push(trial);
      }
      await checkLedger(sqld.wsUrl, `(b) direct writer, ${kind}`, trials, before);
    });
  }
});
