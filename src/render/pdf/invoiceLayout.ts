import { groupThousands } from '../../core/amountText.js';
import { normaliseVatId, vatIdCountry } from '../../core/vatId.js';
import type { InvoiceData } from '../../app/documentTypes.js';
import { FONT, textAt, type Doc, type FontName } from './document.js';
import { germanDate } from './labels.js';

/**
 * How an invoice writes numbers and dates, and how it sets a label beside an amount without the
 * two ever touching. The rule for the formats: a seller in Germany or Austria (by its VAT id, or
 * with none: the product's home) issues a German invoice, `1.011,50 €` and `07.12.2026`; any
 * other seller an English one, `€1,011.50` and `2026-12-07`. One invoice uses one style for
 * every amount and date on it, the paid and due dates included.
 */
export type InvoiceFormat = {
  german: boolean;
  euros(cents: number): string;
  date(dayKey: string): string;
  count(value: number): string;
  rate(basisPoints: number): string;
  vatId(vatId: string): string;
};

const GERMAN_SELLER_COUNTRIES = new Set(['DE', 'AT']);

function germanEuros(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${groupThousands(Math.floor(absolute / 100)).replace(/,/g, '.')},${String(absolute % 100).padStart(2, '0')} €`;
}

function englishEuros(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}€${groupThousands(Math.floor(absolute / 100))}.${String(absolute % 100).padStart(2, '0')}`;
}

function rateText(basisPoints: number, german: boolean): string {
  const whole = (basisPoints / 100).toFixed(basisPoints % 100 === 0 ? 0 : basisPoints % 10 === 0 ? 1 : 2);
  return german ? `${whole.replace('.', ',')} %` : `${whole}%`;
}

export function invoiceFormat(data: InvoiceData): InvoiceFormat {
  const country = vatIdCountry(normaliseVatId(data.seller.vatId)) ?? 'DE';
  const german = GERMAN_SELLER_COUNTRIES.has(country);
  return {
    german,
    euros: german ? germanEuros : englishEuros,
    date: german ? germanDate : (dayKey) => dayKey,
    count: (value) => (german ? groupThousands(value).replace(/,/g, '.') : groupThousands(value)),
    rate: (basisPoints) => rateText(basisPoints, german),
    // A VAT id is printed as the tax office writes it: no spaces, dots or dashes (DE123456789).
    vatId: normaliseVatId,
  };
}

export type CellStyle = { font: FontName; size: number; color?: string };

/** The width of `text` in a style, as pdfkit will set it. */
export function measure(doc: Doc, text: string, style: CellStyle): number {
  return doc.font(style.font).fontSize(style.size).widthOfString(text);
}

/** The gap kept between a label and its amount. */
export const LABEL_GAP = 8;
/** Amounts shrink down to this size before anything is cut. */
const MIN_SIZE = 5.5;

/**
 * A label at `left` and its value flush right at `right`, on one line, measured: when both do
 * not fit, the value shrinks (never cut: an amount is read whole) down to MIN_SIZE, and the label
 * takes what is left (cut with an ellipsis only past that). Returns the value's size used.
 */
export function labelValue(
  doc: Doc,
  label: string,
  value: string,
  left: number,
  right: number,
  y: number,
  labelStyle: CellStyle,
  valueStyle: CellStyle,
): number {
  const width = right - left;
  let valueSize = valueStyle.size;
  const labelWidth = measure(doc, label, labelStyle);
  while (valueSize > MIN_SIZE && labelWidth + LABEL_GAP + measure(doc, value, { ...valueStyle, size: valueSize }) > width) valueSize -= 0.25;
  const valueWidth = measure(doc, value, { ...valueStyle, size: valueSize });
  textAt(doc, label, left, y + (valueStyle.size - labelStyle.size) * 0.5, { ...labelStyle, width: Math.max(1, width - valueWidth - LABEL_GAP) });
  textAt(doc, value, right - valueWidth, y + (valueStyle.size - valueSize) * 0.7, { ...valueStyle, size: valueSize });
  return valueSize;
}

/** The widest of several texts in a style. */
export function widest(doc: Doc, texts: string[], style: CellStyle): number {
  return Math.max(0, ...texts.map((text) => measure(doc, text, style)));
}

export const BOLD = FONT.bold;
export const REGULAR = FONT.regular;
