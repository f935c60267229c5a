import { isCreditsError } from '../core/errors.js';
import type { CommandInput } from '../cli/spec.js';
import { emailKey, nameKey } from '../core/names.js';
import type { SqlReader } from '../store/driver.js';
import { findAccount, findUser } from '../store/orgRepo.js';
import { loadLimits } from '../store/usageRepo.js';

/**
 * Department scoping: a token bound to a department sees and acts on that department only. Each
 * command that makes sense for one department has a policy here that pins its department flag,
 * checks the users, purchases or limits it names, or filters what it returns. A command without
 * a policy covers the whole organisation and is refused to a bound token (fail closed).
 */
export class OutOfScope extends Error {}

export type Scope = { departmentId: number; department: string };
export type ScopeRequest = { db: SqlReader; scope: Scope; input: CommandInput; uploadPath: string | undefined; timeZone: string };
/** What the server runs instead (pinned flags) and how it trims the result. */
export type Scoped = { input: CommandInput; filter?: (data: any) => object };
type Policy = (request: ScopeRequest) => Promise<Scoped>;

/** A name someone typed against the bound department: the same comparison as findAccount's (nameKey). */
function same(a: string, b: string): boolean {
  return nameKey(a) === nameKey(b);
}

/**
 * Whether a name someone typed means the bound department: the same key, and not the exact
 * spelling of a keyless twin kept from an older ledger (which findAccount would resolve instead).
 */
async function namesBound(db: SqlReader, scope: Scope, given: string): Promise<boolean> {
  if (!same(given, scope.department)) return false;
  const account = await findAccount(db, given);
  return account === undefined || account.id === scope.departmentId;
}

/**
 * A name read from the ledger (results to filter) against the bound department's stored name:
 * exact, so a keyless twin kept from an older ledger (`Équipe` beside `équipe`) is not let through.
 */
function ownAccount(name: string | undefined, scope: Scope): boolean {
  return name === scope.department;
}

function outside(scope: Scope, what: string): OutOfScope {
  return new OutOfScope(`this token is bound to department ${scope.department}: ${what} is outside it`);
}

function pinOption(key: string, flag: string): Policy {
  return async ({ db, input, scope }) => {
    const given = input.options[key];
    if (typeof given === 'string' && !(await namesBound(db, scope, given))) throw outside(scope, `${flag} ${given}`);
    // The stored spelling, never the one given: the command then resolves exactly the bound account.
    return { input: { ...input, options: { ...input.options, [key]: scope.department } } };
  };
}

function pinArgument(index: number, label: string): Policy {
  return async ({ db, input, scope }) => {
    const given = input.args[index];
    if (given !== undefined && !(await namesBound(db, scope, given))) throw outside(scope, `${label} ${given}`);
    const args = [...input.args];
    while (args.length < index) args.push(undefined as unknown as string);
    args[index] = scope.department;
    return { input: { ...input, args } };
  };
}

function refuseFlag(key: string, flag: string): Policy {
  return async ({ input, scope }) => {
    if (input.options[key] === true) throw outside(scope, `${flag} (the whole organisation)`);
    return { input };
  };
}

/** A named user must belong to the department; an unknown user is left to the command's own error. */
async function checkUser(db: SqlReader, scope: Scope, email: string | undefined): Promise<void> {
  if (email === undefined) return;
  const user = await findUser(db, email);
  if (user && user.departmentId !== scope.departmentId) throw outside(scope, `user ${user.email} (${user.department})`);
}

function userOption(key: string): Policy {
  return async ({ db, scope, input }) => {
    const email = input.options[key];
    await checkUser(db, scope, typeof email === 'string' ? email : undefined);
    return { input };
  };
}

function idArgument(text: string | undefined): number | null {
  const trimmed = (text ?? '').trim().replace(/^#/, '');
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : null;
}

function purchaseArgument(): Policy {
  return async ({ db, scope, input }) => {
    const id = idArgument(input.args[0]);
    if (id === null) return { input };
    const row = await db.get<{ accountId: number; account: string }>(
      'SELECT p.account_id AS accountId, a.name AS account FROM purchases p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?',
      [id],
    );
    if (row && row.accountId !== scope.departmentId) throw outside(scope, `purchase ${id} (credited to ${row.account})`);
    return { input };
  };
}

function chain(...policies: Policy[]): Policy {
  return async (request) => {
    let current: Scoped = { input: request.input };
    for (const policy of policies) {
      const next = await policy({ ...request, input: current.input });
      current = { input: next.input, ...((next.filter ?? current.filter) ? { filter: next.filter ?? current.filter } : {}) };
    }
    return current;
  };
}

function filterList<T>(
  key: string,
  keep: (item: T, request: ScopeRequest, extra: Set<number>) => boolean,
  extra?: (request: ScopeRequest) => Promise<Set<number>>,
): Policy {
  return async (request) => {
    const ids = extra ? await extra(request) : new Set<number>();
    return {
      input: request.input,
      filter: (data: Record<string, unknown>) => ({ ...data, [key]: (data[key] as T[]).filter((item) => keep(item, request, ids)) }),
    };
  };
}

async function usersOf(request: ScopeRequest): Promise<Set<number>> {
  const rows = await request.db.all<{ id: number }>('SELECT id FROM users WHERE department_id = ?', [request.scope.departmentId]);
  return new Set(rows.map((row) => row.id));
}

const pass: Policy = async ({ input }) => ({ input });

/** Every user named in an uploaded usage file must belong to the department. */
const importUsers: Policy = async ({ db, scope, input, uploadPath, timeZone }) => {
  if (uploadPath === undefined) return { input };
  const { openUsageSource } = await import('../cli/importSource.js');
  const format = typeof input.options.format === 'string' ? (input.options.format as 'jsonl' | 'csv') : undefined;
  const emails = new Set<string>();
  try {
    for await (const batch of openUsageSource(uploadPath, { timeZone, ...(format ? { format } : {}) }).batches) {
      for (const item of batch) if ('record' in item) emails.add(item.record.user);
    }
  } catch (error) {
    // An unreadable file is the command's to report, with its own message.
    if (!isCreditsError(error)) throw error;
  }
  const list = [...emails];
  for (let start = 0; start < list.length; start += 500) {
    const slice = list.slice(start, start + 500);
    const rows = await db.all<{ email: string; departmentId: number; department: string }>(
      `SELECT u.email AS email, u.department_id AS departmentId, a.name AS department FROM users u JOIN accounts a ON a.id = u.department_id
       WHERE u.email_key IN (SELECT value FROM json_each(?)) OR (u.email_key IS NULL AND u.email IN (SELECT value FROM json_each(?)))`,
      [JSON.stringify(slice.map(emailKey)), JSON.stringify(slice)],
    );
    const stranger = rows.find((row) => row.departmentId !== scope.departmentId);
    if (stranger) throw outside(scope, `user ${stranger.email} (${stranger.department})`);
  }
  return { input };
};

const limitArgument: Policy = async (request) => {
  const id = idArgument(request.input.args[0]);
  if (id === null) return { input: request.input };
  const rule = (await loadLimits(request.db)).find((row) => row.id === id);
  if (!rule) return { input: request.input };
  const users = await usersOf(request);
  const inside = rule.departmentId === request.scope.departmentId || (rule.userId !== null && users.has(rule.userId));
  if (!inside) throw outside(request.scope, `limit ${id}`);
  return { input: request.input };
};

const limitsSet: Policy = async (request) => {
  await refuseFlag('org', '--org')(request);
  if (typeof request.input.options.user === 'string') return userOption('user')(request);
  return pinOption('dept', '--dept')(request);
};

const check: Policy = async (request) => {
  await refuseFlag('org', '--org')(request);
  if (typeof request.input.options.user === 'string') return userOption('user')(request);
  return pinOption('dept', '--dept')(request);
};

export const DEPARTMENT_POLICIES: Record<string, Policy> = {
  balance: pinArgument(0, 'ACCOUNT'),
  check,
  history: chain(pinOption('dept', '--dept'), userOption('user')),
  report: pinOption('dept', '--dept'),
  forecast: chain(refuseFlag('org', '--org'), pinOption('dept', '--dept')),
  statement: pinOption('dept', '--dept'),
  anomalies: filterList<{ subject: { kind: string; name: string; department?: string } }>('anomalies', (item, request) =>
    item.subject.kind === 'department' ? ownAccount(item.subject.name, request.scope) : ownAccount(item.subject.department, request.scope),
  ),
  'org show': pass,
  packages: pass,
  rates: pass,
  'dept list': filterList<{ name: string }>('departments', (item, request) => ownAccount(item.name, request.scope)),
  'dept show': pinArgument(0, 'NAME'),
  'user list': pinOption('dept', '--dept'),
  'user add': pinOption('dept', '--dept'),
  'usage record': userOption('user'),
  'usage import': importUsers,
  buy: pinOption('for', '--for'),
  purchases: filterList<{ account: string }>('purchases', (item, request) => ownAccount(item.account, request.scope)),
  'purchases settle': purchaseArgument(),
  'purchases cancel': purchaseArgument(),
  invoice: purchaseArgument(),
  transfer: pinOption('from', '--from'),
  limits: filterList<{ departmentId: number | null; userId: number | null }>(
    'limits',
    (item, request, users) => item.departmentId === request.scope.departmentId || (item.userId !== null && users.has(item.userId)),
    usersOf,
  ),
  'limits set': limitsSet,
  'limits remove': limitArgument,
  recharge: filterList<{ account: string }>('rules', (item, request) => ownAccount(item.account, request.scope)),
  'recharge set': pinOption('for', '--for'),
  'recharge off': pinOption('for', '--for'),
};

/** Runs the command's policy; throws OutOfScope when the request reaches outside the department. */
export async function applyDepartmentScope(command: string, request: ScopeRequest): Promise<Scoped> {
  const policy = DEPARTMENT_POLICIES[command];
  if (!policy) throw new OutOfScope(`this token is bound to department ${request.scope.department}: \`${command}\` covers the whole organisation`);
  return policy(request);
}

export { same as sameName };
