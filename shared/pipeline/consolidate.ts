/**
 * Consolidation: a date a stream synced many times (or in many chunks) holds many small files per
 * table. Once the date is over (before the compaction's today, UTC), compaction rewrites each of
 * its partitions that readers see as more than one file into one file per {@link ROWS_PER_FILE}
 * rows, every row as stored (same columns, `_run_id` and `_synced_at`), in a new run folder, and
 * swaps it in with one repoint: a reader sees the old files or the new ones, never both or
 * neither, and the history reads the same. The old files stay until the next compaction of the
 * stream, so that a query that resolved the partition just before the swap still reads them all.
 * A stream's `syncs` rows of the date, one file per sync, become one file per model.
 */
import type { Catalog, ObjectStore } from '../ports.ts';
import type { ModelName, ModelTableDef, TableDef } from '../tables.ts';
import { SYNCS_TABLE, tablesForModel } from '../tables.ts';
import { dataFileKey, partitionPrefix, runPrefix } from '../warehouse/layout.ts';
import type { PendingRewrite } from '../state/compaction.ts';
import { addLeftBehind, clearPendingRewrite, readConsolidatedThrough, writeConsolidatedThrough, writePendingRewrite } from '../state/compaction.ts';
import { committedRun, readStreamState } from '../state/streams.ts';
import { isSyncRowOf } from './syncs-row.ts';
import type { Row } from './partition-rows.ts';
import { COMPACTION_RUN_PREFIX, encodeRows, readRows, parquetCell, partitionFiles, readPartition, recordKeyColumn } from './partition-rows.ts';

/** Rows per file of a rewritten partition: Athena reads a few large files faster than many small ones. */
export const ROWS_PER_FILE = 50_000;

export interface SwapDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
}

/**
 * Write `rows` as the partition's new run folder `runId` (one file per {@link ROWS_PER_FILE} rows),
 * register it, then delete `obsolete` (or, with `leaveBehind`, leave it to the next compaction:
 * a reader that resolved the partition just before still finds its files). A journal (`PendingRewrite`) lets the next compaction finish
 * a swap cut short, or drop its half-written folder.
 */
export async function swapPartition(deps: SwapDeps, table: ModelTableDef, date: string, integrationId: string, runId: string, rows: readonly Row[], obsolete: readonly string[], opts: { readonly leaveBehind?: boolean } = {}): Promise<number> {
  const { store, catalog } = deps;
  const prefix = runPrefix(table.name, date, integrationId, runId);
  const parts = Array.from({ length: Math.ceil(rows.length / ROWS_PER_FILE) }, (_, i) => rows.slice(i * ROWS_PER_FILE, (i + 1) * ROWS_PER_FILE));
  const files = parts.map((part, i) => ({ key: dataFileKey(table.name, date, integrationId, runId, i), part }));
  const stream = { integrationId, model: table.model };
  const pending: PendingRewrite = { table: table.name, snapshotDate: date, prefix, written: files.map((f) => f.key), obsolete: obsolete.filter((k) => !k.startsWith(prefix)) };
  await writePendingRewrite(store, stream, pending);
  for (const { key, part } of files) await store.put(key, encodeRows(table, part));
  // Register first, then delete: readers never meet a partition without its rows.
  await catalog.registerPartition(table, date, integrationId, prefix);
  if (opts.leaveBehind === true) await addLeftBehind(store, stream, pending.obsolete);
  else await store.delete(pending.obsolete);
  await clearPendingRewrite(store, stream);
  return files.length;
}

/** Rows in the order a consolidated file keeps them: by sync, then record. */
function inVersionOrder(table: TableDef, rows: readonly Row[]): Row[] {
  const key = recordKeyColumn(table);
  const at = (r: Row): number => Number(parquetCell(r['_synced_at']));
  return [...rows].sort((a, b) => at(a) - at(b) || String(a[key]).localeCompare(String(b[key])) || Number(a['position'] ?? 0) - Number(b['position'] ?? 0));
}

/** What consolidation did to one stream. */
export interface Consolidation {
  readonly partitionsConsolidated: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
}

/**
 * The `syncs` rows of a stream on a date that is over, one file per sync, rewritten as one file per
 * model (`<model>.parquet`, the name of the one row per model and date of releases before): written
 * first, then the files it replaces deleted, under the stream's lock, so no row is ever missing. A
 * reader in between may see a sync's row twice for a moment; `syncs` holds no versions, and the views
 * read it for latest times and distinct runs. Undefined when the stream has one file there already.
 */
async function consolidateSyncRows(store: ObjectStore, integrationId: string, model: ModelName, date: string): Promise<Consolidation | undefined> {
  const prefix = partitionPrefix(SYNCS_TABLE.name, date, integrationId);
  const keys = (await store.list(prefix)).filter((k) => isSyncRowOf(k, prefix, model));
  if (keys.length <= 1) return undefined;
  const target = `${prefix}${model}.parquet`;
  await store.put(target, encodeRows(SYNCS_TABLE, await readRows(store, keys)));
  await store.delete(keys.filter((k) => k !== target));
  return { partitionsConsolidated: 1, filesBefore: keys.length, filesAfter: 1 };
}

/**
 * Consolidate one partition when readers see it as more than one file, unless it already is one
 * rewrite's folder of full files. Undefined when left as it was.
 */
async function consolidatePartition(deps: SwapDeps, runId: string, table: ModelTableDef, date: string, integrationId: string, committed: string | undefined): Promise<Consolidation | undefined> {
  const prefix = partitionPrefix(table.name, date, integrationId);
  const seen = (await partitionFiles(deps.store, table, date, integrationId, committed)).keys;
  if (seen.length <= 1) return undefined;
  const { all, rows } = await readPartition(deps.store, table, date, integrationId, committed);
  const folders = new Set(seen.map((k) => k.slice(prefix.length).split('/')[0]));
  const done = folders.size === 1 && [...folders][0]!.startsWith(`run-${COMPACTION_RUN_PREFIX}`) && seen.length === Math.ceil(rows.length / ROWS_PER_FILE);
  if (done) return undefined;
  const filesAfter = await swapPartition(deps, table, date, integrationId, runId, inVersionOrder(table, rows), all, { leaveBehind: true });
  return { partitionsConsolidated: 1, filesBefore: seen.length, filesAfter };
}

/**
 * Consolidate the stream's partitions of every date before `today` it synced since the last
 * consolidation (that date included: a sync of it may have followed), under the stream's lock,
 * which the caller holds. `runId` names the new folders (a compaction's run id).
 */
export async function consolidateStream(deps: SwapDeps, runId: string, integrationId: string, model: ModelName, today: string): Promise<Consolidation> {
  const s = { integrationId, model };
  const state = await readStreamState(deps.store, s);
  const from = (await readConsolidatedThrough(deps.store, s)) ?? '0000-01-01';
  const dates = [...new Set(state.commits.map((c) => c.snapshotDate))].filter((d) => d >= from && d < today).sort();
  let partitionsConsolidated = 0;
  let filesBefore = 0;
  let filesAfter = 0;
  for (const date of dates) {
    for (const table of tablesForModel(model)) {
      const c = await consolidatePartition(deps, runId, table, date, integrationId, committedRun(state, date));
      if (c === undefined) continue;
      partitionsConsolidated++;
      filesBefore += c.filesBefore;
      filesAfter += c.filesAfter;
    }
    const syncs = await consolidateSyncRows(deps.store, integrationId, model, date);
    if (syncs === undefined) continue;
    partitionsConsolidated++;
    filesBefore += syncs.filesBefore;
    filesAfter += syncs.filesAfter;
  }
  if (dates.length > 0) await writeConsolidatedThrough(deps.store, s, dates.at(-1)!);
  return { partitionsConsolidated, filesBefore, filesAfter };
}
