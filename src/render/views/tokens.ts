import { formatLocalDateTime } from '../../core/time.js';
import { palette, table, type RenderOptions } from '../style.js';

type Created = {
  tokenId: number;
  name: string;
  role: string;
  department: string | null;
  expiresAtMs: number | null;
  token: string | null;
  dryRun: boolean;
  replayed: boolean;
};
type Listed = {
  tokens: {
    id: number;
    name: string;
    role: string;
    department: string | null;
    status: string;
    createdAtMs: number;
    createdBy: string;
    expiresAtMs: number | null;
    revokedAtMs: number | null;
  }[];
};
type LoggedIn = { server: string; file: string; tokenId: number; tokenName: string; role: string; department: string | null };
type Revoked = { tokenId: number; name: string; alreadyRevoked: boolean; dryRun: boolean; replayed: boolean };

function describe(data: Created, options: RenderOptions): string {
  const parts = [`role ${data.role}`, data.department === null ? 'all departments' : `department ${data.department} only`];
  parts.push(data.expiresAtMs === null ? 'no expiry' : `valid until ${formatLocalDateTime(data.expiresAtMs, options.timeZone)}`);
  return `API token ${data.tokenId} "${data.name}" (${parts.join(', ')})`;
}

/** Views of `credits token ...`, registered when a token command runs (see tokens.ts). */
export const tokenViews = {
  tokenCreated(data: Created, options: RenderOptions): string {
    const chalk = palette(options);
    if (data.dryRun) return `${chalk.cyan('dry run, nothing written:')} would create ${describe(data, options)}.`;
    if (data.replayed || data.token === null)
      return `${chalk.dim('already done (same idempotency key):')} ${describe(data, options)} exists; its secret was shown once, when it was created.`;
    return [
      `${chalk.green('✔')} Created ${describe(data, options)}:`,
      '',
      `  ${chalk.bold(data.token)}`,
      '',
      'It is shown this once and only its hash is kept: store it now (for example as CREDITS_TOKEN in your CI secrets).',
    ].join('\n');
  },

  tokens(data: Listed, options: RenderOptions): string {
    if (data.tokens.length === 0) return 'No API tokens yet. Create one with `credits token create --role ROLE`.';
    const chalk = palette(options);
    const status = (text: string): string => (text === 'active' ? chalk.green(text) : chalk.dim(text));
    return table(
      options,
      [
        { header: 'Id', align: 'right' },
        { header: 'Name' },
        { header: 'Role' },
        { header: 'Department' },
        { header: 'Status' },
        { header: 'Created' },
        { header: 'Expires' },
      ],
      data.tokens.map((row) => [
        String(row.id),
        row.name,
        row.role,
        row.department ?? 'all',
        status(row.status),
        `${formatLocalDateTime(row.createdAtMs, options.timeZone)} by ${row.createdBy}`,
        row.expiresAtMs === null ? '–' : formatLocalDateTime(row.expiresAtMs, options.timeZone),
      ]),
    );
  },

  tokenRevoked(data: Revoked, options: RenderOptions): string {
    const chalk = palette(options);
    if (data.dryRun) return `${chalk.cyan('dry run, nothing written:')} would revoke API token ${data.tokenId} "${data.name}".`;
    if (data.alreadyRevoked) return `API token ${data.tokenId} "${data.name}" was already revoked.`;
    return `${chalk.green('✔')} Revoked API token ${data.tokenId} "${data.name}": requests with it are refused from now on.`;
  },

  login(data: LoggedIn, options: RenderOptions): string {
    const chalk = palette(options);
    const scope = data.department === null ? 'all departments' : `department ${data.department} only`;
    return [
      `${chalk.green('✔')} Logged in to ${data.server} with API token ${data.tokenId} "${data.tokenName}" (role ${data.role}, ${scope}).`,
      `Stored in ${data.file} (readable by you only). Commands now run through this server unless --db, --server, CREDITS_DB or CREDITS_SERVER say otherwise; \`credits logout\` forgets it.`,
    ].join('\n');
  },

  logout(data: { file: string; removed: boolean }, options: RenderOptions): string {
    if (!data.removed) return `Not logged in: ${data.file} does not exist. Nothing to do.`;
    return `${palette(options).green('✔')} Logged out: removed ${data.file}. The token itself stays valid until an admin revokes it.`;
  },
};
