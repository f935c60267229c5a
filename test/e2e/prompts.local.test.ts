import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, balanceOf, freshLedger, seededLedger, type Ledger } from '../helpers/cli.js';
import { KEY, shellEnvironment, startPty, type PtySession } from '../helpers/pty.js';

// The interactive flows, answered through a real pseudo-terminal the way a person would, and
// the ledger read back afterwards. Each session waits for the question on screen, then types.

/** The choices of a list question, as shown under it (up to the key help line). */
async function listOf(session: PtySession, question: string): Promise<string> {
  await session.expect(question);
  return session.expect('↑↓');
}

describe('prompts on a terminal', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger('local');
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('transfer: picks source and target from lists with balances, checks the amount, confirms with a summary, moves the credits', async () => {
    const session = startPty(ledger.location, ['transfer', '--reason', 'Q1 budget']);
    const sources = await listOf(session, 'Transfer from');
    expect(sources).toMatch(/❯ org \(pool\)\s+10,000\.0 credits/);
    session.type(KEY.enter);
    const targets = await listOf(session, 'Transfer to');
    expect(targets).not.toContain('org (pool)');
    expect(targets).toMatch(/❯ Engineering\s+0\.0 credits/);
    session.type(KEY.down);
    await session.answer('❯ Marketing', KEY.enter);
    // The flag's own parser checks the typed amount: a thousands separator is refused, then corrected.
    await session.answer('Credits to move (org holds 10000.0)', `1,500${KEY.enter}`);
    // The message names what was typed, not the AMOUNT argument nobody saw in the prompt.
    const refusal = await session.answer('"1,500" has a comma', `${KEY.backspace.repeat(5)}1500.5${KEY.enter}`);
    expect(refusal).not.toContain('AMOUNT');
    const summary = await session.expect('Move the credits?');
    expect(summary).toMatch(/Amount\s+1,500\.5 credits/);
    expect(summary).toMatch(/From\s+org\s+10,000\.0 → 8,499\.5 credits/);
    expect(summary).toMatch(/To\s+Marketing\s+0\.0 → 1,500\.5 credits/);
    session.type(`y${KEY.enter}`);
    const { exitCode, screen } = await session.exit();
    expect(exitCode, screen).toBe(0);
    expect(screen).toContain('Moved 1,500.5 credits from org to Marketing');
    expect(await balanceOf(ledger, 'org')).toBe(8_499_500);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1_500_500);
    const [latest] = (await ledger.ok(['history', '--limit', '1', '--json'])).json().transactions;
    expect(latest.memo).toBe('Q1 budget');
  });

  it('transfer: saying no at the confirmation writes nothing and exits 3 (CONFIRMATION_DECLINED)', async () => {
    const before = (await ledger.ok(['history', '--json'])).json().transactions.length;
    const session = startPty(ledger.location, ['transfer', '200', '--from', 'Marketing']);
    const targets = await listOf(session, 'Transfer to');
    expect(targets).toMatch(/❯ org \(pool\)\s+8,499\.5 credits/);
    expect(targets).not.toMatch(/Marketing\s+1,500\.5 credits/);
    session.type(KEY.enter);
    const summary = await session.expect('Move the credits?');
    expect(summary).toMatch(/From\s+Marketing\s+1,500\.5 → 1,300\.5 credits/);
    expect(summary).toMatch(/To\s+org\s+8,499\.5 → 8,699\.5 credits/);
    session.type(`n${KEY.enter}`);
    const { exitCode, screen } = await session.exit();
    expect(exitCode).toBe(3);
    expect(screen).toContain('[CONFIRMATION_DECLINED] nothing was done');
    expect((await ledger.ok(['history', '--json'])).json().transactions.length).toBe(before);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1_500_500);
  });

  it('buy: picks a package and a payment method from lists (invoice unavailable under €1,000), confirms, credits the pool', async () => {
    const orgBefore = await balanceOf(ledger, 'org');
    const session = startPty(ledger.location, ['buy']);
    const packages = await listOf(session, 'Package');
    expect(packages).toMatch(/Basic\s+1,000 credits\s+€10\.00/);
    expect(packages).toMatch(/Standard\s+5,000 credits\s+€47\.50\s+\(5% off\)/);
    expect(packages).toMatch(/Enterprise\s+100,000 credits\s+€850\.00\s+\(15% off\)/);
    session.type(KEY.down);
    await session.answer('❯ Standard', KEY.enter);
    const methods = await listOf(session, 'Payment method');
    expect(methods).toMatch(/invoice: .*\(from €1,000\.00; this is €47\.50\)/);
    session.type(KEY.down);
    await session.answer('❯ PayPal', KEY.enter);
    const summary = await session.expect('Buy for €47.50?');
    expect(summary).toMatch(/Package\s+standard/);
    expect(summary).toMatch(/Price\s+€47\.50 \(5% off\)/);
    expect(summary).toMatch(/Into\s+org\s+8,499\.5 → 13,499\.5 credits/);
    session.type(`y${KEY.enter}`);
    const { exitCode, screen } = await session.exit();
    expect(exitCode, screen).toBe(0);
    expect(await balanceOf(ledger, 'org')).toBe(orgBefore + 5_000_000);
    const [latest] = (await ledger.ok(['purchases', '--json'])).json().purchases.slice(-1);
    expect(latest).toMatchObject({ packageName: 'standard', method: 'paypal', status: 'settled', priceCents: 4750 });
  });

  it('limits set: asks scope, department, tier, period and amount, then the limit is in force', async () => {
    const session = startPty(ledger.location, ['limits', 'set']);
    await session.answer('Limit whom', KEY.down);
    await session.answer('❯ a department', KEY.enter);
    const departments = await session.expect('Which department');
    expect(departments).not.toContain('Which user');
    await session.answer('❯ Engineering', KEY.down);
    await session.answer('❯ Marketing', KEY.enter);
    await session.answer('Which usage counts', KEY.down);
    await session.answer('❯ one tier', KEY.enter);
    await session.answer('Which tier', KEY.enter);
    await session.answer('Per', KEY.down);
    await session.answer('❯ calendar month', KEY.enter);
    await session.answer('Credits per month', `2000${KEY.enter}`);
    const { exitCode, screen } = await session.exit();
    expect(exitCode, screen).toBe(0);
    const { limits } = (await ledger.ok(['limits', '--json'])).json();
    expect(limits).toEqual([
      expect.objectContaining({ scope: 'department', department: 'Marketing', tier: 'premium', model: null, period: 'month', amountMillicredits: 2_000_000 }),
    ]);
  });

  it('never asks with CI set, with --yes or with --json, even on a terminal: exit 2 naming the flags', async () => {
    const withCi = startPty(ledger.location, ['transfer', '--to', 'Engineering'], { env: { CI: 'true' } });
    const ci = await withCi.exit();
    expect(ci.exitCode).toBe(2);
    expect(ci.screen).toContain('[MISSING_FLAG] --from and AMOUNT are required');
    expect(ci.screen).not.toContain('Transfer from');

    const withYes = startPty(ledger.location, ['buy', 'basic', '--yes']);
    const yes = await withYes.exit();
    expect(yes.exitCode).toBe(2);
    expect(yes.screen).toContain('[MISSING_FLAG] --method is required');

    const withJson = startPty(ledger.location, ['limits', 'set', '--json']);
    const json = await withJson.exit();
    expect(json.exitCode).toBe(2);
    expect(json.screen).toContain('"code":"MISSING_FLAG"');
    expect(json.screen).toContain('--user, --dept, --org, and --daily or --monthly');
  });
});

describe('init on a terminal', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await freshLedger('local');
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('asks the organisation name, a valid time zone and the first departments, comma-separated and one at a time', async () => {
    const session = startPty(ledger.location, ['init']);
    await session.answer('Organisation name', `Acme GmbH${KEY.enter}`);
    await session.answer('Time zone', `Mars/Olympus${KEY.enter}`);
    await session.expect('"Mars/Olympus" is not a known time zone');
    session.type(`${KEY.backspace.repeat('Mars/Olympus'.length)}America/New_York${KEY.enter}`);
    await session.answer('First departments', `Engineering, Marketing${KEY.enter}`);
    await session.answer('Another department', `Sales${KEY.enter}`);
    await session.answer('so far Engineering, Marketing, Sales', KEY.enter);
    const { exitCode, screen } = await session.exit();
    expect(exitCode, screen).toBe(0);
    expect(screen).toContain('Departments: Engineering, Marketing, Sales.');
    const { organisation } = (await ledger.ok(['org', 'show', '--json'])).json();
    expect(organisation).toMatchObject({ name: 'Acme GmbH', timeZone: 'America/New_York' });
    const { departments } = (await ledger.ok(['dept', 'list', '--json'])).json();
    expect(departments.map((row: { name: string }) => row.name)).toEqual(['Engineering', 'Marketing', 'Sales']);
  });
});

describe('missing values off a terminal', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger('local');
  });
  afterAll(async () => {
    await ledger.close();
  });

  /** Like a cron job: stdin and stdout are pipes and CI is not set, so only the missing TTY stops the questions. */
  async function piped(args: string[]) {
    return execa('node', [BIN, '--db', ledger.location, ...args], { env: shellEnvironment(), extendEnv: false, reject: false, input: '' });
  }

  it('fails at once with exit 2 (MISSING_FLAG) naming every missing flag, and writes nothing', async () => {
    const transfer = await piped(['transfer']);
    expect(transfer.exitCode).toBe(2);
    expect(transfer.stderr).toContain('[MISSING_FLAG] --from, --to and AMOUNT are required');
    const buy = await piped(['buy', '--json']);
    expect(buy.exitCode).toBe(2);
    expect(JSON.parse(String(buy.stderr)).error).toMatchObject({ code: 'MISSING_FLAG', message: 'PACKAGE and --method are required' });
    const limits = await piped(['limits', 'set', '--daily', '5']);
    expect(limits.exitCode).toBe(2);
    expect(limits.stderr).toContain('limits set needs exactly one of --user, --dept, --org');
    expect(await balanceOf(ledger, 'org')).toBe(10_000_000);
  });
});
