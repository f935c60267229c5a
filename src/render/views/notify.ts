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
  checkpoint?: { dayKey: string; outcome: string; problem: string | null } | null;
  delivered: number;
  retrying: number;
  failed: number;
  errors: { channelId: number; eventId: string; error: string }[];
};
type RechargeView = {
  account: string;
  thresholdMillicredits: number;
  packageName: string;
  method: string;
  monthlyCapCents: number;
  armed: boolean;
  balanceMillicredits: number;
  monthSpentCents: number;
  monthRecharges: number;
};

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
    if (data.checkpoint?.outcome === 'queued') lines.push(`Queued the checkpoint of ${data.checkpoint.dayKey}.`);
    if (data.checkpoint?.outcome === 'damaged') lines.push(chalk.red(`Checkpoint of ${data.checkpoint.dayKey} not signed: ${data.checkpoint.problem}`));
    for (const error of data.errors) lines.push(chalk.red(`  channel ${error.channelId}, event ${error.eventId}: ${error.error}`));
    return lines.join('\n');
  },

  rechargeSet(data: { account: string; thresholdMillicredits: number; packageName: string; method: string; monthlyCapCents: number; dryRun: boolean }): string {
    return `${data.dryRun ? 'dry run, nothing written: ' : ''}When ${data.account} falls below ${formatCredits(data.thresholdMillicredits)} credits, buy ${data.packageName} by ${data.method}, at most ${formatEuros(data.monthlyCapCents)} a month.`;
  },

  rechargeOff(data: { account: string; removed: boolean }): string {
    return data.removed ? `${data.account} is no longer recharged automatically.` : `${data.account} had no automatic recharge.`;
  },

  recharges(data: { rules: RechargeView[] }, options: RenderOptions): string {
    if (data.rules.length === 0) return 'No automatic recharge. Set one with `credits recharge set --threshold N --package P --method card --monthly-cap EUR`.';
    const rows = data.rules.map((rule) => [
      rule.account,
      formatCredits(rule.thresholdMillicredits),
      `${rule.packageName} by ${rule.method}`,
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
  },

  rechargeRun(data: { rules: number; recharges: { id: number; account: string; packageName: string; priceCents: number; status: string }[] }): string {
    if (data.recharges.length === 0) return `Checked ${data.rules} rule(s): no recharge due.`;
    return data.recharges
      .map((row) => `Recharged ${row.account}: purchase ${row.id}, ${row.packageName} for ${formatEuros(row.priceCents)} (${row.status}).`)
      .join('\n');
  },
};
