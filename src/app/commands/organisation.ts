import { nameKey, parseCostCenter, parseDepartmentName, parseEmail } from '../../core/names.js';
import { parseCountry, parseInvoicePrefix, parseMandateReference, parseOrgName, parseVatRate, type OrgSettings } from '../../core/org.js';
import { parseIban, parseLeitwegId } from '../../core/bankDetails.js';
import { parseVatId } from '../../core/vatId.js';
import {
  DATEV_DEFAULT_ACCOUNT_LENGTH,
  DATEV_FLAGS,
  parseAccountLength,
  parseAccountNumber,
  parseClientNumber,
  parseConsultantNumber,
  parseFiscalYearStartMonth,
} from '../../core/datev.js';
import { parseCreditsInput } from '../../core/amounts.js';
import { CreditsError } from '../../core/errors.js';
import { DEFAULT_TIME_ZONE, assertTimeZone } from '../../core/time.js';
import { addDepartment, addUser, initLedger, moveUser, setDepartment, setOrgSettings } from '../../store/ops/organisation.js';
import { currentBalances, withPercentLeft } from '../../store/ledgerQueries.js';
import { listAccounts, listUsers, readSettings, requireDepartment } from '../../store/orgRepo.js';
import { loadDemo } from '../../store/ops/demo.js';
import { parseFreeText } from '../../core/names.js';
import { stringOption, flagOption } from '../parse.js';
import type { Context } from '../context.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';
import { departmentOrScope, withinScope } from '../scopeDefaults.js';

/** "Engineering, Marketing" -> both names, each checked, none twice (names are unique by nameKey). */
function departmentList(text: string, already: string[]): string[] {
  const names: string[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const name = parseDepartmentName(part, '');
    if ([...already, ...names].some((other) => nameKey(other) === nameKey(name))) {
      throw new CreditsError('DUPLICATE', `department "${name}" is in the list already`);
    }
    names.push(name);
  }
  return names;
}

/** The first departments, as one comma-separated answer, one name at a time, or both; Enter ends. */
async function askFirstDepartments(context: Context): Promise<string[]> {
  const names: string[] = [];
  let message = 'First departments (comma-separated; Enter for none)';
  for (;;) {
    const answer = await context.text(message, { defaultValue: '', validate: (text) => departmentList(text, names) });
    const added = departmentList(answer, names);
    if (added.length === 0) return names;
    names.push(...added);
    message = `Another department (Enter to finish; so far ${names.join(', ')})`;
  }
}

/** smtp://user:secret@host -> smtp://user:***@host (text that is no URL is hidden whole). */
function withoutPassword(url: string): string {
  if (url === '') return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '***';
  }
}

/** What `init` was given: --org and --timezone checked; missing values are asked for on a terminal. */
export type InitRequest = MutatingRequest & { orgName: string | undefined; timeZone: string | undefined; demo: boolean };

/** What `org set` was given, as typed: each is checked once the ledger is known to exist. */
export type OrgSetRequest = MutatingRequest & {
  name: string | undefined;
  address: string | undefined;
  vatId: string | undefined;
  vatRate: string | undefined;
  timeZone: string | undefined;
  invoicePrefix: string | undefined;
  smtpUrl: string | undefined;
  country: string | undefined;
  leitwegId: string | undefined;
  datev: DatevFlags;
  sepaMandate: string | undefined;
  sepaIban: string | undefined;
};

/** The `--datev-*` flags of `org set`, as typed. */
type DatevFlags = {
  consultantNumber: string | undefined;
  clientNumber: string | undefined;
  accountLength: string | undefined;
  expenseAccount: string | undefined;
  clearingAccount: string | undefined;
  creditorAccount: string | undefined;
  fiscalYearStartMonth: string | undefined;
};

/**
 * The DATEV settings given, checked: account numbers against the account length given with them,
 * else the stored one; '' clears a setting.
 */
function datevChanges(flags: DatevFlags, stored: OrgSettings): Partial<Record<keyof OrgSettings, string>> {
  const changes: Partial<Record<keyof OrgSettings, string>> = {};
  const given = (text: string | undefined, parse: (text: string) => string): string | undefined =>
    text === undefined ? undefined : text.trim() === '' ? '' : parse(text);
  changes.datevAccountLength = given(flags.accountLength, (text) => String(parseAccountLength(text)));
  const lengthText = changes.datevAccountLength ?? stored.datevAccountLength;
  const accountLength = lengthText === '' ? DATEV_DEFAULT_ACCOUNT_LENGTH : Number(lengthText);
  changes.datevConsultantNumber = given(flags.consultantNumber, (text) => String(parseConsultantNumber(text)));
  changes.datevClientNumber = given(flags.clientNumber, (text) => String(parseClientNumber(text)));
  changes.datevExpenseAccount = given(flags.expenseAccount, (text) => parseAccountNumber(text, DATEV_FLAGS.expenseAccount, accountLength));
  changes.datevClearingAccount = given(flags.clearingAccount, (text) => parseAccountNumber(text, DATEV_FLAGS.clearingAccount, accountLength));
  changes.datevCreditorAccount = given(flags.creditorAccount, (text) => parseAccountNumber(text, DATEV_FLAGS.creditorAccount, accountLength, true));
  changes.datevFiscalYearStartMonth = given(flags.fiscalYearStartMonth, (text) => String(parseFiscalYearStartMonth(text)));
  for (const key of Object.keys(changes) as (keyof OrgSettings)[]) if (changes[key] === undefined) delete changes[key];
  return changes;
}

/** What `dept add` was given; a missing name is asked for on a terminal. */
export type DeptAddRequest = MutatingRequest & { name: string | undefined; costCenter: string | undefined };

/** What `dept set` was given, as typed: checked once the ledger is known to exist. */
export type DeptSetRequest = MutatingRequest & {
  name: string;
  costCenter: string | undefined;
  overdraftFrom: string | undefined;
  overdraftMax: string | undefined;
};

export type DeptShowRequest = { name: string };

/** What `user add` was given; missing values are asked for on a terminal. */
export type UserAddRequest = MutatingRequest & { email: string | undefined; department: string | undefined };

export type UserListRequest = { department: string | undefined };

/** What `user move` was given; a missing --dept is asked for on a terminal. */
export type UserMoveRequest = MutatingRequest & { email: string; department: string | undefined };

export const organisationCommands: CommandSpec[] = [
  defineCommand({
    name: 'init',
    summary: 'create a ledger (at --db, CREDITS_DB or ~/.local/share/credits/ledger.db)',
    ledger: 'create',
    options: [
      { flags: '--org <name>', description: 'organisation name', defaultValue: 'My Organisation' },
      { flags: '--timezone <tz>', description: 'IANA time zone for days and months', defaultValue: 'Europe/Berlin' },
      { flags: '--demo', description: 'fill the ledger with a sample organisation so you see the tool working at once' },
    ],
    examples: ['credits init --org "Acme GmbH" --timezone Europe/Berlin', 'credits init --demo && credits balance', 'credits --db ./team.db init'],
    request: (input): InitRequest => {
      const orgText = stringOption(input, 'org');
      const tzText = stringOption(input, 'timezone');
      const orgName = orgText === undefined ? undefined : parseOrgName(orgText);
      const timeZone = tzText === undefined ? undefined : assertTimeZone(tzText);
      return { ...mutatingRequest(input), orgName, timeZone, demo: flagOption(input, 'demo') };
    },
    async run(input, context) {
      let { orgName, timeZone } = input;
      const db = await context.db();
      const demo = input.demo;
      let departments: string[] = [];
      // On a terminal, a new ledger without --org or --timezone is set up by questions; an
      // existing ledger is left as it is without asking anything.
      if (context.canAsk && !demo && (orgName === undefined || timeZone === undefined) && !(await readSettings(db)).initialised) {
        orgName ??= parseOrgName(await context.text('Organisation name', { defaultValue: 'My Organisation', validate: (text) => parseOrgName(text) }));
        timeZone ??= assertTimeZone(
          await context.text('Time zone (IANA name)', { defaultValue: DEFAULT_TIME_ZONE, validate: (text) => assertTimeZone(text, '') }),
        );
        departments = await askFirstDepartments(context);
      }
      const result = await initLedger(db, context.mutation(input, { org: orgName ?? null, timezone: timeZone ?? null, demo }), {
        orgName: orgName ?? (demo ? 'Demo GmbH' : undefined),
        timeZone,
      });
      const key = input.idempotencyKey;
      if (result.created && !input.dryRun) {
        for (const name of departments) {
          // Each department is its own ledger change; a retried init with a key retries each of them too.
          await addDepartment(
            db,
            {
              ...context.mutation(input, { name, costCenter: null }),
              command: 'dept add',
              idempotencyKey: key === undefined ? undefined : `${key}/dept/${name.toLowerCase()}`,
            },
            { name, costCenter: null },
          );
        }
      }
      const demoSummary = demo && result.created ? await loadDemo(db, context.config.actor, context.nowMs, result.timeZone) : null;
      return { view: 'init', data: { ...result, departments: result.created ? departments : [], demo: demoSummary } };
    },
  }),
  defineCommand({
    name: 'org show',
    summary: 'show the organisation (the buyer on invoices): name, address, VAT id, country, time zone, invoice prefix',
    ledger: 'existing',
    examples: ['credits org show', 'credits org show --json'],
    request: () => ({}),
    async run(_request, context) {
      const settings = await context.settings();
      // The SMTP URL's password is for the one who runs notifications, not for every reader.
      const mayReadSecrets = context.scope === null && context.principal.role === 'admin';
      return { view: 'org', data: { organisation: mayReadSecrets ? settings : { ...settings, smtpUrl: withoutPassword(settings.smtpUrl) } } };
    },
  }),
  defineCommand({
    name: 'org set',
    summary: 'change organisation details: the buyer on invoices, and the settings of reports',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--name <name>', description: 'organisation name' },
      { flags: '--address <text>', description: 'postal address (use \\n for new lines)' },
      { flags: '--vat-id <id>', description: 'VAT id of the organisation (the buyer), like DE123456789; an EU id is checked, spaces and dots dropped' },
      {
        flags: '--country <code>',
        description: "the organisation's country (ISO 3166, like DE, AT, CH; default: its VAT id's): decides the invoices' tax case",
      },
      { flags: '--leitweg-id <id>', description: 'Leitweg-ID of a public-sector buyer, like 04011000-1234512345-06 ("" clears it)' },
      { flags: '--vat-rate <percent>', description: 'domestic VAT rate of new invoices, in percent (same as `provider set --vat-rate`)', defaultValue: '19' },
      { flags: '--timezone <tz>', description: 'IANA time zone for days and months' },
      { flags: '--invoice-prefix <prefix>', description: 'prefix of invoice numbers', defaultValue: 'INV-' },
      { flags: '--smtp-url <url>', description: 'SMTP server for email notifications, like smtp://user:pass@host:587' },
      { flags: '--datev-consultant-number <n>', description: 'DATEV Beraternummer (1001-9999999) for `statement --format datev`' },
      { flags: '--datev-client-number <n>', description: 'DATEV Mandantennummer (1-99999)' },
      { flags: '--datev-account-length <n>', description: 'DATEV Sachkontennummernlänge, 4-8 (default 4)' },
      { flags: '--datev-expense-account <n>', description: 'DATEV account the usage is booked to (Soll), like 4964' },
      { flags: '--datev-clearing-account <n>', description: 'DATEV clearing account of the credits bought and not yet used, like 1590' },
      {
        flags: '--datev-creditor-account <n>',
        description: "DATEV account of the provider's invoices (a creditor, one digit longer, or the bank), like 70001",
      },
      { flags: '--datev-fiscal-year-start <month>', description: 'month (1-12) the fiscal year starts in (default 1)' },
      { flags: '--sepa-mandate <reference>', description: 'reference of the SEPA mandate given to the provider, printed on SEPA invoices ("" clears it)' },
      { flags: '--sepa-iban <iban>', description: 'the account SEPA purchases are debited from, printed by its last digits ("" clears it)' },
    ],
    examples: [
      'credits org set --name "Acme GmbH" --vat-id DE123456789',
      'credits org set --sepa-mandate MANDATE-2026-001 --sepa-iban "DE02 1203 0000 0000 2020 51"',
      'credits org set --address "Hauptstr. 1\\n10115 Berlin"',
      'credits org set --vat-id ATU12345678 --country AT',
      'credits org set --leitweg-id 04011000-1234512345-06',
      'credits org set --datev-consultant-number 29098 --datev-client-number 55003 --datev-expense-account 4964 --datev-clearing-account 1590 --datev-creditor-account 70001',
    ],
    request: (input): OrgSetRequest => ({
      ...mutatingRequest(input),
      name: stringOption(input, 'name'),
      address: stringOption(input, 'address'),
      vatId: stringOption(input, 'vatId'),
      vatRate: stringOption(input, 'vatRate'),
      timeZone: stringOption(input, 'timezone'),
      invoicePrefix: stringOption(input, 'invoicePrefix'),
      smtpUrl: stringOption(input, 'smtpUrl'),
      country: stringOption(input, 'country'),
      leitwegId: stringOption(input, 'leitwegId'),
      datev: {
        consultantNumber: stringOption(input, 'datevConsultantNumber'),
        clientNumber: stringOption(input, 'datevClientNumber'),
        accountLength: stringOption(input, 'datevAccountLength'),
        expenseAccount: stringOption(input, 'datevExpenseAccount'),
        clearingAccount: stringOption(input, 'datevClearingAccount'),
        creditorAccount: stringOption(input, 'datevCreditorAccount'),
        fiscalYearStartMonth: stringOption(input, 'datevFiscalYearStart'),
      },
      sepaMandate: stringOption(input, 'sepaMandate'),
      sepaIban: stringOption(input, 'sepaIban'),
    }),
    async run(input, context) {
      const stored = await context.settings();
      const changes: Partial<Record<keyof OrgSettings, string>> = datevChanges(input.datev, stored);
      const name = input.name;
      if (name !== undefined) changes.name = parseOrgName(name, '--name');
      const address = input.address;
      if (address !== undefined) changes.address = parseFreeText(address.replace(/\\n/g, '\n'), '--address');
      const vatId = input.vatId;
      // An EU id is checked by its country's format; a buyer outside the EU keeps its own kind of number.
      if (vatId !== undefined) changes.vatId = vatId.trim() === '' ? '' : parseVatId(vatId, '--vat-id', { foreign: true });
      if (input.country !== undefined) changes.country = input.country.trim() === '' ? '' : parseCountry(input.country);
      if (input.leitwegId !== undefined) changes.leitwegId = input.leitwegId.trim() === '' ? '' : parseLeitwegId(input.leitwegId);
      if (input.sepaMandate !== undefined) changes.sepaMandate = input.sepaMandate.trim() === '' ? '' : parseMandateReference(input.sepaMandate);
      if (input.sepaIban !== undefined) changes.sepaIban = input.sepaIban.trim() === '' ? '' : parseIban(input.sepaIban, '--sepa-iban');
      const vatRate = input.vatRate;
      if (vatRate !== undefined) changes.vatRateBasisPoints = String(parseVatRate(vatRate));
      const timeZone = input.timeZone;
      if (timeZone !== undefined) changes.timeZone = assertTimeZone(timeZone);
      const prefix = input.invoicePrefix;
      if (prefix !== undefined) changes.invoicePrefix = parseInvoicePrefix(prefix);
      const smtpUrl = input.smtpUrl;
      if (smtpUrl !== undefined) {
        if (!/^smtps?:\/\/[^\s]+$/.test(smtpUrl.trim()))
          throw new CreditsError('INVALID_VALUE', `--smtp-url "${smtpUrl}" is not an SMTP URL`, { hint: 'use smtp://host:port or smtps://user:pass@host:465' });
        changes.smtpUrl = smtpUrl.trim();
      }
      if (Object.keys(changes).length === 0) {
        throw new CreditsError(
          'MISSING_FLAG',
          'org set needs at least one of --name, --address, --vat-id, --country, --leitweg-id, --vat-rate, --timezone, --invoice-prefix, --smtp-url, --sepa-mandate, --sepa-iban, --datev-*',
        );
      }
      const db = await context.db();
      const result = await setOrgSettings(db, context.mutation(input, changes), changes);
      const { settings } = await readSettings(db);
      return { view: 'org', data: { ...result, organisation: result.dryRun ? { ...settings, ...changes } : settings } };
    },
  }),
  defineCommand({
    name: 'dept add',
    summary: 'add a department (a cost centre that holds credits)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'name', description: 'department name', required: false }],
    options: [{ flags: '--cost-center <code>', description: 'cost centre code for statements, like CC-4711' }],
    examples: ['credits dept add Engineering --cost-center CC-100', 'credits dept add "R&D"'],
    request: (input): DeptAddRequest => ({ ...mutatingRequest(input), name: input.args[0], costCenter: stringOption(input, 'costCenter') }),
    async run(input, context) {
      await context.settings();
      const name = parseDepartmentName(
        await context.need(input.name, { flag: 'NAME', message: 'Department name', validate: (text) => parseDepartmentName(text, '') }),
      );
      const costText = input.costCenter;
      const costCenter = costText === undefined ? null : parseCostCenter(costText);
      const result = await addDepartment(await context.db(), context.mutation(input, { name, costCenter }), { name, costCenter });
      return { view: 'deptAdded', data: result };
    },
  }),
  defineCommand({
    name: 'dept set',
    summary: 'change a department: cost centre, overdraft from the org pool',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'name', description: 'department name', required: true, dynamic: 'departments' }],
    options: [
      { flags: '--cost-center <code>', description: 'cost centre code' },
      { flags: '--overdraft-from <account>', description: 'draw a shortfall from this account (org) or stop doing so (none)', choices: ['org', 'none'] },
      { flags: '--overdraft-max <credits>', description: 'the most the department may draw from org' },
    ],
    examples: ['credits dept set Engineering --cost-center CC-101', 'credits dept set Marketing --overdraft-from org --overdraft-max 500'],
    request: (input): DeptSetRequest => ({
      ...mutatingRequest(input),
      name: input.args[0] ?? '',
      costCenter: stringOption(input, 'costCenter'),
      overdraftFrom: stringOption(input, 'overdraftFrom'),
      overdraftMax: stringOption(input, 'overdraftMax'),
    }),
    async run(input, context) {
      await context.settings();
      const name = parseDepartmentName(input.name, 'NAME');
      const costText = input.costCenter;
      const from = input.overdraftFrom;
      if (from !== undefined && from !== 'org' && from !== 'none') {
        throw new CreditsError('INVALID_VALUE', `--overdraft-from "${from}" is not allowed`, { hint: '--overdraft-from takes org or none' });
      }
      const maxText = input.overdraftMax;
      const changes = {
        name,
        costCenter: costText === undefined ? undefined : parseCostCenter(costText),
        overdraftFrom: from,
        overdraftMaxMillicredits: maxText === undefined ? undefined : parseCreditsInput(maxText, '--overdraft-max', { allowZero: true }),
      };
      if (changes.costCenter === undefined && from === undefined && maxText === undefined) {
        throw new CreditsError('MISSING_FLAG', 'dept set needs --cost-center, --overdraft-from or --overdraft-max');
      }
      const result = await setDepartment(await context.db(), context.mutation(input, changes), changes);
      return { view: 'message', data: { ...result, message: `${result.department} updated` } };
    },
  }),
  defineCommand({
    name: 'dept list',
    summary: 'list departments with cost centre, balance and users',
    ledger: 'existing',
    examples: ['credits dept list', 'credits dept list --json'],
    request: () => ({}),
    async run(_request, context) {
      await context.settings();
      const db = await context.db();
      const accounts = withinScope(
        context,
        (await listAccounts(db)).filter((row) => row.kind === 'department'),
        (row) => row.id,
      );
      const users = await listUsers(db);
      return {
        view: 'departments',
        data: {
          departments: accounts.map((row) => ({
            name: row.name,
            costCenter: row.costCenter,
            millicredits: row.balanceMillicredits,
            credits: row.balanceMillicredits / 1000,
            users: users.filter((user) => user.departmentId === row.id).length,
          })),
        },
      };
    },
  }),
  defineCommand({
    name: 'dept show',
    summary: 'one department: balance, cost centre, overdraft rule, users',
    ledger: 'existing',
    arguments: [{ name: 'name', description: 'department name', required: true, dynamic: 'departments' }],
    examples: ['credits dept show Engineering', 'credits dept show Marketing --json'],
    request: (input): DeptShowRequest => ({ name: input.args[0] ?? '' }),
    async run(input, context) {
      const db = await context.db();
      const department = await requireDepartment(db, input.name, 'NAME');
      const users = await listUsers(db, department.id);
      const settings = await context.settings();
      const balance = (await withPercentLeft(db, await currentBalances(db), context.nowMs, settings.timeZone)).accounts.find((row) => row.id === department.id);
      return {
        view: 'department',
        data: {
          name: department.name,
          costCenter: department.costCenter,
          millicredits: department.balanceMillicredits,
          credits: department.balanceMillicredits / 1000,
          percentLeft: balance?.percentLeft ?? null,
          percentBaseMillicredits: balance?.percentBaseMillicredits ?? 0,
          overdraftFrom: department.overdraftFromAccountId === null ? null : 'org',
          overdraftMaxMillicredits: department.overdraftMaxMillicredits,
          users: users.map((user) => user.email),
        },
      };
    },
  }),
  defineCommand({
    name: 'user add',
    summary: "add a user to a department (users spend their department's credits)",
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'email', description: 'email address', required: false }],
    options: [{ flags: '--dept <name>', description: 'department the user spends from', dynamic: 'departments' }],
    examples: ['credits user add ada@example.com --dept Engineering', 'credits user add grace@example.com --dept "R&D" --json'],
    request: (input): UserAddRequest => ({ ...mutatingRequest(input), email: input.args[0], department: stringOption(input, 'dept') }),
    async run(input, context) {
      await context.settings();
      const email = parseEmail(await context.need(input.email, { flag: 'EMAIL', message: 'User email', validate: (text) => parseEmail(text, '') }));
      const db = await context.db();
      const department = await context.need(departmentOrScope(context, input.department), {
        flag: '--dept',
        message: 'Department',
        choices: (await listAccounts(db)).filter((row) => row.kind === 'department').map((row) => ({ name: row.name, value: row.name })),
      });
      const result = await addUser(db, context.mutation(input, { email, department }), { email, department });
      return { view: 'userAdded', data: result };
    },
  }),
  defineCommand({
    name: 'user list',
    summary: 'list users and their departments',
    ledger: 'existing',
    options: [{ flags: '--dept <name>', description: 'only this department', dynamic: 'departments' }],
    examples: ['credits user list', 'credits user list --dept Engineering --json'],
    request: (input): UserListRequest => ({ department: stringOption(input, 'dept') }),
    async run(input, context) {
      await context.settings();
      const db = await context.db();
      const deptName = departmentOrScope(context, input.department);
      const department = deptName === undefined ? undefined : await requireDepartment(db, deptName, '--dept');
      const users = await listUsers(db, department?.id);
      return { view: 'users', data: { users: users.map((user) => ({ email: user.email, department: user.department, createdAtMs: user.createdAtMs })) } };
    },
  }),
  defineCommand({
    name: 'user move',
    summary: 'move a user to another department',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'email', description: 'email address', required: true, dynamic: 'users' }],
    options: [{ flags: '--dept <name>', description: 'the new department', dynamic: 'departments' }],
    examples: ['credits user move ada@example.com --dept Research', 'credits user move ada@example.com --dept Research --dry-run'],
    request: (input): UserMoveRequest => ({ ...mutatingRequest(input), email: input.args[0] ?? '', department: stringOption(input, 'dept') }),
    async run(input, context) {
      await context.settings();
      const email = parseEmail(input.email, 'EMAIL');
      const department = await context.need(input.department, { flag: '--dept', message: 'New department' });
      const result = await moveUser(await context.db(), context.mutation(input, { email, department }), { email, department });
      return { view: 'userMoved', data: result };
    },
  }),
];
