import type { Presenter } from '../app/presenter.js';

/**
 * The render layer as the application layer's Presenter. Each part is loaded on first use: the
 * PDF code and the prompt labels stay out of a command's start-up unless it draws or asks.
 */
export const renderPresenter: Presenter = {
  statementPdf: async (data) => (await import('./pdf/statement.js')).statementPdfBytes(data),
  statementCsv: async (data) => (await import('./views/statements.js')).statementCsv(data),
  statementDatev: async (data) => (await import('./datev.js')).datevExtfBytes(data),
  invoicePdf: async (data) => (await import('./pdf/invoice.js')).invoicePdfBytes(data),
  invoiceCsv: async (data) => (await import('./views/statements.js')).invoiceCsv(data),
  reportCsv: async (data) => (await import('./views/reports.js')).reportCsv(data),
  invoiceCiiXml: async (data) => (await import('./einvoice/cii.js')).invoiceCiiXml(data),
  invoiceFacturXPdf: async (data) => (await import('./einvoice/facturx.js')).invoiceFacturXPdfBytes(data),
  usageEventsCsv: async (items, header) => (await import('./views/usageHistory.js')).usageEventsCsv(items, header),
  accountChoices: async (balances, color) => (await import('./promptChoices.js')).accountChoices(balances, color),
  packageChoices: async () => (await import('./promptChoices.js')).packageChoices(),
  methodChoices: async (priceCents) => (await import('./promptChoices.js')).methodChoices(priceCents),
  transferSummary: async (input) => (await import('./promptChoices.js')).transferSummary(input),
  purchaseSummary: async (quote, account, accountName) => (await import('./promptChoices.js')).purchaseSummary(quote, account, accountName),
};
