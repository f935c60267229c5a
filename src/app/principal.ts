import type { Role } from '../core/roles.js';
import type { DepartmentScope } from '../store/scope.js';

export type { DepartmentScope } from '../store/scope.js';

/**
 * Who runs a command: the actor written to the ledger, a role, and a department scope (or none
 * for the whole organisation). The CLI on the ledger's own machine is an unbound admin; the API
 * makes one from the caller's token. Commands never look at transports: they get a principal.
 */
export type Principal = { actor: string; role: Role; scope: DepartmentScope | null; tokenId: number | null };

export function localPrincipal(actor: string): Principal {
  return { actor, role: 'admin', scope: null, tokenId: null };
}

/**
 * Commands a department-bound principal may run: each applies the scope in its own lookups and
 * lists. Any other command covers the whole organisation and is refused to it (fail closed).
 */
export const SCOPED_COMMANDS: ReadonlySet<string> = new Set([
  'balance',
  'check',
  'history',
  'report',
  'forecast',
  'statement',
  'anomalies',
  'org show',
  'packages',
  'rates',
  'dept list',
  'dept show',
  'user list',
  'user add',
  'usage record',
  'usage import',
  'usage list',
  'usage show',
  'usage hold',
  'usage release',
  'buy',
  'purchases',
  'purchases settle',
  'purchases cancel',
  'invoice',
  'transfer',
  'limits',
  'limits set',
  'limits remove',
  'recharge',
  'recharge set',
  'recharge off',
  'recharge schedule',
  'recharge schedule remove',
]);
