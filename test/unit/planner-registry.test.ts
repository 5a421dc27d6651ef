/**
 * The planner Lambda's integration registry on AWS: seeded from the SSM parameters (the stack's
 * `integrations` context on every run, every parameter once), edited by hand through the planner's
 * `{add_integrations, remove_integrations}` payload, and the age of each integration's latest
 * successful sync reported at the run deadline. SSM is mocked at the SDK level; the warehouse is
 * in memory.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePlannerEvent } from '../../shared/adapters/aws/events.ts';
import type { PlannerDeps } from '../../shared/adapters/aws/planner.ts';
import { STALE_AFTER_HOURS, runPlanner } from '../../shared/adapters/aws/planner.ts';
import { registryPartName, seedRegistryFromSsm } from '../../shared/adapters/aws/registry.ts';
import { syncAges } from '../../shared/adapters/aws/sync-age.ts';
import { ConfigError } from '../../shared/errors.ts';
import { activeIntegrations, deleteIntegration, readRegistry } from '../../shared/state/registry.ts';
import type { StreamCommit } from '../../shared/state/streams.ts';
import { writeStreamState } from '../../shared/state/streams.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const PATH = '/KomboEtl/integrations';
const A = 'greenhouse:AAAAAAAAAAAAAAAAAAAAAAAA';
const B = 'lever:BBBBBBBBBBBBBBBBBBBBBBBB';
const C = 'workable:CCCCCCCCCCCCCCCCCCCCCCCC';
const D = 'ashby:DDDDDDDDDDDDDDDDDDDDDDDD';
const E = 'personio:EEEEEEEEEEEEEEEEEEEEEEEE';
const NOW = new Date('2026-12-07T08:00:00Z');

const ssm = mockClient(SSMClient);
afterEach(() => ssm.reset());

function parameters(parts: Record<string, string[]>): void {
  ssm.on(GetParametersByPathCommand, { Path: PATH }).resolves({ Parameters: Object.entries(parts).map(([name, ids]) => ({ Name: `${PATH}/${name}`, Type: 'String', Value: JSON.stringify(ids) })) });
}

describe('seedRegistryFromSsm', () => {
  it('adds the stack\'s parts as config on every run, every part once as ssm, and never adds a deleted integration again', async () => {
    const store = new MemoryStore();
    parameters({ 'part-001': [A, B], 'part-002': [C] });
    let reg = await seedRegistryFromSsm(store, new SSMClient({}), PATH, 1, NOW);
    expect(Object.fromEntries(Object.entries(reg.integrations).map(([id, e]) => [id, e.source]))).toEqual({ [A]: 'config', [B]: 'config', [C]: 'ssm' });
    expect([...reg.imported].sort()).toEqual(['config', 'ssm']);

    // Later: B deleted by its webhook, a deploy adds E to the context, someone adds a part by hand.
    await deleteIntegration(store, B, NOW);
    parameters({ 'part-001': [A, B, E], 'part-002': [C], 'part-003': [D] });
    reg = await seedRegistryFromSsm(store, new SSMClient({}), PATH, 1, NOW);
    expect(activeIntegrations(reg)).toEqual([A, C, E].sort());
    expect(reg.integrations[E]?.source).toBe('config');
    expect(reg.integrations[B]?.deletedAt).toBe(NOW.toISOString());
  });

  it('takes every parameter as ssm when the stack says none came from its context (an upgrade of an older stack)', async () => {
    const store = new MemoryStore();
    parameters({ 'part-001': [A] });
    const reg = await seedRegistryFromSsm(store, new SSMClient({}), PATH, 0, NOW);
    expect(reg.integrations[A]?.source).toBe('ssm');
    expect(registryPartName(PATH, 0)).toBe(`${PATH}/part-001`);
  });

  it('reads an empty path as nothing to seed, not as an error', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    expect(activeIntegrations(await seedRegistryFromSsm(new MemoryStore(), new SSMClient({}), PATH, 1, NOW))).toEqual([]);
  });
});

/** Planner dependencies for the registry edit and the deadline check (neither calls Kombo or the queue). */
function plannerDeps(store: MemoryStore) {
  const metrics = { addMetric: vi.fn() };
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const deps: PlannerDeps = {
    store,
    queue: { send: () => Promise.reject(new Error('no queue here')), sendAll: () => Promise.reject(new Error('no queue here')) },
    kombo: () => Promise.reject(new Error('no Kombo here')),
    forgetApiKey: () => undefined,
    registry: { ssm: new SSMClient({}), path: PATH, configParts: 1 },
    fullEveryDays: 7,
    logger: logger as unknown as Logger,
    metrics: metrics as unknown as Metrics,
  };
  return { deps, metrics, logger };
}

describe('the planner\'s registry edit', () => {
  it('adds and removes integrations by hand, says what became of each, and never brings a deleted one back', async () => {
    const store = new MemoryStore();
    const { deps } = plannerDeps(store);
    await deleteIntegration(store, B, NOW);
    const first = await runPlanner(deps, parsePlannerEvent({ add_integrations: [A, B, C] }, NOW));
    expect(first).toEqual({ kind: 'registry', added: { [A]: 'added', [B]: 'deleted', [C]: 'added' }, removed: {}, active: [A, C].sort() });
    const second = await runPlanner(deps, parsePlannerEvent({ add_integrations: [A], remove_integrations: [C, D] }, NOW));
    expect(second).toEqual({ kind: 'registry', added: { [A]: 'present' }, removed: { [C]: 'removed', [D]: 'removed' }, active: [A] });
    expect(await runPlanner(deps, parsePlannerEvent({ remove_integrations: [C] }, NOW))).toMatchObject({ removed: { [C]: 'already removed' } });
    expect((await readRegistry(store)).integrations[A]?.source).toBe('config');
  });

  it.each([
    [{ add_integrations: [A], integrations: [B] }, /cannot be combined with integrations/],
    [{ remove_integrations: [A], retry_run_id: '20261123T020000Z-a1b2c3' }, /cannot be combined with retry_run_id/],
    [{ add_integrations: [A], remove_integrations: [A] }, /both in add_integrations and in remove_integrations/],
    [{ add_integrations: [] }, /add_integrations: must not be empty/],
    [{ remove_integrations: ['../etc'] }, /remove_integrations\.0/],
  ])('refuses %o with what is wrong', (payload, message) => {
    expect(() => parsePlannerEvent(payload, NOW)).toThrow(ConfigError);
    expect(() => parsePlannerEvent(payload, NOW)).toThrow(message);
  });
});

const commit = (startedAt: string): StreamCommit => ({ snapshotDate: startedAt.slice(0, 10), runId: '20261201T020000Z-aaaaaa', mode: 'full', startedAt, updatedAfter: null, records: 1, versions: 1, deletions: 0, index: 'x' });

describe('the age of each integration\'s latest successful sync', () => {
  it('is the hours since the latest commit of any of its streams, or since it joined the registry when it never synced', async () => {
    const store = new MemoryStore();
    await writeStreamState(store, { integrationId: A, model: 'candidates', commits: [commit('2026-12-05T02:00:00Z'), commit('2026-12-06T02:00:00Z')] });
    await writeStreamState(store, { integrationId: A, model: 'jobs', commits: [commit('2026-12-07T06:30:00Z')] });
    const ages = await syncAges(store, [{ id: A, addedAt: '2026-01-01T00:00:00Z' }, { id: B, addedAt: '2026-12-04T08:00:00Z' }], NOW);
    expect(ages).toEqual([
      { integrationId: A, hours: 1.5, lastSyncAt: '2026-12-07T06:30:00Z' },
      { integrationId: B, hours: 72 },
    ]);
  });

  it('is reported by the deadline check as HoursSinceLastSync (the largest), naming the integrations past a day; deleted ones do not count', async () => {
    const store = new MemoryStore();
    const { deps, metrics, logger } = plannerDeps(store);
    await runPlanner(deps, parsePlannerEvent({ add_integrations: [A, B, C] }, new Date('2026-12-05T00:00:00Z')));
    await deleteIntegration(store, C, new Date('2026-12-05T01:00:00Z'));
    await writeStreamState(store, { integrationId: A, model: 'applications', commits: [commit('2026-12-07T03:00:00Z')] });
    await writeStreamState(store, { integrationId: B, model: 'applications', commits: [commit('2026-12-06T02:00:00Z')] });
    const deadline = { 'detail-type': 'Run Deadline', time: NOW.toISOString(), detail: {} };
    await runPlanner(deps, parsePlannerEvent(deadline, NOW));
    expect(metrics.addMetric).toHaveBeenCalledWith('HoursSinceLastSync', 'None', 30);
    const stale = logger.error.mock.calls.find(([message]) => String(message).includes(`more than ${STALE_AFTER_HOURS} hours`));
    expect(stale?.[1]).toEqual({ integrations: [{ integrationId: B, hours: 30, lastSyncAt: '2026-12-06T02:00:00Z' }] });
  });
});
