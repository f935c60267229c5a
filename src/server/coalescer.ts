import { isCreditsError } from '../core/errors.js';
import type { DepartmentScope } from '../store/scope.js';
import type { UsageRecord } from '../core/usageRecord.js';
import type { Database } from '../store/driver.js';
import { LedgerWriter } from '../store/ledgerWriter.js';
import { watchBalances } from '../store/notify/watchers.js';
import { UsagePoster, type PostedUsage } from '../store/ops/usagePoster.js';
import { HoldDesk, type HoldOperation, type HoldOutcome } from '../store/ops/holds.js';

/** The longest a first event waits for others to join its transaction. */
const GATHER_MS = 3;

/** One request's work: a usage event, or an operation on a hold (place, capture, release). */
type Work = { kind: 'usage'; record: UsageRecord } | HoldOperation;
type Outcome = PostedUsage | HoldOutcome;

type Pending = { work: Work; scope: DepartmentScope | null; resolve(outcome: Outcome): void; reject(error: unknown): void };

/**
 * Group commit for single usage events. Each POST /v1/usage waits for its event to be posted,
 * but events that arrive while a write transaction is running are posted together in the next
 * one: one BEGIN IMMEDIATE, one ledger batch transaction and one fsync for many requests. Every
 * event still gets every check on its own, and a refused event leaves no trace (UsagePoster), so
 * each request gets its own answer. Events of different callers never share a ledger
 * transaction: the queue is per actor.
 */
export class UsageCoalescer {
  private readonly queues = new Map<string, Pending[]>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: { timeZone(): Promise<string>; nowMs(): number; maxBatch: number; committed?(events: number): void },
  ) {}

  submit(actor: string, record: UsageRecord, scope: DepartmentScope | null = null): Promise<PostedUsage> {
    return this.enqueue(actor, { kind: 'usage', record }, scope) as Promise<PostedUsage>;
  }

  /**
   * An operation on a hold, in the same group commit as usage events: a hold and its capture are
   * two requests, and each costs a share of a transaction instead of one of its own.
   */
  submitHold<T extends HoldOutcome>(actor: string, operation: HoldOperation, scope: DepartmentScope | null = null): Promise<T> {
    return this.enqueue(actor, operation, scope) as Promise<T>;
  }

  private enqueue(actor: string, work: Work, scope: DepartmentScope | null): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(actor);
      if (!queue) {
        queue = [];
        this.queues.set(actor, queue);
      }
      queue.push({ work, scope, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves when everything submitted so far is posted (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    await this.gather();
    try {
      for (;;) {
        const next = this.queues.entries().next();
        if (next.done) break;
        const [actor, queue] = next.value;
        const batch = queue.splice(0, this.options.maxBatch);
        if (queue.length === 0) this.queues.delete(actor);
        await this.post(actor, batch);
      }
    } finally {
      this.running = null;
      if (this.queues.size > 0) this.running = this.drain();
    }
  }

  private queued(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  /**
   * Waits while events keep arriving: one turn of the event loop at a time (each reads every
   * request that is ready), up to GATHER_MS. A lone request waits one turn; a burst of clients
   * shares one fsync instead of trickling into many small transactions.
   */
  private async gather(): Promise<void> {
    const started = Date.now();
    let seen = -1;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const now = this.queued();
      if (now === seen || now >= this.options.maxBatch || Date.now() - started >= GATHER_MS) return;
      seen = now;
    }
  }

  private async post(actor: string, batch: Pending[]): Promise<void> {
    const outcomes: (Outcome | Error)[] = [];
    try {
      const timeZone = await this.options.timeZone();
      const nowMs = this.options.nowMs();
      await this.db.write(async (tx) => {
        outcomes.length = 0;
        const ledger = await LedgerWriter.open(tx, { nowMs });
        const poster = await UsagePoster.open(tx, ledger, { timeZone, actor, nowMs, memo: 'usage api' });
        const records: UsageRecord[] = [];
        const operations: HoldOperation[] = [];
        for (const { work } of batch) {
          if (work.kind === 'usage') records.push(work.record);
          else operations.push(work);
        }
        const desk = operations.length > 0 ? new HoldDesk(tx, ledger, poster, { timeZone, nowMs, actor }) : null;
        // The holds first (one read), then every user and event id of the batch together.
        const wanted = desk === null ? [] : await desk.prefetch(operations);
        await poster.prefetch(wanted.length === 0 ? records : [...records, ...wanted]);
        for (const pending of batch) {
          try {
            poster.scope = pending.scope;
            const { work } = pending;
            outcomes.push(work.kind === 'usage' ? await poster.post(work.record) : await desk!.run(work));
          } catch (error) {
            if (!isCreditsError(error) || error.code === 'INTERNAL') throw error;
            outcomes.push(error);
          }
        }
        poster.finish();
        await watchBalances(tx, ledger, { nowMs, actor });
        ledger.finish();
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.options.committed?.(batch.length);
    for (const [index, pending] of batch.entries()) {
      const outcome = outcomes[index]!;
      if (outcome instanceof Error) pending.reject(outcome);
      else pending.resolve(outcome);
    }
  }
}
