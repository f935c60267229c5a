import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@libsql/client';
import { freePort } from './sqld.js';

/**
 * Several `credits serve` of one ledger (serve --advertise-url), for test/e2e/leaseServers and
 * the stress suite: start one, kill it (-9), pause it, start it again on the same URL; and a
 * workload of clients writing through all of them with the documented retry, whose acknowledged
 * writes are checked against the ledger afterwards.
 */
export type LeaseNode = {
  name: string;
  url: string;
  pid(): number;
  alive(): boolean;
  stderr(): string;
  /** SIGKILL, and waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (the lease is given back), and waits until the process is gone. */
  stop(): Promise<void>;
  /** A new process on the same port and URL. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a writer that stalls (a long GC pause, a frozen VM) and wakes up later. */
  pause(): void;
  resume(): void;
};

export async function startLeaseNode(bin: string, name: string, primaryUrl: string, options: { lease: string; extraArgs?: string[] }): Promise<LeaseNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [bin, '--db', primaryUrl, 'serve', '--listen', `127.0.0.1:${port}`, '--advertise-url', url, '--lease', options.lease, '--token-cache', '0'];
  let child: ChildProcess;
  let errorText = '';
  const alive = () => child.exitCode === null && child.signalCode === null;
  const ended = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  };
  const launch = async () => {
    child = spawn(process.execPath, [...args, ...(options.extraArgs ?? [])], {
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      errorText = (errorText + chunk).slice(-20_000);
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!alive() || Date.now() > deadline) throw new Error(`credits serve ${name} did not start: ${errorText}`);
      try {
        if ((await fetch(`${url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
  };
  await launch();
  return {
    name,
    url,
    pid: () => child.pid as number,
    alive,
    stderr: () => errorText,
    kill: () => ended('SIGKILL'),
    stop: () => ended('SIGTERM'),
    restart: async () => {
      await ended('SIGKILL');
      await launch();
    },
    pause: () => {
      if (alive()) child.kill('SIGSTOP');
    },
    resume: () => {
      if (alive()) child.kill('SIGCONT');
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolveWait) => setTimeout(resolveWait, ms));

export type Answer = { status: number; body: any; servedBy: string | null };

export async function callNode(node: { url: string }, token: string, method: string, path: string, body?: unknown, key?: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key !== undefined) headers['idempotency-key'] = key;
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: await response.json(), servedBy: response.headers.get('x-credits-served-by') };
}

export async function holderUrlOf(primary: Client): Promise<string> {
  return String((await primary.execute("SELECT url FROM writer_lease WHERE ledger = 'main'")).rows[0]?.url);
}

/** What the clients were told: acknowledged transfers (key -> transaction id) and usage events, refusals, when. */
export type Acks = { transfers: Map<string, number>; events: Set<string>; refused: number; times: number[] };

/**
 * `workers` clients for runMs, each sending through the servers in turn: worker 0 drains
 * Engineering 3 credits at a time (refused once it is empty), the others alternate transfers of
 * 1 credit from the pool to Marketing (with an idempotency key) and usage events of a Marketing
 * user (idempotent by event id). A write without an answer, or with a 5xx, is sent again with the
 * same key through the next live server (the documented retry), up to 12 times.
 */
export async function runWorkload(nodes: readonly LeaseNode[], token: string, options: { workers: number; runMs: number }): Promise<Acks> {
  const acks: Acks = { transfers: new Map(), events: new Set(), refused: 0, times: [] };
  const startedMs = Date.now();
  const post = async (start: number, path: string, body: unknown, key?: string): Promise<Answer> => {
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const node = nodes[(start + attempt) % nodes.length]!;
      if (!node.alive()) continue;
      try {
        const answer = await callNode(node, token, 'POST', path, body, key);
        if (answer.status < 500) return answer;
      } catch {
        // no answer (the server died or stopped under it): the outcome is unknown, so the same key again
      }
      await sleep(100);
    }
    throw new Error(`no answer for ${path} ${key ?? JSON.stringify(body)}`);
  };
  const worker = async (id: number) => {
    for (let i = 0; Date.now() - startedMs < options.runMs; i += 1) {
      if (id === 0 || i % 2 === 0) {
        const key = `t-${id}-${i}`;
        const body = id === 0 ? { amount: '3', from: 'Engineering', to: 'Marketing' } : { amount: '1', from: 'org', to: 'Marketing' };
        const answer = await post(id + i, '/v1/transfers', body, key);
        if (answer.status === 200) {
          acks.transfers.set(key, answer.body.transactionId);
          acks.times.push(Date.now());
        } else if (answer.body?.error?.code === 'INSUFFICIENT_CREDITS') acks.refused += 1;
        else throw new Error(`transfer ${key}: ${answer.status} ${JSON.stringify(answer.body)}`);
      } else {
        const eventId = `u-${id}-${i}`;
        const event = { eventId, user: 'don@example.com', model: 'gpt-4o', inputTokens: 100, outputTokens: 100 };
        const answer = await post(id + i, '/v1/usage', event);
        if (answer.status !== 200 && answer.status !== 201) throw new Error(`usage ${eventId}: ${answer.status} ${JSON.stringify(answer.body)}`);
        acks.events.add(eventId);
        acks.times.push(Date.now());
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, id) => worker(id)));
  return acks;
}

/** The seed the workload needs, through the API of any server (one running process, not a CLI start per command). */
export async function seedThroughApi(nodes: readonly LeaseNode[], token: string): Promise<void> {
  const steps: [string, string[], Record<string, string>][] = [
    ['dept/add', ['Engineering'], {}],
    ['dept/add', ['Marketing'], {}],
    ['dept/add', ['Research'], {}],
    ['user/add', ['don@example.com'], { dept: 'Marketing' }],
    ['buy', ['professional'], { method: 'card' }],
    ['transfer', ['10'], { from: 'org', to: 'Engineering' }],
    ['transfer', ['100'], { from: 'org', to: 'Marketing' }],
  ];
  for (const [index, [command, args, options]] of steps.entries()) {
    const answer = await callNode(nodes[index % nodes.length]!, token, 'POST', `/v1/commands/${command}`, { args, options });
    if (answer.status !== 200) throw new Error(`${command}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/**
 * What the ledger must show after a workload: every acknowledged transfer once, with the id its
 * answer gave, no key posted twice, every acknowledged event present, no department below zero.
 * Returns the problems found (none: an empty list).
 */
export async function checkAcks(primary: Client, acks: Acks): Promise<string[]> {
  const problems: string[] = [];
  const transfers = await primary.execute(
    "SELECT idempotency_key AS k, count(*) AS n, min(id) AS id FROM ledger_transactions WHERE idempotency_key LIKE 't-%' GROUP BY 1",
  );
  const posted = new Map(transfers.rows.map((row) => [String(row.k), { count: Number(row.n), id: Number(row.id) }]));
  for (const [key, transactionId] of acks.transfers) {
    const row = posted.get(key);
    if (row?.count !== 1 || row.id !== transactionId) problems.push(`transfer ${key} acknowledged as ${transactionId}, in the ledger: ${JSON.stringify(row)}`);
  }
  for (const [key, row] of posted) if (row.count !== 1) problems.push(`transfer ${key} posted ${row.count} times`);
  const events = await primary.execute("SELECT event_id AS id FROM usage_events WHERE event_id LIKE 'u-%'");
  const stored = new Set(events.rows.map((row) => String(row.id)));
  for (const eventId of acks.events) if (!stored.has(eventId)) problems.push(`usage event ${eventId} acknowledged, not in the ledger`);
  const negative = await primary.execute("SELECT name, balance_millicredits AS b FROM accounts WHERE kind <> 'world' AND balance_millicredits < 0");
  for (const row of negative.rows) problems.push(`${String(row.name)} is below zero: ${String(row.b)}`);
  const drained = [...acks.transfers.keys()].filter((key) => key.startsWith('t-0-')).length;
  if (drained > 3) problems.push(`Engineering (10 credits) gave ${drained} transfers of 3 credits`);
  return problems;
}

const POSITION_SQL = 'SELECT (SELECT write_seq FROM writer_lease) AS s, (SELECT max(id) FROM ledger_transactions) AS t, (SELECT max(seq) FROM state_log) AS l';

/** Waits until the replica has every write of the primary (bounded). */
export async function replicaCaughtUp(primary: Client, replica: Client, waitMs = 10_000): Promise<void> {
  const target = JSON.stringify((await primary.execute(POSITION_SQL)).rows[0]);
  for (let waited = 0; JSON.stringify((await replica.execute(POSITION_SQL)).rows[0]) !== target; waited += 50) {
    if (waited > waitMs) throw new Error(`the replica did not catch up within ${waitMs} ms`);
    await sleep(50);
  }
}
