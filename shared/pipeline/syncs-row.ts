/**
 * The `syncs` table: one row per completed sync of a stream, its mode, watermark and counts. Each
 * row is a file of the date's partition named by model and run (`<model>-<run>.parquet`), so
 * several syncs a day each keep their row and a retry of a run rewrites its own.
 */
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
  await store.put(syncRowKey(prefix, msg.model, msg.runId), body);
  return prefix;
}

/** The key of a stream's `syncs` row of one run, in the date's partition `prefix`. */
export const syncRowKey = (prefix: string, model: string, runId: string): string => `${prefix}${model}-${runId}.parquet`;

/**
 * Whether a key of a `syncs` partition holds a row of `model`: one per run (model names hold no
 * `-`), or the one file per model and date of releases before.
 */
export const isSyncRowOf = (key: string, prefix: string, model: string): boolean => {
  const name = key.slice(prefix.length);
  return name === `${model}.parquet` || (name.startsWith(`${model}-`) && name.endsWith('.parquet'));
};
