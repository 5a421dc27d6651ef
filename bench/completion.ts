/**
 * What completing a run reads: a run of integrations × 9 models whose streams all end (through the
 * pipeline's `endStream`), on an in-memory store that counts the requests on `_runs/` as S3 bills
 * them (a LIST per thousand keys).
 */
import { MemoryStore } from '../test/helpers/memory-store.ts';
import { RUN_ID, endStreams, endsOf, planOf } from '../test/helpers/run-ends.ts';
import { runKeys } from '../shared/state/keys.ts';

export interface CompletionFigures {
  readonly streams: number;
  readonly gets: number;
  readonly lists: number;
  readonly puts: number;
  readonly completed: boolean;
}

/** End every stream of a run of `integrations` integrations, one after another, and count. */
export async function runCompletion(integrations: number): Promise<CompletionFigures> {
  const store = new MemoryStore();
  const plan = await planOf(store, integrations);
  store.countOnly = runKeys.prefix(RUN_ID);
  await endStreams(store, endsOf(plan));
  return { streams: plan.streams.length, ...store.counts, completed: store.objects.has(runKeys.success(RUN_ID)) };
}
