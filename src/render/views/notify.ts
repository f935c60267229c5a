import { formatCount, formatCredits, formatEuros } from '../format.js';
import { palette, table, type RenderOptions } from '../style.js';

type ChannelView = {
  id: number;
  kind: string;
  target: string;
  signed: boolean;
  pending: number;
  consecutiveFailures: number;
  lastError: string | null;
  lastDeliveredAtMs: number | null;
};
type RunView = {
  anomaliesQueued?: number;
  monthlyReport?: string | null;
  monthlyInvoices?: string[];
  checkpoint?: { dayKey: string; outcome: string; problem: string | null } | null;
  delivered: number;
  retrying: number;
  failed: number;
  errors: { channelId: number; eventId: string; error: string }[];
};
type RechargeView = {
  account: string;
  thresholdMillicredits: number;
  packageName: string | null;
  targetMillicredits: number | null;
  method: string;
  monthlyCapCents: number;
  armed: boolean;
  balanceMillicredits: number;
  monthSpentCents: number;
  monthRecharges: number;
};
type ScheduleView = { id: number; account: string; dayOfMonth: number; packageName: string; method: string; servedMonth: string | null };
type RechargeRunRow = { id: number; account: string; packageName: string; priceCents: number; status: string; scheduleId: number | null };

/** "on day 5", "on day 31 (the last day in shorter months)". */
function monthlyDay(dayOfMonth: number): string {
  return `on day ${dayOfMonth}${dayOfMonth > 28 ? ' (the last day in shorter months)' : ''}`;
}

function buys(rule: Pick<RechargeView, 'packageName' | 'targetMillicredits' | 'method'>): string {
  return rule.targetMillicredits === null
    ? `${rule.packageName} by ${rule.method}`
    : `the cheapest packages up to ${formatCredits(rule.targetMillicredits)} credits by ${rule.method}`;
}

function schedulesTable(schedules: ScheduleView[], options: RenderOptions): string {
  const rows = schedules.map((schedule) => [
    String(schedule.id),
    schedule.account,
    monthlyDay(schedule.dayOfMonth),
    `${schedule.packageName} by ${schedule.method}`,
    schedule.servedMonth ?? 'not yet',
  ]);
  return table(options, [{ header: 'Schedule' }, { header: 'Account' }, { header: 'Monthly' }, { header: 'Buys' }, { header: 'Done for' }], rows);
}

export const notifyViews = {
  alertLevels(data: { levelsPercent: number[]; dryRun?: boolean }): string {
    return `${data.dryRun ? '(dry run) ' : ''}Balance alerts fire below ${data.levelsPercent.map((level) => (level === 0 ? '0 (depleted)' : `${level}%`)).join(', ')} of this month's credits.`;
  },

  channelAdded(data: { channelId: number; kind: string; target: string; signed: boolean; secret?: string | null; dryRun?: boolean }): string {
    const added = `${data.dryRun ? '(dry run) ' : ''}Channel ${data.channelId} added: ${data.kind} ${data.target}${data.signed ? ' (signed)' : ''}. Try it with \`credits notify test ${data.channelId}\`.`;
    if (!data.secret) return added;
    return `${added}\nSigning secret (Standard Webhooks, give it to the receiver): ${data.secret}\nShow it again with \`credits notify channel secret ${data.channelId}\`.`;
  },

  channelSecret(data: { channelId: number; secret: string | null }): string {
    if (data.secret === null) return `Channel ${data.channelId} is not signed. Give it a secret with \`credits notify channel rotate ${data.channelId}\`.`;
    return data.secret;
  },

  channelRemoved(data: { channelId: number }): string {
    return `Channel ${data.channelId} removed.`;
  },

  channels(data: { channels: ChannelView[] }, options: RenderOptions): string {
    if (data.channels.length === 0) return 'No notification channels. Add one with `credits notify channel add webhook URL`.';
    const chalk = palette(options);
    const rows = data.channels.map((channel) => [
      String(channel.id),
      channel.kind,
      channel.target,
      formatCount(channel.pending),
      channel.consecutiveFailures > 0
        ? chalk.red(`failing ×${channel.consecutiveFailures}: ${channel.lastError ?? ''}`)
        : channel.lastDeliveredAtMs === null
          ? 'no deliveries yet'
          : chalk.green('ok'),
    ]);
    return table(options, [{ header: 'Id' }, { header: 'Kind' }, { header: 'Target' }, { header: 'Pending', align: 'right' }, { header: 'State' }], rows);
  },

  notifyRun(data: RunView, options: RenderOptions): string {
    const chalk = palette(options);
    const lines = [`Delivered ${formatCount(data.delivered)}, retrying later ${formatCount(data.retrying)}, given up ${formatCount(data.failed)}.`];
    if (data.anomaliesQueued) lines.push(`Queued ${formatCount(data.anomaliesQueued)} anomaly notice(s).`);
    if (data.monthlyReport) lines.push(`Monthly report written: ${data.monthlyReport}`);
    if (data.monthlyInvoices?.length) lines.push(`With ${formatCount(data.monthlyInvoices.length)} invoice copies: ${data.monthlyInvoices.join(', ')}`);
    if (data.checkpoint?.outcome === 'queued') lines.push(`Queued the checkpoint of ${data.checkpoint.dayKey}.`);
    if (data.checkpoint?.outcome === 'damaged') lines.push(chalk.red(`Checkpoint of ${data.checkpoint.dayKey} not signed: ${data.checkpoint.problem}`));
    for (const error of data.errors) lines.push(chalk.red(`  channel ${error.channelId}, event ${error.eventId}: ${error.error}`));
    return lines.join('\n');
  },

  rechargeSet(
    data: Pick<RechargeView, 'account' | 'thresholdMillicredits' | 'packageName' | 'targetMillicredits' | 'method' | 'monthlyCapCents'> & { dryRun: boolean },
  ): string {
    return `${data.dryRun ? 'dry run, nothing written: ' : ''}When ${data.account} falls below ${formatCredits(data.thresholdMillicredits)} credits, buy ${buys(data)}, at most ${formatEuros(data.monthlyCapCents)} a month.`;
  },

  rechargeOff(data: { account: string; removed: boolean }): string {
    return data.removed ? `${data.account} is no longer recharged automatically.` : `${data.account} had no automatic recharge.`;
  },

  rechargeScheduled(data: ScheduleView & { dryRun: boolean }): string {
    const first = data.servedMonth === null ? 'from this month' : 'from next month';
    return `${data.dryRun ? 'dry run, nothing written: ' : ''}Schedule ${data.id}: buy ${data.packageName} for ${data.account} by ${data.method} every month ${monthlyDay(data.dayOfMonth)}, ${first} (cron: \`credits recharge run\`).`;
  },

  rechargeScheduleRemoved(data: { id: number; account: string; dryRun: boolean }): string {
    return `${data.dryRun ? 'dry run, nothing written: ' : ''}Schedule ${data.id} of ${data.account} removed.`;
  },

  recharges(data: { rules: RechargeView[]; schedules: ScheduleView[] }, options: RenderOptions): string {
    const parts: string[] = [];
    if (data.rules.length === 0)
      parts.push('No automatic recharge. Set one with `credits recharge set --threshold N --package P --method card --monthly-cap EUR`.');
    else parts.push(rulesTable(data.rules, options));
    if (data.schedules.length > 0) parts.push(schedulesTable(data.schedules, options));
    return parts.join('\n\n');
  },

  rechargeRun(data: { rules: number; schedules: number; recharges: RechargeRunRow[] }): string {
    if (data.recharges.length === 0) {
      return `Checked ${data.rules} rule(s)${data.schedules > 0 ? ` and ${data.schedules} schedule(s)` : ''}: no recharge due.`;
    }
    return data.recharges
      .map(
        (row) =>
          `${row.scheduleId === null ? 'Recharged' : `Topped up (schedule ${row.scheduleId})`} ${row.account}: purchase ${row.id}, ${row.packageName} for ${formatEuros(row.priceCents)} (${row.status}).`,
      )
      .join('\n');
  },
};

function rulesTable(rules: RechargeView[], options: RenderOptions): string {
  const rows = rules.map((rule) => [
    rule.account,
    formatCredits(rule.thresholdMillicredits),
    rule.targetMillicredits === null ? `${rule.packageName} by ${rule.method}` : `up to ${formatCredits(rule.targetMillicredits)} by ${rule.method}`,
    formatCredits(rule.balanceMillicredits),
    `${formatEuros(rule.monthSpentCents)} of ${formatEuros(rule.monthlyCapCents)} (${rule.monthRecharges}×)`,
    rule.armed ? 'armed' : 'waits for the balance to recover',
  ]);
  return table(
    options,
    [
      { header: 'Account' },
      { header: 'Threshold', align: 'right' },
      { header: 'Buys' },
      { header: 'Balance', align: 'right' },
      { header: 'This month' },
      { header: 'State' },
    ],
    rows,
  );
}
