/**
 * Step 3: settle a chunk: send the next chunk, restart the stream from its first page, or end it.
 * A completed stream: store the deletion versions a full sync found, carry over the rows the date's
 * earlier syncs stored, register (or repoint) its partitions at this run's folder, delete that
 * partition's files from older runs,
 * write its `syncs` row, commit its sync (the new watermark), write the stream's marker, and, if it
 * is the last stream of the run, write the run's completion marker (a conditional write, so exactly
 * one stream does). A skipped or failed one: drop what this run wrote of it and write its marker.
 */
import type { KomboEtlError } from '../errors.ts';
import type { Catalog, ObjectStore, StreamMessage, StreamTotals } from '../ports.ts';
import { SYNCS_TABLE, tablesForModel } from '../tables.ts';
import { partitionPrefix, runPrefix } from '../warehouse/layout.ts';
import { chunkListKeys, startChain, streamRunKeys } from '../state/chunks.ts';
import type { StreamMarker } from '../state/runs.ts';
import { closeStream } from '../state/runs.ts';
import type { ChunkDeps, ChunkResult, ChunkStep, StreamEnd } from './chunk-types.ts';
import { DEFAULT_CURSOR_RESTARTS } from './chunk-types.ts';
import { commitStream } from '../state/streams.ts';
import type { PriorState } from './commit.ts';
import { collectVersions, writeIndex } from './commit.ts';
import { writeSyncRow } from './syncs-row.ts';
import type { FaultHook } from './faults.ts';

export interface FinishDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly now?: () => Date;
  /** Crash (or race) injection for tests, at each step boundary. */
  readonly faultPoint?: FaultHook;
}

/**
 * Make a completed stream visible, atomically per partition, and clean older runs out of it; then
 * record its sync and commit its watermark. Every step can be done again after a crash: the
 * stream's lock keeps other runs away until its marker is written.
 *
 * Order: the deletion versions of records a full sync no longer returned, the index of what was
 * stored, the partitions, the `syncs` row, the commit (the new watermark), the marker. A crash
 * before the commit leaves the watermark where it was: the versions are fetched and compared again.
 * `before` is the stream's state and the index before the snapshot date, as the chunk read
 * them under the stream's lock.
 */
export async function finishStream(deps: FinishDeps, msg: StreamMessage, totals: StreamTotals, before: PriorState): Promise<StreamTotals> {
  const now = deps.now ?? (() => new Date());
  const { sync } = before;
  const versions = await collectVersions(deps.store, msg, msg.chunk, before);
  const records = totals.records ?? 0;
  const commit = await writeIndex(deps.store, msg, sync, versions, records);
  const own = tablesForModel(msg.model)[0]!.name;
  const rows: Record<string, number> = { ...totals.rows };
  if (versions.vanished > 0) rows[own] = (rows[own] ?? 0) + versions.vanished;
  const done: StreamTotals = {
    ...totals,
    files: totals.files + versions.vanishedFiles + versions.carried.files,
    rows,
    ...(Object.keys(versions.carried.rows).length > 0 && { carried: versions.carried.rows }),
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
  const syncsPrefix = await writeSyncRow(deps.store, msg, sync, before.syncedAt, { records, versions: versions.versions, deletions: versions.deletions }, now());
  await deps.catalog.registerPartition(SYNCS_TABLE, msg.snapshotDate, msg.integrationId, syncsPrefix);
  await deps.faultPoint?.('after-partitions', msg);
  await commitStream(deps.store, versions.state, commit);
  await deps.faultPoint?.('after-commit', msg);
  await closeStream(deps.store, markerOf(msg, { status: 'done', totals: done, finishedAt: now().toISOString(), sync }), now, async () => {
    await deps.faultPoint?.('after-stream-marker', msg);
    // The chunks' id and version lists served this sync only: the index under `_state` now holds
    // what it stored, and a message delivered again finds the marker first.
    await deps.store.delete(await chunkListKeys(deps.store, msg));
  });
  return done;
}

/** End a stream without making anything visible: skipped (model not available) or failed. */
export async function endStream(deps: { readonly store: ObjectStore; readonly now?: () => Date }, msg: StreamMessage, end: StreamEnd): Promise<void> {
  const now = deps.now ?? (() => new Date());
  // This run's partial files for the stream are never registered; remove them so that every
  // partition holds one run's files.
  for (const table of tablesForModel(msg.model)) {
    await deps.store.delete(await deps.store.list(runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId)));
  }
  const { status, code, reason, totals, location } = end;
  await closeStream(deps.store, markerOf(msg, { status, code, reason, totals, finishedAt: now().toISOString(), ...(location && { location }), ...(msg.sync && { sync: msg.sync }) }), now);
}

/** A marker holds the stream's identity and outcome, never the message's cursor or other fields. */
function markerOf(msg: StreamMessage, outcome: Omit<StreamMarker, 'runId' | 'integrationId' | 'model' | 'chunk'>): StreamMarker {
  return { runId: msg.runId, integrationId: msg.integrationId, model: msg.model, ...outcome, chunk: msg.chunk };
}

/**
 * Take the step a chunk's fetch led to: send the next chunk, restart the stream from its first
 * page, end it, or finish it.
 */
export async function settleChunk(deps: ChunkDeps, msg: StreamMessage, step: ChunkStep): Promise<ChunkResult> {
  switch (step.kind) {
    case 'continue':
      await deps.queue.send({ ...msg, cursor: step.cursor, chunk: msg.chunk + 1, totals: step.totals });
      await deps.faultPoint?.('after-continuation', msg);
      return { outcome: 'continued', totals: step.totals };
    case 'restart':
      return restartStream(deps, msg, step.error, step.totals);
    case 'end':
      await endStream(deps, msg, step.end);
      return { outcome: step.end.status, totals: step.end.totals, code: step.end.code, reason: step.end.reason };
    case 'finish': {
      const totals = await finishStream(deps, msg, step.totals, step.before);
      await deps.faultPoint?.('after-finish', msg);
      return { outcome: 'done', totals };
    }
  }
}

/**
 * Kombo rejected the cursor: drop everything this run wrote for the stream and start again from the
 * first page, as a new chain (chunk numbers keep counting up, so no key or deduplication id is
 * reused). After the limit of restarts the stream fails with Kombo's code.
 */
async function restartStream(deps: ChunkDeps, msg: StreamMessage, err: KomboEtlError, totals: StreamTotals): Promise<ChunkResult> {
  const restarts = msg.restarts ?? 0;
  if (restarts >= (deps.limits?.maxCursorRestarts ?? DEFAULT_CURSOR_RESTARTS)) {
    const reason = `Kombo rejected the stream's cursor ${restarts + 1} times (restarted from the first page ${restarts} times): ${err.message}`;
    return settleChunk(deps, msg, { kind: 'end', end: { status: 'failed', code: err.code, reason, totals, ...(err.location && { location: err.location }) } });
  }
  await deps.store.delete(await streamRunKeys(deps.store, msg));
  const fresh: StreamTotals = { ...totals, rows: {}, files: 0, duplicates: 0, records: 0, unchanged: 0 };
  await startChain(deps.store, msg, msg.chunk + 1);
  await deps.queue.send({ ...msg, cursor: null, chunk: msg.chunk + 1, chain: msg.chunk + 1, restarts: restarts + 1, totals: fresh });
  return { outcome: 'restarted', totals: fresh, code: err.code, reason: 'cursor rejected: the stream restarts from its first page' };
}
