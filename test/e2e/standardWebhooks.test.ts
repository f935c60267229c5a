import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { signatureValid, startWebhookReceiver, type WebhookReceiver, type WebhookRequest } from '../helpers/receivers.js';

const LEGACY_SECRET = 'legacy-secret-1';

/** The headers as the package takes them (node gives string | string[]). */
const headersOf = (request: WebhookRequest) => request.headers as Record<string, string>;

describe(`Standard Webhooks signatures on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  let secret: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ledger = await freshLedger();
    await ledger.ok(['init', '--org', 'Test GmbH']);
    secret = (await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?standard`, '--json'])).json<{ secret: string }>().secret;
    await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?legacy`, '--secret', LEGACY_SECRET]);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  it('a new webhook gets a whsec_ secret; the package verifies its deliveries, refuses a changed body and a replay', async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect((await ledger.ok(['notify', 'channel', 'secret', '1', '--json'])).json()).toEqual({ channelId: 1, secret });
    // The first attempt fails: the retry carries the same webhook-id.
    receiver.reply = (_request, index) => ({ status: index === 0 ? 500 : 200 });
    const { eventId } = (await ledger.ok(['notify', 'test', '--json'])).json<{ eventId: string }>();
    const standard = receiver.requests.filter((request) => request.path === '/hook?standard');
    expect(standard.map((request) => request.status)).toEqual([500, 200]);
    expect(standard.map((request) => request.headers['webhook-id'])).toEqual([eventId, eventId]);
    const request = standard[1]!;
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(new Webhook(secret).verify(request.body, headersOf(request))).toMatchObject({ id: eventId, type: 'test' });
    // Existing receivers keep checking x-credits-signature (keyed with the secret's text, as before).
    expect(signatureValid(secret, request.body, request.headers['x-credits-signature'])).toBe(true);
    expect(() => new Webhook(secret).verify(request.body.replace('"test"', '"Test"'), headersOf(request))).toThrow(/signature/i);
    vi.useFakeTimers({ now: Date.now() + 10 * 60_000, toFake: ['Date'] });
    try {
      expect(() => new Webhook(secret).verify(request.body, headersOf(request))).toThrow(/too old/);
    } finally {
      vi.useRealTimers();
    }

    // A channel with an old-style secret: the same headers, keyed with the secret's own bytes.
    const legacy = receiver.requests.find((candidate) => candidate.path === '/hook?legacy')!;
    expect(new Webhook(LEGACY_SECRET, { format: 'raw' }).verify(legacy.body, headersOf(legacy))).toMatchObject({ id: eventId });
    expect(signatureValid(LEGACY_SECRET, legacy.body, legacy.headers['x-credits-signature'])).toBe(true);
  });

  it('notify channel rotate gives a new secret that signs from then on; a malformed --secret exits 2', async () => {
    const rotated = (await ledger.ok(['notify', 'channel', 'rotate', '1', '--json'])).json<{ secret: string }>().secret;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    receiver.reply = () => ({ status: 200 });
    const before = receiver.requests.length;
    await ledger.ok(['notify', 'test', '1', '--json']);
    const request = receiver.requests[before]!;
    expect(new Webhook(rotated).verify(request.body, headersOf(request))).toMatchObject({ type: 'test' });
    expect(() => new Webhook(secret).verify(request.body, headersOf(request))).toThrow(/signature/i);

    const bad = await ledger.run(['notify', 'channel', 'add', 'webhook', receiver.url, '--secret', 'whsec_c2hvcnQ=', '--json']);
    expect(bad.exitCode).toBe(2);
    expect(JSON.parse(bad.stderr).error.message).toContain('--secret');
    expect((await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: unknown[] }>().channels).toHaveLength(2);
  });
});
