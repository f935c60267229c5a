import { CreditsError, EXIT, isCreditsError } from '../../core/errors.js';
import { FEATURES, IMAGE_SIZES } from '../../core/rateCard.js';
import { parseUsageRecord } from '../../core/usageRecord.js';
import { parseCsvDelimiter, type CsvDelimiter } from '../../core/csv.js';
import { parseTagFlags, type Tags } from '../../core/tags.js';
import { runMutation } from '../../store/mutation.js';
import { emptyTotals, importAll } from '../../store/ops/usage.js';

/** The totals of an import report (what `usage import` answers, also summed by the remote CLI). */
export type { ImportTotals } from '../../store/ops/usage.js';
import { recordUsage } from '../../store/ops/usage.js';
import { parseHoldRequest } from '../../core/holds.js';
import { runHoldOperation, type CapturedHold, type PlacedHold, type ReleasedHold } from '../../store/ops/holds.js';
import { parseId, stringOption, flagOption, listOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandOutput, type CommandSpec, type MutatingRequest, type UploadedFile } from '../spec.js';
import type { Context } from '../context.js';

/** The flags of `usage record` as given: --user and --model are asked for on a terminal, the rest checked with the record. */
export type UsageRecordRequest = MutatingRequest & {
  user: string | undefined;
  model: string | undefined;
  inputTokens: string | undefined;
  outputTokens: string | undefined;
  toolCalls: string | undefined;
  feature: string | undefined;
  images: string | undefined;
  imageSize: string | undefined;
  dbAccess: boolean;
  eventId: string | undefined;
  at: string | undefined;
  /** `--tag key=value`, checked: keys folded to lower case and sorted; null without any. */
  tags: Tags | null;
  /** Captures this hold: the event is its actual cost (see `usage hold`). */
  hold: number | undefined;
  allowOver: boolean;
};

/** The flags of `usage hold` as given: --user, --model and --max-credits are asked for on a terminal. */
export type UsageHoldRequest = MutatingRequest & {
  user: string | undefined;
  model: string | undefined;
  maxCredits: string | undefined;
  expires: string | undefined;
  feature: string | undefined;
  eventId: string | undefined;
};

export type UsageReleaseRequest = MutatingRequest & { holdId: number };

/** The file to import: a path ('-' for standard input), or its content when the transport sent it along. */
export type UsageImportRequest = MutatingRequest & {
  file: { path: string; upload: UploadedFile | undefined };
  format: 'jsonl' | 'csv' | undefined;
  /** CSV field separator (--delimiter); undefined: detected from the header line. */
  delimiter: CsvDelimiter | undefined;
};

/**
 * An import the ledger stopped (full disk, lost connection): the storage error, told as where the
 * import stopped; any other error is thrown on (a bug is no report).
 */
function stoppedImport(error: unknown, postedLines: number): CreditsError {
  if (!isCreditsError(error) || error.exitCode !== EXIT.storage) throw error;
  return new CreditsError(error.code, `${error.message}; the import stopped after line ${postedLines}`, {
    hint: 'the lines before it are posted; free the storage and run the same import again: posted events count as duplicates',
    cause: error,
  });
}

/** `usage record --hold ID`: the flags given are the event; what is left out comes from the hold. */
async function captureHold(input: UsageRecordRequest, holdId: number, context: Context, timeZone: string): Promise<CommandOutput> {
  const fields: Record<string, unknown> = {};
  const given: [string, string | undefined][] = [
    ['user', input.user],
    ['model', input.model],
    ['inputTokens', input.inputTokens],
    ['outputTokens', input.outputTokens],
    ['toolCalls', input.toolCalls],
    ['feature', input.feature],
    ['images', input.images],
    ['imageSize', input.imageSize],
    ['eventId', input.eventId],
    ['at', input.at],
  ];
  for (const [field, value] of given) if (value !== undefined) fields[field] = value;
  if (input.dbAccess) fields.dbAccess = true;
  if (input.tags !== null) fields.tags = input.tags;
  const request = context.mutation(input, { hold: holdId, ...fields, allowOver: input.allowOver });
  const operation = { kind: 'capture' as const, holdId, fields, allowOver: input.allowOver, fieldNames: 'flags' as const };
  const result = await runHoldOperation<CapturedHold>(await context.db(), request, operation, timeZone);
  return { view: 'usageRecorded', data: { ...result, credits: result.costMillicredits / 1000 } };
}

export const usageCommands: CommandSpec[] = [
  defineCommand({
    name: 'usage record',
    summary: 'price and post one AI interaction, with the breakdown',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--user <email>', description: 'who used it (spends from their department)', dynamic: 'users' },
      { flags: '--model <id>', description: 'model id from `credits rates`', dynamic: 'models' },
      { flags: '--input-tokens <n>', description: 'input tokens', defaultValue: '0' },
      { flags: '--output-tokens <n>', description: 'output tokens', defaultValue: '0' },
      { flags: '--tool-calls <n>', description: 'tool calls', defaultValue: '0' },
      { flags: '--feature <feature>', description: 'what it was', choices: FEATURES, defaultValue: 'chat' },
      { flags: '--images <n>', description: 'images generated (feature image)', defaultValue: '0' },
      { flags: '--image-size <size>', description: 'image size', choices: IMAGE_SIZES, defaultValue: 'standard' },
      { flags: '--db-access', description: 'workflow with database access (+50%)' },
      { flags: '--event-id <id>', description: "the platform's id of this interaction: posting it again is harmless" },
      { flags: '--at <time>', description: 'when it happened (ISO 8601; at most 5 minutes ahead), for events posted late', defaultValue: 'now' },
      {
        flags: '--tag <key=value>',
        description: 'a label to group reports by (`report --by tag:KEY`); repeat for more, at most 10',
        repeatable: true,
      },
      {
        flags: '--hold <id>',
        description:
          "capture this hold (from `usage hold`) with the actual cost: user, model, feature and event id default to the hold's, the rest is released",
      },
      { flags: '--allow-over', description: 'with --hold: a cost above the hold is posted with every check on its whole cost instead of refused' },
    ],
    examples: [
      'credits usage record --user ada@example.com --model gpt-4o --input-tokens 523 --output-tokens 1247 --tool-calls 2',
      'credits usage record --hold 41 --input-tokens 523 --output-tokens 1247',
      'credits usage record --user ada@example.com --model gpt-4o-mini --feature workflow --db-access --input-tokens 4000 --event-id wf-981',
      'credits usage record --user ada@example.com --model gpt-4o --feature image --images 2 --image-size hd --json',
      'credits usage record --user ada@example.com --model gpt-4o --input-tokens 900 --tag project=apollo --tag team=ml',
    ],
    request: (input): UsageRecordRequest => ({
      ...mutatingRequest(input),
      user: stringOption(input, 'user'),
      model: stringOption(input, 'model'),
      inputTokens: stringOption(input, 'inputTokens'),
      outputTokens: stringOption(input, 'outputTokens'),
      toolCalls: stringOption(input, 'toolCalls'),
      feature: stringOption(input, 'feature'),
      images: stringOption(input, 'images'),
      imageSize: stringOption(input, 'imageSize'),
      dbAccess: flagOption(input, 'dbAccess'),
      eventId: stringOption(input, 'eventId'),
      at: stringOption(input, 'at'),
      tags: parseTagFlags(listOption(input, 'tag')),
      hold: stringOption(input, 'hold') === undefined ? undefined : parseId(stringOption(input, 'hold')!, '--hold'),
      allowOver: flagOption(input, 'allowOver'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const raw: Record<string, unknown> = {};
      const copy = (value: string | undefined, field: string): void => {
        if (value !== undefined) raw[field] = value;
      };
      if (input.hold !== undefined) return captureHold(input, input.hold, context, settings.timeZone);
      if (input.allowOver) throw new CreditsError('USAGE', '--allow-over goes with --hold', { hint: 'without a hold, every event gets every check' });
      raw.user = await context.need(input.user, { flag: '--user', message: 'User email' });
      raw.model = await context.need(input.model, { flag: '--model', message: 'Model id' });
      copy(input.inputTokens, 'inputTokens');
      copy(input.outputTokens, 'outputTokens');
      copy(input.toolCalls, 'toolCalls');
      copy(input.feature, 'feature');
      copy(input.images, 'images');
      copy(input.imageSize, 'imageSize');
      copy(input.eventId, 'eventId');
      copy(input.at, 'at');
      if (input.dbAccess) raw.dbAccess = true;
      if (input.tags !== null) raw.tags = input.tags;
      const record = parseUsageRecord(raw, { timeZone: settings.timeZone, nowMs: context.nowMs, requireEventId: false, fieldNames: 'flags' });
      const result = await recordUsage(await context.db(), context.mutation(input, { ...record }), record, settings.timeZone);
      return { view: 'usageRecorded', data: { ...result, credits: result.costMillicredits / 1000 } };
    },
  }),
  defineCommand({
    name: 'usage import',
    summary: 'post many usage events from JSON lines or CSV (each needs an eventId); safe to run again',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'file', description: 'a .jsonl, .csv or .tsv file, or - for standard input', required: true }],
    options: [
      { flags: '--format <format>', description: 'file format (default: from the extension or the first line)', choices: ['jsonl', 'csv'] },
      {
        flags: '--delimiter <char>',
        description: "CSV field separator: ',' (comma), ';' (semicolon) or tab; implies CSV (default: the one that splits the header line into known columns)",
      },
    ],
    examples: [
      'credits usage import events.jsonl',
      'export-usage --since yesterday | credits usage import - --format csv --json',
      'credits usage import october.csv --dry-run',
      'credits usage import oktober-export.csv --delimiter semicolon',
    ],
    request: (input): UsageImportRequest => {
      const format = stringOption(input, 'format') as 'jsonl' | 'csv' | undefined;
      const delimiterText = stringOption(input, 'delimiter');
      if (delimiterText !== undefined && format === 'jsonl') {
        throw new CreditsError('USAGE', '--delimiter applies to CSV, not to --format jsonl', { hint: 'leave out --delimiter, or use --format csv' });
      }
      return {
        ...mutatingRequest(input),
        file: { path: input.args[0] ?? '-', upload: input.uploads?.[0] },
        format,
        delimiter: delimiterText === undefined ? undefined : parseCsvDelimiter(delimiterText, '--delimiter'),
      };
    },
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const file = input.file.path;
      const format = input.format;
      const dryRun = input.dryRun;
      const { openUsageSource } = await import('../usageImport/importSource.js');
      const totals = emptyTotals();
      const options = { timeZone: settings.timeZone, actor: context.config.actor, nowMs: context.nowMs, dryRun };
      // A file sent along (through the API) is read from memory; otherwise the path or stdin.
      const upload = input.file.upload;
      const from = upload === undefined ? file : { name: upload.name, bytes: Buffer.from(upload.content, 'utf8') };
      const source = openUsageSource(from, { timeZone: settings.timeZone, nowMs: context.nowMs, format, delimiter: input.delimiter });
      const showProgress = () =>
        context.progress(
          `imported ${totals.read.toLocaleString('en-US')} lines: ${totals.accepted.toLocaleString('en-US')} accepted, ${totals.duplicates.toLocaleString('en-US')} duplicates, ${(totals.refused + totals.malformed).toLocaleString('en-US')} refused`,
        );
      const stopped = await importAll(db, source.batches, options, totals, showProgress).then(
        () => null,
        (error: unknown) => stoppedImport(error, totals.read),
      );
      context.progress(null);
      // What was committed before the ledger failed stays; the report says how far it got.
      if (stopped) return { view: 'import', data: { file, dryRun, parser: source.parser, stopped: true, ...totals }, failure: stopped };
      // Event ids make an import idempotent; the audit row records the run, whatever its key. A file
      // without one readable event is refused whole, like an empty or binary file: nothing is written.
      if (!dryRun && totals.read > totals.malformed) {
        const request = { ...context.mutation(input, { file, format: format ?? null }), idempotencyKey: undefined };
        await runMutation(db, request, async () => ({ accepted: totals.accepted }));
      }
      const data = { file, dryRun, parser: source.parser, ...totals };
      if (totals.malformed > 0) {
        return {
          view: 'import',
          data,
          failure: new CreditsError('INVALID_INPUT_FILE', `${totals.malformed} line(s) could not be read; the first is line ${totals.firstMalformedLine}`, {
            hint: 'fix those lines and import the file again: accepted events are kept, and posting them again is harmless',
          }),
        };
      }
      if (totals.refused > 0) {
        return {
          view: 'import',
          data,
          failure: new CreditsError('EVENTS_REFUSED', `${totals.refused} event(s) were refused by a ledger rule (credits or limits)`, {
            hint: 'see the problems listed; the other events were posted',
          }),
        };
      }
      return { view: 'import', data };
    },
  }),
  defineCommand({
    name: 'usage hold',
    summary: 'reserve credits for an AI call before it starts (two-phase usage); capture with `usage record --hold`, or release',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--user <email>', description: 'who makes the call (spends from their department)', dynamic: 'users' },
      { flags: '--model <id>', description: 'model id from `credits rates` (its limits apply)', dynamic: 'models' },
      { flags: '--max-credits <n>', description: 'the most the call may cost: checked against balance and every limit as if spent' },
      { flags: '--expires <duration>', description: 'releases itself after this long (30s, 10m, 2h; at most 24h)', defaultValue: '10m' },
      { flags: '--feature <feature>', description: 'what it is', choices: FEATURES, defaultValue: 'chat' },
      { flags: '--event-id <id>', description: "the platform's id of this interaction: holding it again is harmless, and the capture posts under it" },
    ],
    examples: [
      'credits usage hold --user ada@example.com --model gpt-4o --max-credits 50',
      'credits usage hold --user ada@example.com --model gpt-4o-mini --max-credits 5 --expires 2m --event-id call-981 --json',
    ],
    request: (input): UsageHoldRequest => ({
      ...mutatingRequest(input),
      user: stringOption(input, 'user'),
      model: stringOption(input, 'model'),
      maxCredits: stringOption(input, 'maxCredits'),
      expires: stringOption(input, 'expires'),
      feature: stringOption(input, 'feature'),
      eventId: stringOption(input, 'eventId'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      context.demand({ '--user': input.user, '--model': input.model, '--max-credits': input.maxCredits });
      const raw: Record<string, unknown> = {
        user: await context.need(input.user, { flag: '--user', message: 'User email' }),
        model: await context.need(input.model, { flag: '--model', message: 'Model id' }),
        maxCredits: await context.need(input.maxCredits, { flag: '--max-credits', message: 'The most the call may cost, in credits' }),
      };
      if (input.expires !== undefined) raw.expires = input.expires;
      if (input.feature !== undefined) raw.feature = input.feature;
      if (input.eventId !== undefined) raw.eventId = input.eventId;
      const hold = parseHoldRequest(raw, 'flags');
      const result = await runHoldOperation<PlacedHold>(
        await context.db(),
        context.mutation(input, { ...hold }),
        { kind: 'hold', request: hold },
        settings.timeZone,
      );
      return { view: 'holdPlaced', data: { ...result, maxCredits: result.maxMillicredits / 1000 } };
    },
  }),
  defineCommand({
    name: 'usage release',
    summary: 'release a hold: its credits are available again (a hold released before, or expired, is already free)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'hold', description: 'the hold id (from `usage hold`)', required: true }],
    examples: ['credits usage release 41', 'credits usage release 41 --json'],
    request: (input): UsageReleaseRequest => ({ ...mutatingRequest(input), holdId: parseId(input.args[0] ?? '', 'HOLD') }),
    async run(input, context) {
      const settings = await context.settings();
      const request = context.mutation(input, { holdId: input.holdId });
      const result = await runHoldOperation<ReleasedHold>(await context.db(), request, { kind: 'release', holdId: input.holdId }, settings.timeZone);
      return { view: 'holdReleased', data: result };
    },
  }),
];
