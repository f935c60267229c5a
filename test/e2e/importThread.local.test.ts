import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, removeDir, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

// A large import is parsed on a second thread (src/cli/importThread.ts). The thread must change
// nothing a user sees: the same report, line numbers, refusals, errors and ledger as parsing on
// one thread. CREDITS_IMPORT_THREAD=on|off forces either way, whatever the file's size.
type ImportReport = {
  parser: 'thread' | 'inline';
  read: number;
  accepted: number;
  duplicates: number;
  refused: number;
  malformed: number;
  acceptedMillicredits: number;
  problems: { line: number; code: string; message: string }[];
};

const ON = { CREDITS_IMPORT_THREAD: 'on' };
const OFF = { CREDITS_IMPORT_THREAD: 'off' };
const users = ['ada@example.com', 'don@example.com'];
const models = ['gpt-3.5-turbo', 'claude-3-haiku', 'llama-3.1-groq'];

/** n events spread over October 2025, deterministic. */
function eventLines(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_unused, index) =>
    JSON.stringify({
      eventId: `${prefix}-${index}`,
      user: users[index % 2],
      model: models[index % 3],
      inputTokens: 10 + ((index * 37) % 90),
      outputTokens: 5 + ((index * 53) % 40),
      toolCalls: index % 3,
      ...(index % 7 === 0 ? { feature: 'summarize' } : {}),
      at: new Date(Date.UTC(2025, 9, 1) + index * 60_000).toISOString(),
    }),
  );
}

describe('usage import on a second parse thread', () => {
  let dir: string;
  const ledgers: Ledger[] = [];
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  /** Imports one source into a fresh ledger per mode; returns both results and both ledgers' balances. */
  const both = async (target: string, input?: string): Promise<{ on: RunResult; off: RunResult; balances: unknown[] }> => {
    const pair = await Promise.all([seededLedger('local'), seededLedger('local')]);
    ledgers.push(...pair);
    for (const ledger of pair) {
      await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Engineering']);
      await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Marketing']);
    }
    const [on, off] = await Promise.all(
      pair.map((ledger, index) =>
        ledger.run(['usage', 'import', target, '--json'], { env: index === 0 ? ON : OFF, ...(input === undefined ? {} : { input }) }),
      ),
    );
    const balances = await Promise.all(pair.map(async (ledger) => (await ledger.ok(['balance', '--json'])).json()));
    for (const ledger of pair) expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
    return { on: on!, off: off!, balances };
  };
  const withoutParser = (report: ImportReport): Omit<ImportReport, 'parser'> => {
    const { parser: _parser, ...rest } = report;
    return rest;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credits-import-thread-'));
  });
  afterAll(async () => {
    await Promise.all(ledgers.map((ledger) => ledger.close()));
    if (dir) removeDir(dir);
  });

  it('reports the same counts, problems and line numbers as one thread, across several batches of JSON lines', async () => {
    const lines = eventLines(12_000, 'j');
    lines[2] = '{"eventId": "broken", "user":';
    lines[6_999] = JSON.stringify({ eventId: 'typo', user: users[0], model: 'gpt-4o', inputToken: 5 });
    lines[11_000] = JSON.stringify({ eventId: 'who', user: 'nobody@example.com', model: 'gpt-4o', inputTokens: 5 });
    // A byte order mark, Windows line ends and blank lines, as exports from other tools have them.
    const text = `\uFEFF${lines.slice(0, 6000).join('\r\n')}\r\n\r\n${lines.slice(6000).join('\n')}\n\n`;
    const { on, off, balances } = await both(file('events.jsonl', text));
    const [thread, inline] = [on.json<ImportReport>(), off.json<ImportReport>()];
    expect([thread.parser, inline.parser]).toEqual(['thread', 'inline']);
    expect(withoutParser(thread)).toEqual(withoutParser(inline));
    expect(on.exitCode).toBe(2);
    expect(off.exitCode).toBe(2);
    expect({ read: thread.read, accepted: thread.accepted, malformed: thread.malformed, refused: thread.refused }).toEqual({
      read: 12_000,
      accepted: 11_997,
      malformed: 2,
      refused: 1,
    });
    expect(thread.problems.map((problem) => [problem.line, problem.code])).toEqual([
      [3, 'INVALID_INPUT_FILE'],
      [7001, 'INVALID_INPUT_FILE'],
      [11_002, 'USER_NOT_FOUND'],
    ]);
    expect(thread.problems[1]!.message).toContain('unknown field "inputToken"');
    expect(JSON.parse(on.stderr).error.message).toContain('the first is line 3');
    expect(balances[0]).toEqual(balances[1]);
  });

  it('reads CSV and standard input on the thread the same as on one thread', async () => {
    const rows = ['eventId,user,model,inputTokens,outputTokens,toolCalls,feature'];
    for (let index = 0; index < 7_000; index += 1)
      rows.push(
        `c-${index},${users[index % 2]},${models[index % 3]},${100 + (index % 50)},${50 + (index % 30)},${index % 2},${index % 5 === 0 ? 'translate' : 'chat'}`,
      );
    rows.push('c-bad,"ada@example.com,gpt-4o,1,1,0,chat');
    const csv = `${rows.join('\n')}\n`;
    const fromFile = await both(file('events.csv', csv));
    expect(withoutParser(fromFile.on.json())).toEqual(withoutParser(fromFile.off.json()));
    expect(fromFile.on.json<ImportReport>()).toMatchObject({
      parser: 'thread',
      accepted: 7_000,
      malformed: 1,
      problems: [{ line: 7_002, code: 'INVALID_INPUT_FILE' }],
    });
    expect(fromFile.balances[0]).toEqual(fromFile.balances[1]);

    const fromStdin = await both('-', `${eventLines(6_000, 's').join('\n')}\n`);
    expect(fromStdin.on.exitCode).toBe(0);
    expect(withoutParser(fromStdin.on.json())).toEqual(withoutParser(fromStdin.off.json()));
    expect(fromStdin.on.json<ImportReport>()).toMatchObject({ parser: 'thread', accepted: 6_000 });
    expect(fromStdin.balances[0]).toEqual(fromStdin.balances[1]);
  });

  it("reads a non-blocking pipe on the thread (node's spawnSync input is one)", async () => {
    const ledger = await seededLedger('local');
    ledgers.push(ledger);
    await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '5000', '--from', 'org', '--to', 'Marketing']);
    // Several MB: the reader must catch up with the writer at least once to meet an empty pipe.
    // spawnSync is called from a plain node process, as bench/api.mjs does: from inside vitest's
    // worker the same call hands the child a blocking pipe, and the fault did not show.
    const inputPath = file('nonblocking.jsonl', `${eventLines(50_000, 'p').join('\n')}\n`);
    const parent = `const { spawnSync } = require('node:child_process');
      const result = spawnSync(process.execPath, ${JSON.stringify([BIN, '--db', ledger.location, 'usage', 'import', '-', '--json'])},
        { input: require('node:fs').readFileSync(${JSON.stringify(inputPath)}), encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 64 << 20 });
      process.stdout.write(JSON.stringify({ status: result.status, stdout: result.stdout, stderr: result.stderr }));`;
    const outer = spawnSync(process.execPath, ['-e', parent], { encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(outer.stdout) as { status: number; stdout: string; stderr: string };
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ parser: 'thread', read: 50_000, accepted: 50_000, malformed: 0 });
  });

  it('treats binary bytes past the first batch as a bad line, and stops at an over-long line, as one thread does: same error, same events kept', async () => {
    const funded = await seededLedger('local');
    ledgers.push(funded);
    await funded.ok(['transfer', '5000', '--from', 'org', '--to', 'Engineering']);
    await funded.ok(['transfer', '5000', '--from', 'org', '--to', 'Marketing']);
    const fundedBalances = (await funded.ok(['balance', '--json'])).json();
    const good = eventLines(11_000, 'b');
    const binary = Buffer.concat([Buffer.from(`${good.join('\n')}\n`), Buffer.from([0x00, 0x89, 0x50, 0x4e, 0x47, 0x0a])]);
    // Longer than a read chunk (1 MiB), so it is still unfinished when the next chunk comes.
    const longLine = `${good.join('\n')}\n{"eventId":"long","user":"${'a'.repeat(2 << 20)}"}\n`;
    for (const [name, content, mentions] of [
      // Bytes that are not text after good lines cost only their line (issue 16), in both.
      ['binary.jsonl', binary, 'the first is line 11001'],
      ['long.jsonl', longLine, 'longer than'],
    ] as const) {
      const { on, off, balances } = await both(file(name, content));
      expect({ name, on: on.exitCode, off: off.exitCode }).toEqual({ name, on: 2, off: 2 });
      const [onError, offError] = [JSON.parse(on.stderr).error, JSON.parse(off.stderr).error];
      expect(onError).toEqual(offError);
      expect(onError.code).toBe('INVALID_INPUT_FILE');
      expect(onError.message).toContain(mentions);
      // The batches before the fault were posted, alike in both.
      expect(balances[0]).toEqual(balances[1]);
      expect(balances[0]).not.toEqual(fundedBalances);
    }
  });
});
