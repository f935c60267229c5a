// The HTTP-client variant of concurrencyWorker.mjs, run by concurrencyLoad.mjs (runLoad) in
// several child processes at once against one `credits serve`.
// Usage: node httpWorker.mjs SERVER_URL WORKER DURATION_MS SEED, with CREDITS_TOKEN (operator).
// For DURATION_MS, posts the same random mix as concurrencyWorker.mjs through the REST routes:
// transfers into and out of Engineering (POST /v1/transfers), single usage events by ada and bea
// (POST /v1/usage, group-committed by the server) and card purchases of Basic for Engineering
// (POST /v1/purchases). Every write carries an idempotency key (usage: its event id); a network
// error or a 502/503/504 is retried with the same request, as remote mode does. Prints one JSON
// line per operation once it has its answer: kind, whether it was accepted (acknowledged), the
// error code otherwise, the transaction id from the answer, the attempts and the time in ms.
import { randomBytes } from 'node:crypto';
import { seededRandom } from './seededRandom.mjs';

const [base, workerText, durationText, seedText] = process.argv.slice(2);
const worker = Number(workerText);
const durationMs = Number(durationText);
const token = process.env.CREDITS_TOKEN;
if (!base || !token) throw new Error('usage: CREDITS_TOKEN=... node httpWorker.mjs SERVER_URL WORKER DURATION_MS SEED');
const { random, between } = seededRandom(seedText);

export const USAGE_AT = '2026-06-10T10:00:00Z';
const ATTEMPTS = 4;
const RETRY_STATUSES = new Set([502, 503, 504]);
const REQUEST_TIMEOUT_MS = Number(process.env.CREDITS_SERVER_TIMEOUT_MS || 30_000);
/** Keys of this run: a second run against the same ledger never replays the first one's results. */
const RUN = randomBytes(4).toString('hex');

const lines = [];
const flush = () => {
  if (lines.length > 0) process.stdout.write(lines.splice(0).join(''));
};

class Refused extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** POSTs `body`; retries the very same request on a network error or 502/503/504. */
async function post(path, body, headers, attemptsUsed) {
  let last;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    attemptsUsed.count = attempt;
    let status;
    let text;
    try {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-credits-actor': 'load', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      last = new Refused('NETWORK', String(error?.cause?.code ?? error?.message ?? error), 0);
      await new Promise((resolveWait) => setTimeout(resolveWait, 250 * attempt));
      continue;
    }
    let document;
    try {
      document = JSON.parse(text);
    } catch {
      document = undefined;
    }
    if (status < 300) return { status, document };
    last = new Refused(document?.error?.code ?? `HTTP_${status}`, document?.error?.message ?? text.slice(0, 300), status);
    if (!RETRY_STATUSES.has(status)) throw last;
    await new Promise((resolveWait) => setTimeout(resolveWait, 250 * attempt));
  }
  throw last;
}

async function one(kind, work) {
  const started = process.hrtime.bigint();
  const attempts = { count: 0 };
  let line;
  try {
    const result = await work(attempts);
    line = { kind, ok: true, transactionId: result.transactionId ?? null, ...result.extra };
  } catch (error) {
    line = { kind, ok: false, code: error?.code ?? 'THROWN', status: error?.status, message: String(error?.message ?? error) };
  }
  line.attempts = attempts.count;
  line.ms = Number(process.hrtime.bigint() - started) / 1e6;
  line.worker = worker;
  lines.push(`${JSON.stringify(line)}\n`);
  if (lines.length >= 20) flush();
}

const deadline = Date.now() + durationMs;
let count = 0;
try {
  while (Date.now() < deadline) {
    count += 1;
    const pick = random();
    if (pick < 0.5) {
      const inward = pick < 0.3;
      const millicredits = (inward ? between(1, 30) : between(1, 60)) * 1000;
      const [from, to] = inward ? ['org', 'Engineering'] : ['Engineering', 'Marketing'];
      const key = `load-${RUN}-w${worker}-${count}`;
      await one('transfer', async (attempts) => {
        const { document } = await post(
          '/v1/transfers',
          { amount: String(millicredits / 1000), from, to, reason: `${inward ? 'in' : 'out'} w${worker} #${count}` },
          { 'idempotency-key': key },
          attempts,
        );
        return { transactionId: document.transactionId, extra: { millicredits: document.millicredits, from, to, key, replayed: document.replayed } };
      });
    } else if (pick < 0.95) {
      const ada = pick < 0.75;
      const eventId = `load-${RUN}-w${worker}-${count}`;
      // llama-3.1-groq: 0.05 credits per tool call; ada spends 1 credit, bea 5.
      const event = { eventId, user: ada ? 'ada@example.com' : 'bea@example.com', model: 'llama-3.1-groq', toolCalls: ada ? 20 : 100, at: USAGE_AT };
      await one('usage', async (attempts) => {
        const { status, document } = await post('/v1/usage', event, {}, attempts);
        // 201 posted now; 200 "duplicate" when a retry finds the event posted by an answer that was lost.
        return {
          transactionId: document.transactionId,
          extra: { eventId, user: event.user, millicredits: document.costMillicredits, status: document.status, httpStatus: status },
        };
      });
    } else {
      const key = `load-${RUN}-w${worker}-${count}`;
      await one('purchase', async (attempts) => {
        const { document } = await post('/v1/purchases', { package: 'basic', method: 'card', for: 'Engineering', idempotencyKey: key }, {}, attempts);
        return { transactionId: document.transactionId, extra: { purchaseId: document.purchaseId, millicredits: document.millicredits, key } };
      });
    }
  }
} finally {
  flush();
}
