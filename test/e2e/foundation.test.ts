import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, freshLedger, seededLedger, type Ledger } from '../helpers/cli.js';

describe(`foundation on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('lists the seed packages with the volume rule applied', async () => {
    const { packages } = (await ledger.ok(['packages', '--json'])).json();
    expect(
      packages.map((entry: { name: string; credits: number; priceCents: number; discountPercent: number }) => [
        entry.name,
        entry.credits,
        entry.priceCents,
        entry.discountPercent,
      ]),
    ).toEqual([
      ['basic', 1000, 1000, 0],
      ['standard', 5000, 4750, 5],
      ['professional', 10000, 9500, 5],
      ['team', 50000, 45000, 10],
      ['enterprise', 100000, 85000, 15],
    ]);
  });

  it('shows every account with credits and the percentage left', async () => {
    const { accounts } = (await ledger.ok(['balance', '--json'])).json();
    expect(accounts.map((row: { account: string }) => row.account)).toEqual(['org', 'Engineering', 'Marketing']);
    const org = accounts[0];
    expect(org).toMatchObject({ account: 'org', millicredits: 10_000_000, credits: 10000, percentLeft: 100 });
  });

  it("moves credits between org and departments; the percentage left is of this month's credits", async () => {
    const moved = (await ledger.ok(['transfer', '2500', '--from', 'org', '--to', 'Engineering', '--reason', 'Q4', '--json'])).json();
    expect(moved).toMatchObject({
      from: 'org',
      to: 'Engineering',
      millicredits: 2_500_000,
      fromBalanceMillicredits: 7_500_000,
      toBalanceMillicredits: 2_500_000,
    });
    await ledger.ok(['transfer', '0.125', '--from', 'Engineering', '--to', 'Marketing']);
    const { accounts } = (await ledger.ok(['balance', '--json'])).json();
    const byName = Object.fromEntries(accounts.map((row: { account: string }) => [row.account, row]));
    // 2,499.875 of the 2,500 that came in (a transfer out is not an inflow), rounded down.
    expect(byName.Engineering).toMatchObject({ millicredits: 2_499_875, percentLeft: 99.9 });
    // org's percentage is the organisation's: allocating the pool spends nothing.
    expect(byName.org).toMatchObject({ millicredits: 7_500_000, percentLeft: 100 });
    expect(byName.Marketing.millicredits).toBe(125);
  });

  it('refuses a transfer larger than the source holds, writing nothing', async () => {
    const before = (await ledger.ok(['history', '--json'])).json().transactions.length;
    const refused = await ledger.run(['transfer', '999999', '--from', 'Marketing', '--to', 'org', '--json']);
    expect(refused.exitCode).toBe(3);
    expect(refused.stdout).toBe('');
    const error = JSON.parse(refused.stderr).error;
    expect(error.code).toBe('INSUFFICIENT_CREDITS');
    expect(error.message).toContain('Marketing');
    expect((await ledger.ok(['history', '--json'])).json().transactions.length).toBe(before);
    expect(await balanceOf(ledger, 'Marketing')).toBe(125);
  });

  it('credits card purchases at once and SEPA only when settled; cancel only while pending', async () => {
    const sepa = (await ledger.ok(['buy', 'standard', '--method', 'sepa', '--json'])).json();
    expect(sepa).toMatchObject({ status: 'pending', priceCents: 4750, transactionId: null });
    const orgBefore = await balanceOf(ledger, 'org');
    const settled = (await ledger.ok(['purchases', 'settle', String(sepa.purchaseId), '--json'])).json();
    expect(settled.status).toBe('settled');
    expect(await balanceOf(ledger, 'org')).toBe(orgBefore + 5_000_000);

    const again = await ledger.run(['purchases', 'cancel', String(sepa.purchaseId), '--json']);
    expect(again.exitCode).toBe(3);
    expect(JSON.parse(again.stderr).error.code).toBe('NOT_PENDING');

    const invoice = (await ledger.ok(['buy', 'team', '--quantity', '3', '--method', 'invoice', '--for', 'Marketing', '--json'])).json();
    expect(invoice).toMatchObject({ status: 'pending', account: 'Marketing', quantity: 3, millicredits: 150_000_000, priceCents: 135_000 });
    await ledger.ok(['purchases', 'cancel', String(invoice.purchaseId)]);
    const pending = (await ledger.ok(['purchases', '--status', 'pending', '--json'])).json().purchases;
    expect(pending).toEqual([]);
    expect(await balanceOf(ledger, 'Marketing')).toBe(125);
  });

  it('buys into a department with --for and prices custom packages from 500,000 credits', async () => {
    await ledger.ok(['buy', 'basic', '--method', 'paypal', '--for', 'Marketing']);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1_000_125);
    const custom = (await ledger.ok(['buy', 'custom', '--credits', '750000', '--discount', '18', '--method', 'sepa', '--json'])).json();
    expect(custom).toMatchObject({ packageName: 'custom', millicredits: 750_000_000, priceCents: 615_000, status: 'pending' });
    await ledger.ok(['purchases', 'cancel', String(custom.purchaseId)]);
    const small = await ledger.run(['buy', 'custom', '--credits', '499999', '--method', 'card', '--json']);
    expect(small.exitCode).toBe(2);
    expect(JSON.parse(small.stderr).error.code).toBe('CUSTOM_MINIMUM');
  });

  it('refuses invoice payment under €1,000 with INVOICE_MINIMUM', async () => {
    const result = await ledger.run(['buy', 'professional', '--method', 'invoice', '--json']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error.code).toBe('INVOICE_MINIMUM');
  });

  it('replays an idempotent retry and refuses the same key for other content', async () => {
    const first = (await ledger.ok(['transfer', '10', '--from', 'org', '--to', 'Marketing', '--idempotency-key', 'retry-1', '--json'])).json();
    const second = (await ledger.ok(['transfer', '10', '--from', 'org', '--to', 'Marketing', '--idempotency-key', 'retry-1', '--json'])).json();
    expect(second.transactionId).toBe(first.transactionId);
    expect(second.replayed).toBe(true);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1_010_125);
    const conflict = await ledger.run(['transfer', '11', '--from', 'org', '--to', 'Marketing', '--idempotency-key', 'retry-1', '--json']);
    expect(conflict.exitCode).toBe(5);
    expect(JSON.parse(conflict.stderr).error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('writes nothing on --dry-run but still checks the rules', async () => {
    const dry = (await ledger.ok(['transfer', '5', '--from', 'org', '--to', 'Marketing', '--dry-run', '--json'])).json();
    expect(dry.dryRun).toBe(true);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1_010_125);
    const refused = await ledger.run(['transfer', '99999999', '--from', 'Marketing', '--to', 'org', '--dry-run']);
    expect(refused.exitCode).toBe(3);
  });

  it('filters history by department and kind, and records who did what in the audit log', async () => {
    const purchases = (await ledger.ok(['history', '--kind', 'purchase', '--json'])).json().transactions;
    expect(purchases.length).toBeGreaterThanOrEqual(3);
    expect(purchases.every((row: { kind: string }) => row.kind === 'purchase')).toBe(true);
    const marketing = (await ledger.ok(['history', '--dept', 'Marketing', '--json'])).json().transactions;
    expect(marketing.every((row: { entries: { account: string }[] }) => row.entries.some((entry) => entry.account === 'Marketing'))).toBe(true);
    await ledger.ok(['--actor', 'grace', 'transfer', '1', '--from', 'org', '--to', 'Engineering']);
    const audit = (await ledger.ok(['audit', '--limit', '1', '--json'])).json().entries;
    expect(audit[0]).toMatchObject({ actor: 'grace', command: 'transfer', args: { from: 'org', to: 'Engineering', millicredits: 1000 } });
  });

  it('manages organisation settings, departments and users', async () => {
    await ledger.ok(['org', 'set', '--name', 'Test GmbH', '--vat-id', 'DE123456789', '--address', 'Hauptstr. 1\\n10115 Berlin']);
    const org = (await ledger.ok(['org', 'show', '--json'])).json().organisation;
    expect(org).toMatchObject({
      name: 'Test GmbH',
      vatId: 'DE123456789',
      address: 'Hauptstr. 1\n10115 Berlin',
      vatRateBasisPoints: 1900,
      timeZone: 'Europe/Berlin',
    });
    await ledger.ok(['user', 'move', 'ada@example.com', '--dept', 'Marketing']);
    const users = (await ledger.ok(['user', 'list', '--dept', 'Marketing', '--json'])).json().users;
    expect(users.map((user: { email: string }) => user.email)).toEqual(['ada@example.com', 'don@example.com']);
    const shown = (await ledger.ok(['dept', 'show', 'marketing', '--json'])).json();
    expect(shown).toMatchObject({ name: 'Marketing', costCenter: 'CC-200' });
  });

  it('shows balances as of an earlier time', async () => {
    const { accounts } = (await ledger.ok(['balance', '--as-of', '2000-01-01', '--json'])).json();
    expect(accounts.every((row: { millicredits: number }) => row.millicredits === 0)).toBe(true);
  });

  it('verifies the ledger it wrote', async () => {
    const report = (await ledger.ok(['verify', '--json'])).json();
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.transactions).toBeGreaterThan(5);
  });
});

describe(`init on a ${TARGET} ledger`, () => {
  it('creates once, leaves an existing ledger alone, and refuses another organisation name', async () => {
    const ledger = await freshLedger();
    try {
      const notYet = await ledger.run(['balance', '--json']);
      expect(notYet.exitCode).toBe(4);
      expect(JSON.parse(notYet.stderr).error.code).toBe('LEDGER_NOT_FOUND');
      expect((await ledger.ok(['init', '--org', 'Acme', '--json'])).json()).toMatchObject({ created: true, organisation: 'Acme' });
      expect((await ledger.ok(['init', '--json'])).json()).toMatchObject({ created: false, organisation: 'Acme' });
      const other = await ledger.run(['init', '--org', 'Other', '--json']);
      expect(other.exitCode).toBe(5);
      expect(JSON.parse(other.stderr).error.code).toBe('ALREADY_INITIALISED');
    } finally {
      await ledger.close();
    }
  });

  it('fills a demo organisation that verifies', async () => {
    const ledger = await freshLedger();
    try {
      await ledger.ok(['init', '--demo']);
      const { accounts } = (await ledger.ok(['balance', '--json'])).json();
      expect(accounts.length).toBeGreaterThanOrEqual(5);
      expect(accounts.some((row: { millicredits: number }) => row.millicredits > 0)).toBe(true);
      expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});
