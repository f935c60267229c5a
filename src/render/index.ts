import { CONTROL_CHARACTERS_BUT_LINES } from '../core/names.js';
import type { CreditsError } from '../core/errors.js';
import { palette, type RenderOptions } from './style.js';
import { ledgerViews } from './views/ledger.js';
import { usageViews } from './views/usage.js';
import { usageHistoryViews } from './views/usageHistory.js';
import { correctionViews } from './views/corrections.js';
import { reportViews } from './views/reports.js';
import { statementViews } from './views/statements.js';
import { insightViews } from './views/insights.js';
import { notifyViews } from './views/notify.js';
import { shellViews } from './views/shell.js';
import { tokenViews } from './views/tokens.js';

export type View = (data: never, options: RenderOptions) => string;

const VIEWS: Record<string, View> = {
  ...ledgerViews,
  ...usageViews,
  ...usageHistoryViews,
  ...correctionViews,
  ...reportViews,
  ...statementViews,
  ...insightViews,
  ...notifyViews,
  ...shellViews,
  ...tokenViews,
  raw: (data: { raw: string }) => data.raw,
};

/** Registers views of later features without this file importing each of them. */
export function registerViews(views: Record<string, View>): void {
  Object.assign(VIEWS, views);
}

function fallback(data: object): string {
  return Object.entries(data)
    .filter(([, value]) => value !== null && typeof value !== 'object')
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join('\n');
}

/** What input refuses (core/names.ts), found everywhere in a text: line feeds and tabs stay. */
const CONTROLS = new RegExp(CONTROL_CHARACTERS_BUT_LINES.source, 'gu');

/**
 * Every text of the data with terminal control characters taken out, before the views add their
 * own colours: a name written into the ledger before input refused them (or by another tool)
 * must not move the cursor or recolour a reader's terminal.
 */
function withoutControls<T>(value: T): T {
  if (typeof value === 'string') return value.replace(CONTROLS, '') as T;
  if (Array.isArray(value)) return value.map(withoutControls) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, withoutControls(entry)])) as T;
  }
  return value;
}

export async function renderOutput(view: string, rawData: object, options: RenderOptions): Promise<string> {
  const data = withoutControls(rawData);
  const renderer = VIEWS[view];
  const text = renderer ? renderer(data as never, options) : fallback(data);
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}

export function renderError(error: CreditsError, color: boolean): string {
  const chalk = palette({ color, width: 80, timeZone: 'UTC' });
  const lines = [`${chalk.red('error')} ${chalk.dim(`[${error.code}]`)} ${withoutControls(error.message)}`];
  if (error.hint) lines.push(`${chalk.dim('hint:')} ${withoutControls(error.hint)}`);
  return `${lines.join('\n')}\n`;
}
