import { removeStoredLogin, writeStoredLogin } from '../../config.js';
import { CreditsError } from '../../core/errors.js';
import { stringOption } from '../parse.js';
import { defineCommand, type CommandSpec } from '../spec.js';
import type { Context } from '../context.js';

/** `login`: the token as given with --token; the server comes from --server or CREDITS_SERVER. */
export type LoginRequest = { token: string | undefined };

/** Who the server says a token is (GET /v1/whoami). */
type TokenIdentity = { tokenId: number; name: string; role: string; department: string | null; actor: string };

/** A token is one printable word; anything else is a paste gone wrong. Bounded like a line of input. */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,1000}$/;
const MAX_STDIN_BYTES = 64 * 1024;

async function tokenFromStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) throw new CreditsError('INVALID_VALUE', 'standard input is too long for an API token', { hint: 'pipe the token alone' });
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** --token, else CREDITS_TOKEN, else asked without echo on a terminal, else standard input when piped. */
async function loginToken(input: LoginRequest, context: Context): Promise<string> {
  let token = input.token ?? (context.config.apiTokenSource === 'env' ? context.config.apiToken : undefined);
  if (token === undefined && context.canAsk) token = await context.secret('API token (from `credits token create`)');
  else if (token === undefined && !process.stdin.isTTY) token = await tokenFromStandardInput();
  if (token === undefined || token === '') {
    throw new CreditsError('MISSING_FLAG', '--token is required: no CREDITS_TOKEN, no terminal to ask on, nothing on standard input', {
      hint: 'pipe it (`pass show credits | credits login --server URL`), set CREDITS_TOKEN, or give --token',
    });
  }
  if (!TOKEN_SHAPE.test(token)) throw new CreditsError('INVALID_VALUE', 'the API token must be one word of printable characters', { hint: 'like ctk_3_…' });
  return token;
}

async function getJson(url: string, timeoutMs: number, token?: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: undefined };
  }
}

function errorMessage(body: unknown): string {
  const error = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof error?.message === 'string' ? `: ${error.message}` : '';
}

/** The server answers /health, and /v1/whoami accepts the token: only then is anything stored. */
async function checkLogin(server: string, token: string, timeoutMs: number): Promise<TokenIdentity> {
  const notStored = 'nothing was stored';
  let health: { status: number; body: unknown };
  try {
    health = await getJson(`${server}/health`, timeoutMs);
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CreditsError('SERVER_UNAVAILABLE', `the credits server at ${server} does not answer (${reason}); ${notStored}`, {
      hint: 'check the URL, that `credits serve` runs there, and the network',
    });
  }
  if (health.status !== 200 || (health.body as { ok?: unknown } | undefined)?.ok !== true) {
    throw new CreditsError('SERVER_UNAVAILABLE', `${server}/health answered ${health.status}${errorMessage(health.body)}; ${notStored}`, {
      hint: 'is it a credits server, and does its ledger answer?',
    });
  }
  const whoami = await getJson(`${server}/v1/whoami`, timeoutMs, token);
  if (whoami.status === 401 || whoami.status === 403) {
    throw new CreditsError('UNAUTHORIZED', `the server refused the token${errorMessage(whoami.body)}; ${notStored}`, {
      hint: 'an admin creates a token with `credits token create --role ROLE`',
    });
  }
  const identity = whoami.body as Partial<TokenIdentity> | undefined;
  if (whoami.status !== 200 || typeof identity?.tokenId !== 'number') {
    throw new CreditsError('SERVER_UNAVAILABLE', `${server}/v1/whoami answered ${whoami.status}${errorMessage(whoami.body)}; ${notStored}`, {
      hint: 'the server may run an older credits without /v1/whoami: use CREDITS_SERVER and CREDITS_TOKEN instead',
    });
  }
  return identity as TokenIdentity;
}

export const sessionCommands: CommandSpec[] = [
  defineCommand({
    name: 'login',
    summary: 'store a credits server and API token for remote mode (checked first), in a file only you can read',
    ledger: 'none',
    options: [
      {
        flags: '--token <token>',
        description: 'the API token (default: CREDITS_TOKEN, else asked without echo on a terminal, else read from standard input; a flag is visible to `ps`)',
      },
    ],
    examples: [
      'credits login --server https://credits.example.com',
      'pass show credits/token | credits login --server https://credits.example.com',
      'CREDITS_TOKEN=ctk_3_... credits login --server http://127.0.0.1:8787 && credits balance',
    ],
    request: (input): LoginRequest => ({ token: stringOption(input, 'token') }),
    async run(input, context) {
      const { server, serverSource, loginFilePath, serverTimeoutMs } = context.config;
      if (server === undefined || serverSource === 'file') {
        throw new CreditsError('MISSING_FLAG', '--server is required: the URL of a `credits serve` API', {
          hint: 'like credits login --server https://credits.example.com (or set CREDITS_SERVER)',
        });
      }
      const token = await loginToken(input, context);
      const identity = await checkLogin(server, token, serverTimeoutMs);
      writeStoredLogin(loginFilePath, { server, token });
      return {
        view: 'login',
        data: { server, file: loginFilePath, tokenId: identity.tokenId, tokenName: identity.name, role: identity.role, department: identity.department },
      };
    },
  }),
  defineCommand({
    name: 'logout',
    summary: 'remove the server and token `credits login` stored (nothing on the server changes)',
    ledger: 'none',
    examples: ['credits logout', 'credits logout && credits balance   # the local ledger again'],
    request: () => ({}),
    async run(_input, context) {
      const file = context.config.loginFilePath;
      return { view: 'logout', data: { file, removed: removeStoredLogin(file) } };
    },
  }),
];
