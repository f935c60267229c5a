import { nodeCrypto } from './nodeCrypto.js';
import { CreditsError } from '../core/errors.js';
import type { Database, WriteTx } from './driver.js';
import { LedgerWriter } from './ledgerWriter.js';
import { scopeOf } from './scope.js';
import { watchBalances } from './notify/watchers.js';

export type MutationRequest = {
  /** The command path, like "transfer" or "purchases settle". */
  command: string;
  /** What the user asked for, as typed values after parsing: hashed for idempotency, kept in the audit log. */
  args: Record<string, unknown>;
  actor: string;
  nowMs: number;
  idempotencyKey?: string | undefined;
  dryRun?: boolean | undefined;
  /** Usage events are their own record (actor and time are in the ledger): no audit row each. */
  audit?: boolean | undefined;
  /** The API request (x-request-id) that asked for the write; undefined on the command line. */
  requestId?: string | undefined;
};

/**
 * Thrown by a mutation's work to refuse the request while keeping what the write did on the
 * way (a usage refusal's "paused" notice, a recharge it set off): the write commits, without an
 * audit row or a stored idempotent result, and the caller gets `error`.
 */
export class CommitThenRefuse extends Error {
  constructor(readonly error: CreditsError) {
    super(error.message);
  }
}

export type MutationContext = { tx: WriteTx; ledger: LedgerWriter; request: MutationRequest };

export type MutationOutcome<T> = T & { dryRun: boolean; replayed: boolean };

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

export function writeAudit(tx: WriteTx, request: MutationRequest, outcome: string, transactionId: number | null): void {
  tx.run('INSERT INTO audit_log (at_ms, actor, command, args_json, outcome, transaction_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    request.nowMs,
    request.actor,
    request.command,
    stableJson(request.args),
    outcome,
    transactionId,
    request.requestId ?? null,
  ]);
}

export function requestHash(command: string, args: Record<string, unknown>): string {
  return nodeCrypto()
    .createHash('sha256')
    .update(stableJson([command, args]))
    .digest('hex');
}

/**
 * A department-bound caller's idempotency keys live in a namespace of their own: a key another
 * caller used can neither replay that caller's stored result (which holds its balances) nor be
 * claimed before that caller uses it.
 */
function scopedKey(tx: WriteTx, key: string | undefined): string | undefined {
  const scope = scopeOf(tx);
  return key === undefined || scope === null ? key : `dept:${scope.departmentId}:${key}`;
}

/**
 * Runs a command that changes the ledger: one write transaction holding the idempotency check,
 * the work, its audit row and the stored result. A retry with the same key and content gets the
 * first result back; the same key with other content is a conflict. A dry run does all the
 * checks and rolls back.
 */
export async function runMutation<T extends object>(
  db: Database,
  request: MutationRequest,
  work: (context: MutationContext) => Promise<T & { transactionId?: number | null }>,
): Promise<MutationOutcome<T>> {
  const hash = requestHash(request.command, request.args);
  const given = request;
  let refusal: CreditsError | null = null;
  const outcome = await db.write(
    async (tx) => {
      // A remote write may run this again after a busy lock: the key is scoped from the caller's, never twice.
      request = { ...given, idempotencyKey: scopedKey(tx, given.idempotencyKey) };
      if (request.idempotencyKey) {
        const existing = await tx.get<{ command: string; request_hash: string; result_json: string }>(
          'SELECT command, request_hash, result_json FROM idempotency_keys WHERE key = ?',
          [request.idempotencyKey],
        );
        if (existing) {
          if (existing.request_hash !== hash) {
            throw new CreditsError(
              'IDEMPOTENCY_CONFLICT',
              `--idempotency-key "${request.idempotencyKey}" was already used for a different request (${existing.command})`,
              {
                hint: 'use a new key for a new request; reuse a key only to retry the very same request',
              },
            );
          }
          return { ...(JSON.parse(existing.result_json) as T), dryRun: false, replayed: true } as MutationOutcome<T>;
        }
      }
      const ledger = await LedgerWriter.open(tx, { nowMs: request.nowMs });
      let result: T & { transactionId?: number | null };
      try {
        result = await work({ tx, ledger, request });
      } catch (error) {
        if (!(error instanceof CommitThenRefuse)) throw error;
        if (!ledger.balancesWatched) await watchBalances(tx, ledger, { nowMs: request.nowMs, actor: request.actor });
        ledger.finish();
        refusal = error.error;
        return undefined;
      }
      if (!ledger.balancesWatched) await watchBalances(tx, ledger, { nowMs: request.nowMs, actor: request.actor });
      ledger.finish();
      const transactionId = typeof result.transactionId === 'number' ? result.transactionId : null;
      if (request.audit !== false) writeAudit(tx, request, 'ok', transactionId);
      if (request.idempotencyKey) {
        tx.run('INSERT INTO idempotency_keys (key, command, request_hash, result_json, created_at_ms) VALUES (?, ?, ?, ?, ?)', [
          request.idempotencyKey,
          request.command,
          hash,
          JSON.stringify(result),
          request.nowMs,
        ]);
      }
      return { ...result, dryRun: Boolean(request.dryRun), replayed: false };
    },
    { dryRun: Boolean(request.dryRun) },
  );
  if (refusal !== null || outcome === undefined) throw refusal ?? new CreditsError('INTERNAL', 'a refused mutation lost its reason');
  return outcome;
}
