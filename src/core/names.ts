import { CreditsError } from './errors.js';

export const RESERVED_ACCOUNT_NAMES = ['org', 'world'];
// Quotes as \u0022 and \u0027: scripts/build.mjs looks for import( outside string literals, and
// a bare quote in a regex literal reads to it as the start of a string.
const DEPARTMENT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._&\u0027-]{0,63}$/u;
const EMAIL = /^[^\s@\u0022\u0027<>(),;:\\]+@[^\s@\u0022\u0027<>(),;:\\]+\.[^\s@\u0022\u0027<>(),;:\\.]{2,}$/u;
const COST_CENTER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$/;

/**
 * Terminal control characters: C0 (ESC, backspace, CR...), DEL and C1 (CSI). Typed into a name
 * or a reason they would rewrite what a later reader's terminal shows, so input refuses them
 * and the renderer strips them from anything it prints.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/u;
/** The same, except the line feed and tab that multi-line text (an address) may hold. */
export const CONTROL_CHARACTERS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;

/** Refuses text with terminal control characters, naming the field. */
export function refuseControlCharacters(
  text: string,
  field: string,
  options: { multiLine?: boolean; code?: 'INVALID_VALUE' | 'INVALID_NAME' | 'INVALID_EMAIL' } = {},
): void {
  if ((options.multiLine ? CONTROL_CHARACTERS_BUT_LINES : CONTROL_CHARACTERS).test(text)) {
    throw new CreditsError(
      options.code ?? 'INVALID_VALUE',
      `${field === '' ? 'the answer' : field} contains a control character (like ESC, backspace or carriage return)`,
      {
        hint: 'type plain text: control characters would change what a terminal shows',
      },
    );
  }
}

/**
 * The one form in which department names (and emails, see emailKey) are compared and kept
 * unique: stored as `name_key`/`email_key` and used by every lookup, so SQL and JavaScript can
 * never disagree about which spellings are the same name.
 *
 * NFKC rather than only NFC: a person reads fullwidth `Ｓａｌｅｓ`, the ligature `ﬁ` or a
 * superscript digit as the same name as `Sales`, `fi` and `2`; with NFC alone they would be
 * different departments that look alike, and a token bound to one could be shown the other.
 * Case folding is full folding (ß -> ss, not only ASCII like SQLite's NOCASE), approximated in
 * JavaScript by upper- then lower-casing, with NFKC again because case mapping may denormalise.
 * Surrounding white space goes and inner runs become one space, as a person would read them.
 */
export function nameKey(text: string): string {
  const folded = text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  return folded.trim().replace(/\s+/gu, ' ');
}

/** Emails compare the same way as department names. */
export const emailKey = nameKey;

/** `--to "x"`, or just `"x"` for a prompt's answer (field ''), where no flag was typed. */
export function subjectOf(field: string, text: string): string {
  return field === '' ? `"${text}"` : `${field} "${text}"`;
}

export function parseDepartmentName(text: string, field = 'NAME'): string {
  // The pattern admits no control character; the message is stripped of them when printed.
  const name = text.trim().normalize('NFC');
  if (!DEPARTMENT_NAME.test(name)) {
    throw new CreditsError('INVALID_NAME', `${subjectOf(field, text)} is not a department name`, {
      hint: "use 1-64 letters, digits, spaces or . _ & ' -, starting with a letter or digit",
    });
  }
  if (RESERVED_ACCOUNT_NAMES.includes(nameKey(name))) {
    throw new CreditsError('INVALID_NAME', `${subjectOf(field, name)} is reserved for the ledger's own accounts`, { hint: 'choose another department name' });
  }
  return name;
}

export function parseEmail(text: string, field = 'EMAIL'): string {
  refuseControlCharacters(text, field, { code: 'INVALID_EMAIL' });
  const email = text.trim();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new CreditsError('INVALID_EMAIL', `${subjectOf(field, text)} is not an email address`, { hint: 'use an address like ada@example.com' });
  }
  return email.toLowerCase();
}

export function parseCostCenter(text: string, field = '--cost-center'): string {
  const code = text.trim();
  if (!COST_CENTER.test(code)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a cost centre code`, { hint: 'use 1-32 letters, digits or . _ / -, like CC-4711' });
  }
  return code;
}

export function parseFreeText(text: string, field: string, maxLength = 500): string {
  const value = text.normalize('NFC');
  refuseControlCharacters(value, field, { multiLine: true });
  if (value.length > maxLength) {
    throw new CreditsError('INVALID_VALUE', `${field} must be at most ${maxLength} characters of plain text`);
  }
  return value;
}
