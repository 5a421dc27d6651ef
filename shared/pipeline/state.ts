/**
 * Run state, kept in the warehouse under `_runs/<run_id>/`: the plan, one marker per stream when it
 * ends, and the run's completion marker, or its interruption marker when a signal stopped it.
 */
import type { ModelName } from '../tables.ts';
import type { StreamSync, StreamTotals } from '../ports.ts';
import type { FailureLocation } from '../errors.ts';
import { runKeys } from '../warehouse/layout.ts';

/** A stream's state. `pending` only appears in the plan; markers hold the final states. */
export type StreamStatus = 'pending' | 'done' | 'skipped' | 'failed';

/** How a run ended: every stream done or skipped, or some failed. */
export type RunStatus = 'succeeded' | 'failed';

export interface PlannedStream {
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: Extract<StreamStatus, 'pending' | 'skipped' | 'failed'>;
  readonly code?: string;
  readonly reason?: string;
  /** For a pending stream: full or incremental, from when (see `versions.ts`). */
  readonly sync?: StreamSync;
  /** Why a pending stream syncs in full: `first sync`, `asked`, `last full sync 7 days before`. */
  readonly fullBecause?: string;
}

export interface RunPlan {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly createdAt: string;
  readonly streams: readonly PlannedStream[];
}

export interface StreamMarker {
  readonly runId: string;
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: Exclude<StreamStatus, 'pending'>;
  readonly code?: string;
  readonly reason?: string;
  readonly totals: StreamTotals;
  readonly finishedAt: string;
  /** Last chunk of the chain that ended the stream; a retry continues numbering after it. */
  readonly chunk?: number;
  /** Where a failure happened, as far as known (integration, model, record id). */
  readonly location?: FailureLocation;
  /** How the stream fetched (absent on streams the planner ended). */
  readonly sync?: StreamSync;
}

export interface RunReport {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly status: RunStatus;
  readonly finishedAt: string;
  readonly streams: readonly StreamMarker[];
}

/**
 * Written when a signal stopped a local run (or its retry) before every stream ended: the run is
 * no longer running, and `kombo-etl retry` resumes the streams that never ended. Removed when a
 * retry resumes all of them.
 */
export interface InterruptedRun {
  readonly runId: string;
  readonly snapshotDate?: string;
  readonly interruptedAt: string;
  /** What stopped it: `SIGINT` (Ctrl-C), `SIGTERM`, or its process ending without a word (killed, crashed). */
  readonly signal: string;
  /** The streams that had not ended then, as far as known when it was written. */
  readonly unended?: readonly Pick<StreamMarker, 'integrationId' | 'model'>[];
}

/** `_runs/<run_id>/_INTERRUPTED.json`: the run's {@link InterruptedRun} marker. */
export const interruptedKey = (runId: string): string => `${runKeys.prefix(runId)}_INTERRUPTED.json`;

export const encodeJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

/**
 * The step boundaries of a chunk, in order, where a Lambda can die: after fetching, after writing
 * some tables, after all of them, after sending the continuation; in finishing, after the deletion
 * versions and the index of what was stored, after registering some partitions, after all of them
 * and the `syncs` row, after the commit (the new watermark), after the stream's marker, and after
 * the whole finish.
 */
export const FAULT_POINTS = [
  'after-fetch',
  'after-some-tables',
  'after-all-tables',
  'after-continuation',
  'after-versions',
  'after-some-partitions',
  'after-partitions',
  'after-commit',
  'after-stream-marker',
  'after-finish',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at every {@link FaultPoint}; tests make it throw (a crash) or wait (a race). */
export type FaultHook = (point: FaultPoint, msg: StreamMessageRef) => void | Promise<void>;

/** The part of a stream message a fault hook sees. */
export interface StreamMessageRef {
  readonly runId: string;
  readonly integrationId: string;
  readonly model: ModelName;
  readonly chunk?: number;
}
