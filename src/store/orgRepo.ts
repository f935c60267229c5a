import { didYouMean } from '../core/suggest.js';
import { CreditsError } from '../core/errors.js';
import type { AccountKind } from '../core/ledger.js';
import { emailKey, nameKey } from '../core/names.js';
import { settingsFromRows, type OrgSettings } from '../core/org.js';
import { providerFromRows, type ProviderSettings } from '../core/provider.js';
import type { SqlReader, WriteTx } from './driver.js';
import { checkAccountScope, checkUserScope, outsideScope, scopeOf } from './scope.js';

export const WORLD_ACCOUNT_ID = 1;
export const ORG_ACCOUNT_ID = 2;

export type AccountRow = {
  id: number;
  name: string;
  kind: AccountKind;
  costCenter: string | null;
  balanceMillicredits: number;
  topupReferenceMillicredits: number;
  overdraftFromAccountId: number | null;
  overdraftMaxMillicredits: number;
  createdAtMs: number;
};

const ACCOUNT_COLUMNS = `id, name, kind, cost_center AS costCenter, balance_millicredits AS balanceMillicredits,
  topup_reference_millicredits AS topupReferenceMillicredits, overdraft_from_account_id AS overdraftFromAccountId,
  overdraft_max_millicredits AS overdraftMaxMillicredits, created_at_ms AS createdAtMs`;

export async function readSettings(db: SqlReader): Promise<{ initialised: boolean; settings: OrgSettings; provider: ProviderSettings | null }> {
  const rows = await db.all<{ key: string; value: string }>('SELECT key, value FROM settings');
  const byKey = new Map(rows.map((row) => [row.key, row.value]));
  return { initialised: rows.length > 0, settings: settingsFromRows(byKey), provider: providerFromRows(byKey) };
}

export function writeSetting(tx: WriteTx, key: string, value: string): void {
  tx.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
}

export async function listAccounts(db: SqlReader): Promise<AccountRow[]> {
  return db.all<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY CASE kind WHEN 'world' THEN 0 WHEN 'org' THEN 1 ELSE 2 END, name COLLATE NOCASE`);
}

/**
 * By nameKey, so every spelling a person reads as the same name finds the same account. A keyless
 * row (a duplicate kept from an older ledger, see nameKeys.ts) answers to its exact spelling
 * only, and then before the keyed row it collides with.
 */
async function lookupAccount(db: SqlReader, name: string): Promise<AccountRow | undefined> {
  return db.get<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE (name_key = ? OR (name_key IS NULL AND name = ?)) AND kind != 'world'
     ORDER BY name_key IS NULL DESC LIMIT 1`,
    // Names are stored in NFC (parseDepartmentName), so a decomposed spelling is still exact.
    [nameKey(name), name.trim().normalize('NFC')],
  );
}

/** An account by name; an account outside the reader's department scope is refused (FORBIDDEN). */
export async function findAccount(db: SqlReader, name: string, field = 'account'): Promise<AccountRow | undefined> {
  const account = await lookupAccount(db, name);
  if (account) checkAccountScope(db, account, field, name);
  return account;
}

/**
 * `org` or a department, for --from/--to/--for; the outside world is never named by users. A
 * scoped reader reaches its own department only, and the org pool only where `allowOrg` says.
 */
export async function requireAccount(db: SqlReader, name: string, field: string, allowOrg = false): Promise<AccountRow> {
  const account = await lookupAccount(db, name);
  if (account) checkAccountScope(db, account, field, name, allowOrg);
  if (!account) {
    const scope = scopeOf(db);
    if (scope !== null) throw outsideScope(scope, `${field} "${name.trim()}"`);
    const known = (await listAccounts(db)).filter((row) => row.kind !== 'world').map((row) => row.name);
    const guess = didYouMean(name, known);
    throw new CreditsError('DEPARTMENT_NOT_FOUND', `${field}: no department "${name}"${guess.suffix}`, {
      hint: `${guess.hint}known accounts: ${known.join(', ')}`,
    });
  }
  return account;
}

export async function requireDepartment(db: SqlReader, name: string, field: string): Promise<AccountRow> {
  const account = await requireAccount(db, name, field);
  if (account.kind !== 'department') {
    throw new CreditsError('DEPARTMENT_NOT_FOUND', `${field}: "${name}" is the organisation pool, not a department`, {
      hint: 'name a department (see `credits dept list`)',
    });
  }
  return account;
}

export function insertAccount(tx: WriteTx, account: { name: string; kind: AccountKind; costCenter: string | null; createdAtMs: number; id?: number }): void {
  tx.run('INSERT INTO accounts (id, name, name_key, kind, cost_center, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)', [
    account.id ?? null,
    account.name,
    nameKey(account.name),
    account.kind,
    account.costCenter,
    account.createdAtMs,
  ]);
}

export type UserRow = { id: number; email: string; departmentId: number; department: string; createdAtMs: number };

const USER_COLUMNS = `u.id AS id, u.email AS email, u.department_id AS departmentId, a.name AS department, u.created_at_ms AS createdAtMs`;

export async function listUsers(db: SqlReader, departmentId?: number): Promise<UserRow[]> {
  const where = departmentId === undefined ? '' : 'WHERE u.department_id = ?';
  return db.all<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users u JOIN accounts a ON a.id = u.department_id ${where} ORDER BY u.email`,
    departmentId === undefined ? [] : [departmentId],
  );
}

/** A user by email (emailKey, like accounts by nameKey); a user of another department than the reader's scope is refused (FORBIDDEN). */
export async function findUser(db: SqlReader, email: string): Promise<UserRow | undefined> {
  const user = await db.get<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users u JOIN accounts a ON a.id = u.department_id WHERE u.email_key = ? OR (u.email_key IS NULL AND u.email = ?)
     ORDER BY u.email_key IS NULL DESC LIMIT 1`,
    [emailKey(email), email.trim()],
  );
  if (user) checkUserScope(db, user, email);
  return user;
}

export function insertUser(tx: WriteTx, user: { email: string; departmentId: number; createdAtMs: number }): void {
  tx.run('INSERT INTO users (email, email_key, department_id, created_at_ms) VALUES (?, ?, ?, ?)', [
    user.email,
    emailKey(user.email),
    user.departmentId,
    user.createdAtMs,
  ]);
}

export async function requireUser(db: SqlReader, email: string, field: string): Promise<UserRow> {
  const user = await findUser(db, email);
  const scope = scopeOf(db);
  if (!user && scope !== null) throw outsideScope(scope, `user "${email.trim()}"`);
  if (!user) {
    const guess = didYouMean(
      email,
      (await listUsers(db)).map((row) => row.email),
    );
    throw new CreditsError('USER_NOT_FOUND', `${field}: no user "${email}"${guess.suffix}`, {
      hint: `${guess.hint}add a new user with \`credits user add EMAIL --dept NAME\``,
    });
  }
  return user;
}
