import { CreditsError } from '../core/errors.js';
import type { Context } from '../app/context.js';
import type { ServeRequest } from '../app/commands/serve.js';
import type { CommandOutput } from '../app/spec.js';
import type { ClusterOptions } from './app.js';

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

/** --advertise-url: an http(s) URL without path, query or credentials (other servers send writes there). */
export function parseAdvertiseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text.trim());
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.username !== '' || url.password !== '' || url.search !== '' || url.pathname !== '/') {
    throw new CreditsError('INVALID_VALUE', `--advertise-url "${text}" is not an http(s) URL of this server`, {
      hint: 'the address the other servers reach this one at, like http://10.0.0.5:8787',
    });
  }
  return url.origin;
}

/** The options of several servers of one ledger, or undefined for a server of its own. */
function clusterOptions(request: ServeRequest): ClusterOptions | undefined {
  if (request.advertiseUrl === undefined) {
    if (request.replicaDb !== undefined)
      throw new CreditsError('USAGE', '--replica-db needs --advertise-url', { hint: 'a replica serves the reads of servers that share one ledger' });
    return undefined;
  }
  const leaseMs = parseSeconds(request.lease, '--lease', 600);
  if (leaseMs < 500) throw new CreditsError('INVALID_VALUE', `--lease "${request.lease}" is shorter than 0.5 seconds`, { hint: 'like --lease 5' });
  return { advertiseUrl: parseAdvertiseUrl(request.advertiseUrl), leaseMs, replicaLocation: request.replicaDb };
}

/** Runs `credits serve` for the CLI (see src/app/commands/serve.ts): parses its flags and serves until stopped. */
export async function startServe(request: ServeRequest, context: Context): Promise<CommandOutput> {
  const { host, port } = parseListen(request.listen);
  const bodyLimit = parseSize(request.bodyLimit, '--body-limit');
  const tokenCacheMs = parseSeconds(request.tokenCache, '--token-cache', 3600);
  const graceMs = parseSeconds(request.grace, '--grace', 3600);
  const capabilities = { commandChannels: request.allowCommandChannels };
  const cluster = clusterOptions(request);
  await context.settings();
  const db = await context.db();
  const [{ serve }, { APP_COMMANDS }] = await Promise.all([import('./app.js'), import('../app/registry.js')]);
  const quiet = context.config.quiet;
  const summary = await serve({
    db,
    config: context.config,
    commands: APP_COMMANDS,
    host,
    port,
    bodyLimit,
    tokenCacheMs,
    graceMs,
    capabilities,
    cluster,
    // --quiet keeps its meaning: no line for a request that went well.
    logLevel: request.logLevel ?? (quiet ? 'warn' : 'info'),
    log: (line) => {
      if (!quiet || line.startsWith('error')) process.stderr.write(`${line}\n`);
    },
  });
  return {
    view: 'message',
    data: { ...summary, message: `credits serve stopped (${summary.stoppedBy}) after ${summary.requests.toLocaleString('en-US')} request(s)` },
  };
}
