import BetterSqlite3 from 'better-sqlite3';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, seededLedger, type Ledger } from '../helpers/cli.js';
import { startPty } from '../helpers/pty.js';

// Issue 16: the CLI in a newcomer's hands and in a broken environment, run as a user would.

/**
 * Runs `credits ARGS | READER` in bash: the exit code of credits itself, and what it wrote to
 * stderr. `true` exits before node has started, so every write meets a closed pipe.
 */
async function intoClosedPipe(location: string, args: string[], reader: string): Promise<{ exitCode: number; stderr: string; firstLine: string }> {
  const quoted = ['node', BIN, '--db', location, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
  const script = `${quoted} 2>stderr.txt | ${reader}; echo "exit=\${PIPESTATUS[0]}"`;
  const dir = mkdtempSync(join(tmpdir(), 'credits-pipe-'));
  try {
    const result = await execa('bash', ['-c', script], { cwd: dir, env: { CI: '1', NO_COLOR: '1' }, reject: false });
    const lines = String(result.stdout).split('\n');
    // The reader's output (none for `true`), then bash's "exit=N" for credits' own status.
    const exitCode = Number(/^exit=(\d+)$/m.exec(String(result.stdout))?.[1] ?? Number.NaN);
    const firstLine = lines.find((line) => !line.startsWith('exit=')) ?? '';
    return { exitCode, stderr: readFileSync(join(dir, 'stderr.txt'), 'utf8'), firstLine };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Events of a millicredit or so each: many fit in the seeded ledger's credits. */
function events(count: number, from = 0): string {
  const lines: string[] = [];
  for (let index = from; index < from + count; index += 1) {
    lines.push(JSON.stringify({ eventId: `n-${index}`, user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1 }));
  }
  return `${lines.join('\n')}\n`;
}

describe('the CLI under a newcomer and a broken environment', () => {
  let ledger: Ledger;
  let dir: string;
  beforeAll(async () => {
    ledger = await seededLedger('local');
    dir = mkdtempSync(join(tmpdir(), 'credits-newcomer-'));
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Engineering']);
    for (let index = 0; index < 3; index += 1) await ledger.ok(['transfer', '10', '--from', 'Engineering', '--to', 'Marketing']);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a closed stdout ends the command quietly with its own exit code', async () => {
    const help = await intoClosedPipe(ledger.location, ['--help'], 'head -1');
    expect(help).toMatchObject({ exitCode: 0, stderr: '' });
    expect(help.firstLine).toContain('Usage: credits');
    expect(await intoClosedPipe(ledger.location, ['--help'], 'true')).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await intoClosedPipe(ledger.location, ['history', '--json'], 'true')).toMatchObject({ exitCode: 0, stderr: '' });
  });

  it('serve names the address it cannot have: exit 6 when taken, exit 2 when it does not resolve', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const inUse = await ledger.run(['serve', '--listen', `127.0.0.1:${port}`, '--json']);
      expect(inUse.exitCode).toBe(6);
      expect(JSON.parse(inUse.stderr).error).toMatchObject({ code: 'ADDRESS_UNAVAILABLE' });
      expect(inUse.stderr).toContain(`127.0.0.1:${port}`);
      expect(inUse.stderr).not.toContain('    at ');
    } finally {
      taken.close();
    }
    const unresolvable = await ledger.run(['serve', '--listen', 'no-such-host.invalid:8799']);
    expect(unresolvable.exitCode).toBe(2);
    expect(unresolvable.stderr).toContain('no-such-host.invalid');
    expect(unresolvable.stderr).not.toContain('    at ');
  });

  it('a full disk stops an import with exit 6 and the report of what was posted; a re-run completes it', async () => {
    const copy = join(dir, 'full.db');
    execFileSync('cp', [ledger.location, copy]);
    const file = join(dir, 'many.jsonl');
    writeFileSync(file, events(60_000));
    // The file size limit stands in for a full disk: SQLite's write fails in the middle of the import.
    const limited = `trap '' XFSZ; ulimit -f ${Math.ceil(statSync(copy).size / 1024) + 2500}; exec node '${BIN}' --db '${copy}' usage import '${file}' --json`;
    const stopped = await execa('bash', ['-c', limited], { env: { CI: '1' }, reject: false });
    expect(stopped.exitCode).toBe(6);
    expect(JSON.parse(String(stopped.stderr)).error.code).toBe('STORAGE_UNAVAILABLE');
    const report = JSON.parse(String(stopped.stdout)) as { stopped: boolean; accepted: number };
    expect(report.stopped).toBe(true);
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.accepted).toBeLessThan(60_000);
    const again = await execa('node', [BIN, '--db', copy, 'usage', 'import', file, '--json'], { env: { CI: '1' }, reject: false });
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(String(again.stdout))).toMatchObject({ duplicates: report.accepted, accepted: 60_000 - report.accepted });
    const verified = await execa('node', [BIN, '--db', copy, 'verify', '--json'], { env: { CI: '1' }, reject: false });
    expect(JSON.parse(String(verified.stdout)).ok).toBe(true);
  });

  it('an import line that is not UTF-8, or names a field twice, is skipped by its number; a binary file is refused whole', async () => {
    const file = join(dir, 'mixed.jsonl');
    const bad = Buffer.from('{"eventId":"bad-1","user":"ada@example.com","model":"gpt-4o-mini","feature":"chat\xff","inputTokens":1}\n', 'latin1');
    const twice = '{"eventId":"bad-2","user":"ada@example.com","model":"gpt-4o-mini","inputTokens":1,"inputTokens":900000}\n';
    writeFileSync(file, Buffer.concat([Buffer.from(events(20, 100)), bad, Buffer.from(twice), Buffer.from(events(5, 200))]));
    const result = await ledger.run(['usage', 'import', file, '--json']);
    expect(result.exitCode).toBe(2);
    const report = result.json<{ accepted: number; malformed: number; problems: { line: number; message: string }[] }>();
    expect(report).toMatchObject({ accepted: 25, malformed: 2 });
    expect(report.problems.map((problem) => problem.line)).toEqual([21, 22]);
    expect(report.problems[0]!.message).toContain('line 21 is not UTF-8');
    expect(report.problems[1]!.message).toContain('"inputTokens" twice');
    const binary = join(dir, 'binary.jsonl');
    writeFileSync(binary, Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe, 10]), Buffer.from(events(3, 300))]));
    const refused = await ledger.run(['usage', 'import', binary]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('is not UTF-8 text');
  });

  it('--output writes through a symlink, into a pipe, and never replaces a device', async () => {
    const target = join(dir, 'real.csv');
    const link = join(dir, 'link.csv');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    await ledger.ok(['report', '--format', 'csv', '--output', link]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toMatch(/^department,/);
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const reader = execa('cat', [fifo]);
    await ledger.ok(['report', '--format', 'csv', '--output', fifo]);
    expect(String((await reader).stdout)).toMatch(/^department,/);
    expect(statSync(fifo).isFIFO()).toBe(true);
    const full = await ledger.run(['report', '--format', 'csv', '--output', '/dev/full']);
    expect(full.exitCode).toBe(6);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('control characters are refused at input and stripped from what is printed', async () => {
    const escName = await ledger.run(['dept', 'add', 'Evil\u001b[31mRed', '--json']);
    expect(escName.exitCode).toBe(2);
    expect(JSON.parse(escName.stderr).error.code).toBe('INVALID_NAME');
    const crReason = await ledger.run(['transfer', '1', '--from', 'org', '--to', 'Engineering', '--reason', 'a\rb']);
    expect(crReason.exitCode).toBe(2);
    expect(crReason.stderr).toContain('--reason contains a control character');
    const backspaceActor = await ledger.run(['--actor', 'ad\bmin', 'balance']);
    expect(backspaceActor.exitCode).toBe(2);
    expect(backspaceActor.stderr).toContain('contains a control character');
    const escEmail = await ledger.run(['user', 'add', 'e\u001b@example.com', '--dept', 'Engineering']);
    expect(escEmail.exitCode).toBe(2);
    expect(escEmail.stderr).toContain('contains a control character');
    // Written by another tool straight into the file: shown without its escape sequence.
    const db = new BetterSqlite3(ledger.location);
    db.prepare("UPDATE accounts SET cost_center = 'CC\u001b[2J-9' WHERE name = 'Marketing'").run();
    db.close();
    const shown = (await ledger.ok(['balance'])).stdout;
    expect(shown).not.toContain('\u001b');
    expect(shown).toContain('CC[2J-9');
    const restore = new BetterSqlite3(ledger.location);
    restore.prepare("UPDATE accounts SET cost_center = 'CC-200' WHERE name = 'Marketing'").run();
    restore.close();
  });

  it('history --kind transfer finds what `credits transfer` made, and a cut list says how to see more', async () => {
    const moved = (await ledger.ok(['history', '--kind', 'transfer', '--json'])).json<{ transactions: { kind: string }[]; total: number }>();
    expect(moved.transactions.map((row) => row.kind).sort()).toEqual(['allocation', 'transfer', 'transfer', 'transfer']);
    const page = await ledger.ok(['history', '--kind', 'transfer', '--limit', '2']);
    const lastLine = page.stdout.trim().split('\n').pop()!;
    const before = /--before (\d+) for more/.exec(lastLine)?.[1];
    expect(lastLine).toMatch(/^2 of 4 shown; --limit or --before \d+ for more$/);
    const next = (await ledger.ok(['history', '--kind', 'transfer', '--limit', '2', '--before', before!, '--json'])).json();
    expect(next.transactions).toHaveLength(2);
    expect(next.more).toBe(0);
    expect(Math.max(...next.transactions.map((row: { id: number }) => row.id))).toBeLessThan(Number(before));
  });

  it('long output on a terminal goes through $PAGER, unless --no-pager', async () => {
    const pager = join(dir, 'paged.txt');
    const paged = startPty(ledger.location, ['history', '--limit', '100'], { env: { PAGER: `cat > '${pager}'` }, rows: 6 });
    await paged.exit();
    expect(readFileSync(pager, 'utf8')).toContain('allocation');
    rmSync(pager);
    const direct = startPty(ledger.location, ['history', '--limit', '100', '--no-pager'], { env: { PAGER: `cat > '${pager}'` }, rows: 6 });
    expect((await direct.exit()).screen).toContain('allocation');
    expect(() => statSync(pager)).toThrow();
  });

  it('unknown names suggest the nearest, before any question; a flag of another form names it', async () => {
    const typo = await ledger.run(['transfer', '100', '--from', 'org', '--to', 'Enginering', '--json']);
    expect(typo.exitCode).toBe(4);
    expect(JSON.parse(typo.stderr).error).toMatchObject({ code: 'DEPARTMENT_NOT_FOUND', hint: expect.stringContaining('did you mean Engineering?') });
    const onTerminal = startPty(ledger.location, ['transfer', '100', '--from', 'org', '--to', 'Enginering']);
    const screen = (await onTerminal.exit()).screen;
    expect(screen).toContain('did you mean Engineering?');
    expect(screen).not.toContain('Move the credits?');
    const flag = await ledger.run(['balance', '--dept', 'Marketing']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toContain('credits balance Marketing');
    expect(flag.stderr).toContain('usage: credits balance [account]');
    const zone = await ledger.run(['init', '--timezone', 'Berlin']);
    expect(zone.stderr).toContain('did you mean Europe/Berlin?');
  });

  it('a prompt names what was typed, not a flag never seen', async () => {
    const fresh = join(dir, 'asked.db');
    const session = startPty(fresh, ['init']);
    await session.answer('Organisation name', 'Acme\r');
    await session.answer('Time zone', `${'\u007f'.repeat(20)}Berlin\r`);
    const said = await session.expect('did you mean Europe/Berlin?');
    expect(said).toContain('"Berlin" is not a known time zone');
    expect(said).not.toContain('--timezone');
    session.type('\u0003');
    await session.exit();
  });
});
