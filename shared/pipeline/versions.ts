/**
 * When the versions a sync stores are dated, and the rule that keeps them in date order.
 */
import type { StreamMessage, StreamSync } from '../ports.ts';
import { DAY_MS } from '../warehouse/layout.ts';

/** The sync a message carries, or a full one started now (a message sent before syncs had modes). */
export function syncOf(msg: Pick<StreamMessage, 'sync'>, now: () => Date): StreamSync {
  return msg.sync ?? { mode: 'full', startedAt: now().toISOString() };
}

/**
 * `_synced_at` of the versions a sync stores: when its fetch started, kept within its snapshot date
 * (a backfill of an earlier date, or a sync started a little before midnight of its date).
 */
export function versionTime(startedAt: string, snapshotDate: string): number {
  const dayStart = Date.parse(`${snapshotDate}T00:00:00.000Z`);
  return Math.min(Math.max(Date.parse(startedAt), dayStart), dayStart + DAY_MS - 1);
}

/** The code of a stream refused because its warehouse already holds a later date: versions are stored in date order. */
export const OUT_OF_ORDER_CODE = 'STREAM.OUT_OF_ORDER';

/** Why a stream cannot sync `date`, when it already has a sync of `latest`. */
export function outOfOrderReason(date: string, latest: string): string {
  return `this stream already has a sync of ${latest}, after ${date}: versions are stored in date order, so sync ${latest} or a later date`;
}
