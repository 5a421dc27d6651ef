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
import type { EarlierRun, RecordIndex, StreamCommit, StreamState } from '../state/streams.ts';
import { committedRun, earlierRunOf, readIndex, writeIndexFile } from '../state/streams.ts';
import type { CarriedOver } from './carry-over.ts';
import { NOTHING_CARRIED, carryOver } from './carry-over.ts';
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
  /**
   * The index after this sync: everything known after a full sync (or a re-run of a date a full
   * sync committed), this sync's versions after an incremental one (and the earlier run's of the
   * date, on a re-run).
   */
  readonly index: RecordIndex;
  /** Whether the index holds every record known: the commit is a checkpoint (`mode: 'full'`). */
  readonly complete: boolean;
  readonly versions: number;
  readonly deletions: number;
  /** Deletion copies stored for records a full sync no longer returned. */
  readonly vanished: number;
  readonly vanishedFiles: number;
  /** What a re-run carried over from the earlier run of the date (see `carry-over.ts`). */
  readonly carried: CarriedOver;
  /** The earlier run's commit of the date this one built on, if any. */
  readonly earlier?: EarlierRun;
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
 * Gather what the stream's chunks stored, on a full sync store the deletion versions of the records
 * it no longer returned, and on a re-run of a date carry over the earlier run's versions of it that
 * this one does not replace. Deterministic for a given chain, so a finish that died half way does
 * exactly the same again.
 */
export async function collectVersions(store: ObjectStore, msg: StreamMessage, lastChunk: number, { state, prior, sync, syncedAt }: PriorState): Promise<StreamVersions> {
  const { stored, rehashed } = await versionsUpTo(store, msg, lastChunk);
  const earlier = earlierRunOf(state, msg.snapshotDate, msg.runId);
  // `prior` holds the earlier run's index: after a full sync of the date it is complete, else only
  // that run's own entries start this one's.
  const complete = sync.mode === 'full' || earlier?.mode === 'full';
  const index: RecordIndex = complete ? new Map(prior) : earlier ? await readIndex(store, earlier.index) : new Map();
  // A record re-hashed under this release's layout keeps the date of its last version.
  for (const [id, h, d] of rehashed) index.set(id, { h, d, v: prior.get(id)?.v ?? msg.snapshotDate });
  for (const [id, h, d] of stored) index.set(id, { h, d, v: msg.snapshotDate });
  let vanished = 0;
  let vanishedFiles = 0;
  // Records this run stores a version of: on a re-run, the earlier run's versions of them go.
  const replaced = new Set(stored.map((e) => e[0]));
  if (sync.mode === 'full') {
    const returned = await idsUpTo(store, msg, lastChunk);
    const gone = new Map([...prior].filter(([id, e]) => !e.d && !returned.has(id)));
    for (const id of gone.keys()) replaced.add(id);
    vanished = gone.size;
    if (gone.size > 0) {
      vanishedFiles = await storeVanished(store, msg, lastChunk + 1, gone, syncedAt, state);
      for (const [id, e] of gone) index.set(id, { h: e.h, d: true, v: msg.snapshotDate });
    }
  }
  let carried = NOTHING_CARRIED;
  if (earlier) carried = { ...(await carryOver(store, msg, earlier.runId, replaced, lastChunk + 2)), ...carriedCounts(prior, msg.snapshotDate, replaced) };
  const deletions = stored.filter((e) => e[2]).length + vanished + carried.deletions;
  return { state, index, complete, versions: stored.length + vanished + carried.versions, deletions, vanished, vanishedFiles, carried, ...(earlier && { earlier }) };
}

/**
 * The versions a re-run carries over, counted from the index rather than the files: the earlier
 * run's entries of the date (the only ones `prior` dates on it) that this run does not replace. The
 * same when a finish is done again after the earlier run's files went.
 */
function carriedCounts(prior: RecordIndex, date: string, replaced: ReadonlySet<string>): Pick<CarriedOver, 'versions' | 'deletions'> {
  let versions = 0;
  let deletions = 0;
  for (const [id, e] of prior) {
    if (e.v !== date || replaced.has(id)) continue;
    versions++;
    if (e.d) deletions++;
  }
  return { versions, deletions };
}

/** Write the index file of this sync and return the commit that names it (not yet written). */
export async function writeIndex(store: ObjectStore, msg: DatedStreamRef, sync: StreamSync, v: StreamVersions, records: number): Promise<StreamCommit> {
  const key = stateKeys.index(msg.integrationId, msg.model, msg.snapshotDate, msg.runId);
  await writeIndexFile(store, key, v.index);
  // A re-run of a date a full sync committed keeps the date a checkpoint: its index is complete.
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
    ...(v.earlier && { rerunOf: v.earlier }),
  };
}
