/**
 * `retryFailedStreams` on runs a signal interrupted: which streams are sent again, from which chunk,
 * and when the run's interruption marker goes.
 */
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { ConfigError } from '../../shared/errors.ts';
import type { Queue, StreamMessage } from '../../shared/ports.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { retryFailedStreams } from '../../shared/pipeline/retry.ts';
import { dataFileKey } from '../../shared/warehouse/layout.ts';
import { tempDirs } from '../helpers/temp.ts';
import { encodeJson } from '../../shared/state/codec.ts';
import { runKeys } from '../../shared/state/keys.ts';
import { markRunInterrupted, readInterrupted, readPlan } from '../../shared/state/runs.ts';
import { versionTime } from '../../shared/pipeline/versions.ts';
import type { RunPlan, StreamMarker } from '../../shared/state/runs.ts';

const RUN = '20261123T020000Z-abc123';
const DATE = '2026-11-23';
const A = 'greenhouse:AAAA';
const B = 'lever:BBBB';
const C = 'workable:CCCC';
const tmp = tempDirs('kombo-resume-');

/** A run planned for A, B and C (candidates), where A ended done, C failed, and B wrote two chunks before it stopped. */
async function stoppedRun(interrupted: boolean) {
  const store = new FolderStore(tmp());
  const plan: RunPlan = {
    runId: RUN,
    snapshotDate: DATE,
    createdAt: '2026-11-23T02:00:00Z',
    streams: [A, B, C].map((integrationId) => ({ integrationId, model: 'candidates', status: 'pending' })),
  };
  await store.put(runKeys.plan(RUN), encodeJson(plan));
  const marker = (integrationId: string, status: StreamMarker['status']): StreamMarker => ({ runId: RUN, integrationId, model: 'candidates', status, totals: EMPTY_TOTALS, finishedAt: '2026-11-23T02:01:00Z', chunk: 0 });
  await store.put(runKeys.stream(RUN, A, 'candidates'), encodeJson(marker(A, 'done')));
  await store.put(runKeys.stream(RUN, C, 'candidates'), encodeJson(marker(C, 'failed')));
  await store.put(dataFileKey('candidates', DATE, B, RUN, 0), 'parquet');
  await store.put(dataFileKey('candidate_tags', DATE, B, RUN, 1), 'parquet');
  if (interrupted) expect(await markRunInterrupted(store, RUN, 'SIGINT')).toBe(true);
  const sent: StreamMessage[] = [];
  const queue: Queue = { send: async (m) => void sent.push(m) };
  return { store, queue, sent };
}

describe('retryFailedStreams on an interrupted run', () => {
  it('resends the streams that never ended after the chunks they wrote, and the failed ones, and removes the marker', async () => {
    // Prepare
    const { store, queue, sent } = await stoppedRun(true);
    expect((await readInterrupted(store, RUN))?.unended).toEqual([{ integrationId: B, model: 'candidates' }]);
    // Act
    const plan = await retryFailedStreams({ store, queue }, RUN);
    // Assess
    expect(plan.resumed.map((s) => s.integrationId)).toEqual([B]);
    expect(plan.streams.map((s) => s.integrationId)).toEqual([C]);
    expect(sent.map((m) => [m.integrationId, m.cursor, m.chunk])).toEqual([
      [C, null, 1],
      [B, null, 2],
    ]);
    expect(await store.get(runKeys.interrupted(RUN))).toBeUndefined();
  });

  it('with --integrations of other integrations, leaves it interrupted and says how many streams stay unended', async () => {
    const { store, queue, sent } = await stoppedRun(true);
    const plan = await retryFailedStreams({ store, queue }, RUN, { integrationIds: [C] });
    expect(plan.resumed).toEqual([]);
    expect(plan.leftUnended).toBe(1);
    expect(sent.map((m) => m.integrationId)).toEqual([C]);
    expect(await store.get(runKeys.interrupted(RUN))).toBeDefined();
  });

  it('refuses a run that is still running, and an integration the run does not hold', async () => {
    const { store, queue, sent } = await stoppedRun(false);
    await expect(retryFailedStreams({ store, queue }, RUN)).rejects.toThrow(/still running/);
    await expect(retryFailedStreams({ store, queue }, RUN, { integrationIds: ['ashby:ZZZZ'] })).rejects.toThrow(ConfigError);
    await expect(retryFailedStreams({ store, queue }, RUN, { integrationIds: ['ashby:ZZZZ'] })).rejects.toThrow(/ashby:ZZZZ/);
    expect(sent).toEqual([]);
  });

  it('does not mark a completed run interrupted', async () => {
    const { store } = await stoppedRun(false);
    await store.put(runKeys.failed(RUN), encodeJson({}));
    expect(await markRunInterrupted(store, RUN, 'SIGINT')).toBe(false);
    expect(await store.get(runKeys.interrupted(RUN))).toBeUndefined();
  });
});

describe('retryFailedStreams of an old run', () => {
  it('dates the versions the retried streams store when the retry fetches them, and keeps their watermark', async () => {
    const { store, queue, sent } = await stoppedRun(false);
    const sync = { mode: 'incremental' as const, startedAt: '2026-11-23T02:00:00.000Z', updatedAfter: '2026-11-22T01:45:00.000Z' };
    const plan = (await readPlan(store, RUN))!;
    await store.put(runKeys.plan(RUN), encodeJson({ ...plan, streams: plan.streams.map((s) => ({ ...s, sync })) }));
    await store.put(runKeys.stream(RUN, B, 'candidates'), encodeJson({ runId: RUN, integrationId: B, model: 'candidates', status: 'failed', totals: EMPTY_TOTALS, finishedAt: '2026-11-23T02:01:00Z', chunk: 1 }));
    await store.put(runKeys.success(RUN), encodeJson({}));
    // Three days later.
    await retryFailedStreams({ store, queue, now: () => new Date('2026-11-26T09:00:00.000Z') }, RUN);
    expect(sent.map((m) => [m.integrationId, m.sync])).toEqual([
      [B, { ...sync, fetchedAt: '2026-11-26T09:00:00.000Z' }],
      [C, { ...sync, fetchedAt: '2026-11-26T09:00:00.000Z' }],
    ]);
    expect(versionTime(sent[0]!.sync!, DATE)).toBe(Date.parse('2026-11-26T09:00:00.000Z'));
  });
});
