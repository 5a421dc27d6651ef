/**
 * Re-run a run's failed streams into the same run and snapshot: `kombo-etl retry --run-id`, and the
 * planner's `{retry_run_id}` event. Streams that are done or skipped are left alone; their
 * partitions stay as they are.
 */
import type { ObjectStore, Queue, StreamMessage } from '../ports.ts';
import { EMPTY_TOTALS } from '../ports.ts';
import { ConfigError } from '../errors.ts';
import { assertRunId, runKeys } from '../warehouse/layout.ts';
import { readMarkers, readPlan } from './finish.ts';
import type { StreamMarker } from './state.ts';

export interface RetryDeps {
  readonly store: ObjectStore;
  readonly queue: Queue;
}

export interface RetryPlan {
  readonly runId: string;
  readonly snapshotDate: string;
  /** The streams sent again. Empty when the run had no failed stream. */
  readonly streams: readonly Pick<StreamMarker, 'integrationId' | 'model' | 'code' | 'reason'>[];
}

/**
 * Send every failed stream of `runId` again, from its first page. Its failed marker and the run's
 * completion marker and report are removed first, so the run completes again, exactly once, when
 * the retried streams end. The new chain's chunks are numbered after the failed chain's, so that
 * no object key or FIFO deduplication id of the first attempt is reused.
 * @throws ConfigError when the run does not exist or is still running.
 */
export async function retryFailedStreams(deps: RetryDeps, runId: string): Promise<RetryPlan> {
  assertRunId(runId);
  const plan = await readPlan(deps.store, runId);
  if (!plan) throw new ConfigError(`run ${runId} has no plan in this warehouse: check --run-id and --warehouse`);
  const markers = await readMarkers(deps.store, runId);
  const finished = (await deps.store.get(runKeys.success(runId))) ?? (await deps.store.get(runKeys.failed(runId)));
  if (!finished && markers.length < plan.streams.length) {
    throw new ConfigError(`run ${runId} is still running (${markers.length} of ${plan.streams.length} streams ended): retry it once it has finished`);
  }
  const failed = markers.filter((m) => m.status === 'failed');
  if (failed.length === 0) return { runId, snapshotDate: plan.snapshotDate, streams: [] };

  // Order matters for a crash in between: markers first would let a concurrent finish complete the
  // run again; removing the run's verdict first leaves it "running" until the retried streams end.
  await deps.store.delete([runKeys.failed(runId), runKeys.report(runId)]);
  await deps.store.delete(failed.map((m) => runKeys.stream(runId, m.integrationId, m.model)));
  for (const m of failed) {
    const msg: StreamMessage = {
      runId,
      snapshotDate: plan.snapshotDate,
      integrationId: m.integrationId,
      model: m.model,
      cursor: null,
      chunk: m.chunk === undefined ? 0 : m.chunk + 1,
      totals: EMPTY_TOTALS,
    };
    await deps.queue.send(msg);
  }
  return {
    runId,
    snapshotDate: plan.snapshotDate,
    streams: failed.map((m) => ({ integrationId: m.integrationId, model: m.model, ...(m.code !== undefined && { code: m.code }), ...(m.reason !== undefined && { reason: m.reason }) })),
  };
}
