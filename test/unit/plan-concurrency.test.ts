import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalQueue } from '../../shared/adapters/local/local-queue.ts';
import { RunFatalError } from '../../shared/errors.ts';
import { PLAN_CONCURRENCY, planRun } from '../../shared/pipeline/plan.ts';
import { tempDirs } from '../helpers/temp.ts';
import { runKeys } from '../../shared/state/keys.ts';

const tempDir = tempDirs('kombo-plan-');

const ids = Array.from({ length: 20 }, (_, i) => `lever:Plan${String(i).padStart(2, '0')}`);

/** getIntegration stand-in that answers after a few turns of the event loop and counts overlap. */
function checkingClient(failOn?: string) {
  let inFlight = 0;
  const seen = { peak: 0, calls: 0 };
  return {
    seen,
    async getIntegration(id: string) {
      seen.calls++;
      inFlight++;
      seen.peak = Math.max(seen.peak, inFlight);
      // Later integrations answer sooner: the plan must still list them in the order given.
      for (let i = 0; i < 20 - ids.indexOf(id); i++) await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (id === failOn) throw new RunFatalError('bad key', 'PLATFORM.AUTHENTICATION_INVALID');
      return { id, status: 'ACTIVE' as const, read_models: [] };
    },
  };
}

describe('planRun', () => {
  it(`checks up to ${PLAN_CONCURRENCY} integrations at once and keeps their order in the plan`, async () => {
    const store = new FolderStore(tempDir());
    const client = checkingClient();
    const plan = await planRun({ client, store, queue: new LocalQueue() }, { runId: 'p1', snapshotDate: '2026-11-23', integrationIds: ids, models: ['candidates'] });
    expect(client.seen.peak).toBe(PLAN_CONCURRENCY);
    expect(plan.streams.map((s) => s.integrationId)).toEqual(ids);
  });

  it('stops checking and writes no plan when the API key is rejected', async () => {
    const store = new FolderStore(tempDir());
    const client = checkingClient(ids[3]);
    await expect(planRun({ client, store, queue: new LocalQueue() }, { runId: 'p2', snapshotDate: '2026-11-23', integrationIds: ids, models: ['candidates'] })).rejects.toBeInstanceOf(RunFatalError);
    expect(await store.get(runKeys.plan('p2'))).toBeUndefined();
    expect(client.seen.calls).toBeLessThan(ids.length);
  });
});
