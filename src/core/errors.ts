/**
 * Every failure the tool reports is a CreditsError with a stable code. The code decides the exit
 * status (see EXIT_CODE_BY_ERROR_CODE); main.ts is the only place that turns it into an exit.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  refused: 3,
  notFound: 4,
  conflict: 5,
  storage: 6,
  integrity: 7,
  auth: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_BY_ERROR_CODE = {
  INTERNAL: EXIT.internal,
  USAGE: EXIT.usage,
  INVALID_AMOUNT: EXIT.usage,
  INVALID_DATE: EXIT.usage,
  INVALID_TIMEZONE: EXIT.usage,
  INVALID_EMAIL: EXIT.usage,
  INVALID_NAME: EXIT.usage,
  INVALID_VALUE: EXIT.usage,
  MISSING_FLAG: EXIT.usage,
  UNKNOWN_FLAG: EXIT.usage,
  UNKNOWN_COMMAND: EXIT.usage,
  INVOICE_MINIMUM: EXIT.usage,
  CUSTOM_MINIMUM: EXIT.usage,
  SAME_ACCOUNT: EXIT.usage,
  INVALID_INPUT_FILE: EXIT.usage,
  REQUEST_TOO_LARGE: EXIT.usage,
  SIGNING_KEY_MISSING: EXIT.usage,
  INVALID_CHECKPOINT: EXIT.usage,
  INVALID_VAT_ID: EXIT.usage,
  INVALID_IBAN: EXIT.usage,
  INVOICE_DETAILS_MISSING: EXIT.usage,
  INSUFFICIENT_CREDITS: EXIT.refused,
  LIMIT_EXCEEDED: EXIT.refused,
  BOUND_EXCEEDED: EXIT.refused,
  BUDGET_LOW: EXIT.refused,
  EVENTS_REFUSED: EXIT.refused,
  DELIVERY_FAILED: EXIT.storage,
  NOT_PENDING: EXIT.refused,
  HOLD_EXCEEDED: EXIT.refused,
  CONFIRMATION_DECLINED: EXIT.refused,
  LEDGER_NOT_FOUND: EXIT.notFound,
  DEPARTMENT_NOT_FOUND: EXIT.notFound,
  USER_NOT_FOUND: EXIT.notFound,
  PACKAGE_NOT_FOUND: EXIT.notFound,
  PURCHASE_NOT_FOUND: EXIT.notFound,
  MODEL_NOT_FOUND: EXIT.notFound,
  LIMIT_NOT_FOUND: EXIT.notFound,
  CHANNEL_NOT_FOUND: EXIT.notFound,
  TOKEN_NOT_FOUND: EXIT.notFound,
  ROUTE_NOT_FOUND: EXIT.notFound,
  EVENT_NOT_FOUND: EXIT.notFound,
  IMPORT_NOT_FOUND: EXIT.notFound,
  HOLD_NOT_FOUND: EXIT.notFound,
  SCHEDULE_NOT_FOUND: EXIT.notFound,
  IDEMPOTENCY_CONFLICT: EXIT.conflict,
  DUPLICATE: EXIT.conflict,
  ALREADY_INITIALISED: EXIT.conflict,
  SIGNING_KEY_EXISTS: EXIT.conflict,
  ALREADY_REVERSED: EXIT.conflict,
  HOLD_CLOSED: EXIT.conflict,
  STORAGE_UNAVAILABLE: EXIT.storage,
  STORAGE_BUSY: EXIT.storage,
  STORAGE_TIMEOUT: EXIT.storage,
  OUTCOME_UNKNOWN: EXIT.storage,
  LEASE_LOST: EXIT.storage,
  SERVER_UNAVAILABLE: EXIT.storage,
  ADDRESS_UNAVAILABLE: EXIT.storage,
  NOT_A_LEDGER: EXIT.usage,
  SCHEMA_TOO_NEW: EXIT.storage,
  INTEGRITY_FAILED: EXIT.integrity,
  UNAUTHORIZED: EXIT.auth,
  FORBIDDEN: EXIT.auth,
  CONFIG_INSECURE: EXIT.auth,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof EXIT_CODE_BY_ERROR_CODE;

export class CreditsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CreditsError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return EXIT_CODE_BY_ERROR_CODE[this.code];
  }
}

export function isCreditsError(value: unknown): value is CreditsError {
  return value instanceof CreditsError;
}

/** Invariant check in the TigerBeetle spirit: a broken assumption is a bug, never user input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CreditsError('INTERNAL', `invariant broken: ${message}`);
}
