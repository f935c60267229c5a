// The floor of a full verify, run as a child process: THREADS worker threads (2), each reading
// every column of its share of usage_events (by id range) with better-sqlite3 and one SHA-256
// over all of it. Usage: node scanFloor.mjs FILE [THREADS]. Prints {rows, ms} for the whole scan.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (isMainThread) {
  const [file, threadsText = '2'] = process.argv.slice(2);
  const threads = Number(threadsText);
  const started = process.hrtime.bigint();
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const { first, last } = db.prepare('SELECT min(id) AS first, max(id) AS last FROM usage_events').get();
  db.close();
  const span = last - first + 1;
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, index) => {
      const from = first + Math.floor((index * span) / threads);
      const to = first + Math.floor(((index + 1) * span) / threads) - 1;
      return new Promise((resolveRows, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { file, from, to } });
        worker.once('message', resolveRows);
        worker.once('error', reject);
      });
    }),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ rows: parts.reduce((total, part) => total + part.rows, 0), ms })}\n`);
} else {
  const { file, from, to } = workerData;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const hash = createHash('sha256');
  let rows = 0;
  for (const row of db.prepare('SELECT * FROM usage_events WHERE id BETWEEN ? AND ? ORDER BY id').raw(true).iterate(from, to)) {
    hash.update(row.join('\t'));
    rows += 1;
  }
  db.close();
  parentPort.postMessage({ rows, digest: hash.digest('hex') });
}
