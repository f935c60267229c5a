import { MUTATING_OPTIONS, optionKey, type CommandSpec, type OptionSpec } from '../app/spec.js';
import { EXIT_CODE_BY_ERROR_CODE } from '../core/errors.js';
import { REST_ROUTES, type RestRoute } from './routes.js';

/**
 * GET /openapi.json: an OpenAPI 3.1 description of every route, built from the same command
 * registry and route table the server builds its routes from, so the two cannot disagree.
 */
type Schema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const ERROR_CODES = Object.keys(EXIT_CODE_BY_ERROR_CODE);

const COMPONENTS = {
  securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token from `credits token create` (ctk_ID_SECRET)' } },
  schemas: {
    Error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: ERROR_CODES },
        message: { type: 'string' },
        hint: { type: 'string' },
      },
    },
    ErrorAnswer: {
      type: 'object',
      required: ['error'],
      properties: { error: { $ref: '#/components/schemas/Error' }, data: { type: 'object' } },
    },
    CommandAnswer: {
      type: 'object',
      properties: {
        view: { type: 'string' },
        data: { type: 'object' },
        timeZone: { type: 'string' },
        file: {
          type: 'object',
          required: ['name', 'mediaType', 'base64'],
          properties: { name: { type: 'string' }, mediaType: { type: 'string' }, base64: { type: 'string', contentEncoding: 'base64' } },
        },
        error: { $ref: '#/components/schemas/Error' },
      },
    },
    UsageEvent: {
      type: 'object',
      required: ['eventId', 'user', 'model'],
      description: 'one AI call; amounts in tokens, `at` an ISO 8601 instant (default now)',
      properties: {
        eventId: { type: 'string' },
        user: { type: 'string' },
        model: { type: 'string' },
        inputTokens: { type: ['integer', 'string'] },
        outputTokens: { type: ['integer', 'string'] },
        toolCalls: { type: ['integer', 'string'] },
        feature: { type: 'string' },
        images: { type: ['integer', 'string'] },
        imageSize: { type: 'string' },
        dbAccess: { type: ['boolean', 'string'] },
        at: { type: 'string' },
        tags: {
          description: 'labels to group reports by (`report --by tag:KEY`): at most 10, keys 1-32 of a-z 0-9 _ . -, values 1-128 characters without ";"',
          oneOf: [
            { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 10 },
            { type: 'string', description: 'the text form: project=apollo;team=ml' },
          ],
        },
      },
    },
  },
};

function answers(success: Record<string, unknown>): Record<string, unknown> {
  const error = {
    description: 'refused or failed: the error code says why',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorAnswer' } } },
  };
  return { ...success, '400': error, '401': error, '403': error, '404': error, '409': error, '413': error, '422': error, '500': error, '503': error };
}

function json(schema: Schema, description: string): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } };
}

function takesValue(option: OptionSpec): boolean {
  return /[<[]/.test(option.flags);
}

function optionSchema(option: OptionSpec): Schema {
  if (!takesValue(option)) return { type: 'boolean', description: option.description };
  const closed = option.choices && !option.openChoices;
  const value: Schema = { type: ['string', 'number'], ...(closed ? { enum: [...option.choices!] } : {}) };
  if (option.repeatable) return { description: option.description, oneOf: [value, { type: 'array', items: value }] };
  return { ...value, description: option.description, ...(option.choices && !closed ? { examples: [...option.choices] } : {}) };
}

function commandOptions(spec: CommandSpec): OptionSpec[] {
  return [...(spec.options ?? []), ...(spec.mutating ? MUTATING_OPTIONS : [])];
}

/** POST /v1/commands/NAME: one path per command, its arguments and options as the body. */
function commandPath(spec: CommandSpec): [string, Record<string, Operation>] {
  const properties = Object.fromEntries(commandOptions(spec).map((option) => [optionKey(option.flags), optionSchema(option)]));
  const args = spec.arguments ?? [];
  const body: Schema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      args: {
        type: 'array',
        maxItems: args.length,
        items: { type: ['string', 'null'] },
        description: args.map((arg) => `${arg.name}: ${arg.description}`).join('; '),
      },
      options: { type: 'object', additionalProperties: false, properties },
      ...(spec.files?.inputArgument === undefined
        ? {}
        : { input: { type: 'object', required: ['name', 'content'], properties: { name: { type: 'string' }, content: { type: 'string' } } } }),
    },
  };
  return [
    `/v1/commands/${spec.name.split(' ').join('/')}`,
    {
      post: {
        operationId: `command_${spec.name.replace(/\s+/g, '_')}`,
        summary: spec.summary,
        tags: ['commands'],
        security: [{ bearer: [] }],
        requestBody: { required: false, content: { 'application/json': { schema: body } } },
        responses: answers({ '200': json({ $ref: '#/components/schemas/CommandAnswer' }, 'the command ran: `data` is its --json document') }),
      },
    },
  ];
}

/** A REST route: its command's options as query parameters (GET) or body fields (POST). */
function restOperation(route: RestRoute, spec: CommandSpec): Operation {
  const omitted = new Set([...(route.omit ?? []), ...Object.keys(route.fixed ?? {})]);
  const fields = new Map<string, Schema>();
  for (const name of route.args ?? []) fields.set(name, { type: 'string', description: spec.arguments?.find((arg) => arg.name === name)?.description ?? name });
  for (const option of commandOptions(spec)) {
    const key = optionKey(option.flags);
    if (!omitted.has(key) && (spec.mutating || !MUTATING_OPTIONS.includes(option))) fields.set(key, optionSchema(option));
  }
  const pathParameters = (route.params ?? []).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  const success = route.fileName
    ? {
        description: 'the file itself (or its JSON document with format=json)',
        content: {
          'application/pdf': { schema: { type: 'string', contentEncoding: 'binary' } },
          'text/csv': { schema: { type: 'string' } },
          'application/json': { schema: { type: 'object' } },
        },
      }
    : json({ type: 'object' }, "the command's --json document");
  const operation: Operation = {
    operationId: `${route.method.toLowerCase()}_${route.url.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}`,
    summary: spec.summary,
    tags: ['rest'],
    security: [{ bearer: [] }],
    responses: answers({ '200': success, ...(route.method === 'POST' ? { '201': success } : {}) }),
  };
  if (route.method === 'GET') {
    const query = [...fields].map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      // A query string carries text: a switch is "true" or "false".
      schema: schema.enum ? { type: 'string', enum: schema.enum } : { type: 'string' },
      description: String(schema.description ?? ''),
    }));
    return { ...operation, parameters: [...pathParameters, ...query] };
  }
  const body = { type: 'object', additionalProperties: false, properties: Object.fromEntries(fields) };
  return {
    ...operation,
    parameters: [...pathParameters, ...(spec.mutating ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }] : [])],
    requestBody: { required: false, content: { 'application/json': { schema: body } } },
  };
}

function usagePaths(): Record<string, Record<string, Operation>> {
  const dryRun = { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false', '1', '0'] } };
  return {
    '/v1/usage': {
      post: {
        operationId: 'post_usage',
        summary: 'post one usage event: priced, checked against balance and limits, idempotent by eventId',
        tags: ['usage'],
        security: [{ bearer: [] }],
        parameters: [dryRun],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/UsageEvent' } } } },
        responses: answers({ '200': json({ type: 'object' }, 'a duplicate (or a dry run): the first result'), '201': json({ type: 'object' }, 'posted') }),
      },
    },
    '/v1/usage/batch': {
      post: {
        operationId: 'post_usage_batch',
        summary: 'post up to 10,000 usage events in one write; refused and malformed events are reported, the rest posted',
        tags: ['usage'],
        security: [{ bearer: [] }],
        parameters: [dryRun],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['events'],
                additionalProperties: false,
                properties: { events: { type: 'array', minItems: 1, maxItems: 10_000, items: { $ref: '#/components/schemas/UsageEvent' } } },
              },
            },
          },
        },
        responses: answers({ '200': json({ type: 'object' }, 'the import totals') }),
      },
    },
  };
}

/** Holds: reserve before an AI call, capture its cost after, or release (see README "Holds"). */
function holdPaths(): Record<string, Record<string, Operation>> {
  const dryRun = { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false', '1', '0'] } };
  const key = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } };
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const operation = (operationId: string, summary: string, parameters: unknown[], body: Schema): Operation => ({
    operationId,
    summary,
    tags: ['holds'],
    security: [{ bearer: [] }],
    parameters,
    requestBody: { required: false, content: { 'application/json': { schema: body } } },
    responses: answers({ '200': json({ type: 'object' }, 'done before (a retry), or a dry run'), '201': json({ type: 'object' }, 'done') }),
  });
  return {
    '/v1/holds': {
      post: operation('post_hold', 'hold up to maxCredits for a call before it starts, checked as if spent', [dryRun, key], {
        type: 'object',
        required: ['user', 'model', 'maxCredits'],
        properties: {
          user: { type: 'string' },
          model: { type: 'string' },
          maxCredits: { type: ['string', 'number'] },
          expires: { type: 'string', description: 'like 30s, 10m, 2h (default 10m, at most 24h)' },
          feature: { type: 'string' },
          eventId: { type: 'string' },
        },
      }),
    },
    '/v1/holds/{id}/capture': {
      post: operation('capture_hold', "capture a hold with the call's usage: posts the event and releases the rest", [id, dryRun, key], {
        type: 'object',
        description: "the usage event's fields (inputTokens, outputTokens, ...) and allowOver",
      }),
    },
    '/v1/holds/{id}/release': {
      post: operation('release_hold', 'release a hold: its credits are available again', [id, dryRun, key], { type: 'object', additionalProperties: false }),
    },
  };
}

function servicePaths(): Record<string, Record<string, Operation>> {
  return {
    '/health': {
      get: {
        operationId: 'health',
        summary: 'whether the server and its ledger answer (within a second, whatever the database does)',
        tags: ['service'],
        responses: {
          '200': json({ type: 'object', required: ['ok'], properties: { ok: { const: true }, version: { type: 'string' }, ledger: { type: 'string' } } }, 'up'),
          '503': json(
            {
              type: 'object',
              required: ['ok', 'error'],
              properties: { ok: { const: false }, version: { type: 'string' }, ledger: { type: 'string' }, error: { $ref: '#/components/schemas/Error' } },
            },
            'the ledger does not answer',
          ),
        },
      },
    },
    '/v1/whoami': {
      get: {
        operationId: 'whoami',
        summary: 'the calling token: id, name, role, department scope, and the actor its requests are recorded as (`credits login` checks a token with it)',
        tags: ['service'],
        security: [{ bearer: [] }],
        responses: answers({
          '200': json(
            {
              type: 'object',
              required: ['tokenId', 'name', 'role', 'department', 'actor'],
              properties: {
                tokenId: { type: 'integer' },
                name: { type: 'string' },
                role: { type: 'string' },
                department: { type: ['string', 'null'] },
                actor: { type: 'string' },
              },
            },
            'the token is valid',
          ),
        }),
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags: ['service'],
        responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/v1/commands/{command}': {
      post: {
        operationId: 'unknown_command',
        summary: 'any other name: a command that does not exist (UNKNOWN_COMMAND) or is not offered over HTTP (FORBIDDEN)',
        tags: ['service'],
        security: [{ bearer: [] }],
        parameters: [{ name: 'command', in: 'path', required: true, schema: { type: 'string' } }],
        responses: answers({}),
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'this description',
        tags: ['service'],
        responses: { '200': json({ type: 'object' }, 'an OpenAPI 3.1 document') },
      },
    },
  };
}

export function openApiDocument(commands: readonly CommandSpec[], version: string): Record<string, unknown> {
  const byName = new Map(commands.map((spec) => [spec.name, spec]));
  const paths: Record<string, Record<string, Operation>> = { ...servicePaths(), ...usagePaths(), ...holdPaths() };
  for (const route of REST_ROUTES) {
    const spec = byName.get(route.command);
    if (!spec) continue;
    const path = route.url.replace(/:([a-zA-Z]+)/g, '{$1}');
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: restOperation(route, spec) };
  }
  for (const spec of commands) {
    if (spec.family === 'local') continue;
    const [path, item] = commandPath(spec);
    paths[path] = item;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'credits API', version, description: 'The HTTP API of `credits serve`: the same commands, roles and error codes as the CLI.' },
    paths,
    components: COMPONENTS,
  };
}
