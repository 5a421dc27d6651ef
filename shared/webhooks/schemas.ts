/**
 * The webhook payloads the pipeline acts on, as Kombo's SDK describes them
 * (`src/models/*webhookpayload.ts`): `{ id, type, data }`. Objects are loose (unknown fields are
 * kept) and enums are plain strings (a new value is never an error). The fields a dispatch needs
 * are required; the rest are optional, so that an event that lacks a field the pipeline does not
 * read is still acted on.
 */
import { z } from 'zod';
import { assertIntegrationId } from '../warehouse/layout.ts';

const integrationId = z.string().refine((id) => {
  try {
    assertIntegrationId(id);
    return true;
  } catch {
    return false;
  }
}, 'expected an integration id of the form "<tool>:<id>"');

const endUser = z.looseObject({
  organization_name: z.string().optional(),
  creator_email: z.string().nullable().optional(),
  origin_id: z.string().nullable().optional(),
});

const envelope = <T extends string, D extends z.ZodType>(type: T, data: D) => z.looseObject({ id: z.string().min(1), type: z.literal(type), data });

export const DATA_CHANGED = envelope(
  'data-changed',
  z.looseObject({
    integration_id: integrationId,
    integration_tool: z.string().optional(),
    integration_category: z.string().optional(),
    changed_models: z.array(z.looseObject({ name: z.string() })),
  }),
);

export const INTEGRATION_CREATED = envelope(
  'integration-created',
  z.looseObject({ id: integrationId, tool: z.string().optional(), category: z.string().optional(), end_user: endUser.optional() }),
);

export const INTEGRATION_DELETED = envelope(
  'integration-deleted',
  z.looseObject({ id: integrationId, tool: z.string().optional(), category: z.string().optional(), end_user: endUser.optional(), deleted_at: z.string().optional() }),
);

export const INTEGRATION_STATE_CHANGED = envelope(
  'integration-state-changed',
  z.looseObject({
    integration_id: integrationId,
    integration_tool: z.string().optional(),
    integration_category: z.string().optional(),
    end_user: endUser.optional(),
    qa_status: z.string().optional(),
    setup_status: z.string().optional(),
    state: z.string().optional(),
    updated_at: z.string().optional(),
  }),
);

export const SYNC_FINISHED = envelope(
  'sync-finished',
  z.looseObject({
    sync_id: z.string().optional(),
    sync_state: z.string().optional(),
    sync_started_at: z.string().optional(),
    sync_ended_at: z.string().optional(),
    sync_duration_seconds: z.number().optional(),
    integration_id: integrationId,
    integration_tool: z.string().optional(),
    integration_category: z.string().optional(),
    end_user: endUser.optional(),
    log_url: z.string().optional(),
  }),
);

/** Every webhook type the pipeline acts on, with its schema. */
export const WEBHOOK_SCHEMAS = {
  'data-changed': DATA_CHANGED,
  'integration-created': INTEGRATION_CREATED,
  'integration-deleted': INTEGRATION_DELETED,
  'integration-state-changed': INTEGRATION_STATE_CHANGED,
  'sync-finished': SYNC_FINISHED,
} as const;

export type KomboWebhookType = keyof typeof WEBHOOK_SCHEMAS;
export type DataChangedEvent = z.infer<typeof DATA_CHANGED>;
export type IntegrationCreatedEvent = z.infer<typeof INTEGRATION_CREATED>;
export type IntegrationDeletedEvent = z.infer<typeof INTEGRATION_DELETED>;
export type IntegrationStateChangedEvent = z.infer<typeof INTEGRATION_STATE_CHANGED>;
export type SyncFinishedEvent = z.infer<typeof SYNC_FINISHED>;
/** A webhook from Kombo the pipeline acts on, parsed. */
export type KomboWebhookEvent = DataChangedEvent | IntegrationCreatedEvent | IntegrationDeletedEvent | IntegrationStateChangedEvent | SyncFinishedEvent;

export const isKomboWebhookType = (type: string): type is KomboWebhookType => Object.hasOwn(WEBHOOK_SCHEMAS, type);

/** The integration an event is about. */
export function eventIntegrationId(event: KomboWebhookEvent): string {
  return event.type === 'integration-created' || event.type === 'integration-deleted' ? event.data.id : event.data.integration_id;
}

/** The outcome of parsing a webhook body. */
export type ParsedWebhook =
  | { readonly kind: 'event'; readonly event: KomboWebhookEvent }
  | { readonly kind: 'unknown'; readonly type: string; readonly id?: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Parse a webhook body: a known event, an unknown type (to ignore), or invalid (not JSON, no `type`, or a payload its schema refuses). */
export function parseWebhook(text: string): ParsedWebhook {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'invalid', reason: 'the body is not a JSON object' };
  const { type, id } = json as { type?: unknown; id?: unknown };
  if (typeof type !== 'string') return { kind: 'invalid', reason: 'the body has no "type"' };
  if (!isKomboWebhookType(type)) return { kind: 'unknown', type, ...(typeof id === 'string' && { id }) };
  const parsed = WEBHOOK_SCHEMAS[type].safeParse(json);
  if (!parsed.success) return { kind: 'invalid', reason: `${type}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { kind: 'event', event: parsed.data as KomboWebhookEvent };
}
