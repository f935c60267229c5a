import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { CreditsError } from '../core/errors.js';
import type { Database } from '../store/driver.js';
import { readSettings } from '../store/orgRepo.js';
import { Authenticator, type Principal } from './auth.js';
import type { ServerCapabilities } from './capabilities.js';
import { UsageCoalescer } from './coalescer.js';
import { Metrics } from './metrics.js';

const SETTINGS_CACHE_MS = 1000;

/** What every route shares: the ledger, the clock, who is calling, counters, the usage writer. */
export class ServerState {
  readonly metrics = new Metrics();
  readonly coalescer: UsageCoalescer;
  private readonly authenticator: Authenticator;
  private zone: { value: string; readAtMs: number } | undefined;

  constructor(
    readonly db: Database,
    readonly config: Config,
    options: { tokenCacheMs: number },
    /** What callers may do beyond their roles, as `credits serve` was started. */
    readonly capabilities: ServerCapabilities,
  ) {
    this.authenticator = new Authenticator(db, options.tokenCacheMs);
    this.coalescer = new UsageCoalescer(db, {
      timeZone: () => this.timeZone(),
      nowMs: () => this.nowMs(),
      maxBatch: 2000,
      committed: (events) => this.metrics.groupCommit(events),
    });
  }

  nowMs(): number {
    return this.config.nowMs ?? Date.now();
  }

  /** The organisation's time zone, read at most once a second (and again after a settings change here). */
  async timeZone(): Promise<string> {
    const now = Date.now();
    if (this.zone && now - this.zone.readAtMs < SETTINGS_CACHE_MS) return this.zone.value;
    const { initialised, settings } = await readSettings(this.db);
    if (!initialised) throw new CreditsError('LEDGER_NOT_FOUND', `${this.db.location} has no ledger yet`, { hint: 'run `credits init` on the server first' });
    this.zone = { value: settings.timeZone, readAtMs: now };
    return settings.timeZone;
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const actor = request.headers['x-credits-actor'];
    const principal = await this.authenticator.authenticate(request.headers.authorization, typeof actor === 'string' ? actor : undefined, this.nowMs());
    // The request log names who called; the audit rows carry the request's id.
    (request as { principal?: Principal }).principal = principal;
    return { ...principal, requestId: request.id };
  }

  /** Drops what a command may have changed from the caches. */
  changed(family: string | undefined): void {
    if (family === 'settings') this.zone = undefined;
    if (family === 'tokens') this.authenticator.forget();
  }
}
