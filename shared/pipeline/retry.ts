/**
 * Re-run a run's failed streams into the same run and snapshot: `kombo-etl retry --run-id`, and the
 * planner's `{retry_run_id}` event. A run a signal interrupted is resumed the same way: its streams
 * that never ended are sent again. Streams that are done or skipped are left alone; their
 * partitions stay as they are.
 */
import type { ObjectStore, Queue, StreamMessage } from '../ports.ts';
import { EMPTY_TOTALS, sendAll } from '../ports.ts';
import { ConfigError } from '../errors.ts';
import { assertRunId, chunkOfKey } from '../warehouse/layout.ts';
import { startChain, streamRunKeys } from '../state/chunks.ts';
import type { StreamId } from '../state/ref.ts';
import { streamKey } from '../state/ref.ts';
import type { StreamMarker } from '../state/runs.ts';
import { clearInterrupted, completeRunIfLast, deleteMarkers, readInterrupted, readMarkers, readPlan, reopenRun, runCompleted, unendedStreams } from '../state/runs.ts';

export interface RetryDeps {
  readonly store: ObjectStore;
  readonly queue: Queue;
  readonly now?: () => Date;
}

export interface RetryOptions {
  /** Only the streams of these integrations (each must be in the run's plan). Default: all. */
  readonly integrationIds?: readonly string[];
}

/** A stream a retry sent again, and why it had failed. */
export type RetriedStream = Pick<StreamMarker, 'integrationId' | 'model' | 'code' | 'reason'>;

export interface RetryPlan {
  readonly runId: string;
  readonly snapshotDate: string;
  /** The failed streams sent again. Empty when the run had no failed stream (of those integrations). */
  readonly streams: readonly RetriedStream[];
  /** The streams of an interrupted run that never ended, sent again. */
  readonly resumed: readonly RetriedStream[];
  /**
   * Streams of an interrupted run that never ended and were not selected (other integrations): the
   * run stays interrupted until a retry resumes them.
   */
  readonly leftUnended: number;
}

/**
 * The chunk a resumed stream starts at: after every chunk its interrupted chain wrote. The chunk
 * step deletes this run's files of the stream numbered below it, so whatever the abandoned chain
 * left (a chunk written, or a partition half finished) is replaced, never added to.
 */
async function nextChunk(store: ObjectStore, runId: string, snapshotDate: string, s: StreamId): Promise<number> {
  // A chunk that found nothing changed writes no data file, only its id and version lists: both count.
  let last = -1;
  for (const key of await streamRunKeys(store, { runId, snapshotDate, ...s })) {
    const chunk = chunkOfKey(key);
    if (chunk > last) last = chunk;
  }
  return last + 1;
}

/**
 * Send every failed stream of `runId` again, from its first page, and, when a signal interrupted
 * the run, every stream that never ended. Its failed markers and the run's completion marker and
 * report (or its interruption marker) are removed first, so the run completes again, exactly once,
 * when the streams sent end. The new chains' chunks are numbered after the earlier chains', so that
 * no object key or FIFO deduplication id of an earlier attempt is reused.
 * @throws ConfigError when the run does not exist, is still running, or does not hold one of
 *   `opts.integrationIds`.
 */
export async function retryFailedStreams(deps: RetryDeps, runId: string, opts: RetryOptions = {}): Promise<RetryPlan> {
  assertRunId(runId);
  const plan = await readPlan(deps.store, runId);
  if (!plan) throw new ConfigError(`run ${runId} has no plan in this warehouse: check --run-id and --warehouse`);
  const planned = new Set(plan.streams.map((s) => s.integrationId));
  const unknown = (opts.integrationIds ?? []).filter((id) => !planned.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(`--integrations / KOMBO_INTEGRATION_IDS: run ${runId} has no integration ${unknown.join(', ')} (it has ${[...planned].join(', ')})`);
  }
  const selected = (s: { readonly integrationId: string }) => opts.integrationIds === undefined || opts.integrationIds.includes(s.integrationId);

  const markers = await readMarkers(deps.store, runId);
  const finished = await runCompleted(deps.store, runId);
  const interrupted = (await readInterrupted(deps.store, runId)) !== undefined;
  if (!finished && !interrupted && markers.length < plan.streams.length) {
    throw new ConfigError(`run ${runId} is still running (${markers.length} of ${plan.streams.length} streams ended): retry it once it has finished`);
  }
  const unended = finished ? [] : unendedStreams(plan, markers);
  const resumed = unended.filter(selected);
  const failed = markers.filter((m) => m.status === 'failed' && selected(m));
  const leftUnended = unended.length - resumed.length;
  if (interrupted && !finished && unended.length === 0) {
    // Stopped after its last stream ended but before it completed: complete it now.
    await completeRunIfLast(deps.store, runId);
    await clearInterrupted(deps.store, runId);
    if (failed.length === 0) return { runId, snapshotDate: plan.snapshotDate, streams: [], resumed: [], leftUnended };
  }
  if (failed.length === 0 && resumed.length === 0) return { runId, snapshotDate: plan.snapshotDate, streams: [], resumed: [], leftUnended };

  // Order matters for a crash in between: markers first would let a concurrent finish complete the
  // run again; removing the run's verdict first leaves it "running" until the retried streams end.
  // An interrupted run keeps its marker while streams of other integrations are left unended.
  await reopenRun(deps.store, runId, { keepInterrupted: leftUnended > 0 });
  await deleteMarkers(deps.store, runId, failed);
  // A stream syncs again as the plan decided: full, or incremental from the same watermark (its
  // fetch starts later, so it finds every change the first attempt would have, and more). Its
  // versions are dated when it fetches now, not when the run first did: they hold today's records.
  const fetchedAt = (deps.now ?? (() => new Date()))().toISOString();
  const syncs = new Map(plan.streams.map((s) => [streamKey(s), s.sync && { ...s.sync, fetchedAt }]));
  const first = (s: StreamId, chunk: number): StreamMessage => {
    const sync = syncs.get(streamKey(s));
    return { runId, snapshotDate: plan.snapshotDate, integrationId: s.integrationId, model: s.model, cursor: null, chunk, chain: chunk, totals: EMPTY_TOTALS, ...(sync && { sync }) };
  };
  const messages = failed.map((m) => first(m, m.chunk === undefined ? 0 : m.chunk + 1));
  for (const s of resumed) messages.push(first(s, await nextChunk(deps.store, runId, plan.snapshotDate, s)));
  // Each stream's new chain is recorded before it is sent: a message of its old chain that turns up
  // later (a redelivery, a dead-letter queue redriven) then does nothing.
  for (const m of messages) await startChain(deps.store, m, m.chunk);
  // Batched like the planner's: a retry of a whole failed night resends every stream.
  await sendAll(deps.queue, messages);
  const ref = (s: RetriedStream): RetriedStream => ({ integrationId: s.integrationId, model: s.model, ...(s.code !== undefined && { code: s.code }), ...(s.reason !== undefined && { reason: s.reason }) });
  return { runId, snapshotDate: plan.snapshotDate, streams: failed.map(ref), resumed: resumed.map(ref), leftUnended };
}
