import type { EInvoiceData } from '../../app/einvoiceTypes.js';
import type { Doc, DocumentVariant } from '../pdf/document.js';
import { invoicePdfBytes } from '../pdf/invoice.js';
import { invoiceCiiXml, xmlText } from './cii.js';

/**
 * The invoice PDF as a Factur-X / ZUGFeRD 2 hybrid: PDF/A-3b (fonts embedded, sRGB output intent,
 * XMP metadata; pdfkit's `subset` option does those) with the CII XML embedded as factur-x.xml
 * and the Factur-X XMP extension naming it. Profile EN 16931, the one that matches the XML's
 * guideline id. The embedded bytes are exactly the `--format xrechnung` file's.
 */
export const FACTURX_FILE_NAME = 'factur-x.xml';
const FX_NAMESPACE = 'urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#';

/** The four Factur-X properties, described as PDF/A demands of any XMP schema it does not know. */
const FX_PROPERTIES: ReadonlyArray<[name: string, description: string]> = [
  ['DocumentFileName', 'The name of the embedded XML document'],
  ['DocumentType', 'The type of the hybrid document in capital letters, e.g. INVOICE or ORDER'],
  ['Version', 'The actual version of the standard applying to the embedded XML document'],
  ['ConformanceLevel', 'The conformance level of the embedded XML document'],
];

function facturXXmp(): string {
  const properties = FX_PROPERTIES.map(
    ([name, description]) =>
      `<rdf:li rdf:parseType="Resource"><pdfaProperty:name>${name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>${description}</pdfaProperty:description></rdf:li>`,
  ).join('\n');
  return `
        <rdf:Description rdf:about="" xmlns:fx="${FX_NAMESPACE}">
            <fx:DocumentType>INVOICE</fx:DocumentType>
            <fx:DocumentFileName>${FACTURX_FILE_NAME}</fx:DocumentFileName>
            <fx:Version>1.0</fx:Version>
            <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>
        </rdf:Description>
        <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
            <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
                <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
                <pdfaSchema:namespaceURI>${FX_NAMESPACE}</pdfaSchema:namespaceURI>
                <pdfaSchema:prefix>fx</pdfaSchema:prefix>
                <pdfaSchema:property><rdf:Seq>
${properties}
                </rdf:Seq></pdfaSchema:property>
            </rdf:li></rdf:Bag></pdfaExtension:schemas>
        </rdf:Description>
        `;
}

type InfoDoc = Doc & { _addInfo(): void; info: Record<string, unknown> };

/**
 * pdfkit copies the document info (title, author = the seller's name, subject) into the XMP
 * without escaping it, so a seller named "Müller & Söhne" would make the metadata invalid XML,
 * which PDF/A forbids. The info dictionary has been written by then; for the XMP only, its text is
 * escaped. (pdfkit 0.20's private `_addInfo`, called once from `end()`.)
 */
function escapeInfoInXmp(doc: Doc): void {
  const infoDoc = doc as InfoDoc;
  const addInfo = infoDoc._addInfo;
  infoDoc._addInfo = function addEscapedInfo(this: InfoDoc) {
    const raw = this.info;
    this.info = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, typeof value === 'string' ? xmlText(value) : value]));
    try {
      addInfo.call(this);
    } finally {
      this.info = raw;
    }
  };
}

/** Embeds the XML (relationship Alternative: the XML is the invoice's other form, as ZUGFeRD asks in Germany). */
function embedInvoiceXml(doc: Doc, xml: Uint8Array, dayKey: string): void {
  const day = new Date(`${dayKey}T00:00:00Z`);
  const options = {
    name: FACTURX_FILE_NAME,
    type: 'text/xml',
    description: 'Factur-X/ZUGFeRD invoice (EN 16931, UN/CEFACT CII)',
    relationship: 'Alternative',
    creationDate: day,
    modifiedDate: day,
  };
  doc.file(Buffer.from(xml), options as PDFKit.Mixins.PDFAttachmentOptions);
}

export function facturXVariant(xml: Uint8Array, dayKey: string): DocumentVariant {
  return {
    options: { pdfVersion: '1.7', subset: 'PDF/A-3b' },
    beforeEnd(doc) {
      embedInvoiceXml(doc, xml, dayKey);
      doc.appendXML(facturXXmp());
      escapeInfoInXmp(doc);
    },
  };
}

/** The Factur-X PDF of an invoice: its PDF, as PDF/A-3b, with its CII XML inside. */
export async function invoiceFacturXPdfBytes(data: EInvoiceData): Promise<Uint8Array> {
  const xml = Buffer.from(invoiceCiiXml(data), 'utf8');
  return invoicePdfBytes(data, facturXVariant(xml, data.invoiceDayKey));
}
