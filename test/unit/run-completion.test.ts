/**
 * Completing a run: the reads it costs grow linearly with its streams, and it still completes
 * exactly once, with every stream in the report, whether streams end one by one or all at once,
 * after a retry, or with integrations the planner ended whole.
 */
import { describe, expect, it } from 'vitest';
import { retryFailedStreams } from '../../shared/pipeline/retry.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { MODELS } from '../../shared/tables.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { RUN_ID, endStreams, endsOf, integrationId, planOf } from '../helpers/run-ends.ts';
import { decodeJson, encodeJson } from '../../shared/state/codec.ts';
import { runKeys } from '../../shared/state/keys.ts';
import type { RunPlan, RunReport, StreamMarker } from '../../shared/state/runs.ts';

const report = (store: MemoryStore, key: string): RunReport | undefined => {
  const body = store.objects.get(key);
  return body ? decodeJson<RunReport>(body) : undefined;
};

describe('completing a run', () => {
  describe.each([10, 100])('%i integrations × 9 models', (integrations) => {
    it('reads each marker once and the plan once per stream: linear in the streams, not n²/2', async () => {
      const store = new MemoryStore();
      const plan = await planOf(store, integrations);
      const n = plan.streams.length;
      store.countOnly = runKeys.prefix(RUN_ID);

      await endStreams(store, endsOf(plan));

      expect(report(store, runKeys.success(RUN_ID))?.streams).toHaveLength(n);
      // Each stream reads the plan; the last one reads every marker.
      expect(store.counts.gets).toBeLessThanOrEqual(2 * n);
      // Each stream lists its integration's markers; each integration's last the ended ones; the last all markers.
      expect(store.counts.lists).toBeLessThanOrEqual(n + integrations + Math.ceil(n / 1000));
    });
  });

  it('fails the run when a stream failed, and names it in the report', async () => {
    const store = new MemoryStore();
    const plan = await planOf(store, 3);
    await endStreams(store, endsOf(plan, (s) => s.integrationId === integrationId(1) && s.model === 'offers'));
    expect(store.objects.has(runKeys.success(RUN_ID))).toBe(false);
    const failed = report(store, runKeys.failed(RUN_ID));
    expect(failed?.streams).toHaveLength(27);
    expect(failed?.streams.filter((m) => m.status === 'failed').map((m) => [m.integrationId, m.model])).toEqual([[integrationId(1), 'offers']]);
    expect(report(store, runKeys.report(RUN_ID))).toEqual(failed);
  });

  it('completes exactly once when every stream ends at the same time', async () => {
    const store = new MemoryStore();
    const plan = await planOf(store, 20);
    await endStreams(store, endsOf(plan), 'all at once');
    expect(report(store, runKeys.success(RUN_ID))?.streams).toHaveLength(180);
    expect(report(store, runKeys.report(RUN_ID))?.streams).toHaveLength(180);
  });

  it('after a retry, completes again only when the retried streams have ended', async () => {
    const store = new MemoryStore();
    const plan = await planOf(store, 4);
    const failing = (s: { integrationId: string; model: string }) => s.model === 'jobs' && s.integrationId !== integrationId(3);
    await endStreams(store, endsOf(plan, failing));
    expect(store.objects.has(runKeys.failed(RUN_ID))).toBe(true);

    const retry = await retryFailedStreams({ store, queue: { send: async () => {} } }, RUN_ID);
    expect(retry.streams).toHaveLength(3);
    const retried = retry.streams.map((s) => ({ integrationId: s.integrationId, model: s.model, status: 'skipped' as const }));
    // Every integration's `ended/` key is still there from the first attempt: they must not complete it.
    await endStreams(store, retried.slice(0, 2));
    expect(store.objects.has(runKeys.success(RUN_ID))).toBe(false);
    expect(store.objects.has(runKeys.failed(RUN_ID))).toBe(false);
    await endStreams(store, retried.slice(2));
    expect(report(store, runKeys.success(RUN_ID))?.streams.every((m) => m.status === 'skipped')).toBe(true);
  });

  it('completes when an integration was ended whole by the planner', async () => {
    const store = new MemoryStore();
    const plan = await planOf(store, 3);
    // The planner found integration 0 revoked: its streams are failed in the plan, with their markers.
    const revoked = integrationId(0);
    const streams = plan.streams.map((s) => (s.integrationId === revoked ? { ...s, status: 'failed' as const, code: 'INTEGRATION.AUTHENTICATION_INVALID' } : s));
    await store.put(runKeys.plan(RUN_ID), encodeJson({ ...plan, streams } satisfies RunPlan));
    for (const model of MODELS) {
      const marker: StreamMarker = { runId: RUN_ID, integrationId: revoked, model, status: 'failed', totals: EMPTY_TOTALS, finishedAt: '2026-11-23T02:00:00Z' };
      await store.put(runKeys.stream(RUN_ID, revoked, model), encodeJson(marker));
    }
    await endStreams(store, endsOf(plan).filter((s) => s.integrationId !== revoked));
    expect(report(store, runKeys.failed(RUN_ID))?.streams).toHaveLength(27);
  });
});
