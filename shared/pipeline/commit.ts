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
import type { Row } from './partition-rows.ts';
import { parquetCell, readPartition, recordKeyColumn } from './partition-rows.ts';

/**
 * A full sync no longer returned these records: store a copy of each one's last version (its own
 * row and its child rows) flagged `_is_deleted`, as the chunk after the chain's last. Kombo hides
 * nothing from a fetch with `include_deleted=true`, so these were removed outright.
 */
async function storeVanished(store: ObjectStore, msg: DatedStreamRef, chunk: number, vanished: ReadonlyMap<string, { readonly v: string }>, syncedAt: number, state: StreamState): Promise<number> {
  const byDate = new Map<string, Set<string>>();
  for (const [id, e] of vanished) {
    const ids = byDate.get(e.v) ?? new Set<string>();
    ids.add(id);
    byDate.set(e.v, ids);
  }
  let files = 0;
  for (const table of tablesForModel(msg.model)) {
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
    for (const [date, ids] of byDate) rows.push(...(await readPartition(store, table, date, msg.integrationId, committedRun(state, date))).rows.filter((r) => ids.has(r[key] as string) && once(r)));
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
  readonly versions: number;
  readonly deletions: number;
  /** Deletion copies stored for records a full sync no longer returned. */
  readonly vanished: number;
  readonly vanishedFiles: number;
}

/** A stream's state, the index of its records before the snapshot date being synced, and the sync. */
export interface PriorState {
  readonly state: StreamState;
  readonly prior: RecordIndex;
  readonly sync: StreamSync;
  /** `_synced_at` of the versions this sync stores (see `versions.ts`). */
  readonly syncedAt: number;
}

/**
 * Gather what the stream's chunks stored, and on a full sync store the deletion versions of the
 * records it no longer returned. Deterministic for a given chain, so a finish that died half way
 * does exactly the same again.
 */
export async function collectVersions(store: ObjectStore, msg: StreamMessage, lastChunk: number, { state, prior, sync, syncedAt }: PriorState): Promise<StreamVersions> {
  const { stored, rehashed } = await versionsUpTo(store, msg, lastChunk);
  const index: RecordIndex = sync.mode === 'full' ? new Map(prior) : new Map();
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
  const deletions = stored.filter((e) => e[2]).length + vanished;
  return { state, index, versions: stored.length + vanished, deletions, vanished, vanishedFiles };
}

/** Write the index file of this sync and return the commit that names it (not yet written). */
export async function writeIndex(store: ObjectStore, msg: DatedStreamRef, sync: StreamSync, v: StreamVersions, records: number): Promise<StreamCommit> {
  const key = stateKeys.index(msg.integrationId, msg.model, msg.snapshotDate, msg.runId);
  await writeIndexFile(store, key, v.index);
  return {
    snapshotDate: msg.snapshotDate,
    runId: msg.runId,
    mode: sync.mode,
    startedAt: sync.startedAt,
    updatedAfter: sync.updatedAfter ?? null,
    records,
    versions: v.versions,
    deletions: v.deletions,
    index: key,
  };
}
