/**
 * One small error hierarchy for the whole pipeline. Each class says what the caller should do next:
 * retry, skip the stream, stop the integration, or stop the run.
 */

/** What a failure means for the run. A literal union, so `switch` statements are checked. */
export type FailureKind = 'transient' | 'skippable' | 'integration-fatal' | 'run-fatal' | 'data';

/** Where a failure happened, as far as it is known. Never holds secrets. */
export interface FailureLocation {
  readonly integrationId?: string;
  readonly model?: string;
  readonly cursor?: string | null;
  readonly recordId?: string;
}

/** Base class: every error the pipeline raises on purpose. */
export abstract class KomboEtlError extends Error {
  abstract readonly kind: FailureKind;
  /** Kombo's `error.code` when the API gave one, or a code of ours (`NETWORK.RESET`, `DATA.INVALID`…). */
  readonly code: string;
  readonly location: FailureLocation;

  constructor(message: string, code: string, location: FailureLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.location = location;
  }
}

/** Throttling, 5xx, resets, timeouts: retry with backoff (the client does, within its budget). */
export class TransientError extends KomboEtlError {
  readonly kind = 'transient' as const;
  /** Seconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, code: string, location: FailureLocation = {}, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, code, location, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The retry budget ran out on a transient failure: the stream fails with the last Kombo code. */
export class RetriesExhaustedError extends KomboEtlError {
  readonly kind = 'integration-fatal' as const;
  readonly attempts: number;
  /** Whose budget ran out: the request's (default) or the whole stream's. */
  readonly budget: 'request' | 'stream';
  constructor(last: TransientError, attempts: number, budget: 'the request' | 'the stream' = 'the request') {
    const what = budget === 'the stream' ? `the stream's retry budget is spent (last request: ${attempts} attempts)` : `gave up after ${attempts} attempts`;
    super(`${what}: ${last.message}`, last.code, last.location, { cause: last });
    this.budget = budget === 'the stream' ? 'stream' : 'request';
    this.attempts = attempts;
  }
}

/** The model is not available for this integration: skip the stream, record why, do not fail. */
export class ModelNotAvailableError extends KomboEtlError {
  readonly kind = 'skippable' as const;
}

/** The integration is unusable now (revoked, inactive, not found): stop it, keep going with others. */
export class IntegrationFatalError extends KomboEtlError {
  readonly kind = 'integration-fatal' as const;
}

/** Our own fault (bad API key, IP not allowed, invalid input): stop everything, loudly. */
export class RunFatalError extends KomboEtlError {
  readonly kind = 'run-fatal' as const;
}

/** The API answered something that is not a valid Kombo page, or a record we cannot store. */
export class DataError extends KomboEtlError {
  readonly kind = 'data' as const;
}

/** Invalid configuration or usage (bad date, unsafe id, unknown model). Nothing has been written. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Narrow an unknown catch value to a message without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Describe a location for humans: `greenhouse:abc / candidates / cursor xyz / record 123`. */
export function describeLocation(loc: FailureLocation): string {
  const parts: string[] = [];
  if (loc.integrationId !== undefined) parts.push(`integration ${loc.integrationId}`);
  if (loc.model !== undefined) parts.push(`model ${loc.model}`);
  if (loc.cursor !== undefined) parts.push(`cursor ${loc.cursor ?? '(first page)'}`);
  if (loc.recordId !== undefined) parts.push(`record ${loc.recordId}`);
  return parts.join(', ');
}

/**
 * The run was stopped by a signal (Ctrl-C, SIGTERM) before it ended. When `planned`, its state
 * under `_runs/<run_id>/` says interrupted and `kombo-etl retry --run-id` resumes it; otherwise
 * nothing was written.
 */
export class RunInterruptedError extends Error {
  readonly runId: string;
  readonly signal: string;
  readonly planned: boolean;
  constructor(runId: string, signal: string, planned: boolean) {
    super(planned ? `run ${runId} was interrupted (${signal})` : `interrupted (${signal}) before run ${runId} was planned: nothing was written`);
    this.name = 'RunInterruptedError';
    this.runId = runId;
    this.signal = signal;
    this.planned = planned;
  }
}
