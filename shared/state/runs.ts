/**
 * Run state, under `_runs/<run_id>/`: the plan, one marker per stream when it ends, the run's
 * completion marker and report, or its interruption marker when a signal stopped it.
 */
import type { FailureLocation } from '../errors.ts';
import type { ObjectStore, StreamSync, StreamTotals } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { RUNS_PREFIX, runKeys, splitRunKey } from './keys.ts';
import { completeRun } from './completion.ts';
import { releaseLock } from './lock.ts';
import type { StreamId, StreamRef } from './ref.ts';
import { streamKey } from './ref.ts';

/** A stream's state. `pending` only appears in the plan; markers hold the final states. */
export type StreamStatus = 'pending' | 'done' | 'skipped' | 'failed';

/** How a run ended: every stream done or skipped, or some failed. */
export type RunStatus = 'succeeded' | 'failed';

export interface PlannedStream {
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: Extract<StreamStatus, 'pending' | 'skipped' | 'failed'>;
  readonly code?: string;
  readonly reason?: string;
  /** For a pending stream: full or incremental, from when (see `pipeline/sync-policy.ts`). */
  readonly sync?: StreamSync;
  /** Why a pending stream syncs in full: `first sync`, `asked`, `last full sync 7 days before`. */
  readonly fullBecause?: string;
}

export interface RunPlan {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly createdAt: string;
  readonly streams: readonly PlannedStream[];
}

export interface StreamMarker {
  readonly runId: string;
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: Exclude<StreamStatus, 'pending'>;
  readonly code?: string;
  readonly reason?: string;
  readonly totals: StreamTotals;
  readonly finishedAt: string;
  /** Last chunk of the chain that ended the stream; a retry continues numbering after it. */
  readonly chunk?: number;
  /** Where a failure happened, as far as known (integration, model, record id). */
  readonly location?: FailureLocation;
  /** How the stream fetched (absent on streams the planner ended). */
  readonly sync?: StreamSync;
}

export interface RunReport {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly status: RunStatus;
  readonly finishedAt: string;
  readonly streams: readonly StreamMarker[];
}

/**
 * Written when a signal stopped a local run (or its retry) before every stream ended: the run is
 * no longer running, and `kombo-etl retry` resumes the streams that never ended. Removed when a
 * retry resumes all of them.
 */
export interface InterruptedRun {
  readonly runId: string;
  readonly snapshotDate?: string;
  readonly interruptedAt: string;
  /** What stopped it: `SIGINT` (Ctrl-C), `SIGTERM`, or its process ending without a word (killed, crashed). */
  readonly signal: string;
  /** The streams that had not ended then, as far as known when it was written. */
  readonly unended?: readonly StreamId[];
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const body = await store.get(key);
  return body ? decodeJson<T>(body) : undefined;
}

/** Read a run's plan, or undefined when there is none. */
export const readPlan = (store: ObjectStore, runId: string): Promise<RunPlan | undefined> => readJson<RunPlan>(store, runKeys.plan(runId));

export async function writePlan(store: ObjectStore, plan: RunPlan): Promise<void> {
  await store.put(runKeys.plan(plan.runId), encodeJson(plan));
}

/** The stream's marker, or undefined while the stream has not ended. */
export const readMarker = (store: ObjectStore, s: StreamRef): Promise<StreamMarker | undefined> =>
  readJson<StreamMarker>(store, runKeys.stream(s.runId, s.integrationId, s.model));

export async function writeMarker(store: ObjectStore, marker: StreamMarker): Promise<void> {
  await store.put(runKeys.stream(marker.runId, marker.integrationId, marker.model), encodeJson(marker));
}

/** Remove streams' markers, so that they can end again (a retry). */
export async function deleteMarkers(store: ObjectStore, runId: string, streams: readonly StreamId[]): Promise<void> {
  await store.delete(streams.map((s) => runKeys.stream(runId, s.integrationId, s.model)));
}

/** Read every stream marker of a run. */
export async function readMarkers(store: ObjectStore, runId: string): Promise<StreamMarker[]> {
  const markers: StreamMarker[] = [];
  for (const key of await store.list(runKeys.streamsPrefix(runId))) {
    const marker = await readJson<StreamMarker>(store, key);
    if (marker) markers.push(marker);
  }
  return markers;
}

/** The run's report: the one its completion wrote, else its completion marker's copy. */
export async function readReport(store: ObjectStore, runId: string): Promise<RunReport | undefined> {
  return (await readJson<RunReport>(store, runKeys.report(runId))) ?? readJson<RunReport>(store, runKeys.success(runId));
}

/** Whether the run completed (succeeded or failed): its completion marker is there. */
export async function runCompleted(store: ObjectStore, runId: string): Promise<boolean> {
  return (await store.get(runKeys.success(runId))) !== undefined || (await store.get(runKeys.failed(runId))) !== undefined;
}

/** Forget how a run ended, so that it completes again when the streams sent again end. */
export async function reopenRun(store: ObjectStore, runId: string, opts: { readonly keepInterrupted: boolean }): Promise<void> {
  await store.delete([runKeys.failed(runId), runKeys.report(runId), ...(opts.keepInterrupted ? [] : [runKeys.interrupted(runId)])]);
}

/**
 * Whether `runId` has let go of a stream, for taking over its lock: it ended the stream (and died
 * before letting go), or the whole run is over (completed, failed or interrupted).
 */
export async function runHasLetGo(store: ObjectStore, runId: string, stream: StreamId): Promise<boolean> {
  if ((await readMarker(store, { runId, ...stream })) !== undefined) return true;
  return (await runCompleted(store, runId)) || (await store.get(runKeys.interrupted(runId))) !== undefined;
}

/**
 * When every planned stream has its marker, write the run report and the completion marker.
 * Returns the report if this call wrote the marker (exactly one caller does), else undefined.
 * `ended`: the stream that just ended, so that only its integration's markers are counted first
 * (see `completion.ts`: reads linear in the streams).
 */
export async function completeRunIfLast(store: ObjectStore, runId: string, now: () => Date = () => new Date(), ended?: StreamId): Promise<RunReport | undefined> {
  return completeRun(store, runId, now, ended);
}

/**
 * A stream has ended: write its marker, then (after `afterMarker`, what the stream's end still has
 * to do) complete the run if it was the last stream, and let go of the stream's lock. The lock goes
 * last: a lock whose run has ended the stream, or has completed, is taken over anyway.
 */
export async function closeStream(store: ObjectStore, marker: StreamMarker, now: () => Date, afterMarker?: () => Promise<void>): Promise<void> {
  await writeMarker(store, marker);
  await afterMarker?.();
  await completeRunIfLast(store, marker.runId, now, marker);
  await releaseLock(store, marker, marker.runId);
}

/** The streams of a plan that have no marker yet. */
export function unendedStreams(plan: RunPlan, markers: readonly StreamMarker[]): PlannedStream[] {
  const ended = new Set(markers.map(streamKey));
  return plan.streams.filter((s) => !ended.has(streamKey(s)));
}

/**
 * Mark a run interrupted (a signal stopped it before every stream ended, or its process is gone),
 * so that `retry` resumes it instead of waiting for it. Does nothing for a run that has no plan yet
 * or has completed.
 * @returns whether the marker was written.
 */
export async function markRunInterrupted(store: ObjectStore, runId: string, signal: string, now: Date = new Date()): Promise<boolean> {
  const plan = await readPlan(store, runId);
  if (!plan || (await runCompleted(store, runId))) return false;
  const unended = unendedStreams(plan, await readMarkers(store, runId)).map((s) => ({ integrationId: s.integrationId, model: s.model }));
  const record: InterruptedRun = { runId, snapshotDate: plan.snapshotDate, interruptedAt: now.toISOString(), signal, unended };
  await store.put(runKeys.interrupted(runId), encodeJson(record));
  return true;
}

/** A run's interruption marker, or undefined when it has none. */
export const readInterrupted = (store: ObjectStore, runId: string): Promise<InterruptedRun | undefined> => readJson<InterruptedRun>(store, runKeys.interrupted(runId));

export async function clearInterrupted(store: ObjectStore, runId: string): Promise<void> {
  await store.delete([runKeys.interrupted(runId)]);
}

/** Every run's plan in the warehouse, as far as readable. */
export async function readAllPlans(store: ObjectStore): Promise<RunPlan[]> {
  const plans: RunPlan[] = [];
  for (const key of await store.list(RUNS_PREFIX)) {
    if (splitRunKey(key)?.file !== 'plan.json') continue;
    const plan = await readJson<RunPlan>(store, key);
    if (plan) plans.push(plan);
  }
  return plans;
}

/** How far a run got, from its keys: completed one way or the other, or still going. */
export type RunProgress = RunStatus | 'running';

/** Every run whose id starts with one of the `YYYYMMDD` days, with its progress. */
export async function runsOfDays(store: ObjectStore, days: readonly string[]): Promise<Map<string, RunProgress>> {
  const runs = new Map<string, RunProgress>();
  for (const day of days) {
    for (const key of await store.list(runKeys.dayPrefix(day))) {
      const k = splitRunKey(key);
      if (k === undefined) continue;
      const seen = runs.get(k.runId) ?? 'running';
      runs.set(k.runId, k.file === '_SUCCESS.json' ? 'succeeded' : k.file === '_FAILED.json' && seen === 'running' ? 'failed' : seen);
    }
  }
  return runs;
}

/**
 * Remove `_runs/<run>/` of ended runs (completed or failed) whose snapshot date is before the
 * cutoff. A run still going (a backfill of an old date) keeps its state, and so does an interrupted
 * one, until a `retry` has removed the files its stopped streams left.
 */
export async function removeRunsBefore(store: ObjectStore, cutoff: string): Promise<string[]> {
  const byRun = new Map<string, string[]>();
  for (const key of await store.list(RUNS_PREFIX)) {
    const runId = splitRunKey(key)?.runId;
    if (runId === undefined) continue;
    const keys = byRun.get(runId);
    if (keys === undefined) byRun.set(runId, [key]);
    else keys.push(key);
  }
  const removed: string[] = [];
  for (const [runId, keys] of byRun) {
    // Listed keys, not minted ones: a folder whose name is no run id is left alone, not refused.
    const files = new Set(keys.map((k) => splitRunKey(k)?.file));
    const date = files.has('plan.json') ? (await readJson<RunPlan>(store, keys.find((k) => splitRunKey(k)?.file === 'plan.json')!))?.snapshotDate : undefined;
    if (date === undefined || date >= cutoff) continue;
    // An interrupted run is kept: `retry` still needs its state to remove its streams' files.
    const ended = ['_SUCCESS.json', '_FAILED.json'].some((f) => files.has(f)) && !files.has('_INTERRUPTED.json');
    if (!ended) continue;
    await store.delete(keys);
    removed.push(runId);
  }
  return removed.sort();
}
