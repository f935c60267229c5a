import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** What a person sees when they type `credits` alone, or mistype a command. */
describe('the command line without a command, and with typos', () => {
  it('`credits` alone shows the command groups and exits 0', async () => {
    const result = await runCli([], {});
    expect(result.exitCode).toBe(0);
    for (const heading of [
      'Set up:',
      'Buy and move credits:',
      'Balances and the books:',
      'Usage, rates and limits:',
      'Reports and insight:',
      'Notifications:',
      'Shell:',
    ]) {
      expect(result.stdout).toContain(heading);
    }
    expect(result.stdout).toContain('credits init --demo');
  });

  it.each([
    [['tranfer', '10'], 'transfer'],
    [['dept', 'ad', 'Sales'], 'dept add'],
    [['balanse'], 'balance'],
    [['forcast', '--org'], 'forecast'],
    [['purchases', 'setle', '3'], 'purchases settle'],
  ])('credits %j suggests %s (exit 2, UNKNOWN_COMMAND)', async (args, suggestion) => {
    const result = await runCli([...args, '--json'], {});
    expect(result.exitCode).toBe(2);
    const error = JSON.parse(result.stderr).error;
    expect(error.code).toBe('UNKNOWN_COMMAND');
    expect(error.hint).toBe(`did you mean ${suggestion}?`);
  });
});
