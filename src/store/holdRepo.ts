import type { HoldStatus } from '../core/holds.js';
import type { LimitRule } from '../core/limits.js';
import type { Tier } from '../core/rateCard.js';
import type { Database, SqlReader, SqlValue, WriteTx } from './driver.js';
import { ORG_ACCOUNT_ID } from './orgRepo.js';

/** A hold as stored, with its user's email (null when the user is gone: verify names that). */
export type HoldRow = {
  id: number;
  eventId: string | null;
  userId: number;
  user: string | null;
  departmentId: number;
  model: string;
  tier: Tier;
  feature: string;
  maxMillicredits: number;
  fromOrgMillicredits: number;
  actor: string;
  createdAtMs: number;
  expiresAtMs: number;
  status: HoldStatus;
  capturedMillicredits: number | null;
  capturedEventId: string | null;
  closedAtMs: number | null;
};

const SELECT_HOLDS_COLUMNS = `h.id AS id, h.event_id AS eventId, h.user_id AS userId, u.email AS user, h.department_id AS departmentId,
  h.model AS model, h.tier AS tier, h.feature AS feature, h.max_millicredits AS maxMillicredits, h.from_org_millicredits AS fromOrgMillicredits,
  h.actor AS actor, h.created_at_ms AS createdAtMs, h.expires_at_ms AS expiresAtMs, h.status AS status,
  h.captured_millicredits AS capturedMillicredits, h.captured_event_id AS capturedEventId, h.closed_at_ms AS closedAtMs`;

/**
 * The holds with these ids or event ids, and the highest hold id (the next one placed in this
 * transaction follows it), in one read: the group commit asks for many at once, and a remote
 * ledger pays a round trip per read.
 */
export async function findHolds(db: SqlReader, ids: readonly number[], eventIds: readonly string[]): Promise<{ rows: HoldRow[]; lastId: number }> {
  // The id list drives the join (one primary-key probe each), the event ids likewise through their index.
  const found = await db.all<HoldRow & { lastId: number | null; found: number | null }>(
    `SELECT m.lastId AS lastId, h.* FROM (SELECT max(id) AS lastId FROM holds) m LEFT JOIN (
       SELECT 1 AS found, ${SELECT_HOLDS_COLUMNS} FROM json_each(?) j CROSS JOIN holds h ON h.id = j.value LEFT JOIN users u ON u.id = h.user_id
       UNION ALL
       SELECT 1 AS found, ${SELECT_HOLDS_COLUMNS} FROM json_each(?) j CROSS JOIN holds h ON h.event_id = j.value LEFT JOIN users u ON u.id = h.user_id) h ON 1`,
    [JSON.stringify(ids), JSON.stringify(eventIds)],
  );
  const rows = found.filter((row) => row.found === 1).map(({ lastId: _lastId, found: _found, ...row }) => row as HoldRow);
  return { rows, lastId: found[0]?.lastId ?? 0 };
}

/**
 * Closes every open hold whose time is up, as of `nowMs`: run at the start of each write
 * transaction that posts (LedgerWriter.open) and by `notify run`. An indexed update of the open
 * holds past their expiry: nothing to do costs one probe of an empty index range.
 */
export function expireHolds(tx: WriteTx, nowMs: number): void {
  tx.run("UPDATE holds SET status = 'expired', closed_at_ms = expires_at_ms WHERE status = 'open' AND expires_at_ms <= ?", [nowMs]);
}

/** `notify run`'s sweep: closes the expired holds in a write of its own; returns how many. */
export async function closeExpiredHolds(db: Database, nowMs: number): Promise<number> {
  return db.write(async (tx) => {
    const due = (await tx.get<{ n: number }>("SELECT count(*) AS n FROM holds WHERE status = 'open' AND expires_at_ms <= ?", [nowMs]))?.n ?? 0;
    if (due > 0) expireHolds(tx, nowMs);
    return due;
  });
}

export type NewHold = {
  id: number;
  eventId: string | null;
  userId: number;
  departmentId: number;
  model: string;
  tier: Tier;
  feature: string;
  maxMillicredits: number;
  fromOrgMillicredits: number;
  actor: string;
  createdAtMs: number;
  expiresAtMs: number;
};

export function insertHold(tx: WriteTx, hold: NewHold): void {
  tx.run(
    `INSERT INTO holds (id, event_id, user_id, department_id, model, tier, feature, max_millicredits, from_org_millicredits, actor, created_at_ms, expires_at_ms, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
    [
      hold.id,
      hold.eventId,
      hold.userId,
      hold.departmentId,
      hold.model,
      hold.tier,
      hold.feature,
      hold.maxMillicredits,
      hold.fromOrgMillicredits,
      hold.actor,
      hold.createdAtMs,
      hold.expiresAtMs,
    ],
  );
}

/** Ends an open hold: captured (with its event's cost and id) or released. */
export function closeHold(tx: WriteTx, id: number, closedAtMs: number, capture: { millicredits: number; eventId: string } | null): void {
  if (capture === null) {
    tx.run("UPDATE holds SET status = 'released', closed_at_ms = ? WHERE id = ? AND status = 'open'", [closedAtMs, id]);
    return;
  }
  tx.run("UPDATE holds SET status = 'captured', closed_at_ms = ?, captured_millicredits = ?, captured_event_id = ? WHERE id = ? AND status = 'open'", [
    closedAtMs,
    capture.millicredits,
    capture.eventId,
    id,
  ]);
}

/** The holds open at `instantMs`: the open ones now, or (for --as-of) those placed before it and closed after. */
function openAt(instantMs: number, nowMs: number): { where: string; args: SqlValue[] } {
  if (instantMs >= nowMs) return { where: "status = 'open' AND expires_at_ms > ?", args: [instantMs] };
  return {
    where: 'created_at_ms <= ? AND expires_at_ms > ? AND (closed_at_ms IS NULL OR closed_at_ms > ?)',
    args: [instantMs, instantMs, instantMs],
  };
}

/**
 * What open holds keep from each account at `instantMs`: from a department the part its own
 * credits cover, from the org pool the parts departments' overdrafts would draw.
 */
export async function heldByAccount(db: SqlReader, instantMs: number, nowMs: number): Promise<Map<number, number>> {
  const { where, args } = openAt(instantMs, nowMs);
  const rows = await db.all<{ departmentId: number; held: number; fromOrg: number }>(
    `SELECT department_id AS departmentId, sum(max_millicredits - from_org_millicredits) AS held, sum(from_org_millicredits) AS fromOrg
     FROM holds WHERE ${where} GROUP BY department_id`,
    args,
  );
  const held = new Map<number, number>();
  let fromOrg = 0;
  for (const row of rows) {
    if (row.held > 0) held.set(row.departmentId, row.held);
    fromOrg += row.fromOrg;
  }
  if (fromOrg > 0) held.set(ORG_ACCOUNT_ID, fromOrg);
  return held;
}

/** The WHERE clause of the open holds a limit rule covers (all of them count in every period: each may be spent when it is captured). */
export function heldUnderRuleSql(rule: LimitRule): { where: string; args: SqlValue[] } {
  const subject = ruleSubjectSql(rule);
  return { where: ["status = 'open'", ...subject.where].join(' AND '), args: subject.args };
}

/** The columns that say whose usage a limit rule counts (user or department, model, tier): usage_daily and holds share them. */
export function ruleSubjectSql(rule: LimitRule): { where: string[]; args: SqlValue[] } {
  const where: string[] = [];
  const args: SqlValue[] = [];
  if (rule.scope === 'user') {
    where.push('user_id = ?');
    args.push(rule.userId);
  } else if (rule.scope === 'department') {
    where.push('department_id = ?');
    args.push(rule.departmentId);
  }
  if (rule.model !== null) {
    where.push('model = ?');
    args.push(rule.model);
  }
  if (rule.tier !== null) {
    where.push('tier = ?');
    args.push(rule.tier);
  }
  return { where, args };
}

/** Credits the open holds under a limit keep (for `limits` and `check`; unexpired as of `nowMs`). */
export async function heldUnderRule(db: SqlReader, rule: LimitRule, nowMs: number): Promise<number> {
  const { where, args } = heldUnderRuleSql(rule);
  const row = await db.get<{ held: number | null }>(`SELECT sum(max_millicredits) AS held FROM holds WHERE ${where} AND expires_at_ms > ?`, [...args, nowMs]);
  return row?.held ?? 0;
}
