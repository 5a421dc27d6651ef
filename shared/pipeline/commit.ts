/**
 * The versions side of finishing a stream: what its chunks stored, the deletion versions of records
 * a full sync no longer returned, the `syncs` row, and the stream's commit (its new watermark).
 */
import { encodeParquet } from '../parquet.ts';
import type { ObjectStore, StreamMessage, StreamSync } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { dataFileKey } from '../warehouse/layout.ts';
import { idsUpTo, versionsUpTo } from '../state/chunks.ts';
import { stateKeys } from '../state/keys.ts';
import type { DatedStreamRef } from '../state/ref.ts';
import type { RecordIndex, StreamCommit, StreamState } from '../state/streams.ts';
import { committedRun, writeIndexFile } from '../state/streams.ts';
import type { CarriedOver } from './carry-over.ts';
import { carryOver } from './carry-over.ts';
import type { Row } from './partition-rows.ts';
import { parquetCell, readPartition, recordKeyColumn } from './partition-rows.ts';

/**
 * Per record of `ids`, the `_synced_at` of its latest version in the rows of its own table: a date
 * partition holds a version per sync of the date that changed the record.
 */
function latestVersions(rows: readonly Row[], ids: ReadonlySet<string>): Map<string, number> {
  const latest = new Map<string, number>();
  for (const r of rows) {
    const id = r['id'] as string;
    const at = Number(parquetCell(r['_synced_at']));
    if (ids.has(id) && at >= (latest.get(id) ?? -Infinity)) latest.set(id, at);
  }
  return latest;
}

/**
 * A full sync no longer returned these records: store a copy of each one's last version (its own
 * row and its child rows) flagged `_is_deleted`, as the chunk after the chain's last. Kombo hides
 * nothing from a fetch with `include_deleted=true`, so these were removed outright. The last
 * version is the latest of the record's date partition, of another run than this one.
 */
async function storeVanished(store: ObjectStore, msg: DatedStreamRef, chunk: number, vanished: ReadonlyMap<string, { readonly v: string }>, syncedAt: number, state: StreamState): Promise<number> {
  const byDate = new Map<string, Set<string>>();
  for (const [id, e] of vanished) {
    const ids = byDate.get(e.v) ?? new Set<string>();
    ids.add(id);
    byDate.set(e.v, ids);
  }
  const [own, ...children] = tablesForModel(msg.model);
  const latest = new Map<string, Map<string, number>>();
  let files = 0;
  for (const table of [own!, ...children]) {
    const key = recordKeyColumn(table);
    const rows: Row[] = [];
    // A row once, even when a partition holds a second copy of it for a while (a rewrite that
    // died before its old files went).
    const taken = new Set<string>();
    const once = (r: Row): boolean => {
      const k = `${String(r[key])}\n${String(r['position'] ?? '')}`;
      if (taken.has(k)) return false;
      taken.add(k);
      return true;
    };
    for (const [date, ids] of byDate) {
      const read = (await readPartition(store, table, date, msg.integrationId, committedRun(state, date))).rows.filter((r) => r['_run_id'] !== msg.runId);
      if (table === own) latest.set(date, latestVersions(read, ids));
      const at = latest.get(date)!;
      rows.push(...read.filter((r) => ids.has(r[key] as string) && Number(parquetCell(r['_synced_at'])) === at.get(r[key] as string) && once(r)));
    }
    if (rows.length === 0) continue;
    const dataCols = table.columns.filter((c) => c.source.kind !== 'meta');
    const columns = dataCols.map((c) => rows.map((r) => (c.source.kind === 'deleted' ? true : parquetCell(r[c.name]))));
    const body = encodeParquet({ table, columns, rowCount: rows.length }, { runId: msg.runId, syncedAt });
    await store.put(dataFileKey(table.name, msg.snapshotDate, msg.integrationId, msg.runId, chunk), body);
    files++;
  }
  return files;
}

/** What a stream stored, ready to commit. */
export interface StreamVersions {
  readonly state: StreamState;
  /** The index after this sync: everything known after a full sync, this sync's versions after an incremental one. */
  readonly index: RecordIndex;
  /** Whether the index holds every record known: the commit is a checkpoint (`mode: 'full'`). */
  readonly complete: boolean;
  /** This sync's own versions (rows of the model's own table), deletions included. */
  readonly versions: number;
  readonly deletions: number;
  /** Deletion copies stored for records a full sync no longer returned. */
  readonly vanished: number;
  readonly vanishedFiles: number;
  /** The rows of the date's earlier syncs, carried into this run's folder (see `carry-over.ts`). */
  readonly carried: CarriedOver;
}

/** A stream's state, the index of its records before this sync, and the sync. */
export interface PriorState {
  readonly state: StreamState;
  readonly prior: RecordIndex;
  readonly sync: StreamSync;
  /** `_synced_at` of the versions this sync stores (see `versions.ts`). */
  readonly syncedAt: number;
}

/**
 * Gather what the stream's chunks stored, on a full sync store the deletion versions of the records
 * it no longer returned, and carry over the rows the date's earlier syncs stored. Deterministic for
 * a given chain, so a finish that died half way does exactly the same again.
 */
export async function collectVersions(store: ObjectStore, msg: StreamMessage, lastChunk: number, { state, prior, sync, syncedAt }: PriorState): Promise<StreamVersions> {
  const { stored, rehashed } = await versionsUpTo(store, msg, lastChunk);
  const complete = sync.mode === 'full';
  const index: RecordIndex = complete ? new Map(prior) : new Map();
  // A record re-hashed under this release's layout keeps the date of its last version.
  for (const [id, h, d] of rehashed) index.set(id, { h, d, v: prior.get(id)?.v ?? msg.snapshotDate });
  for (const [id, h, d] of stored) index.set(id, { h, d, v: msg.snapshotDate });
  let vanished = 0;
  let vanishedFiles = 0;
  if (sync.mode === 'full') {
    const returned = await idsUpTo(store, msg, lastChunk);
    const gone = new Map([...prior].filter(([id, e]) => !e.d && !returned.has(id)));
    vanished = gone.size;
    if (gone.size > 0) {
      vanishedFiles = await storeVanished(store, msg, lastChunk + 1, gone, syncedAt, state);
      for (const [id, e] of gone) index.set(id, { h: e.h, d: true, v: msg.snapshotDate });
    }
  }
  const carried = await carryOver(store, msg, committedRun(state, msg.snapshotDate));
  const deletions = stored.filter((e) => e[2]).length + vanished;
  return { state, index, complete, versions: stored.length + vanished, deletions, vanished, vanishedFiles, carried };
}

/** Write the index file of this sync and return the commit that names it (not yet written). */
export async function writeIndex(store: ObjectStore, msg: DatedStreamRef, sync: StreamSync, v: StreamVersions, records: number): Promise<StreamCommit> {
  const key = stateKeys.index(msg.integrationId, msg.model, msg.snapshotDate, msg.runId);
  await writeIndexFile(store, key, v.index);
  const mode = v.complete ? 'full' : sync.mode;
  return {
    snapshotDate: msg.snapshotDate,
    runId: msg.runId,
    mode,
    startedAt: sync.startedAt,
    updatedAfter: mode === 'full' ? null : (sync.updatedAfter ?? null),
    records,
    versions: v.versions,
    deletions: v.deletions,
    index: key,
  };
}
