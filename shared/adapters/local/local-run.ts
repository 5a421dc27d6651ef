/**
 * A whole run on one machine: the same plan / chunk / finish steps as in Lambda, with the local
 * queue draining messages through `concurrency` workers.
 */
import type { KomboClient } from '../../kombo/client.ts';
import type { Catalog, ObjectStore, StreamMessage } from '../../ports.ts';
import type { ModelName } from '../../tables.ts';
import { LocalQueue } from './local-queue.ts';
import { ChunkThreads } from './chunk-threads.ts';
import { runKeys } from '../../warehouse/layout.ts';
import type { PiiOptions } from '../../flatten.ts';
import type { ChunkDeps, ChunkLimits, ChunkResult } from '../../pipeline/chunk.ts';
import { processChunk } from '../../pipeline/chunk.ts';
import { planRun } from '../../pipeline/plan.ts';
import type { RetryPlan } from '../../pipeline/retry.ts';
import { retryFailedStreams } from '../../pipeline/retry.ts';
import type { RunPlan, RunReport } from '../../pipeline/state.ts';
import { decodeJson } from '../../pipeline/state.ts';

export interface LocalRunOptions {
  readonly client: KomboClient;
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly runId: string;
  readonly snapshotDate: string;
  readonly integrationIds: readonly string[];
  readonly models: readonly ModelName[];
  readonly concurrency: number;
  readonly limits?: Partial<ChunkLimits>;
  readonly onPlan?: (plan: RunPlan) => void;
  readonly onPage?: (msg: StreamMessage, records: number) => void;
  readonly onChunk?: (msg: StreamMessage, result: ChunkResult) => void;
  /** What to store in personal-data columns (default: keep). */
  readonly pii?: PiiOptions;
  /**
   * Worker threads that parse, validate and encode pages, so that this thread only waits on Kombo
   * (see `chunk-threads.ts`). 0 (the default) does that work on this thread.
   */
  readonly threads?: number;
}

/** Plan and run to completion. Throws a RunFatalError (bad API key…) as soon as one occurs. */
export async function runLocal(opts: LocalRunOptions): Promise<RunReport> {
  const queue = new LocalQueue();
  const plan = await planRun(
    { client: opts.client, store: opts.store, queue },
    { runId: opts.runId, snapshotDate: opts.snapshotDate, integrationIds: opts.integrationIds, models: opts.models },
  );
  opts.onPlan?.(plan);
  await drainLocal(opts, queue);
  return readReport(opts.store, opts.runId);
}

async function drainLocal(opts: Omit<LocalRunOptions, 'runId' | 'snapshotDate' | 'integrationIds' | 'models'>, queue: LocalQueue): Promise<void> {
  const deps: ChunkDeps = {
    client: opts.client,
    store: opts.store,
    queue,
    catalog: opts.catalog,
    ...(opts.limits && { limits: opts.limits }),
    ...(opts.onPage && { onPage: opts.onPage }),
    ...(opts.pii && { pii: opts.pii }),
  };
  const threads = opts.threads ? new ChunkThreads(opts.threads) : undefined;
  try {
    await queue.drain(async (msg) => {
      const result = await processChunk(threads ? { ...deps, work: threads.work } : deps, msg);
      opts.onChunk?.(msg, result);
    }, opts.concurrency);
  } finally {
    await threads?.close();
  }
}

async function readReport(store: ObjectStore, runId: string): Promise<RunReport> {
  const report = (await store.get(runKeys.report(runId))) ?? (await store.get(runKeys.success(runId)));
  if (!report) throw new Error(`run ${runId} drained but wrote no report`);
  return decodeJson<RunReport>(report);
}

export type LocalRetryOptions = Omit<LocalRunOptions, 'snapshotDate' | 'integrationIds' | 'models' | 'onPlan'> & {
  readonly onRetryPlan?: (plan: RetryPlan) => void;
};

/** Re-run a finished run's failed streams into the same run and snapshot, then report the run again. */
export async function retryLocal(opts: LocalRetryOptions): Promise<{ readonly retried: RetryPlan; readonly report: RunReport }> {
  const queue = new LocalQueue();
  const retried = await retryFailedStreams({ store: opts.store, queue }, opts.runId);
  opts.onRetryPlan?.(retried);
  await drainLocal(opts, queue);
  return { retried, report: await readReport(opts.store, opts.runId) };
}
