import type { AccountKind } from './ledger.js';

/** One entry of a transaction as stored, with what it takes to decide who may see it. */
export type Leg = { accountId: number; account: string; accountKind: AccountKind; millicredits: number };
/** One entry as `history` lists it; `summary` marks the one leg that stands for all the others. */
export type ShownLeg = { account: string; millicredits: number; summary?: true };

/** The name of the summary leg: it can hold other departments, org and world at once. */
export const OTHER_ACCOUNTS = 'other accounts';

function plain(leg: Leg): ShownLeg {
  return { account: leg.account, millicredits: leg.millicredits };
}

/** Shown legs plus one leg for the rest, so the listed transaction still sums to zero. */
function withSummary(shown: ShownLeg[]): ShownLeg[] {
  const ownMillicredits = shown.reduce((sum, leg) => sum + leg.millicredits, 0);
  return [...shown, { account: OTHER_ACCOUNTS, millicredits: -ownMillicredits, summary: true }];
}

/**
 * A transaction as one account's reader sees it. A transaction that touches no other department
 * (a purchase, an allocation from org, the department's own usage) is shown whole: org and world
 * are not departments. Otherwise (a usage import or group commit of several departments, a
 * transfer between departments) only the account's own legs are shown, and one summary leg of
 * minus their sum, so no amount of another department is visible, not even as org's or world's
 * total of them.
 */
export function accountShare(legs: readonly Leg[], accountId: number): ShownLeg[] {
  const touchesOthers = legs.some((leg) => leg.accountKind === 'department' && leg.accountId !== accountId);
  if (!touchesOthers) return legs.map(plain);
  return withSummary(legs.filter((leg) => leg.accountId === accountId).map(plain));
}

/**
 * A usage transaction as one user's reader sees it: the user's part of each leg they share (their
 * department's debit, and org's when their department drew on its overdraft), in entry order, and
 * one summary leg for the rest (world, other users, other departments).
 * `userMillicredits` is the user's amount per account id in this transaction; with
 * `onlyDepartmentId`, legs of other departments go into the summary.
 */
export function userShare(legs: readonly Leg[], userMillicredits: ReadonlyMap<number, number>, onlyDepartmentId: number | null = null): ShownLeg[] {
  const shown: ShownLeg[] = [];
  for (const leg of legs) {
    // A department-bound reader sees no other department's leg, even of a user who moved in.
    if (onlyDepartmentId !== null && leg.accountKind === 'department' && leg.accountId !== onlyDepartmentId) continue;
    const amount = userMillicredits.get(leg.accountId);
    if (amount !== undefined && amount !== 0) shown.push({ account: leg.account, millicredits: amount });
  }
  return withSummary(shown);
}
