import { integrityCommands } from './commands/integrity.js';
import { ledgerReadCommands } from './commands/ledgerRead.js';
import { moneyCommands } from './commands/money.js';
import { organisationCommands } from './commands/organisation.js';
import { providerCommands } from './commands/provider.js';
import { reportCommands } from './commands/reports.js';
import { statementCommands } from './commands/statements.js';
import { invoiceCancelCommands } from './commands/invoiceCancel.js';
import { insightCommands } from './commands/insights.js';
import { notifyCommands } from './commands/notify.js';
import { ruleCommands } from './commands/rules.js';
import { usageCommands } from './commands/usage.js';
import { usageHistoryCommands } from './commands/usageHistory.js';
import { correctionCommands } from './commands/corrections.js';
import { tokenCommands } from './commands/tokens.js';
import { serveCommands } from './commands/serve.js';
import { sessionCommands } from './commands/session.js';
import type { CommandFamily, CommandFiles, CommandSpec } from './spec.js';

/**
 * The family of every command (see CommandFamily in spec.ts): what the HTTP API's roles allow.
 * A command missing here is admin-only over the API, and a test lists it.
 */
export const COMMAND_FAMILY: Record<string, CommandFamily> = {
  balance: 'budget',
  check: 'budget',

  'org show': 'read',
  provider: 'read',
  'dept list': 'read',
  'dept show': 'read',
  'user list': 'read',
  packages: 'read',
  purchases: 'read',
  history: 'read',
  verify: 'read',
  audit: 'read',
  rates: 'read',
  limits: 'read',
  report: 'read',
  forecast: 'read',
  anomalies: 'read',
  dashboard: 'read',
  watch: 'read',
  statement: 'read',
  recharge: 'read',
  'usage list': 'read',
  'usage show': 'read',

  'usage record': 'usage',
  'usage import': 'usage',
  'usage hold': 'usage',
  'usage release': 'usage',

  buy: 'ledger',
  'purchases settle': 'ledger',
  'purchases cancel': 'ledger',
  transfer: 'ledger',
  'dept add': 'ledger',
  'dept set': 'ledger',
  'user add': 'ledger',
  'user move': 'ledger',
  'rates set': 'ledger',
  'limits set': 'ledger',
  'limits remove': 'ledger',
  invoice: 'ledger',
  'invoice cancel': 'ledger',
  // Invoices name buyers and amounts: whoever may issue them may list them.
  'invoice list': 'ledger',
  'invoice show': 'ledger',
  'recharge set': 'ledger',
  'recharge off': 'ledger',
  'recharge schedule': 'ledger',
  'recharge schedule remove': 'ledger',

  'notify run': 'jobs',
  'notify test': 'jobs',
  'recharge run': 'jobs',

  init: 'settings',
  'org set': 'settings',
  'provider set': 'settings',
  // Channels hold webhook URLs and secrets, and a command channel runs on the server's host.
  'notify channels': 'settings',
  'notify levels show': 'settings',
  'notify levels set': 'settings',
  'notify channel add': 'settings',
  'notify channel remove': 'settings',
  'notify channel secret': 'settings',
  'notify channel rotate': 'settings',

  // Corrections rewrite what the books say happened: an admin's word, never an operator's.
  adjust: 'corrections',
  'usage reverse': 'corrections',

  'token create': 'tokens',
  'token list': 'tokens',
  'token revoke': 'tokens',

  serve: 'local',
  // The signing key lives on the machine that runs the command, never on the API's server.
  checkpoint: 'local',
  completion: 'local',
  // The login file is this machine's: storing it through a server would make no sense.
  login: 'local',
  logout: 'local',
};

/** Commands that read or write files where they run: the remote CLI sends and receives them. */
export const COMMAND_FILES: Record<string, CommandFiles> = {
  'usage import': { inputArgument: 0 },
  report: { outputOption: 'output' },
  'usage list': { outputOption: 'output' },
  statement: { outputOption: 'output' },
  invoice: { outputOption: 'output' },
  'invoice cancel': { outputOption: 'output' },
  'invoice show': { outputOption: 'output' },
  'notify run': { localPathOptions: ['reportsDir'] },
  // The checkpoint is a file, and the key that checks it, on the machine that runs the command.
  verify: { localPathOptions: ['sinceCheckpoint'] },
};

/** A command with its family and files from the tables above. */
function classified(spec: CommandSpec): CommandSpec {
  const family = spec.family ?? COMMAND_FAMILY[spec.name];
  const files = spec.files ?? COMMAND_FILES[spec.name];
  return { ...spec, ...(family ? { family } : {}), ...(files ? { files } : {}) };
}

/** Every command of the application, in the order `credits --help` lists them. */
export const APP_COMMANDS: readonly CommandSpec[] = [
  ...organisationCommands,
  ...providerCommands,
  ...moneyCommands,
  ...ledgerReadCommands,
  ...integrityCommands,
  ...usageCommands,
  ...usageHistoryCommands,
  ...correctionCommands,
  ...ruleCommands,
  ...reportCommands,
  ...insightCommands,
  ...statementCommands,
  ...invoiceCancelCommands,
  ...notifyCommands,
  ...tokenCommands,
  ...serveCommands,
  ...sessionCommands,
].map(classified);

export { classified };

export const GROUP_SUMMARIES: Record<string, string> = {
  org: 'organisation details',
  dept: 'departments (cost centres)',
  user: 'users and their departments',
  purchases: 'purchases and pending payments',
  usage: 'record, import, list and show AI usage; hold credits for a call before it starts',
  rates: 'the rate card per model',
  limits: 'spending limits per user, department, organisation',
  notify: 'notification channels and delivery (cron: notify run)',
  'notify channel': 'add and remove notification channels',
  'notify levels': 'the percentages left at which balance alerts fire',
  recharge: 'automatic recharge rules (cron: recharge run)',
  token: 'API tokens for `credits serve` (roles, departments)',
};
