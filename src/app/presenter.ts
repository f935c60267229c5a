import type { PurchaseQuote } from '../core/packages.js';
import type { AccountBalance, BalanceWithPercent } from '../store/ledgerQueries.js';
import type { Choice } from './context.js';
import type { EInvoiceData } from './einvoiceTypes.js';
import type { DatevFileData, InvoiceData, ReportData, StatementData, StatementFileData, UsageEventItem } from './documentTypes.js';

export type { AccountBalance, BalanceWithPercent };

/** What the question before a transfer shows. */
export type TransferSummaryInput = { from: string; to: string; millicredits: number; reason: string; balances: AccountBalance[] };

/**
 * What a use case asks of the render layer, which it never imports: files drawn as bytes or
 * text, and the labels of the questions a terminal asks. The transport that runs the use case
 * supplies it (the CLI and the server pass src/render/presenter.ts), so the application layer
 * returns files as bytes without knowing how a PDF is laid out.
 */
export interface Presenter {
  statementPdf(data: StatementData): Promise<Uint8Array>;
  statementCsv(data: StatementFileData): Promise<string>;
  /** A DATEV Buchungsstapel (EXTF) as the bytes of its file: Windows-1252, CRLF, semicolons. */
  statementDatev(data: DatevFileData): Promise<Uint8Array>;
  invoicePdf(data: InvoiceData): Promise<Uint8Array>;
  /** The same invoice as CSV: one row per line, with the invoice's totals and tax note on each. */
  invoiceCsv(data: InvoiceData): Promise<string>;
  reportCsv(data: ReportData): Promise<string>;
  /** The invoice as EN 16931 XML in UN/CEFACT CII syntax (`invoice --format xrechnung`). */
  invoiceCiiXml(data: EInvoiceData): Promise<string>;
  /** The invoice PDF as PDF/A-3 with that XML embedded as factur-x.xml (`invoice --format zugferd`). */
  invoiceFacturXPdf(data: EInvoiceData): Promise<Uint8Array>;
  /** One page of a usage event export as CSV rows, after the header row when `header` is set. */
  usageEventsCsv(items: readonly UsageEventItem[], header: boolean): Promise<string>;
  /** "Engineering   2,500.0 credits  25.0% left": for picking an account. */
  accountChoices(balances: BalanceWithPercent[], color: boolean): Promise<Choice[]>;
  packageChoices(): Promise<Choice[]>;
  methodChoices(priceCents: number): Promise<Choice[]>;
  transferSummary(input: TransferSummaryInput): Promise<string[]>;
  purchaseSummary(quote: PurchaseQuote, account: AccountBalance | undefined, accountName: string): Promise<string[]>;
}
