/**
 * `_state/_integrations/<integration>.json`: the current version of an integration in the
 * `integrations` table, its hash, and the run folder holding each recent date's versions. Changed
 * only by compare-and-swap, so that of two updates racing, the loser reads the winner's version and
 * decides again.
 */
import type { Cell } from '../flatten.ts';
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { stateKeys } from './keys.ts';

/** What the warehouse keeps of an integration's current version. */
export interface IntegrationRecord {
  /** Hash of the columns that decide a version. */
  readonly hash: string;
  /** The current version's columns, as stored (personal data already as the mode stores it). */
  readonly row: Readonly<Record<string, Cell>>;
  /** The version's `_synced_at` (epoch milliseconds) and snapshot date. */
  readonly syncedAt: number;
  readonly snapshotDate: string;
  /** Per snapshot date (the most recent ones), the run folder its partition points at. */
  readonly partitions: Readonly<Record<string, string>>;
}

/** The record as read, with the version tag a compare-and-swap needs. */
export interface TaggedIntegrationRecord {
  readonly record: IntegrationRecord;
  readonly etag: string;
}

/** Dates whose run folder the record remembers: enough for any update still in flight. */
export const REMEMBERED_DATES = 8;

/** The integration's record, or undefined before its first version. */
export async function readIntegrationRecord(store: ObjectStore, integrationId: string): Promise<TaggedIntegrationRecord | undefined> {
  const tagged = await store.getTagged(stateKeys.integration(integrationId));
  return tagged && { record: decodeJson<IntegrationRecord>(tagged.body), etag: tagged.etag };
}

/**
 * Replace the record if it still is the version `etag` names (create it when `etag` is undefined).
 * Returns false when another update won. Only the {@link REMEMBERED_DATES} latest dates are kept.
 */
export async function swapIntegrationRecord(store: ObjectStore, integrationId: string, record: IntegrationRecord, etag: string | undefined): Promise<boolean> {
  const dates = Object.keys(record.partitions).sort().slice(-REMEMBERED_DATES);
  const kept: IntegrationRecord = { ...record, partitions: Object.fromEntries(dates.map((d) => [d, record.partitions[d]!])) };
  const key = stateKeys.integration(integrationId);
  return etag === undefined ? store.putIfAbsent(key, encodeJson(kept)) : store.putIfMatch(key, encodeJson(kept), etag);
}
