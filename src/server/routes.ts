import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CreditsError } from '../core/errors.js';
import { optionKey, type CommandSpec } from '../app/spec.js';
import { runCommand, type CommandResult } from './commandRunner.js';
import { errorDocument, httpStatusOf } from './errors.js';
import type { ServerState } from './state.js';

/**
 * Endpoints for external systems. Each one is a command of the CLI with its flags as query or
 * body fields (camelCase: minCredits, asOf), run through the same handler, role check and
 * department scope as POST /v1/commands/NAME. The response is the command's `--json` document.
 */
export type RestRoute = {
  method: 'GET' | 'POST';
  url: string;
  command: string;
  /** Names of the command's arguments as fields, in order. */
  args?: string[];
  /** URL parameters that fill arguments. */
  params?: string[];
  /** Options the route does not offer (files on the server, other output formats). */
  omit?: string[];
  /** Options the route always sets. */
  fixed?: Record<string, string>;
  /** The route answers with the command's file itself (its media type), named from the data. */
  fileName?: (data: Record<string, unknown>) => string;
};

export const REST_ROUTES: RestRoute[] = [
  { method: 'GET', url: '/v1/balances', command: 'balance', args: ['account'] },
  { method: 'GET', url: '/v1/check', command: 'check' },
  { method: 'GET', url: '/v1/report', command: 'report', omit: ['format', 'output'] },
  { method: 'GET', url: '/v1/forecast', command: 'forecast' },
  { method: 'GET', url: '/v1/purchases', command: 'purchases' },
  { method: 'POST', url: '/v1/purchases', command: 'buy', args: ['package'] },
  { method: 'POST', url: '/v1/purchases/:id/settle', command: 'purchases settle', params: ['id'] },
  { method: 'POST', url: '/v1/purchases/:id/cancel', command: 'purchases cancel', params: ['id'] },
  // `--kind transfer` lists what `credits transfer` made: allocations out of the pool and moves between departments.
  { method: 'GET', url: '/v1/transfers', command: 'history', omit: ['kind', 'user', 'model'], fixed: { kind: 'transfer' } },
  { method: 'POST', url: '/v1/transfers', command: 'transfer', args: ['amount'] },
  // GET /v1/statement?month=2026-10&format=pdf answers with the PDF (or CSV, JSON, DATEV CSV) itself.
  {
    method: 'GET',
    url: '/v1/statement',
    command: 'statement',
    omit: ['output'],
    fixed: { output: 'statement' },
    // A DATEV file is a CSV whose name starts with EXTF_, as DATEV's import expects.
    fileName: (data) =>
      `${data.format === 'datev' ? 'EXTF_' : ''}statement-${String(data.monthKey)}${data.department ? `-${String(data.department)}` : ''}.${data.format === 'datev' ? 'csv' : String(data.format)}`,
  },
];

function plainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Query or body fields -> the command's arguments and options; unknown fields are refused. */
function inputFromFields(
  spec: CommandSpec,
  route: RestRoute,
  fields: Record<string, unknown>,
  params: Record<string, string>,
): { args: (string | null)[]; options: Record<string, unknown> } {
  const argNames = route.args ?? [];
  const optionKeys = new Set(
    (spec.options ?? []).map((option) => optionKey(option.flags)).filter((key) => !(route.omit ?? []).includes(key) && !(key in (route.fixed ?? {}))),
  );
  if (spec.mutating) for (const key of ['dryRun', 'idempotencyKey']) optionKeys.add(key);
  const args: (string | null)[] = (route.params ?? []).map((name) => params[name] ?? null);
  const options: Record<string, unknown> = { ...(route.fixed ?? {}) };
  for (const [key, value] of Object.entries(fields)) {
    const argIndex = argNames.indexOf(key);
    if (argIndex >= 0) {
      args[(route.params ?? []).length + argIndex] = value === null || value === undefined ? null : String(value);
    } else if (optionKeys.has(key)) {
      // Switches arrive as true/false in JSON and as "true"/"false" in a query string.
      options[key] = value === 'true' ? true : value === 'false' ? false : value;
    } else {
      throw new CreditsError('UNKNOWN_FLAG', `unknown field '${key}' for ${route.method} ${route.url}`, {
        hint: `the fields are ${[...argNames, ...optionKeys].join(', ') || 'none'}`,
      });
    }
  }
  while (args.length > 0 && (args[args.length - 1] === null || args[args.length - 1] === undefined)) args.pop();
  return { args: args.map((value) => value ?? null), options };
}

/** A file name for Content-Disposition: ASCII letters, digits, dot, dash and underscore only. */
function headerFileName(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(0, 120) || 'file'
  );
}

function sendResult(reply: FastifyReply, state: ServerState, result: CommandResult, shape: 'command' | 'rest', route?: RestRoute): FastifyReply {
  const status = result.failure ? httpStatusOf(result.failure.code) : 200;
  if (result.failure && status === 422) state.metrics.refusal(result.failure.code);
  if (shape === 'rest' && route?.fileName && result.file && !result.failure) {
    const name = headerFileName(route.fileName(result.data as Record<string, unknown>));
    return reply
      .code(200)
      .header('content-type', result.file.mediaType)
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(Buffer.from(result.file.bytes));
  }
  if (shape === 'rest') {
    return reply.code(status).send(result.failure ? { error: errorDocument(result.failure), data: result.data } : result.data);
  }
  return reply.code(status).send({
    view: result.view,
    data: result.data,
    timeZone: result.timeZone,
    ...(result.file ? { file: { name: result.file.name, mediaType: result.file.mediaType, base64: Buffer.from(result.file.bytes).toString('base64') } } : {}),
    ...(result.failure ? { error: errorDocument(result.failure) } : {}),
  });
}

/** A command path as sent (purchases/settle, purchases%20settle); a broken escape is no command. */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new CreditsError('UNKNOWN_COMMAND', 'the command path is not valid percent-encoding', { hint: 'see `credits --help` for the commands' });
  }
}

/** The command of POST /v1/commands/PATH: purchases/settle, purchases%20settle and purchases.settle alike. */
export function commandNameOf(path: string): string {
  return decodedPath(path)
    .split(/[/\s.]+/)
    .filter(Boolean)
    .join(' ');
}

/**
 * A command's result as the route answers it; LEASE_LOST (this server no longer holds the writer
 * lease, nothing was written) is thrown instead, for the error handler to pass the request on.
 */
function leaseChecked(result: CommandResult): CommandResult {
  if (result.failure?.code === 'LEASE_LOST') throw result.failure;
  return result;
}

export function commandRoutes(app: FastifyInstance, state: ServerState, commands: readonly CommandSpec[]): void {
  const byName = new Map(commands.map((spec) => [spec.name, spec]));
  const deps = {
    db: state.db,
    config: state.config,
    timeZone: () => state.timeZone(),
    changed: (family: string | undefined) => state.changed(family),
    capabilities: state.capabilities,
  };

  // POST /v1/commands/purchases/settle (or purchases%20settle) {"args": ["3"], "options": {"dryRun": true}}
  app.post('/v1/commands/*', async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const name = commandNameOf(request.params['*'] ?? '');
    const principal = await state.authenticate(request);
    const spec = byName.get(name);
    if (!spec) throw new CreditsError('UNKNOWN_COMMAND', `unknown command '${name}'`, { hint: 'see `credits --help` for the commands' });
    const body = request.body ?? {};
    if (!plainObject(body)) throw new CreditsError('USAGE', 'the body must be {"args": [...], "options": {...}}');
    for (const key of Object.keys(body)) {
      if (!['args', 'options', 'input'].includes(key))
        throw new CreditsError('UNKNOWN_FLAG', `unknown field '${key}'`, { hint: 'the body is {"args": [...], "options": {...}} (and "input" for a file)' });
    }
    (request as { commandName?: string }).commandName = spec.name;
    const result = leaseChecked(await runCommand(deps, spec, body, { principal }));
    return sendResult(reply, state, result, 'command');
  });

  for (const route of REST_ROUTES) {
    const spec = byName.get(route.command);
    if (!spec) continue;
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const principal = await state.authenticate(request);
        const fields = route.method === 'GET' ? (request.query ?? {}) : (request.body ?? {});
        if (!plainObject(fields)) throw new CreditsError('USAGE', 'the body must be a JSON object of fields');
        if (route.method === 'POST' && request.query && Object.keys(request.query as object).length > 0)
          throw new CreditsError('UNKNOWN_FLAG', `${route.url} takes its fields in the JSON body, not the query string`);
        const { args, options } = inputFromFields(spec, route, fields, (request.params ?? {}) as Record<string, string>);
        const key = request.headers['idempotency-key'];
        if (spec.mutating && typeof key === 'string' && options.idempotencyKey === undefined) options.idempotencyKey = key;
        return sendResult(reply, state, leaseChecked(await runCommand(deps, spec, { args, options }, { principal })), 'rest', route);
      },
    });
  }
}
