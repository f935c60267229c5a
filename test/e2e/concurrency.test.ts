import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, seededLedger, type Ledger } from '../helpers/cli.js';

describe(`concurrent transfers on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('never drives a department below zero, and every accepted transfer is in the ledger', async () => {
    const attempts = 8;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_unused, index) =>
        ledger.run(['transfer', '300', '--from', 'Engineering', '--to', 'Marketing', '--reason', `race ${index}`, '--json']),
      ),
    );
    const accepted = results.filter((result) => result.exitCode === 0);
    const refused = results.filter((result) => result.exitCode !== 0);
    for (const result of refused) expect(JSON.parse(result.stderr).error.code).toBe('INSUFFICIENT_CREDITS');
    expect(accepted.length).toBe(3);
    expect(await balanceOf(ledger, 'Engineering')).toBe(1_000_000 - accepted.length * 300_000);
    expect(await balanceOf(ledger, 'Marketing')).toBe(accepted.length * 300_000);
    const acceptedIds = accepted.map((result) => result.json().transactionId).sort();
    const logged = (await ledger.ok(['history', '--kind', 'transfer', '--json']))
      .json()
      .transactions.filter((row: { kind: string }) => row.kind === 'transfer')
      .map((row: { id: number }) => row.id)
      .sort();
    expect(logged).toEqual(acceptedIds);
    expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
  });
});
