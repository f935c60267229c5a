import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

/**
 * Holds through `credits serve`: POST /v1/holds, /v1/holds/ID/capture and /v1/holds/ID/release,
 * idempotent by event id, by the hold itself and by an Idempotency-Key header; limits and the
 * overdraft counting open holds; department-bound tokens and roles. The ledger verifies after
 * every scenario. 20 tool calls on llama-3.1-groq cost exactly 1 credit.
 */
type Answer = Awaited<ReturnType<ApiServer['request']>>;

describe(`holds through the HTTP API on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let server: ApiServer;
  let writer: string;
  let reader: string;
  let marketingWriter: string;

  const post = (path: string, body?: unknown, token = writer, headers: Record<string, string> = {}): Promise<Answer> =>
    server.request('POST', path, { token, ...(body === undefined ? {} : { body }), headers });
  const hold = (user: string, maxCredits: number | string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    post('/v1/holds', { user, model: 'llama-3.1-groq', maxCredits, ...extra }, writer, headers);
  const capture = (holdId: number, credits: number, extra: Record<string, unknown> = {}) =>
    post(`/v1/holds/${holdId}/capture`, { toolCalls: credits * 20, ...extra });
  const account = async (name: string) =>
    (await server.request('GET', '/v1/balances', { token: reader })).body.accounts.find((row: { account: string }) => row.account === name);
  const verified = async (): Promise<void> => {
    const result = await ledger.run(['verify', '--json']);
    expect(result.json().problems).toEqual([]);
    expect(result.exitCode).toBe(0);
  };

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['user', 'add', 'eve@example.com', '--dept', 'Marketing']);
    await ledger.ok(['transfer', '20', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '5', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['limits', 'set', '--user', 'don@example.com', '--daily', '4']);
    writer = (await createToken(ledger, ['--role', 'usage-writer', '--name', 'gateway'])).token;
    reader = (await createToken(ledger, ['--role', 'reader', '--name', 'dashboard'])).token;
    marketingWriter = (await createToken(ledger, ['--role', 'usage-writer', '--dept', 'Marketing', '--name', 'mkt-gateway'])).token;
    server = await startServer(ledger);
  });
  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  it('places, captures and releases holds, and answers a repeated request as it did the first time', async () => {
    const placed = await hold('ada@example.com', 3, { eventId: 'api-1', expires: '2m' });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: 'open', duplicate: false, maxMillicredits: 3000, maxCredits: 3, departmentAvailableMillicredits: 17_000 });
    expect(placed.body.expiresAtMs - placed.body.createdAtMs).toBe(120_000);
    const id = placed.body.holdId as number;
    expect(await hold('ada@example.com', 3, { eventId: 'api-1' })).toMatchObject({ status: 200, body: { holdId: id, duplicate: true } });
    expect(await hold('ada@example.com', 4, { eventId: 'api-1' })).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT' } } });

    expect(await capture(id, 5)).toMatchObject({ status: 422, body: { error: { code: 'HOLD_EXCEEDED' } } });
    const captured = await capture(id, 2);
    expect(captured).toMatchObject({ status: 201, body: { status: 'accepted', eventId: 'api-1', costMillicredits: 2000, credits: 2 } });
    expect(captured.body.hold).toMatchObject({ status: 'captured', releasedMillicredits: 1000 });
    expect(await capture(id, 2)).toMatchObject({ status: 200, body: { status: 'duplicate', eventId: 'api-1' } });
    expect(await capture(id, 1)).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT' } } });
    expect(await post(`/v1/holds/${id}/release`)).toMatchObject({ status: 409, body: { error: { code: 'HOLD_CLOSED' } } });

    // No event id: an Idempotency-Key header makes the retry give the first answer back.
    const keyed = await hold('ada@example.com', 2, {}, { 'idempotency-key': 'gw-77' });
    expect(keyed.status).toBe(201);
    expect(await hold('ada@example.com', 2, {}, { 'idempotency-key': 'gw-77' })).toMatchObject({
      status: 200,
      body: { holdId: keyed.body.holdId, replayed: true },
    });
    expect(await capture(keyed.body.holdId, 3, { allowOver: true })).toMatchObject({ status: 201, body: { costMillicredits: 3000 } });

    const dry = await server.request('POST', '/v1/holds?dryRun=true', { token: writer, body: { user: 'ada@example.com', model: 'gpt-4o', maxCredits: 1 } });
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true } });
    const released = await hold('ada@example.com', 1);
    expect(await post(`/v1/holds/${released.body.holdId}/release`)).toMatchObject({ status: 200, body: { status: 'released', releasedMillicredits: 1000 } });
    expect(await post(`/v1/holds/${released.body.holdId}/release`)).toMatchObject({ status: 200, body: { alreadyClosed: true } });
    expect(await capture(released.body.holdId, 1)).toMatchObject({ status: 409, body: { error: { code: 'HOLD_CLOSED' } } });
    expect(await post('/v1/holds/99999/release')).toMatchObject({ status: 404, body: { error: { code: 'HOLD_NOT_FOUND' } } });

    for (const body of [
      { user: 'ada@example.com', model: 'gpt-4o', maxCredits: 'lots' },
      { user: 'ada@example.com', model: 'gpt-4o', maxCredits: 1, expires: '2d' },
      { user: 'ada@example.com', model: 'gpt-4o', maxCredits: 1, colour: 'red' },
    ]) {
      expect((await post('/v1/holds', body)).status).toBe(400);
    }
    expect(await account('Engineering')).toMatchObject({ millicredits: 15_000, heldMillicredits: 0, availableMillicredits: 15_000 });
    await verified();
  });

  it('counts open holds against limits, and against the overdraft a department may draw', async () => {
    // Marketing: 5 credits; don may spend 4 a day.
    const three = await hold('don@example.com', 3);
    expect(three.status).toBe(201);
    expect(await hold('don@example.com', 2)).toMatchObject({ status: 422, body: { error: { code: 'LIMIT_EXCEEDED' } } });
    const event = { eventId: 'don-1', user: 'don@example.com', model: 'llama-3.1-groq', toolCalls: 40 };
    expect(await post('/v1/usage', event)).toMatchObject({ status: 422, body: { error: { code: 'LIMIT_EXCEEDED' } } });
    expect(await capture(three.body.holdId, 1)).toMatchObject({ status: 201 });
    const again = await hold('don@example.com', 3);
    expect(again.status).toBe(201);
    expect((await post(`/v1/holds/${again.body.holdId}/release`)).status).toBe(200);

    // Marketing has 4 credits and may draw 10 a month from org: a hold of 9 draws 5 of them.
    await ledger.ok(['dept', 'set', 'Marketing', '--overdraft-from', 'org', '--overdraft-max', '10']);
    const big = await hold('eve@example.com', 9);
    expect(big).toMatchObject({ status: 201, body: { fromOrgMillicredits: 5000, departmentAvailableMillicredits: 0 } });
    expect(await account('org')).toMatchObject({ heldMillicredits: 5000 });
    expect(await hold('eve@example.com', 6)).toMatchObject({ status: 422, body: { error: { code: 'INSUFFICIENT_CREDITS' } } });
    expect(await capture(big.body.holdId, 6)).toMatchObject({ status: 201, body: { costMillicredits: 6000, drawnFromOrgMillicredits: 2000 } });
    expect(await account('Marketing')).toMatchObject({ millicredits: 0, heldMillicredits: 0 });
    expect(await account('org')).toMatchObject({ heldMillicredits: 0 });
    await verified();
  });

  it("keeps a department-bound token to its department's users and holds, and a reader out", async () => {
    await ledger.ok(['transfer', '3', '--from', 'org', '--to', 'Marketing']);
    const engineering = await hold('ada@example.com', 1);
    expect(engineering.status).toBe(201);
    const id = engineering.body.holdId as number;
    const scoped = { user: 'ada@example.com', model: 'llama-3.1-groq', maxCredits: 1 };
    expect(await post('/v1/holds', scoped, marketingWriter)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await post(`/v1/holds/${id}/capture`, { toolCalls: 20 }, marketingWriter)).toMatchObject({ status: 403 });
    expect(await post(`/v1/holds/${id}/release`, undefined, marketingWriter)).toMatchObject({ status: 403 });
    expect(await post('/v1/holds/99999/release', undefined, marketingWriter)).toMatchObject({ status: 403 });
    expect(await post('/v1/holds', scoped, reader)).toMatchObject({ status: 403 });
    const own = await post('/v1/holds', { ...scoped, user: 'eve@example.com' }, marketingWriter);
    expect(own).toMatchObject({ status: 201, body: { department: 'Marketing' } });
    expect((await post(`/v1/holds/${own.body.holdId}/release`, undefined, marketingWriter)).status).toBe(200);
    expect((await post(`/v1/holds/${id}/release`)).status).toBe(200);

    // Remote mode runs the commands on the server, scope included.
    const remote = await server.remote(marketingWriter, ['usage', 'hold', '--user', 'eve@example.com', '--model', 'gpt-4o', '--max-credits', '1', '--json']);
    expect(remote.exitCode, remote.stderr).toBe(0);
    const released = await server.remote(marketingWriter, ['usage', 'release', String(remote.json().holdId), '--json']);
    expect(released.json()).toMatchObject({ status: 'released' });
    await verified();
  });
});
