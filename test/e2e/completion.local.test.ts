import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, freshLedger, removeDir, runCli, type Ledger } from '../helpers/cli.js';

const BASH_SCRIPT = resolve(import.meta.dirname, '../../completions/credits.bash');

/**
 * Tab completion as a bash user gets it: the generated script sourced in a real bash, the
 * completion function called with COMP_WORDS/COMP_CWORD as bash sets them, and `credits` on
 * PATH running the built CLI (the script calls `credits __complete` for ledger names).
 */
describe('bash completion', () => {
  let ledger: Ledger;
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'credits-e2e-completion-'));
    writeFileSync(join(home, 'credits'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
    chmodSync(join(home, 'credits'), 0o755);
    ledger = await freshLedger('local');
    await ledger.ok(['init', '--org', 'Test GmbH']);
    await ledger.ok(['dept', 'add', 'Engineering']);
    await ledger.ok(['dept', 'add', 'Human Resources']);
    await ledger.ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering']);
  });

  afterAll(async () => {
    await ledger.close();
    removeDir(home);
  });

  /** COMPREPLY after Tab with the cursor at the end of the last word. */
  async function complete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
    const script = `source '${BASH_SCRIPT}'\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()\n_credits\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await execa('bash', ['--norc', '--noprofile', '-c', script, 'bash', ...words], {
      // No ledger by default (an empty data home): only --db or CREDITS_DB name one.
      env: { PATH: `${home}:${process.env.PATH}`, HOME: home, XDG_DATA_HOME: join(home, 'data'), ...env },
      extendEnv: false,
      reject: false,
    });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    return String(result.stdout)
      .split('\n')
      .filter((line) => line !== '');
  }

  it('offers the top-level commands', async () => {
    const all = await complete(['credits', '']);
    for (const command of ['init', 'dept', 'buy', 'transfer', 'balance', 'check', 'report', 'completion']) expect(all).toContain(command);
    expect(await complete(['credits', 'tr'])).toEqual(['transfer']);
  });

  it('completes a subcommand: dept a -> add', async () => {
    expect(await complete(['credits', 'dept', 'a'])).toEqual(['add']);
    expect((await complete(['credits', 'notify', 'channel', ''])).sort()).toEqual(['add', 'remove', 'rotate', 'secret']);
  });

  it('offers the flags of the command, with --dry-run on mutating ones and the global flags', async () => {
    const flags = await complete(['credits', 'transfer', '--']);
    for (const flag of ['--from', '--to', '--reason', '--dry-run', '--idempotency-key', '--db', '--json', '--yes', '--server']) expect(flags).toContain(flag);
    expect(flags).not.toContain('--method');
    expect(await complete(['credits', 'buy', '--me'])).toEqual(['--method']);
  });

  it('offers the choices of --method, --by and the shell of completion', async () => {
    expect((await complete(['credits', 'buy', 'standard', '--method', ''])).sort()).toEqual(['card', 'invoice', 'paypal', 'sepa']);
    expect(await complete(['credits', 'buy', '--method', 's'])).toEqual(['sepa']);
    // bash splits --method=s at the '=' (COMP_WORDBREAKS)
    expect(await complete(['credits', 'buy', '--method', '=', 's'])).toEqual(['sepa']);
    expect((await complete(['credits', 'report', '--month', '2026-10', '--by', ''])).sort()).toEqual(['day', 'dept', 'feature', 'model', 'user']);
    expect(await complete(['credits', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('offers department names from the ledger named by --db, quoted for the shell', async () => {
    expect(await complete(['credits', '--db', ledger.location, 'dept', 'show', ''])).toEqual(['Engineering', 'Human\\ Resources']);
    expect(await complete(['credits', 'transfer', '--db', ledger.location, '--to', 'Hu'])).toEqual(['Human\\ Resources']);
    expect(await complete(['credits', '--db', ledger.location, 'transfer', '--from', ''])).toEqual(['org', 'Engineering', 'Human\\ Resources']);
    expect(await complete(['credits', '--db', ledger.location, 'usage', 'record', '--user', ''])).toEqual(['ada@example.com']);
    expect(await complete(['credits', '--db', ledger.location, 'usage', 'record', '--model', 'gpt-4o'])).toContain('gpt-4o-mini');
  });

  it('reads the ledger named by CREDITS_DB when the line has no --db', async () => {
    expect(await complete(['credits', 'user', 'add', 'x@example.com', '--dept', 'E'], { CREDITS_DB: ledger.location })).toEqual(['Engineering']);
  });

  it('offers no names, and prints no error, when there is no ledger yet', async () => {
    expect(await complete(['credits', 'dept', 'show', ''])).toEqual([]);
    expect(await complete(['credits', '--db', join(home, 'missing.db'), 'transfer', '--to', ''])).toEqual([]);
  });
});

describe('credits __complete', () => {
  it('prints nothing and exits 0 for a missing ledger, a bad kind or a remote URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credits-e2e-complete-'));
    try {
      for (const args of [
        ['__complete', 'departments', '--db', join(dir, 'missing.db')],
        ['__complete', 'departments', `--db=${join(dir, 'missing.db')}`],
        ['__complete', 'no-such-kind', '--db', join(dir, 'missing.db')],
        ['__complete'],
        ['__complete', 'users', '--db', 'libsql://example.invalid'],
        ['__complete', 'departments', '--db', dir],
      ]) {
        const result = await runCli(args, { XDG_DATA_HOME: join(dir, 'data') });
        expect({ args, stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode }).toEqual({ args, stdout: '', stderr: '', exitCode: 0 });
      }
    } finally {
      removeDir(dir);
    }
  });

  // (execa drops the final newline of stdout.)
  it('prints one name per line, and changes nothing in the ledger', async () => {
    const ledger = await freshLedger('local');
    try {
      await ledger.ok(['init', '--org', 'Test GmbH']);
      await ledger.ok(['dept', 'add', 'Marketing']);
      await ledger.ok(['buy', 'basic', '--method', 'sepa']);
      const before = readFileSync(ledger.location);
      expect((await runCli(['__complete', 'accounts', '--db', ledger.location], {})).stdout).toBe('org\nMarketing');
      expect((await runCli(['__complete', 'purchases'], { CREDITS_DB: ledger.location })).stdout).toBe('1');
      expect(readFileSync(ledger.location).equals(before)).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});

describe('credits completion', () => {
  it('prints the same scripts as the files in completions/', async () => {
    for (const [shell, file] of [
      ['bash', 'credits.bash'],
      ['zsh', '_credits'],
      ['fish', 'credits.fish'],
    ] as const) {
      const result = await runCli(['completion', shell], {});
      expect(result.exitCode).toBe(0);
      // execa drops the final newline of stdout.
      expect(`${result.stdout}\n` === readFileSync(resolve(import.meta.dirname, '../../completions', file), 'utf8'), shell).toBe(true);
    }
  });

  it('refuses an unknown shell with a usage error', async () => {
    const result = await runCli(['completion', 'tcsh'], {});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('bash, zsh, fish');
  });

  it('is listed under Shell in `credits --help`', async () => {
    const help = (await runCli(['--help'], {})).stdout;
    expect(help).toMatch(/Shell:\n\s+completion/);
  });
});
