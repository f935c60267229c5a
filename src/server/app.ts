import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { CreditsError } from '../core/errors.js';
import type { Config } from '../config.js';
import type { CommandSpec } from '../app/spec.js';
import type { Database } from '../store/driver.js';
import { Deadline, DeadlineExpired } from '../store/deadline.js';
import type { ServerCapabilities } from './capabilities.js';
import { asCreditsError, errorDocument, httpStatusOf } from './errors.js';
import { clusterLedger, openServerLedger, requestReads } from './ledger.js';
import { forwardWrite, hopsOf, MAX_HOPS, type ForwardOptions } from './forward.js';
import { WriterLease } from './lease.js';
import { openReplica } from '../store/open.js';
import { readLease } from '../store/writerLease.js';
import { commandNameOf, commandRoutes } from './routes.js';
import { openApiDocument } from './openapi.js';
import { ServerState } from './state.js';
import { usageRoutes } from './usageRoutes.js';
import { holdRoutes } from './holdRoutes.js';
import { requestIdOf, requestLine, requestLogger, type LogLevel } from './requestLog.js';

declare const CREDITS_VERSION: string | undefined;
const VERSION = typeof CREDITS_VERSION === 'string' ? CREDITS_VERSION : '0.0.0-dev';

export type ServeOptions = {
  db: Database;
  config: Config;
  commands: readonly CommandSpec[];
  host: string;
  port: number;
  bodyLimit: number;
  tokenCacheMs: number;
  capabilities: ServerCapabilities;
  /** How long shutdown waits for requests in flight before it closes their connections. */
  graceMs: number;
  /** The request log's level (one JSON line per request on stdout). */
  logLevel: LogLevel;
  log(line: string): void;
  /** Several servers, one ledger (serve --advertise-url): the writer lease, and a read replica. */
  cluster?: ClusterOptions | undefined;
};

export type ClusterOptions = { advertiseUrl: string; leaseMs: number; replicaLocation: string | undefined };

export type ServeSummary = { url: string; requests: number; stoppedBy: string };

/** Builds the HTTP API over an open ledger; nothing listens until `listen`. */
export function buildServer(
  state: ServerState,
  commands: readonly CommandSpec[],
  options: { bodyLimit: number; logLevel?: LogLevel; log(line: string): void; forward?: ForwardOptions | undefined },
): FastifyInstance {
  const app = Fastify({
    logger: requestLogger(options.logLevel ?? 'silent'),
    // One line per request, written when it is answered (fastify's own two are left out).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Validation must refuse unknown fields, never drop them silently.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });

  app.addHook('onRequest', async (request) => {
    state.metrics.inFlight += 1;
    (request as { startedAt?: bigint }).startedAt = process.hrtime.bigint();
  });
  // Every answer, an error's included, names its request.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    state.metrics.inFlight -= 1;
    const started = (request as { startedAt?: bigint }).startedAt ?? process.hrtime.bigint();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const command = (request as { commandName?: string }).commandName;
    const route = command ? `/v1/commands/${command.replace(/ /g, '/')}` : (request.routeOptions.url ?? 'unmatched');
    state.metrics.request(request.method, route, reply.statusCode, seconds);
    requestLine(request, reply.statusCode, seconds * 1000);
  });

  if (options.forward) forwarding(app, options.forward, commands);

  app.setErrorHandler(async (error, request, reply) => {
    let failure = asCreditsError(error);
    // This server lost the writer lease under the request (nothing was written): the holder gets it.
    if (failure.code === 'LEASE_LOST' && options.forward && !reply.sent && !(request as { forwarded?: boolean }).forwarded && hopsOf(request) < MAX_HOPS) {
      (request as { forwarded?: boolean }).forwarded = true;
      try {
        if ((await forwardWrite(request, reply, options.forward)) === 'answered') return reply;
      } catch (forwardError) {
        failure = asCreditsError(forwardError);
      }
    }
    const status = httpStatusOf(failure.code);
    if (status === 422) state.metrics.refusal(failure.code);
    if (status === 403) state.metrics.forbid();
    if (failure.code === 'INTERNAL')
      options.log(`error on ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return reply.code(status).send({ error: errorDocument(failure) });
  });

  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `no endpoint ${request.method} ${request.url.split('?')[0]}`,
        hint: 'see the README section "HTTP API" for the endpoints',
      },
    });
  });

  app.get('/health', async (_request, reply) => {
    try {
      await Deadline.starting(Date.now(), HEALTH_WAIT_MS, HEALTH_WAIT_MS).race(state.db.get('SELECT 1 AS ok'), 'read');
      return { ok: true, version: VERSION, ledger: state.db.kind };
    } catch (error) {
      const failure = error instanceof DeadlineExpired ? unreachableLedger(state.db.location) : asCreditsError(error);
      return reply.code(503).send({ ok: false, version: VERSION, ledger: state.db.kind, error: errorDocument(failure) });
    }
  });

  // Who a token acts as: `credits login` checks a token here before it stores it. Any valid token may ask.
  app.get('/v1/whoami', async (request) => {
    const principal = await state.authenticate(request);
    return { tokenId: principal.tokenId, name: principal.tokenName, role: principal.role, department: principal.department, actor: principal.actor };
  });

  const openApi = JSON.stringify(openApiDocument(commands, VERSION));
  app.get('/openapi.json', async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(openApi));

  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(state.metrics.render());
  });

  usageRoutes(app, state);
  holdRoutes(app, state);
  commandRoutes(app, state, commands);
  return app;
}

/** Whether a request writes: every API request but GET, and POST /v1/commands/NAME of a mutating command. */
function writes(request: FastifyRequest, mutating: ReadonlyMap<string, boolean>): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  const path = request.url.split('?')[0] ?? '';
  if (!path.startsWith('/v1/')) return false;
  if (!path.startsWith('/v1/commands/')) return true;
  try {
    return mutating.get(commandNameOf(path.slice('/v1/commands/'.length))) !== false;
  } catch {
    return false;
  }
}

/**
 * Several servers, one ledger: each request's reads choose their source once (requestReads, see
 * clusterLedger), and a write that reaches a server without the writer lease goes to the holder
 * before this server reads or writes anything for it.
 */
function forwarding(app: FastifyInstance, forward: ForwardOptions, commands: readonly CommandSpec[]): void {
  const mutating = new Map(commands.map((spec) => [spec.name, spec.mutating === true]));
  // Callback style: what runs after done() (hooks, handler) inherits the request's store.
  // /health reads the primary (no store): it says whether the database answers, within 1 s, never waiting for a replica.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url === '/health') done();
    else requestReads.run({}, done);
  });
  app.addHook('preHandler', async (request, reply) => {
    if (!writes(request, mutating) || forward.lease.held() || hopsOf(request) >= MAX_HOPS) return;
    (request as { forwarded?: boolean }).forwarded = true;
    if ((await forwardWrite(request, reply, forward)) === 'answered') return reply;
  });
}

/** /health answers within this whatever the ledger does: a monitor must tell "down" from "slow". */
const HEALTH_WAIT_MS = 900;

function unreachableLedger(location: string): CreditsError {
  return new CreditsError('STORAGE_TIMEOUT', `the ledger ${location} did not answer within ${HEALTH_WAIT_MS} ms: it is unreachable or stalled`, {
    hint: 'check the database server; the credits server keeps running and answers again once it does',
  });
}

/**
 * Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish (up to
 * graceMs), waits for queued usage events to be posted and closes its read connection. The
 * caller closes the ledger itself.
 */
/** Listens, or says which address could not be had and why: exit 6 when taken, 2 when it is no address. */
async function listenOn(app: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why = code === 'EADDRINUSE' ? 'is in use' : code === 'EACCES' ? 'needs privileges this user lacks' : 'is not an address of this machine';
      throw new CreditsError('ADDRESS_UNAVAILABLE', `cannot listen on ${address}: the address ${why}`, {
        hint: 'pick another with --listen, like --listen 127.0.0.1:8788',
        cause: error,
      });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
      throw new CreditsError('INVALID_VALUE', `--listen ${address}: the host "${host}" does not resolve`, {
        hint: 'give an IP address or a name this machine resolves, like 127.0.0.1:8787',
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * A server started without --advertise-url writes without the lease: next to servers that hold
 * it, it would be a second writer. It does not start while another server holds a live lease.
 */
async function refuseBesideLeaseHolder(db: Database): Promise<void> {
  // Only a ledger without the lease table (none) lets it start unasked; any other failure stops it.
  const lease = await readLease(db).catch((error: unknown) => {
    if (/no such table/i.test(String((error as Error)?.message))) return undefined;
    throw error;
  });
  if (lease === undefined || lease.holder === '' || lease.expiresMs <= lease.nowMs) return;
  await db.close();
  throw new CreditsError('USAGE', `the ledger ${db.location} is served by several servers: ${lease.url} holds its writer lease`, {
    hint: 'start this server with --advertise-url URL (the URL the others reach it at) to join them, or stop them first',
  });
}

/** The ledger a server works on: its own, or a share of one with other servers (the lease, a replica). */
async function serverLedger(options: ServeOptions): Promise<{ db: Database; forward?: ForwardOptions }> {
  const primary = await openServerLedger(options.config, options.db);
  const cluster = options.cluster;
  if (cluster === undefined) {
    await refuseBesideLeaseHolder(primary);
    return { db: primary };
  }
  const { config } = options;
  let replica: Database | undefined;
  try {
    if (cluster.replicaLocation !== undefined)
      replica = await openReplica({
        location: cluster.replicaLocation,
        authToken: config.authToken,
        busyTimeoutMs: config.busyTimeoutMs,
        timeoutMs: config.dbTimeoutMs,
      });
  } catch (error) {
    await primary.close();
    throw error;
  }
  const lease = new WriterLease(primary, { advertiseUrl: cluster.advertiseUrl, leaseMs: cluster.leaseMs, log: options.log });
  await lease.start();
  const timeoutMs = Math.max(config.dbTimeoutMs ?? 30_000, 1000);
  // A dead holder is replaced within about 1.3 leases: a write waits that long (and a little) for the next one.
  return { db: clusterLedger(primary, replica, lease), forward: { lease, timeoutMs, waitForHolderMs: Math.ceil(cluster.leaseMs * 1.5) + 1000 } };
}

export async function serve(options: ServeOptions): Promise<ServeSummary> {
  const { db, forward } = await serverLedger(options);
  const state = new ServerState(db, options.config, { tokenCacheMs: options.tokenCacheMs }, options.capabilities);
  await requestReads.run({}, () => state.timeZone());
  const app = buildServer(state, options.commands, { ...options, forward });
  let stoppedBy = 'signal';
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await listenOn(app, options.host, options.port);
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${host}:${port}`;
    options.log(`credits serve: listening on ${url} (ledger ${db.location})`);
    if (!/^(127\.|localhost$|::1$|\[::1\]$)/.test(options.host)) {
      options.log('credits serve: plain HTTP on a non-loopback address: put a TLS proxy in front so that tokens never cross a network in clear text');
    }
    if (options.capabilities.commandChannels) {
      options.log("credits serve: --allow-command-channels: admin tokens may add shell commands that notify runs as this server's user");
    }
    stoppedBy = await stopped;
    options.log(`credits serve: ${stoppedBy}: stopping, finishing ${state.metrics.inFlight} request(s) in flight`);
    const grace = setTimeout(() => app.server.closeAllConnections(), options.graceMs);
    try {
      await app.close();
    } finally {
      clearTimeout(grace);
    }
    await state.coalescer.idle();
    return { url, requests: state.metrics.requestCount, stoppedBy };
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await db.close();
  }
}
