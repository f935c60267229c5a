import { CreditsError } from './errors.js';

export const RESERVED_ACCOUNT_NAMES = ['org', 'world'];
const DEPARTMENT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._&'-]{0,63}$/u;
const EMAIL = /^[^\s@"'<>(),;:\\]+@[^\s@"'<>(),;:\\]+\.[^\s@"'<>(),;:\\.]{2,}$/u;
const COST_CENTER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$/;

export function parseDepartmentName(text: string, field = 'NAME'): string {
  const name = text.trim().normalize('NFC');
  if (!DEPARTMENT_NAME.test(name)) {
    throw new CreditsError('INVALID_NAME', `${field} "${text}" is not a department name`, {
      hint: "use 1-64 letters, digits, spaces or . _ & ' -, starting with a letter or digit",
    });
  }
  if (RESERVED_ACCOUNT_NAMES.includes(name.toLowerCase())) {
    throw new CreditsError('INVALID_NAME', `${field} "${name}" is reserved for the ledger's own accounts`, { hint: 'choose another department name' });
  }
  return name;
}

export function parseEmail(text: string, field = 'EMAIL'): string {
  const email = text.trim();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new CreditsError('INVALID_EMAIL', `${field} "${text}" is not an email address`, { hint: 'use an address like ada@example.com' });
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
  if (value.length > maxLength || /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) {
    throw new CreditsError('INVALID_VALUE', `${field} must be at most ${maxLength} characters of plain text`);
  }
  return value;
}
