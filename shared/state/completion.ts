/**
 * Completing a run in reads linear in its streams. A stream that ends lists only its own
 * integration's markers (one LIST of at most a few keys); the stream that completes an integration
 * writes `_runs/<run_id>/ended/<integration>.json` and lists those (one LIST per thousand
 * integrations); only when every integration the run fetches has ended does one stream list the
 * run's markers and read them, once, to write the report and the completion marker. Reading every
 * marker at every stream's end instead costs about n²/2 GETs for n streams (40 million at 9,000).
 *
 * The `ended/` keys are a filter, never the verdict: a retry that removes failed markers leaves
 * them behind, so the last step still counts the markers themselves before it writes anything.
 */
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { runKeys } from './keys.ts';
import type { RunPlan, RunReport, StreamMarker } from './runs.ts';

/** Markers read at once by the stream that completes the run. */
export const MARKER_READ_CONCURRENCY = 32;

/** The stream that just ended: which integration's markers to count. */
export interface EndedStream {
  readonly integrationId: string;
}

/** `_runs/<run_id>/ended/`: one key per integration whose streams have all ended. */
const endedPrefix = runKeys.endedPrefix;
const endedKey = runKeys.ended;
const integrationMarkersPrefix = runKeys.integrationStreamsPrefix;

/**
 * When every planned stream has its marker, write the run report and the completion marker
 * (`_SUCCESS.json` or `_FAILED.json`, a conditional write: exactly one caller wins). With `ended`,
 * the stream that just ended, the markers are read only once its integration and every other one
 * the run fetches have ended; without it (a run with nothing to fetch, a resumed run), at once.
 * Returns the report if this call wrote the completion marker, else undefined.
 */
export async function completeRun(store: ObjectStore, runId: string, now: () => Date, ended?: EndedStream): Promise<RunReport | undefined> {
  const body = await store.get(runKeys.plan(runId));
  if (!body) return undefined;
  const plan = decodeJson<RunPlan>(body);
  if (ended !== undefined && !(await everyIntegrationEnded(store, plan, ended.integrationId))) return undefined;
  const keys = await store.list(runKeys.streamsPrefix(runId));
  if (keys.length < plan.streams.length) return undefined;
  const streams = await readAll(store, keys);
  // A retry may have removed a failed marker since the list: the run is running again.
  if (streams.length < plan.streams.length) return undefined;
  const report: RunReport = {
    runId,
    snapshotDate: plan.snapshotDate,
    status: streams.some((m) => m.status === 'failed') ? 'failed' : 'succeeded',
    finishedAt: now().toISOString(),
    streams,
  };
  // Hadoop's convention: `_SUCCESS` only for a complete, clean run; `_FAILED` otherwise.
  const markerKey = report.status === 'succeeded' ? runKeys.success(runId) : runKeys.failed(runId);
  if (!(await store.putIfAbsent(markerKey, encodeJson(report)))) return undefined;
  await store.put(runKeys.report(runId), encodeJson(report));
  return report;
}

/**
 * Whether `integrationId` has ended (every stream of it in the plan has a marker), recorded as its
 * `ended/` key, and then whether every integration with a stream to fetch has such a key. Each
 * writes its key before it lists the others', so the last of two integrations ending at once sees
 * both. Integrations the planner ended whole (their markers written with the plan) need no key.
 */
async function everyIntegrationEnded(store: ObjectStore, plan: RunPlan, integrationId: string): Promise<boolean> {
  const planned = plan.streams.filter((s) => s.integrationId === integrationId).length;
  const markers = await store.list(integrationMarkersPrefix(plan.runId, integrationId));
  if (markers.length < planned) return false;
  await store.put(endedKey(plan.runId, integrationId), encodeJson({ integrationId, streams: markers.length }));
  const fetched = new Set(plan.streams.filter((s) => s.status === 'pending').map((s) => s.integrationId));
  const endedKeys = await store.list(endedPrefix(plan.runId));
  return endedKeys.length >= fetched.size;
}

/** Read every marker, a few at a time, in the keys' order. */
async function readAll(store: ObjectStore, keys: readonly string[]): Promise<StreamMarker[]> {
  const markers: (StreamMarker | undefined)[] = new Array<StreamMarker | undefined>(keys.length);
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < keys.length) {
      const i = next++;
      const body = await store.get(keys[i]!);
      if (body) markers[i] = decodeJson<StreamMarker>(body);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MARKER_READ_CONCURRENCY, keys.length) }, reader));
  return markers.filter((m): m is StreamMarker => m !== undefined);
}
