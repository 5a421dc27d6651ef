/**
 * What a webhook event does, once queued: `data-changed` triggers an incremental run of the models
 * it touches (see `triggers.ts`), `integration-created` adds the integration to the registry and
 * triggers its first run, `integration-deleted` marks it deleted (its data stays), and the
 * lifecycle events are recorded in the `integrations` table. An event acted on before (same `id`)
 * has no effect; one whose effect failed is let go, so that its next delivery acts on it.
 */
import type { IntegrationUpdate } from '../pipeline/integrations.ts';
import type { ObjectStore } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { MODELS } from '../tables.ts';
import { addIntegration, deleteIntegration, isDeleted, readRegistry } from '../state/registry.ts';
import { swapTrigger } from '../state/triggers.ts';
import { claimEvent, releaseEvent } from '../state/webhook-events.ts';
import { modelsTouched } from './models.ts';
import type { KomboWebhookEvent } from './schemas.ts';
import { eventIntegrationId } from './schemas.ts';
import type { TriggerDeps, TriggerOutcome } from './triggers.ts';
import { trigger } from './triggers.ts';

/** The internal event a scheduled wake delivers: look at the integration's trigger again. */
export interface WakeEvent {
  readonly type: 'wake';
  readonly integrationId: string;
  /** The time the wake was scheduled for (`scheduleWake`'s `atMs`); lets a stale wake be told from the due one. */
  readonly atMs?: number;
}

export type DispatchEvent = KomboWebhookEvent | WakeEvent;


export interface DispatchDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  /** The least time between two run starts of one integration (`DEFAULT_GAP_MS`). */
  readonly gapMs: number;
  /** Start a run of one integration's models; returns its run id. */
  startRun(req: { readonly integrationId: string; readonly models: ModelName[]; readonly reason: string }): Promise<string>;
  /** Whether the run ended (completed, failed or interrupted). */
  isRunOver(runId: string): Promise<boolean>;
  /** Deliver a {@link WakeEvent} `{ type: 'wake', integrationId, atMs }` to `dispatchEvent` at `atMs` (or sooner). */
  scheduleWake(integrationId: string, atMs: number): Promise<void>;
  /** Record an integration's change in the `integrations` table (absent: not recorded). */
  recordIntegration?: (u: IntegrationUpdate) => Promise<unknown>;
}

export type DispatchResult =
  | { readonly outcome: 'duplicate'; readonly eventId: string }
  | { readonly outcome: 'ignored'; readonly integrationId: string; readonly reason: string }
  | { readonly outcome: 'deleted'; readonly integrationId: string }
  | { readonly outcome: 'recorded'; readonly integrationId: string }
  | ({ readonly integrationId: string } & TriggerOutcome);

const triggerDeps = (deps: DispatchDeps): TriggerDeps => deps;

/** Act on one event (see the module's comment). */
export async function dispatchEvent(event: DispatchEvent, deps: DispatchDeps): Promise<DispatchResult> {
  if (event.type === 'wake') {
    return { integrationId: event.integrationId, ...(await trigger(triggerDeps(deps), { integrationId: event.integrationId, models: [], reason: 'wake', wake: event.atMs === undefined ? {} : { atMs: event.atMs } })) };
  }
  if (!(await claimEvent(deps.store, { id: event.id, type: event.type, at: deps.now().toISOString() }))) return { outcome: 'duplicate', eventId: event.id };
  try {
    return await act(event, deps);
  } catch (err) {
    await releaseEvent(deps.store, event.id);
    throw err;
  }
}

async function act(event: KomboWebhookEvent, deps: DispatchDeps): Promise<DispatchResult> {
  const integrationId = eventIntegrationId(event);
  const record = async (): Promise<void> => {
    await deps.recordIntegration?.({ integrationId, at: deps.now(), event: { type: event.type, data: event.data as Record<string, unknown> } });
  };
  switch (event.type) {
    case 'data-changed': {
      const models = modelsTouched(event.data.changed_models.map((m) => m.name));
      if (models.length === 0) return { outcome: 'ignored', integrationId, reason: 'no model the pipeline stores changed' };
      if (isDeleted(await readRegistry(deps.store), integrationId)) return { outcome: 'ignored', integrationId, reason: 'the integration was deleted' };
      return { integrationId, ...(await trigger(triggerDeps(deps), { integrationId, models, reason: `data-changed ${event.id}` })) };
    }
    case 'integration-created': {
      const added = await addIntegration(deps.store, integrationId, 'webhook', deps.now());
      await record();
      if (added === 'deleted') return { outcome: 'ignored', integrationId, reason: 'the integration was deleted' };
      return { integrationId, ...(await trigger(triggerDeps(deps), { integrationId, models: [...MODELS], reason: `integration-created ${event.id}` })) };
    }
    case 'integration-deleted':
      await deleteIntegration(deps.store, integrationId, deps.now());
      // A run in progress ends as it will; the changes waiting for the next one are dropped.
      await swapTrigger(deps.store, integrationId, (cur) => (cur.pending.length === 0 ? undefined : { ...cur, pending: [] }));
      await record();
      return { outcome: 'deleted', integrationId };
    default:
      await record();
      return { outcome: 'recorded', integrationId };
  }
}
