import { hostname } from 'node:os';
import { nodeCrypto } from '../store/nodeCrypto.js';
import type { Database } from '../store/driver.js';
import { claimDue, markDelivered, markFailed, queueEvent, type ClaimedDelivery, type NotificationEvent } from '../store/notify/outbox.js';
import { deliver, type SendOptions } from './transports.js';

/** Tries within one run (with a short pause between), then hands over to the next run. */
export const ATTEMPTS_PER_RUN = 3;
/** After this many attempts in all, a delivery is given up and shown as failed. */
export const MAX_ATTEMPTS = 12;

export type RunOptions = SendOptions & { nowMs: () => number; leaseMs: number; pauseMs: number; batchSize: number };
export type RunTotals = { delivered: number; retrying: number; failed: number; errors: { channelId: number; eventId: string; error: string }[] };

function nextRetryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - ATTEMPTS_PER_RUN));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function attempt(
  delivery: ClaimedDelivery,
  options: RunOptions,
): Promise<{ ok: true; attempts: number } | { ok: false; attempts: number; error: string }> {
  const event = JSON.parse(delivery.payloadJson) as NotificationEvent;
  let attempts = delivery.attempts;
  let lastError = '';
  for (let tries = 0; tries < ATTEMPTS_PER_RUN; tries += 1) {
    attempts += 1;
    try {
      await deliver({ kind: delivery.kind, target: delivery.target, secret: delivery.secret }, event, options);
      return { ok: true, attempts };
    } catch (error) {
      lastError = (error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error)).slice(
        0,
        500,
      );
      if (attempts >= MAX_ATTEMPTS) break;
      if (tries < ATTEMPTS_PER_RUN - 1) await sleep(options.pauseMs * 2 ** tries);
    }
  }
  return { ok: false, attempts, error: lastError };
}

/**
 * Delivers every due event. Deliveries are claimed in a write transaction before anything is
 * sent, so two runs at once never send the same one; a claim is a lease, so the deliveries of a
 * run killed mid-send go out again from the next run after the lease ends, with the same event id.
 */
export async function deliverDue(db: Database, options: RunOptions): Promise<RunTotals> {
  const runner = `${hostname()}:${process.pid}:${nodeCrypto().randomBytes(4).toString('hex')}`;
  const totals: RunTotals = { delivered: 0, retrying: 0, failed: 0, errors: [] };
  for (;;) {
    const claimed = await db.write((tx) => claimDue(tx, runner, options.nowMs(), options.leaseMs, options.batchSize));
    if (claimed.length === 0) return totals;
    for (const delivery of claimed) {
      const outcome = await attempt(delivery, options);
      await db.write(async (tx) => {
        const nowMs = options.nowMs();
        if (outcome.ok) {
          markDelivered(tx, delivery, outcome.attempts, nowMs);
          totals.delivered += 1;
          return;
        }
        const givenUp = outcome.attempts >= MAX_ATTEMPTS;
        markFailed(tx, delivery, outcome.attempts, outcome.error, nowMs, givenUp ? null : nowMs + nextRetryDelayMs(outcome.attempts));
        if (givenUp) totals.failed += 1;
        else totals.retrying += 1;
        if (totals.errors.length < 20)
          totals.errors.push({ channelId: delivery.channelId, eventId: (JSON.parse(delivery.payloadJson) as NotificationEvent).id, error: outcome.error });
      });
    }
  }
}

/** Queues a test event for every channel (or the channels given): `notify test`. */
export async function queueTest(db: Database, nowMs: number, channelIds: number[] | null): Promise<string> {
  return db.write(async (tx) => {
    const id = queueEvent(tx, { type: 'test', text: 'Test notification from credits: this channel works.', data: {}, nowMs });
    if (channelIds !== null) {
      tx.run(`DELETE FROM deliveries WHERE outbox_id = (SELECT id FROM outbox WHERE event_id = ?) AND channel_id NOT IN (${channelIds.join(',')})`, [id]);
    }
    return id;
  });
}
