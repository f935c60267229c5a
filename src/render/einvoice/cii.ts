import { CreditsError } from '../../core/errors.js';
import { TAX_CASE_NOTES, type TaxCase } from '../../core/invoiceTax.js';
import type { PaymentMethod } from '../../core/packages.js';
import type { EInvoiceData } from '../../app/einvoiceTypes.js';

/**
 * The invoice as EN 16931 in UN/CEFACT Cross Industry Invoice syntax (the XML of XRechnung's
 * CII flavour and of Factur-X/ZUGFeRD), written by hand: the lead decided against
 * @e-invoice-eu/core, which would pull xlsx and pdf-lib into the runtime for one document type.
 * Elements appear in the order of the Factur-X 1.07.3 EN16931 schema, which the tests validate.
 *
 * Guideline (BT-24): always `urn:cen.eu:en16931:2017`, the EN 16931 core. The XRechnung CIUS id
 * would promise the seller's telephone (BT-42, BR-DE-6) and the buyer's electronic address
 * (BT-49), which the ledger does not hold; and the ZUGFeRD file embeds this same XML byte for
 * byte, whose EN 16931 profile names exactly this id. A Leitweg-ID is still given as the buyer
 * reference (BT-10), which is what a public-sector receiver routes by.
 */
export const CII_GUIDELINE_ID = 'urn:cen.eu:en16931:2017';

const NAMESPACES = [
  'xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"',
  'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"',
  'xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100"',
  'xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"',
].join(' ');

/**
 * VAT category (BT-118) and exemption reason code (BT-121) per tax case. A buyer outside the EU
 * gets G ("export outside the EU, VAT not charged") rather than O ("not subject to VAT"): O would
 * forbid the seller's and buyer's VAT ids in the XML (BR-O-2) and then require a seller
 * identifier or trade register number (BR-CO-26) that the ledger does not hold, while the
 * invoice under §14 UStG names the seller's VAT id. The legal note says why no VAT is charged.
 */
const TAX_CATEGORY: Readonly<Record<TaxCase, { code: 'S' | 'AE' | 'G'; exemptionCode: string | null }>> = {
  domestic: { code: 'S', exemptionCode: null },
  reverseCharge: { code: 'AE', exemptionCode: 'VATEX-EU-AE' },
  notTaxable: { code: 'G', exemptionCode: 'VATEX-EU-G' },
};

/**
 * Payment means (BT-81, UNTDID 4461): SEPA credit transfer needs the seller's IBAN (BR-61);
 * without one the means is "not defined" (1). A card or PayPal purchase was paid at once.
 */
function paymentMeansCode(method: PaymentMethod, hasIban: boolean): string {
  if (method === 'sepa') return '59';
  if (method === 'card') return '54';
  if (method === 'paypal') return '68';
  return hasIban ? '58' : '1';
}

/** Text content of an element: the five XML specials escaped, characters XML 1.0 forbids dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Cents as a decimal amount with two places: 123456 -> "1234.56", -5 -> "-0.05". */
export function ciiAmount(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new CreditsError('INTERNAL', `amount ${cents} is not a count of cents`);
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** Basis points as a percentage: 1900 -> "19.00". */
function percent(basisPoints: number): string {
  return `${Math.floor(basisPoints / 100)}.${String(basisPoints % 100).padStart(2, '0')}`;
}

/** 'YYYY-MM-DD' -> CII date (format 102, YYYYMMDD). */
function ciiDate(dayKey: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dayKey)) throw new CreditsError('INTERNAL', `"${dayKey}" is not a date key`);
  return `<udt:DateTimeString format="102">${dayKey.replace(/-/g, '')}</udt:DateTimeString>`;
}

/** An element with escaped text, or nothing when the value is absent or blank. */
function element(name: string, value: string | null | undefined, attributes = ''): string {
  if (value === null || value === undefined || value.trim() === '') return '';
  return `<${name}${attributes}>${xmlText(value)}</${name}>`;
}

type PostalAddress = { lines: string[]; postcode: string | null; city: string | null };

/**
 * Splits a free-text postal address ("Street 1\n12345 City") into CII's fields: the last line
 * that starts with a postcode gives postcode and city, the lines before it the street lines (at
 * most three; a fourth and later are joined onto the third). Without such a line the last line is
 * the city. A country named on a line after the postcode line is dropped: CountryID carries it.
 */
export function postalAddress(address: string): PostalAddress {
  const lines = address
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const postcodeLine = /^(?:[A-Z]{1,2}-)?(\d{4,5}|\d{3} ?\d{2}|\d{4} ?[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d)\s+(.+)$/;
  let index = -1;
  for (let candidate = lines.length - 1; candidate >= 0; candidate -= 1) {
    if (postcodeLine.test(lines[candidate]!)) {
      index = candidate;
      break;
    }
  }
  if (index === -1) {
    return { lines: foldStreetLines(lines.slice(0, -1)), postcode: null, city: lines.at(-1) ?? null };
  }
  const match = postcodeLine.exec(lines[index]!)!;
  return { lines: foldStreetLines(lines.slice(0, index)), postcode: match[1]!, city: match[2]! };
}

function foldStreetLines(lines: string[]): string[] {
  return lines.length <= 3 ? lines : [lines[0]!, lines[1]!, lines.slice(2).join(', ')];
}

function addressXml(address: string, country: string): string {
  const parts = postalAddress(address);
  const [one, two, three] = parts.lines;
  return [
    '<ram:PostalTradeAddress>',
    element('ram:PostcodeCode', parts.postcode),
    element('ram:LineOne', one),
    element('ram:LineTwo', two),
    element('ram:LineThree', three),
    element('ram:CityName', parts.city),
    element('ram:CountryID', country),
    '</ram:PostalTradeAddress>',
  ].join('');
}

function taxRegistration(id: string | null | undefined, scheme: 'VA' | 'FC'): string {
  if (!id) return '';
  return `<ram:SpecifiedTaxRegistration>${element('ram:ID', id, ` schemeID="${scheme}"`)}</ram:SpecifiedTaxRegistration>`;
}

/** BG-4 seller: name, contact (BG-6), address, electronic address (BT-34), VAT id and tax number. */
function sellerXml(data: EInvoiceData): string {
  const { seller } = data;
  const contact = seller.email
    ? `<ram:DefinedTradeContact>${element('ram:PersonName', seller.name)}<ram:EmailURIUniversalCommunication>${element('ram:URIID', seller.email)}</ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>`
    : '';
  const electronicAddress = seller.email
    ? `<ram:URIUniversalCommunication>${element('ram:URIID', seller.email, ' schemeID="EM"')}</ram:URIUniversalCommunication>`
    : '';
  return [
    '<ram:SellerTradeParty>',
    element('ram:Name', seller.name),
    contact,
    addressXml(seller.address, data.sellerCountry),
    electronicAddress,
    taxRegistration(seller.vatId, 'VA'),
    taxRegistration(seller.taxNumber, 'FC'),
    '</ram:SellerTradeParty>',
  ].join('');
}

/** BG-7 buyer: name, address, VAT id (BT-48) when it has one. */
function buyerXml(data: EInvoiceData): string {
  return [
    '<ram:BuyerTradeParty>',
    element('ram:Name', data.buyer.name),
    addressXml(data.buyer.address, data.buyerCountry),
    taxRegistration(data.buyer.vatId, 'VA'),
    '</ram:BuyerTradeParty>',
  ].join('');
}

/**
 * One invoice line (BG-25). The line's net amount is the stored one; when it does not divide by
 * the quantity, the price is given for the whole quantity (base quantity BT-149) so that
 * quantity x price / base quantity is exactly the line amount, never a rounded unit price. A
 * negative line (a cancellation) has a negative quantity: a net price is never negative (BR-27).
 */
function lineXml(data: EInvoiceData, index: number): string {
  const line = data.lines[index]!;
  const category = TAX_CATEGORY[data.taxCase];
  const count = Math.abs(line.quantity);
  const netCents = Math.abs(line.netCents);
  const quantity = line.netCents < 0 ? -count : count;
  const price =
    count > 0 && netCents % count === 0
      ? `<ram:ChargeAmount>${ciiAmount(netCents / count)}</ram:ChargeAmount>`
      : `<ram:ChargeAmount>${ciiAmount(netCents)}</ram:ChargeAmount><ram:BasisQuantity unitCode="C62">${count}</ram:BasisQuantity>`;
  return [
    '<ram:IncludedSupplyChainTradeLineItem>',
    `<ram:AssociatedDocumentLineDocument><ram:LineID>${index + 1}</ram:LineID></ram:AssociatedDocumentLineDocument>`,
    `<ram:SpecifiedTradeProduct>${element('ram:Name', line.description)}${element('ram:Description', line.detail)}</ram:SpecifiedTradeProduct>`,
    `<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>${price}</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>`,
    `<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">${quantity}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>`,
    '<ram:SpecifiedLineTradeSettlement>',
    `<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>${category.code}</ram:CategoryCode><ram:RateApplicablePercent>${percent(data.vatRateBasisPoints)}</ram:RateApplicablePercent></ram:ApplicableTradeTax>`,
    `<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>${ciiAmount(line.netCents)}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>`,
    '</ram:SpecifiedLineTradeSettlement>',
    '</ram:IncludedSupplyChainTradeLineItem>',
  ].join('');
}

/** BG-16 payment instructions: the means, and the provider's account for a transfer (BG-17). */
function paymentMeansXml(data: EInvoiceData): string {
  const { iban, bic, bankName } = data.seller;
  const code = paymentMeansCode(data.paymentMethod, Boolean(iban));
  const account =
    code === '58' && iban
      ? `<ram:PayeePartyCreditorFinancialAccount>${element('ram:IBANID', iban)}${element('ram:AccountName', data.seller.name)}</ram:PayeePartyCreditorFinancialAccount>${
          bic ? `<ram:PayeeSpecifiedCreditorFinancialInstitution>${element('ram:BICID', bic)}</ram:PayeeSpecifiedCreditorFinancialInstitution>` : ''
        }`
      : '';
  const information = code === '58' && bankName ? element('ram:Information', bankName) : '';
  return `<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>${code}</ram:TypeCode>${information}${account}</ram:SpecifiedTradeSettlementPaymentMeans>`;
}

/** BG-23 VAT breakdown: one category, with the stored net as basis and the stored VAT. */
function taxBreakdownXml(data: EInvoiceData): string {
  const category = TAX_CATEGORY[data.taxCase];
  const note = TAX_CASE_NOTES[data.taxCase];
  return [
    '<ram:ApplicableTradeTax>',
    `<ram:CalculatedAmount>${ciiAmount(data.vatCents)}</ram:CalculatedAmount>`,
    '<ram:TypeCode>VAT</ram:TypeCode>',
    category.exemptionCode ? element('ram:ExemptionReason', note) : '',
    `<ram:BasisAmount>${ciiAmount(data.netCents)}</ram:BasisAmount>`,
    `<ram:CategoryCode>${category.code}</ram:CategoryCode>`,
    element('ram:ExemptionReasonCode', category.exemptionCode),
    `<ram:RateApplicablePercent>${percent(data.vatRateBasisPoints)}</ram:RateApplicablePercent>`,
    '</ram:ApplicableTradeTax>',
  ].join('');
}

/** 'YYYY-MM-DD' -> '21.12.2026', as German text writes a date. */
function germanDay(dayKey: string): string {
  const [year, month, day] = dayKey.split('-');
  return `${day}.${month}.${year}`;
}

/** BT-20 in words (German, then English): paid on; debited on (SEPA); payable by. */
function paymentTermsText(data: EInvoiceData): string | null {
  if (data.paidDayKey) return `Bezahlt am ${germanDay(data.paidDayKey)} / Paid on ${data.paidDayKey}`;
  const debitDay = data.paymentMethod === 'sepa' ? (data.sepaDebit?.debitDayKey ?? data.dueDayKey) : undefined;
  if (debitDay) return `SEPA-Lastschrift am ${germanDay(debitDay)} / SEPA direct debit on ${debitDay}`;
  if (data.dueDayKey) return `Zahlbar bis ${germanDay(data.dueDayKey)} / Payable by ${data.dueDayKey}`;
  return data.paymentNote ?? null;
}

/** BT-20 payment terms, BT-9 due date and BT-89 mandate reference. */
function paymentTermsXml(data: EInvoiceData): string {
  const description = paymentTermsText(data);
  const due = !data.paidDayKey && data.dueDayKey ? `<ram:DueDateDateTime>${ciiDate(data.dueDayKey)}</ram:DueDateDateTime>` : '';
  const mandate = data.paymentMethod === 'sepa' ? element('ram:DirectDebitMandateID', data.sepaDebit?.mandateReference) : '';
  if (!description && !due && !mandate) return '';
  return `<ram:SpecifiedTradePaymentTerms>${element('ram:Description', description)}${due}${mandate}</ram:SpecifiedTradePaymentTerms>`;
}

/** BG-22 totals: the stored net, VAT and gross; a paid invoice shows the gross as prepaid and nothing due. */
function totalsXml(data: EInvoiceData): string {
  const prepaidCents = data.paidDayKey ? data.grossCents : 0;
  return [
    '<ram:SpecifiedTradeSettlementHeaderMonetarySummation>',
    `<ram:LineTotalAmount>${ciiAmount(data.netCents)}</ram:LineTotalAmount>`,
    `<ram:TaxBasisTotalAmount>${ciiAmount(data.netCents)}</ram:TaxBasisTotalAmount>`,
    `<ram:TaxTotalAmount currencyID="EUR">${ciiAmount(data.vatCents)}</ram:TaxTotalAmount>`,
    `<ram:GrandTotalAmount>${ciiAmount(data.grossCents)}</ram:GrandTotalAmount>`,
    prepaidCents > 0 ? `<ram:TotalPrepaidAmount>${ciiAmount(prepaidCents)}</ram:TotalPrepaidAmount>` : '',
    `<ram:DuePayableAmount>${ciiAmount(data.grossCents - prepaidCents)}</ram:DuePayableAmount>`,
    '</ram:SpecifiedTradeSettlementHeaderMonetarySummation>',
  ].join('');
}

/** BT-25/26: the invoice a cancellation invoice cancels. */
function precedingInvoiceXml(data: EInvoiceData): string {
  const original = data.cancellation;
  if (!original) return '';
  const issued = `<ram:FormattedIssueDateTime><qdt:DateTimeString format="102">${original.originalDayKey.replace(/-/g, '')}</qdt:DateTimeString></ram:FormattedIssueDateTime>`;
  return `<ram:InvoiceReferencedDocument>${element('ram:IssuerAssignedID', original.originalNumber)}${issued}</ram:InvoiceReferencedDocument>`;
}

/** The notes (BT-22): what a cancellation cancels and why, the tax case's legal note (subject TXD), further notes. */
function notesXml(data: EInvoiceData): string[] {
  const original = data.cancellation;
  const taxNote = TAX_CASE_NOTES[data.taxCase];
  const notes: Array<{ text: string; subject?: string }> = [];
  if (original) {
    const day = germanDay(original.originalDayKey);
    notes.push({
      text: `Stornorechnung zur Rechnung ${original.originalNumber} vom ${day}: ${original.reason} / Cancellation of invoice ${original.originalNumber} of ${original.originalDayKey}: ${original.reason}`,
    });
  }
  if (taxNote) notes.push({ text: taxNote, subject: 'TXD' });
  for (const text of data.notes ?? []) notes.push({ text });
  return notes.map(
    ({ text, subject }) =>
      `<ram:IncludedNote>${element('ram:Content', text)}${subject ? `<ram:SubjectCode>${subject}</ram:SubjectCode>` : ''}</ram:IncludedNote>`,
  );
}

function settlementXml(data: EInvoiceData): string {
  return [
    '<ram:ApplicableHeaderTradeSettlement>',
    data.paymentMethod === 'sepa' ? element('ram:CreditorReferenceID', data.sepaDebit?.creditorId) : '',
    element('ram:PaymentReference', data.invoiceNumber),
    '<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>',
    paymentMeansXml(data),
    taxBreakdownXml(data),
    paymentTermsXml(data),
    totalsXml(data),
    precedingInvoiceXml(data),
    '</ram:ApplicableHeaderTradeSettlement>',
  ].join('');
}

/** The same sums the PDF checks: a file whose totals do not add up is never written. */
function checkTotals(data: EInvoiceData): void {
  const linesNet = data.lines.reduce((sum, line) => sum + line.netCents, 0);
  const untaxed = data.taxCase !== 'domestic' && (data.vatCents !== 0 || data.vatRateBasisPoints !== 0);
  if (data.lines.length === 0 || linesNet !== data.netCents || data.netCents + data.vatCents !== data.grossCents || untaxed) {
    throw new CreditsError(
      'INTERNAL',
      `invoice ${data.invoiceNumber} does not add up: lines ${linesNet}, net ${data.netCents} + VAT ${data.vatCents} vs gross ${data.grossCents} (cents)`,
    );
  }
}

/** The invoice as a CII XML document (UTF-8 text, one line per top-level block). */
export function invoiceCiiXml(data: EInvoiceData): string {
  checkTotals(data);
  const header = [
    '<rsm:ExchangedDocumentContext>',
    '<ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>',
    `<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>${CII_GUIDELINE_ID}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>`,
    '</rsm:ExchangedDocumentContext>',
    '<rsm:ExchangedDocument>',
    element('ram:ID', data.invoiceNumber),
    '<ram:TypeCode>380</ram:TypeCode>',
    `<ram:IssueDateTime>${ciiDate(data.invoiceDayKey)}</ram:IssueDateTime>`,
    ...notesXml(data),
    '</rsm:ExchangedDocument>',
  ];
  const agreement = [
    '<ram:ApplicableHeaderTradeAgreement>',
    element('ram:BuyerReference', data.buyer.leitwegId),
    sellerXml(data),
    buyerXml(data),
    data.purchaseReference
      ? `<ram:SellerOrderReferencedDocument>${element('ram:IssuerAssignedID', data.purchaseReference)}</ram:SellerOrderReferencedDocument>`
      : '',
    '</ram:ApplicableHeaderTradeAgreement>',
  ];
  const delivery = `<ram:ApplicableHeaderTradeDelivery><ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>${ciiDate(data.supplyDayKey)}</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent></ram:ApplicableHeaderTradeDelivery>`;
  const transaction = [
    '<rsm:SupplyChainTradeTransaction>',
    ...data.lines.map((_, index) => lineXml(data, index)),
    agreement.join(''),
    delivery,
    settlementXml(data),
    '</rsm:SupplyChainTradeTransaction>',
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<rsm:CrossIndustryInvoice ${NAMESPACES}>`,
    ...header,
    ...transaction,
    '</rsm:CrossIndustryInvoice>',
    '',
  ].join('\n');
}
