/**
 * Kombo error codes and what they mean for us, exactly as the API notes classify them.
 * Branch on `error.code`, never on the HTTP status alone: Kombo has changed statuses before.
 */
import type { FailureKind } from '../errors.ts';

const TRANSIENT = new Set([
  'PLATFORM.RATE_LIMIT_EXCEEDED',
  'REMOTE.RATE_LIMIT_EXCEEDED',
  'REMOTE.SERVICE_UNAVAILABLE',
  'PLATFORM.TASK_TIMED_OUT',
  'PLATFORM.UNKNOWN_ERROR',
]);
const SKIPPABLE = new Set(['INTEGRATION.MODEL_NOT_AVAILABLE', 'INTEGRATION.MODEL_DISABLED']);
const INTEGRATION_FATAL = new Set([
  'INTEGRATION.AUTHENTICATION_INVALID',
  'INTEGRATION.PERMISSION_MISSING',
  'INTEGRATION.INACTIVE',
  'INTEGRATION.SETUP_SYNC_PENDING',
  'INTEGRATION.SETUP_INCOMPLETE',
  'INTEGRATION.QA_FAILED',
  'PLATFORM.INTEGRATION_NOT_FOUND',
]);
const RUN_FATAL = new Set(['PLATFORM.AUTHENTICATION_INVALID', 'PLATFORM.IP_NOT_WHITELISTED', 'PLATFORM.INPUT_INVALID']);

/** Codes that are throttling, counted apart from other retries. */
export const THROTTLE_CODES: ReadonlySet<string> = new Set(['PLATFORM.RATE_LIMIT_EXCEEDED', 'REMOTE.RATE_LIMIT_EXCEEDED']);

/**
 * Classify an error response. A known code decides; without one (a load balancer's plain 503, an
 * unknown code) the HTTP status decides: 429 and 5xx are transient, anything else stops the integration.
 */
export function classify(code: string | null | undefined, httpStatus: number): Exclude<FailureKind, 'data'> {
  if (code) {
    if (TRANSIENT.has(code)) return 'transient';
    if (SKIPPABLE.has(code)) return 'skippable';
    if (INTEGRATION_FATAL.has(code)) return 'integration-fatal';
    if (RUN_FATAL.has(code)) return 'run-fatal';
  }
  if (httpStatus === 429 || httpStatus >= 500) return 'transient';
  return 'integration-fatal';
}

/**
 * Parse `Retry-After`: delay-seconds or an HTTP date. Returns milliseconds, or undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
