/**
 * The webhook state (the registry, trigger records, event markers) is not data: a warehouse that
 * holds it and planned runs but no stored rows yet is still new to the personal-data check.
 */
import { describe, expect, it } from 'vitest';
import { readWarehousePii } from '../../shared/state/pii.ts';
import { seedRegistry } from '../../shared/state/registry.ts';
import { swapTrigger } from '../../shared/state/triggers.ts';
import { claimEvent } from '../../shared/state/webhook-events.ts';
import { writePlan } from '../../shared/state/runs.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

describe('webhook state in a new warehouse', () => {
  it('leaves a warehouse with planned runs and no stored rows new (no personal-data mode held)', async () => {
    const store = new MemoryStore();
    await writePlan(store, { runId: '20261207T100000Z-abc123', snapshotDate: '2026-12-07', createdAt: '2026-12-07T10:00:00.000Z', streams: [] });
    await seedRegistry(store, ['greenhouse:abc'], 'config');
    await swapTrigger(store, 'greenhouse:abc', (t) => ({ ...t, pending: ['candidates'] }));
    await claimEvent(store, { id: 'e1', type: 'data-changed', at: '2026-12-07T10:00:00.000Z' });
    expect(await readWarehousePii(store)).toBeUndefined();
  });
});
