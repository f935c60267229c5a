import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, seededLedger, type Ledger } from '../helpers/cli.js';
import { shellEnvironment, startPty } from '../helpers/pty.js';

// What a person sees of `credits balance`: colour only when asked for or on a terminal, and
// never with NO_COLOR; a table that fits the terminal it is shown on.

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';

describe('balance output', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger('local');
    // Engineering keeps 100 of its 1,000 (10%), Marketing 180 of its 900 (20%).
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '900', '--from', 'Engineering', '--to', 'Marketing']);
    await ledger.ok(['transfer', '720', '--from', 'Marketing', '--to', 'org']);
    await ledger.ok(['dept', 'add', 'Research and Development Laboratories Europe', '--cost-center', 'CC-4711']);
  });
  afterAll(async () => {
    await ledger.close();
  });

  async function balancePiped(env: Record<string, string>, extra: string[] = []) {
    const result = await execa('node', [BIN, '--db', ledger.location, 'balance', ...extra], {
      env: { ...shellEnvironment(), ...env },
      extendEnv: false,
      reject: false,
      input: '',
    });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    return String(result.stdout);
  }

  it('FORCE_COLOR=1 shows a department at 10% in red and one at 20% in yellow', async () => {
    const text = await balancePiped({ FORCE_COLOR: '1' });
    expect(text).toContain(`${RED}10.0%`);
    expect(text).toContain(`${YELLOW}20.0%`);
  });

  it('has no colour off a terminal, with NO_COLOR (even with FORCE_COLOR), or with --no-color', async () => {
    expect(await balancePiped({})).not.toContain('\u001b');
    expect(await balancePiped({ NO_COLOR: '1', FORCE_COLOR: '1' })).not.toContain('\u001b');
    expect(await balancePiped({ FORCE_COLOR: '1' }, ['--no-color'])).not.toContain('\u001b');
  });

  it('fits a 72-column terminal, the amounts whole and right-aligned', async () => {
    const { exitCode, screen } = await startPty(ledger.location, ['balance'], { columns: 72 }).exit();
    expect(exitCode, screen).toBe(0);
    const rows = screen.trimEnd().split('\n');
    for (const row of rows) expect(row.length, row).toBeLessThanOrEqual(72);
    const engineering = rows.find((row) => row.startsWith('│ Engineering'));
    const org = rows.find((row) => row.startsWith('│ org (pool)'));
    expect(engineering).toContain('100.0');
    expect(org).toContain('9,720.0');
    expect(engineering!.indexOf('100.0') + 5).toBe(org!.indexOf('9,720.0') + 7);
  });
});
