import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CreditsError } from '../../core/errors.js';
import type { Database } from '../../store/driver.js';
import type { VerifyReport } from '../../store/verify.js';
import { emptyReport, verifiedCheckpointState, verifySince } from '../../store/verifySince.js';
import { MAX_VERIFY_THREADS, type VerifyThreads, verifyLedgerThreaded } from '../../store/verifyThreads.js';
import { type Checkpoint, initSigningKey, parseCheckpoint, requireSigningKey, signCheckpoint, whyUntrusted } from '../checkpoint.js';
import type { Context } from '../context.js';
import { flagOption, stringOption } from '../parse.js';
import { defineCommand, type CommandSpec } from '../spec.js';

/** The checkpoint file stays a name: it is read (or standard input is) when the command runs. */
export type VerifyRequest = { sinceCheckpoint: string | undefined };

export type CheckpointRequest = { initKey: boolean };

/**
 * CREDITS_VERIFY_THREADS: how many threads verify a local ledger (1: this thread alone, as for a
 * remote one); default one per core. A value that is not a whole number from 1 up is an error.
 */
function verifyThreads(): number {
  const text = process.env.CREDITS_VERIFY_THREADS?.trim();
  if (text === undefined || text === '') return Math.min(availableParallelism(), MAX_VERIFY_THREADS);
  const threads = Number(text);
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new CreditsError('INVALID_VALUE', `CREDITS_VERIFY_THREADS must be a whole number from 1 up, got ${JSON.stringify(text)}`, {
      hint: 'unset it to use one thread per core, or set 1 to verify on one thread',
    });
  }
  return threads;
}

/** The built verify thread's script, beside the CLI bundle; absent when running from the sources. */
function verifyWorkerPath(): string | undefined {
  const path = fileURLToPath(new URL('./verifyWorker.cjs', import.meta.url));
  return existsSync(path) ? path : undefined;
}

function threadOptions(context: Context): VerifyThreads {
  return { threads: verifyThreads(), workerPath: verifyWorkerPath(), busyTimeoutMs: context.config.busyTimeoutMs };
}

/** The whole verify of `db`, on worker threads when it is a large local file (see store/verifyThreads.ts). */
function verifyLedger(context: Context, db: Database): Promise<VerifyReport> {
  return verifyLedgerThreaded(db, threadOptions(context));
}

const RESTORE_HINT = 'the ledger file was changed outside credits; restore it from a backup';

function integrityFailure(report: VerifyReport): CreditsError {
  const first = report.problems[0]?.message;
  const where = report.firstBrokenTransactionId !== null ? ` at transaction ${report.firstBrokenTransactionId}` : '';
  return new CreditsError('INTEGRITY_FAILED', `integrity check failed${where}: ${first}`, { hint: RESTORE_HINT });
}

/** The checkpoint named by --since-checkpoint (a file, or - for standard input), read and trusted or refused. */
function readCheckpoint(context: Context, source: string): { checkpoint: Checkpoint; untrusted: string | null } {
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new CreditsError('INVALID_CHECKPOINT', `--since-checkpoint ${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'name the file `credits checkpoint` wrote, or - to read it from standard input',
    });
  }
  const checkpoint = parseCheckpoint(text, source === '-' ? '(standard input)' : source);
  return { checkpoint, untrusted: whyUntrusted(checkpoint, requireSigningKey(context.config)) };
}

export const integrityCommands: CommandSpec[] = [
  defineCommand({
    name: 'verify',
    summary: 'check the ledger: hash chains, zero-sum transactions, balances, usage totals, every tracked table; prints the head',
    ledger: 'existing',
    options: [
      {
        flags: '--since-checkpoint <file>',
        description:
          'check only what was written after this signed checkpoint, from the balances and day totals it commits to; exit 7 when anything since, or a balance or touched day total it vouches for, is off (- reads standard input)',
      },
    ],
    examples: ['credits verify', 'credits verify --json || alert-team', 'credits verify --since-checkpoint checkpoints/2026-11-30.json'],
    request: (input): VerifyRequest => ({ sinceCheckpoint: stringOption(input, 'sinceCheckpoint') }),
    async run(input, context) {
      const settings = await context.settings();
      const source = input.sinceCheckpoint;
      // The key and the file are checked before the walk: a wrong flag fails fast.
      const given = source === undefined ? undefined : readCheckpoint(context, source);
      const db = await context.db();
      if (given === undefined) {
        const report = await verifyLedger(context, db);
        return { view: 'verify', data: { ...report, sinceCheckpoint: null }, ...(report.ok ? {} : { failure: integrityFailure(report) }) };
      }
      const { checkpoint, untrusted } = given;
      // A checkpoint whose signature fails vouches for nothing: nothing is checked from it.
      const report = untrusted === null ? await verifySince(db, checkpoint.head, checkpoint.state, settings.timeZone, threadOptions(context)) : null;
      const problems = report?.problems ?? [{ check: 'checkpoint' as const, transactionId: null, message: untrusted ?? '' }];
      const reason = problems.find((problem) => problem.check === 'checkpoint')?.message ?? null;
      const sinceCheckpoint = {
        checkpointAt: checkpoint.at,
        head: checkpoint.head,
        ok: reason === null,
        reason,
        newEvents: report?.newEvents ?? 0,
        daysChecked: report?.daysChecked ?? 0,
      };
      const data = {
        ...(report ?? emptyReport(checkpoint.head)),
        ok: report?.ok ?? false,
        problems,
        sinceCheckpoint,
      };
      return { view: 'verify', data, ...(data.ok ? {} : { failure: integrityFailure(data) }) };
    },
  }),
  defineCommand({
    name: 'checkpoint',
    summary: "sign the ledger's head with a key kept outside it (send it somewhere the ledger's admin cannot rewrite)",
    ledger: 'existing',
    options: [{ flags: '--init-key', description: 'make the signing key ($XDG_CONFIG_HOME/credits/signing-key, mode 0600); never replaces one' }],
    examples: [
      'credits checkpoint --init-key',
      'credits checkpoint > checkpoints/$(date +%F).json',
      'credits verify --since-checkpoint checkpoints/2026-11-30.json',
    ],
    request: (input): CheckpointRequest => ({ initKey: flagOption(input, 'initKey') }),
    async run(input, context) {
      if (input.initKey) return { view: 'signingKey', data: initSigningKey(context.config) };
      const key = requireSigningKey(context.config);
      const settings = await context.settings();
      const db = await context.db();
      const threads = threadOptions(context);
      const { report, checkpoint } = await verifiedCheckpointState(db, settings.timeZone, () => verifyLedgerThreaded(db, threads), threads);
      // A checkpoint vouches for the ledger: a damaged one is not signed.
      if (checkpoint === null) throw integrityFailure(report);
      return { view: 'checkpoint', data: signCheckpoint(checkpoint.head, checkpoint.state, context.nowMs, key) };
    },
  }),
];
