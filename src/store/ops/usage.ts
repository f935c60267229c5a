import type { CreditsError } from '../../core/errors.js';
import { isCreditsError } from '../../core/errors.js';
import { addLimitWarnings, type LimitWarning } from '../../core/limits.js';
import type { UsageRecord } from '../../core/usageRecord.js';
import type { Database, WriteTx } from '../driver.js';
import { LedgerWriter } from '../ledgerWriter.js';
import { CommitThenRefuse, runMutation, type MutationRequest } from '../mutation.js';
import { UsagePoster, type PostedUsage } from './usagePoster.js';
import { watchBalances } from '../notify/watchers.js';

/** One event through the general mutation path (idempotency key, dry run). */
export async function recordUsage(db: Database, request: MutationRequest, record: UsageRecord, timeZone: string) {
  return runMutation(db, { ...request, audit: false }, async ({ tx, ledger }) => {
    const poster = await UsagePoster.open(tx, ledger, { timeZone, actor: request.actor, nowMs: request.nowMs, memo: record.model });
    let posted: PostedUsage;
    try {
      posted = await poster.post(record);
    } catch (error) {
      // The paused notice and a pending recharge the refusal set off are kept; the event is not.
      if (!isCreditsError(error) || error.code !== 'INSUFFICIENT_CREDITS') throw error;
      poster.finish();
      throw new CommitThenRefuse(error);
    }
    poster.finish();
    // The balance rules may recharge the department in this same write: report what is left after.
    await watchBalances(tx, ledger, { nowMs: request.nowMs, actor: request.actor });
    return {
      ...posted,
      departmentBalanceMillicredits: posted.status === 'accepted' ? ledger.balanceOf(posted.departmentId) : posted.departmentBalanceMillicredits,
    };
  });
}

export type ImportItem = { line: number; record: UsageRecord } | { line: number; error: CreditsError };
export type ImportProblem = { line: number; eventId: string | null; code: string; message: string };
export type ImportTotals = {
  read: number;
  accepted: number;
  duplicates: number;
  refused: number;
  malformed: number;
  acceptedMillicredits: number;
  /** Kept apart from problems, which stop at MAX_REPORTED_PROBLEMS: a thousand refusals may come first. */
  firstMalformedLine: number | null;
  problems: ImportProblem[];
  /** Soft limits the import left passed, one per limit and period, as of the last event that passed it. */
  warnings: LimitWarning[];
};

export const MAX_REPORTED_PROBLEMS = 1000;

export function emptyTotals(): ImportTotals {
  return { read: 0, accepted: 0, duplicates: 0, refused: 0, malformed: 0, acceptedMillicredits: 0, firstMalformedLine: null, problems: [], warnings: [] };
}

function addProblem(totals: ImportTotals, problem: ImportProblem): void {
  if (totals.problems.length < MAX_REPORTED_PROBLEMS) totals.problems.push(problem);
}

/**
 * Posts every batch of an import. A real import commits batch by batch (a crash keeps what was
 * posted; event ids make the re-run converge). A dry run posts all batches in one transaction
 * that is rolled back, so later batches see the balances, limits and event ids of earlier ones
 * and the dry run reports exactly what the real import would do.
 */
export async function importAll(
  db: Database,
  batches: AsyncIterable<readonly ImportItem[]> | Iterable<readonly ImportItem[]>,
  options: { timeZone: string; actor: string; nowMs: number; dryRun: boolean },
  totals: ImportTotals,
  onBatch: () => void = () => undefined,
): Promise<void> {
  if (!options.dryRun) {
    for await (const items of batches) {
      const before = { ...totals, problems: totals.problems.length, warnings: [...totals.warnings] };
      try {
        await db.write((tx) => postBatch(tx, items, options, totals));
      } catch (error) {
        // The batch was rolled back: the totals say what is in the ledger, for the report of a
        // stopped import (a full disk, a lost server), and a re-run posts the rest.
        Object.assign(totals, { ...before, problems: totals.problems.slice(0, before.problems) });
        throw error;
      }
      onBatch();
    }
    return;
  }
  await db.write(
    async (tx) => {
      for await (const items of batches) {
        await postBatch(tx, items, options, totals);
        onBatch();
      }
    },
    { dryRun: true },
  );
}

/**
 * Posts one batch of an import in one write transaction. A refused or malformed event is
 * counted and skipped; the rest of the batch commits. Events carry ids, so a batch that was
 * cut off by a crash and is posted again turns into duplicates, not double charges.
 */
async function postBatch(
  tx: WriteTx,
  items: readonly ImportItem[],
  options: { timeZone: string; actor: string; nowMs: number },
  totals: ImportTotals,
): Promise<void> {
  const ledger = await LedgerWriter.open(tx, { nowMs: options.nowMs });
  const poster = await UsagePoster.open(tx, ledger, { ...options, memo: 'usage import' });
  const records: UsageRecord[] = [];
  for (const item of items) if ('record' in item) records.push(item.record);
  await poster.prefetch(records);
  for (const item of items) {
    totals.read += 1;
    if ('error' in item) {
      totals.malformed += 1;
      totals.firstMalformedLine ??= item.line;
      addProblem(totals, { line: item.line, eventId: null, code: item.error.code, message: item.error.message });
      continue;
    }
    let posted: PostedUsage;
    try {
      // Most events post without reading anything: awaiting only a real promise saves a microtask turn per event.
      const outcome = poster.post(item.record);
      posted = outcome instanceof Promise ? await outcome : outcome;
    } catch (error) {
      // A user outside the caller's department refuses the whole batch, never just the event.
      if (!isCreditsError(error) || error.code === 'INTERNAL' || error.code === 'FORBIDDEN') throw error;
      totals.refused += 1;
      addProblem(totals, { line: item.line, eventId: item.record.eventId, code: error.code, message: error.message });
      continue;
    }
    if (posted.status === 'duplicate') {
      totals.duplicates += 1;
    } else {
      totals.accepted += 1;
      totals.acceptedMillicredits += posted.costMillicredits;
      if (posted.warnings.length > 0) addLimitWarnings(totals.warnings, posted.warnings);
    }
  }
  poster.finish();
  await watchBalances(tx, ledger, { nowMs: options.nowMs, actor: options.actor });
  ledger.finish();
}
