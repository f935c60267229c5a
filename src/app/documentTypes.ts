import type { TaxCase } from '../core/invoiceTax.js';
import type { PaymentMethod } from '../core/packages.js';
import type { DashboardData, ForecastReport } from '../store/insights.js';
import type { StatementFacts } from '../store/statementQueries.js';
import type { DatevBooking } from '../core/datev.js';

/** The result types of queries that documents and views show as they are. */
export type { DashboardData, ForecastReport, StatementFacts };
export type { ReversalResult } from '../store/ops/corrections.js';

/**
 * Plain data for the documents a use case hands to the render layer (PDFs, CSVs): the use case
 * gathers it from the ledger, the renderers only lay it out. Every amount of credits is an
 * integer count of millicredits, every amount of money an integer count of euro cents. Dates are 'YYYY-MM-DD' keys (calendar days
 * in the organisation's time zone) and months 'YYYY-MM' keys; the renderers format them.
 */

/** One row of a usage table: a department, user, model or feature with its usage in the month. */
export type StatementUsageRow = {
  /** Department name, user e-mail, model name or feature name. */
  label: string;
  /** Number of usage events. */
  events: number;
  /** Credits spent, in millicredits (positive). */
  millicredits: number;
  /** Euro value in cents, footed: the rows of a table add up to its total, the usage rounded once. */
  cents: number;
};

export type StatementDepartmentRow = StatementUsageRow & {
  /** Cost-centre code; null or '' when the department has none. */
  costCenter: string | null;
};

export type StatementUserRow = StatementUsageRow & {
  /** The user's department, shown next to the user when given. */
  department?: string | null;
};

/** A purchase credited in the month. */
export type StatementPurchase = {
  dayKey: string;
  /** Purchase id or number, as the user refers to it (`purchases`, `invoice ID`). */
  reference: string;
  /** What was bought, like "Standard" or "Standard × 2" or "Custom (12.5% discount)". */
  description: string;
  method: PaymentMethod;
  /** Credits credited, in millicredits (positive). */
  millicredits: number;
  /** Price paid, in cents. */
  priceCents: number;
  /** The credits' list value above the price paid, in cents (footed; 0 without a discount). */
  discountCents: number;
};

/** A transfer into or out of the statement's scope. */
export type StatementTransfer = {
  dayKey: string;
  direction: 'in' | 'out';
  /** The other side: "org" (the unallocated pool) or a department name. */
  counterparty: string;
  /** The transfer's reason; '' when none was given. */
  memo: string;
  /** Credits moved, in millicredits (positive; `direction` gives the sign). */
  millicredits: number;
  /** Their value in cents (positive, footed). */
  cents: number;
};

/** A correction (`credits adjust`) of the statement's scope in the month. */
export type StatementAdjustment = {
  dayKey: string;
  reason: string;
  /** Signed: positive added credits. */
  millicredits: number;
  /** Its value in cents (signed, footed). */
  cents: number;
};

export type StatementData = {
  organisation: string;
  /** 'YYYY-MM'. */
  monthKey: string;
  /** IANA zone the month is counted in, like Europe/Berlin. */
  timeZone: string;
  /** The department the statement is limited to (`--dept`), or null for the whole organisation. */
  department: { name: string; costCenter: string | null } | null;
  /** When the statement was made, already formatted for people (like "2026-04-01 06:00 CEST"). */
  generatedAt?: string;

  openingMillicredits: number;
  purchases: StatementPurchase[];
  transfers: StatementTransfer[];
  /** Total usage in the month, in millicredits (positive); a department's in full. */
  usageMillicredits: number;
  usageEvents: number;
  /** Of a department's usage, what its overdraft drew from the org pool (positive; 0 or absent when none). */
  usageDrawnFromOrgMillicredits?: number;
  /** Usage given back by reversals booked in the month (positive); 0 or absent when none. */
  reversalsMillicredits?: number;
  /** Events reversed in the month; absent when none. */
  reversalEvents?: number;
  /** Corrections (`credits adjust`) in the month, signed (positive adds credits): their total; 0 or absent when none. */
  adjustmentsMillicredits?: number;
  /** The corrections one by one with their reasons (footed cents); absent: the total only. */
  adjustments?: StatementAdjustment[];
  closingMillicredits: number;
  /**
   * Euro figures in cents, footed so that opening + lines = closing to the cent (see
   * core/statementFooting.ts); usageCents is also the total of every usage table.
   */
  openingCents: number;
  usageCents: number;
  usageDrawnFromOrgCents?: number;
  reversalsCents?: number;
  adjustmentsCents?: number;
  closingCents: number;

  usageByDepartment: StatementDepartmentRow[];
  usageByUser: StatementUserRow[];
  usageByModel: StatementUsageRow[];
  usageByFeature: StatementUsageRow[];
};

/** A party on an invoice. `address` holds the postal lines separated by newlines. */
export type InvoiceParty = {
  name: string;
  address: string;
  /** USt-IdNr. (VAT identification number), like DE123456789. */
  vatId?: string | null;
  /** The buyer's Leitweg-ID (public sector), printed as its reference. */
  leitwegId?: string | null;
};

/** The seller: the provider, with what §14 UStG and a payer need. */
export type InvoiceSeller = InvoiceParty & {
  vatId: string;
  taxNumber?: string | null;
  iban?: string | null;
  bic?: string | null;
  bankName?: string | null;
  email?: string | null;
  /** SEPA creditor identifier (Gläubiger-ID), printed with the mandate of a SEPA purchase. */
  creditorId?: string | null;
};

export type InvoiceLine = {
  /** Type of service, like "AI usage credits – Standard package". */
  description: string;
  /** A second, smaller line, like "5,000 credits, 5% volume discount". */
  detail?: string;
  quantity: number;
  /** Credits delivered by this line in total, in millicredits. */
  millicredits: number;
  /** Net price of one unit, in cents. */
  unitPriceNetCents: number;
  /** Net amount of the line, in cents. */
  netCents: number;
  /** The volume discount in basis points (500 = 5%); the renderer words the line from it when given. */
  discountBasisPoints?: number;
  /** The account the credits went to (org or a department). */
  creditedTo?: string;
};

export type InvoiceData = {
  /** Sequential invoice number, given by the caller (like "INV-2026-0007"). */
  invoiceNumber: string;
  /** Invoice date (Rechnungsdatum), 'YYYY-MM-DD'. */
  invoiceDayKey: string;
  /** Date of supply (Leistungsdatum): when the credits were delivered, 'YYYY-MM-DD'. */
  supplyDayKey: string;
  /** The issuer; its VAT id is required by §14 (4) Nr. 2 UStG. */
  seller: InvoiceSeller;
  buyer: InvoiceParty;
  lines: InvoiceLine[];
  /** How VAT applies (core/invoiceTax.ts): the PDF and CSV print its legal note. */
  taxCase: TaxCase;
  /** Sum of the lines' net amounts, in cents. */
  netCents: number;
  /** VAT rate in basis points: 1900 = 19%. */
  vatRateBasisPoints: number;
  vatCents: number;
  /** netCents + vatCents. */
  grossCents: number;
  paymentMethod: PaymentMethod;
  /** A sentence on payment, like "Paid by card on 2026-03-04" or "Payable within 14 days"; optional. */
  paymentNote?: string;
  /** The purchase this invoice is for, printed as a reference. */
  purchaseReference?: string;
  /** Further lines printed under the totals (legal notes, bank details). */
  notes?: string[];
  /** A reprint of an invoice issued before: printed with "Kopie / Copy". */
  copy?: boolean;
  /** Due date, 'YYYY-MM-DD': the invoice date plus the payment term; absent on a paid invoice and a cancellation. */
  dueDayKey?: string;
  paymentTermDays?: number;
  /** The day it was paid (the purchase settled), 'YYYY-MM-DD'; absent while unpaid. */
  paidDayKey?: string;
  /** A SEPA direct-debit purchase: the mandate and the pre-notification's debit day. */
  sepaDebit?: { mandateReference: string; creditorId: string | null; debtorIbanLast4: string | null; debitDayKey: string };
  /** A cancellation invoice (Stornorechnung): the invoice it cancels and why; its amounts are the original's negated. */
  cancellation?: { originalNumber: string; originalDayKey: string; reason: string };
  /** An invoice that was cancelled: the cancellation invoice's number and date. */
  cancelledBy?: { number: string; dayKey: string };
};

/** A monthly statement as the CSV and the terminal show it. */
export type StatementFileData = StatementFacts & { organisation: string };

/** A DATEV Buchungsstapel (`statement --format datev`): the header record's values and the bookings. */
export type DatevFileData = {
  /** Erzeugt am: local wall-clock time as YYYYMMDDHHMMSSmmm. */
  createdAt: string;
  consultantNumber: number;
  clientNumber: number;
  /** WJ-Beginn, YYYYMMDD. */
  fiscalYearStart: string;
  accountLength: number;
  /** The month's first and last day, YYYY-MM-DD. */
  fromDayKey: string;
  toDayKey: string;
  /** Bezeichnung of the batch, at most 30 characters. */
  description: string;
  bookings: DatevBooking[];
};

/** A usage report grouped by one key (`credits report`). */
export type ReportData = {
  by: string;
  period: { firstDay: string; lastDay: string; label: string };
  department: string | null;
  /** `valueCents` and `sharePercent` are footed: they add up to the totals' (see core/footing.ts). */
  /** `key` is null only in a tag report, for the events without the tag. */
  rows: { key: string | null; detail: string | null; events: number; millicredits: number; credits: number; valueCents: number; sharePercent: number }[];
  totals: { events: number; millicredits: number; credits: number; valueCents: number; sharePercent: number };
  /** Usage given back by reversals booked in the period (positive amounts); absent when there were none. */
  reversals?: { events: number; millicredits: number; credits: number; valueCents: number };
  /** The totals less the reversals: totals.valueCents - reversals.valueCents = net.valueCents. */
  net?: { millicredits: number; credits: number; valueCents: number };
};

/** One posted usage event, as `usage list` and `usage show` give it (JSON, CSV and tables are made from this). */
export type UsageEventItem = {
  /** The ledger's own number of the event (`#12` in tables): every event has one. */
  id: number;
  /** The id the platform sent; null for an event posted without one. */
  eventId: string | null;
  /** When it happened, ISO 8601 in UTC. */
  occurredAt: string;
  occurredAtMs: number;
  /** When it was posted (its usage transaction's time). */
  postedAtMs: number;
  user: string;
  /** The department it was posted for (the user's at that time). */
  department: string;
  model: string;
  tier: string;
  feature: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  images: number;
  imageSize: string;
  dbAccess: boolean;
  costMillicredits: number;
  credits: number;
  /** Of the cost, what the department's overdraft drew from the org pool. */
  drawnFromOrgMillicredits: number;
  /** The usage transaction (batch) it was posted in. */
  transactionId: number;
  /** The reversal transaction that gave its cost back (`usage reverse`), or null. */
  reversedByTransactionId: number | null;
  /** Its tags (`--tag`), keys sorted; {} without any. */
  tags: Record<string, string>;
};
