import {
  type DatevPurchase,
  type DatevSettings,
  type DatevSettingsText,
  type DatevUsage,
  fiscalYearStart,
  purchaseBookings,
  usageBookings,
} from '../core/datev.js';
import { assert } from '../core/errors.js';
import { invoiceTotals, taxCaseOf } from '../core/invoiceTax.js';
import { orgCountry, type OrgSettings } from '../core/org.js';
import { providerCountry, type ProviderSettings } from '../core/provider.js';
import { daysInMonth, localParts } from '../core/time.js';
import { normaliseVatId } from '../core/vatId.js';
import type { DatevFacts, StatementFacts } from '../store/statementQueries.js';
import { invoiceNumberText } from '../store/ops/invoice.js';
import type { DatevFileData } from './documentTypes.js';

export function datevSettingsText(settings: OrgSettings): DatevSettingsText {
  return {
    consultantNumber: settings.datevConsultantNumber,
    clientNumber: settings.datevClientNumber,
    accountLength: settings.datevAccountLength,
    expenseAccount: settings.datevExpenseAccount,
    clearingAccount: settings.datevClearingAccount,
    creditorAccount: settings.datevCreditorAccount,
    fiscalYearStartMonth: settings.datevFiscalYearStartMonth,
  };
}

/** Each department's line of the statement (its cents footed there) with the same usage by tier. */
function usageLines(facts: StatementFacts, extra: DatevFacts): DatevUsage[] {
  return facts.usageByDepartment.map((row) => {
    const tiers = extra.usageByDepartmentTier.filter((tier) => tier.department === row.label);
    const tierMillicredits = tiers.reduce((sum, tier) => sum + tier.millicredits, 0);
    assert(tierMillicredits === row.millicredits, `DATEV: usage of ${row.label} by tier is ${tierMillicredits}, the statement's ${row.millicredits}`);
    return { department: row.label, costCenter: row.costCenter, cents: row.cents, tiers };
  });
}

type Parties = { settings: OrgSettings; provider: ProviderSettings | null };

/**
 * The statement's purchases with their VAT: an issued invoice's own figures, else those the
 * invoice would get if issued now (the same rule as `invoice`), so the export does not wait for
 * invoices that are printed later.
 */
function purchaseLines(facts: StatementFacts, extra: DatevFacts, parties: Parties): DatevPurchase[] {
  const { settings, provider } = parties;
  return facts.purchases.map((line) => {
    const row = extra.purchases.find((purchase) => `#${purchase.id}` === line.reference);
    if (row?.invoiceNumber != null && row.grossCents !== null && row.taxCase !== null && row.vatRateBasisPoints !== null) {
      return {
        dayKey: line.dayKey,
        voucher: invoiceNumberText(settings.invoicePrefix, row.invoiceNumber),
        description: line.description,
        taxCase: row.taxCase,
        vatRateBasisPoints: row.vatRateBasisPoints,
        grossCents: row.grossCents,
        discountCents: line.discountCents,
      };
    }
    const taxCase = taxCaseOf({
      sellerCountry: provider === null ? 'DE' : providerCountry(provider),
      buyerCountry: orgCountry(settings),
      buyerVatId: settings.vatId === '' ? null : normaliseVatId(settings.vatId),
    });
    const totals = invoiceTotals(line.priceCents, taxCase, settings.vatRateBasisPoints);
    return {
      dayKey: line.dayKey,
      voucher: `P${line.reference.replace('#', '')}`,
      description: line.description,
      taxCase,
      vatRateBasisPoints: totals.vatRateBasisPoints,
      grossCents: totals.grossCents,
      discountCents: line.discountCents,
    };
  });
}

/** The DATEV file of a statement: usage by cost centre and tier, then the month's purchases. */
export function datevFileData(facts: StatementFacts, extra: DatevFacts, context: Parties & { datev: DatevSettings; nowMs: number }): DatevFileData {
  const { settings, datev, nowMs } = context;
  const monthKey = facts.monthKey;
  const lastDayKey = `${monthKey}-${String(daysInMonth(monthKey)).padStart(2, '0')}`;
  const now = localParts(nowMs, settings.timeZone);
  const two = (value: number): string => String(value).padStart(2, '0');
  const createdAt = `${now.year}${two(now.month)}${two(now.day)}${two(now.hour)}${two(now.minute)}${two(now.second)}${String(nowMs % 1000).padStart(3, '0')}`;
  return {
    createdAt,
    consultantNumber: datev.consultantNumber,
    clientNumber: datev.clientNumber,
    fiscalYearStart: fiscalYearStart(monthKey, datev.fiscalYearStartMonth),
    accountLength: datev.accountLength,
    fromDayKey: `${monthKey}-01`,
    toDayKey: lastDayKey,
    description: `AI usage ${monthKey}${facts.department ? ` ${facts.department.name}` : ''}`.slice(0, 30),
    bookings: [...usageBookings(usageLines(facts, extra), datev, monthKey, lastDayKey), ...purchaseBookings(purchaseLines(facts, extra, context), datev)],
  };
}
