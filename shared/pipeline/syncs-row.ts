/** The `syncs` table: one row per completed sync of a stream, its mode, watermark and counts. */
import type { Cell } from '../flatten.ts';
import { encodeParquet } from '../parquet.ts';
import type { ObjectStore, StreamSync } from '../ports.ts';
import { SYNCS_TABLE } from '../tables.ts';
import { partitionPrefix } from '../warehouse/layout.ts';
import type { DatedStreamRef } from '../state/ref.ts';

/** The `syncs` row of a completed stream, as a one-row Parquet file of its partition. */
export async function writeSyncRow(store: ObjectStore, msg: DatedStreamRef, sync: StreamSync, syncedAt: number, counts: { readonly records: number; readonly versions: number; readonly deletions: number }, finishedAt: Date): Promise<string> {
  const values: Record<string, Cell> = {
    model: msg.model,
    run_id: msg.runId,
    mode: sync.mode,
    updated_after: sync.updatedAfter === undefined ? null : Date.parse(sync.updatedAfter),
    started_at: Date.parse(sync.startedAt),
    valid_from: syncedAt,
    records: counts.records,
    versions: counts.versions,
    deletions: counts.deletions,
    finished_at: finishedAt.getTime(),
  };
  const body = encodeParquet({ table: SYNCS_TABLE, columns: SYNCS_TABLE.columns.map((c) => [values[c.name] ?? null]), rowCount: 1 }, { runId: msg.runId, syncedAt: finishedAt.getTime() });
  const prefix = partitionPrefix(SYNCS_TABLE.name, msg.snapshotDate, msg.integrationId);
  await store.put(`${prefix}${msg.model}.parquet`, body);
  return prefix;
}
