/**
 * Deadlines of remote calls. A remote ledger may stop answering at any moment (a stopped server,
 * a lost connection, sqld's stuck write lock); every call races the time its operation has left,
 * and what the caller is told depends on how far the write had gone when time ran out.
 */

/** Where a remote operation stood: reading; waiting for the write lock; holding it; committing. */
export type RemotePhase = 'read' | 'lock' | 'work' | 'commit';

export class DeadlineExpired extends Error {
  constructor(readonly phase: RemotePhase) {
    super(`no answer in time (${phase})`);
    this.name = 'DeadlineExpired';
  }
}

/** One operation's time: the lock wait ends at lockAtMs, everything at endAtMs. */
export class Deadline {
  constructor(
    readonly lockAtMs: number,
    readonly endAtMs: number,
  ) {}

  static starting(nowMs: number, lockWaitMs: number, totalMs: number): Deadline {
    return new Deadline(nowMs + Math.min(lockWaitMs, totalMs), nowMs + totalMs);
  }

  /** When a call made in this phase must have answered. */
  limitMs(phase: RemotePhase): number {
    return phase === 'lock' ? this.lockAtMs : this.endAtMs;
  }

  /**
   * The call's answer, or DeadlineExpired when the phase's time runs out first. The call is
   * left behind, not cancelled: the caller closes its connection so nothing more goes down it.
   */
  async race<T>(call: Promise<T>, phase: RemotePhase, nowMs = Date.now()): Promise<T> {
    // A call that loses the race may still fail later; nobody is waiting for it then.
    call.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DeadlineExpired(phase)), Math.max(0, this.limitMs(phase) - nowMs));
    });
    try {
      return await Promise.race([call, expiry]);
    } finally {
      clearTimeout(timer);
    }
  }
}
