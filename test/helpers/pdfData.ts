import { footStatement, footUsageRows } from '../../src/core/statementFooting.js';
import type { InvoiceData, StatementData } from '../../src/app/documentTypes.js';

type Unfooted<Row> = Omit<Row, 'cents'>;
/** A statement's figures before its euro values are footed: what a test writes by hand. */
type StatementAmounts = Omit<
  StatementData,
  'purchases' | 'transfers' | 'usageByDepartment' | 'usageByUser' | 'usageByModel' | 'usageByFeature' | 'openingCents' | 'usageCents' | 'closingCents'
> & {
  purchases: Omit<StatementData['purchases'][number], 'discountCents'>[];
  transfers: Unfooted<StatementData['transfers'][number]>[];
  usageByDepartment: Unfooted<StatementData['usageByDepartment'][number]>[];
  usageByUser: Unfooted<StatementData['usageByUser'][number]>[];
  usageByModel: Unfooted<StatementData['usageByModel'][number]>[];
  usageByFeature: Unfooted<StatementData['usageByFeature'][number]>[];
};

/** Adds the euro figures the ledger's statement query adds, by the same core functions. */
export function footedStatement(amounts: StatementAmounts): StatementData {
  const cents = footStatement({
    ...amounts,
    usageDrawnFromOrgMillicredits: amounts.usageDrawnFromOrgMillicredits ?? 0,
    adjustmentsMillicredits: amounts.adjustmentsMillicredits ?? 0,
  });
  return {
    ...amounts,
    purchases: amounts.purchases.map((purchase, index) => ({ ...purchase, discountCents: cents.purchaseDiscountCents[index] ?? 0 })),
    transfers: amounts.transfers.map((transfer, index) => ({ ...transfer, cents: cents.transferCents[index] ?? 0 })),
    openingCents: cents.openingCents,
    usageCents: cents.usageCents,
    usageDrawnFromOrgCents: cents.usageDrawnFromOrgCents,
    adjustmentsCents: cents.adjustmentsCents,
    closingCents: cents.closingCents,
    usageByDepartment: footUsageRows(amounts.usageByDepartment, cents.usageCents),
    usageByUser: footUsageRows(amounts.usageByUser, cents.usageCents),
    usageByModel: footUsageRows(amounts.usageByModel, cents.usageCents),
    usageByFeature: footUsageRows(amounts.usageByFeature, cents.usageCents),
  };
}

/**
 * A statement with enough users to run over three pages, and figures that reconcile:
 * opening 10,000.0 + purchases 15,000.0 + transfers in 2,500.0 - transfers out 750.5
 * - usage (the users' sum) = closing.
 */
export function sampleStatement(userCount = 120): StatementData {
  const departments = [
    { name: 'Marketing', costCenter: 'CC-4100' },
    { name: 'Forschung & Entwicklung', costCenter: 'CC-5200' },
    { name: 'Vertrieb Süd', costCenter: null },
  ];
  const users: StatementAmounts['usageByUser'] = [];
  for (let index = 0; index < userCount; index += 1) {
    const department = departments[index % departments.length]!;
    users.push({
      label: `user${String(index + 1).padStart(3, '0')}@müller-straße.example`,
      department: department.name,
      events: 10 + index,
      millicredits: 1_000 * (index + 1) + 125,
    });
  }
  const usage = users.reduce((sum, user) => sum + user.millicredits, 0);
  const events = users.reduce((sum, user) => sum + user.events, 0);
  const byDepartment = departments.map((department) => {
    const own = users.filter((user) => user.department === department.name);
    return {
      label: department.name,
      costCenter: department.costCenter,
      events: own.reduce((sum, user) => sum + user.events, 0),
      millicredits: own.reduce((sum, user) => sum + user.millicredits, 0),
    };
  });
  const half = Math.floor(usage / 2);
  const opening = 10_000_000;
  const purchases = [
    { dayKey: '2026-03-02', reference: 'P-17', description: 'Professional', method: 'card' as const, millicredits: 10_000_000, priceCents: 9_500 },
    { dayKey: '2026-03-16', reference: 'P-18', description: 'Standard', method: 'sepa' as const, millicredits: 5_000_000, priceCents: 4_750 },
  ];
  const transfers = [
    { dayKey: '2026-03-03', direction: 'in' as const, counterparty: 'org', memo: 'Quartalsbudget Q2', millicredits: 2_500_000 },
    { dayKey: '2026-03-20', direction: 'out' as const, counterparty: 'Vertrieb Süd', memo: 'Aushilfe für Kampagne', millicredits: 750_500 },
  ];
  const closing = opening + 15_000_000 + 2_500_000 - 750_500 - usage;
  return footedStatement({
    organisation: 'Müller Straße GmbH',
    monthKey: '2026-03',
    timeZone: 'Europe/Berlin',
    department: null,
    generatedAt: '2026-04-01 06:00 CEST',
    openingMillicredits: opening,
    purchases,
    transfers,
    usageMillicredits: usage,
    usageEvents: events,
    closingMillicredits: closing,
    usageByDepartment: byDepartment,
    usageByUser: users,
    usageByModel: [
      { label: 'gpt-4o', events: Math.floor(events / 2), millicredits: half },
      { label: 'claude-3-haiku', events: events - Math.floor(events / 2), millicredits: usage - half },
    ],
    usageByFeature: [
      { label: 'chat', events: events - 40, millicredits: usage - 12_345 },
      { label: 'workflow-db', events: 40, millicredits: 12_345 },
    ],
  });
}

export function sampleInvoice(): InvoiceData {
  return {
    invoiceNumber: 'INV-2026-0007',
    taxCase: 'domestic',
    invoiceDayKey: '2026-03-16',
    supplyDayKey: '2026-03-16',
    seller: { name: 'Grünwald Bürodienste AG', address: 'Königstraße 5\n70173 Stuttgart', vatId: 'DE123456789' },
    buyer: { name: 'Müller Straße GmbH', address: 'z. Hd. Frau Jürgens\nLindenstraße 12\n10969 Berlin', vatId: 'DE987654321' },
    lines: [
      {
        description: 'KI-Nutzungsguthaben / AI usage credits – Standard',
        detail: '5% Mengenrabatt / volume discount',
        quantity: 2,
        millicredits: 10_000_000,
        unitPriceNetCents: 4_750,
        netCents: 9_500,
      },
    ],
    netCents: 9_500,
    vatRateBasisPoints: 1900,
    vatCents: 1_805,
    grossCents: 11_305,
    paymentMethod: 'sepa',
    paymentNote: 'Der Betrag wird per SEPA-Lastschrift eingezogen / The amount will be collected by SEPA direct debit.',
    purchaseReference: 'P-18',
    notes: ['Vielen Dank für Ihren Einkauf. / Thank you for your purchase.'],
  };
}
