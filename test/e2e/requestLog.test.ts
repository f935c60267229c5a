import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

type LogLine = {
  level: string;
  time: string;
  msg: string;
  requestId: string;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  principal?: { tokenId: number; tokenName: string; role: string; actor: string };
};

// `credits serve` logs one JSON line per request on stdout, names each request in an
// x-request-id header (the caller's when sane) and records it in the audit rows it causes.
describe(`credits serve: request log and request ids on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let server: ApiServer;
  let admin: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    admin = (await createToken(ledger, ['--role', 'admin', '--name', 'root'])).token;
    server = await startServer(ledger);
  });
  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await response.arrayBuffer();
    return { status: response.status, requestId: response.headers.get('x-request-id') };
  };

  it('answers every request with x-request-id, logs it as one JSON line, and audits a write under it', async () => {
    const auth = { authorization: `Bearer ${admin}` };
    const write = await call('POST', '/v1/commands/dept/add', { ...auth, 'x-request-id': 'ci-run-42.step_1' }, { args: ['Sales'] });
    expect(write).toEqual({ status: 200, requestId: 'ci-run-42.step_1' });
    // An id that is not sane is replaced; a query string never reaches the log.
    const odd = await call('GET', '/v1/balances?token=QUERY-SECRET', { ...auth, 'x-request-id': 'not sane!' });
    expect(odd.status).toBe(400);
    expect(odd.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await call('GET', '/v1/balances', {});
    expect(refused.status).toBe(401);
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.requestId).not.toBe(odd.requestId);

    const audit = (await ledger.ok(['audit', '--json', '--limit', '20'])).json<{ entries: { command: string; requestId: string | null }[] }>().entries;
    expect(audit.find((entry) => entry.command === 'dept add')?.requestId).toBe('ci-run-42.step_1');
    // A write on the command line belongs to no request.
    expect(audit.find((entry) => entry.command === 'token create')?.requestId).toBeNull();

    const { stdout } = await server.stop();
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.msg === 'request');
    // The health checks and the description the test helper reads at start are the helper's, not the test's.
    const mine = lines.filter((line) => line.url !== '/health' && line.url !== '/openapi.json');
    expect(mine.map((line) => [line.level, line.method, line.url, line.status, line.requestId])).toEqual([
      ['info', 'POST', '/v1/commands/dept/add', 200, 'ci-run-42.step_1'],
      ['warn', 'GET', '/v1/balances', 400, odd.requestId],
      ['warn', 'GET', '/v1/balances', 401, refused.requestId],
    ]);
    expect(mine[0]).toMatchObject({ principal: { tokenName: 'root', role: 'admin' } });
    expect(mine[2]!.principal).toBeUndefined();
    for (const line of mine) {
      expect(Date.parse(line.time)).toBeGreaterThan(Date.now() - 300_000);
      expect(line.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(stdout).not.toContain('QUERY-SECRET');
    expect(stdout).not.toContain(admin);
  });

  it('refuses a --log-level it does not know with exit 2', async () => {
    const bad = await ledger.run(['serve', '--log-level', 'loud', '--listen', '127.0.0.1:0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--log-level/);
    expect(bad.stderr).toMatch(/silent/);
  });
});
