import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a webhook channel receives, as the receiver saw it. */
export type WebhookRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly the bytes the signature covers. */
  body: string;
  json: { id: string; type: string; occurredAt: string; text: string; data: Record<string, unknown> };
  /** The status the receiver answered (or was about to answer when the sender went away). */
  status: number;
  atMs: number;
};

/** The answer to one request: its status, after `delayMs` and once `until` (if given) has settled. */
export type Reply = { status: number; delayMs?: number; until?: Promise<unknown> };

/**
 * A real HTTP server on 127.0.0.1 and a free port that records every POST. `reply` decides the
 * answer per request (status, and an optional delay or promise to wait for before answering);
 * the default is 200 at once.
 */
export type WebhookReceiver = {
  url: string;
  requests: WebhookRequest[];
  reply: (request: Omit<WebhookRequest, 'status'>, index: number) => Reply;
  /** Requests answered 2xx: the ones the receiver accepted. */
  accepted(): WebhookRequest[];
  /** Resolves once `count` requests have arrived (their bodies read). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: WebhookRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    requests,
    reply: () => ({ status: 200 }),
    accepted: () => requests.filter((request) => request.status >= 200 && request.status < 300),
    waitFor(count, timeoutMs = 15_000) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${count} webhook requests, got ${requests.length}`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: WebhookRequest['json'];
      try {
        json = JSON.parse(body) as WebhookRequest['json'];
      } catch {
        json = { id: '', type: '', occurredAt: '', text: '', data: {} };
      }
      const seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, atMs: Date.now() };
      const answer = receiver.reply(seen, requests.length);
      requests.push({ ...seen, status: answer.status });
      for (const waiter of waiters.filter((candidate) => requests.length >= candidate.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        res.end(answer.status < 300 ? 'ok' : 'receiver error');
      };
      void Promise.resolve(answer.until)
        .catch(() => undefined)
        .then(() => (answer.delayMs ? setTimeout(send, answer.delayMs) : send()));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

/** Checks `sha256=<hex>` against the HMAC-SHA256 of the raw body, as a receiver would. */
export function signatureValid(secret: string, body: string, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'), 'utf8');
  const given = Buffer.from(header.slice('sha256='.length), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** How often each key occurs. */
export function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}
