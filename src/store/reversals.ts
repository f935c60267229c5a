import type { Entry } from '../core/ledger.js';
import { nodeCrypto } from './nodeCrypto.js';
import { ORG_ACCOUNT_ID, WORLD_ACCOUNT_ID } from './orgRepo.js';

/** What a reversal gives back of one usage event: its department paid the cost less the overdraft draw, org the draw. */
export type ReversedEvent = { id: number; departmentId: number; costMillicredits: number; drawnFromOrgMillicredits: number };

/**
 * The entries of a reversal: the usage entries of its events turned round. Each department gets
 * back what it paid, the org pool what its overdraft drew, and the outside world gives the cost
 * back. Accounts with nothing to get back are left out; in a fixed order (world, departments by
 * id, org), so `verify` computes the same entries from the same events.
 */
export function reversalEntries(events: readonly ReversedEvent[]): Entry[] {
  let cost = 0;
  let drawn = 0;
  const byDepartment = new Map<number, number>();
  for (const event of events) {
    cost += event.costMillicredits;
    drawn += event.drawnFromOrgMillicredits;
    const paid = event.costMillicredits - event.drawnFromOrgMillicredits;
    byDepartment.set(event.departmentId, (byDepartment.get(event.departmentId) ?? 0) + paid);
  }
  const entries: Entry[] = [{ accountId: WORLD_ACCOUNT_ID, amountMillicredits: -cost }];
  for (const [accountId, amount] of [...byDepartment].sort(([a], [b]) => a - b)) entries.push({ accountId, amountMillicredits: amount });
  entries.push({ accountId: ORG_ACCOUNT_ID, amountMillicredits: drawn });
  return entries.filter((entry) => entry.amountMillicredits !== 0);
}

/**
 * The detail a reversal transaction's hash covers: how many events it reverses and a digest of
 * their numbers (ascending), so adding, dropping or moving a row of usage_reversals breaks the
 * chain. A reversal with no rows (none was ever written without them) hashes no detail.
 */
export function reversalDetail(eventIds: readonly number[]): string {
  if (eventIds.length === 0) return '';
  const sorted = [...eventIds].sort((a, b) => a - b);
  return `reversal:${sorted.length}:${nodeCrypto().createHash('sha256').update(sorted.join(',')).digest('hex')}`;
}
