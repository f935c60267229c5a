import { outsideScope } from '../store/scope.js';
import type { Context } from './context.js';

/**
 * How a command that can cover the whole organisation narrows itself for a department-bound
 * principal. Names given on the command line are still checked by id where they are looked up
 * (store/scope.ts); these only pick the default and refuse organisation-wide flags.
 */

/** The department named by the caller, or the principal's own when it named none. */
export function departmentOrScope(context: Context, given: string | undefined): string | undefined {
  return given ?? context.scope?.department;
}

/** A flag such as --org asks for the whole organisation: refused to a bound principal. */
export function refuseOrganisationFlag(context: Context, given: boolean, flag: string): void {
  if (context.scope !== null && given) throw outsideScope(context.scope, `${flag} (the whole organisation)`);
}

/** Keeps the rows of the principal's department only (all rows for an unbound principal). */
export function withinScope<T>(context: Context, rows: readonly T[], departmentIdOf: (row: T) => number | null | undefined): T[] {
  const scope = context.scope;
  return scope === null ? [...rows] : rows.filter((row) => departmentIdOf(row) === scope.departmentId);
}
