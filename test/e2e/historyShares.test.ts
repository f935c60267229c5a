import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, freshLedger, removeDir, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

type Leg = { account: string; millicredits: number; summary?: boolean };
type Transaction = { id: number; kind: string; memo: string; entries: Leg[] };
type History = { transactions: Transaction[] };

const SUMMARY = 'other accounts';

function sumOf(legs: Leg[]): number {
  return legs.reduce((sum, leg) => sum + leg.millicredits, 0);
}

/** What a reader of `own` may see: only its legs, org and world, one summary leg last, and zero sums. */
function expectOnlyShareOf(transactions: Transaction[], otherDepartments: string[]): void {
  expect(transactions.length).toBeGreaterThan(0);
  for (const transaction of transactions) {
    const accounts = transaction.entries.map((leg) => leg.account);
    expect({ id: transaction.id, others: accounts.filter((name) => otherDepartments.includes(name)) }).toEqual({ id: transaction.id, others: [] });
    expect({ id: transaction.id, sum: sumOf(transaction.entries) }).toEqual({ id: transaction.id, sum: 0 });
    const summaries = transaction.entries.filter((leg) => leg.account === SUMMARY);
    expect(summaries.length).toBeLessThanOrEqual(1);
    if (summaries.length === 1) {
      expect(summaries[0]).toMatchObject({ summary: true });
      expect(transaction.entries.at(-1)).toBe(summaries[0]);
    }
  }
}

// A usage import or an API group commit puts several departments in one ledger transaction;
// `history --dept X` (pinned for a token bound to X) and `history --user U` show only X's or
// U's share of it, with the rest as one summary leg.
describe('history: a department sees its share of each transaction, never another department', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let salesReader: string;
  let dir: string;
  let otherDepartments: string[];
  let whole: Transaction[];

  beforeAll(async () => {
    ledger = await freshLedger();
    await ledger.ok(['init', '--demo']);
    // A transfer between two departments, and one import of three users of two departments in
    // which Sales, out of credits, draws on its org overdraft.
    await ledger.ok(['transfer', '100', '--from', 'Engineering', '--to', 'Sales', '--reason', 'shared licence']);
    await ledger.ok(['transfer', (((await balanceOf(ledger, 'Sales')) - 266) / 1000).toFixed(3), '--from', 'Sales', '--to', 'org']);
    await ledger.ok(['dept', 'set', 'Sales', '--overdraft-from', 'org', '--overdraft-max', '500']);
    dir = mkdtempSync(join(tmpdir(), 'credits-history-'));
    const events = [
      { eventId: 'h-1', user: 'joan@demo.example', model: 'gpt-4o', inputTokens: 20000 },
      { eventId: 'h-2', user: 'ada@demo.example', model: 'gpt-4o', inputTokens: 10000 },
      { eventId: 'h-3', user: 'pete@demo.example', model: 'gpt-4o', inputTokens: 1000 },
    ];
    writeFileSync(join(dir, 'events.jsonl'), events.map((event) => JSON.stringify(event)).join('\n'));
    await ledger.ok(['usage', 'import', join(dir, 'events.jsonl')]);
    const departments = (await ledger.ok(['dept', 'list', '--json'])).json<{ departments: { name: string }[] }>().departments.map((row) => row.name);
    expect(departments).toContain('Sales');
    otherDepartments = departments.filter((name) => name !== 'Sales');
    whole = (await ledger.ok(['history', '--json', '--limit', '1000'])).json<History>().transactions;
    salesReader = (await createToken(ledger, ['--role', 'reader', '--dept', 'Sales'])).token;
    server = await startServer(ledger);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
    if (dir) removeDir(dir);
  });

  it('shows an unscoped reader whole transactions, several departments in one', () => {
    const mixed = whole.filter((transaction) => transaction.entries.filter((leg) => otherDepartments.includes(leg.account)).length >= 2);
    expect(mixed.length).toBeGreaterThanOrEqual(87);
    expect(whole.every((transaction) => transaction.entries.every((leg) => leg.summary === undefined))).toBe(true);
  });

  it('--dept Sales: only Sales legs (and org/world where no other department takes part), one summary leg, zero sums', async () => {
    const sales = (await ledger.ok(['history', '--dept', 'Sales', '--json', '--limit', '1000'])).json<History>().transactions;
    expectOnlyShareOf(sales, otherDepartments);
    // The same transactions as the whole history lists for Sales, each with the same Sales legs in the same order.
    const touchingSales = whole.filter((transaction) => transaction.entries.some((leg) => leg.account === 'Sales'));
    expect(sales.map((transaction) => transaction.id)).toEqual(touchingSales.map((transaction) => transaction.id));
    for (const [index, transaction] of sales.entries()) {
      const salesLegs = (list: Leg[]) => list.filter((leg) => leg.account === 'Sales');
      expect(salesLegs(transaction.entries)).toEqual(salesLegs(touchingSales[index]!.entries));
      const touchesOthers = touchingSales[index]!.entries.some((leg) => otherDepartments.includes(leg.account));
      if (!touchesOthers) expect(transaction.entries).toEqual(touchingSales[index]!.entries);
    }
    expect(sales.filter((transaction) => transaction.entries.some((leg) => leg.summary)).length).toBeGreaterThanOrEqual(89);
    // The demo's history starts with the ledger, so Sales' legs add up to its balance.
    const salesMillicredits = sales.flatMap((transaction) => transaction.entries).filter((leg) => leg.account === 'Sales');
    expect(sumOf(salesMillicredits)).toBe(await balanceOf(ledger, 'Sales'));
    const transfer = sales.find((transaction) => transaction.memo === 'shared licence');
    expect(transfer?.entries).toEqual([
      { account: 'Sales', millicredits: 100_000 },
      { account: SUMMARY, millicredits: -100_000, summary: true },
    ]);
  });

  it('--kind and --limit still select and cut the shares', async () => {
    // `--kind transfer` is what `credits transfer` made: moves between departments and allocations from org.
    const transfers = (await ledger.ok(['history', '--dept', 'Sales', '--kind', 'transfer', '--json'])).json<History>().transactions;
    expect(transfers.filter((transaction) => transaction.kind === 'transfer')).toHaveLength(2);
    expect(transfers.every((transaction) => transaction.kind === 'transfer' || transaction.kind === 'allocation')).toBe(true);
    expectOnlyShareOf(transfers, otherDepartments);
    const three = (await ledger.ok(['history', '--dept', 'Sales', '--json', '--limit', '3'])).json<History>().transactions;
    expect(three).toHaveLength(3);
    expectOnlyShareOf(three, otherDepartments);
    const table = (await ledger.ok(['history', '--dept', 'Sales', '--limit', '1000'])).stdout;
    for (const name of otherDepartments) expect(table).not.toContain(name);
  });

  it("--user: the user's share, their department's and their org overdraft draw, the rest summarised", async () => {
    const joan = (await ledger.ok(['history', '--user', 'joan@demo.example', '--json', '--limit', '1000'])).json<History>().transactions;
    expectOnlyShareOf(joan, otherDepartments);
    expect(joan.every((transaction) => transaction.kind === 'usage' && transaction.entries.at(-1)?.summary === true)).toBe(true);
    // Her share of all the transactions is what her usage cost.
    const report = (await ledger.ok(['report', '--by', 'user', '--since', '2000-01-01', '--until', '2100-12-31', '--json'])).json<{
      rows: { key: string; millicredits: number }[];
    }>();
    const cost = report.rows.find((row) => row.key === 'joan@demo.example')?.millicredits;
    const ownLegs = joan.flatMap((transaction) => transaction.entries).filter((leg) => !leg.summary);
    expect(sumOf(ownLegs)).toBe(-(cost ?? 0));
    // In the import Sales had 0.266 credits left: joan's event took them and drew the rest from org;
    // pete's draw and ada's Engineering debit are not hers.
    const imported = joan.find((transaction) => transaction.memo === 'usage import');
    const importedWhole = whole.find((transaction) => transaction.id === imported?.id);
    const org = imported?.entries.find((leg) => leg.account === 'org');
    expect(imported?.entries.map((leg) => leg.account)).toEqual(['Sales', 'org', SUMMARY]);
    expect(imported?.entries[0]?.millicredits).toBe(-266);
    expect(org?.millicredits).toBeLessThan(0);
    expect(org?.millicredits).toBeGreaterThan(importedWhole?.entries.find((leg) => leg.account === 'org')?.millicredits ?? 0);
  });

  it('gives a reader token bound to Sales no amount of another department, by command or REST', async () => {
    const command = await server.request('POST', '/v1/commands/history', { token: salesReader, body: { options: { limit: '1000' } } });
    expect(command.status).toBe(200);
    expectOnlyShareOf(command.body.data.transactions, otherDepartments);
    const local = (await ledger.ok(['history', '--dept', 'Sales', '--json', '--limit', '1000'])).json<History>().transactions;
    expect(command.body.data.transactions).toEqual(local);
    const transfers = await server.request('GET', '/v1/transfers?limit=1000', { token: salesReader });
    expect(transfers.status).toBe(200);
    expectOnlyShareOf(transfers.body.transactions, otherDepartments);
    expect(transfers.body.transactions.map((transaction: Transaction) => transaction.kind).sort()).toEqual(['allocation', 'transfer', 'transfer']);
    const user = await server.request('POST', '/v1/commands/history', { token: salesReader, body: { options: { user: 'joan@demo.example', limit: '1000' } } });
    expect(user.status).toBe(200);
    expectOnlyShareOf(user.body.data.transactions, otherDepartments);
    for (const text of [command.text, transfers.text, user.text]) for (const name of otherDepartments) expect(text).not.toContain(name);
  });
});
