import { rmSync, statSync, writeFileSync } from 'node:fs';

/** How often a waiting writer refreshes its mark, and how long a mark counts as someone waiting. */
const MARK_EVERY_MS = 20;
const MARK_FRESH_MS = 100;
/** How long a writer that sees a fresh mark stays away after its commit: longer than a waiter's retry interval (1-4 ms). */
export const STEP_BACK_MS = 6;

/**
 * SQLite's write lock has no queue: a process that commits and at once begins again (a `usage
 * import`, batch after batch) takes the lock back within microseconds, and a writer waiting in
 * another process (`credits serve` with a usage event) gets in only by chance. So a waiting writer
 * leaves a mark beside the ledger (LEDGER-lockwait, its time is what counts), and a writer that
 * commits while a mark is fresh steps back for a few milliseconds. Nobody waits, nothing changes
 * but one stat() per commit. A mark left behind by a crash is stale after MARK_FRESH_MS.
 */
export class LockWaiters {
  private readonly marker: string | null;
  private lastMarkMs = 0;

  constructor(path: string) {
    this.marker = path === '' || path === ':memory:' || path.startsWith('file:') ? null : `${path}-lockwait`;
  }

  /** Called while this writer waits for the lock. */
  markWaiting(nowMs: number): void {
    if (this.marker === null || nowMs - this.lastMarkMs < MARK_EVERY_MS) return;
    this.lastMarkMs = nowMs;
    try {
      writeFileSync(this.marker, '');
    } catch {
      // A folder we may not write to: the writer waits as before, only without the hint.
    }
  }

  /** Called once this writer holds the lock. */
  doneWaiting(): void {
    if (this.marker === null || this.lastMarkMs === 0) return;
    this.lastMarkMs = 0;
    try {
      rmSync(this.marker, { force: true });
    } catch {
      // Left behind, the mark goes stale by itself.
    }
  }

  /** Whether a writer of another connection waits for the lock now. */
  someoneWaiting(nowMs: number): boolean {
    if (this.marker === null) return false;
    try {
      const stats = statSync(this.marker, { throwIfNoEntry: false });
      return stats !== undefined && nowMs - stats.mtimeMs < MARK_FRESH_MS;
    } catch {
      // A folder we may not look into: nobody we could see is waiting.
      return false;
    }
  }
}
