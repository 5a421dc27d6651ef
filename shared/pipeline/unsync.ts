/**
 * Undo the sync of one snapshot date (`kombo-etl unsync --snapshot-date D`, the compactor event
 * `{"unsync_date": "D"}`): the way back from a sync of a future date (`--allow-future-date`), after
 * which every real sync of an earlier date is refused as out of order. For every stream whose latest
 * sync is of D: its partitions of D leave the catalog, their files and its `syncs` rows go, and
 * every commit of D is removed, so the commit before them is the latest again, with its watermark.
 */
import { ConfigError } from '../errors.ts';
import type { Catalog, ObjectStore } from '../ports.ts';
import { SYNCS_TABLE, tablesForModel } from '../tables.ts';
import { assertIntegrationId, assertSnapshotDate, partitionPrefix } from '../warehouse/layout.ts';
import { readLock } from '../state/lock.ts';
import type { StreamId } from '../state/ref.ts';
import { runHasLetGo } from '../state/runs.ts';
import type { StreamState } from '../state/streams.ts';
import { listStreams, readStreamState, removeLatestDate } from '../state/streams.ts';
import { isSyncRowOf } from './syncs-row.ts';
import { COMPACTION_RUN_PREFIX } from './partition-rows.ts';

export interface UnsyncDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
}

/** A stream whose sync of the date was undone, and the date it is back at. */
export interface UnsyncedStream extends StreamId {
  /** The stream's latest synced date now, or null when the undone sync was its only one. */
  readonly latest: string | null;
}

export interface UnsyncReport {
  readonly snapshotDate: string;
  readonly streams: readonly UnsyncedStream[];
}

/** The streams holding a sync of `date` (of `integrationIds`, when given); refuses if any cannot be undone. */
async function streamsToUndo(store: ObjectStore, date: string, integrationIds: readonly string[] | undefined): Promise<StreamState[]> {
  const states: StreamState[] = [];
  for (const s of await listStreams(store)) {
    if (integrationIds !== undefined && !integrationIds.includes(s.integrationId)) continue;
    const state = await readStreamState(store, s);
    if (!state.commits.some((c) => c.snapshotDate === date)) continue;
    const latest = state.commits.at(-1)!;
    if (latest.snapshotDate !== date) {
      throw new ConfigError(`${s.integrationId} ${s.model} has a sync of ${latest.snapshotDate}, after ${date}: unsync ${latest.snapshotDate} first (kombo-etl unsync --snapshot-date ${latest.snapshotDate}); nothing was changed`);
    }
    const lock = await readLock(store, s);
    if (lock !== undefined && (lock.runId.startsWith(COMPACTION_RUN_PREFIX) || !(await runHasLetGo(store, lock.runId, s)))) {
      throw new ConfigError(`run ${lock.runId} is syncing ${s.integrationId} ${s.model}: unsync once it has ended; nothing was changed`);
    }
    states.push(state);
  }
  if (states.length === 0) {
    const which = integrationIds === undefined ? 'no stream' : `no stream of ${integrationIds.join(', ')}`;
    throw new ConfigError(`--snapshot-date ${date}: ${which} has a sync of that date, so there is nothing to unsync; check the date and --warehouse`);
  }
  return states;
}

/** Remove one stream's syncs of the date: catalog first (readers stop seeing them), then files, then the commits. */
async function undoStream(deps: UnsyncDeps, state: StreamState, date: string): Promise<UnsyncedStream> {
  const { store, catalog } = deps;
  const { integrationId, model } = state;
  for (const table of tablesForModel(model)) {
    await catalog.removePartition(table, date, integrationId);
    await store.delete(await store.list(partitionPrefix(table.name, date, integrationId)));
  }
  const syncs = partitionPrefix(SYNCS_TABLE.name, date, integrationId);
  await store.delete((await store.list(syncs)).filter((k) => isSyncRowOf(k, syncs, model)));
  // The integration's `syncs` partition goes with its last row.
  if ((await store.list(syncs)).length === 0) await catalog.removePartition(SYNCS_TABLE, date, integrationId);
  const next = await removeLatestDate(store, state);
  return { integrationId, model, latest: next.commits.at(-1)?.snapshotDate ?? null };
}

/**
 * Undo the sync of `snapshotDate` of every stream (of `integrationIds`) whose latest sync it is.
 * @throws ConfigError, before changing anything, when no stream has a sync of the date, a stream has
 *   a sync of a later date (undo that one first), or a run is syncing one of the streams.
 */
export async function unsyncDate(deps: UnsyncDeps, snapshotDate: string, opts: { readonly integrationIds?: readonly string[] } = {}): Promise<UnsyncReport> {
  assertSnapshotDate(snapshotDate);
  opts.integrationIds?.forEach(assertIntegrationId);
  const states = await streamsToUndo(deps.store, snapshotDate, opts.integrationIds);
  const streams: UnsyncedStream[] = [];
  for (const state of states) streams.push(await undoStream(deps, state, snapshotDate));
  return { snapshotDate, streams };
}
