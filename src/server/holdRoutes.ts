import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseId } from '../app/parse.js';
import { CreditsError, isCreditsError } from '../core/errors.js';
import { parseHoldRequest } from '../core/holds.js';
import { runHoldOperation, type CapturedHold, type HoldOperation, type HoldOutcome, type PlacedHold, type ReleasedHold } from '../store/ops/holds.js';
import { appPrincipal, type Principal } from './auth.js';
import type { ServerState } from './state.js';
import { allowUsage, dryRunOf, ledgerFor, plainObject, refuseOutOfScope } from './usageRoutes.js';

type Action = 'hold' | 'capture' | 'release';
type Answered<T> = T & { dryRun: boolean; replayed: boolean };

const COMMAND_OF: Record<Action, string> = { hold: 'usage hold', capture: 'usage record', release: 'usage release' };

/** The Idempotency-Key header, checked as --idempotency-key is. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.trim() === '' || key.length > 200)
    throw new CreditsError('INVALID_VALUE', 'the Idempotency-Key header must be 1-200 characters');
  return key;
}

function holdIdOf(request: FastifyRequest): number {
  return parseId(String((request.params as { id?: string }).id ?? ''), 'the hold id in the path');
}

/**
 * Runs one operation on a hold for a caller. Without a key it joins the group commit of single
 * usage events (one write transaction for everything that arrives together; the event id, or the
 * hold's own id, makes a retry harmless). A dry run, or an Idempotency-Key header, takes the
 * general mutation path in a transaction of its own: checked and rolled back, or its first
 * result stored under the key and given back to a retry.
 */
async function operate<T extends HoldOutcome>(
  state: ServerState,
  principal: Principal,
  request: FastifyRequest,
  action: Action,
  operation: HoldOperation,
  args: Record<string, unknown>,
): Promise<Answered<T>> {
  const command = COMMAND_OF[action];
  const dryRun = dryRunOf(request);
  const idempotencyKey = idempotencyKeyOf(request);
  try {
    if (dryRun || idempotencyKey !== undefined) {
      const mutation = { command, args, actor: principal.actor, nowMs: state.nowMs(), idempotencyKey, dryRun };
      return await runHoldOperation<T>(ledgerFor(state, principal), mutation, operation, await state.timeZone());
    }
    const outcome = await state.coalescer.submitHold<T>(principal.actor, operation, appPrincipal(principal).scope);
    return { ...outcome, dryRun: false, replayed: false };
  } catch (error) {
    await refuseOutOfScope(state, principal, command, request.body, error);
    if (isCreditsError(error) && error.exitCode === 3) state.metrics.hold(action, 'refused');
    throw error;
  }
}

function bodyObject(request: FastifyRequest, shape: string): Record<string, unknown> {
  const body = request.body ?? {};
  if (!plainObject(body)) throw new CreditsError('USAGE', `the body must be a JSON object: ${shape}`);
  return body;
}

/** POST /v1/holds, /v1/holds/ID/capture and /v1/holds/ID/release: two-phase usage (`usage hold`). */
export function holdRoutes(app: FastifyInstance, state: ServerState): void {
  app.post('/v1/holds', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, COMMAND_OF.hold, request.body);
    const body = bodyObject(request, '{"user", "model", "maxCredits", "expires", "feature", "eventId"}');
    const hold = parseHoldRequest(body, 'fields');
    const placed = await operate<PlacedHold>(state, principal, request, 'hold', { kind: 'hold', request: hold }, { ...hold });
    const again = placed.duplicate || placed.replayed;
    if (!placed.dryRun) state.metrics.hold('hold', again ? 'duplicate' : 'done');
    return reply.code(again || placed.dryRun ? 200 : 201).send({ ...placed, maxCredits: placed.maxMillicredits / 1000 });
  });

  app.post('/v1/holds/:id/capture', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, COMMAND_OF.capture, request.body);
    const holdId = holdIdOf(request);
    const { allowOver: allowOverField, ...fields } = bodyObject(request, 'the usage event\'s fields (inputTokens, outputTokens, ...) and "allowOver"');
    if (allowOverField !== undefined && typeof allowOverField !== 'boolean')
      throw new CreditsError('INVALID_VALUE', `allowOver must be true or false, got ${JSON.stringify(allowOverField)}`);
    const allowOver = allowOverField === true;
    const operation = { kind: 'capture' as const, holdId, fields, allowOver, fieldNames: 'fields' as const };
    const captured = await operate<CapturedHold>(state, principal, request, 'capture', operation, { hold: holdId, ...fields, allowOver });
    const posted = captured.status === 'accepted' && !captured.replayed;
    if (!captured.dryRun) state.metrics.hold('capture', posted ? 'done' : 'duplicate');
    if (!captured.dryRun) state.metrics.usage(posted ? 'accepted' : 'duplicate');
    return reply.code(posted && !captured.dryRun ? 201 : 200).send({ ...captured, credits: captured.costMillicredits / 1000 });
  });

  app.post('/v1/holds/:id/release', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, COMMAND_OF.release, request.body);
    const holdId = holdIdOf(request);
    const body = bodyObject(request, '{} (a release takes no fields)');
    for (const key of Object.keys(body)) throw new CreditsError('UNKNOWN_FLAG', `unknown field '${key}'`, { hint: 'a release takes no fields' });
    const released = await operate<ReleasedHold>(state, principal, request, 'release', { kind: 'release', holdId }, { holdId });
    if (!released.dryRun) state.metrics.hold('release', released.alreadyClosed || released.replayed ? 'duplicate' : 'done');
    return reply.code(200).send(released);
  });
}
