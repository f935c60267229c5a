// The raw better-sqlite3 baselines, run as a child process so each starts fresh.
// Usage: node rawInsert.mjs FILE MODE COUNT
//   MODE per-tx: COUNT single-row inserts, each its own transaction (the transfers baseline)
//   MODE one-tx: COUNT rows in one transaction with one prepared statement (the import baseline)
// Same pragmas as the ledger: WAL, synchronous=FULL, foreign_keys=ON, busy_timeout 5000.
// Prints {count, ms, perSecond} for the insert loop alone.
import Database from 'better-sqlite3';

const [file, mode, countText] = process.argv.slice(2);
const count = Number(countText);
const db = new Database(file);
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.exec(
  'CREATE TABLE IF NOT EXISTS plain (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, user TEXT NOT NULL, model TEXT NOT NULL, at_ms INTEGER NOT NULL, cost INTEGER NOT NULL)',
);
const insert = db.prepare('INSERT INTO plain (event_id, user, model, at_ms, cost) VALUES (?, ?, ?, ?, ?)');
const models = ['gpt-4o-mini', 'claude-3-haiku', 'gpt-3.5-turbo', 'claude-3.5-sonnet'];
const base = Date.UTC(2025, 9, 1);
const started = process.hrtime.bigint();
if (mode === 'per-tx') {
  // BEGIN IMMEDIATE ... COMMIT around each row, as the ledger's write transactions do.
  for (let index = 0; index < count; index += 1) {
    db.exec('BEGIN IMMEDIATE');
    insert.run(`ev-${index}`, `user${index % 8}@bench.example`, models[index % 4], base + index, 1000 + (index % 977));
    db.exec('COMMIT');
  }
} else if (mode === 'one-tx') {
  db.transaction(() => {
    for (let index = 0; index < count; index += 1) {
      insert.run(`ev-${index}`, `user${index % 8}@bench.example`, models[index % 4], base + index, 1000 + (index % 977));
    }
  })();
} else {
  throw new Error(`unknown mode ${mode}`);
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
db.close();
process.stdout.write(`${JSON.stringify({ count, ms, perSecond: (count * 1000) / ms })}\n`);
