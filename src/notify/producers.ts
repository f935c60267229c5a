import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { formatCreditsText, groupThousands } from '../core/amountText.js';
import { basename, join } from 'node:path';
import type { OrgSettings } from '../core/org.js';
import { addLocalDays, localDateKey, localMonthKey, monthBounds, previousMonthKey } from '../core/time.js';
import type { Database } from '../store/driver.js';
import { anomalyReport } from '../store/insights.js';
import { queueEvent } from '../store/notify/outbox.js';
import type { LedgerHead } from '../store/ledgerHead.js';
import { statementFacts, type StatementFacts } from '../store/statementQueries.js';
import { verifyLedger } from '../store/verify.js';
import { verifiedCheckpointState } from '../store/verifySince.js';
import { invoicesIssuedBetween, type InvoiceReprint } from '../store/ops/invoice.js';
import type { CheckpointState } from '../store/checkpointState.js';

/** What the monthly report's PDF shows; drawn by the caller's renderer (notify never lays out). */
export type MonthlyStatement = StatementFacts & { organisation: string; timeZone: string; generatedAt: string };

/** Queues each anomaly of yesterday and today once (the dedupe key is the subject and day). */
export async function queueAnomalies(db: Database, nowMs: number, timeZone: string): Promise<number> {
  const anomalies = await anomalyReport(db, addLocalDays(localDateKey(nowMs, timeZone), -1), nowMs, timeZone);
  if (anomalies.length === 0) return 0;
  await db.write(async (tx) => {
    for (const anomaly of anomalies) {
      queueEvent(tx, {
        type: 'anomaly.found',
        text: `Unusual spend: ${anomaly.subject.name} used ${formatCreditsText(anomaly.millicredits)} credits on ${anomaly.dayKey}, ${anomaly.timesBaseline}x the usual ${formatCreditsText(anomaly.baselineMillicredits)}.`,
        data: { ...anomaly },
        dedupeKey: `anomaly|${anomaly.subject.kind}|${anomaly.subject.name}|${anomaly.dayKey}`,
        nowMs,
      });
    }
  });
  return anomalies.length;
}

/** Where the monthly report puts its files, and the caller's renderers of them. */
export type MonthlyReportTarget = {
  reportsDir: string;
  statementPdf: (data: MonthlyStatement) => Promise<Uint8Array>;
  /** A reprint ("Kopie / Copy") of an issued invoice or cancellation invoice. */
  invoicePdf: (reprint: InvoiceReprint) => Promise<Uint8Array>;
};

/** One invoice file of the monthly report: its printed number, whether it cancels another, where it was written. */
export type MonthlyInvoiceFile = { number: string; kind: 'invoice' | 'cancellation'; path: string };

/**
 * Writes a copy of every invoice and cancellation invoice issued in the month (by invoice date
 * in the organisation's time zone) beside the statement, as `invoice-<number>.pdf`.
 */
async function writeMonthInvoices(db: Database, bounds: { startMs: number; endMs: number }, target: MonthlyReportTarget): Promise<MonthlyInvoiceFile[]> {
  const files: MonthlyInvoiceFile[] = [];
  for (const reprint of await invoicesIssuedBetween(db, bounds.startMs, bounds.endMs)) {
    const number = (reprint.cancellation ?? reprint.invoice).numberText;
    // A prefix may hold "/" (INV/2026-): never a folder in the file name.
    const path = join(target.reportsDir, `invoice-${number.replaceAll('/', '-')}.pdf`);
    writeFileAtomically(path, await target.invoicePdf(reprint));
    files.push({ number, kind: reprint.cancellation ? 'cancellation' : 'invoice', path });
  }
  return files;
}

/**
 * Once the month is over, writes its statement (PDF) and a copy of each invoice issued in it
 * into `reportsDir` and queues the "monthly report ready" event with the files' paths. The
 * dedupe key makes it once per month; a crash between the files and the event only means the
 * files are written again next run.
 */
export async function produceMonthlyReport(
  db: Database,
  nowMs: number,
  settings: OrgSettings,
  target: MonthlyReportTarget,
): Promise<{ path: string; invoices: MonthlyInvoiceFile[] } | null> {
  const { reportsDir } = target;
  const monthKey = previousMonthKey(localMonthKey(nowMs, settings.timeZone));
  const dedupeKey = `report|${monthKey}`;
  if (await db.get('SELECT 1 AS done FROM outbox WHERE dedupe_key = ?', [dedupeKey])) return null;
  const bounds = monthBounds(monthKey, settings.timeZone);
  const existed = await db.get<{ id: number }>('SELECT id FROM ledger_transactions WHERE created_at_ms < ? LIMIT 1', [bounds.endMs]);
  if (!existed) return null;
  const facts = await statementFacts(db, { monthKey, timeZone: settings.timeZone, departmentId: null });
  mkdirSync(reportsDir, { recursive: true });
  const path = join(reportsDir, `statement-${monthKey}.pdf`);
  const bytes = await target.statementPdf({
    ...facts,
    organisation: settings.name,
    timeZone: settings.timeZone,
    generatedAt: localDateKey(nowMs, settings.timeZone),
  });
  writeFileAtomically(path, bytes);
  const invoices = await writeMonthInvoices(db, bounds, target);
  const invoiceText = invoices.length === 0 ? '' : `; invoices of the month beside it: ${invoices.map((invoice) => basename(invoice.path)).join(', ')}`;
  await db.write(async (tx) => {
    queueEvent(tx, {
      type: 'report.monthly',
      text: `The usage report for ${monthKey} is ready: ${formatCreditsText(facts.usageMillicredits)} credits used in ${groupThousands(facts.usageEvents)} events, ${formatCreditsText(facts.closingMillicredits)} credits left. Statement: ${path}${invoiceText}`,
      data: {
        monthKey,
        path,
        invoices,
        attachments: [path, ...invoices.map((invoice) => invoice.path)],
        usageMillicredits: facts.usageMillicredits,
        usageEvents: facts.usageEvents,
        openingMillicredits: facts.openingMillicredits,
        closingMillicredits: facts.closingMillicredits,
      },
      dedupeKey,
      nowMs,
    });
  });
  return { path, invoices };
}

/** What queueDailyCheckpoint did: queued the day's checkpoint, found it queued already, or found the ledger damaged. */
export type DailyCheckpoint = { dayKey: string; outcome: 'queued' | 'already' | 'damaged'; head: LedgerHead | null; problem: string | null };

/**
 * Once per local day, verifies the ledger and queues its signed head as a `checkpoint.daily`
 * event: a mailbox or webhook the database's administrator cannot rewrite then holds a head
 * that any later `verify --since-checkpoint` can be checked against. A damaged ledger is not
 * signed (the run reports it instead).
 */
export async function queueDailyCheckpoint<T extends { head: LedgerHead }>(
  db: Database,
  nowMs: number,
  timeZone: string,
  sign: (head: LedgerHead, state: CheckpointState) => T,
): Promise<DailyCheckpoint> {
  const dayKey = localDateKey(nowMs, timeZone);
  const dedupeKey = `checkpoint|${dayKey}`;
  if (await db.get('SELECT 1 AS done FROM outbox WHERE dedupe_key = ?', [dedupeKey])) return { dayKey, outcome: 'already', head: null, problem: null };
  const { report, checkpoint: verified } = await verifiedCheckpointState(db, timeZone, () => verifyLedger(db));
  if (verified === null) return { dayKey, outcome: 'damaged', head: report.head, problem: report.problems[0]?.message ?? null };
  const checkpoint = sign(verified.head, verified.state);
  await db.write(async (tx) => {
    queueEvent(tx, {
      type: 'checkpoint.daily',
      text: `Ledger checkpoint of ${dayKey}: transaction ${verified.head.transactionId}, state record ${verified.head.stateSeq}, head ${verified.head.hash}. Keep this message: with its data.checkpoint saved as FILE, \`credits verify --since-checkpoint FILE\` proves a later ledger extends it and checks what was written since.`,
      data: { checkpoint },
      dedupeKey,
      nowMs,
    });
  });
  return { dayKey, outcome: 'queued', head: verified.head, problem: null };
}

/** A temp file beside the target, synced and renamed over it: a mail reader never sees half a PDF. */
function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const handle = openSync(temporary, 'w', 0o644);
    try {
      writeSync(handle, bytes);
      fsyncSync(handle);
    } finally {
      closeSync(handle);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Nothing was left behind.
    }
    throw error;
  }
}
