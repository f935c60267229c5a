import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// The HTTP API of `credits serve`: health, metrics, authentication, request checking, the
// endpoints for external systems, usage posting, graceful shutdown.
describe('credits serve: HTTP API', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let admin: string;
  let writer: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '2000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Marketing']);
    admin = (await createToken(ledger, ['--role', 'admin', '--name', 'root'])).token;
    writer = (await createToken(ledger, ['--role', 'usage-writer', '--name', 'gateway'])).token;
    server = await startServer(ledger, ['--body-limit', '256kb']);
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  // Every answer the tests below get is also checked against this description (see apiServer.ts).
  it('describes every route in a valid OpenAPI 3.1 document at /openapi.json', async () => {
    const response = await server.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const result = await new Validator().validate(response.body);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(response.body.openapi).toMatch(/^3\.1\./);
    const paths = Object.keys(response.body.paths);
    for (const path of ['/health', '/v1/usage', '/v1/usage/batch', '/v1/holds', '/v1/holds/{id}/capture', '/v1/balances', '/v1/commands/transfer'])
      expect(paths).toContain(path);
  });

  it('answers /health without a token', async () => {
    const response = await server.request('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true });
  });

  it('refuses requests without a valid token with 401 UNAUTHORIZED', async () => {
    const none = await server.request('GET', '/v1/balances');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    const garbage = await server.request('GET', '/v1/balances', { token: 'not-a-token' });
    expect(garbage.status).toBe(401);
    // Right shape, right id, wrong secret.
    const forged = await server.request('GET', '/v1/balances', { token: `${admin.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(forged.body.error.message).toBe('the API token is not valid');
    const unknownId = await server.request('GET', '/v1/balances', { token: admin.replace(/^ctk_\d+_/, 'ctk_999_') });
    expect(unknownId.status).toBe(401);
  });

  it('refuses expired and revoked tokens', async () => {
    // Made "in the past": valid through 2020-01-02, so expired now.
    const expired = await createToken(ledger, ['--role', 'reader', '--expires', '2020-01-02'], { CREDITS_NOW: '2020-01-01T12:00:00Z' });
    const expiredAnswer = await server.request('GET', '/v1/balances', { token: expired.token });
    expect(expiredAnswer.status).toBe(401);
    expect(expiredAnswer.body.error.message).toMatch(/expired/);

    const revoked = await createToken(ledger, ['--role', 'reader']);
    expect((await server.request('GET', '/v1/balances', { token: revoked.token })).status).toBe(200);
    await ledger.ok(['token', 'revoke', String(revoked.tokenId)]);
    const revokedAnswer = await server.request('GET', '/v1/balances', { token: revoked.token });
    expect(revokedAnswer.status).toBe(401);
    expect(revokedAnswer.body.error.message).toMatch(/revoked/);

    // Revoked through the API by an admin: refused at once.
    const second = await createToken(ledger, ['--role', 'ci']);
    const revokeCall = await server.request('POST', '/v1/commands/token/revoke', { token: admin, body: { args: [String(second.tokenId)] } });
    expect(revokeCall.status).toBe(200);
    expect(revokeCall.body.data).toMatchObject({ tokenId: second.tokenId, alreadyRevoked: false });
    expect((await server.request('GET', '/v1/check', { token: second.token })).status).toBe(401);

    const list = await ledger.ok(['token', 'list', '--json']);
    const statuses = Object.fromEntries(list.json<{ tokens: { id: number; status: string }[] }>().tokens.map((row) => [row.id, row.status]));
    expect(statuses[expired.tokenId]).toBe('expired');
    expect(statuses[revoked.tokenId]).toBe('revoked');
    expect(list.stdout).not.toMatch(/ctk_/);
  });

  it('stores only a hash of each token', async () => {
    const created = await createToken(ledger, ['--role', 'reader', '--name', 'hash-check']);
    const dump = await ledger.ok(['audit', '--json', '--limit', '500']);
    expect(dump.stdout).not.toContain(created.token);
    const history = await ledger.ok(['history', '--json', '--limit', '500']);
    expect(history.stdout).not.toContain(created.token);
  });

  it('maps errors to HTTP statuses: 400 usage, 404 not found, 409 conflict, 422 refused', async () => {
    const usage = await server.request('GET', '/v1/report?month=2026-13', { token: admin });
    expect(usage.status).toBe(400);
    expect(usage.body.error.code).toBe('INVALID_DATE');
    const notFound = await server.request('GET', '/v1/balances?account=Nowhere', { token: admin });
    expect(notFound.status).toBe(404);
    expect(notFound.body.error.code).toBe('DEPARTMENT_NOT_FOUND');
    const first = await server.request('POST', '/v1/transfers', {
      token: admin,
      body: { amount: '1', from: 'org', to: 'Engineering', idempotencyKey: 'api-conflict-1' },
    });
    expect(first.status).toBe(200);
    const conflict = await server.request('POST', '/v1/transfers', {
      token: admin,
      body: { amount: '2', from: 'org', to: 'Engineering', idempotencyKey: 'api-conflict-1' },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    const refused = await server.request('POST', '/v1/transfers', { token: admin, body: { amount: '999999', from: 'Marketing', to: 'Engineering' } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('INSUFFICIENT_CREDITS');
    const low = await server.request('GET', '/v1/check?dept=Marketing&minCredits=1000000', { token: admin });
    expect(low.status).toBe(422);
    expect(low.body).toMatchObject({ error: { code: 'BUDGET_LOW' }, data: { ok: false, scope: 'department', name: 'Marketing' } });
    const route = await server.request('GET', '/v1/nothing-here', { token: admin });
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('ROUTE_NOT_FOUND');
    const command = await server.request('POST', '/v1/commands/frobnicate', { token: admin, body: {} });
    expect(command.status).toBe(400);
    expect(command.body.error.code).toBe('UNKNOWN_COMMAND');
  });

  it('refuses malformed, oversized and unknown-field requests', async () => {
    const notJson = await server.request('POST', '/v1/usage', { token: writer, rawBody: '{"eventId": "x",' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('USAGE');
    const wrongType = await server.request('POST', '/v1/usage', {
      token: writer,
      rawBody: 'eventId=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(400);
    const poisoned = await server.request('POST', '/v1/commands/balance', { token: admin, rawBody: '{"args":[],"__proto__":{"polluted":true}}' });
    expect(poisoned.status).toBe(400);

    const big = {
      events: Array.from({ length: 3000 }, (_, index) => ({
        eventId: `big-${index}`,
        user: 'ada@example.com',
        model: 'gpt-4o',
        inputTokens: 1,
        feature: 'chat',
      })),
    };
    expect(JSON.stringify(big).length).toBeGreaterThan(256 * 1024);
    const oversized = await server.request('POST', '/v1/usage/batch', { token: writer, body: big });
    expect(oversized.status).toBe(413);
    expect(oversized.body.error.code).toBe('REQUEST_TOO_LARGE');

    const extraTop = await server.request('POST', '/v1/commands/balance', { token: admin, body: { args: [], options: {}, verbose: true } });
    expect(extraTop.status).toBe(400);
    expect(extraTop.body.error.code).toBe('UNKNOWN_FLAG');
    const extraOption = await server.request('POST', '/v1/commands/balance', { token: admin, body: { options: { asof: '2026-01-01' } } });
    expect(extraOption.status).toBe(400);
    expect(extraOption.body.error.code).toBe('UNKNOWN_FLAG');
    const extraQuery = await server.request('GET', '/v1/balances?acount=Engineering', { token: admin });
    expect(extraQuery.status).toBe(400);
    expect(extraQuery.body.error.code).toBe('UNKNOWN_FLAG');
    const extraEventField = await server.request('POST', '/v1/usage', {
      token: writer,
      body: { eventId: 'typo-1', user: 'ada@example.com', model: 'gpt-4o', inputToken: 500 },
    });
    expect(extraEventField.status).toBe(400);
    expect(extraEventField.body.error.message).toMatch(/unknown field "inputToken"/);
    // An event dated next year would escape today's limits: refused (400), naming the field.
    const future = `${new Date().getUTCFullYear() + 1}-06-01T00:00:00Z`;
    const futureEvent = await server.request('POST', '/v1/usage', {
      token: writer,
      body: { eventId: 'future-1', user: 'ada@example.com', model: 'gpt-4o', toolCalls: 1, at: future },
    });
    expect(futureEvent.status).toBe(400);
    expect(futureEvent.body.error).toMatchObject({ code: 'INVALID_DATE' });
    expect(futureEvent.body.error.message).toContain(`at "${future}" is in the future`);
    const futureBatch = await server.request('POST', '/v1/usage/batch', {
      token: writer,
      body: { events: [{ eventId: 'future-2', user: 'ada@example.com', model: 'gpt-4o', toolCalls: 1, at: future }] },
    });
    expect(futureBatch.body).toMatchObject({ accepted: 0, malformed: 1 });
    const badChoice = await server.request('POST', '/v1/commands/report', { token: admin, body: { options: { by: 'planet' } } });
    expect(badChoice.status).toBe(400);
    const flagWithValue = await server.request('POST', '/v1/commands/check', { token: admin, body: { options: { org: 'yes' } } });
    expect(flagWithValue.status).toBe(400);
    const tooManyArgs = await server.request('POST', '/v1/commands/balance', { token: admin, body: { args: ['org', 'Engineering'] } });
    expect(tooManyArgs.status).toBe(400);
    // A caller never makes the server read or write its own paths.
    const serverFile = await server.request('POST', '/v1/commands/usage/import', { token: admin, body: { args: ['/etc/passwd'] } });
    expect(serverFile.status).toBe(400);
    const serverFolder = await server.request('POST', '/v1/commands/notify/run', { token: admin, body: { options: { reportsDir: '/tmp' } } });
    expect(serverFolder.status).toBe(400);
  });

  it('serves balances, check, report, forecast, purchases and transfers for external systems', async () => {
    const balances = await server.request('GET', '/v1/balances', { token: admin });
    expect(balances.status).toBe(200);
    expect(balances.body.accounts.map((row: { account: string }) => row.account)).toEqual(expect.arrayContaining(['org', 'Engineering', 'Marketing']));
    const one = await server.request('GET', '/v1/balances?account=Engineering', { token: admin });
    expect(one.body.accounts).toHaveLength(1);
    const check = await server.request('GET', '/v1/check?dept=Engineering&minCredits=10', { token: admin });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ ok: true, scope: 'department', name: 'Engineering' });
    const report = await server.request('GET', '/v1/report?by=dept', { token: admin });
    expect(report.status).toBe(200);
    expect(report.body).toHaveProperty('totals');
    const forecast = await server.request('GET', '/v1/forecast?dept=Engineering', { token: admin });
    expect(forecast.status).toBe(200);
    const bought = await server.request('POST', '/v1/purchases', {
      token: admin,
      body: { package: 'basic', method: 'sepa' },
      headers: { 'idempotency-key': 'api-buy-1' },
    });
    expect(bought.status).toBe(200);
    expect(bought.body).toMatchObject({ status: 'pending', replayed: false });
    const again = await server.request('POST', '/v1/purchases', {
      token: admin,
      body: { package: 'basic', method: 'sepa' },
      headers: { 'idempotency-key': 'api-buy-1' },
    });
    expect(again.body).toMatchObject({ purchaseId: bought.body.purchaseId, replayed: true });
    const pending = await server.request('GET', '/v1/purchases?status=pending', { token: admin });
    expect(pending.body.purchases.map((row: { id: number }) => row.id)).toContain(bought.body.purchaseId);
    const settled = await server.request('POST', `/v1/purchases/${bought.body.purchaseId}/settle`, { token: admin, body: {} });
    expect(settled.status).toBe(200);
    const moved = await server.request('POST', '/v1/transfers', { token: admin, body: { amount: '5', from: 'org', to: 'Marketing', reason: 'api' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ from: 'org', to: 'Marketing', millicredits: 5000 });
    const dryRun = await server.request('POST', '/v1/transfers', { token: admin, body: { amount: '5', from: 'org', to: 'Marketing', dryRun: true } });
    expect(dryRun.body.dryRun).toBe(true);
    const transfers = await server.request('GET', '/v1/transfers?limit=5', { token: admin });
    expect(transfers.status).toBe(200);
    expect(transfers.body.transactions.every((row: { kind: string }) => row.kind === 'transfer' || row.kind === 'allocation')).toBe(true);
    expect(transfers.body.transactions[0].id).toBe(moved.body.transactionId);
  });

  it('posts usage events singly and in batches, idempotent by event id', async () => {
    const event = { eventId: 'api-evt-1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 523, outputTokens: 1247, toolCalls: 2 };
    const first = await server.request('POST', '/v1/usage', { token: writer, body: event });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'accepted', costMillicredits: 8000, credits: 8, department: 'Engineering' });
    const again = await server.request('POST', '/v1/usage', { token: writer, body: event });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
    const changed = await server.request('POST', '/v1/usage', { token: writer, body: { ...event, inputTokens: 1 } });
    expect(changed.status).toBe(409);
    const noId = await server.request('POST', '/v1/usage', { token: writer, body: { user: 'ada@example.com', model: 'gpt-4o', inputTokens: 5 } });
    expect(noId.status).toBe(400);
    const unknownUser = await server.request('POST', '/v1/usage', { token: writer, body: { ...event, eventId: 'api-evt-x', user: 'nobody@example.com' } });
    expect(unknownUser.status).toBe(404);

    // Many at once: each request gets its own answer, every event posted once.
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        server.request('POST', '/v1/usage', {
          token: writer,
          body: { eventId: `burst-${index}`, user: index % 2 ? 'ada@example.com' : 'don@example.com', model: 'gpt-4o-mini', inputTokens: 1000 },
        }),
      ),
    );
    expect(burst.map((response) => response.status)).toEqual(Array(40).fill(201));

    const events = Array.from({ length: 1000 }, (_, index) => ({
      eventId: `batch-${index}`,
      user: index % 2 ? 'ada@example.com' : 'don@example.com',
      model: 'gpt-4o-mini',
      inputTokens: 100 + index,
    }));
    const batch = await server.request('POST', '/v1/usage/batch', {
      token: writer,
      body: { events: [...events, { eventId: 'bad', user: 'ada@example.com' }, { ...events[0], eventId: 'batch-0' }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ read: 1002, accepted: 1000, duplicates: 1, malformed: 1, refused: 0, ok: false });
    expect(batch.body.problems[0]).toMatchObject({ index: 1000, eventId: null, code: 'MISSING_FLAG' });
    const replay = await server.request('POST', '/v1/usage/batch', { token: writer, body: { events } });
    expect(replay.body).toMatchObject({ read: 1000, accepted: 0, duplicates: 1000, ok: true });
    const dry = await server.request('POST', '/v1/usage/batch?dryRun=true', {
      token: writer,
      body: { events: [{ eventId: 'dry-1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 10 }] },
    });
    expect(dry.body).toMatchObject({ dryRun: true, accepted: 1 });
    const after = await server.request('POST', '/v1/usage/batch', {
      token: writer,
      body: { events: [{ eventId: 'dry-1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 10 }] },
    });
    expect(after.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const empty = await server.request('POST', '/v1/usage/batch', { token: writer, body: { events: [] } });
    expect(empty.status).toBe(400);

    // The books still balance after everything the API posted.
    const verify = await ledger.ok(['verify', '--json']);
    expect(verify.json().ok).toBe(true);
    const usage = await ledger.ok(['report', '--by', 'user', '--json']);
    expect(usage.json().totals.events).toBe(1 + 40 + 1000 + 1);
  });

  it('refuses usage that breaks a ledger rule with 422 and counts it in /metrics; a soft limit passed only warns', async () => {
    await ledger.ok(['limits', 'set', '--user', 'don@example.com', '--monthly', '0.5', '--soft']);
    const warned = await server.request('POST', '/v1/usage', {
      token: writer,
      body: { eventId: 'soft-1', user: 'don@example.com', model: 'gpt-4o', inputTokens: 200 },
    });
    expect(warned.status).toBe(201);
    expect(warned.body.warnings).toEqual([
      expect.objectContaining({ kind: 'soft', user: 'don@example.com', period: 'month', amountMillicredits: 500, spentMillicredits: expect.any(Number) }),
    ]);
    expect(warned.body.warnings[0].spentMillicredits).toBeGreaterThanOrEqual(803);
    await ledger.ok(['limits', 'set', '--user', 'don@example.com', '--daily', '1']);
    const refused = await server.request('POST', '/v1/usage', {
      token: writer,
      body: { eventId: 'limit-1', user: 'don@example.com', model: 'gpt-4o', inputTokens: 100000 },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('LIMIT_EXCEEDED');
    const metrics = await server.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/credits_http_requests_total\{method="POST",route="\/v1\/usage",status="201"\} \d+/);
    expect(metrics.text).toMatch(/credits_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/usage",le="\+Inf"\} \d+/);
    expect(metrics.text).toMatch(/credits_usage_events_total\{outcome="accepted"\} [1-9]\d*/);
    expect(metrics.text).toMatch(/credits_refusals_total\{code="LIMIT_EXCEEDED"\} [1-9]/);
    expect(metrics.text).toMatch(/credits_http_requests_total\{method="GET",route="\/v1\/balances",status="401"\} [1-9]/);
  });

  it('stops on SIGTERM after finishing requests in flight', async () => {
    const own = await startServer(ledger);
    const eventsBefore = (await ledger.ok(['report', '--by', 'user', '--json'])).json().totals.events as number;
    const inFlight = Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        own
          .request('POST', '/v1/usage', {
            token: writer,
            body: { eventId: `sigterm-${index}`, user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10 },
          })
          .catch(() => ({ status: 0 })),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stopped = await own.stop();
    const answers = await inFlight;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stderr).toMatch(/SIGTERM: stopping/);
    expect(stopped.stdout).toMatch(/credits serve stopped \(SIGTERM\)/);
    // Every request the server took was finished and answered; none was posted without an answer.
    const posted = answers.filter((answer) => answer.status === 201).length;
    const eventsAfter = (await ledger.ok(['report', '--by', 'user', '--json'])).json().totals.events as number;
    expect(eventsAfter - eventsBefore).toBe(posted);
    expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
  });
});
