import { parseBic, parseCreditorId, parseIban } from '../../core/bankDetails.js';
import { CreditsError } from '../../core/errors.js';
import { parseEmail, parseFreeText } from '../../core/names.js';
import { parseOrgName, parseVatRate } from '../../core/org.js';
import { providerCountry, type ProviderSettings } from '../../core/provider.js';
import { parseVatId } from '../../core/vatId.js';
import { setProviderSettings } from '../../store/ops/organisation.js';
import { readSettings } from '../../store/orgRepo.js';
import type { Context } from '../context.js';
import { stringOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';

/** What `provider set` was given, as typed: each is checked before anything is written. */
export type ProviderSetRequest = MutatingRequest & { [K in keyof ProviderSettings]: string | undefined } & { vatRate: string | undefined };

/** The provider as shown: its settings, its country and the domestic VAT rate. */
export type ProviderView = ProviderSettings & { country: string; vatRateBasisPoints: number };

const FLAGS: Record<keyof ProviderSettings, string> = {
  name: '--name',
  address: '--address',
  vatId: '--vat-id',
  taxNumber: '--tax-number',
  iban: '--iban',
  bic: '--bic',
  bankName: '--bank-name',
  email: '--email',
  creditorId: '--creditor-id',
  paymentTermDays: '--payment-days',
};

/** The payment term: 0 (due at once) to 120 days. */
function parsePaymentDays(text: string): string {
  const days = text.trim();
  if (!/^\d{1,3}$/.test(days) || Number(days) > 120) {
    throw new CreditsError('INVALID_VALUE', `--payment-days "${text}" is not a payment term`, {
      hint: '--payment-days takes whole days from 0 to 120, like 14',
    });
  }
  return String(Number(days));
}

/** Each given flag checked and normalised; '' clears an optional one. */
function providerChanges(input: ProviderSetRequest): Partial<Record<keyof ProviderSettings, string>> {
  const changes: Partial<Record<keyof ProviderSettings, string>> = {};
  const optional = (value: string, parse: (text: string) => string): string => (value.trim() === '' ? '' : parse(value));
  if (input.name !== undefined) changes.name = parseOrgName(input.name, '--name');
  if (input.address !== undefined) changes.address = parseFreeText(input.address.replace(/\\n/g, '\n').trim(), '--address', 300);
  if (input.vatId !== undefined) changes.vatId = parseVatId(input.vatId, '--vat-id');
  if (input.taxNumber !== undefined) {
    changes.taxNumber = optional(input.taxNumber, (text) => {
      if (!/^[0-9][0-9 /]{6,18}[0-9]$/.test(text.trim())) {
        throw new CreditsError('INVALID_VALUE', `--tax-number "${text}" is not a German tax number (Steuernummer)`, {
          hint: '--tax-number takes 8-20 digits with / or spaces as the tax office wrote it, like 143/123/45678',
        });
      }
      return text.trim();
    });
  }
  if (input.iban !== undefined) changes.iban = optional(input.iban, (text) => parseIban(text, '--iban'));
  if (input.bic !== undefined) changes.bic = optional(input.bic, (text) => parseBic(text, '--bic'));
  if (input.bankName !== undefined) changes.bankName = optional(input.bankName, (text) => parseFreeText(text.trim(), '--bank-name', 100));
  if (input.email !== undefined) changes.email = optional(input.email, (text) => parseEmail(text, '--email'));
  if (input.creditorId !== undefined) changes.creditorId = optional(input.creditorId, (text) => parseCreditorId(text, '--creditor-id'));
  if (input.paymentTermDays !== undefined) changes.paymentTermDays = optional(input.paymentTermDays, parsePaymentDays);
  return changes;
}

/** The provider an invoice needs (name, address, VAT id), and bank details only with an IBAN. */
function checkComplete(provider: ProviderSettings): void {
  const missing = (['name', 'address', 'vatId'] as const).filter((key) => provider[key].trim() === '').map((key) => FLAGS[key]);
  if (missing.length > 0) {
    throw new CreditsError('MISSING_FLAG', `the provider needs ${missing.join(', ')}`, {
      hint: 'credits provider set --name "AI Credits GmbH" --address "Hauptstr. 1\\n10115 Berlin" --vat-id DE123456789',
    });
  }
  if (provider.iban === '' && (provider.bic !== '' || provider.bankName !== '')) {
    throw new CreditsError('MISSING_FLAG', '--bic and --bank-name belong to an account: --iban is required with them', {
      hint: 'for example --iban "DE89 3704 0044 0532 0130 00" --bic COBADEFFXXX --bank-name "Commerzbank"',
    });
  }
}

async function providerView(context: Context, provider: ProviderSettings | null): Promise<{ provider: ProviderView | null }> {
  const settings = await context.settings();
  if (provider === null) return { provider: null };
  return { provider: { ...provider, country: providerCountry(provider), vatRateBasisPoints: settings.vatRateBasisPoints } };
}

const EMPTY_PROVIDER: ProviderSettings = {
  name: '',
  address: '',
  vatId: '',
  taxNumber: '',
  iban: '',
  bic: '',
  bankName: '',
  email: '',
  creditorId: '',
  paymentTermDays: '',
};

export const providerCommands: CommandSpec[] = [
  defineCommand({
    name: 'provider',
    summary: 'show the provider: who sells the credits, the seller on every invoice',
    ledger: 'existing',
    examples: ['credits provider', 'credits provider --json'],
    request: () => ({}),
    async run(_request, context) {
      return { view: 'provider', data: await providerView(context, await context.provider()) };
    },
  }),
  defineCommand({
    name: 'provider set',
    summary: 'name the provider (the seller on invoices): name, address, VAT id, tax number, bank account, email, VAT rate',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--name <name>', description: "the provider's legal name" },
      { flags: '--address <text>', description: 'postal address (use \\n for new lines)' },
      { flags: '--vat-id <id>', description: 'EU VAT id (USt-IdNr.), like DE123456789; spaces and dots are dropped' },
      { flags: '--tax-number <number>', description: 'Steuernummer, like 143/123/45678 ("" clears it)' },
      { flags: '--iban <iban>', description: 'account for invoice payments, checked by mod 97 ("" clears it)' },
      { flags: '--bic <bic>', description: 'BIC of that account, like COBADEFFXXX' },
      { flags: '--bank-name <name>', description: 'name of the bank' },
      { flags: '--email <address>', description: 'billing contact printed on invoices' },
      { flags: '--creditor-id <id>', description: 'SEPA creditor identifier (Gläubiger-ID) printed with the mandate on SEPA invoices ("" clears it)' },
      { flags: '--payment-days <days>', description: 'payment term of new invoices: the due date is the invoice date plus this', defaultValue: '14' },
      { flags: '--vat-rate <percent>', description: 'domestic VAT rate in percent for new invoices', defaultValue: '19' },
    ],
    examples: [
      'credits provider set --name "AI Credits GmbH" --address "Hauptstr. 1\\n10115 Berlin" --vat-id "DE 123 456 789"',
      'credits provider set --iban "DE89 3704 0044 0532 0130 00" --bic COBADEFFXXX --bank-name Commerzbank',
      'credits provider set --vat-rate 19',
      'credits provider set --payment-days 30 --creditor-id DE98ZZZ09999999999',
    ],
    request: (input): ProviderSetRequest => ({
      ...mutatingRequest(input),
      name: stringOption(input, 'name'),
      address: stringOption(input, 'address'),
      vatId: stringOption(input, 'vatId'),
      taxNumber: stringOption(input, 'taxNumber'),
      iban: stringOption(input, 'iban'),
      bic: stringOption(input, 'bic'),
      bankName: stringOption(input, 'bankName'),
      email: stringOption(input, 'email'),
      creditorId: stringOption(input, 'creditorId'),
      paymentTermDays: stringOption(input, 'paymentDays'),
      vatRate: stringOption(input, 'vatRate'),
    }),
    async run(input, context) {
      await context.settings();
      const changes = providerChanges(input);
      const vatRate = input.vatRate === undefined ? undefined : String(parseVatRate(input.vatRate, '--vat-rate'));
      if (Object.keys(changes).length === 0 && vatRate === undefined) {
        throw new CreditsError('MISSING_FLAG', `provider set needs at least one of ${[...Object.values(FLAGS), '--vat-rate'].join(', ')}`, {
          hint: 'credits provider set --name "AI Credits GmbH" --address "Hauptstr. 1\\n10115 Berlin" --vat-id DE123456789',
        });
      }
      const db = await context.db();
      const before = await context.provider();
      const after = { ...(before ?? EMPTY_PROVIDER), ...changes };
      // A rate alone may be set before the provider is named; any detail makes it a whole provider.
      if (Object.keys(changes).length > 0) checkComplete(after);
      const result = await setProviderSettings(db, context.mutation(input, { ...changes, vatRate }), changes, vatRate);
      const shown = result.dryRun ? (Object.keys(changes).length > 0 ? after : before) : (await readSettings(db)).provider;
      const view = await providerView(context, shown);
      if (view.provider && vatRate !== undefined) view.provider.vatRateBasisPoints = Number(vatRate);
      return { view: 'provider', data: { ...result, ...view } };
    },
  }),
];
