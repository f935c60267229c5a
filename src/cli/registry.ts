import { ledgerReadCommands } from './commands/ledgerRead.js';
import { moneyCommands } from './commands/money.js';
import { organisationCommands } from './commands/organisation.js';
import type { CommandSpec } from './spec.js';

/** Every command, in the order `credits --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [...organisationCommands, ...moneyCommands, ...ledgerReadCommands];

export const GROUP_SUMMARIES: Record<string, string> = {
  org: 'organisation details',
  dept: 'departments (cost centres)',
  user: 'users and their departments',
  purchases: 'purchases and pending payments',
};
