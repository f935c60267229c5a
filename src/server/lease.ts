import { randomUUID } from 'node:crypto';
import { CreditsError, isCreditsError } from '../core/errors.js';
import type { Database, WriteOptions, WriteTx } from '../store/driver.js';
import { fenceStatement, readLease, releaseLease, takeLease, type LeaseRow } from '../store/writerLease.js';

/** The longest a stopping server waits to give its lease back. */
const RELEASE_WAIT_MS = 1000;

export type LeaseOptions = {
  /** The URL the other servers forward writes to (serve --advertise-url). */
  advertiseUrl: string;
  leaseMs: number;
  log(line: string): void;
};

/** Who holds the lease, as last read, on this process's clock. */
type Seen = { holder: string; url: string; expiresAtMs: number };

/**
 * The writer lease as one `credits serve` process sees it (several servers, one ledger). The
 * process takes the lease at start and whenever it finds it expired; while it holds it, every
 * write it makes carries the fence (store/writerLease.ts), which also renews the lease, and a
 * timer renews it when no write did for a third of its length. While another holds it, the timer
 * reads the row every third of a lease, so a dead holder is replaced within about 1.3 leases.
 *
 * `heldUntilMs` is this process's belief, kept on the safe side (measured from before the write
 * that renewed it was sent); the fence, not the belief, is what keeps a second writer out.
 */
export class WriterLease {
  readonly holderId = randomUUID();
  private heldUntilMs = 0;
  private seen: Seen | undefined;
  private taking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A renewal or a read of the row still running (a slow database): the next tick waits for it, never piles up. */
  private ticking = false;

  constructor(
    private readonly primary: Database,
    readonly options: LeaseOptions,
  ) {}

  async start(): Promise<void> {
    await this.refresh().catch((error) => this.options.log(`credits serve: the writer lease could not be read: ${messageOf(error)}`));
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  held(): boolean {
    return Date.now() < this.heldUntilMs;
  }

  /** The live holder's URL when it is another server; undefined when we hold it or nobody does. */
  holderUrl(): string | undefined {
    const seen = this.seen;
    if (!seen || seen.holder === this.holderId || Date.now() >= seen.expiresAtMs || seen.url === '') return undefined;
    return seen.url;
  }

  /** Reads the row again; takes the lease when it has expired (or is ours). */
  refresh(): Promise<void> {
    this.taking ??= this.readAndTake().finally(() => {
      this.taking = undefined;
    });
    return this.taking;
  }

  /** Forgets the holder we knew (its URL did not answer): the next refresh reads the row. */
  suspect(url: string): void {
    if (this.seen?.url === url) this.seen = undefined;
  }

  /**
   * A write transaction of this server as the writer: refused here (LEASE_LOST, nothing sent)
   * unless we believe we hold the lease, and fenced in the database in case we no longer do.
   */
  async write<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    if (!this.held()) await this.refresh();
    if (!this.held()) throw this.notHolder();
    const sentAtMs = Date.now();
    try {
      const result = await this.primary.write(async (tx) => {
        const value = await work(tx);
        // Queued with the transaction's last statements: it travels with them, no round trip of its own.
        if (!options.dryRun) {
          const fence = fenceStatement(this.holderId, this.options.leaseMs);
          tx.run(fence.sql, fence.args);
        }
        return value;
      }, options);
      if (!options.dryRun) this.heldUntilMs = Math.max(this.heldUntilMs, sentAtMs + this.options.leaseMs);
      return result;
    } catch (error) {
      if (isCreditsError(error) && error.code === 'LEASE_LOST') this.lost('a write found it taken or expired');
      throw error;
    }
  }

  /** On shutdown: no more timers, and the lease given back so that another server takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.held()) return;
    this.heldUntilMs = 0;
    // Best effort, and brief: a database that does not answer lets the lease expire instead.
    const released = releaseLease(this.primary, this.holderId).catch(() => undefined);
    await Promise.race([released, new Promise((resolveWait) => setTimeout(resolveWait, RELEASE_WAIT_MS).unref())]);
  }

  private notHolder(): CreditsError {
    const url = this.holderUrl();
    return new CreditsError('LEASE_LOST', `this server does not hold the writer lease${url ? ` (${url} does)` : ''}; nothing was written`, {
      hint: 'the write goes to the server that holds the lease; run the command again (with the same idempotency key)',
      details: { outcome: 'not applied' },
    });
  }

  private lost(why: string): void {
    if (this.heldUntilMs === 0) return;
    this.heldUntilMs = 0;
    this.seen = undefined;
    this.options.log(`credits serve: lost the writer lease (${why}); writes now go to its holder`);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      const leftMs = this.heldUntilMs - Date.now();
      if (leftMs > (this.options.leaseMs * 2) / 3) return;
      if (leftMs > 0) {
        // A write of nothing but the fence: renews the lease, or finds it lost.
        await this.write(async () => undefined);
      } else await this.refresh();
    } catch (error) {
      if (!(isCreditsError(error) && error.code === 'LEASE_LOST')) this.options.log(`credits serve: writer lease: ${messageOf(error)}`);
    } finally {
      this.ticking = false;
    }
  }

  private async readAndTake(): Promise<void> {
    const askedAtMs = Date.now();
    let row: LeaseRow | undefined = await readLease(this.primary);
    if (row === undefined || row.expiresMs <= row.nowMs || row.holder === this.holderId) {
      row = (await takeLease(this.primary, this.holderId, this.options.advertiseUrl, this.options.leaseMs)) ?? (await readLease(this.primary));
    }
    if (row === undefined) return;
    const expiresAtMs = askedAtMs + (row.expiresMs - row.nowMs);
    if (row.holder !== this.holderId && row.holder !== this.seen?.holder && row.expiresMs > row.nowMs)
      this.options.log(`credits serve: the writer lease is held by ${row.url}: writes received here go there`);
    this.seen = { holder: row.holder, url: row.url, expiresAtMs };
    if (row.holder === this.holderId && row.expiresMs > row.nowMs) {
      if (!this.held())
        this.options.log(`credits serve: holds the writer lease (${this.options.advertiseUrl}) for ${this.options.leaseMs} ms, renewed by its writes`);
      this.heldUntilMs = Math.max(this.heldUntilMs, expiresAtMs);
    } else this.lost(`${row.url || 'another server'} holds it`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
