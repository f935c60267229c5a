// Usage events posted per second through the HTTP API (`credits serve`, issue 6): single events
// (POST /v1/usage, many clients at once) and batches of 1,000 (POST /v1/usage/batch), each with
// p50/p99 request latency, first with the server on a local ledger file, then on sqld on
// loopback. Targets on a local ledger: >= 5,000 single events/s and >= 50,000 events/s in
// batches. The client runs in this process (keep-alive connections), the server is the built
// CLI in a child process.
//
//   node bench/api.mjs                  prints the figures (npm run build first)
//   import { apiThroughput } from './api.mjs'   rows for bench/run.mjs
//
// Environment: BENCH_API_SINGLE (single events on the local ledger, default 20000),
// BENCH_API_CONCURRENCY (clients posting single events at once, 64), BENCH_API_BATCHES
// (batches of 1,000 on the local ledger, 100), BENCH_API_BATCH_CONCURRENCY (4),
// BENCH_API_REMOTE_SINGLE (3000) and BENCH_API_REMOTE_BATCHES (20) for sqld; BENCH_API_REMOTE=0
// skips sqld.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHILD_ENV, CLI, cli, envInt, freePort, log, nowMs, removeDir, row, seedLedger, snapshotCli, startSqld, workDir, printRows } from './lib/util.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, creditsPerDepartment, userEmails } from './lib/events.mjs';

const MODELS = ['gpt-4o-mini', 'claude-3-haiku', 'gpt-3.5-turbo', 'claude-3.5-sonnet', 'gpt-4o', 'llama-3.1-groq'];

function makeEvent(prefix, index, users) {
  return {
    eventId: `${prefix}-${index}`,
    user: users[index % users.length],
    model: MODELS[index % MODELS.length],
    inputTokens: 50 + ((index * 7919) % 1500),
    outputTokens: 20 + ((index * 104729) % 800),
    toolCalls: index % 3,
    feature: index % 2 ? 'chat' : 'summarize',
  };
}

export function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

/** Starts `credits serve` on a free loopback port over `db`; resolves when /health answers. */
export async function startServe(db) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the server (not allowed in NODE_OPTIONS).
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, '--db', db, 'serve', '--listen', `127.0.0.1:${port}`, '--quiet'], {
    env: CHILD_ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`credits serve exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`credits serve did not answer at ${url}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A keep-alive HTTP client: post() resolves with the status and the milliseconds it took. */
export function client(url, token, sockets) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  return {
    post(path, body) {
      const payload = Buffer.from(JSON.stringify(body));
      const started = nowMs();
      return new Promise((resolve, reject) => {
        const call = request(
          {
            host: target.hostname,
            port: target.port,
            path,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` },
          },
          (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode, ms: nowMs() - started, body: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        call.on('error', reject);
        call.end(payload);
      });
    },
    get(path) {
      const started = nowMs();
      return new Promise((resolve, reject) => {
        const call = request({ host: target.hostname, port: target.port, path, method: 'GET', agent }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode, ms: nowMs() - started, body: '' }));
        });
        call.on('error', reject);
        call.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/** `count` requests made by `concurrency` workers; latency of each, failures counted. */
export async function drive(count, concurrency, send) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  let firstFailure = null;
  const started = nowMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= count) return;
        const answer = await send(index);
        latencies.push(answer.ms);
        if (!answer.ok) {
          failures += 1;
          firstFailure ??= `${answer.status}: ${answer.body.slice(0, 200)}`;
        }
      }
    }),
  );
  const wallMs = nowMs() - started;
  latencies.sort((a, b) => a - b);
  return { wallMs, failures, firstFailure, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Single events and batches against one ledger (a path or a URL the server opens). */
async function measure(label, seedDb, serveDb, { singles, concurrency, batches, batchConcurrency }) {
  const users = userEmails();
  log(`${label}: seeding`);
  seedLedger(seedDb, {
    departments: DEPARTMENTS,
    usersPerDepartment: USERS_PER_DEPARTMENT,
    creditsPerDepartment: creditsPerDepartment(singles + batches * 1000 + 1000),
  });
  const token = cli(seedDb, ['token', 'create', '--role', 'usage-writer', '--name', 'bench', '--json']).token;
  const server = await startServe(serveDb);
  const http = client(server.url, token, Math.max(concurrency, batchConcurrency));
  try {
    // Warm-up: lazy modules, JIT, prepared statements.
    await drive(300, 16, async (index) => {
      const answer = await http.post('/v1/usage', makeEvent('warm', index, users));
      return { ...answer, ok: answer.status === 201 };
    });
    log(`${label}: ${singles.toLocaleString('en-US')} single events, ${concurrency} clients`);
    const single = await drive(singles, concurrency, async (index) => {
      const answer = await http.post('/v1/usage', makeEvent('single', index, users));
      return { ...answer, ok: answer.status === 201 };
    });
    const singleRate = (singles - single.failures) / (single.wallMs / 1000);
    log(
      `${label}: single: ${singleRate.toFixed(0)} events/s, p50 ${single.p50.toFixed(1)} ms, p99 ${single.p99.toFixed(1)} ms${single.failures ? `, ${single.failures} failed (${single.firstFailure})` : ''}`,
    );
    // The ceiling of the HTTP stack itself on this machine now: GET /metrics (no database), same clients.
    const health = await drive(singles, concurrency, async () => {
      const answer = await http.get('/metrics');
      return { ...answer, ok: answer.status === 200 };
    });
    const healthRate = singles / (health.wallMs / 1000);
    log(`${label}: GET /metrics: ${healthRate.toFixed(0)} requests/s`);

    log(`${label}: ${batches} batches of 1,000, ${batchConcurrency} clients`);
    const batch = await drive(batches, batchConcurrency, async (index) => {
      const events = Array.from({ length: 1000 }, (_, offset) => makeEvent(`batch-${index}`, offset, users));
      const answer = await http.post('/v1/usage/batch', { events });
      let accepted = 0;
      try {
        accepted = JSON.parse(answer.body).accepted ?? 0;
      } catch {
        // counted as a failure below
      }
      return { ...answer, ok: answer.status === 200 && accepted === 1000 };
    });
    const batchRate = ((batches - batch.failures) * 1000) / (batch.wallMs / 1000);
    log(
      `${label}: batches: ${batchRate.toFixed(0)} events/s, p50 ${batch.p50.toFixed(1)} ms, p99 ${batch.p99.toFixed(1)} ms per batch${batch.failures ? `, ${batch.failures} failed (${batch.firstFailure})` : ''}`,
    );
    const verify = cli(seedDb, ['verify', '--json']);
    if (!verify.ok) throw new Error(`${label}: the ledger does not verify after the run: ${JSON.stringify(verify.problems?.slice(0, 3))}`);
    return { single, singleRate, healthRate, batch, batchRate };
  } finally {
    http.close();
    await server.stop();
  }
}

/** `credits usage import` of `count` new events into the ledger, for the batch baseline. */
function importRate(db, count) {
  const users = userEmails();
  const lines = Array.from({ length: count }, (_, index) => JSON.stringify(makeEvent('import', index, users))).join('\n');
  const started = nowMs();
  const result = cli(db, ['usage', 'import', '-', '--format', 'jsonl', '--json'], { input: `${lines}\n` });
  const seconds = (nowMs() - started) / 1000;
  return { rate: result.accepted / seconds, accepted: result.accepted };
}

export async function apiThroughput() {
  const local = {
    singles: envInt('BENCH_API_SINGLE', 20_000),
    concurrency: envInt('BENCH_API_CONCURRENCY', 64),
    batches: envInt('BENCH_API_BATCHES', 100),
    batchConcurrency: envInt('BENCH_API_BATCH_CONCURRENCY', 4),
  };
  const remote = { ...local, singles: envInt('BENCH_API_REMOTE_SINGLE', 3000), batches: envInt('BENCH_API_REMOTE_BATCHES', 20) };
  const rows = [];
  const dir = workDir('api');
  let sqld;
  try {
    const ledger = join(dir, 'ledger.db');
    const onFile = await measure('local ledger', ledger, ledger, local);
    const imported = importRate(ledger, local.batches * 1000);
    log(`local ledger: credits usage import of ${imported.accepted.toLocaleString('en-US')} events: ${imported.rate.toFixed(0)} events/s`);
    const failures = (result) => (result.failures ? ` ${result.failures} request(s) failed: ${result.firstFailure}.` : '');
    rows.push(
      row({
        name: `API single events, local ledger (${local.singles.toLocaleString('en-US')} events, ${local.concurrency} clients)`,
        value: onFile.singleRate,
        unit: 'events/s',
        baselineName: 'GET /metrics through the same clients (the HTTP stack alone, no database)',
        baselineValue: onFile.healthRate,
        ratio: onFile.singleRate / onFile.healthRate,
        target: '>= 5,000 events/s',
        meets: onFile.single.failures === 0 && onFile.singleRate >= 5000,
        note: `POST /v1/usage, one event per request, keep-alive, client and server on the same machine; concurrent requests are group-committed (one write transaction per queue drain).${failures(onFile.single)}`,
      }),
      row({
        name: 'API single events, local ledger: latency p50',
        value: onFile.single.p50,
        unit: 'ms',
        target: null,
        meets: null,
        note: `with ${local.concurrency} requests in flight`,
      }),
      row({ name: 'API single events, local ledger: latency p99', value: onFile.single.p99, unit: 'ms', target: null, meets: null }),
      row({
        name: `API batches of 1,000, local ledger (${local.batches} batches, ${local.batchConcurrency} clients)`,
        value: onFile.batchRate,
        unit: 'events/s',
        baselineName: '`credits usage import` of as many events, same ledger (whole command)',
        baselineValue: imported.rate,
        ratio: onFile.batchRate / imported.rate,
        target: '>= 50,000 events/s',
        meets: onFile.batch.failures === 0 && onFile.batchRate >= 50_000,
        note: `POST /v1/usage/batch, one write transaction per batch.${failures(onFile.batch)}`,
      }),
      row({ name: 'API batches of 1,000, local ledger: latency p50', value: onFile.batch.p50, unit: 'ms per batch', target: null, meets: null }),
      row({ name: 'API batches of 1,000, local ledger: latency p99', value: onFile.batch.p99, unit: 'ms per batch', target: null, meets: null }),
    );
    if (process.env.BENCH_API_REMOTE !== '0') {
      sqld = await startSqld();
      const ws = sqld.url.replace(/^http/, 'ws');
      const onSqld = await measure('sqld', sqld.url, ws, remote);
      rows.push(
        row({
          name: `API single events, sqld on loopback (${remote.singles.toLocaleString('en-US')} events, ${remote.concurrency} clients)`,
          value: onSqld.singleRate,
          unit: 'events/s',
          baselineName: 'the same on a local ledger',
          baselineValue: onFile.singleRate,
          ratio: onSqld.singleRate / onFile.singleRate,
          target: 'none set',
          meets: null,
          note: `server on ${ws}; p50 ${onSqld.single.p50.toFixed(1)} ms, p99 ${onSqld.single.p99.toFixed(1)} ms.${failures(onSqld.single)}`,
        }),
        row({
          name: `API batches of 1,000, sqld on loopback (${remote.batches} batches)`,
          value: onSqld.batchRate,
          unit: 'events/s',
          baselineName: 'the same on a local ledger',
          baselineValue: onFile.batchRate,
          ratio: onSqld.batchRate / onFile.batchRate,
          target: 'none set',
          meets: null,
          note: `p50 ${onSqld.batch.p50.toFixed(1)} ms, p99 ${onSqld.batch.p99.toFixed(1)} ms per batch.${failures(onSqld.batch)}`,
        }),
      );
    }
    return rows;
  } finally {
    if (sqld) await sqld.stop();
    removeDir(dir);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const snapshot = snapshotCli();
  try {
    printRows(await apiThroughput());
  } finally {
    snapshot.remove();
  }
}
