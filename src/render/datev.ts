import type { DatevFileData } from '../app/documentTypes.js';
import type { DatevBooking } from '../core/datev.js';

/**
 * The DATEV-Format "Buchungsstapel" as DATEV describes it (developer.datev.de, DATEV-Format,
 * header version 700, category 21, format version 13): a header record, the line of the 125
 * column names, then one line per booking. Fields are separated by semicolons and lines end in
 * CR LF; text fields are in double quotes (a quote doubled), numbers and dates are not; amounts
 * have a decimal comma and no thousands separator. The file is Windows-1252 (ANSI), the encoding
 * DATEV reads: a character it cannot hold becomes "?".
 */

const BELEGINFO = Array.from({ length: 8 }, (_, index) => [`Beleginfo - Art ${index + 1}`, `Beleginfo - Inhalt ${index + 1}`]).flat();
const ZUSATZINFO = Array.from({ length: 20 }, (_, index) => [`Zusatzinformation - Art ${index + 1}`, `Zusatzinformation - Inhalt ${index + 1}`]).flat();

/** The 125 columns of format version 13, in order. */
export const DATEV_COLUMNS: readonly string[] = [
  'Umsatz (ohne Soll/Haben-Kz)',
  'Soll/Haben-Kennzeichen',
  'WKZ Umsatz',
  'Kurs',
  'Basis-Umsatz',
  'WKZ Basis-Umsatz',
  'Konto',
  'Gegenkonto (ohne BU-Schlüssel)',
  'BU-Schlüssel',
  'Belegdatum',
  'Belegfeld 1',
  'Belegfeld 2',
  'Skonto',
  'Buchungstext',
  'Postensperre',
  'Diverse Adressnummer',
  'Geschäftspartnerbank',
  'Sachverhalt',
  'Zinssperre',
  'Beleglink',
  ...BELEGINFO,
  'KOST1 - Kostenstelle',
  'KOST2 - Kostenstelle',
  'Kost-Menge',
  'EU-Land u. UStID (Bestimmung)',
  'EU-Steuersatz (Bestimmung)',
  'Abw. Versteuerungsart',
  'Sachverhalt L+L',
  'Funktionsergänzung L+L',
  'BU 49 Hauptfunktionstyp',
  'BU 49 Hauptfunktionsnummer',
  'BU 49 Funktionsergänzung',
  ...ZUSATZINFO,
  'Stück',
  'Gewicht',
  'Zahlweise',
  'Forderungsart',
  'Veranlagungsjahr',
  'Zugeordnete Fälligkeit',
  'Skontotyp',
  'Auftragsnummer',
  'Buchungstyp',
  'USt-Schlüssel (Anzahlungen)',
  'EU-Mitgliedstaat (Anzahlungen)',
  'Sachverhalt L+L (Anzahlungen)',
  'EU-Steuersatz (Anzahlungen)',
  'Erlöskonto (Anzahlungen)',
  'Herkunft-Kz',
  'Buchungs GUID',
  'KOST-Datum',
  'SEPA-Mandatsreferenz',
  'Skontosperre',
  'Gesellschaftername',
  'Beteiligtennummer',
  'Identifikationsnummer',
  'Zeichnernummer',
  'Postensperre bis',
  'Bezeichnung SoBil-Sachverhalt',
  'Kennzeichen SoBil-Buchung',
  'Festschreibung',
  'Leistungsdatum',
  'Datum Zuord. Steuerperiode',
  'Fälligkeit',
  'Generalumkehr (GU)',
  'Steuersatz',
  'Land',
  'Abrechnungsreferenz',
  'BVV-Position',
  'EU-Mitgliedstaat u. UStID (Ursprung)',
  'EU-Steuersatz (Ursprung)',
  'Abw. Skontokonto',
];

/** A text field: quoted, a quote doubled, line breaks and other control characters as spaces. */
function text(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/"/g, '""')}"`;
}

/** 123456 cents -> 1234,56 (decimal comma, no thousands separator). */
export function datevAmount(cents: number): string {
  return `${Math.trunc(cents / 100)},${String(cents % 100).padStart(2, '0')}`;
}

/** YYYY-MM-DD -> YYYYMMDD. */
const compactDate = (dayKey: string): string => dayKey.replaceAll('-', '');

/** The header record (Vorlaufsatz): 31 fields. */
function headerRecord(data: DatevFileData): string[] {
  return [
    text('EXTF'), // DATEV-Format-KZ: a file made by another program than DATEV's
    '700', // header version
    '21', // data category: Buchungsstapel
    text('Buchungsstapel'),
    '13', // format version
    data.createdAt,
    '', // imported (DATEV fills it)
    text('CR'), // origin (Herkunft), two letters
    text('credits'), // exported by
    text(''), // imported by
    String(data.consultantNumber),
    String(data.clientNumber),
    data.fiscalYearStart,
    String(data.accountLength),
    compactDate(data.fromDayKey),
    compactDate(data.toDayKey),
    text(data.description.slice(0, 30)),
    text(''), // Diktatkürzel
    '1', // Buchungstyp: Finanzbuchführung
    '0', // Rechnungslegungszweck: independent of it
    '0', // Festschreibung: not locked, so that the accountant reviews the batch before locking it
    text('EUR'),
    '',
    text(''), // Derivatskennzeichen
    '',
    '',
    text(''), // Sachkontenrahmen: left to the client's master data
    '', // ID der Branchenlösung
    '',
    text(''),
    text(''), // Anwendungsinformation
  ];
}

/** One booking as its 125 fields. */
function bookingRecord(booking: DatevBooking): string[] {
  const fields = new Array<string>(DATEV_COLUMNS.length).fill('');
  const [, month, day] = booking.dayKey.split('-') as [string, string, string];
  fields[0] = datevAmount(booking.amountCents);
  fields[1] = text(booking.debitCredit);
  fields[2] = text('EUR');
  fields[6] = booking.account;
  fields[7] = booking.contraAccount;
  fields[8] = text(booking.taxKey);
  fields[9] = `${day}${month}`; // Belegdatum TTMM: the year is the header's
  fields[10] = text(booking.voucher);
  fields[13] = text(booking.text);
  fields[DATEV_COLUMNS.indexOf('KOST1 - Kostenstelle')] = text(booking.costCentre);
  fields[DATEV_COLUMNS.indexOf('Festschreibung')] = '0';
  return fields;
}

/** The characters of Windows-1252 at 0x80-0x9F; the rest of 0x00-0xFF are Latin-1's own. */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const CP1252_BYTE = new Map([...CP1252_HIGH].map((char, index) => [char, 0x80 + index]));

/** Text as Windows-1252 bytes; a character outside it becomes "?". */
export function encodeWindows1252(value: string): Uint8Array {
  const chars = [...value.normalize('NFC')];
  const bytes = new Uint8Array(chars.length);
  chars.forEach((char, index) => {
    const code = char.codePointAt(0) ?? 0x3f;
    const high = CP1252_BYTE.get(char);
    bytes[index] = high ?? (code < 0x80 || (code >= 0xa0 && code <= 0xff) ? code : 0x3f);
  });
  return bytes;
}

export function datevExtfText(data: DatevFileData): string {
  const lines = [headerRecord(data).join(';'), DATEV_COLUMNS.join(';'), ...data.bookings.map((booking) => bookingRecord(booking).join(';'))];
  return `${lines.join('\r\n')}\r\n`;
}

export function datevExtfBytes(data: DatevFileData): Uint8Array {
  return encodeWindows1252(datevExtfText(data));
}
