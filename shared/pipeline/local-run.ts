/**
 * A whole run on one machine: the same plan / chunk / finish steps as in Lambda, with the local
 * queue draining messages through `concurrency` workers.
 */
import type { KomboClient } from '../kombo/client.ts';
import type { Catalog, ObjectStore, StreamMessage } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { LocalQueue } from '../adapters/local/local-queue.ts';
import { runKeys } from '../warehouse/layout.ts';
import type { ChunkLimits, ChunkResult } from './chunk.ts';
import { processChunk } from './chunk.ts';
import { planRun } from './plan.ts';
import type { RunPlan, RunReport } from './state.ts';
import { decodeJson } from './state.ts';

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
}

/** Plan and run to completion. Throws a RunFatalError (bad API key…) as soon as one occurs. */
export async function runLocal(opts: LocalRunOptions): Promise<RunReport> {
  const queue = new LocalQueue();
  const plan = await planRun(
    { client: opts.client, store: opts.store, queue },
    { runId: opts.runId, snapshotDate: opts.snapshotDate, integrationIds: opts.integrationIds, models: opts.models },
  );
  opts.onPlan?.(plan);
  const deps = {
    client: opts.client,
    store: opts.store,
    queue,
    catalog: opts.catalog,
    ...(opts.limits && { limits: opts.limits }),
    ...(opts.onPage && { onPage: opts.onPage }),
  };
  await queue.drain(async (msg) => {
    const result = await processChunk(deps, msg);
    opts.onChunk?.(msg, result);
  }, opts.concurrency);
  const report = (await opts.store.get(runKeys.report(opts.runId))) ?? (await opts.store.get(runKeys.success(opts.runId)));
  if (!report) throw new Error(`run ${opts.runId} drained but wrote no report`);
  return decodeJson<RunReport>(report);
}
