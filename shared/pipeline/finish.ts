/**
 * Step 3: finish a stream. Register (or repoint) its partitions at this run's folder, delete that
 * partition's files from older runs, write the stream's marker, and, if it is the last stream of
 * the run, write the run's completion marker (a conditional write, so exactly one stream does).
 */
import type { Catalog, ObjectStore, StreamMessage, StreamTotals } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { partitionPrefix, runKeys, runPrefix } from '../warehouse/layout.ts';
import type { FailureLocation } from '../errors.ts';
import type { FaultHook, RunPlan, RunReport, StreamMarker } from './state.ts';
import { decodeJson, encodeJson } from './state.ts';

export interface FinishDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly now?: () => Date;
  /** Crash (or race) injection for tests, at each step boundary. */
  readonly faultPoint?: FaultHook;
}

type StreamRef = Pick<StreamMessage, 'runId' | 'snapshotDate' | 'integrationId' | 'model'> & { readonly chunk?: number };

/** Make a completed stream visible, atomically per partition, and clean older runs out of it. */
export async function finishStream(deps: FinishDeps, msg: StreamRef, totals: StreamTotals): Promise<void> {
  const now = deps.now ?? (() => new Date());
  let registered = 0;
  for (const table of tablesForModel(msg.model)) {
    const ownPrefix = runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId);
    await deps.catalog.registerPartition(table, msg.snapshotDate, msg.integrationId, ownPrefix);
    // Only after the partition points at this run may older runs' files go.
    const keys = await deps.store.list(partitionPrefix(table.name, msg.snapshotDate, msg.integrationId));
    await deps.store.delete(keys.filter((k) => !k.startsWith(ownPrefix)));
    if (++registered === 1) await deps.faultPoint?.('after-some-partitions', msg);
  }
  await writeMarker(deps.store, markerOf(msg, { status: 'done', totals, finishedAt: now().toISOString() }));
  await deps.faultPoint?.('after-stream-marker', msg);
  await completeRunIfLast(deps.store, msg.runId, now);
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
  await writeMarker(deps.store, markerOf(msg, { status, code, reason, totals, finishedAt: now().toISOString(), ...(location && { location }) }));
  await completeRunIfLast(deps.store, msg.runId, now);
}

/** A marker holds the stream's identity and outcome, never the message's cursor or other fields. */
function markerOf(msg: StreamRef, outcome: Omit<StreamMarker, 'runId' | 'integrationId' | 'model' | 'chunk'>): StreamMarker {
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
 */
export async function completeRunIfLast(store: ObjectStore, runId: string, now: () => Date = () => new Date()): Promise<RunReport | undefined> {
  const plan = await readPlan(store, runId);
  if (!plan) return undefined;
  const markers = await readMarkers(store, runId);
  if (markers.length < plan.streams.length) return undefined;
  const report: RunReport = {
    runId,
    snapshotDate: plan.snapshotDate,
    status: markers.some((m) => m.status === 'failed') ? 'failed' : 'succeeded',
    finishedAt: now().toISOString(),
    streams: markers,
  };
  // Hadoop's convention: `_SUCCESS` only for a complete, clean run; `_FAILED` otherwise.
  const markerKey = report.status === 'succeeded' ? runKeys.success(runId) : runKeys.failed(runId);
  const won = await store.putIfAbsent(markerKey, encodeJson(report));
  if (!won) return undefined;
  await store.put(runKeys.report(runId), encodeJson(report));
  return report;
}
