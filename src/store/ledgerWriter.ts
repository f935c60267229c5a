import { nodeCrypto } from './nodeCrypto.js';
import { CreditsError, assert } from '../core/errors.js';
import { TOPUP_KINDS, assertBalanced, canonicalTransactionContent, type AccountKind, type Entry, type TransactionDraft } from '../core/ledger.js';
import { formatMillicreditsPlain } from '../core/amountText.js';
import { MAX_CREDITS, MAX_MILLICREDITS } from '../core/amounts.js';
import type { WriteTx } from './driver.js';
import { expireHolds } from './holdRepo.js';
import { ORG_ACCOUNT_ID } from './orgRepo.js';

export const GENESIS_HASH = '0'.repeat(64);

type CachedAccount = {
  id: number;
  name: string;
  kind: AccountKind;
  balanceMillicredits: number;
  topupReferenceMillicredits: number;
  /**
   * What open holds keep of this account: of a department, the part its own credits cover; of
   * org, the parts departments' overdrafts would draw. Debits may use only the rest (available).
   */
  heldMillicredits: number;
  /** A department's open holds' parts that its overdraft would draw from org (count against its monthly overdraft). */
  heldDrawMillicredits: number;
  dirty: boolean;
  toppedUp: boolean;
};

export type TouchedAccount = Readonly<Omit<CachedAccount, 'dirty'>>;

export type PostedTransaction = { transactionId: number; hash: string };

export function chainHash(previousHash: string, content: string): string {
  return nodeCrypto().createHash('sha256').update(previousHash).update(content).digest('hex');
}

/**
 * Posts ledger transactions inside one write transaction. It reads the chain head and each
 * touched account once, keeps balances in memory, refuses any entry that would take a protected
 * account below zero, and writes the final balances in `finish()`: a bulk import costs one
 * balance write per account, not one per event.
 */
/**
 * A transaction being filled one part at a time (a usage batch): every part is checked against
 * the running balances at once, but the transaction row and its summed entries are written only
 * when it closes. Thousands of events cost one transaction and a few entries.
 */
type OpenBatch = { transactionId: number; draft: Omit<TransactionDraft, 'entries'>; sums: Map<number, number>; parts: number };

/**
 * Refuses an entry that would take an amount, an account's balance, or the credits held by all
 * accounts together (minus the world's balance) past the ledger's bound: beyond it sums of
 * balances would no longer be exact. Checked against the balances read in this transaction.
 */
function checkBound(account: Readonly<CachedAccount>, amountMillicredits: number): void {
  const after = account.balanceMillicredits + amountMillicredits;
  const what =
    Math.abs(amountMillicredits) > MAX_MILLICREDITS
      ? `the amount ${formatMillicreditsPlain(Math.abs(amountMillicredits))}`
      : account.kind === 'world' && -after > MAX_MILLICREDITS
        ? `the credits held by all accounts together (${formatMillicreditsPlain(-after)})`
        : account.kind !== 'world' && after > MAX_MILLICREDITS
          ? `the balance of ${account.name} (${formatMillicreditsPlain(after)})`
          : null;
  if (what === null) return;
  throw new CreditsError('BOUND_EXCEEDED', `${what} would pass the ledger's bound of ${MAX_CREDITS} credits`, {
    hint: `no amount, balance or total of balances may pass ${MAX_CREDITS} credits (€${MAX_CREDITS / 100}), so every sum stays exact; nothing was written`,
    details: { account: account.name, balanceMillicredits: account.balanceMillicredits, amountMillicredits, maxMillicredits: MAX_MILLICREDITS },
  });
}

export class LedgerWriter {
  private readonly accounts = new Map<number, CachedAccount>();
  private batch: OpenBatch | null = null;
  private watched = false;

  private constructor(
    private readonly tx: WriteTx,
    private lastTransactionId: number,
    private lastHash: string,
  ) {}

  /**
   * With `nowMs`, open holds whose time is up are closed first (expireHolds): the held amounts
   * this writer reads are then exactly those of the holds still open. Without it, expired holds
   * not yet closed still count, which can only refuse, never overspend.
   */
  static async open(tx: WriteTx, options: { nowMs?: number } = {}): Promise<LedgerWriter> {
    if (options.nowMs === undefined) {
      const head = await tx.get<{ id: number; hash: string }>('SELECT id, hash FROM ledger_transactions ORDER BY id DESC LIMIT 1');
      return new LedgerWriter(tx, head?.id ?? 0, head?.hash ?? GENESIS_HASH);
    }
    // The head and whether any hold expired, in one read: a remote ledger pays a round trip for
    // every write sent before a read, so the update is sent only when there is something to close.
    const head = await tx.get<{ id: number | null; hash: string | null; expired: number }>(
      `SELECT t.id AS id, t.hash AS hash, x.expired AS expired FROM (SELECT count(*) AS expired FROM holds WHERE status = 'open' AND expires_at_ms <= ?) x
       LEFT JOIN (SELECT id, hash FROM ledger_transactions ORDER BY id DESC LIMIT 1) t ON 1`,
      [options.nowMs],
    );
    if ((head?.expired ?? 0) > 0) expireHolds(tx, options.nowMs);
    return new LedgerWriter(tx, head?.id ?? 0, head?.hash ?? GENESIS_HASH);
  }

  async load(accountIds: Iterable<number>): Promise<void> {
    const missing = [...new Set(accountIds)].filter((id) => !this.accounts.has(id));
    if (missing.length === 0) return;
    // The open holds come along in the same read (partial indexes on open holds: cheap when there are none).
    const rows = await this.tx.all<{ id: number; name: string; kind: AccountKind; balance: number; topup: number; held: number; heldDraw: number }>(
      `SELECT id, name, kind, balance_millicredits AS balance, topup_reference_millicredits AS topup,
         CASE kind WHEN 'department' THEN (SELECT coalesce(sum(h.max_millicredits - h.from_org_millicredits), 0) FROM holds h WHERE h.status = 'open' AND h.department_id = accounts.id)
           WHEN 'org' THEN (SELECT coalesce(sum(h.from_org_millicredits), 0) FROM holds h WHERE h.status = 'open') ELSE 0 END AS held,
         CASE kind WHEN 'department' THEN (SELECT coalesce(sum(h.from_org_millicredits), 0) FROM holds h WHERE h.status = 'open' AND h.department_id = accounts.id) ELSE 0 END AS heldDraw
       FROM accounts WHERE id IN (${missing.map(() => '?').join(',')})`,
      missing,
    );
    for (const row of rows) {
      this.accounts.set(row.id, {
        id: row.id,
        name: row.name,
        kind: row.kind,
        balanceMillicredits: row.balance,
        topupReferenceMillicredits: row.topup,
        heldMillicredits: row.held,
        heldDrawMillicredits: row.heldDraw,
        dirty: false,
        toppedUp: false,
      });
    }
    for (const id of missing) assert(this.accounts.has(id), `account ${id} exists`);
  }

  /** The balance as this transaction sees it, including what it has posted so far. */
  balanceOf(accountId: number): number {
    const account = this.accounts.get(accountId);
    assert(account, `account ${accountId} was loaded before use`);
    return account.balanceMillicredits;
  }

  /** The account's name (loaded before). */
  nameOf(accountId: number): string {
    return this.loaded(accountId).name;
  }

  /** What open holds keep of the account (see CachedAccount). */
  heldOf(accountId: number): number {
    return this.loaded(accountId).heldMillicredits;
  }

  /** The balance less what open holds keep: what a debit may take. */
  availableOf(accountId: number): number {
    const account = this.loaded(accountId);
    return account.balanceMillicredits - account.heldMillicredits;
  }

  /** A department's open holds' parts its overdraft would draw from org. */
  heldDrawOf(departmentId: number): number {
    return this.loaded(departmentId).heldDrawMillicredits;
  }

  private loaded(accountId: number): CachedAccount {
    const account = this.accounts.get(accountId);
    assert(account, `account ${accountId} was loaded before use`);
    return account;
  }

  /**
   * Keeps credits for a hold placed in this transaction (its row is written by the caller):
   * `fromDepartment` of the department's own credits and `fromOrg` of the org pool through its
   * overdraft. The caller checked them (UsagePoster.plan); this only asserts they fit.
   */
  reserve(departmentId: number, fromDepartment: number, fromOrg: number): void {
    const department = this.loaded(departmentId);
    const org = this.loaded(ORG_ACCOUNT_ID);
    assert(fromDepartment >= 0 && fromOrg >= 0, 'a hold keeps no negative amount');
    assert(department.balanceMillicredits - department.heldMillicredits >= fromDepartment, `${department.name} has the credits a hold keeps`);
    assert(org.balanceMillicredits - org.heldMillicredits >= fromOrg, 'org has the credits a hold draws');
    department.heldMillicredits += fromDepartment;
    department.heldDrawMillicredits += fromOrg;
    org.heldMillicredits += fromOrg;
  }

  /** Gives back what reserve() kept (a hold captured, released or refused again). */
  unreserve(departmentId: number, fromDepartment: number, fromOrg: number): void {
    const department = this.loaded(departmentId);
    const org = this.loaded(ORG_ACCOUNT_ID);
    department.heldMillicredits -= fromDepartment;
    department.heldDrawMillicredits -= fromOrg;
    org.heldMillicredits -= fromOrg;
    assert(department.heldMillicredits >= 0 && department.heldDrawMillicredits >= 0 && org.heldMillicredits >= 0, 'a hold gives back what it kept');
  }

  async post(draft: TransactionDraft, detail = ''): Promise<PostedTransaction> {
    await this.load(draft.entries.map((entry) => entry.accountId));
    return this.postLoaded(draft, detail);
  }

  /** post() for accounts already loaded: synchronous, for the import's hot loop. */
  postLoaded(draft: TransactionDraft, detail = ''): PostedTransaction {
    assert(this.batch === null, 'no transaction is posted while a batch is open');
    assertBalanced(draft.entries);
    this.checkCovered(draft.entries);
    this.apply(draft.entries, TOPUP_KINDS.includes(draft.kind));
    return this.writeTransaction(this.lastTransactionId + 1, draft, detail);
  }

  /** Opens a batch transaction and returns the id its parts may already refer to. */
  openBatch(draft: Omit<TransactionDraft, 'entries'>): number {
    assert(this.batch === null, 'one batch at a time');
    assert(!TOPUP_KINDS.includes(draft.kind), 'a batch never tops an account up');
    this.batch = { transactionId: this.lastTransactionId + 1, draft, sums: new Map(), parts: 0 };
    return this.batch.transactionId;
  }

  /** Adds one balanced part to the open batch, or refuses it (nothing applied) like post(). */
  addToBatch(entries: readonly Entry[]): void {
    const batch = this.batch;
    assert(batch !== null, 'a batch is open');
    assertBalanced(entries);
    this.checkCovered(entries);
    this.apply(entries, false);
    for (const entry of entries) batch.sums.set(entry.accountId, (batch.sums.get(entry.accountId) ?? 0) + entry.amountMillicredits);
    batch.parts += 1;
  }

  /** Writes the batch as one transaction of summed entries; a batch with no parts writes nothing. */
  closeBatch(detail: string): PostedTransaction | null {
    const batch = this.batch;
    assert(batch !== null, 'a batch is open');
    this.batch = null;
    if (batch.parts === 0) return null;
    const entries = [...batch.sums].filter(([, amount]) => amount !== 0).map(([accountId, amountMillicredits]) => ({ accountId, amountMillicredits }));
    const draft: TransactionDraft = { ...batch.draft, entries };
    assertBalanced(entries);
    return this.writeTransaction(batch.transactionId, draft, detail);
  }

  /** The BOUND_EXCEEDED refusal post() would raise for these entries, or null; changes nothing. */
  async boundRefusal(entries: readonly Entry[]): Promise<CreditsError | null> {
    await this.load(entries.map((entry) => entry.accountId));
    try {
      this.checkBounds(entries);
      return null;
    } catch (error) {
      if (error instanceof CreditsError) return error;
      throw error;
    }
  }

  /** Throws INSUFFICIENT_CREDITS as post() would, changing nothing. */
  assertCovered(entries: readonly Entry[]): void {
    this.checkCovered(entries);
  }

  private checkCovered(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const account = this.accounts.get(entry.accountId);
      assert(account, `account ${entry.accountId} was loaded before posting`);
      // A debit may not take what open holds keep; a credit only has to keep the account at or above zero.
      const floor = entry.amountMillicredits < 0 ? account.heldMillicredits : 0;
      if (account.kind !== 'world' && account.balanceMillicredits + entry.amountMillicredits < floor) {
        const held = account.heldMillicredits > 0 ? ` (${formatMillicreditsPlain(account.heldMillicredits)} of them held for calls in progress)` : '';
        throw new CreditsError(
          'INSUFFICIENT_CREDITS',
          `${account.name} has ${formatMillicreditsPlain(account.balanceMillicredits)} credits${held}, ${formatMillicreditsPlain(-entry.amountMillicredits)} are needed`,
          {
            hint: account.kind === 'org' ? 'buy a package first (`credits buy`)' : `transfer credits to ${account.name} first, or buy a package --for it`,
            details: {
              account: account.name,
              balanceMillicredits: account.balanceMillicredits,
              heldMillicredits: account.heldMillicredits,
              neededMillicredits: -entry.amountMillicredits,
            },
          },
        );
      }
    }
    this.checkBounds(entries);
  }

  /** The accounts before all of them together (the world's side): the account that grows is the figure people know. */
  private checkBounds(entries: readonly Entry[]): void {
    for (const world of [false, true]) {
      for (const entry of entries) {
        const account = this.accounts.get(entry.accountId)!;
        if ((account.kind === 'world') === world) checkBound(account, entry.amountMillicredits);
      }
    }
  }

  private apply(entries: readonly Entry[], isTopup: boolean): void {
    for (const entry of entries) {
      const account = this.accounts.get(entry.accountId)!;
      account.balanceMillicredits += entry.amountMillicredits;
      if (isTopup && entry.amountMillicredits > 0) {
        account.topupReferenceMillicredits = account.balanceMillicredits;
        account.toppedUp = true;
      }
      account.dirty = true;
    }
  }

  private writeTransaction(transactionId: number, draft: TransactionDraft, detail: string): PostedTransaction {
    assert(transactionId === this.lastTransactionId + 1, 'transactions are numbered without gaps');
    const hash = chainHash(this.lastHash, canonicalTransactionContent(transactionId, draft, detail));
    this.tx.run(
      'INSERT INTO ledger_transactions (id, kind, actor, memo, created_at_ms, idempotency_key, reverses_transaction_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [transactionId, draft.kind, draft.actor, draft.memo, draft.createdAtMs, draft.idempotencyKey, draft.reversesTransactionId, hash],
    );
    for (const entry of draft.entries) {
      this.tx.run('INSERT INTO entries (transaction_id, account_id, amount_millicredits) VALUES (?, ?, ?)', [
        transactionId,
        entry.accountId,
        entry.amountMillicredits,
      ]);
    }
    this.lastTransactionId = transactionId;
    this.lastHash = hash;
    return { transactionId, hash };
  }

  /** Accounts whose usage was refused for want of credits in this write (see notify/paused.ts). */
  private readonly paused = new Set<number>();

  notePaused(accountId: number): void {
    this.paused.add(accountId);
  }

  pausedInThisWrite(accountId: number): boolean {
    return this.paused.has(accountId);
  }

  /** Set by the balance rules once they ran on this writer's changes. */
  markWatched(): void {
    this.watched = true;
  }

  get balancesWatched(): boolean {
    return this.watched;
  }

  /** Marks loaded accounts as changed, so the balance rules look at them (`recharge run`). */
  watch(accountIds: readonly number[]): void {
    for (const id of accountIds) {
      const account = this.accounts.get(id);
      assert(account, `account ${id} was loaded before watching`);
      account.dirty = true;
    }
  }

  /** Accounts whose balance this writer changed (not yet written), for the rules that watch balances. */
  touched(): TouchedAccount[] {
    return [...this.accounts.values()].filter((account) => account.dirty && account.kind !== 'world');
  }

  /** Writes the balances this writer changed; call once, last, inside the same transaction. */
  finish(): void {
    assert(this.batch === null, 'the batch was closed before finishing');
    for (const account of this.accounts.values()) {
      if (!account.dirty) continue;
      this.tx.run('UPDATE accounts SET balance_millicredits = ?, topup_reference_millicredits = ? WHERE id = ?', [
        account.balanceMillicredits,
        account.topupReferenceMillicredits,
        account.id,
      ]);
      account.dirty = false;
      account.toppedUp = false;
    }
  }
}
