import { ledgerReadCommands } from './commands/ledgerRead.js';
import { moneyCommands } from './commands/money.js';
import { organisationCommands } from './commands/organisation.js';
import { reportCommands } from './commands/reports.js';
import { statementCommands } from './commands/statements.js';
import { insightCommands } from './commands/insights.js';
import { notifyCommands } from './commands/notify.js';
import { ruleCommands } from './commands/rules.js';
import { usageCommands } from './commands/usage.js';
import type { CommandSpec } from './spec.js';

/** Every command, in the order `credits --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [...organisationCommands, ...moneyCommands, ...ledgerReadCommands, ...usageCommands, ...ruleCommands, ...reportCommands, ...insightCommands, ...statementCommands, ...notifyCommands];

export const GROUP_SUMMARIES: Record<string, string> = {
  org: 'organisation details',
  dept: 'departments (cost centres)',
  user: 'users and their departments',
  purchases: 'purchases and pending payments',
  usage: 'record and import AI usage',
  rates: 'the rate card per model',
  limits: 'spending limits per user, department, organisation',
  notify: 'notification channels and delivery (cron: notify run)',
  'notify channel': 'add and remove notification channels',
  recharge: 'automatic recharge rules (cron: recharge run)',
};
