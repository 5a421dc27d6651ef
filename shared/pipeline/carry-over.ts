/**
 * A sync of a date that other syncs already stored adds to it. The date's partitions read one run
 * folder (that of the date's latest commit), switched by one repoint, so a new sync copies every
 * row that folder holds by other runs into its own folder, as they were (same columns, same
 * `_run_id` and `_synced_at`), next to its own versions; then it repoints the partitions and the
 * earlier folder goes. Readers see the date's versions before the sync or after it, never a part.
 *
 * A retry or a finish done again of a run that already committed the date finds its own folder
 * registered: it copies the rows of the other runs there and rewrites its own, so only its own
 * versions are replaced.
 */
import type { ObjectStore } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { carriedFileKey } from '../warehouse/layout.ts';
import type { DatedStreamRef } from '../state/ref.ts';
import { encodeRows, readPartition } from './partition-rows.ts';

/** What was carried over from the earlier syncs of the date. */
export interface CarriedOver {
  /** Rows per table, and files written (one per table that has any). */
  readonly rows: Readonly<Record<string, number>>;
  readonly files: number;
}

export const NOTHING_CARRIED: CarriedOver = { rows: {}, files: 0 };

/**
 * Copy every row that the date's committed folder (`committedRun`'s, or a compaction's rewrite of
 * it) holds by runs other than this one into this run's folder, one file per table
 * (`carriedFileKey`). Deterministic: a finish done again writes the same files, and one that finds
 * nothing left to carry (its partitions already repointed here) keeps the file it wrote before.
 */
export async function carryOver(store: ObjectStore, msg: DatedStreamRef, committedRun: string | undefined): Promise<CarriedOver> {
  const rows: Record<string, number> = {};
  let files = 0;
  if (committedRun === undefined) return NOTHING_CARRIED;
  for (const table of tablesForModel(msg.model)) {
    const kept = (await readPartition(store, table, msg.snapshotDate, msg.integrationId, committedRun)).rows.filter((r) => r['_run_id'] !== msg.runId);
    if (kept.length === 0) continue;
    await store.put(carriedFileKey(table.name, msg.snapshotDate, msg.integrationId, msg.runId), encodeRows(table, kept));
    files++;
    rows[table.name] = kept.length;
  }
  return { rows, files };
}
