/** Which stream a piece of state belongs to: an integration's model, and the run syncing it. */
import type { ModelName } from '../tables.ts';

/** One stream of an integration: its model. */
export interface StreamId {
  readonly integrationId: string;
  readonly model: ModelName;
}

/** One stream as one run syncs it. */
export interface StreamRef extends StreamId {
  readonly runId: string;
}

/** A map key for a stream: `<integration>\n<model>`. */
export const streamKey = (s: StreamId): string => `${s.integrationId}\n${s.model}`;

/** One stream as one run syncs it, for one snapshot date. */
export interface DatedStreamRef extends StreamRef {
  readonly snapshotDate: string;
}
