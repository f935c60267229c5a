// Not run directly: bench/lib/concurrencyLoad.mjs bundles this with esbuild (it imports the
// TypeScript sources) into bench/out/ and runs the bundle in several child processes at once.
// Usage: node concurrency-worker.mjs LEDGER WORKER DURATION_MS SEED
// For DURATION_MS, posts a random mix of operations on the department Engineering through the
// store API, as the CLI commands do (one write transaction each): transfers in from org and out
// to Marketing, usage by ada (who has a daily limit) and by bea, and card purchases of Basic for
// Engineering. Prints one JSON line per operation once the call has returned: its kind, whether
// it was accepted (then it is acknowledged: committed), the error code otherwise, the
// transaction id, and how long the call took in ms (waiting for the write lock included).
import { parseUsageRecord } from '../../src/core/usageRecord.ts';
import { quotePackage } from '../../src/core/packages.ts';
import { openLedger } from '../../src/store/open.ts';
import { buyCredits, transferCredits } from '../../src/store/ops/money.ts';
import { recordUsage } from '../../src/store/ops/usage.ts';
import { seededRandom } from './seededRandom.mjs';

const [location, workerText, durationText, seedText] = process.argv.slice(2);
const worker = Number(workerText);
const durationMs = Number(durationText);
const { random, between } = seededRandom(seedText);

export const USAGE_AT = '2026-06-10T10:00:00Z';
const busyTimeoutMs = Number(process.env.CREDITS_BUSY_TIMEOUT_MS || 5000);
const db = await openLedger({ location, busyTimeoutMs }, { mayCreate: false });
const lines = [];
const flush = () => {
  if (lines.length > 0) process.stdout.write(lines.splice(0).join(''));
};

async function one(kind, work) {
  const started = process.hrtime.bigint();
  let line;
  try {
    const result = await work();
    line = { kind, ok: true, transactionId: result.transactionId ?? null, ...result.extra };
  } catch (error) {
    line = { kind, ok: false, code: error?.code ?? 'THROWN', message: String(error?.message ?? error) };
  }
  line.ms = Number(process.hrtime.bigint() - started) / 1e6;
  line.worker = worker;
  lines.push(`${JSON.stringify(line)}\n`);
  if (lines.length >= 20) flush();
}

const request = (command, args) => ({ command, args, actor: `worker-${worker}`, nowMs: Date.now() });
const deadline = Date.now() + durationMs;
let count = 0;
try {
  while (Date.now() < deadline) {
    count += 1;
    const pick = random();
    if (pick < 0.3) {
      const args = { from: 'org', to: 'Engineering', millicredits: between(1, 30) * 1000, reason: `in w${worker} #${count}` };
      await one('transfer', async () => {
        const result = await transferCredits(db, request('transfer', args), args);
        return { transactionId: result.transactionId, extra: { millicredits: args.millicredits, from: 'org', to: 'Engineering' } };
      });
    } else if (pick < 0.5) {
      const args = { from: 'Engineering', to: 'Marketing', millicredits: between(1, 60) * 1000, reason: `out w${worker} #${count}` };
      await one('transfer', async () => {
        const result = await transferCredits(db, request('transfer', args), args);
        return { transactionId: result.transactionId, extra: { millicredits: args.millicredits, from: 'Engineering', to: 'Marketing' } };
      });
    } else if (pick < 0.95) {
      const ada = pick < 0.75;
      const eventId = `w${worker}-${count}`;
      // llama-3.1-groq: 0.05 credits per tool call; ada spends 1 credit, bea 5.
      const raw = { user: ada ? 'ada@example.com' : 'bea@example.com', model: 'llama-3.1-groq', toolCalls: ada ? 20 : 100, eventId, at: USAGE_AT };
      const record = parseUsageRecord(raw, { timeZone: 'UTC', nowMs: Date.now(), requireEventId: false });
      await one('usage', async () => {
        const result = await recordUsage(db, request('usage record', raw), record, 'UTC');
        return { transactionId: result.transactionId, extra: { eventId, user: raw.user, millicredits: result.costMillicredits } };
      });
    } else {
      const quote = quotePackage('basic', 'card');
      await one('purchase', async () => {
        const result = await buyCredits(db, request('buy', { package: 'basic', method: 'card', for: 'Engineering', n: `${worker}-${count}` }), {
          quote,
          accountName: 'Engineering',
        });
        return { transactionId: result.transactionId, extra: { purchaseId: result.purchaseId, millicredits: result.millicredits } };
      });
    }
  }
} finally {
  flush();
  await db.close();
}
