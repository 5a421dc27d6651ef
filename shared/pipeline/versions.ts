/**
 * When the versions a sync stores are dated, and the rule that keeps them in date order.
 */
import type { StreamMessage, StreamSync } from '../ports.ts';

/** The sync a message carries, or a full one started now (a message sent before syncs had modes). */
export function syncOf(msg: Pick<StreamMessage, 'sync'>, now: () => Date): StreamSync {
  return msg.sync ?? { mode: 'full', startedAt: now().toISOString() };
}

/**
 * `_synced_at` of the versions a sync stores: when its fetch started (a retry's, for a retried
 * stream), as that is when Kombo's records were as stored. A backfill of an earlier date fetches
 * today's records, so its versions are dated today, not at the end of that date: a change made after
 * the date never reads as made on it. Never before the start of the snapshot date (a sync of a
 * later date, started a little before its midnight or on a simulated clock).
 */
export function versionTime(sync: Pick<StreamSync, 'startedAt' | 'fetchedAt'>, snapshotDate: string): number {
  const dayStart = Date.parse(`${snapshotDate}T00:00:00.000Z`);
  return Math.max(Date.parse(sync.fetchedAt ?? sync.startedAt), dayStart);
}

/** The code of a stream refused because its warehouse already holds a later date: versions are stored in date order. */
export const OUT_OF_ORDER_CODE = 'STREAM.OUT_OF_ORDER';

/**
 * Why a stream cannot sync `date`, when it already has a sync of `latest`, and the ways on: sync
 * `latest` or a later date, or undo the sync of `latest` (a future date written by mistake).
 */
export function outOfOrderReason(date: string, latest: string): string {
  return (
    `this stream already has a sync of ${latest}, after ${date}, and versions are stored in date order: nothing of ${date} was synced. ` +
    `Sync ${latest} or a later date, or, if ${latest} should not have been synced (a future date), undo it with kombo-etl unsync --snapshot-date ${latest} ` +
    `(on AWS: invoke the compactor with {"unsync_date": "${latest}"}), which removes it and brings the stream back to its sync before`
  );
}

/** The code of a stream skipped because a sync of it that started later already stored its versions. */
export const SUPERSEDED_CODE = 'STREAM.SUPERSEDED';

/**
 * Why a sync started before the stream's latest commit stores nothing: its versions would be older
 * than ones already stored, and the later sync fetched every change it would have.
 */
export function supersededReason(latestStartedAt: string): string {
  return `a later sync of this stream, started ${latestStartedAt}, already stored its changes: this sync, started before it, stored nothing`;
}
