import { CreditsError } from '../core/errors.js';
import type { Database, SqlReader, WriteTx } from './driver.js';

/**
 * A department scope: the one department a principal (an API token bound to a department) may
 * see and act on. It travels with the database handle, so every lookup of an account, user or
 * purchase checks it by id, in the same transaction (or read) as the work that follows.
 */
export type DepartmentScope = { departmentId: number; department: string };

/**
 * The one refusal for anything a scoped caller may not reach. It names what the caller asked for
 * in the caller's own words, and says the same whether that thing exists elsewhere or not at all:
 * a department-bound token learns nothing of other departments from it.
 */
export function outsideScope(scope: DepartmentScope, what: string): CreditsError {
  return new CreditsError('FORBIDDEN', `this token is bound to department ${scope.department}: ${what} is not in it`, {
    hint: 'ask an admin for a token whose role (and department) allows this',
  });
}

export function scopeOf(reader: SqlReader): DepartmentScope | null {
  return reader.scope ?? null;
}

/** Refuses an account other than the scope's department (the org pool included, unless allowed). */
export function checkAccountScope(reader: SqlReader, account: { id: number; kind: string }, field: string, given: string, allowOrg = false): void {
  const scope = scopeOf(reader);
  if (scope === null || account.id === scope.departmentId || (allowOrg && account.kind === 'org')) return;
  throw outsideScope(scope, `${field} "${given.trim()}"`);
}

/** Refuses a user of another department. */
export function checkUserScope(reader: SqlReader, user: { departmentId: number }, given: string): void {
  const scope = scopeOf(reader);
  if (scope !== null && user.departmentId !== scope.departmentId) throw outsideScope(scope, `user "${given.trim()}"`);
}

/** Refuses a request that would cover the whole organisation (a flag like --org, or no department). */
export function refuseWholeOrganisation(reader: SqlReader, what: string): void {
  const scope = scopeOf(reader);
  if (scope !== null) throw outsideScope(scope, what);
}

/** The same ledger, seen through a department scope: reads and write transactions carry it. */
export function scopedDatabase(db: Database, scope: DepartmentScope): Database {
  return {
    kind: db.kind,
    location: db.location,
    scope,
    all: (sql, args) => db.all(sql, args),
    get: (sql, args) => db.get(sql, args),
    write: (work, options) => db.write((tx) => work(scopedTx(tx, scope)), options),
    execScript: (sql) => db.execScript(sql),
    close: () => db.close(),
  };
}

function scopedTx(tx: WriteTx, scope: DepartmentScope): WriteTx {
  return {
    scope,
    all: (sql, args) => tx.all(sql, args),
    get: (sql, args) => tx.get(sql, args),
    run: (sql, args) => tx.run(sql, args),
    runMany: (sql, rows) => tx.runMany(sql, rows),
    ...(tx.insertIfAbsent ? { insertIfAbsent: tx.insertIfAbsent } : {}),
  };
}
