import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CreditsError, isCreditsError } from '../core/errors.js';
import { emailKey } from '../core/names.js';
import { parseUsageRecord, type UsageRecord } from '../core/usageRecord.js';
import { emptyTotals, importAll, recordUsage, type ImportItem } from '../store/ops/usage.js';
import type { PostedUsage } from '../store/ops/usagePoster.js';
import { forbid, refusalFor, type Principal } from './auth.js';
import type { ServerState } from './state.js';

export const MAX_BATCH_EVENTS = 10_000;

function plainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `?dryRun=true` is the only query parameter the usage endpoints take. */
function dryRunOf(request: FastifyRequest): boolean {
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

function parseEvent(raw: unknown, timeZone: string): UsageRecord {
  if (!plainObject(raw))
    throw new CreditsError('INVALID_VALUE', 'a usage event must be a JSON object', {
      hint: 'fields: eventId, user, model, inputTokens, outputTokens, toolCalls, feature, images, imageSize, dbAccess, at',
    });
  return parseUsageRecord(raw, { timeZone, requireEventId: true, fieldNames: 'fields' });
}

/** A bound token posts usage of its department's users only: one user outside refuses the request. */
async function checkUsers(state: ServerState, principal: Principal, command: string, records: readonly UsageRecord[], asked: unknown): Promise<void> {
  if (principal.departmentId === null) return;
  const emails = [...new Set(records.map((record) => record.user))];
  for (let start = 0; start < emails.length; start += 500) {
    const slice = emails.slice(start, start + 500);
    // Every user an email could resolve to (by key, or a keyless legacy row by exact spelling): fail closed.
    const stranger = await state.db.get<{ email: string; department: string }>(
      `SELECT u.email AS email, a.name AS department FROM users u JOIN accounts a ON a.id = u.department_id
       WHERE (u.email_key IN (SELECT value FROM json_each(?)) OR (u.email_key IS NULL AND u.email IN (SELECT value FROM json_each(?)))) AND u.department_id <> ? LIMIT 1`,
      [JSON.stringify(slice.map(emailKey)), JSON.stringify(slice), principal.departmentId],
    );
    if (stranger) {
      throw await forbid(
        state.db,
        principal,
        command,
        { args: [], options: { request: asked } },
        `this token is bound to department ${principal.department}: user ${stranger.email} (${stranger.department}) is outside it`,
        state.nowMs(),
      );
    }
  }
}

async function allowUsage(state: ServerState, principal: Principal, command: string, asked: unknown): Promise<void> {
  const refusal = refusalFor(principal, command, 'usage');
  if (refusal !== null) throw await forbid(state.db, principal, command, { args: [], options: { request: asked } }, refusal, state.nowMs());
}

function shown(posted: PostedUsage & { dryRun?: boolean; replayed?: boolean }) {
  return { ...posted, credits: posted.costMillicredits / 1000, dryRun: posted.dryRun ?? false, replayed: posted.replayed ?? false };
}

/** POST /v1/usage (one event) and POST /v1/usage/batch (up to 10,000): idempotent by event id. */
export function usageRoutes(app: FastifyInstance, state: ServerState): void {
  app.post('/v1/usage', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, 'usage record', plainObject(request.body) ? { eventId: request.body.eventId } : null);
    const dryRun = dryRunOf(request);
    const timeZone = await state.timeZone();
    let record: UsageRecord;
    try {
      record = parseEvent(request.body, timeZone);
    } catch (error) {
      state.metrics.usage('malformed');
      throw error;
    }
    await checkUsers(state, principal, 'usage record', [record], { eventId: record.eventId });
    let posted: PostedUsage & { dryRun?: boolean; replayed?: boolean };
    try {
      posted = dryRun
        ? await recordUsage(
            state.db,
            { command: 'usage record', args: { ...record }, actor: principal.actor, nowMs: state.nowMs(), dryRun: true },
            record,
            timeZone,
          )
        : await state.coalescer.submit(principal.actor, record);
    } catch (error) {
      if (isCreditsError(error) && error.exitCode === 3) state.metrics.usage('refused');
      throw error;
    }
    if (!dryRun) state.metrics.usage(posted.status === 'accepted' ? 'accepted' : 'duplicate');
    return reply.code(posted.status === 'accepted' && !dryRun ? 201 : 200).send(shown(posted));
  });

  app.post('/v1/usage/batch', async (request, reply) => {
    const principal = await state.authenticate(request);
    await allowUsage(state, principal, 'usage import', {
      events: Array.isArray((request.body as { events?: unknown })?.events) ? (request.body as { events: unknown[] }).events.length : null,
    });
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
    const items: ImportItem[] = events.map((raw, index) => {
      try {
        return { line: index, record: parseEvent(raw, timeZone) };
      } catch (error) {
        if (!isCreditsError(error)) throw error;
        return { line: index, error };
      }
    });
    await checkUsers(
      state,
      principal,
      'usage import',
      items.flatMap((item) => ('record' in item ? [item.record] : [])),
      { events: events.length },
    );
    const totals = emptyTotals();
    await importAll(state.db, [items], { timeZone, actor: principal.actor, nowMs: state.nowMs(), dryRun }, totals);
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
