import { CreditsError, EXIT, isCreditsError, type ErrorCode } from '../core/errors.js';

/** The HTTP status of an error code: by its exit code, with the auth and size codes of their own. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'REQUEST_TOO_LARGE':
      return 413;
    default:
      break;
  }
  const exit = new CreditsError(code, '').exitCode;
  switch (exit) {
    case EXIT.usage:
      return 400;
    case EXIT.refused:
      return 422;
    case EXIT.notFound:
      return 404;
    case EXIT.conflict:
      return 409;
    case EXIT.storage:
      return 503;
    case EXIT.auth:
      return 403;
    default:
      return 500;
  }
}

export type ErrorDocument = { code: ErrorCode; message: string; hint?: string };

export function errorDocument(error: CreditsError): ErrorDocument {
  return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
}

type FastifyLikeError = { code?: string; statusCode?: number; message?: string; validation?: unknown[]; validationContext?: string };

/**
 * Any error met while serving a request, as a CreditsError: ours as they are, fastify's own
 * (malformed JSON, body too large, schema violations, wrong content type) by their codes, and
 * anything else as INTERNAL without leaking a stack to the caller.
 */
export function asCreditsError(error: unknown): CreditsError {
  if (isCreditsError(error)) return error;
  const failure = (error ?? {}) as FastifyLikeError;
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  if (failure.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || failure.statusCode === 413) {
    return new CreditsError('REQUEST_TOO_LARGE', 'the request body is larger than this server accepts', {
      hint: 'send fewer events per request (the limit is `credits serve --body-limit`)',
    });
  }
  if (failure.validation !== undefined) {
    const unknownField = /must NOT have additional properties/.test(message);
    return new CreditsError(unknownField ? 'UNKNOWN_FLAG' : 'USAGE', `invalid request ${failure.validationContext ?? ''}: ${message}`.replace(/\s+/g, ' '), {
      hint: unknownField ? 'unknown fields are refused so that a typo is never silently ignored' : 'see the README section "HTTP API"',
    });
  }
  if (failure.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || failure.statusCode === 415) {
    return new CreditsError('USAGE', 'the request body must be JSON (Content-Type: application/json)');
  }
  if (
    failure.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    failure.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    error instanceof SyntaxError ||
    (failure.statusCode === 400 && /JSON/i.test(message))
  ) {
    return new CreditsError('USAGE', `the request body is not valid JSON: ${message}`, { hint: 'send one JSON document' });
  }
  if (typeof failure.statusCode === 'number' && failure.statusCode >= 400 && failure.statusCode < 500) {
    return new CreditsError('USAGE', message);
  }
  return new CreditsError('INTERNAL', 'the server failed on this request; its log has the details');
}
