/**
 * Run state, kept in the warehouse under `_runs/<run_id>/`: the plan, one marker per stream when it
 * ends, and the run's completion marker.
 */
import type { ModelName } from '../tables.ts';
import type { StreamTotals } from '../ports.ts';

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
}

export interface RunReport {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly status: RunStatus;
  readonly finishedAt: string;
  readonly streams: readonly StreamMarker[];
}

export const encodeJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;
