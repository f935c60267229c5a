import type { FastifyReply, FastifyRequest } from 'fastify';
import { CreditsError } from '../core/errors.js';
import type { WriterLease } from './lease.js';

/** Headers a forwarded request keeps as the client sent them (the holder authenticates again). */
const PASSED_HEADERS = ['authorization', 'content-type', 'accept', 'idempotency-key', 'x-credits-actor'];
/** Answer headers the client gets back from the holder. */
const ANSWER_HEADERS = ['content-type', 'content-disposition', 'retry-after'];
/** How many servers a write may pass before it is answered: a holder that just lost its lease forwards once more. */
export const MAX_HOPS = 2;
export const HOPS_HEADER = 'x-credits-forwarded';
const RETRY_PAUSE_MS = 100;

export type ForwardOptions = { lease: WriterLease; timeoutMs: number; waitForHolderMs: number };

export function hopsOf(request: FastifyRequest): number {
  const value = Number(request.headers[HOPS_HEADER]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** No connection was made (refused, no route): the holder surely never saw the request. */
function neverSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(String(cause?.code ?? ''));
}

/**
 * A write that reached a server that does not hold the writer lease: sent to the holder with the
 * caller's credentials, request id and idempotency key unchanged, and the holder's answer given
 * back as it is. 'local' when this server holds the lease after all (it took it from a dead
 * holder): the caller runs the request here. A holder that cannot be reached is looked up again
 * until waitForHolderMs: a dead one's lease expires and one of the servers takes it. An answer
 * that never came is OUTCOME_UNKNOWN, the same as a lost answer from the database; a request
 * that certainly never got there is "not applied", and the client retries it with the same key.
 */
export async function forwardWrite(request: FastifyRequest, reply: FastifyReply, options: ForwardOptions): Promise<'local' | 'answered'> {
  const { lease } = options;
  const untilMs = Date.now() + options.waitForHolderMs;
  for (;;) {
    if (lease.held()) return 'local';
    const url = lease.holderUrl();
    if (url !== undefined) {
      try {
        await relay(request, reply, url, options.timeoutMs);
        return 'answered';
      } catch (error) {
        if (!neverSent(error)) throw outcomeUnknown(url, error);
        lease.suspect(url);
      }
    }
    if (Date.now() >= untilMs) throw noHolder(url);
    await new Promise((resolveWait) => setTimeout(resolveWait, RETRY_PAUSE_MS));
    await lease.refresh().catch(() => undefined);
  }
}

async function relay(request: FastifyRequest, reply: FastifyReply, url: string, timeoutMs: number): Promise<void> {
  const headers: Record<string, string> = { 'x-request-id': request.id, [HOPS_HEADER]: String(hopsOf(request) + 1) };
  for (const name of PASSED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const response = await fetch(new URL(request.url, url), {
    method: request.method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  reply.code(response.status);
  for (const name of ANSWER_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  reply.header('x-credits-served-by', url);
  await reply.send(bytes);
}

function outcomeUnknown(url: string, error: unknown): CreditsError {
  const why = error instanceof Error && error.name === 'TimeoutError' ? 'no answer in time' : String((error as Error)?.message ?? error);
  return new CreditsError(
    'OUTCOME_UNKNOWN',
    `the write was passed to the lease holder ${url}, which did not answer (${why}): it may or may not have been applied`,
    {
      hint: 'run the same command again with the same --idempotency-key (Idempotency-Key header): a write with a key is applied at most once',
      details: { outcome: 'unknown' },
      cause: error,
    },
  );
}

function noHolder(url: string | undefined): CreditsError {
  return new CreditsError('LEASE_LOST', `no server holds the writer lease${url ? ` (${url} does not answer)` : ''}; nothing was written`, {
    hint: 'the lease passes to another `credits serve` when it expires; run the command again (with the same idempotency key)',
    details: { outcome: 'not applied' },
  });
}
