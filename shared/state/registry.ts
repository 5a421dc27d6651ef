/**
 * `_state/_registry.json`: the integrations the warehouse syncs, with where each came from (the
 * deployment's configuration, the SSM parameters of earlier versions, or Kombo's webhooks) and
 * when one was deleted. Every change is a compare-and-swap against the version read, so that
 * concurrent writers (webhook deliveries, planners) never lose one another's changes.
 */
import type { ObjectStore } from '../ports.ts';
import { assertIntegrationId } from '../warehouse/layout.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { webhookKeys } from './keys.ts';

export type RegistrySource = 'config' | 'ssm' | 'webhook';

export interface RegistryEntry {
  readonly addedAt: string;
  readonly source: RegistrySource;
  /** When it was deleted (its data stays); a deleted integration is never added again. */
  readonly deletedAt?: string;
}

export interface Registry {
  readonly integrations: Readonly<Record<string, RegistryEntry>>;
  /** The sources already imported in full (`seedRegistry`), so that an import runs once. */
  readonly imported: readonly string[];
}

export const EMPTY_REGISTRY: Registry = { integrations: {}, imported: [] };

/**
 * Change a JSON object by compare-and-swap: read it (or `initial` when absent), let `change` return
 * the new value (or undefined for no change), write it only if the object is still the version
 * read, and try again from a fresh read when another writer came first. Returns the value written
 * (or the one left unchanged) and whether this call wrote it.
 */
export async function swapJson<T>(store: ObjectStore, key: string, initial: T, change: (current: T) => T | undefined): Promise<{ readonly value: T; readonly written: boolean }> {
  for (;;) {
    const tagged = await store.getTagged(key);
    const current = tagged ? decodeJson<T>(tagged.body) : initial;
    const next = change(current);
    if (next === undefined) return { value: current, written: false };
    const body = encodeJson(next);
    if (tagged ? await store.putIfMatch(key, body, tagged.etag) : await store.putIfAbsent(key, body)) return { value: next, written: true };
  }
}

/** The registry (empty when none was written yet). */
export async function readRegistry(store: ObjectStore): Promise<Registry> {
  const body = await store.get(webhookKeys.registry());
  return body ? decodeJson<Registry>(body) : EMPTY_REGISTRY;
}

const withEntry = (reg: Registry, id: string, entry: RegistryEntry): Registry => ({ ...reg, integrations: { ...reg.integrations, [id]: entry } });

/** What adding an integration did: added it, found it there already, or found it deleted (and left it so). */
export type AddOutcome = 'added' | 'present' | 'deleted';

/** Add an integration unless the registry has it (active or deleted). */
export async function addIntegration(store: ObjectStore, integrationId: string, source: RegistrySource, at: Date = new Date()): Promise<AddOutcome> {
  assertIntegrationId(integrationId);
  let outcome: AddOutcome = 'added';
  await swapJson(store, webhookKeys.registry(), EMPTY_REGISTRY, (reg) => {
    const held = reg.integrations[integrationId];
    outcome = held === undefined ? 'added' : held.deletedAt === undefined ? 'present' : 'deleted';
    return held === undefined ? withEntry(reg, integrationId, { addedAt: at.toISOString(), source }) : undefined;
  });
  return outcome;
}

/**
 * Mark an integration deleted at `at` (kept, with its data). One the registry never had is
 * recorded deleted too, so that a creation delivered after its deletion does not add it.
 * Returns false when it was deleted already.
 */
export async function deleteIntegration(store: ObjectStore, integrationId: string, at: Date = new Date(), source: RegistrySource = 'webhook'): Promise<boolean> {
  assertIntegrationId(integrationId);
  const { written } = await swapJson(store, webhookKeys.registry(), EMPTY_REGISTRY, (reg) => {
    const held = reg.integrations[integrationId];
    if (held?.deletedAt !== undefined) return undefined;
    return withEntry(reg, integrationId, { ...(held ?? { addedAt: at.toISOString(), source }), deletedAt: at.toISOString() });
  });
  return written;
}

/**
 * Add every id the registry has never seen (a deleted one is not added again), and record that
 * `source` was imported. Returns the registry after.
 */
export async function seedRegistry(store: ObjectStore, integrationIds: readonly string[], source: RegistrySource, at: Date = new Date()): Promise<Registry> {
  for (const id of integrationIds) assertIntegrationId(id);
  const { value } = await swapJson(store, webhookKeys.registry(), EMPTY_REGISTRY, (reg) => {
    const fresh = integrationIds.filter((id) => reg.integrations[id] === undefined);
    if (fresh.length === 0 && reg.imported.includes(source)) return undefined;
    const added = Object.fromEntries(fresh.map((id) => [id, { addedAt: at.toISOString(), source }]));
    return { integrations: { ...reg.integrations, ...added }, imported: reg.imported.includes(source) ? reg.imported : [...reg.imported, source] };
  });
  return value;
}

/** The integrations not deleted, sorted. */
export function activeIntegrations(reg: Registry): string[] {
  return Object.entries(reg.integrations)
    .filter(([, e]) => e.deletedAt === undefined)
    .map(([id]) => id)
    .sort();
}

/** Whether the registry records the integration as deleted. */
export const isDeleted = (reg: Registry, integrationId: string): boolean => reg.integrations[integrationId]?.deletedAt !== undefined;
