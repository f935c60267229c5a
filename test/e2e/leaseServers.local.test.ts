import { createClient, type Client } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { startSqldPair, type SqldPair } from '../helpers/sqld.js';
import {
  callNode,
  checkAcks,
  holderUrlOf,
  replicaCaughtUp,
  runWorkload,
  seedThroughApi,
  sleep,
  startLeaseNode,
  type LeaseNode,
} from '../helpers/leaseCluster.js';
import { openLedger } from '../../src/store/open.js';
import { WriterLease } from '../../src/server/lease.js';

/**
 * Several servers, one ledger: a sqld primary with a read replica, three `credits serve` with
 * --advertise-url (two of them reading the replica). One holds the writer lease and writes; the
 * others forward writes to it. The writer is killed with -9 while clients write through all
 * three: another takes the lease when it expires and writes go on, none lost, none twice.
 * test/stress/leaseServers.stress.test.ts runs the same longer, with kills, pauses and restarts.
 */
const LEASE_SECONDS = '1.5';
const RUN_MS = 5000;

describe('several servers, one ledger: the writer lease, forwarding and read-your-writes', () => {
  let pair: SqldPair;
  let primary: Client;
  let nodes: LeaseNode[] = [];
  let token = '';

  const cli = (db: string, args: string[]) => runCli(['--db', db, ...args], { CI: '1' });

  beforeAll(async () => {
    // The replica lags 150 ms and more behind: a read through it right after a write would miss the write without the rule.
    pair = await startSqldPair({ replicationDelayMs: 150 });
    primary = createClient({ url: pair.primary.httpUrl, intMode: 'number' });
    const made = await cli(pair.primary.httpUrl, ['init', '--org', 'Lease GmbH']);
    expect(made.exitCode, made.stderr).toBe(0);
    token = (await cli(pair.primary.httpUrl, ['token', 'create', '--role', 'admin', '--name', 'clients', '--json'])).json<{ token: string }>().token;
    // The servers speak Hrana over WebSockets (a round trip ~1 ms on loopback; over HTTP 4-6 ms).
    const replica = ['--replica-db', pair.replica.wsUrl];
    const start = (name: string, extraArgs: string[]) => startLeaseNode(BIN, name, pair.primary.wsUrl, { lease: LEASE_SECONDS, extraArgs });
    nodes = await Promise.all([start('a', []), start('b', replica), start('c', replica)]);
    await seedThroughApi(nodes, token);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    primary?.close();
    await pair?.stop();
  });

  it('one server holds the lease; a transfer through any server is seen at once by a balance read through another (a replica reader)', async () => {
    const holder = await holderUrlOf(primary);
    expect(nodes.map((node) => node.url)).toContain(holder);
    let researchMillicredits = 0;
    for (let round = 0; round < 16; round += 1) {
      const writer = nodes[round % 3]!;
      const reader = nodes.filter((node) => node !== writer && node.url !== holder)[round % 2] ?? nodes[(round + 1) % 3]!;
      const moved = await callNode(writer, token, 'POST', '/v1/transfers', { amount: '1', from: 'org', to: 'Research' }, `ryw-${round}`);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(moved.servedBy).toBe(writer.url === holder ? null : holder);
      researchMillicredits += 1000;
      const read = await callNode(reader, token, 'GET', '/v1/balances?account=Research');
      expect(read.status).toBe(200);
      expect(read.body.accounts[0].millicredits, `round ${round}: ${writer.name} wrote, ${reader.name} read`).toBe(researchMillicredits);
    }
  });

  it('the writer killed with -9 mid-run: another takes the lease, writes go on, each acknowledged write is there once, no overdraft, verify passes on primary and replica', async () => {
    const holderUrl = await holderUrlOf(primary);
    let killedAtMs = Number.POSITIVE_INFINITY;
    const killer = (async () => {
      await sleep(1500);
      await nodes.find((node) => node.url === holderUrl)!.kill();
      killedAtMs = Date.now();
    })();
    const [acks] = await Promise.all([runWorkload(nodes, token, { workers: 6, runMs: RUN_MS }), killer]);

    expect(await holderUrlOf(primary)).not.toBe(holderUrl);
    // Writes went on after the kill, through the new holder.
    expect(acks.times.filter((at) => at > killedAtMs + 100).length).toBeGreaterThan(5);
    expect(acks.transfers.size).toBeGreaterThan(10);
    expect(acks.events.size).toBeGreaterThan(5);
    // Engineering ran dry on the way: three transfers of 3 credits, then only refusals.
    expect(acks.refused).toBeGreaterThan(0);
    expect([...acks.transfers.keys()].filter((key) => key.startsWith('t-0-')).length).toBe(3);
    expect(await checkAcks(primary, acks)).toEqual([]);

    const verified = await cli(pair.primary.httpUrl, ['verify', '--json']);
    expect(verified.exitCode, verified.stderr + verified.stdout).toBe(0);
    const replica = createClient({ url: pair.replica.httpUrl, intMode: 'number' });
    try {
      await replicaCaughtUp(primary, replica);
    } finally {
      replica.close();
    }
    const onReplica = await cli(pair.replica.httpUrl, ['verify', '--json']);
    expect(onReplica.exitCode, onReplica.stderr + onReplica.stdout).toBe(0);
  }, 40_000);

  it('a writer whose lease was taken while it was paused writes nothing (the fence in its transaction) and stops believing it holds it', async () => {
    await Promise.all(nodes.map((node) => node.stop()));
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
      // Nothing of A's write reached the ledger (not merely overwritten by B's below).
      const untouched = await primary.execute("SELECT cost_center AS c FROM accounts WHERE name = 'Marketing'");
      expect(untouched.rows[0]!.c).not.toBe('A');
      await b.write(rename('B'));
      const row = await primary.execute("SELECT cost_center AS c FROM accounts WHERE name = 'Marketing'");
      expect(row.rows[0]!.c).toBe('B');
      const verified = await cli(pair.primary.httpUrl, ['verify', '--json']);
      expect(verified.exitCode, verified.stderr + verified.stdout).toBe(0);
      // A server started without --advertise-url beside a live holder would be a second writer: it does not start.
      const lone = await cli(pair.primary.wsUrl, ['serve', '--listen', '127.0.0.1:0', '--json']);
      expect(lone.exitCode, lone.stderr).toBe(2);
      expect(lone.stderr).toContain('http://127.0.0.1:2 holds its writer lease');
      const [noAdvert, badUrl, shortLease] = await Promise.all([
        cli(pair.primary.wsUrl, ['serve', '--replica-db', pair.replica.wsUrl, '--json']),
        cli(pair.primary.wsUrl, ['serve', '--advertise-url', 'http://user:pw@10.0.0.5:8787/x', '--json']),
        cli(pair.primary.wsUrl, ['serve', '--advertise-url', 'http://10.0.0.5:8787', '--lease', '0.2', '--json']),
      ]);
      expect([noAdvert, badUrl, shortLease].map((result) => [result.exitCode, JSON.parse(result.stderr).error.code])).toEqual([
        [2, 'USAGE'],
        [2, 'INVALID_VALUE'],
        [2, 'INVALID_VALUE'],
      ]);
    } finally {
      await a.stop();
      await b.stop();
      await dbA.close();
      await dbB.close();
    }
  });
});
