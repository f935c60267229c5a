import { CreditsError } from '../core/errors.js';
import { stringOption } from '../cli/parse.js';
import type { CommandSpec } from '../cli/spec.js';

/** `--listen` as host and port: 127.0.0.1:8787, [::1]:8787, :8787 or 8787. */
export function parseListen(text: string): { host: string; port: number } {
  const trimmed = text.trim();
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]*))?:?(\d{1,5})$/.exec(trimmed);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535 || (!trimmed.includes(':') && match[2])) {
    throw new CreditsError('INVALID_VALUE', `--listen "${text}" is not HOST:PORT`, { hint: 'like 127.0.0.1:8787, 0.0.0.0:8787 or [::1]:8787' });
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

/** A size in bytes: 1048576, 512kb, 16mb. */
export function parseSize(text: string, field: string): number {
  const match = /^(\d{1,10})\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  const unit = (match?.[2] ?? 'b').toLowerCase();
  const bytes = match ? Number(match[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1) : NaN;
  if (!match || bytes < 1024 || bytes > 1024 * 1024 * 1024)
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a size from 1kb to 1024mb`, { hint: `like ${field} 16mb` });
  return bytes;
}

function parseSeconds(text: string, field: string, max: number): number {
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(text.trim()) || Number(text) > max)
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a number of seconds from 0 to ${max}`);
  return Math.round(Number(text) * 1000);
}

export const serveCommands: CommandSpec[] = [
  {
    name: 'serve',
    summary: 'serve the ledger over HTTP (JSON API for external systems and `--server` remote mode) until SIGTERM',
    ledger: 'existing',
    options: [
      { flags: '--listen <host:port>', description: 'where to listen', defaultValue: '127.0.0.1:8787' },
      { flags: '--body-limit <size>', description: 'largest request body, like 16mb (uploads of `usage import` over --server count)', defaultValue: '16mb' },
      {
        flags: '--token-cache <seconds>',
        description: 'how long a checked token is trusted before it is read again (revocations through this server apply at once)',
        defaultValue: '1',
      },
      { flags: '--grace <seconds>', description: 'on SIGTERM, how long requests in flight may take to finish', defaultValue: '10' },
      {
        flags: '--allow-command-channels',
        description: "let admin tokens add `command` notification channels (shell commands run as the server's user) over the API",
      },
    ],
    examples: [
      'credits serve',
      'credits serve --listen 0.0.0.0:8787 --db /srv/credits/ledger.db',
      'CREDITS_DB=libsql://ledger.example.turso.io credits serve --listen :8080',
      'credits serve --allow-command-channels   # admins may add `notify channel add command CMD` over the API',
    ],
    async run(input, context) {
      const { host, port } = parseListen(stringOption(input, 'listen') ?? '127.0.0.1:8787');
      const bodyLimit = parseSize(stringOption(input, 'bodyLimit') ?? '16mb', '--body-limit');
      const tokenCacheMs = parseSeconds(stringOption(input, 'tokenCache') ?? '1', '--token-cache', 3600);
      const graceMs = parseSeconds(stringOption(input, 'grace') ?? '10', '--grace', 3600);
      const capabilities = { commandChannels: input.options.allowCommandChannels === true };
      await context.settings();
      const db = await context.db();
      const [{ serve }, { COMMANDS }] = await Promise.all([import('./app.js'), import('../cli/registry.js')]);
      const quiet = context.config.quiet;
      const summary = await serve({
        db,
        config: context.config,
        commands: COMMANDS,
        host,
        port,
        bodyLimit,
        tokenCacheMs,
        graceMs,
        capabilities,
        log: (line) => {
          if (!quiet || line.startsWith('error')) process.stderr.write(`${line}\n`);
        },
      });
      return {
        view: 'message',
        data: { ...summary, message: `credits serve stopped (${summary.stoppedBy}) after ${summary.requests.toLocaleString('en-US')} request(s)` },
      };
    },
  },
];
