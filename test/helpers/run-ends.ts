/**
 * A run of many streams that only end, for counting what completing it reads: a plan of
 * `integrations` × every model, then each stream ended (skipped, or failed where asked) through the
 * pipeline's own `endStream`, one after another or all at once.
 */
import type { ObjectStore } from '../../shared/ports.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { endStream } from '../../shared/pipeline/finish.ts';
import type { ModelName } from '../../shared/tables.ts';
import { MODELS } from '../../shared/tables.ts';
import { encodeJson } from '../../shared/state/codec.ts';
import { runKeys } from '../../shared/state/keys.ts';
import type { PlannedStream, RunPlan } from '../../shared/state/runs.ts';

export const RUN_ID = '20261123T020000Z-abc123';
export const SNAPSHOT_DATE = '2026-11-23';

export const integrationId = (i: number): string => `greenhouse:I${String(i).padStart(5, '0')}`;

/** Write the plan of `integrations` × every model, all pending. */
export async function planOf(store: ObjectStore, integrations: number): Promise<RunPlan> {
  const streams: PlannedStream[] = [];
  for (let i = 0; i < integrations; i++) for (const model of MODELS) streams.push({ integrationId: integrationId(i), model, status: 'pending' });
  const plan: RunPlan = { runId: RUN_ID, snapshotDate: SNAPSHOT_DATE, createdAt: '2026-11-23T02:00:00Z', streams };
  await store.put(runKeys.plan(RUN_ID), encodeJson(plan));
  return plan;
}

export interface StreamEnd {
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: 'skipped' | 'failed';
}

/** End `streams` through `endStream`: model after model (how a fleet's streams end), or all at once. */
export async function endStreams(store: ObjectStore, streams: readonly StreamEnd[], at: 'one by one' | 'all at once' = 'one by one'): Promise<void> {
  const end = (s: StreamEnd) =>
    endStream(
      { store, now: () => new Date('2026-11-23T03:00:00Z') },
      { runId: RUN_ID, snapshotDate: SNAPSHOT_DATE, integrationId: s.integrationId, model: s.model, cursor: null, chunk: 0, totals: EMPTY_TOTALS },
      { status: s.status, code: s.status === 'failed' ? 'TEST.FAILED' : 'TEST.SKIPPED', reason: 'ended by the test', totals: EMPTY_TOTALS },
    );
  if (at === 'all at once') {
    await Promise.all(streams.map(end));
    return;
  }
  for (const s of streams) await end(s);
}

/** Every stream of a plan, model after model, all skipped except those `failed` names. */
export function endsOf(plan: RunPlan, failed: (s: { integrationId: string; model: ModelName }) => boolean = () => false): StreamEnd[] {
  const byModel = [...plan.streams].sort((a, b) => MODELS.indexOf(a.model) - MODELS.indexOf(b.model));
  return byModel.map((s) => ({ integrationId: s.integrationId, model: s.model, status: failed(s) ? 'failed' : 'skipped' }));
}
