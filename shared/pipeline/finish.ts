/**
 * Step 3: finish a stream. Store the deletion versions a full sync found, register (or repoint) its
 * partitions at this run's folder, delete that partition's files from older runs, write its `syncs`
 * row, commit its sync (the new watermark), write the stream's marker, and, if it is the last
 * stream of the run, write the run's completion marker (a conditional write, so exactly one stream
 * does).
 */
import type { Catalog, ObjectStore, StreamMessage, StreamTotals } from '../ports.ts';
import { SYNCS_TABLE, tablesForModel } from '../tables.ts';
import type { PriorState } from './commit.ts';
import { collectVersions, commitStream, streamIdsPrefix, streamVersionsPrefix, syncOf, writeIndex, writeSyncRow } from './commit.ts';
import { releaseLock } from './versions.ts';
import { partitionPrefix, runKeys, runPrefix } from '../warehouse/layout.ts';
import type { FailureLocation } from '../errors.ts';
import type { EndedStream } from './run-completion.ts';
import { completeRun } from './run-completion.ts';
import type { FaultHook, RunPlan, RunReport, StreamMarker } from './state.ts';
import { decodeJson, encodeJson, interruptedKey } from './state.ts';

export interface FinishDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly now?: () => Date;
  /** Crash (or race) injection for tests, at each step boundary. */
  readonly faultPoint?: FaultHook;
}

type StreamRef = Pick<StreamMessage, 'runId' | 'snapshotDate' | 'integrationId' | 'model' | 'sync'> & { readonly chunk?: number };

/**
 * Make a completed stream visible, atomically per partition, and clean older runs out of it; then
 * record its sync and commit its watermark. Every step can be done again after a crash: the
 * stream's lock keeps other runs away until its marker is written.
 *
 * Order: the deletion versions of records a full sync no longer returned, the index of what was
 * stored, the partitions, the `syncs` row, the commit (the new watermark), the marker. A crash
 * before the commit leaves the watermark where it was: the versions are fetched and compared again.
 * `before` is the stream's state and the index before the snapshot date, as the last chunk read them
 * under the stream's lock.
 */
export async function finishStream(deps: FinishDeps, msg: StreamMessage, totals: StreamTotals, before: PriorState): Promise<StreamTotals> {
  const now = deps.now ?? (() => new Date());
  const sync = syncOf(msg, now);
  const versions = await collectVersions(deps.store, msg, msg.chunk, sync, before);
  const records = totals.records ?? 0;
  const commit = await writeIndex(deps.store, msg, sync, versions, records);
  const own = tablesForModel(msg.model)[0]!.name;
  const done: StreamTotals = {
    ...totals,
    files: totals.files + versions.vanishedFiles,
    rows: versions.vanished > 0 ? { ...totals.rows, [own]: (totals.rows[own] ?? 0) + versions.vanished } : totals.rows,
    deletions: versions.deletions,
  };
  await deps.faultPoint?.('after-versions', msg);
  let registered = 0;
  for (const table of tablesForModel(msg.model)) {
    const ownPrefix = runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId);
    const keys = await deps.store.list(partitionPrefix(table.name, msg.snapshotDate, msg.integrationId));
    // A table without a version today and no earlier run of the date has nothing to show or replace.
    if (keys.length === 0) continue;
    await deps.catalog.registerPartition(table, msg.snapshotDate, msg.integrationId, ownPrefix);
    // Only after the partition points at this run may older runs' files go.
    await deps.store.delete(keys.filter((k) => !k.startsWith(ownPrefix)));
    if (++registered === 1) await deps.faultPoint?.('after-some-partitions', msg);
  }
  const syncsPrefix = await writeSyncRow(deps.store, msg, sync, { records, versions: versions.versions, deletions: versions.deletions }, now());
  await deps.catalog.registerPartition(SYNCS_TABLE, msg.snapshotDate, msg.integrationId, syncsPrefix);
  await deps.faultPoint?.('after-partitions', msg);
  await commitStream(deps.store, versions.state, commit);
  await deps.faultPoint?.('after-commit', msg);
  await writeMarker(deps.store, markerOf(msg, { status: 'done', totals: done, finishedAt: now().toISOString(), sync }));
  await deps.faultPoint?.('after-stream-marker', msg);
  // The chunks' id and version lists served this sync only: the index under `_state` now holds
  // what it stored, and a message delivered again finds the marker first.
  await deps.store.delete([...(await deps.store.list(streamIdsPrefix(msg))), ...(await deps.store.list(streamVersionsPrefix(msg)))]);
  await releaseLock(deps.store, msg.integrationId, msg.model, msg.runId);
  await completeRunIfLast(deps.store, msg.runId, now, msg);
  return done;
}

/** End a stream without making anything visible: skipped (model not available) or failed. */
export async function endStream(
  deps: { readonly store: ObjectStore; readonly now?: () => Date },
  msg: StreamRef,
  status: 'skipped' | 'failed',
  code: string,
  reason: string,
  totals: StreamTotals,
  location?: FailureLocation,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  // This run's partial files for the stream are never registered; remove them so that every
  // partition holds one run's files.
  for (const table of tablesForModel(msg.model)) {
    const own = await deps.store.list(runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId));
    await deps.store.delete(own);
  }
  await writeMarker(deps.store, markerOf(msg, { status, code, reason, totals, finishedAt: now().toISOString(), ...(location && { location }), ...(msg.sync && { sync: msg.sync }) }));
  await releaseLock(deps.store, msg.integrationId, msg.model, msg.runId);
  await completeRunIfLast(deps.store, msg.runId, now, msg);
}

/** A marker holds the stream's identity and outcome, never the message's cursor or other fields. */
function markerOf(msg: StreamRef, outcome: Omit<StreamMarker, 'runId' | 'integrationId' | 'model' | 'chunk'>): StreamMarker {
  // The marker keeps the stream's sync (`outcome.sync`), never the message's other fields.
  return {
    runId: msg.runId,
    integrationId: msg.integrationId,
    model: msg.model,
    ...outcome,
    ...(msg.chunk !== undefined && { chunk: msg.chunk }),
  };
}

async function writeMarker(store: ObjectStore, marker: StreamMarker): Promise<void> {
  await store.put(runKeys.stream(marker.runId, marker.integrationId, marker.model), encodeJson(marker));
}

/** The stream's marker, or undefined while the stream has not ended. */
export async function readMarker(store: ObjectStore, msg: Pick<StreamMessage, 'runId' | 'integrationId' | 'model'>): Promise<StreamMarker | undefined> {
  const body = await store.get(runKeys.stream(msg.runId, msg.integrationId, msg.model));
  return body ? decodeJson<StreamMarker>(body) : undefined;
}

/**
 * Whether `runId` has let go of a stream, for taking over its lock: it ended the stream (and died
 * before letting go), or the whole run is over (completed, failed or interrupted).
 */
export async function runHasLetGo(store: ObjectStore, runId: string, stream: Pick<StreamMessage, 'integrationId' | 'model'>): Promise<boolean> {
  if ((await readMarker(store, { runId, ...stream })) !== undefined) return true;
  for (const key of [runKeys.success(runId), runKeys.failed(runId), interruptedKey(runId)]) {
    if ((await store.get(key)) !== undefined) return true;
  }
  return false;
}

/** Read every stream marker of a run. */
export async function readMarkers(store: ObjectStore, runId: string): Promise<StreamMarker[]> {
  const keys = await store.list(runKeys.streamsPrefix(runId));
  const markers: StreamMarker[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body) markers.push(decodeJson<StreamMarker>(body));
  }
  return markers;
}

/** Read a run's plan, or undefined when there is none. */
export async function readPlan(store: ObjectStore, runId: string): Promise<RunPlan | undefined> {
  const body = await store.get(runKeys.plan(runId));
  return body ? decodeJson<RunPlan>(body) : undefined;
}

/**
 * When every planned stream has its marker, write the run report and the completion marker.
 * Returns the report if this call wrote the marker (exactly one caller does), else undefined.
 * `ended`: the stream that just ended, so that its integration's markers are counted first.
 */
export async function completeRunIfLast(store: ObjectStore, runId: string, now: () => Date = () => new Date(), ended?: EndedStream): Promise<RunReport | undefined> {
  return completeRun(store, runId, now, ended);
}
