import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { COMMAND_FAMILIES, type CommandFamily } from '../../src/app/spec.js';
import { ROLES, ROLE_FAMILIES, type Role } from '../../src/core/roles.js';
import { seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

type Call = { command: string; body: (unique: string) => { args?: string[]; options?: Record<string, unknown> } };

// One harmless command of each family, run through POST /v1/commands/NAME.
const FAMILY_CALLS: Record<CommandFamily, Call> = {
  budget: { command: 'balance', body: () => ({}) },
  read: { command: 'report', body: () => ({ options: { by: 'dept' } }) },
  usage: {
    command: 'usage record',
    body: (unique) => ({ options: { user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: '100', eventId: `role-${unique}` } }),
  },
  ledger: { command: 'transfer', body: () => ({ args: ['1'], options: { from: 'org', to: 'Engineering' } }) },
  jobs: { command: 'recharge run', body: () => ({}) },
  settings: { command: 'org set', body: () => ({ options: { name: 'Test GmbH' } }) },
  corrections: { command: 'adjust', body: () => ({ args: ['Engineering', '1'], options: { reason: 'role check', dryRun: true } }) },
  tokens: { command: 'token list', body: () => ({}) },
  local: { command: 'serve', body: () => ({}) },
};

function path(command: string): string {
  return `/v1/commands/${command.replace(/ /g, '/')}`;
}

type AuditRow = { actor: string; command: string; outcome: string; args: { refused?: string; role?: string } };

describe('credits serve: roles and department scope', () => {
  let ledger: Ledger;
  let server: ApiServer;
  const tokens = {} as Record<Role, string>;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Marketing']);
    for (const role of ROLES) tokens[role] = (await createToken(ledger, ['--role', role, '--name', `${role}-all`])).token;
    server = await startServer(ledger);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('classifies every command in a family', () => {
    const missing = COMMANDS.filter((spec) => spec.family === undefined).map((spec) => spec.name);
    expect(missing).toEqual([]);
    for (const spec of COMMANDS) expect(COMMAND_FAMILIES).toContain(spec.family);
    // Every command that changes the ledger is in a family that is not read-only.
    for (const spec of COMMANDS.filter((entry) => entry.mutating)) expect(['budget', 'read']).not.toContain(spec.family);
  });

  it('lets every role run exactly its families, and logs every refusal in the audit', async () => {
    const outcomes: string[] = [];
    let refusals = 0;
    let unique = 0;
    for (const role of ROLES) {
      for (const family of COMMAND_FAMILIES) {
        const call = FAMILY_CALLS[family];
        unique += 1;
        const response = await server.request('POST', path(call.command), { token: tokens[role], body: call.body(`${role}-${unique}`) });
        const allowed = family !== 'local' && ROLE_FAMILIES[role].includes(family);
        outcomes.push(`${role} ${family} ${response.status === 403 ? 'forbidden' : 'allowed'}`);
        if (allowed) {
          expect({ role, family, status: response.status, body: response.body }).toMatchObject({ status: 200 });
        } else {
          refusals += 1;
          expect({ role, family, status: response.status, code: response.body.error.code }).toEqual({ role, family, status: 403, code: 'FORBIDDEN' });
        }
      }
    }
    expect(outcomes).toContain('ci budget allowed');
    expect(outcomes).toContain('ci read forbidden');
    expect(outcomes).toContain('usage-writer usage allowed');
    expect(outcomes).toContain('usage-writer budget forbidden');
    expect(outcomes).toContain('operator settings forbidden');
    expect(outcomes).toContain('operator tokens forbidden');
    expect(outcomes).toContain('operator corrections forbidden');
    expect(outcomes).toContain('admin corrections allowed');
    expect(outcomes).toContain('admin tokens allowed');
    expect(outcomes).toContain('admin local forbidden');

    const audit = (await ledger.ok(['audit', '--json', '--limit', '1000'])).json<{ entries: AuditRow[] }>().entries;
    const forbidden = audit.filter((row) => row.outcome === 'forbidden');
    expect(forbidden).toHaveLength(refusals);
    const ciReport = forbidden.find((row) => row.command === 'report' && row.args.role === 'ci');
    expect(ciReport?.args.refused).toMatch(/role ci/);
    expect(ciReport?.actor).toMatch(/token \d+/);
  });

  it('applies the roles to the endpoints for external systems', async () => {
    const check = (token: string) => server.request('GET', '/v1/check?dept=Engineering&minCredits=1', { token });
    expect((await check(tokens.ci)).status).toBe(200);
    expect((await check(tokens['usage-writer'])).status).toBe(403);
    const usage = (token: string, id: string) =>
      server.request('POST', '/v1/usage', { token, body: { eventId: id, user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10 } });
    expect((await usage(tokens['usage-writer'], 'rest-1')).status).toBe(201);
    expect((await usage(tokens.operator, 'rest-2')).status).toBe(201);
    expect((await usage(tokens.reader, 'rest-3')).status).toBe(403);
    expect((await usage(tokens.ci, 'rest-4')).status).toBe(403);
    const batch = await server.request('POST', '/v1/usage/batch', {
      token: tokens.reader,
      body: { events: [{ eventId: 'rest-5', user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10 }] },
    });
    expect(batch.status).toBe(403);
    const transfer = await server.request('POST', '/v1/transfers', { token: tokens.reader, body: { amount: '1', from: 'org', to: 'Marketing' } });
    expect(transfer.status).toBe(403);
    expect((await server.request('GET', '/v1/purchases', { token: tokens.reader })).status).toBe(200);
    expect((await server.request('POST', '/v1/purchases', { token: tokens.reader, body: { package: 'basic', method: 'card' } })).status).toBe(403);
    // A department-bound admin cannot manage tokens (it could mint an unbound one).
    const boundAdmin = (await createToken(ledger, ['--role', 'admin', '--dept', 'Engineering'])).token;
    const minted = await server.request('POST', path('token create'), { token: boundAdmin, body: { options: { role: 'admin' } } });
    expect(minted.status).toBe(403);
  });

  describe('a token bound to a department', () => {
    let engineering: string;
    let marketingReader: string;
    let engineeringCi: string;
    let engineeringWriter: string;

    beforeAll(async () => {
      engineering = (await createToken(ledger, ['--role', 'operator', '--dept', 'Engineering'])).token;
      marketingReader = (await createToken(ledger, ['--role', 'reader', '--dept', 'Marketing'])).token;
      engineeringCi = (await createToken(ledger, ['--role', 'ci', '--dept', 'Engineering'])).token;
      engineeringWriter = (await createToken(ledger, ['--role', 'usage-writer', '--dept', 'Engineering'])).token;
      await server.request('POST', '/v1/usage/batch', {
        token: tokens.admin,
        body: {
          events: Array.from({ length: 20 }, (_, index) => ({
            eventId: `scope-${index}`,
            user: index % 2 ? 'ada@example.com' : 'don@example.com',
            model: 'gpt-4o-mini',
            inputTokens: 2000,
          })),
        },
      });
    });

    it('sees only its department in balances, lists and reports', async () => {
      const balances = await server.request('GET', '/v1/balances', { token: engineering });
      expect(balances.body.accounts.map((row: { account: string }) => row.account)).toEqual(['Engineering']);
      const other = await server.request('GET', '/v1/balances?account=Marketing', { token: engineering });
      expect(other.status).toBe(403);
      const org = await server.request('GET', '/v1/balances?account=org', { token: engineering });
      expect(org.status).toBe(403);
      const depts = await server.request('POST', path('dept list'), { token: marketingReader, body: {} });
      expect(depts.body.data.departments.map((row: { name: string }) => row.name)).toEqual(['Marketing']);
      const report = await server.request('GET', '/v1/report?by=user', { token: marketingReader });
      expect(report.status).toBe(200);
      expect(report.body.department).toBe('Marketing');
      expect(report.body.rows.map((row: { key?: string; name?: string }) => JSON.stringify(row))).not.toEqual(
        expect.arrayContaining([expect.stringContaining('ada@example.com')]),
      );
      expect(JSON.stringify(report.body.rows)).toContain('don@example.com');
      const otherReport = await server.request('GET', '/v1/report?by=user&dept=Engineering', { token: marketingReader });
      expect(otherReport.status).toBe(403);
      const users = await server.request('POST', path('user list'), { token: marketingReader, body: {} });
      expect(users.body.data.users.map((row: { email: string }) => row.email)).toEqual(['don@example.com']);
      const purchases = await server.request('GET', '/v1/purchases', { token: engineering });
      expect(purchases.body.purchases.every((row: { account: string }) => row.account === 'Engineering')).toBe(true);
      const forecast = await server.request('GET', '/v1/forecast?org=true', { token: engineering });
      expect(forecast.status).toBe(403);
      const history = await server.request('POST', path('history'), { token: marketingReader, body: { options: { user: 'ada@example.com' } } });
      expect(history.status).toBe(403);
    });

    it('checks only its department', async () => {
      const mine = await server.request('GET', '/v1/check?minCredits=1', { token: engineeringCi });
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({ scope: 'department', name: 'Engineering' });
      expect((await server.request('GET', '/v1/check?dept=Marketing', { token: engineeringCi })).status).toBe(403);
      expect((await server.request('GET', '/v1/check?org=true', { token: engineeringCi })).status).toBe(403);
      expect((await server.request('GET', '/v1/check?user=don@example.com', { token: engineeringCi })).status).toBe(403);
      expect((await server.request('GET', '/v1/check?user=ada@example.com', { token: engineeringCi })).status).toBe(200);
    });

    it('acts only on its department', async () => {
      const ownUsage = await server.request('POST', '/v1/usage', {
        token: engineeringWriter,
        body: { eventId: 'scoped-1', user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
      });
      expect(ownUsage.status).toBe(201);
      const otherUsage = await server.request('POST', '/v1/usage', {
        token: engineeringWriter,
        body: { eventId: 'scoped-2', user: 'don@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
      });
      expect(otherUsage.status).toBe(403);
      const mixedBatch = await server.request('POST', '/v1/usage/batch', {
        token: engineeringWriter,
        body: {
          events: [
            { eventId: 'scoped-3', user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
            { eventId: 'scoped-4', user: 'don@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
          ],
        },
      });
      expect(mixedBatch.status).toBe(403);
      const recordOther = await server.request('POST', path('usage record'), {
        token: engineering,
        body: { options: { user: 'don@example.com', model: 'gpt-4o-mini', inputTokens: '10' } },
      });
      expect(recordOther.status).toBe(403);
      const importOther = await server.request('POST', path('usage import'), {
        token: engineering,
        body: {
          args: ['events.jsonl'],
          input: { name: 'events.jsonl', content: '{"eventId":"scoped-5","user":"don@example.com","model":"gpt-4o-mini","inputTokens":10}\n' },
        },
      });
      expect(importOther.status).toBe(403);
      const importOwn = await server.request('POST', path('usage import'), {
        token: engineering,
        body: {
          args: ['events.jsonl'],
          input: { name: 'events.jsonl', content: '{"eventId":"scoped-6","user":"ada@example.com","model":"gpt-4o-mini","inputTokens":10}\n' },
        },
      });
      expect(importOwn.status).toBe(200);
      expect(importOwn.body.data).toMatchObject({ file: 'events.jsonl', accepted: 1 });

      const fromOther = await server.request('POST', '/v1/transfers', { token: engineering, body: { amount: '1', from: 'Marketing', to: 'Engineering' } });
      expect(fromOther.status).toBe(403);
      const fromOrg = await server.request('POST', '/v1/transfers', { token: engineering, body: { amount: '1', from: 'org', to: 'Engineering' } });
      expect(fromOrg.status).toBe(403);
      const fromOwn = await server.request('POST', '/v1/transfers', { token: engineering, body: { amount: '1', to: 'org' } });
      expect(fromOwn.status).toBe(200);
      expect(fromOwn.body).toMatchObject({ from: 'Engineering', to: 'org' });
      const buyOther = await server.request('POST', '/v1/purchases', { token: engineering, body: { package: 'basic', method: 'sepa', for: 'Marketing' } });
      expect(buyOther.status).toBe(403);
      const buyOwn = await server.request('POST', '/v1/purchases', { token: engineering, body: { package: 'basic', method: 'sepa' } });
      expect(buyOwn.status).toBe(200);
      expect(buyOwn.body.account).toBe('Engineering');
      const marketingPurchase = await server.request('POST', '/v1/purchases', {
        token: tokens.admin,
        body: { package: 'basic', method: 'sepa', for: 'Marketing' },
      });
      const settleOther = await server.request('POST', `/v1/purchases/${marketingPurchase.body.purchaseId}/settle`, { token: engineering, body: {} });
      expect(settleOther.status).toBe(403);
      const limitOther = await server.request('POST', path('limits set'), { token: engineering, body: { options: { dept: 'Marketing', daily: '10' } } });
      expect(limitOther.status).toBe(403);
      const limitOwn = await server.request('POST', path('limits set'), { token: engineering, body: { options: { daily: '1000' } } });
      expect(limitOwn.status).toBe(200);
      const limits = await server.request('POST', path('limits'), { token: engineering, body: {} });
      expect(
        limits.body.data.limits.every(
          (row: { department: string | null; user: string | null }) => row.department === 'Engineering' || row.user === 'ada@example.com',
        ),
      ).toBe(true);
      // Organisation-wide commands are refused to a bound token, whatever its role.
      for (const command of ['audit', 'verify', 'dashboard', 'dept add', 'rates set', 'notify run']) {
        const response = await server.request('POST', path(command), {
          token: engineering,
          body: command === 'dept add' ? { args: ['Sales'] } : command === 'rates set' ? { args: ['gpt-4o'], options: { input: '1' } } : {},
        });
        expect({ command, status: response.status }).toEqual({ command, status: 403 });
      }
    });
  });
});
