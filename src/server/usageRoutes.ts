import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CreditsError, isCreditsError } from '../core/errors.js';
import { USAGE_FIELDS, parseUsageRecord, type UsageRecord } from '../core/usageRecord.js';
import { emptyTotals, importAll, recordUsage, type ImportItem } from '../store/ops/usage.js';
import type { PostedUsage } from '../store/ops/usagePoster.js';
import { appPrincipal, forbid, refusalFor, type Principal } from './auth.js';
import type { Database } from '../store/driver.js';
import { scopedDatabase } from '../store/scope.js';
import { summarizeFields } from './refusalAudit.js';
import type { ServerState } from './state.js';

export const MAX_BATCH_EVENTS = 10_000;

export function plainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `?dryRun=true` is the only query parameter the usage endpoints take. */
export function dryRunOf(request: FastifyRequest): boolean {
  const query = (request.query ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(query)) {
    if (key !== 'dryRun') throw new CreditsError('UNKNOWN_FLAG', `unknown query parameter '${key}'`, { hint: 'the usage endpoints take only ?dryRun=true' });
  }
  const value = query.dryRun;
  if (value === undefined) return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new CreditsError('INVALID_VALUE', `dryRun must be true or false, got ${JSON.stringify(value)}`);
}

function parseEvent(raw: unknown, timeZone: string, nowMs: number): UsageRecord {
  if (!plainObject(raw))
    throw new CreditsError('INVALID_VALUE', 'a usage event must be a JSON object', {
      hint: `fields: ${USAGE_FIELDS.join(', ')}`,
    });
  return parseUsageRecord(raw, { timeZone, nowMs, requireEventId: true, fieldNames: 'fields' });
}

export async function allowUsage(state: ServerState, principal: Principal, command: string, asked: unknown): Promise<void> {
  const refusal = refusalFor(principal, command, 'usage');
  if (refusal !== null) throw await forbid(state.db, principal, command, summarizeFields(asked), refusal, state.nowMs());
}

/** The ledger as the caller sees it: a department-bound token's users are checked in the write. */
export function ledgerFor(state: ServerState, principal: Principal): Database {
  const scope = appPrincipal(principal).scope;
  return scope === null ? state.db : scopedDatabase(state.db, scope);
}

/** A user outside the token's department, found inside the write: a 403 with a bounded audit row. */
export async function refuseOutOfScope(state: ServerState, principal: Principal, command: string, body: unknown, error: unknown): Promise<void> {
  if (isCreditsError(error) && error.code === 'FORBIDDEN')
    throw await forbid(state.db, principal, command, summarizeFields(body), error.message, state.nowMs());
}

function shown(posted: PostedUsage & { dryRun?: boolean; replayed?: boolean }) {
  return { ...posted, credits: posted.costMillicredits / 1000, dryRun: posted.dryRun ?? false, replayed: posted.replayed ?? false };
}

/** POST /v1/usage (one event) and POST /v1/usage/batch (up to 10,000): idempotent by event id. */
export function usageRoutes(app: FastifyInstance, state: ServerState): void {
  app.post('/v1/usage', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, 'usage record', request.body);
    const dryRun = dryRunOf(request);
    const timeZone = await state.timeZone();
    let record: UsageRecord;
    try {
      record = parseEvent(request.body, timeZone, state.nowMs());
    } catch (error) {
      state.metrics.usage('malformed');
      throw error;
    }
    let posted: PostedUsage & { dryRun?: boolean; replayed?: boolean };
    try {
      posted = dryRun
        ? await recordUsage(
            ledgerFor(state, principal),
            { command: 'usage record', args: { ...record }, actor: principal.actor, nowMs: state.nowMs(), dryRun: true },
            record,
            timeZone,
          )
        : await state.coalescer.submit(principal.actor, record, appPrincipal(principal).scope);
    } catch (error) {
      await refuseOutOfScope(state, principal, 'usage record', request.body, error);
      if (isCreditsError(error) && error.exitCode === 3) state.metrics.usage('refused');
      throw error;
    }
    if (!dryRun) state.metrics.usage(posted.status === 'accepted' ? 'accepted' : 'duplicate');
    return reply.code(posted.status === 'accepted' && !dryRun ? 201 : 200).send(shown(posted));
  });

  app.post('/v1/usage/batch', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, 'usage import', request.body);
    const dryRun = dryRunOf(request);
    const body = request.body;
    if (!plainObject(body)) throw new CreditsError('USAGE', 'the body must be {"events": [...]}');
    for (const key of Object.keys(body))
      if (key !== 'events') throw new CreditsError('UNKNOWN_FLAG', `unknown field '${key}'`, { hint: 'the body is {"events": [...]}' });
    const events = body.events;
    if (!Array.isArray(events)) throw new CreditsError('USAGE', '`events` must be an array of usage events');
    if (events.length === 0 || events.length > MAX_BATCH_EVENTS)
      throw new CreditsError(
        'INVALID_VALUE',
        `a batch holds 1 to ${MAX_BATCH_EVENTS.toLocaleString('en-US')} events, got ${events.length.toLocaleString('en-US')}`,
        { hint: 'split it into several requests' },
      );
    const timeZone = await state.timeZone();
    const nowMs = state.nowMs();
    const items: ImportItem[] = events.map((raw, index) => {
      try {
        return { line: index, record: parseEvent(raw, timeZone, nowMs) };
      } catch (error) {
        if (!isCreditsError(error)) throw error;
        return { line: index, error };
      }
    });
    const totals = emptyTotals();
    try {
      await importAll(ledgerFor(state, principal), [items], { timeZone, actor: principal.actor, nowMs, dryRun }, totals);
    } catch (error) {
      await refuseOutOfScope(state, principal, 'usage import', body, error);
      throw error;
    }
    if (!dryRun) {
      state.metrics.usage('accepted', totals.accepted);
      state.metrics.usage('duplicate', totals.duplicates);
      state.metrics.usage('refused', totals.refused);
      state.metrics.usage('malformed', totals.malformed);
      for (const problem of totals.problems) if (new CreditsError(problem.code as never, '').exitCode === 3) state.metrics.refusal(problem.code);
    }
    const { problems, ...counts } = totals;
    return reply.code(200).send({
      dryRun,
      ok: totals.refused === 0 && totals.malformed === 0,
      ...counts,
      acceptedCredits: totals.acceptedMillicredits / 1000,
      problems: problems.map((problem) => ({ index: problem.line, eventId: problem.eventId, code: problem.code, message: problem.message })),
    });
  });
}
