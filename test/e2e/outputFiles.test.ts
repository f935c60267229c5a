import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, seededLedger, type Ledger } from '../helpers/cli.js';
import { csvRecords, pdfLines } from '../helpers/readBack.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// Commands return their files as bytes; the CLI writes them (`--output FILE`, or `--output -`
// for standard output) and the API answers with them. Nothing is written by the command itself.
describe('files made by commands', () => {
  let ledger: Ledger;
  let dir: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok([
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
      '--at',
      '2026-11-10T10:00:00Z',
    ]);
    dir = mkdtempSync(join(tmpdir(), 'credits-files-'));
  });

  afterAll(async () => {
    await ledger?.close();
  });

  async function stdoutBytes(args: string[]): Promise<{ bytes: Buffer; stderr: string; exitCode: number | undefined }> {
    const result = await execa('node', [BIN, '--db', ledger.location, ...args], {
      encoding: 'buffer',
      stripFinalNewline: false,
      reject: false,
      env: { CI: '1', NO_COLOR: '1' },
    });
    return { bytes: Buffer.from(result.stdout as Uint8Array), stderr: Buffer.from(result.stderr as Uint8Array).toString(), exitCode: result.exitCode };
  }

  it('writes a PDF statement to standard output with --output -, and nothing else', async () => {
    const { bytes, exitCode, stderr } = await stdoutBytes(['statement', '--month', '2026-11', '--format', 'pdf', '--output', '-']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const path = join(dir, 'from-stdout.pdf');
    writeFileSync(path, bytes);
    const text = (await pdfLines(path)).flat().join(' ');
    expect(text).toContain('November 2026');
  });

  it('writes a CSV report to standard output, parsed back, and the same bytes to a file', async () => {
    const piped = await stdoutBytes(['report', '--by', 'user', '--month', '2026-11', '--format', 'csv', '--output', '-']);
    expect(piped.exitCode).toBe(0);
    const rows = csvRecords(piped.bytes.toString('utf8'));
    expect(rows.map((row) => row.user)).toContain('ada@example.com');
    const path = join(dir, 'report.csv');
    await ledger.ok(['report', '--by', 'user', '--month', '2026-11', '--format', 'csv', '--output', path]);
    expect(readFileSync(path)).toEqual(piped.bytes);
  });

  it('refuses a directory as --output before doing anything', async () => {
    const result = await ledger.run(['statement', '--month', '2026-11', '--format', 'csv', '--output', dir, '--json']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('is a directory');
  });
});

describe('files over the API', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let reader: string;
  let dir: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--input-tokens', '523', '--at', '2026-11-10T10:00:00Z']);
    reader = (await createToken(ledger, ['--role', 'reader', '--name', 'accounting'])).token;
    server = await startServer(ledger);
    dir = mkdtempSync(join(tmpdir(), 'credits-api-files-'));
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('answers GET /v1/statement with the PDF itself', async () => {
    const response = await fetch(`${server.url}/v1/statement?month=2026-11&format=pdf`, { headers: { authorization: `Bearer ${reader}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="statement-2026-11.pdf"');
    const path = join(dir, 'api.pdf');
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    expect((await pdfLines(path)).flat().join(' ')).toContain('November 2026');
  });

  it('returns a command file as base64 with its name and media type, and writes nothing on the server', async () => {
    const wanted = join(dir, 'never-written.csv');
    const response = await server.request('POST', '/v1/commands/statement', {
      token: reader,
      body: { options: { month: '2026-11', format: 'csv', output: wanted } },
    });
    expect(response.status).toBe(200);
    expect(response.body.file.name).toBe(wanted);
    expect(response.body.file.mediaType).toBe('text/csv; charset=utf-8');
    const csv = Buffer.from(response.body.file.base64, 'base64').toString('utf8');
    expect(csv.length).toBeGreaterThan(0);
    expect(() => readFileSync(wanted)).toThrow();
  });
});
