import { CreditsError } from '../core/errors.js';
import type { PaymentMethod } from '../core/packages.js';
import { outsideScope, scopeOf } from './scope.js';
import type { SqlReader, WriteTx } from './driver.js';

export type PurchaseStatus = 'pending' | 'settled' | 'cancelled';

export type PurchaseRow = {
  id: number;
  packageName: string;
  quantity: number;
  millicredits: number;
  discountBasisPoints: number;
  priceCents: number;
  method: PaymentMethod;
  status: PurchaseStatus;
  accountId: number;
  account: string;
  actor: string;
  createdAtMs: number;
  settledAtMs: number | null;
  cancelledAtMs: number | null;
  transactionId: number | null;
  origin: string;
};

const PURCHASE_COLUMNS = `p.id AS id, p.package_name AS packageName, p.quantity AS quantity, p.millicredits AS millicredits, p.discount_basis_points AS discountBasisPoints,
  p.price_cents AS priceCents, p.method AS method, p.status AS status, p.account_id AS accountId, a.name AS account, p.actor AS actor,
  p.created_at_ms AS createdAtMs, p.settled_at_ms AS settledAtMs, p.cancelled_at_ms AS cancelledAtMs, p.transaction_id AS transactionId, p.origin AS origin`;

export async function listPurchases(db: SqlReader, status?: PurchaseStatus): Promise<PurchaseRow[]> {
  const where = status ? 'WHERE p.status = ?' : '';
  return db.all<PurchaseRow>(
    `SELECT ${PURCHASE_COLUMNS} FROM purchases p JOIN accounts a ON a.id = p.account_id ${where} ORDER BY p.id`,
    status ? [status] : [],
  );
}

export async function requirePurchase(db: SqlReader, id: number): Promise<PurchaseRow> {
  const row = await db.get<PurchaseRow>(`SELECT ${PURCHASE_COLUMNS} FROM purchases p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?`, [id]);
  const scope = scopeOf(db);
  if (scope !== null && row?.accountId !== scope.departmentId) throw outsideScope(scope, `purchase ${id}`);
  if (!row) throw new CreditsError('PURCHASE_NOT_FOUND', `no purchase ${id}`, { hint: 'see `credits purchases` for the ids' });
  return row;
}

export async function nextPurchaseId(tx: WriteTx): Promise<number> {
  const row = await tx.get<{ id: number | null }>('SELECT max(id) AS id FROM purchases');
  return (row?.id ?? 0) + 1;
}

/** `scheduleId`: the `recharge schedule` that bought it, if one did. */
export function insertPurchase(tx: WriteTx, purchase: Omit<PurchaseRow, 'account'>, scheduleId: number | null = null): void {
  tx.run(
    `INSERT INTO purchases (id, package_name, quantity, millicredits, discount_basis_points, price_cents, method, status, account_id, actor, created_at_ms, settled_at_ms, cancelled_at_ms, transaction_id, origin, schedule_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      purchase.id,
      purchase.packageName,
      purchase.quantity,
      purchase.millicredits,
      purchase.discountBasisPoints,
      purchase.priceCents,
      purchase.method,
      purchase.status,
      purchase.accountId,
      purchase.actor,
      purchase.createdAtMs,
      purchase.settledAtMs,
      purchase.cancelledAtMs,
      purchase.transactionId,
      purchase.origin,
      scheduleId,
    ],
  );
}

export function markSettled(tx: WriteTx, id: number, settledAtMs: number, transactionId: number): void {
  tx.run("UPDATE purchases SET status = 'settled', settled_at_ms = ?, transaction_id = ? WHERE id = ? AND status = 'pending'", [
    settledAtMs,
    transactionId,
    id,
  ]);
}

export function markCancelled(tx: WriteTx, id: number, cancelledAtMs: number): void {
  tx.run("UPDATE purchases SET status = 'cancelled', cancelled_at_ms = ? WHERE id = ? AND status = 'pending'", [cancelledAtMs, id]);
}
