/**
 * `_state/_webhooks/triggers/<integration>.json`: the webhook-triggered run of an integration in
 * progress, the models waiting for the next one, and when the last one started. Changed only by
 * compare-and-swap (see `shared/webhooks/triggers.ts` for the rules).
 */
import type { ObjectStore } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { decodeJson } from './codec.ts';
import { webhookKeys } from './keys.ts';
import { swapJson } from './registry.ts';

/** A run started by webhooks. `runId` is empty between the claim and the run's start. */
export interface TriggerRun {
  readonly runId: string;
  readonly models: readonly ModelName[];
  readonly startedAt: string;
}

export interface TriggerRecord {
  readonly running?: TriggerRun;
  /** Models changed since the running run began (or within the gap): the next run syncs them. */
  readonly pending: readonly ModelName[];
  /** When the latest run started (ISO 8601). */
  readonly lastStartAt?: string;
  /** When the wake scheduled last is due (ISO 8601), so that a burst schedules one wake, not one per event. */
  readonly wakeAt?: string;
}

export const IDLE_TRIGGER: TriggerRecord = { pending: [] };

/** The integration's trigger record (idle when none was written). */
export async function readTrigger(store: ObjectStore, integrationId: string): Promise<TriggerRecord> {
  const body = await store.get(webhookKeys.trigger(integrationId));
  return body ? decodeJson<TriggerRecord>(body) : IDLE_TRIGGER;
}

/** Change the integration's trigger record by compare-and-swap (`change` returns undefined for no change). */
export function swapTrigger(store: ObjectStore, integrationId: string, change: (current: TriggerRecord) => TriggerRecord | undefined): Promise<{ readonly value: TriggerRecord; readonly written: boolean }> {
  return swapJson(store, webhookKeys.trigger(integrationId), IDLE_TRIGGER, change);
}
