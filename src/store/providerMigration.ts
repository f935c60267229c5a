import { SETTING_KEYS } from '../core/org.js';
import { PROVIDER_KEYS } from '../core/provider.js';
import { normaliseVatId, parseVatId } from '../core/vatId.js';
import type { WriteTx } from './driver.js';
import { writeSetting } from './orgRepo.js';

/** The migration that introduced the provider (migrations/meta/_journal.json). */
export const PROVIDER_MIGRATION_TAG = '0011_invoice_provider';

/**
 * Before the provider existed, `invoice` named the organisation as the seller. Its name, address
 * and VAT id become the provider once, so invoicing goes on as before until `provider set`
 * names the real seller; invoices already issued get the seller they were printed with (the
 * organisation as it is now, which is what a reprint showed until this migration) and their
 * totals as they were computed (half-up VAT on the purchase's price). Returns the note to show,
 * or null when there was nothing to carry over (a new ledger, or an organisation never set up
 * for invoicing). Runs in the migration's own transaction.
 */
export async function adoptOrganisationAsProvider(tx: WriteTx): Promise<string | null> {
  const rows = new Map((await tx.all<{ key: string; value: string }>('SELECT key, value FROM settings')).map((row) => [row.key, row.value] as const));
  const invoiced = (await tx.get<{ count: number }>('SELECT count(*) AS count FROM invoices'))?.count ?? 0;
  const name = rows.get(SETTING_KEYS.name) ?? '';
  const address = rows.get(SETTING_KEYS.address) ?? '';
  const typedVatId = rows.get(SETTING_KEYS.vatId) ?? '';
  if (rows.has(PROVIDER_KEYS.name) || (address === '' && typedVatId === '' && invoiced === 0)) return null;
  tx.run(
    `UPDATE invoices SET seller_name = ?, seller_address = ?, seller_vat_id = ?,
       net_cents = (SELECT price_cents FROM purchases WHERE purchases.id = invoices.purchase_id),
       vat_cents = ((SELECT price_cents FROM purchases WHERE purchases.id = invoices.purchase_id) * vat_rate_basis_points + 5000) / 10000
     WHERE seller_name IS NULL`,
    [name, address, typedVatId],
  );
  tx.run('UPDATE invoices SET gross_cents = net_cents + vat_cents WHERE gross_cents IS NULL');
  let vatId = normaliseVatId(typedVatId);
  let vatNote = '';
  try {
    if (vatId !== '') vatId = parseVatId(typedVatId, 'VAT id');
  } catch {
    // Kept as typed (normalised) and printed so until `provider set --vat-id` corrects it.
    vatNote = ` (its VAT id "${typedVatId}" is no EU VAT id: correct it with \`credits provider set --vat-id\`)`;
  }
  writeSetting(tx, PROVIDER_KEYS.name, name);
  writeSetting(tx, PROVIDER_KEYS.address, address);
  writeSetting(tx, PROVIDER_KEYS.vatId, vatId);
  const issued = invoiced === 0 ? '' : `; the ${invoiced} invoice(s) already issued keep the seller they were issued with`;
  return (
    `invoices now name a provider as the seller and the organisation as the buyer. The organisation's seller details ` +
    `(${[name, vatId].filter((part) => part !== '').join(', ')}) became the provider once${vatNote}${issued}. ` +
    'If you buy credits from someone else, name them with `credits provider set --name ... --address ... --vat-id ...`.'
  );
}
