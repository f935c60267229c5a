import { nodeCrypto } from '../nodeCrypto.js';
import type { SqlReader, WriteTx } from '../driver.js';

export const EVENT_TYPES = [
  'balance.low',
  'balance.depleted',
  'balance.recovered',
  'usage.paused',
  'recharge.done',
  'recharge.refused',
  'limit.reached',
  'limit.soft_exceeded',
  'anomaly.found',
  'report.monthly',
  'checkpoint.daily',
  'test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What every channel receives: `id` is stable across retries, so receivers can drop repeats. */
export type NotificationEvent = { id: string; type: EventType; occurredAt: string; text: string; data: Record<string, unknown> };

/**
 * Queues an event in the caller's write transaction, with one pending delivery per channel. A
 * `dedupeKey` already used makes this a no-op: "once per crossing" is a unique index.
 */
export function queueEvent(
  tx: WriteTx,
  event: { type: EventType; text: string; data: Record<string, unknown>; dedupeKey?: string | null; nowMs: number },
): string {
  const id = nodeCrypto().randomUUID();
  const payload: NotificationEvent = { id, type: event.type, occurredAt: new Date(event.nowMs).toISOString(), text: event.text, data: event.data };
  tx.run('INSERT INTO outbox (event_id, type, dedupe_key, payload_json, created_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
    id,
    event.type,
    event.dedupeKey ?? null,
    JSON.stringify(payload),
    event.nowMs,
  ]);
  tx.run(
    `INSERT INTO deliveries (outbox_id, channel_id, status, attempts, next_attempt_at_ms)
     SELECT o.id, c.id, 'pending', 0, ? FROM outbox o JOIN notification_channels c ON c.removed_at_ms IS NULL WHERE o.event_id = ?`,
    [event.nowMs, id],
  );
  return id;
}

export type ChannelRow = {
  id: number;
  kind: 'webhook' | 'email' | 'command';
  target: string;
  secret: string | null;
  createdAtMs: number;
  lastError: string | null;
  lastErrorAtMs: number | null;
  lastDeliveredAtMs: number | null;
  consecutiveFailures: number;
};

const CHANNEL_COLUMNS = `id, kind, target, secret, created_at_ms AS createdAtMs, last_error AS lastError, last_error_at_ms AS lastErrorAtMs,
  last_delivered_at_ms AS lastDeliveredAtMs, consecutive_failures AS consecutiveFailures`;

export async function listChannels(db: SqlReader): Promise<ChannelRow[]> {
  return db.all<ChannelRow>(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE removed_at_ms IS NULL ORDER BY id`);
}

export async function pendingCounts(db: SqlReader): Promise<Map<number, number>> {
  const rows = await db.all<{ channelId: number; pending: number }>(
    "SELECT channel_id AS channelId, count(*) AS pending FROM deliveries WHERE status = 'pending' GROUP BY channel_id",
  );
  return new Map(rows.map((row) => [row.channelId, row.pending]));
}

export type ClaimedDelivery = {
  outboxId: number;
  channelId: number;
  attempts: number;
  payloadJson: string;
  kind: ChannelRow['kind'];
  target: string;
  secret: string | null;
};

/**
 * Claims due deliveries for one runner inside a write transaction: two runners at once never
 * claim the same row. A claim expires, so a runner killed mid-send leaves its rows to the next.
 */
export async function claimDue(tx: WriteTx, runner: string, nowMs: number, claimMs: number, limit: number): Promise<ClaimedDelivery[]> {
  const rows = await tx.all<ClaimedDelivery>(
    `SELECT d.outbox_id AS outboxId, d.channel_id AS channelId, d.attempts AS attempts, o.payload_json AS payloadJson, c.kind AS kind, c.target AS target, c.secret AS secret
     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id JOIN notification_channels c ON c.id = d.channel_id
     WHERE d.status = 'pending' AND d.next_attempt_at_ms <= ? AND (d.claim_expires_at_ms IS NULL OR d.claim_expires_at_ms < ?) AND c.removed_at_ms IS NULL
     ORDER BY d.outbox_id, d.channel_id LIMIT ?`,
    [nowMs, nowMs, limit],
  );
  for (const row of rows) {
    tx.run('UPDATE deliveries SET claimed_by = ?, claim_expires_at_ms = ? WHERE outbox_id = ? AND channel_id = ?', [
      runner,
      nowMs + claimMs,
      row.outboxId,
      row.channelId,
    ]);
  }
  return rows;
}

export function markDelivered(tx: WriteTx, delivery: ClaimedDelivery, attempts: number, nowMs: number): void {
  tx.run(
    "UPDATE deliveries SET status = 'delivered', attempts = ?, delivered_at_ms = ?, claimed_by = NULL, claim_expires_at_ms = NULL, last_error = NULL WHERE outbox_id = ? AND channel_id = ?",
    [attempts, nowMs, delivery.outboxId, delivery.channelId],
  );
  tx.run('UPDATE notification_channels SET last_delivered_at_ms = ?, consecutive_failures = 0 WHERE id = ?', [nowMs, delivery.channelId]);
}

export function markFailed(tx: WriteTx, delivery: ClaimedDelivery, attempts: number, error: string, nowMs: number, retryAtMs: number | null): void {
  tx.run(
    'UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at_ms = ?, claimed_by = NULL, claim_expires_at_ms = NULL, last_error = ? WHERE outbox_id = ? AND channel_id = ?',
    [retryAtMs === null ? 'failed' : 'pending', attempts, retryAtMs ?? nowMs, error, delivery.outboxId, delivery.channelId],
  );
  tx.run('UPDATE notification_channels SET last_error = ?, last_error_at_ms = ?, consecutive_failures = consecutive_failures + 1 WHERE id = ?', [
    error,
    nowMs,
    delivery.channelId,
  ]);
}
