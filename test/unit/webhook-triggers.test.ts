/**
 * The webhook trigger rules on the in-memory store: the first change starts a run at once, changes
 * during a run make exactly one more run of the union of their models, the gap between run starts,
 * streams another run held go back to pending, and event ids act once.
 */
import { describe, expect, it } from 'vitest';
import type { ModelName } from '../../shared/tables.ts';
import { MODELS } from '../../shared/tables.ts';
import type { ObjectStore } from '../../shared/ports.ts';
import { writeMarker } from '../../shared/state/runs.ts';
import { readTrigger } from '../../shared/state/triggers.ts';
import { activeIntegrations, readRegistry } from '../../shared/state/registry.ts';
import { newRunId } from '../../shared/warehouse/layout.ts';
import type { DispatchDeps, DispatchEvent } from '../../shared/webhooks/dispatch.ts';
import { dispatchEvent } from '../../shared/webhooks/dispatch.ts';
import { modelsTouched } from '../../shared/webhooks/models.ts';
import { BUSY_CODE } from '../../shared/pipeline/open-stream.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { receiveWebhook } from '../../shared/webhooks/receiver.ts';
import type { KomboWebhookEvent } from '../../shared/webhooks/schemas.ts';
import { signKomboBody } from '../../shared/webhooks/signature.ts';

const ID = 'greenhouse:acme1';
const T0 = Date.parse('2026-12-07T10:00:00.000Z');

/** Dispatch deps with a clock the test moves, runs it ends by hand, and wakes it delivers by hand. */
function triggerHarness(store: ObjectStore = new MemoryStore(), gapMs = 60_000) {
  let nowMs = T0;
  let seq = 0;
  const runs: { runId: string; integrationId: string; models: ModelName[]; reason: string }[] = [];
  const over = new Set<string>();
  const wakes: { integrationId: string; atMs: number }[] = [];
  const deps: DispatchDeps = {
    store,
    now: () => new Date(nowMs),
    gapMs,
    startRun: (req) => {
      const runId = newRunId(new Date(nowMs), () => (++seq % 0xffff) / 0xffffff);
      runs.push({ runId, ...req, models: [...req.models] });
      return Promise.resolve(runId);
    },
    isRunOver: (runId) => Promise.resolve(over.has(runId)),
    scheduleWake: (integrationId, atMs) => Promise.resolve(void wakes.push({ integrationId, atMs })),
  };
  /** Deliver every wake due by now, as the queue would. */
  const deliverWakes = async () => {
    const due = wakes.filter((w) => w.atMs <= nowMs);
    wakes.splice(0, wakes.length, ...wakes.filter((w) => w.atMs > nowMs));
    for (const w of due) await dispatchEvent({ type: 'wake', integrationId: w.integrationId, atMs: w.atMs }, deps);
  };
  return { store, deps, runs, over, wakes, deliverWakes, advance: (ms: number) => void (nowMs += ms), now: () => nowMs };
}

const changed = (id: string, names: string[], integrationId = ID): DispatchEvent => ({
  id,
  type: 'data-changed',
  data: { integration_id: integrationId, integration_tool: 'greenhouse', integration_category: 'ATS', changed_models: names.map((name) => ({ name })) },
});

describe('modelsTouched', () => {
  it('maps Kombo model names to the pipeline models that store them, and their parents', () => {
    expect(modelsTouched(['ats_interviews'])).toEqual(['applications', 'interviews']);
    expect(modelsTouched(['ats_candidates', 'ats_jobs', 'ats_offers'])).toEqual(['candidates', 'applications', 'jobs', 'offers']);
    expect(modelsTouched(['hris_employees', 'lms_courses', 'something_new'])).toEqual([]);
  });
});

describe('trigger rules', () => {
  it('a burst of 100 events for one integration starts one run at once and exactly one more after it', async () => {
    const h = triggerHarness();
    await Promise.all(Array.from({ length: 100 }, (_, i) => dispatchEvent(changed(`evt-${i}`, i % 2 === 0 ? ['ats_candidates'] : ['ats_applications']), h.deps)));
    expect(h.runs).toHaveLength(1);
    // One wake for the whole burst, not one per event.
    expect(h.wakes).toHaveLength(1);
    const first = h.runs[0]!;
    // The run ends; the wakes come due.
    h.over.add(first.runId);
    h.advance(60_000);
    await h.deliverWakes();
    expect(h.runs).toHaveLength(2);
    const second = h.runs[1]!;
    expect(new Set([...first.models, ...second.models])).toEqual(new Set(['candidates', 'applications']));
    h.over.add(second.runId);
    h.advance(600_000);
    await h.deliverWakes();
    await h.deliverWakes();
    expect(h.runs).toHaveLength(2);
    expect((await readTrigger(h.store, ID)).running).toBeUndefined();
  });

  it('an event during a run makes one more run, of the union of the models changed, after it and not before the gap', async () => {
    const h = triggerHarness();
    await dispatchEvent(changed('e1', ['ats_jobs']), h.deps);
    expect(h.runs.map((r) => r.models)).toEqual([['jobs']]);
    h.advance(5_000);
    await dispatchEvent(changed('e2', ['ats_candidates']), h.deps);
    await dispatchEvent(changed('e3', ['ats_interviews']), h.deps);
    expect(h.runs).toHaveLength(1);
    expect((await readTrigger(h.store, ID)).pending).toEqual(['candidates', 'applications', 'interviews']);
    // The run ends after 10 s: the next may start only 60 s after the first started.
    h.advance(5_000);
    h.over.add(h.runs[0]!.runId);
    await h.deliverWakes();
    expect(h.runs).toHaveLength(1);
    h.advance(50_000);
    await h.deliverWakes();
    expect(h.runs.map((r) => r.models)).toEqual([['jobs'], ['candidates', 'applications', 'interviews']]);
    expect(h.now() - T0).toBeGreaterThanOrEqual(60_000);
  });

  it('never starts a second run while one is in progress, however long it takes', async () => {
    const h = triggerHarness();
    await dispatchEvent(changed('e1', ['ats_candidates']), h.deps);
    for (let i = 0; i < 10; i++) {
      h.advance(120_000);
      await dispatchEvent(changed(`during-${i}`, ['ats_applications']), h.deps);
      await h.deliverWakes();
    }
    expect(h.runs).toHaveLength(1);
    h.over.add(h.runs[0]!.runId);
    h.advance(60_000);
    await h.deliverWakes();
    expect(h.runs.map((r) => r.models)).toEqual([['candidates'], ['applications']]);
  });

  it('a wake that comes early (a queue caps delays) is sent again for its time; an outdated one changes nothing', async () => {
    const h = triggerHarness(new MemoryStore(), 3_600_000);
    await dispatchEvent(changed('e1', ['ats_jobs']), h.deps);
    h.over.add(h.runs[0]!.runId);
    await dispatchEvent(changed('e2', ['ats_candidates']), h.deps);
    const due = (await readTrigger(h.store, ID)).wakeAt!;
    expect(Date.parse(due)).toBe(T0 + 3_600_000);
    h.wakes.length = 0;
    h.advance(900_000);
    await dispatchEvent({ type: 'wake', integrationId: ID, atMs: Date.parse(due) }, h.deps);
    await dispatchEvent({ type: 'wake', integrationId: ID, atMs: T0 + 5_000 }, h.deps);
    expect(h.runs).toHaveLength(1);
    expect(h.wakes).toEqual([{ integrationId: ID, atMs: Date.parse(due) }]);
    expect((await readTrigger(h.store, ID)).wakeAt).toBe(due);
    h.advance(2_700_000);
    await h.deliverWakes();
    expect(h.runs.map((r) => r.models)).toEqual([['jobs'], ['candidates']]);
  });

  it('the first event after a quiet gap starts a run at once', async () => {
    const h = triggerHarness();
    await dispatchEvent(changed('e1', ['ats_jobs']), h.deps);
    h.over.add(h.runs[0]!.runId);
    h.advance(3_600_000);
    await dispatchEvent(changed('e2', ['ats_offers']), h.deps);
    expect(h.runs.map((r) => r.models)).toEqual([['jobs'], ['applications', 'offers']]);
  });

  it('an event within the gap of an ended run waits for the gap and a wake starts it', async () => {
    const h = triggerHarness();
    await dispatchEvent(changed('e1', ['ats_jobs']), h.deps);
    h.over.add(h.runs[0]!.runId);
    h.advance(10_000);
    await dispatchEvent(changed('e2', ['ats_candidates']), h.deps);
    expect(h.runs).toHaveLength(1);
    expect(h.wakes.some((w) => w.atMs === T0 + 60_000)).toBe(true);
    h.advance(50_000);
    await h.deliverWakes();
    expect(h.runs.map((r) => r.models)).toEqual([['jobs'], ['candidates']]);
  });

  it('the same event delivered twice, even at once, has one effect', async () => {
    const h = triggerHarness();
    await Promise.all([dispatchEvent(changed('same', ['ats_candidates']), h.deps), dispatchEvent(changed('same', ['ats_candidates']), h.deps)]);
    expect(await dispatchEvent(changed('same', ['ats_candidates']), h.deps)).toEqual({ outcome: 'duplicate', eventId: 'same' });
    expect(h.runs).toHaveLength(1);
    expect((await readTrigger(h.store, ID)).pending).toEqual([]);
  });

  it('a replayed request (the same signed body twice) is received twice and acts once', async () => {
    const h = triggerHarness();
    const secret = 'replay-test-secret-0123456789';
    const body = new TextEncoder().encode(JSON.stringify(changed('evt-replayed', ['ats_candidates'])));
    const queued: KomboWebhookEvent[] = [];
    const deps = { secret: () => Promise.resolve(secret), enqueue: (e: KomboWebhookEvent) => Promise.resolve(void queued.push(e)), log: () => undefined };
    for (let i = 0; i < 2; i++) expect((await receiveWebhook({ headers: { 'x-kombo-signature': signKomboBody(body, secret) }, body }, deps)).status).toBe(202);
    const results = [];
    for (const e of queued) results.push(await dispatchEvent(e, h.deps));
    expect(results.map((r) => r.outcome)).toEqual(['started', 'duplicate']);
    expect(h.runs).toHaveLength(1);
  });

  it("a run's streams another run held (STREAM.BUSY) go back to pending and run again", async () => {
    const h = triggerHarness();
    await dispatchEvent(changed('e1', ['ats_candidates', 'ats_jobs']), h.deps);
    const run = h.runs[0]!;
    await writeMarker(h.store, { runId: run.runId, integrationId: ID, model: 'candidates', status: 'skipped', code: BUSY_CODE, totals: EMPTY_TOTALS, finishedAt: new Date(h.now()).toISOString() });
    await writeMarker(h.store, { runId: run.runId, integrationId: ID, model: 'jobs', status: 'done', totals: EMPTY_TOTALS, finishedAt: new Date(h.now()).toISOString() });
    h.over.add(run.runId);
    h.advance(60_000);
    await h.deliverWakes();
    expect(h.runs.map((r) => r.models)).toEqual([['candidates', 'jobs'], ['candidates']]);
  });

  it('a run that fails to start gives its models back to pending, and the event acts on its next delivery', async () => {
    const h = triggerHarness();
    const start = h.deps.startRun;
    const failing: DispatchDeps = { ...h.deps, startRun: () => Promise.reject(new Error('planner down')) };
    await expect(dispatchEvent(changed('e1', ['ats_candidates']), failing)).rejects.toThrow('planner down');
    expect(await readTrigger(h.store, ID)).toMatchObject({ pending: ['candidates'] });
    expect((await readTrigger(h.store, ID)).running).toBeUndefined();
    h.advance(60_000);
    const result = await dispatchEvent(changed('e1', ['ats_candidates']), { ...h.deps, startRun: start });
    expect(result).toMatchObject({ outcome: 'started', models: ['candidates'] });
  });

  it('integration created then deleted: the registry shows it deleted and a run of every model was started for it', async () => {
    const h = triggerHarness();
    const recorded: string[] = [];
    const deps: DispatchDeps = { ...h.deps, recordIntegration: (u) => Promise.resolve(void recorded.push(`${u.event?.type} ${u.integrationId}`)) };
    const endUser = { organization_name: 'Acme', creator_email: null, origin_id: null };
    await dispatchEvent({ id: 'c1', type: 'integration-created', data: { id: 'lever:new1', tool: 'lever', category: 'ATS', end_user: endUser } }, deps);
    expect(activeIntegrations(await readRegistry(h.store))).toEqual(['lever:new1']);
    await dispatchEvent({ id: 'd1', type: 'integration-deleted', data: { id: 'lever:new1', tool: 'lever', category: 'ATS', end_user: endUser, deleted_at: '2026-12-07T11:00:00.000Z' } }, deps);
    const reg = await readRegistry(h.store);
    expect(activeIntegrations(reg)).toEqual([]);
    expect(reg.integrations['lever:new1']).toMatchObject({ source: 'webhook', deletedAt: new Date(h.now()).toISOString() });
    expect(h.runs.map((r) => [r.integrationId, r.models])).toEqual([['lever:new1', [...MODELS]]]);
    expect(recorded).toEqual(['integration-created lever:new1', 'integration-deleted lever:new1']);
    // Changes of a deleted integration start nothing.
    h.advance(3_600_000);
    h.over.add(h.runs[0]!.runId);
    expect(await dispatchEvent(changed('late', ['ats_candidates'], 'lever:new1'), deps)).toMatchObject({ outcome: 'ignored' });
    expect(h.runs).toHaveLength(1);
  });
});
