/**
 * `_state/_webhooks/events/<sha256 of the event id>.json`: one marker per webhook event acted on,
 * created with a conditional write, so that an event delivered twice (Kombo's retries, the queue's
 * at-least-once delivery, a replayed request) has one effect.
 */
import type { ObjectStore } from '../ports.ts';
import { encodeJson } from './codec.ts';
import { webhookKeys } from './keys.ts';

export interface EventMarker {
  readonly id: string;
  readonly type: string;
  readonly at: string;
}

/** Claim an event: true for its first delivery, false when it was claimed before. */
export async function claimEvent(store: ObjectStore, marker: EventMarker): Promise<boolean> {
  return store.putIfAbsent(webhookKeys.event(marker.id), encodeJson(marker));
}

/** Let go of an event whose effect failed, so that its next delivery acts on it. */
export async function releaseEvent(store: ObjectStore, eventId: string): Promise<void> {
  await store.delete([webhookKeys.event(eventId)]);
}
