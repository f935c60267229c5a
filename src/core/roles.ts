/**
 * What a command does, for the HTTP API's roles:
 * - budget: balance and check, all a CI pipeline needs
 * - read: every other command that only reads the ledger
 * - usage: posts AI usage (and holds credits for calls in progress)
 * - ledger: changes credits, departments, users, rates, limits, purchases
 * - jobs: cron work with side effects (notification delivery, recharge runs)
 * - settings: organisation settings and notification channels
 * - corrections: adjustments and reversals of usage, which rewrite what the books say happened
 * - tokens: API tokens
 * - local: runs on this machine only, never through a server (serve)
 */
export const COMMAND_FAMILIES = ['budget', 'read', 'usage', 'ledger', 'jobs', 'settings', 'corrections', 'tokens', 'local'] as const;
export type CommandFamily = (typeof COMMAND_FAMILIES)[number];

/** The roles a token can have, and the command families (spec.ts) each may run over the API. */
export const ROLES = ['admin', 'operator', 'usage-writer', 'reader', 'ci'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_FAMILIES: Record<Role, readonly CommandFamily[]> = {
  admin: ['budget', 'read', 'usage', 'ledger', 'jobs', 'settings', 'corrections', 'tokens'],
  operator: ['budget', 'read', 'usage', 'ledger', 'jobs'],
  'usage-writer': ['usage'],
  reader: ['budget', 'read'],
  ci: ['budget'],
};

export const ROLE_SUMMARIES: Record<Role, string> = {
  admin: 'everything, tokens, organisation settings and corrections included',
  operator: 'everything but tokens, organisation settings and corrections (adjust, usage reverse)',
  'usage-writer': 'only posts usage (and holds credits for calls)',
  reader: 'only reads',
  ci: 'only check and balance',
};

export function isRole(text: string): text is Role {
  return (ROLES as readonly string[]).includes(text);
}

/** Whether a role may run commands of a family. A command without a family is admin-only. */
export function roleAllows(role: Role, family: CommandFamily | undefined): boolean {
  if (family === 'local') return false;
  if (family === undefined) return role === 'admin';
  return ROLE_FAMILIES[role].includes(family);
}
