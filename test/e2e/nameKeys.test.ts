import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, freshLedger, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

/**
 * Department names and emails are one name in every spelling a person reads as the same:
 * Unicode NFKC plus full case folding, not SQLite's ASCII-only NOCASE.
 */
type ErrorJson = { error: { code: string; message: string } };

function errorOf(result: RunResult): ErrorJson['error'] {
  return (JSON.parse(result.stderr) as ErrorJson).error;
}

async function departmentNames(ledger: Ledger): Promise<string[]> {
  return (await ledger.ok(['dept', 'list', '--json'])).json<{ departments: { name: string }[] }>().departments.map((row) => row.name);
}

describe('department names and emails compare after NFKC normalisation and case folding', () => {
  let ledger: Ledger;

  beforeAll(async () => {
    ledger = await freshLedger();
    await ledger.ok(['init', '--org', 'Test GmbH']);
    await ledger.ok(['buy', 'professional', '--method', 'card']);
    await ledger.ok(['dept', 'add', 'équipe']);
    await ledger.ok(['dept', 'add', 'Engineering']);
  });

  afterAll(async () => {
    await ledger?.close();
  });

  it('refuses a department whose name differs only by case, accents composed or width, naming the existing spelling', async () => {
    for (const spelling of ['Équipe', 'e\u0301quipe', 'ÉQUIPE', '  équipe ', 'Ｅｎｇｉｎｅｅｒｉｎｇ', 'ENGINEERING']) {
      const result = await ledger.run(['dept', 'add', spelling, '--json']);
      expect({ spelling, exitCode: result.exitCode, code: errorOf(result).code }).toEqual({ spelling, exitCode: 5, code: 'DUPLICATE' });
    }
    const differentCase = await ledger.run(['dept', 'add', 'Équipe', '--json']);
    expect(errorOf(differentCase).message).toBe('department "Équipe" already exists as "équipe"');
    expect(await departmentNames(ledger)).toEqual(['Engineering', 'équipe']);
  });

  it('finds the same department by every spelling in balance, transfer and user add', async () => {
    for (const spelling of ['Équipe', 'e\u0301quipe', 'ÉQUIPE']) {
      const shown = (await ledger.ok(['balance', spelling, '--json'])).json<{ accounts: { account: string }[] }>();
      expect(shown.accounts.map((row) => row.account)).toEqual(['équipe']);
    }
    const shownWide = (await ledger.ok(['balance', 'Ｅｎｇｉｎｅｅｒｉｎｇ', '--json'])).json<{ accounts: { account: string }[] }>();
    expect(shownWide.accounts.map((row) => row.account)).toEqual(['Engineering']);

    await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'E\u0301QUIPE']);
    await ledger.ok(['transfer', '50', '--from', 'org', '--to', 'Ｅｎｇｉｎｅｅｒｉｎｇ']);
    expect(await balanceOf(ledger, 'équipe')).toBe(100_000);
    expect(await balanceOf(ledger, 'Engineering')).toBe(50_000);

    const added = await ledger.ok(['user', 'add', 'zoe@example.com', '--dept', 'Ｅｎｇｉｎｅｅｒｉｎｇ', '--json']);
    expect(added.json<{ department: string }>().department).toBe('Engineering');
    expect(await departmentNames(ledger)).toEqual(['Engineering', 'équipe']);
  });

  it('refuses a user whose email differs only by case or width', async () => {
    await ledger.ok(['user', 'add', 'Anna@Example.com', '--dept', 'équipe']);
    for (const spelling of ['anna@example.com', 'ANNA@EXAMPLE.COM', 'ａｎｎａ@example.com']) {
      const result = await ledger.run(['user', 'add', spelling, '--dept', 'Engineering', '--json']);
      expect({ spelling, exitCode: result.exitCode, code: errorOf(result).code }).toEqual({ spelling, exitCode: 5, code: 'DUPLICATE' });
    }
    const users = (await ledger.ok(['user', 'list', '--json'])).json<{ users: { email: string; department: string }[] }>().users;
    expect(users.filter((row) => row.email.includes('anna'))).toEqual([expect.objectContaining({ email: 'anna@example.com', department: 'équipe' })]);
    // The fullwidth spelling is the same user for usage too.
    await ledger.ok(['usage', 'record', '--user', 'ａｎｎａ@example.com', '--model', 'gpt-4o-mini', '--input-tokens', '1000']);
    expect(await balanceOf(ledger, 'équipe')).toBeLessThan(100_000);
    expect((await ledger.ok(['verify', '--json'])).json<{ ok: boolean }>().ok).toBe(true);
  });
});

describe('credits serve: a token bound to a department reaches no other by any spelling', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let equipe: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['dept', 'add', 'équipe']);
    await ledger.ok(['transfer', '300', '--from', 'org', '--to', 'équipe']);
    await ledger.ok(['transfer', '200', '--from', 'org', '--to', 'Engineering']);
    equipe = (await createToken(ledger, ['--role', 'operator', '--dept', 'équipe'])).token;
    server = await startServer(ledger);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('reads and moves only its own department', async () => {
    const others = ['Engineering', 'ENGINEERING', 'Ｅｎｇｉｎｅｅｒｉｎｇ', ' engineering '];
    for (const spelling of others) {
      const read = await server.request('GET', `/v1/balances?account=${encodeURIComponent(spelling)}`, { token: equipe });
      expect({ spelling, status: read.status }).toEqual({ spelling, status: 403 });
      const moved = await server.request('POST', '/v1/transfers', { token: equipe, body: { amount: '1', from: spelling, to: 'équipe' } });
      expect({ spelling, status: moved.status, code: moved.body.error.code }).toEqual({ spelling, status: 403, code: 'FORBIDDEN' });
      const shown = await server.request('POST', '/v1/commands/dept/show', { token: equipe, body: { args: [spelling] } });
      expect({ spelling, status: shown.status }).toEqual({ spelling, status: 403 });
    }
    expect(await balanceOf(ledger, 'Engineering')).toBe(200_000);

    // Its own department answers to every spelling of its name.
    for (const spelling of ['Équipe', 'e\u0301quipe', 'ÉＱＵＩＰＥ']) {
      const own = await server.request('GET', `/v1/balances?account=${encodeURIComponent(spelling)}`, { token: equipe });
      expect({ spelling, status: own.status, accounts: own.body.accounts?.map((row: { account: string }) => row.account) }).toEqual({
        spelling,
        status: 200,
        accounts: ['équipe'],
      });
    }
    const moved = await server.request('POST', '/v1/transfers', { token: equipe, body: { amount: '1', from: 'ÉQUIPE', to: 'org' } });
    expect(moved.status).toBe(200);
    expect(await balanceOf(ledger, 'équipe')).toBe(299_000);
  });

  it('posts usage only for its own users, by any spelling of their email', async () => {
    await ledger.ok(['user', 'add', 'eve@example.com', '--dept', 'équipe']);
    const stranger = await server.request('POST', '/v1/usage', {
      token: equipe,
      body: { eventId: 'nk-1', user: 'ＡＤＡ@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
    });
    expect(stranger.status).toBe(403);
    const own = await server.request('POST', '/v1/usage', {
      token: equipe,
      body: { eventId: 'nk-2', user: 'ＥＶＥ@Example.com', model: 'gpt-4o-mini', inputTokens: 10 },
    });
    expect(own.status).toBe(201);
    expect(await balanceOf(ledger, 'Engineering')).toBe(200_000);
  });
});
