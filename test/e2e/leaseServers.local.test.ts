import { spawn, type ChildProcess } from 'node:child_process';
import { createClient, type Client } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { freePort, startSqldPair, type SqldPair } from '../helpers/sqld.js';
import { openLedger } from '../../src/store/open.js';
import { WriterLease } from '../../src/server/lease.js';

/**
 * Several servers, one ledger: a sqld primary with a read replica, three `credits serve` with
 * --advertise-url (two of them reading the replica). One holds the writer lease and writes; the
 * others forward writes to it. The writer is killed with -9 while clients write through all
 * three: another takes the lease when it expires and writes go on, none lost, none twice.
 */
const LEASE_SECONDS = '1.5';
const RUN_MS = 5000;

type Node = { name: string; url: string; child: ChildProcess; stderr(): string; alive(): boolean };

async function startNode(name: string, primaryUrl: string, extraArgs: string[]): Promise<Node> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [BIN, '--db', primaryUrl, 'serve', '--listen', `127.0.0.1:${port}`, '--advertise-url', url, '--lease', LEASE_SECONDS, '--token-cache', '0'];
  const child = spawn(process.execPath, [...args, ...extraArgs], { env: { ...process.env, CI: '1', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let errorText = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    errorText = (errorText + chunk).slice(-20_000);
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!alive() || Date.now() > deadline) throw new Error(`credits serve ${name} did not start: ${errorText}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { name, url, child, stderr: () => errorText, alive };
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

const sleep = (ms: number) => new Promise((resolveWait) => setTimeout(resolveWait, ms));

describe('several servers, one ledger: the writer lease, forwarding and read-your-writes', () => {
  let pair: SqldPair;
  let primary: Client;
  let nodes: Node[] = [];
  let token = '';

  const cli = (db: string, args: string[]) => runCli(['--db', db, ...args], { CI: '1' });
  const holderUrl = async () => String((await primary.execute("SELECT url FROM writer_lease WHERE ledger = 'main'")).rows[0]?.url);

  async function call(node: Node, method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any; servedBy: string | null }> {
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

  beforeAll(async () => {
    // The replica lags 150 ms and more behind: a read through it right after a write would miss the write without the rule.
    pair = await startSqldPair({ replicationDelayMs: 150 });
    primary = createClient({ url: pair.primary.httpUrl, intMode: 'number' });
    const db = pair.primary.httpUrl;
    const made = await cli(db, ['init', '--org', 'Lease GmbH']);
    expect(made.exitCode, made.stderr).toBe(0);
    token = (await cli(db, ['token', 'create', '--role', 'admin', '--name', 'clients', '--json'])).json<{ token: string }>().token;
    // The servers speak Hrana over WebSockets (a round trip ~1 ms on loopback; over HTTP 4-6 ms).
    const replica = ['--replica-db', pair.replica.wsUrl];
    const wsPrimary = pair.primary.wsUrl;
    nodes = await Promise.all([startNode('a', wsPrimary, []), startNode('b', wsPrimary, replica), startNode('c', wsPrimary, replica)]);
    // The rest of the seed through the API (one running process, not a CLI start per command), on any server.
    for (const [index, [command, args, options]] of (
      [
        ['dept/add', ['Engineering'], {}],
        ['dept/add', ['Marketing'], {}],
        ['dept/add', ['Research'], {}],
        ['user/add', ['don@example.com'], { dept: 'Marketing' }],
        ['buy', ['professional'], { method: 'card' }],
        ['transfer', ['10'], { from: 'org', to: 'Engineering' }],
        ['transfer', ['100'], { from: 'org', to: 'Marketing' }],
      ] as const
    ).entries()) {
      const answer = await call(nodes[index % 3]!, 'POST', `/v1/commands/${command}`, { args, options });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes) if (node.alive()) node.child.kill('SIGKILL');
    primary?.close();
    await pair?.stop();
  });

  it('one server holds the lease; a transfer through any server is seen at once by a balance read through another (a replica reader)', async () => {
    const holder = await holderUrl();
    expect(nodes.map((node) => node.url)).toContain(holder);
    let researchMillicredits = 0;
    for (let round = 0; round < 24; round += 1) {
      const writer = nodes[round % 3]!;
      const reader = nodes.filter((node) => node !== writer && node.url !== holder)[round % 2] ?? nodes[(round + 1) % 3]!;
      const moved = await call(writer, 'POST', '/v1/transfers', { amount: '1', from: 'org', to: 'Research' }, `ryw-${round}`);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.servedBy).toBe(writer.url === holder ? null : holder);
      researchMillicredits += 1000;
      const read = await call(reader, 'GET', '/v1/balances?account=Research');
      expect(read.status).toBe(200);
      expect(read.body.accounts[0].millicredits, `round ${round}: ${writer.name} wrote, ${reader.name} read`).toBe(researchMillicredits);
    }
  });

  it('the writer killed with -9 mid-run: another takes the lease, writes go on, each acknowledged write is there once, no overdraft, verify passes on primary and replica', async () => {
    const holder0 = await holderUrl();
    const startedMs = Date.now();
    const ackedTransfers = new Map<string, number>();
    const ackedEvents = new Set<string>();
    const ackTimes: number[] = [];
    let refused = 0;
    let killedAtMs = Number.POSITIVE_INFINITY;
    /** The documented retry: the same idempotency key (or event id) again, through the next live server, until an answer. */
    const post = async (start: number, path: string, body: unknown, key?: string) => {
      for (let attempt = 0; attempt < 12; attempt += 1) {
        const node = nodes[(start + attempt) % nodes.length]!;
        if (!node.alive()) continue;
        try {
          const answer = await call(node, 'POST', path, body, key);
          if (answer.status < 500) return answer;
        } catch {
          // no answer (the server died under it): the outcome is unknown, so the same key again
        }
        await sleep(100);
      }
      throw new Error(`no answer for ${path} ${key ?? JSON.stringify(body)}`);
    };
    /** Worker 0 drains Engineering (10 credits) 3 at a time: the fourth and every later transfer must be refused. */
    const worker = async (id: number) => {
      for (let i = 0; Date.now() - startedMs < RUN_MS; i += 1) {
        if (id === 0 || i % 2 === 0) {
          const key = `t-${id}-${i}`;
          const body = id === 0 ? { amount: '3', from: 'Engineering', to: 'Marketing' } : { amount: '1', from: 'org', to: 'Marketing' };
          const answer = await post(id + i, '/v1/transfers', body, key);
          if (answer.status === 200) {
            ackedTransfers.set(key, answer.body.transactionId);
            ackTimes.push(Date.now());
          } else {
            expect(answer.body.error.code, JSON.stringify(answer.body)).toBe('INSUFFICIENT_CREDITS');
            refused += 1;
          }
        } else {
          const eventId = `u-${id}-${i}`;
          const event = { eventId, user: 'don@example.com', model: 'gpt-4o', inputTokens: 100, outputTokens: 100 };
          const answer = await post(id + i, '/v1/usage', event);
          expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);
          ackedEvents.add(eventId);
          ackTimes.push(Date.now());
        }
      }
    };
    const killer = (async () => {
      await sleep(1500);
      const holder = nodes.find((node) => node.url === holder0)!;
      holder.child.kill('SIGKILL');
      killedAtMs = Date.now();
    })();
    await Promise.all([...[0, 1, 2, 3, 4, 5].map(worker), killer]);

    const newHolder = await holderUrl();
    expect(newHolder).not.toBe(holder0);
    // Writes went on after the kill, through the new holder.
    expect(ackTimes.filter((at) => at > killedAtMs + 100).length).toBeGreaterThan(5);
    expect(ackedTransfers.size).toBeGreaterThan(10);
    expect(ackedEvents.size).toBeGreaterThan(5);
    // Engineering ran dry on the way: three transfers of 3 credits, then only refusals.
    expect(refused).toBeGreaterThan(0);
    expect([...ackedTransfers.keys()].filter((key) => key.startsWith('t-0-')).length).toBe(3);

    const transfers = await primary.execute(
      "SELECT idempotency_key AS k, count(*) AS n, min(id) AS id FROM ledger_transactions WHERE idempotency_key LIKE 't-%' GROUP BY 1",
    );
    const posted = new Map(transfers.rows.map((row) => [String(row.k), { count: Number(row.n), id: Number(row.id) }]));
    for (const [key, transactionId] of ackedTransfers) expect(posted.get(key), key).toEqual({ count: 1, id: transactionId });
    expect([...posted.values()].every((row) => row.count === 1)).toBe(true);
    const events = await primary.execute("SELECT event_id AS id FROM usage_events WHERE event_id LIKE 'u-%'");
    const stored = new Set(events.rows.map((row) => String(row.id)));
    for (const eventId of ackedEvents) expect(stored.has(eventId), eventId).toBe(true);
    const negative = await primary.execute("SELECT count(*) AS n FROM accounts WHERE kind <> 'world' AND balance_millicredits < 0");
    expect(Number(negative.rows[0]!.n)).toBe(0);

    const verified = await cli(pair.primary.httpUrl, ['verify', '--json']);
    expect(verified.exitCode, verified.stderr + verified.stdout).toBe(0);
    // The replica, once it has every write of the primary.
    const position = 'SELECT (SELECT write_seq FROM writer_lease) AS s, (SELECT max(id) FROM ledger_transactions) AS t, (SELECT max(seq) FROM state_log) AS l';
    const target = JSON.stringify((await primary.execute(position)).rows[0]);
    const replica = createClient({ url: pair.replica.httpUrl, intMode: 'number' });
    try {
      for (let waited = 0; JSON.stringify((await replica.execute(position)).rows[0]) !== target; waited += 50) {
        if (waited > 10_000) throw new Error('the replica did not catch up within 10 s');
        await sleep(50);
      }
    } finally {
      replica.close();
    }
    const onReplica = await cli(pair.replica.httpUrl, ['verify', '--json']);
    expect(onReplica.exitCode, onReplica.stderr + onReplica.stdout).toBe(0);
  }, 40_000);

  it('a writer whose lease was taken while it was paused writes nothing (the fence in its transaction) and stops believing it holds it', async () => {
    for (const node of nodes) if (node.alive()) node.child.kill('SIGTERM');
    await Promise.all(nodes.map((node) => (node.alive() ? new Promise((resolveExit) => node.child.once('exit', resolveExit)) : undefined)));
    const target = { location: pair.primary.httpUrl, busyTimeoutMs: 5000, timeoutMs: 10_000 };
    const [dbA, dbB] = await Promise.all([openLedger(target, { mayCreate: false }), openLedger(target, { mayCreate: false })]);
    const quiet = () => undefined;
    const a = new WriterLease(dbA, { advertiseUrl: 'http://127.0.0.1:1', leaseMs: 60_000, log: quiet });
    const b = new WriterLease(dbB, { advertiseUrl: 'http://127.0.0.1:2', leaseMs: 60_000, log: quiet });
    try {
      await a.start();
      expect(a.held()).toBe(true);
      // A pause of A past its lease, as the database sees it: the lease expires, and B takes it.
      await primary.execute("UPDATE writer_lease SET expires_ms = 0 WHERE ledger = 'main'");
      await b.start();
      expect(b.held()).toBe(true);
      expect(a.held()).toBe(true); // A wakes up still believing it holds the lease
      const rename = (db: string) => async (tx: { run(sql: string, args?: (string | number)[]): void }) =>
        tx.run("UPDATE accounts SET cost_center = ? WHERE name = 'Marketing'", [db]);
      await expect(a.write(rename('A'))).rejects.toMatchObject({ code: 'LEASE_LOST', details: { outcome: 'not applied' } });
      expect(a.held()).toBe(false);
      expect(a.holderUrl()).toBeUndefined();
      await b.write(rename('B'));
      const row = await primary.execute("SELECT cost_center AS c FROM accounts WHERE name = 'Marketing'");
      expect(row.rows[0]!.c).toBe('B');
      const verified = await cli(pair.primary.httpUrl, ['verify', '--json']);
      expect(verified.exitCode, verified.stderr + verified.stdout).toBe(0);
    } finally {
      await a.stop();
      await b.stop();
      await dbA.close();
      await dbB.close();
    }
  });
});
