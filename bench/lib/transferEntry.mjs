// Not run directly: bench/transfers.mjs bundles this with esbuild (it imports the TypeScript
// sources) into bench/out/ and runs the bundle in a child process.
// Usage: node transfer-bench.mjs LEDGER COUNT FROM TO
// Makes COUNT transfers back and forth between two departments through the store API, each its
// own write transaction with its audit row (as `credits transfer` does), and prints the rate.
import { openLedger } from '../../src/store/open.ts';
import { transferCredits } from '../../src/store/ops/money.ts';

const [location, countText, first, second] = process.argv.slice(2);
const count = Number(countText);
const db = await openLedger({ location, busyTimeoutMs: 5000 }, { mayCreate: false });
try {
  const millicredits = 1500;
  const reason = 'bench';
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) {
    const [from, to] = index % 2 === 0 ? [first, second] : [second, first];
    const args = { from, to, millicredits, reason };
    await transferCredits(db, { command: 'transfer', args, actor: 'bench', nowMs: Date.now() }, args);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${JSON.stringify({ count, ms, perSecond: (count * 1000) / ms })}\n`);
} finally {
  await db.close();
}
