import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, removeDir, runCli, seededLedger, type Ledger } from '../helpers/cli.js';
import { freePort } from '../helpers/sqld.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// Remote mode: the CLI with CREDITS_SERVER/--server and CREDITS_TOKEN prints what the same
// command prints locally on the same ledger, with the same exit codes.
const NOW = '2026-11-20T10:00:00Z';

/** A proxy in front of the server that can lose answers or fail, to test retries. */
async function flakyProxy(
  target: string,
  behave: (path: string, attempt: number) => 'pass' | 'lose-answer' | 'fail-502',
): Promise<{ url: string; attempts: Map<string, number>; close(): Promise<void> }> {
  const attempts = new Map<string, number>();
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    const attempt = (attempts.get(path) ?? 0) + 1;
    attempts.set(path, attempt);
    const mode = behave(path, attempt);
    if (mode === 'fail-502') {
      incoming.resume();
      outgoing.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path, method: incoming.method, headers: incoming.headers }, (answer) => {
      if (mode === 'lose-answer') {
        // The server did the work; the caller never hears about it.
        answer.resume();
        answer.on('end', () => outgoing.socket?.destroy());
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(forward);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('remote mode (--server / CREDITS_SERVER)', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let admin: string;
  let reader: string;
  let dir: string;
  const local = (args: string[], input?: string) => ledger.run(args, { env: { CREDITS_NOW: NOW }, ...(input === undefined ? {} : { input }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-remote-'));
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '1500', '--from', 'org', '--to', 'Marketing']);
    const events = Array.from({ length: 60 }, (_, index) =>
      JSON.stringify({
        eventId: `seed-${index}`,
        user: index % 3 ? 'ada@example.com' : 'don@example.com',
        model: index % 2 ? 'gpt-4o' : 'gpt-4o-mini',
        inputTokens: 500 + index * 10,
        outputTokens: 200,
        at: `2026-11-${String(1 + (index % 19)).padStart(2, '0')}T09:00:00Z`,
      }),
    ).join('\n');
    await ledger.ok(['usage', 'import', '-', '--format', 'jsonl'], { input: events, env: { CREDITS_NOW: NOW } });
    admin = (await createToken(ledger, ['--role', 'admin', '--name', 'remote-admin'])).token;
    reader = (await createToken(ledger, ['--role', 'reader', '--name', 'remote-reader'])).token;
    server = await startServer(ledger, [], { CREDITS_NOW: NOW });
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
    if (dir) removeDir(dir);
  });

  const same = async (args: string[], token = admin) => {
    const [mine, theirs] = await Promise.all([local(args), server.remote(token, args)]);
    expect({ args, exitCode: theirs.exitCode, stdout: theirs.stdout, stderr: theirs.stderr }).toEqual({
      args,
      exitCode: mine.exitCode,
      stdout: mine.stdout,
      stderr: mine.stderr,
    });
    return theirs;
  };

  it('prints the same balances, reports, forecasts and lists as a local run', async () => {
    await same(['balance', '--json']);
    await same(['balance']);
    await same(['balance', 'Engineering', '--json']);
    await same(['report', '--by', 'user', '--month', '2026-11', '--json']);
    await same(['report', '--by', 'model', '--month', '2026-11']);
    await same(['report', '--by', 'day', '--month', '2026-11', '--format', 'csv']);
    await same(['forecast', '--dept', 'Engineering', '--json']);
    await same(['dept', 'list', '--json']);
    await same(['purchases', '--json']);
    await same(['limits', '--json']);
    await same(['rates']);
    await same(['packages', '--json']);
    await same(['org', 'show', '--json'], reader);
  });

  it('gives check the same output and exit codes', async () => {
    const enough = await same(['check', '--dept', 'Engineering', '--min-credits', '10', '--json']);
    expect(enough.exitCode).toBe(0);
    const low = await same(['check', '--dept', 'Marketing', '--min-credits', '999999', '--json']);
    expect(low.exitCode).toBe(3);
    expect(JSON.parse(low.stderr).error.code).toBe('BUDGET_LOW');
    await same(['check', '--dept', 'Marketing', '--min-credits', '999999']);
    const ci = (await createToken(ledger, ['--role', 'ci', '--dept', 'Engineering'])).token;
    // The CI pipeline of the issue, with a department-bound ci token.
    const pipeline = await server.remote(ci, ['check', '--dept', 'Engineering', '--min-credits', '500']);
    expect(pipeline.exitCode).toBe(0);
    const lowPipeline = await server.remote(ci, ['check', '--dept', 'Engineering', '--min-credits', '500000']);
    expect(lowPipeline.exitCode).toBe(3);
  });

  it('gives errors the same codes and messages', async () => {
    const missing = await same(['dept', 'show', 'Nowhere', '--json']);
    expect(missing.exitCode).toBe(4);
    await same(['dept', 'show', 'Nowhere']);
    const bad = await same(['report', '--month', '2026-13', '--json']);
    expect(bad.exitCode).toBe(2);
    const refused = await same(['transfer', '99999', '--from', 'Marketing', '--to', 'Engineering', '--json', '--dry-run']);
    expect(refused.exitCode).toBe(3);
    // Parsing stays local: an unknown flag never reaches the server.
    const flag = await same(['balance', '--colour']);
    expect(flag.exitCode).toBe(2);
  });

  it('changes the ledger once per command, and says who did it', async () => {
    const before = await balanceOf(ledger, 'Marketing');
    const moved = await server.remote(admin, ['transfer', '2.5', '--from', 'org', '--to', 'Marketing', '--json'], { env: { CREDITS_ACTOR: 'ada' } });
    expect(moved.exitCode).toBe(0);
    expect(moved.json()).toMatchObject({ from: 'org', to: 'Marketing', millicredits: 2500, replayed: false });
    expect(await balanceOf(ledger, 'Marketing')).toBe(before + 2500);
    const history = (await ledger.ok(['history', '--limit', '1', '--json'])).json<{ transactions: { actor: string }[] }>();
    expect(history.transactions[0]!.actor).toMatch(/^ada via token \d+$/);
    const recorded = await server.remote(admin, [
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'gpt-4o',
      '--input-tokens',
      '523',
      '--output-tokens',
      '1247',
      '--tool-calls',
      '2',
    ]);
    expect(recorded.exitCode).toBe(0);
    expect(recorded.stdout).toContain('Total: 8.0 credits');
  });

  it("imports usage files and writes report files on the caller's machine", async () => {
    const file = join(dir, 'events.csv');
    writeFileSync(
      file,
      [
        'eventId,user,model,inputTokens',
        'csv-1,ada@example.com,gpt-4o,100',
        'csv-2,don@example.com,gpt-4o-mini,200',
        'csv-3,nobody@example.com,gpt-4o,5',
        'csv-4,ada@example.com,gpt-4o,x',
      ].join('\n'),
    );
    const first = await server.remote(admin, ['usage', 'import', file, '--json']);
    expect(first.exitCode).toBe(2);
    expect(first.json()).toMatchObject({ file, read: 4, accepted: 2, refused: 1, malformed: 1 });
    expect(JSON.parse(first.stderr).error.code).toBe('INVALID_INPUT_FILE');
    const again = await server.remote(admin, ['usage', 'import', file, '--json']);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 2 });
    const piped = await server.remote(admin, ['usage', 'import', '-', '--json'], {
      input: '{"eventId":"stdin-1","user":"ada@example.com","model":"gpt-4o","inputTokens":10}\n',
    });
    expect(piped.exitCode).toBe(0);
    expect(piped.json()).toMatchObject({ file: '-', accepted: 1 });

    const localCsv = join(dir, 'local.csv');
    const remoteCsv = join(dir, 'remote.csv');
    expect((await local(['report', '--by', 'user', '--month', '2026-11', '--output', localCsv])).exitCode).toBe(0);
    const written = await server.remote(admin, ['report', '--by', 'user', '--month', '2026-11', '--output', remoteCsv, '--json']);
    expect(written.exitCode).toBe(0);
    expect(written.json()).toMatchObject({ path: remoteCsv, format: 'csv' });
    expect(readFileSync(remoteCsv, 'utf8')).toBe(readFileSync(localCsv, 'utf8'));
    const statement = join(dir, 'statement.json');
    const localStatement = join(dir, 'statement-local.json');
    expect((await server.remote(admin, ['statement', '--month', '2026-11', '--format', 'json', '--output', statement])).exitCode).toBe(0);
    expect((await local(['statement', '--month', '2026-11', '--format', 'json', '--output', localStatement])).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(statement, 'utf8'))).toEqual(JSON.parse(readFileSync(localStatement, 'utf8')));
  });

  it('sends a large import file in chunks and reports its totals and line numbers as one import', async () => {
    // More than 4 MB: two requests. Blank lines count as lines, so line numbers must survive the split.
    const blank = '\n'.repeat(4_500_000);
    const jsonl = join(dir, 'big.jsonl');
    writeFileSync(
      jsonl,
      `{"eventId":"big-1","user":"ada@example.com","model":"gpt-4o","inputTokens":10}\n${blank}{"eventId":"big-2","user":"ada@example.com"}\n{"eventId":"big-3","user":"don@example.com","model":"gpt-4o","inputTokens":10}\n`,
    );
    const importRequests = async (): Promise<number> => {
      const text = (await server.request('GET', '/metrics')).text;
      return [...text.matchAll(/^credits_http_requests_total\{method="POST",route="\/v1\/commands\/usage\/import",status="\d+"\} (\d+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    };
    const before = await importRequests();
    const answer = await server.remote(admin, ['usage', 'import', jsonl, '--json']);
    expect(await importRequests()).toBe(before + 2);
    expect(answer.exitCode).toBe(2);
    expect(answer.json()).toMatchObject({ file: jsonl, read: 3, accepted: 2, malformed: 1, problems: [{ line: 4_500_002, eventId: null }] });
    expect(answer.json().problems[0].message).toMatch(/^line 4500002: /);
    expect(JSON.parse(answer.stderr).error.message).toContain('the first is line 4500002');

    const csv = join(dir, 'big.csv');
    writeFileSync(csv, `eventId,user,model,inputTokens\nbigcsv-1,ada@example.com,gpt-4o,10\n${blank}bigcsv-2,don@example.com,gpt-4o,10\n`);
    const csvAnswer = await server.remote(admin, ['usage', 'import', csv, '--json']);
    expect(csvAnswer.exitCode).toBe(0);
    expect(csvAnswer.json()).toMatchObject({ read: 2, accepted: 2, malformed: 0 });
  });

  it('is refused what the token does not allow, with exit 8', async () => {
    const forbidden = await server.remote(reader, ['transfer', '1', '--from', 'org', '--to', 'Marketing', '--json']);
    expect(forbidden.exitCode).toBe(8);
    expect(JSON.parse(forbidden.stderr).error.code).toBe('FORBIDDEN');
    const noToken = await runCli(['balance', '--json'], { CREDITS_SERVER: server.url, CREDITS_TOKEN: '' });
    expect(noToken.exitCode).toBe(8);
    expect(JSON.parse(noToken.stderr).error.code).toBe('UNAUTHORIZED');
    const wrongToken = await server.remote('ctk_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ['balance']);
    expect(wrongToken.exitCode).toBe(8);
    expect(wrongToken.stderr).toMatch(/UNAUTHORIZED/);
  });

  it('takes --server as a flag, and refuses it together with --db', async () => {
    const viaFlag = await runCli(['--server', server.url, 'balance', '--json'], { CREDITS_TOKEN: reader });
    expect(viaFlag.exitCode).toBe(0);
    expect(viaFlag.stdout).toBe((await local(['balance', '--json'])).stdout);
    const both = await runCli(['--server', server.url, '--db', ledger.location, 'balance'], { CREDITS_TOKEN: reader });
    expect(both.exitCode).toBe(2);
  });

  it('exits 6 naming the URL when the server is unreachable or failing', async () => {
    const port = await freePort();
    const down = await runCli(['balance', '--json'], { CREDITS_SERVER: `http://127.0.0.1:${port}`, CREDITS_TOKEN: admin });
    expect(down.exitCode).toBe(6);
    const error = JSON.parse(down.stderr).error;
    expect(error.code).toBe('SERVER_UNAVAILABLE');
    expect(error.message).toContain(`http://127.0.0.1:${port}`);

    const failing = await flakyProxy(server.url, () => 'fail-502');
    try {
      const answer = await runCli(['check', '--dept', 'Engineering'], { CREDITS_SERVER: failing.url, CREDITS_TOKEN: admin });
      expect(answer.exitCode).toBe(6);
      expect(answer.stderr).toContain(failing.url);
      expect(answer.stderr).toContain('502');
      expect(failing.attempts.get('/v1/commands/check')).toBe(3);
    } finally {
      await failing.close();
    }

    const slow = await runCli(['balance'], { CREDITS_SERVER: server.url, CREDITS_TOKEN: admin, CREDITS_SERVER_TIMEOUT_MS: '100000000' });
    expect(slow.exitCode).toBe(2);
  });

  it('retries a lost answer with the same idempotency key, so the command acts once', async () => {
    const proxy = await flakyProxy(server.url, (path, attempt) => (path === '/v1/commands/transfer' && attempt === 1 ? 'lose-answer' : 'pass'));
    try {
      const before = await balanceOf(ledger, 'Engineering');
      const moved = await runCli(['transfer', '7', '--from', 'org', '--to', 'Engineering', '--json'], { CREDITS_SERVER: proxy.url, CREDITS_TOKEN: admin });
      expect(moved.exitCode).toBe(0);
      expect(proxy.attempts.get('/v1/commands/transfer')).toBe(2);
      // The first attempt moved the credits; the retry got that result back instead of moving them again.
      expect(moved.json()).toMatchObject({ millicredits: 7000, replayed: true });
      expect(await balanceOf(ledger, 'Engineering')).toBe(before + 7000);
    } finally {
      await proxy.close();
    }
  });
});
