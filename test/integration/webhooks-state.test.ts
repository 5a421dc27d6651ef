/**
 * The webhook state under concurrent writers, on the local folder store (the laptop's warehouse)
 * and the in-memory store: the registry keeps every add, the trigger record lets exactly one of
 * many concurrent deliveries start a run.
 */
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import type { ObjectStore } from '../../shared/ports.ts';
import { activeIntegrations, addIntegration, deleteIntegration, readRegistry, seedRegistry } from '../../shared/state/registry.ts';
import { readTrigger } from '../../shared/state/triggers.ts';
import { newRunId } from '../../shared/warehouse/layout.ts';
import type { DispatchDeps } from '../../shared/webhooks/dispatch.ts';
import { dispatchEvent } from '../../shared/webhooks/dispatch.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { tempDirs } from '../helpers/temp.ts';

const tempDir = tempDirs('kombo-webhooks-state-');

const STORES: [string, () => ObjectStore][] = [
  ['folder store', () => new FolderStore(tempDir())],
  ['memory store', () => new MemoryStore()],
];

describe.each(STORES)('webhook state on the %s', (_, makeStore) => {
  it('the registry keeps every add of 20 concurrent writers', async () => {
    const store = makeStore();
    const ids = Array.from({ length: 20 }, (_, i) => `greenhouse:int${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id, i) => (i % 4 === 0 ? seedRegistry(store, [id], 'config') : addIntegration(store, id, 'webhook'))));
    expect(activeIntegrations(await readRegistry(store))).toEqual(ids);
  });

  it('concurrent adds and deletes all land; a deleted integration is never added again', async () => {
    const store = makeStore();
    const ids = Array.from({ length: 10 }, (_, i) => `lever:int${i}`);
    await seedRegistry(store, ids, 'ssm');
    await Promise.all([...ids.slice(0, 5).map((id) => deleteIntegration(store, id)), ...ids.map((id) => addIntegration(store, `${id}x`, 'webhook'))]);
    const reg = await readRegistry(store);
    expect(activeIntegrations(reg)).toEqual([...ids.slice(5), ...ids.map((id) => `${id}x`)].sort());
    expect(reg.imported).toEqual(['ssm']);
    expect(await addIntegration(store, ids[0]!, 'webhook')).toBe('deleted');
    await seedRegistry(store, ids, 'config');
    expect(activeIntegrations(await readRegistry(store))).not.toContain(ids[0]);
  });

  it('of 20 concurrent deliveries for a quiet integration exactly one starts a run, the others wait for the next', async () => {
    const store = makeStore();
    const started: string[] = [];
    const deps: DispatchDeps = {
      store,
      now: () => new Date('2026-12-07T10:00:00.000Z'),
      gapMs: 60_000,
      startRun: () => {
        const runId = newRunId(new Date('2026-12-07T10:00:00.000Z'), () => started.length / 100);
        started.push(runId);
        return Promise.resolve(runId);
      },
      isRunOver: () => Promise.resolve(false),
      scheduleWake: () => Promise.resolve(),
    };
    const names = ['ats_candidates', 'ats_applications', 'ats_jobs', 'ats_offers'];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        dispatchEvent({ id: `e${i}`, type: 'data-changed', data: { integration_id: 'greenhouse:busy1', changed_models: [{ name: names[i % 4]! }] } }, deps),
      ),
    );
    expect(started).toHaveLength(1);
    const rec = await readTrigger(store, 'greenhouse:busy1');
    expect(rec.running?.runId).toBe(started[0]);
    expect(new Set([...(rec.running?.models ?? []), ...rec.pending])).toEqual(new Set(['candidates', 'applications', 'jobs', 'offers']));
  });
});
