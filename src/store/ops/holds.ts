import { formatMillicreditsPlain } from '../../core/amountText.js';
import { CreditsError, assert, isCreditsError } from '../../core/errors.js';
import { captureEventId, sameHold, type HoldRequest, type HoldStatus } from '../../core/holds.js';
import type { LimitWarning } from '../../core/limits.js';
import { emailKey } from '../../core/names.js';
import type { Tier } from '../../core/rateCard.js';
import { parseUsageRecord } from '../../core/usageRecord.js';
import type { Database, WriteTx } from '../driver.js';
import { closeHold, findHolds, insertHold, type HoldRow } from '../holdRepo.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { CommitThenRefuse, runMutation, type MutationOutcome, type MutationRequest } from '../mutation.js';
import { watchBalances } from '../notify/watchers.js';
import { outsideScope } from '../scope.js';
import { UsagePoster, type HeldAmounts, type PostedUsage } from './usagePoster.js';

/** A hold as the commands and the API answer with it. */
export type HoldView = {
  holdId: number;
  status: HoldStatus;
  eventId: string | null;
  user: string;
  department: string;
  model: string;
  tier: Tier;
  feature: string;
  maxMillicredits: number;
  /** The part of the maximum the department's overdraft would draw from org. */
  fromOrgMillicredits: number;
  createdAtMs: number;
  expiresAtMs: number;
  closedAtMs: number | null;
  capturedMillicredits: number | null;
  capturedEventId: string | null;
};

export type PlacedHold = HoldView & {
  /** The same event id was held before (with the same request): that hold, as it is now. */
  duplicate: boolean;
  /** The department's credits left for others after its open holds. */
  departmentAvailableMillicredits: number;
  /** The soft limits this hold leaves passed, counting it as spent (none for a duplicate). */
  warnings: LimitWarning[];
};

export type CapturedHold = PostedUsage & {
  hold: HoldView & { releasedMillicredits: number };
  departmentAvailableMillicredits: number;
};

export type ReleasedHold = HoldView & {
  /** Released by an earlier request, or expired: nothing changed now. */
  alreadyClosed: boolean;
  releasedMillicredits: number;
  departmentAvailableMillicredits: number;
};

/** One operation on holds, as the commands and the API's group commit run them. */
export type HoldOperation =
  | { kind: 'hold'; request: HoldRequest }
  | { kind: 'capture'; holdId: number; fields: Record<string, unknown>; allowOver: boolean; fieldNames: 'flags' | 'fields' }
  | { kind: 'release'; holdId: number };

export type HoldOutcome = PlacedHold | CapturedHold | ReleasedHold;

function view(row: HoldRow, department: string): HoldView {
  return {
    holdId: row.id,
    status: row.status,
    eventId: row.eventId,
    user: row.user ?? `user ${row.userId}`,
    department,
    model: row.model,
    tier: row.tier,
    feature: row.feature,
    maxMillicredits: row.maxMillicredits,
    fromOrgMillicredits: row.fromOrgMillicredits,
    createdAtMs: row.createdAtMs,
    expiresAtMs: row.expiresAtMs,
    closedAtMs: row.closedAtMs,
    capturedMillicredits: row.capturedMillicredits,
    capturedEventId: row.capturedEventId,
  };
}

function amounts(row: HoldRow): HeldAmounts {
  const { id, userId, departmentId, model, tier, maxMillicredits, fromOrgMillicredits } = row;
  return { id, userId, departmentId, model, tier, maxMillicredits, fromOrgMillicredits };
}

function holdClosed(row: HoldRow, action: string): CreditsError {
  const how =
    row.status === 'captured'
      ? `captured (event ${row.capturedEventId}, ${formatMillicreditsPlain(row.capturedMillicredits ?? 0)} credits)`
      : row.status === 'expired'
        ? 'expired: it released itself'
        : 'released';
  const hint =
    row.status === 'captured'
      ? 'a hold is captured once; post further usage without --hold'
      : 'post the usage without --hold: it is then checked like any event (balance and limits)';
  return new CreditsError('HOLD_CLOSED', `hold ${row.id} is ${how}; only an open hold can be ${action}`, {
    hint,
    details: { holdId: row.id, status: row.status },
  });
}

/**
 * Places, captures and releases holds inside one write transaction, with the usage poster of
 * that transaction (its users, rates, limit totals and running balances are the holds' too).
 * Every check runs before anything of an operation is written, so a refused one leaves no trace
 * and the next goes on: the API's group commit runs many in one transaction.
 */
export class HoldDesk {
  private readonly byId = new Map<number, HoldRow>();
  private readonly byEventId = new Map<string, HoldRow>();
  private readonly idsRead = new Set<number>();
  private readonly eventIdsRead = new Set<string>();
  private nextId: number | null = null;

  constructor(
    private readonly tx: WriteTx,
    private readonly ledger: LedgerWriter,
    private readonly poster: UsagePoster,
    private readonly options: { timeZone: string; nowMs: number; actor: string },
  ) {}

  /**
   * Reads the holds these operations name (one read for all of them), and returns the users and
   * event ids the usage poster should read with the rest of the batch: the users of the holds,
   * and the event ids the captures will post under.
   */
  async prefetch(operations: readonly HoldOperation[]): Promise<{ user: string; eventId: string | null }[]> {
    const ids = new Set<number>();
    const eventIds = new Set<string>();
    for (const operation of operations) {
      if (operation.kind === 'hold') {
        if (operation.request.eventId !== null) eventIds.add(operation.request.eventId);
      } else {
        ids.add(operation.holdId);
      }
    }
    await this.read(
      [...ids],
      [...eventIds],
      operations.some((operation) => operation.kind === 'hold'),
    );
    const wanted: { user: string; eventId: string | null }[] = [];
    for (const operation of operations) {
      if (operation.kind === 'hold') {
        wanted.push({ user: operation.request.user, eventId: null });
        continue;
      }
      const row = this.byId.get(operation.holdId);
      if (!row?.user) continue;
      const given = operation.kind === 'capture' ? operation.fields.eventId : undefined;
      const eventId = operation.kind === 'capture' ? captureEventId(typeof given === 'string' ? given.trim() : null, row) : null;
      wanted.push({ user: row.user, eventId });
    }
    return wanted;
  }

  /** Reads the holds not read yet (and, when asked, the last hold id, for the next one placed). */
  private async read(ids: readonly number[], eventIds: readonly string[], lastId = false): Promise<void> {
    const newIds = ids.filter((id) => !this.idsRead.has(id));
    const newEventIds = eventIds.filter((id) => !this.eventIdsRead.has(id));
    if (newIds.length === 0 && newEventIds.length === 0 && (!lastId || this.nextId !== null)) return;
    for (const id of newIds) this.idsRead.add(id);
    for (const id of newEventIds) this.eventIdsRead.add(id);
    const found = await findHolds(this.tx, newIds, newEventIds);
    this.nextId ??= found.lastId + 1;
    for (const row of found.rows) this.remember(row);
  }

  private remember(row: HoldRow): void {
    this.byId.set(row.id, row);
    this.idsRead.add(row.id);
    if (row.eventId !== null) {
      this.byEventId.set(row.eventId, row);
      this.eventIdsRead.add(row.eventId);
    }
  }

  /** The hold with this id, within the caller's department: another department's and a missing one are one refusal to a bound caller. */
  private async hold(id: number): Promise<HoldRow> {
    await this.read([id], []);
    const row = this.byId.get(id);
    const scope = this.poster.scope;
    if (scope !== null && row?.departmentId !== scope.departmentId) throw outsideScope(scope, `hold ${id}`);
    if (!row) throw new CreditsError('HOLD_NOT_FOUND', `no hold ${id}`, { hint: 'a hold id is what `credits usage hold` answered (holdId)' });
    return row;
  }

  /** The hold as answered, its department named from the ledger writer's accounts. */
  private async shown(row: HoldRow): Promise<HoldView> {
    await this.ledger.load([row.departmentId]);
    return view(row, this.ledger.nameOf(row.departmentId));
  }

  /** Places a hold, or finds the one placed before under the same event id. */
  async place(request: HoldRequest): Promise<PlacedHold> {
    await this.read([], request.eventId === null ? [] : [request.eventId], true);
    const existing = request.eventId === null ? undefined : this.byEventId.get(request.eventId);
    if (existing) return this.placedBefore(existing, request);
    const id = this.nextId;
    assert(id !== null, 'the last hold id was read');
    const { user, rate, fromOrgMillicredits, warnings } = await this.poster.reserveHold(request.user, request.model, request.maxMillicredits);
    this.nextId = id + 1;
    const row: HoldRow = {
      id,
      eventId: request.eventId,
      userId: user.id,
      user: user.email,
      departmentId: user.departmentId,
      model: rate.model,
      tier: rate.tier,
      feature: request.feature,
      maxMillicredits: request.maxMillicredits,
      fromOrgMillicredits,
      actor: this.options.actor,
      createdAtMs: this.options.nowMs,
      expiresAtMs: this.options.nowMs + request.durationMs,
      status: 'open',
      capturedMillicredits: null,
      capturedEventId: null,
      closedAtMs: null,
    };
    insertHold(this.tx, row);
    this.remember(row);
    return {
      ...view(row, user.department),
      duplicate: false,
      departmentAvailableMillicredits: this.ledger.availableOf(user.departmentId),
      warnings,
    };
  }

  private async placedBefore(existing: HoldRow, request: HoldRequest): Promise<PlacedHold> {
    const scope = this.poster.scope;
    if (scope !== null && existing.departmentId !== scope.departmentId) throw outsideScope(scope, `event id "${request.eventId}"`);
    if (!sameHold(existing, request)) {
      throw new CreditsError('IDEMPOTENCY_CONFLICT', `event id "${request.eventId}" was already held (hold ${existing.id}) with a different request`, {
        hint: 'an event id names one interaction; send the hold again unchanged, or use a new id',
      });
    }
    return {
      ...(await this.shown(existing)),
      duplicate: true,
      departmentAvailableMillicredits: this.ledger.availableOf(existing.departmentId),
      warnings: [],
    };
  }

  /**
   * Captures a hold: posts its usage event (user, model and feature default to the hold's; the
   * event id to the hold's, else `hold:ID`) and closes it. The same capture again answers with
   * the event as a duplicate; a closed hold is HOLD_CLOSED.
   */
  async capture(holdId: number, fields: Record<string, unknown>, allowOver: boolean, fieldNames: 'flags' | 'fields'): Promise<CapturedHold> {
    const row = await this.hold(holdId);
    const raw: Record<string, unknown> = { ...fields };
    raw.user ??= row.user ?? undefined;
    raw.model ??= row.model;
    raw.feature ??= row.feature;
    const parsed = parseUsageRecord(raw, { timeZone: this.options.timeZone, nowMs: this.options.nowMs, requireEventId: false, fieldNames });
    const name = (flag: string, field: string): string => (fieldNames === 'flags' ? flag : field);
    // The user defaults to the hold's: the same text needs no folding to compare.
    if (row.user === null || (parsed.user !== row.user && emailKey(parsed.user) !== emailKey(row.user))) {
      throw new CreditsError('INVALID_VALUE', `${name('--user', 'user')} ${parsed.user} is not the user of hold ${holdId} (${row.user})`, {
        hint: `leave out ${name('--user', 'user')}: a capture is for the hold's user`,
      });
    }
    if (parsed.model !== row.model) {
      throw new CreditsError('INVALID_VALUE', `${name('--model', 'model')} ${parsed.model} is not the model of hold ${holdId} (${row.model})`, {
        hint: `leave out ${name('--model', 'model')}, or hold again for the other model`,
      });
    }
    const record = { ...parsed, eventId: captureEventId(parsed.eventId, row) };
    if (row.status === 'captured' && record.eventId === row.capturedEventId) {
      // A retry of the capture: the event answers as a duplicate (or as a conflict when it differs).
      const again = await this.poster.post(record);
      assert(again.status === 'duplicate', `the event of captured hold ${holdId} is stored`);
      return this.captured(again, row);
    }
    if (row.status !== 'open') throw holdClosed(row, 'captured');
    const posted = await this.poster.captureHold(record, amounts(row), allowOver);
    closeHold(this.tx, row.id, this.options.nowMs, { millicredits: posted.costMillicredits, eventId: record.eventId });
    const closed: HoldRow = {
      ...row,
      status: 'captured',
      closedAtMs: this.options.nowMs,
      capturedMillicredits: posted.costMillicredits,
      capturedEventId: record.eventId,
    };
    this.remember(closed);
    return this.captured(posted, closed);
  }

  private async captured(posted: PostedUsage, row: HoldRow): Promise<CapturedHold> {
    // One load for both departments (in memory already after a capture: the hold's was read to
    // release it, the event's to post it; a repeated capture may have to read the hold's).
    await this.ledger.load([row.departmentId, posted.departmentId]);
    const releasedMillicredits = Math.max(0, row.maxMillicredits - (row.capturedMillicredits ?? 0));
    const hold = { ...view(row, this.ledger.nameOf(row.departmentId)), releasedMillicredits };
    return { ...posted, hold, departmentAvailableMillicredits: this.ledger.availableOf(posted.departmentId) };
  }

  /** Releases an open hold. A hold released before or expired is already free: said so, nothing changes. */
  async release(holdId: number): Promise<ReleasedHold> {
    const row = await this.hold(holdId);
    if (row.status === 'captured') throw holdClosed(row, 'released');
    if (row.status !== 'open') {
      return {
        ...(await this.shown(row)),
        alreadyClosed: true,
        releasedMillicredits: 0,
        departmentAvailableMillicredits: this.ledger.availableOf(row.departmentId),
      };
    }
    await this.poster.releaseHold(amounts(row));
    closeHold(this.tx, row.id, this.options.nowMs, null);
    const closed: HoldRow = { ...row, status: 'released', closedAtMs: this.options.nowMs };
    this.remember(closed);
    return {
      ...(await this.shown(closed)),
      alreadyClosed: false,
      releasedMillicredits: row.maxMillicredits,
      departmentAvailableMillicredits: this.ledger.availableOf(row.departmentId),
    };
  }

  run(operation: HoldOperation): Promise<HoldOutcome> {
    if (operation.kind === 'hold') return this.place(operation.request);
    if (operation.kind === 'capture') return this.capture(operation.holdId, operation.fields, operation.allowOver, operation.fieldNames);
    return this.release(operation.holdId);
  }
}

/**
 * One hold operation through the general mutation path (idempotency key, dry run), in its own
 * write transaction. Refused for want of credits, the write still commits what the refusal set
 * off (the paused notice, a recharge), as `usage record` does.
 */
export async function runHoldOperation<T extends HoldOutcome>(
  db: Database,
  request: MutationRequest,
  operation: HoldOperation,
  timeZone: string,
): Promise<MutationOutcome<T>> {
  return runMutation(db, { ...request, audit: false }, async ({ tx, ledger }) => {
    const context = { timeZone, actor: request.actor, nowMs: request.nowMs };
    const memo = operation.kind === 'capture' ? `hold ${operation.holdId}` : 'usage hold';
    const poster = await UsagePoster.open(tx, ledger, { ...context, memo });
    const desk = new HoldDesk(tx, ledger, poster, context);
    await poster.prefetch(await desk.prefetch([operation]));
    let outcome: HoldOutcome;
    try {
      outcome = await desk.run(operation);
    } catch (error) {
      if (!isCreditsError(error) || error.code !== 'INSUFFICIENT_CREDITS') throw error;
      poster.finish();
      throw new CommitThenRefuse(error);
    }
    poster.finish();
    await watchBalances(tx, ledger, { nowMs: request.nowMs, actor: request.actor });
    return outcome as T;
  });
}
