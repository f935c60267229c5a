import { CreditsError } from '../core/errors.js';
import type { Database, SqlReader } from './driver.js';
import { runMutation, type MutationRequest } from './mutation.js';
import { nodeCrypto } from './nodeCrypto.js';
import { requireDepartment } from './orgRepo.js';
import type { Role } from '../core/roles.js';

/**
 * API tokens look like `ctk_12_<43 characters>`: the id finds the row, the 256 random bits are
 * the secret. Only sha256(token) is stored; with that much entropy a plain hash is enough.
 */
const TOKEN_SHAPE = /^ctk_(\d{1,15})_([A-Za-z0-9_-]{43})$/;

/** crypto.hash (Node 20.12+) is the one-shot form: several times faster than createHash per request. */
export function hashToken(token: string): string {
  const crypto = nodeCrypto();
  const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
  return oneShot ? oneShot('sha256', token, 'hex') : crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export function parseTokenId(token: string): number | null {
  const match = TOKEN_SHAPE.exec(token);
  return match ? Number(match[1]) : null;
}

/** Compares a presented token with a stored hash in constant time (for equal-length inputs). */
export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(/^[0-9a-f]{64}$/.test(storedHash) ? storedHash : '0'.repeat(64), 'hex');
  return nodeCrypto().timingSafeEqual(presented, stored);
}

export type TokenRow = {
  id: number;
  name: string;
  role: Role;
  departmentId: number | null;
  department: string | null;
  secretHash: string;
  createdAtMs: number;
  createdBy: string;
  expiresAtMs: number | null;
  revokedAtMs: number | null;
  revokedBy: string | null;
};

const SELECT_TOKENS = `SELECT t.id AS id, t.name AS name, t.role AS role, t.department_id AS departmentId, a.name AS department, t.secret_hash AS secretHash,
  t.created_at_ms AS createdAtMs, t.created_by AS createdBy, t.expires_at_ms AS expiresAtMs, t.revoked_at_ms AS revokedAtMs, t.revoked_by AS revokedBy
  FROM api_tokens t LEFT JOIN accounts a ON a.id = t.department_id`;

export async function findToken(db: SqlReader, id: number): Promise<TokenRow | undefined> {
  return db.get<TokenRow>(`${SELECT_TOKENS} WHERE t.id = ?`, [id]);
}

export type TokenStatus = 'active' | 'expired' | 'revoked';

export function tokenStatus(row: Pick<TokenRow, 'expiresAtMs' | 'revokedAtMs'>, nowMs: number): TokenStatus {
  if (row.revokedAtMs !== null) return 'revoked';
  if (row.expiresAtMs !== null && nowMs >= row.expiresAtMs) return 'expired';
  return 'active';
}

export type TokenListItem = Omit<TokenRow, 'secretHash' | 'departmentId'> & { status: TokenStatus };

export async function listTokens(db: SqlReader, nowMs: number): Promise<TokenListItem[]> {
  const rows = await db.all<TokenRow>(`${SELECT_TOKENS} ORDER BY t.id`);
  return rows.map(({ secretHash: _secret, departmentId: _department, ...row }) => ({ ...row, status: tokenStatus(row, nowMs) }));
}

export type NewToken = { role: Role; department: string | null; expiresAtMs: number | null; name: string | null };
export type CreatedToken = { tokenId: number; name: string; role: Role; department: string | null; expiresAtMs: number | null; createdAtMs: number };

/**
 * Creates a token in one write transaction. The secret leaves through the return value only: the
 * stored idempotency result holds no secret, so a retried request gets `token: null` back.
 */
export async function createToken(db: Database, request: MutationRequest, wanted: NewToken) {
  let token: string | null = null;
  const outcome = await runMutation<CreatedToken>(db, request, async ({ tx }) => {
    const department = wanted.department === null ? null : await requireDepartment(tx, wanted.department, '--dept');
    const next = await tx.get<{ id: number }>('SELECT coalesce(max(id), 0) + 1 AS id FROM api_tokens');
    const tokenId = Number(next?.id ?? 1);
    const secret = `ctk_${tokenId}_${nodeCrypto().randomBytes(32).toString('base64url')}`;
    const name = wanted.name ?? `${wanted.role}${department ? `-${department.name}` : ''}-${tokenId}`;
    tx.run('INSERT INTO api_tokens (id, name, role, department_id, secret_hash, created_at_ms, created_by, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      tokenId,
      name,
      wanted.role,
      department?.id ?? null,
      hashToken(secret),
      request.nowMs,
      request.actor,
      wanted.expiresAtMs,
    ]);
    token = secret;
    return { tokenId, name, role: wanted.role, department: department?.name ?? null, expiresAtMs: wanted.expiresAtMs, createdAtMs: request.nowMs };
  });
  return { ...outcome, token: outcome.dryRun || outcome.replayed ? null : token };
}

export async function revokeToken(db: Database, request: MutationRequest, id: number) {
  return runMutation(db, request, async ({ tx }) => {
    const row = await findToken(tx, id);
    if (!row) throw new CreditsError('TOKEN_NOT_FOUND', `no API token ${id}`, { hint: 'see `credits token list` for the ids' });
    if (row.revokedAtMs !== null) return { tokenId: id, name: row.name, revokedAtMs: row.revokedAtMs, alreadyRevoked: true };
    tx.run('UPDATE api_tokens SET revoked_at_ms = ?, revoked_by = ? WHERE id = ?', [request.nowMs, request.actor, id]);
    return { tokenId: id, name: row.name, revokedAtMs: request.nowMs, alreadyRevoked: false };
  });
}
