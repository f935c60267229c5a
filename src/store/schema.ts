/**
 * The ledger's tables, as drizzle-kit reads them to generate migrations/ (npm run db:generate).
 * Queries are plain SQL in the repositories (see driver.ts for why); this file is the source of
 * truth for the shape, and every amount column is an integer count of millicredits or cents.
 * Nothing imports it at run time: drizzle-orm is a devDependency (scripts/build.mjs checks the bundle).
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const accounts = sqliteTable(
  'accounts',
  {
    id: integer('id').primaryKey(),
    name: text('name').notNull(),
    /**
     * nameKey(name) (src/core/names.ts): what names are compared and kept unique by. NULL only on
     * a department of an older ledger whose key another, older department already had: that one
     * stays reachable by its exact spelling (see findAccount).
     */
    nameKey: text('name_key'),
    kind: text('kind', { enum: ['world', 'org', 'department'] }).notNull(),
    costCenter: text('cost_center'),
    createdAtMs: integer('created_at_ms').notNull(),
    balanceMillicredits: integer('balance_millicredits').notNull().default(0),
    /** Balance right after the latest top-up (kept up to date; no longer the base of "percentage left", see account_month_openings). */
    topupReferenceMillicredits: integer('topup_reference_millicredits').notNull().default(0),
    overdraftFromAccountId: integer('overdraft_from_account_id'),
    overdraftMaxMillicredits: integer('overdraft_max_millicredits').notNull().default(0),
  },
  (table) => [
    uniqueIndex('accounts_name_key').on(table.nameKey),
    // Kept beside the key: a write that forgot name_key still cannot add an ASCII case variant.
    uniqueIndex('accounts_name_nocase').on(sql`${table.name} COLLATE NOCASE`),
    // The database itself refuses an overdraft even if a code path forgot to check.
    check('accounts_no_overdraft', sql`${table.kind} = 'world' OR ${table.balanceMillicredits} >= 0`),
  ],
);

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey(),
    email: text('email').notNull(),
    /** emailKey(email), unique; NULL only as for accounts.name_key. */
    emailKey: text('email_key'),
    departmentId: integer('department_id')
      .notNull()
      .references(() => accounts.id),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (table) => [
    uniqueIndex('users_email_key').on(table.emailKey),
    // Kept beside the key, as accounts_name_nocase is.
    uniqueIndex('users_email_nocase').on(sql`${table.email} COLLATE NOCASE`),
    index('users_department').on(table.departmentId),
  ],
);

export const ledgerTransactions = sqliteTable(
  'ledger_transactions',
  {
    id: integer('id').primaryKey(),
    kind: text('kind').notNull(),
    actor: text('actor').notNull(),
    memo: text('memo').notNull().default(''),
    createdAtMs: integer('created_at_ms').notNull(),
    idempotencyKey: text('idempotency_key'),
    reversesTransactionId: integer('reverses_transaction_id'),
    hash: text('hash').notNull(),
  },
  (table) => [index('ledger_transactions_kind_time').on(table.kind, table.createdAtMs), index('ledger_transactions_time').on(table.createdAtMs)],
);

export const entries = sqliteTable(
  'entries',
  {
    id: integer('id').primaryKey(),
    transactionId: integer('transaction_id').notNull(),
    accountId: integer('account_id').notNull(),
    amountMillicredits: integer('amount_millicredits').notNull(),
  },
  (table) => [index('entries_account_transaction').on(table.accountId, table.transactionId), index('entries_transaction').on(table.transactionId)],
);

export const idempotencyKeys = sqliteTable('idempotency_keys', {
  key: text('key').primaryKey(),
  command: text('command').notNull(),
  requestHash: text('request_hash').notNull(),
  resultJson: text('result_json').notNull(),
  createdAtMs: integer('created_at_ms').notNull(),
});

export const purchases = sqliteTable(
  'purchases',
  {
    id: integer('id').primaryKey(),
    packageName: text('package_name').notNull(),
    quantity: integer('quantity').notNull().default(1),
    millicredits: integer('millicredits').notNull(),
    discountBasisPoints: integer('discount_basis_points').notNull(),
    priceCents: integer('price_cents').notNull(),
    method: text('method', { enum: ['card', 'paypal', 'sepa', 'invoice'] }).notNull(),
    status: text('status', { enum: ['pending', 'settled', 'cancelled'] }).notNull(),
    accountId: integer('account_id').notNull(),
    actor: text('actor').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    settledAtMs: integer('settled_at_ms'),
    cancelledAtMs: integer('cancelled_at_ms'),
    transactionId: integer('transaction_id'),
    origin: text('origin').notNull().default('manual'),
    /** The schedule that bought it (`recharge schedule`): such a recharge is not counted against a rule's monthly cap. */
    scheduleId: integer('schedule_id'),
  },
  (table) => [index('purchases_status').on(table.status)],
);

/**
 * Invoice numbers run without gaps: one is taken, in a write transaction, the first time a purchase
 * is invoiced. A purchase has one live invoice at a time: after `invoice cancel` it may be invoiced
 * anew (a corrected invoice, with the next number).
 */
export const invoices = sqliteTable(
  'invoices',
  {
    number: integer('number').primaryKey(),
    purchaseId: integer('purchase_id').notNull(),
    issuedAtMs: integer('issued_at_ms').notNull(),
    buyerName: text('buyer_name').notNull(),
    buyerAddress: text('buyer_address').notNull(),
    buyerVatId: text('buyer_vat_id'),
    vatRateBasisPoints: integer('vat_rate_basis_points').notNull(),
    /**
     * The seller as issued (the provider; on invoices of older ledgers the organisation, filled in
     * by the migration that introduced the provider): a reprint shows the same document.
     */
    sellerName: text('seller_name'),
    sellerAddress: text('seller_address'),
    sellerVatId: text('seller_vat_id'),
    sellerTaxNumber: text('seller_tax_number'),
    sellerIban: text('seller_iban'),
    sellerBic: text('seller_bic'),
    sellerBankName: text('seller_bank_name'),
    sellerEmail: text('seller_email'),
    buyerCountry: text('buyer_country'),
    buyerLeitwegId: text('buyer_leitweg_id'),
    /** domestic | reverseCharge | notTaxable (core/invoiceTax.ts); older invoices are domestic. */
    taxCase: text('tax_case', { enum: ['domestic', 'reverseCharge', 'notTaxable'] })
      .notNull()
      .default('domestic'),
    /** Net, VAT and gross as computed once at issue (core/invoiceTax.ts); every rendering prints these. */
    netCents: integer('net_cents'),
    vatCents: integer('vat_cents'),
    grossCents: integer('gross_cents'),
    /**
     * What a reprint needs besides the totals, as at issue: the printed number (prefix included),
     * the time zone its dates are read in, the payment term, and for SEPA the mandate and the
     * debtor's account. Older invoices get the settings of the day of the migration that added them.
     */
    numberText: text('number_text'),
    timeZone: text('time_zone'),
    paymentTermDays: integer('payment_term_days'),
    mandateReference: text('mandate_reference'),
    /** The provider's SEPA creditor identifier (Gläubiger-ID) as at issue, printed with the mandate. */
    sellerCreditorId: text('seller_creditor_id'),
    debtorIban: text('debtor_iban'),
    /** 1 once a cancellation invoice cancelled it (set in the same transaction): the purchase may be invoiced again. */
    cancelled: integer('cancelled').notNull().default(0),
  },
  (table) => [uniqueIndex('invoices_live_purchase').on(table.purchaseId).where(sql`${table.cancelled} = 0`)],
);

/**
 * Cancellation invoices (Stornorechnungen): each takes its number from the invoices' one gapless
 * sequence and cancels exactly one invoice, whose stored parties and totals it prints negated.
 */
export const invoiceCancellations = sqliteTable('invoice_cancellations', {
  number: integer('number').primaryKey(),
  originalNumber: integer('original_number')
    .notNull()
    .unique()
    .references(() => invoices.number),
  issuedAtMs: integer('issued_at_ms').notNull(),
  numberText: text('number_text').notNull(),
  timeZone: text('time_zone').notNull(),
  reason: text('reason').notNull(),
  actor: text('actor').notNull(),
});

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey(),
    atMs: integer('at_ms').notNull(),
    actor: text('actor').notNull(),
    command: text('command').notNull(),
    argsJson: text('args_json').notNull(),
    outcome: text('outcome').notNull(),
    transactionId: integer('transaction_id'),
    /** The x-request-id of the API request that caused the row; null on the command line. */
    requestId: text('request_id'),
  },
  (table) => [index('audit_log_time').on(table.atMs)],
);

export const modelRates = sqliteTable(
  'model_rates',
  {
    id: integer('id').primaryKey(),
    model: text('model').notNull(),
    displayName: text('display_name').notNull(),
    tier: text('tier', { enum: ['premium', 'standard', 'economy'] }).notNull(),
    inputPer1kMillicredits: integer('input_per_1k_millicredits').notNull(),
    outputPer1kMillicredits: integer('output_per_1k_millicredits').notNull(),
    toolCallMillicredits: integer('tool_call_millicredits').notNull(),
    effectiveFromMs: integer('effective_from_ms').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (table) => [index('model_rates_model_effective').on(table.model, table.effectiveFromMs)],
);

export const usageEvents = sqliteTable(
  'usage_events',
  {
    id: integer('id').primaryKey(),
    transactionId: integer('transaction_id').notNull(),
    eventId: text('event_id'),
    occurredAtMs: integer('occurred_at_ms').notNull(),
    userId: integer('user_id').notNull(),
    departmentId: integer('department_id').notNull(),
    model: text('model').notNull(),
    tier: text('tier').notNull(),
    feature: text('feature').notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    toolCalls: integer('tool_calls').notNull(),
    images: integer('images').notNull(),
    imageSize: text('image_size').notNull(),
    dbAccess: integer('db_access').notNull(),
    costMillicredits: integer('cost_millicredits').notNull(),
    drawnFromOrgMillicredits: integer('drawn_from_org_millicredits').notNull().default(0),
    /** `--tag` labels as JSON, keys sorted (src/core/tags.ts); null for an event without any. */
    tags: text('tags'),
  },
  // Few indexes: each one costs every one of a million imported rows. Reports read usage_daily and
  // usage_batches, and verify walks the rows in id order, so no query looks events up by transaction.
  // `report --by tag:KEY` reads tagged events by time: the index is partial, so untagged events,
  // the bulk of an import, pay nothing for it.
  (table) => [
    uniqueIndex('usage_events_event_id').on(table.eventId),
    index('usage_events_tagged_time').on(table.occurredAtMs).where(sql`${table.tags} IS NOT NULL`),
  ],
);

/** Usage summed per local day, user, model and feature, kept in the same write as the event. */
export const usageDaily = sqliteTable(
  'usage_daily',
  {
    dayKey: text('day_key').notNull(),
    userId: integer('user_id').notNull(),
    departmentId: integer('department_id').notNull(),
    model: text('model').notNull(),
    tier: text('tier').notNull(),
    feature: text('feature').notNull(),
    eventCount: integer('event_count').notNull(),
    millicredits: integer('millicredits').notNull(),
    drawnFromOrgMillicredits: integer('drawn_from_org_millicredits').notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.dayKey, table.userId, table.departmentId, table.model, table.feature] }),
    index('usage_daily_department_day').on(table.departmentId, table.dayKey),
    // Covers the daily series of forecasts and dashboards without touching the table.
    index('usage_daily_day_totals').on(table.dayKey, table.departmentId, table.millicredits, table.eventCount),
  ],
);

/**
 * Usage per ledger transaction, department, user, model and feature, written with each batch:
 * a monthly statement reads a few hundred of these instead of a hundred thousand events.
 */
export const usageBatches = sqliteTable(
  'usage_batches',
  {
    transactionId: integer('transaction_id').notNull(),
    departmentId: integer('department_id').notNull(),
    userId: integer('user_id').notNull(),
    model: text('model').notNull(),
    feature: text('feature').notNull(),
    eventCount: integer('event_count').notNull(),
    millicredits: integer('millicredits').notNull(),
    drawnFromOrgMillicredits: integer('drawn_from_org_millicredits').notNull(),
  },
  (table) => [primaryKey({ columns: [table.transactionId, table.departmentId, table.userId, table.model, table.feature] })],
);

/**
 * Usage events reversed by `usage reverse`: one row per event, so an event is reversed at most
 * once (the key), written with the reversal transaction whose hash covers the reversed events'
 * numbers. Reports and statements find reversals by the time their transaction was posted.
 */
export const usageReversals = sqliteTable(
  'usage_reversals',
  {
    usageEventId: integer('usage_event_id').primaryKey(),
    transactionId: integer('transaction_id').notNull(),
  },
  (table) => [index('usage_reversals_transaction').on(table.transactionId)],
);

/**
 * A limit rule. `kind` 'hard' refuses an event that would pass it; 'soft' never refuses, it warns
 * (a `warnings` entry in the answer, one notification per period). A target may have one of each.
 */
export const limits = sqliteTable('limits', {
  id: integer('id').primaryKey(),
  scope: text('scope', { enum: ['user', 'department', 'organisation'] }).notNull(),
  userId: integer('user_id'),
  departmentId: integer('department_id'),
  model: text('model'),
  tier: text('tier'),
  period: text('period', { enum: ['day', 'month'] }).notNull(),
  amountMillicredits: integer('amount_millicredits').notNull(),
  createdAtMs: integer('created_at_ms').notNull(),
  kind: text('kind', { enum: ['hard', 'soft'] })
    .notNull()
    .default('hard'),
});

/** Where notifications go: a webhook URL, an email address or a local command. */
export const notificationChannels = sqliteTable('notification_channels', {
  id: integer('id').primaryKey(),
  kind: text('kind', { enum: ['webhook', 'email', 'command'] }).notNull(),
  target: text('target').notNull(),
  secret: text('secret'),
  createdAtMs: integer('created_at_ms').notNull(),
  removedAtMs: integer('removed_at_ms'),
  lastError: text('last_error'),
  lastErrorAtMs: integer('last_error_at_ms'),
  lastDeliveredAtMs: integer('last_delivered_at_ms'),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
});

/**
 * The outbox: a notification event is written in the same transaction as the ledger change that
 * caused it, with one delivery row per channel. `dedupe_key` makes "once per crossing/period" a
 * database rule rather than a hope.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey(),
    eventId: text('event_id').notNull().unique(),
    type: text('type').notNull(),
    dedupeKey: text('dedupe_key').unique(),
    payloadJson: text('payload_json').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
  },
  (table) => [index('outbox_created').on(table.createdAtMs)],
);

export const deliveries = sqliteTable(
  'deliveries',
  {
    outboxId: integer('outbox_id').notNull(),
    channelId: integer('channel_id').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAtMs: integer('next_attempt_at_ms').notNull(),
    claimedBy: text('claimed_by'),
    claimExpiresAtMs: integer('claim_expires_at_ms'),
    deliveredAtMs: integer('delivered_at_ms'),
    lastError: text('last_error'),
  },
  (table) => [primaryKey({ columns: [table.outboxId, table.channelId] }), index('deliveries_due').on(table.status, table.nextAttemptAtMs)],
);

/** Which low-balance levels (20, 10, 0 percent) of an account have fired since its last top-up. */
export const balanceAlerts = sqliteTable(
  'balance_alerts',
  {
    accountId: integer('account_id').notNull(),
    levelPercent: integer('level_percent').notNull(),
    firedAtMs: integer('fired_at_ms').notNull(),
  },
  (table) => [primaryKey({ columns: [table.accountId, table.levelPercent] })],
);

/**
 * Each account's balance at the start of a month (organisation time zone), the first time a write
 * of that month asked for it: the base of "percentage left" (core/percentLeft.ts) without summing
 * the month's entries on every write. Rows of later months are dropped by a write dated earlier.
 */
export const accountMonthOpenings = sqliteTable(
  'account_month_openings',
  {
    accountId: integer('account_id').notNull(),
    monthKey: text('month_key').notNull(),
    openingMillicredits: integer('opening_millicredits').notNull(),
  },
  (table) => [primaryKey({ columns: [table.accountId, table.monthKey] })],
);

export const rechargeRules = sqliteTable(
  'recharge_rules',
  {
    accountId: integer('account_id').primaryKey(),
    thresholdMillicredits: integer('threshold_millicredits').notNull(),
    /** The package bought at each crossing; null for a rule that buys up to its target instead. */
    packageName: text('package_name'),
    method: text('method', { enum: ['card', 'paypal', 'sepa'] }).notNull(),
    monthlyCapCents: integer('monthly_cap_cents').notNull(),
    /** 0 after a recharge (or a refusal) until the balance is back at or above the threshold: one recharge per crossing. */
    armed: integer('armed').notNull().default(1),
    /** The month ('YYYY-MM') the cap last refused a recharge: the next month may try again. */
    refusedInMonth: text('refused_in_month'),
    createdAtMs: integer('created_at_ms').notNull(),
    /** `recharge set --target`: buy the cheapest packages that bring the balance back to this. */
    targetMillicredits: integer('target_millicredits'),
    /** The negotiated discount at which a target rule may buy a custom package (from 500,000 credits); null: catalogue only. */
    customDiscountBasisPoints: integer('custom_discount_basis_points'),
  },
  (table) => [check('recharge_rules_package_or_target', sql`(${table.packageName} IS NULL) <> (${table.targetMillicredits} IS NULL)`)],
);

/**
 * Scheduled top-ups (`recharge schedule`): `recharge run` buys the package once a month, on or
 * after the day (clamped to the month's last day). `served_month` ('YYYY-MM') is the month
 * already bought, written in the same transaction as the purchase, so a run never buys twice.
 */
export const rechargeSchedules = sqliteTable('recharge_schedules', {
  id: integer('id').primaryKey(),
  accountId: integer('account_id').notNull(),
  dayOfMonth: integer('day_of_month').notNull(),
  packageName: text('package_name').notNull(),
  method: text('method', { enum: ['card', 'paypal', 'sepa'] }).notNull(),
  servedMonth: text('served_month'),
  createdAtMs: integer('created_at_ms').notNull(),
});

/**
 * Tokens of the HTTP API (`credits token create`, `credits serve`). Only the sha256 of a token is
 * kept: the token itself is shown once. A department-bound token sees and acts on that
 * department only.
 */
export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'operator', 'usage-writer', 'reader', 'ci'] }).notNull(),
  departmentId: integer('department_id'),
  secretHash: text('secret_hash').notNull(),
  createdAtMs: integer('created_at_ms').notNull(),
  createdBy: text('created_by').notNull(),
  expiresAtMs: integer('expires_at_ms'),
  revokedAtMs: integer('revoked_at_ms'),
  revokedBy: text('revoked_by'),
});

/**
 * The chain of every change to the tracked tables (src/store/stateLog.ts): triggers append the row
 * as it is after the change, and credits seals each record (prev_hash, hash) before it commits.
 * A record left unsealed, or a current row that differs from its latest record, is a change made
 * outside credits.
 */
export const stateLog = sqliteTable(
  'state_log',
  {
    seq: integer('seq').primaryKey(),
    tableName: text('table_name').notNull(),
    /** json_array of the row's primary key columns: one shape for single and composite keys. */
    rowKey: text('row_key').notNull(),
    op: text('op', { enum: ['insert', 'update', 'delete', 'fold', 'columns'] }).notNull(),
    /** json_object of the tracked columns after the change; NULL for a delete. */
    rowJson: text('row_json'),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (table) => [
    index('state_log_row').on(table.tableName, table.rowKey, table.seq),
    // No index of the unsealed records (there was one until migration 0013): every record entered
    // it and left it again when sealed, in the same transaction. Sealing reads the primary-key
    // range after its write's mark instead (sealStateLog); verify walks every record anyway.
  ],
);

/**
 * Holds (two-phase usage, `credits usage hold`): credits reserved for an AI call before it starts,
 * captured as a usage event when its cost is known, released, or expired. A hold is a reservation,
 * not a ledger entry: an account's available credits are its balance less the open holds on it.
 * `from_org_millicredits` is the part of the reservation the department's overdraft would draw
 * from the org pool (held against org, and against the department's monthly overdraft).
 */
export const holds = sqliteTable(
  'holds',
  {
    id: integer('id').primaryKey(),
    /** The caller's id of the interaction: a hold placed again with it is the same hold. */
    eventId: text('event_id'),
    userId: integer('user_id').notNull(),
    departmentId: integer('department_id').notNull(),
    model: text('model').notNull(),
    tier: text('tier').notNull(),
    feature: text('feature').notNull(),
    maxMillicredits: integer('max_millicredits').notNull(),
    fromOrgMillicredits: integer('from_org_millicredits').notNull().default(0),
    actor: text('actor').notNull(),
    createdAtMs: integer('created_at_ms').notNull(),
    expiresAtMs: integer('expires_at_ms').notNull(),
    status: text('status', { enum: ['open', 'captured', 'released', 'expired'] }).notNull(),
    /** A captured hold: the cost of its usage event and that event's id. */
    capturedMillicredits: integer('captured_millicredits'),
    capturedEventId: text('captured_event_id'),
    /** When it was captured or released, or when it expired. */
    closedAtMs: integer('closed_at_ms'),
  },
  (table) => [
    // Most holds of a gateway carry an event id; those that do not cost the index nothing.
    uniqueIndex('holds_event_id').on(table.eventId).where(sql`${table.eventId} IS NOT NULL`),
    // Every write sums the open holds of the departments it touches and looks for expired ones:
    // both read only open holds (the calls in progress), however many holds the ledger has seen.
    // One index serves both (a seek by department; for the expired, a scan of the open holds,
    // which are few, that never reads the table: the status makes it a covering index for that
    // count): each hold enters it when placed and leaves it when closed, and a second index (there
    // was one by expiry until migration 0012) doubled that work on every hold.
    index('holds_open').on(table.departmentId, table.expiresAtMs, table.status).where(sql`${table.status} = 'open'`),
    check(
      'holds_amounts',
      sql`${table.maxMillicredits} > 0 AND ${table.fromOrgMillicredits} >= 0 AND ${table.fromOrgMillicredits} <= ${table.maxMillicredits}`,
    ),
  ],
);

/**
 * Which `credits serve` process may write (several servers in front of one ledger): one row per
 * ledger ('main'), made by the migration. The holder renews it inside each of its own write
 * transactions (writerLease.ts); an update that finds it held by another, or expired, sets
 * expires_ms to -1, which this check refuses, so the whole transaction fails with nothing applied.
 * write_seq counts the holder's writes: a replica whose row has reached the primary's has them.
 */
export const writerLease = sqliteTable(
  'writer_lease',
  {
    ledger: text('ledger').primaryKey(),
    /** Random per serve process; '' before anyone took it. */
    holder: text('holder').notNull(),
    /** Where the other servers forward writes to (serve --advertise-url). */
    url: text('url').notNull(),
    /** On the database's clock, epoch ms. */
    expiresMs: integer('expires_ms').notNull(),
    writeSeq: integer('write_seq').notNull().default(0),
  },
  (table) => [check('lease_lost', sql`${table.expiresMs} >= 0`)],
);
