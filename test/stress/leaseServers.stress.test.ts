import { createClient, type Client } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAcks, holderUrlOf, replicaCaughtUp, runWorkload, seedThroughApi, sleep, startLeaseNode, type LeaseNode } from '../helpers/leaseCluster.js';
import { startSqldPair, type SqldPair } from '../helpers/sqld.js';
import { runBin, takeCliSnapshot } from './snapshot.js';

/**
 * Several servers, one ledger, for longer than `npm test` affords (test/e2e/leaseServers is the
 * short one): three `credits serve` on a sqld primary with a replica 50 ms behind, six clients
 * writing through all of them for CREDITS_LEASE_RUN_MS (30 s), and every 4 to 6 s a fault of the
 * writer: killed with -9 (started again 2 s later on the same URL), or paused with SIGSTOP for
 * 2.5 leases and woken up after another server took the lease (the fence must refuse what it
 * was writing). Afterwards every acknowledged write is in the ledger once, nothing is below zero,
 * and `verify` passes on the primary and on the replica.
 */
const LEASE_SECONDS = '1.5';
const RUN_MS = Number(process.env.CREDITS_LEASE_RUN_MS || 30_000);

describe('several servers, one ledger, under repeated faults of the writer', () => {
  let pair: SqldPair;
  let primary: Client;
  let nodes: LeaseNode[] = [];
  let token = '';
  let snapshot: { bin: string; remove(): void };

  beforeAll(async () => {
    snapshot = takeCliSnapshot();
    pair = await startSqldPair({ replicationDelayMs: 50 });
    primary = createClient({ url: pair.primary.httpUrl, intMode: 'number' });
    const made = await runBin(snapshot.bin, ['--db', pair.primary.httpUrl, 'init', '--org', 'Lease stress'], { CI: '1' });
    expect(made.exitCode, made.stderr).toBe(0);
    const created = await runBin(snapshot.bin, ['--db', pair.primary.httpUrl, 'token', 'create', '--role', 'admin', '--json'], { CI: '1' });
    token = (JSON.parse(created.stdout) as { token: string }).token;
    const replica = ['--replica-db', pair.replica.wsUrl];
    const start = (name: string, extraArgs: string[]) => startLeaseNode(snapshot.bin, name, pair.primary.wsUrl, { lease: LEASE_SECONDS, extraArgs });
    nodes = await Promise.all([start('a', []), start('b', replica), start('c', replica)]);
    await seedThroughApi(nodes, token);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    primary?.close();
    await pair?.stop();
    snapshot?.remove();
  });

  it('no acknowledged write lost or posted twice, no overdraft, verify passes on primary and replica', async () => {
    const startedMs = Date.now();
    const faults: string[] = [];
    const chaos = (async () => {
      for (let round = 0; Date.now() - startedMs < RUN_MS - 8000; round += 1) {
        await sleep(4000 + Math.floor(Math.random() * 2000));
        const url = await holderUrlOf(primary);
        const holder = nodes.find((node) => node.url === url && node.alive());
        if (!holder) continue;
        if (round % 2 === 0) {
          faults.push(`kill -9 ${holder.name}`);
          await holder.kill();
          await sleep(2000);
          await holder.restart();
        } else {
          faults.push(`SIGSTOP ${holder.name}`);
          holder.pause();
          await sleep(Number(LEASE_SECONDS) * 2500);
          holder.resume();
        }
      }
    })();
    const [acks] = await Promise.all([runWorkload(nodes, token, { workers: 6, runMs: RUN_MS }), chaos]);
    console.log(
      `lease stress: ${acks.transfers.size} transfers and ${acks.events.size} usage events acknowledged, ${acks.refused} refused, in ${((Date.now() - startedMs) / 1000).toFixed(1)} s; faults: ${faults.join(', ')}; fenced writes (LEASE_LOST) on ${nodes.filter((node) => node.stderr().includes('a write found it taken or expired')).length} server(s)`,
    );
    expect(faults.length).toBeGreaterThan(1);
    expect(await checkAcks(primary, acks)).toEqual([]);
    // Writes went on after the last fault.
    expect(acks.times.filter((at) => at > Date.now() - 4000).length).toBeGreaterThan(0);

    const verified = await runBin(snapshot.bin, ['--db', pair.primary.httpUrl, 'verify', '--json'], { CI: '1' });
    expect(verified.exitCode, verified.stderr + verified.stdout).toBe(0);
    const replica = createClient({ url: pair.replica.httpUrl, intMode: 'number' });
    try {
      await replicaCaughtUp(primary, replica, 20_000);
    } finally {
      replica.close();
    }
    const onReplica = await runBin(snapshot.bin, ['--db', pair.replica.httpUrl, 'verify', '--json'], { CI: '1' });
    expect(onReplica.exitCode, onReplica.stderr + onReplica.stdout).toBe(0);
  });
});
