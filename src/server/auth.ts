import type { Principal as AppPrincipal } from '../app/principal.js';
import { CreditsError, isCreditsError } from '../core/errors.js';
import { toIsoUtc } from '../core/time.js';
import type { CommandFamily } from '../app/spec.js';
import type { Database } from '../store/driver.js';
import { writeAudit } from '../store/mutation.js';
import { roleAllows, type Role } from '../core/roles.js';
import { findToken, parseTokenId, tokenMatches, tokenStatus, type TokenRow } from '../store/tokenStore.js';
import { refusalAuditArgs, type RequestSummary } from './refusalAudit.js';

/** Who is calling: a valid token, and the person or job it acts for. */
export type Principal = {
  tokenId: number;
  tokenName: string;
  role: Role;
  departmentId: number | null;
  department: string | null;
  actor: string;
  /** The request it called with (x-request-id), for the audit rows that request causes. */
  requestId?: string | undefined;
};

/** The application's principal for a token: its actor, role and department scope (by id). */
export function appPrincipal(principal: Principal): AppPrincipal {
  const scope =
    principal.departmentId === null || principal.department === null ? null : { departmentId: principal.departmentId, department: principal.department };
  return { actor: principal.actor, role: principal.role, scope, tokenId: principal.tokenId };
}

const UNKNOWN_HASH = '0'.repeat(64);
const ACTOR = /^[\x20-\x7e]{1,60}$/;

function unauthorized(message: string, hint = 'send `Authorization: Bearer <token>` with a token from `credits token create`'): CreditsError {
  return new CreditsError('UNAUTHORIZED', message, { hint });
}

/**
 * Checks bearer tokens against the ledger's api_tokens. Rows are cached for `cacheMs` (0: read
 * every time); a token revoked through this server is dropped from the cache at once.
 */
export class Authenticator {
  private readonly cache = new Map<number, { row: TokenRow | undefined; readAtMs: number }>();

  constructor(
    private readonly db: Database,
    private readonly cacheMs: number,
  ) {}

  forget(): void {
    this.cache.clear();
  }

  private async row(id: number): Promise<TokenRow | undefined> {
    const cached = this.cache.get(id);
    const now = Date.now();
    if (cached && now - cached.readAtMs < this.cacheMs) return cached.row;
    const row = await findToken(this.db, id);
    if (this.cacheMs > 0) this.cache.set(id, { row, readAtMs: now });
    return row;
  }

  async authenticate(header: string | undefined, actorHeader: string | undefined, nowMs: number): Promise<Principal> {
    if (header === undefined || header.trim() === '') throw unauthorized('no API token: this request needs `Authorization: Bearer <token>`');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be `Bearer <token>`');
    const token = match[1]!;
    const id = parseTokenId(token);
    const row = id === null ? undefined : await this.row(id);
    // The hash is compared even for an unknown id, so that timing tells nothing about which ids exist.
    const matches = tokenMatches(token, row?.secretHash ?? UNKNOWN_HASH);
    if (!row || !matches) throw unauthorized('the API token is not valid');
    const status = tokenStatus(row, nowMs);
    if (status === 'revoked') throw unauthorized(`API token ${row.id} "${row.name}" was revoked`, 'ask an admin for a new token');
    if (status === 'expired') throw unauthorized(`API token ${row.id} "${row.name}" expired at ${toIsoUtc(row.expiresAtMs!)}`, 'ask an admin for a new token');
    const claimed = actorHeader !== undefined && ACTOR.test(actorHeader.trim()) ? actorHeader.trim() : null;
    return {
      tokenId: row.id,
      tokenName: row.name,
      role: row.role,
      departmentId: row.departmentId,
      department: row.department,
      actor: claimed === null ? `token ${row.id} (${row.name})`.slice(0, 120) : `${claimed} via token ${row.id}`.slice(0, 120),
    };
  }
}

/**
 * Refuses a request: writes an audit row (who, which command, a bounded summary of what was
 * asked, why refused) and returns the 403 error to throw. The audit write failing must not turn
 * a 403 into a 500.
 */
export async function forbid(
  db: Database,
  principal: Principal,
  command: string,
  request: RequestSummary,
  reason: string,
  nowMs: number,
): Promise<CreditsError> {
  try {
    const args = refusalAuditArgs({ reason, tokenId: principal.tokenId, role: principal.role, department: principal.department }, request, {
      actor: principal.actor,
      command,
    });
    await db.write(async (tx) => {
      writeAudit(tx, { command, actor: principal.actor, nowMs, args, requestId: principal.requestId }, 'forbidden', null);
    });
  } catch (error) {
    // A server that does not hold the writer lease: the request goes to the holder, which writes the row.
    if (isCreditsError(error) && error.code === 'LEASE_LOST') throw error;
    // The refusal stands; the audit row is best effort when the ledger is unavailable.
  }
  return new CreditsError('FORBIDDEN', `${reason}`, { hint: 'ask an admin for a token whose role (and department) allows this' });
}

/** Why a principal may not run a command of this family, or null when it may. */
export function refusalFor(principal: Principal, command: string, family: CommandFamily | undefined): string | null {
  if (family === 'local') return `\`${command}\` runs only on the server's machine, not through the API`;
  if (!roleAllows(principal.role, family)) return `token ${principal.tokenId} (role ${principal.role}) may not run \`${command}\``;
  if (family === 'tokens' && principal.department !== null)
    return `token ${principal.tokenId} is bound to department ${principal.department}: only an unbound admin token manages tokens`;
  return null;
}
