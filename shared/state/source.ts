/**
 * Which source a warehouse holds: Kombo's API or the built-in sandbox's made-up company. Recorded in
 * the warehouse (`_source.json`) by the first run that writes to it, so that a sync whose API key
 * went missing can never fill a real warehouse with sandbox rows, nor a sandbox warehouse mix real
 * people into its made-up ones.
 */
import type { ObjectStore } from '../ports.ts';
import { ConfigError } from '../errors.ts';

import { decodeJson, encodeJson } from './codec.ts';
import { SOURCE_KEY } from './keys.ts';
import { readAllPlans } from './runs.ts';

/** Where the data comes from: Kombo's API (with a key) or the built-in sandbox. */
export type DataSource = 'kombo' | 'sandbox';

export interface SourceRecord {
  readonly source: DataSource;
  /** When the first run recorded it. */
  readonly recordedAt: string;
}

/** What a warehouse holds, and whether it was recorded or worked out from older runs' plans. */
export interface WarehouseSource {
  readonly source: DataSource;
  readonly how: 'recorded' | 'inferred';
}

const LABEL: Record<DataSource, string> = { kombo: 'Kombo', sandbox: 'the built-in sandbox' };

/**
 * The source a warehouse holds: its record, or for a warehouse written before the record existed,
 * what its runs planned: only the built-in sandbox's integrations means the sandbox, any other
 * integration means Kombo. Undefined for a warehouse without runs.
 * @param sandboxIntegrationIds the built-in sandbox's integration ids, asked only for older warehouses.
 */
export async function readWarehouseSource(store: ObjectStore, sandboxIntegrationIds: () => Promise<ReadonlySet<string>>): Promise<WarehouseSource | undefined> {
  const body = await store.get(SOURCE_KEY);
  if (body) return { source: decodeJson<SourceRecord>(body).source, how: 'recorded' };
  const plans = await readAllPlans(store);
  if (plans.length === 0) return undefined;
  const sandboxIds = await sandboxIntegrationIds();
  if (plans.some((plan) => plan.streams.some((s) => !sandboxIds.has(s.integrationId)))) return { source: 'kombo', how: 'inferred' };
  return { source: 'sandbox', how: 'inferred' };
}

/**
 * Throws a ConfigError, before anything is written, when the warehouse holds data from the other
 * source. `where` names the warehouse in the message.
 */
export async function assertWarehouseSource(
  store: ObjectStore,
  source: DataSource,
  where: string,
  sandboxIntegrationIds: () => Promise<ReadonlySet<string>>,
): Promise<void> {
  const held = await readWarehouseSource(store, sandboxIntegrationIds);
  if (held === undefined || held.source === source) return;
  const how = held.how === 'inferred' ? ' (as its runs show)' : '';
  const what = source === 'sandbox' ? "the built-in sandbox's made-up rows never go into it" : 'Kombo rows never mix with its made-up ones';
  throw new ConfigError(
    `warehouse ${where} holds data from ${LABEL[held.source]}${how}: ${what}; sync ${LABEL[source]} into another folder with --warehouse DIR`,
  );
}

/** Record the warehouse's source if it has no record yet (the first run to write to it does). */
export async function recordWarehouseSource(store: ObjectStore, source: DataSource, now: Date = new Date()): Promise<void> {
  const record: SourceRecord = { source, recordedAt: now.toISOString() };
  await store.putIfAbsent(SOURCE_KEY, encodeJson(record));
}
