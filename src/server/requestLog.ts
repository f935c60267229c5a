import type { FastifyRequest } from 'fastify';
import type { LogLevel } from '../app/commands/serve.js';
import { nodeCrypto } from '../store/nodeCrypto.js';
import type { Principal } from './auth.js';

export type { LogLevel };

/** A caller's x-request-id is kept when it is this sane: it lands in logs and audit rows as it is. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's x-request-id when sane, else a new random one. */
export function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : nodeCrypto().randomUUID();
}

/**
 * fastify's logger (pino) for the request log: JSON lines on stdout with the level as a word and
 * an ISO time, without pid and hostname (a log shipper adds its own).
 */
export function requestLogger(level: LogLevel) {
  return {
    level,
    base: null,
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

/**
 * One line per answered request. The URL is the path only: a query string may carry a secret
 * (the token itself never travels in the URL, but a caller's mistake could put one there).
 */
export function requestLine(request: FastifyRequest, status: number, durationMs: number): void {
  const principal = (request as { principal?: Principal }).principal;
  const line = {
    method: request.method,
    url: request.url.split('?')[0],
    status,
    durationMs: Math.round(durationMs * 10) / 10,
    ...(principal ? { principal: { tokenId: principal.tokenId, tokenName: principal.tokenName, role: principal.role, actor: principal.actor } } : {}),
  };
  // Failures stand out: warn for a refused request (4xx), error for a server fault (5xx).
  if (status >= 500) request.log.error(line, 'request');
  else if (status >= 400) request.log.warn(line, 'request');
  else request.log.info(line, 'request');
}
