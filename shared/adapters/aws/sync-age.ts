/**
 * How long ago each integration last synced successfully: the start of the latest commit of any of
 * its streams (a nightly or a webhook-triggered sync alike), or, for one never synced, the time it
 * joined the registry. The planner's deadline check reports the largest as `HoursSinceLastSync`,
 * which the `IntegrationNotSynced` alarm watches.
 */
import type { ObjectStore } from '../../ports.ts';
import { readStreamState } from '../../state/streams.ts';
import { MODELS } from '../../tables.ts';

/** Stream states read at once. */
const READ_CONCURRENCY = 16;

export interface SyncAge {
  readonly integrationId: string;
  /** Hours since the latest successful sync (or since it joined the registry), one decimal. */
  readonly hours: number;
  /** Start of the latest successful sync; undefined: never synced. */
  readonly lastSyncAt?: string;
}

/** The age of each integration's latest successful sync at `now`, in the order given. */
export async function syncAges(store: ObjectStore, integrations: readonly { readonly id: string; readonly addedAt: string }[], now: Date): Promise<SyncAge[]> {
  const latest = new Map<string, string>();
  const streams = integrations.flatMap((i) => MODELS.map((model) => ({ integrationId: i.id, model })));
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < streams.length) {
      const s = streams[next++]!;
      for (const c of (await readStreamState(store, s)).commits) {
        const seen = latest.get(s.integrationId);
        if (seen === undefined || Date.parse(c.startedAt) > Date.parse(seen)) latest.set(s.integrationId, c.startedAt);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, streams.length) }, reader));
  return integrations.map((i) => {
    const last = latest.get(i.id);
    const hours = Math.round(((now.getTime() - Date.parse(last ?? i.addedAt)) / 3_600_000) * 10) / 10;
    return { integrationId: i.id, hours: Math.max(0, hours), ...(last !== undefined && { lastSyncAt: last }) };
  });
}
