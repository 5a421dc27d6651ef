/**
 * The AWS side of Kombo's webhooks: the signing secret read from Secrets Manager once per container,
 * the standard SQS queue the receiver puts events on and the dispatcher takes them from (and sends
 * its delayed wake-ups to), and the request a Lambda Function URL hands the receiver.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ConfigError } from '../../errors.ts';
import { assertIntegrationId } from '../../warehouse/layout.ts';
import type { DispatchEvent, WakeEvent } from '../../webhooks/dispatch.ts';
import { parseWebhook } from '../../webhooks/schemas.ts';

/** What the stack puts in the webhook secret until the user sets the one Kombo's dashboard shows. */
export const WEBHOOK_SECRET_PLACEHOLDER = 'REPLACE_ME_WITH_THE_KOMBO_WEBHOOK_SECRET';

/** SQS delays a message by at most 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

/** How long a container keeps the webhook secret before reading it again: a rotated secret takes effect within this. */
export const WEBHOOK_SECRET_TTL_MS = 5 * 60_000;

/**
 * Kombo's webhook signing secret, read on first use and kept for {@link WEBHOOK_SECRET_TTL_MS}, so
 * that a request costs no Secrets Manager call and a rotated secret is still picked up within
 * minutes. A failed read, or the placeholder, is read again on the next request.
 */
export class WebhookSecret {
  #value: Promise<string> | undefined;
  #readAt = 0;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: () => number = Date.now,
  ) {}

  value(): Promise<string> {
    if (this.#value !== undefined && this.now() - this.#readAt >= WEBHOOK_SECRET_TTL_MS) this.#value = undefined;
    if (this.#value === undefined) {
      this.#readAt = this.now();
      this.#value = this.read().catch((err: unknown) => {
        this.#value = undefined;
        throw err;
      });
    }
    return this.#value;
  }

  private async read(): Promise<string> {
    const res = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const secret = (res.SecretString ?? '').trim();
    if (secret === '' || secret === WEBHOOK_SECRET_PLACEHOLDER) {
      throw new ConfigError(`the Kombo webhook secret ${this.secretId} is not set yet: aws secretsmanager put-secret-value --secret-id ${this.secretId} --secret-string '<the signing secret from Kombo's dashboard>'`);
    }
    return secret;
  }
}

/**
 * A message of the events queue: a Kombo event the receiver verified, or a wake-up. Throws with
 * what is wrong: such a message fails, is retried and ends in the DLQ, where it can be read.
 */
export function parseQueuedEvent(body: string): DispatchEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`events queue message is not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  const o = json as { type?: unknown; integrationId?: unknown; atMs?: unknown } | null;
  if (o !== null && typeof o === 'object' && o.type === 'wake') {
    if (typeof o.integrationId !== 'string') throw new Error('wake message without an integrationId');
    assertIntegrationId(o.integrationId);
    return { type: 'wake', integrationId: o.integrationId, ...(typeof o.atMs === 'number' && Number.isFinite(o.atMs) && { atMs: o.atMs }) };
  }
  const parsed = parseWebhook(body);
  if (parsed.kind === 'event') return parsed.event;
  throw new Error(`events queue message is no event the dispatcher handles: ${parsed.kind === 'unknown' ? `type ${parsed.type}` : parsed.reason}`);
}

/** Seconds from `nowMs` until `atMs`, rounded up, within what SQS accepts (0–900). */
export function wakeDelaySeconds(atMs: number, nowMs: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((atMs - nowMs) / 1000)));
}

/**
 * The standard SQS queue of webhook events. A standard queue has no deduplication id: an event
 * delivered twice (by Kombo or by SQS) is recognised by its id when it is dispatched.
 */
export class EventsQueue {
  constructor(
    private readonly client: SQSClient,
    readonly queueUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Put a verified event on the queue, as JSON. */
  async enqueue(event: { readonly type: string }): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(event) }));
  }

  /**
   * A wake event for `integrationId`, delivered at `atMs` or, when that is more than 15 minutes
   * away, after 15 minutes (the dispatcher then schedules the next one).
   */
  async scheduleWake(integrationId: string, atMs: number): Promise<void> {
    const wake: WakeEvent = { type: 'wake', integrationId, atMs };
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(wake), DelaySeconds: wakeDelaySeconds(atMs, this.now()) }));
  }
}

/** What a Lambda Function URL hands the handler (the part the receiver reads). */
export interface FunctionUrlRequest {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/**
 * The raw request: its headers, and its body as the bytes Kombo signed (a Function URL passes a
 * binary or non-text body base64-encoded, and says so).
 */
export function rawRequest(event: FunctionUrlRequest): { headers: Record<string, string | undefined>; body: Uint8Array } {
  const body = event.body ?? '';
  return {
    headers: { ...event.headers },
    body: event.isBase64Encoded === true ? new Uint8Array(Buffer.from(body, 'base64')) : new TextEncoder().encode(body),
  };
}
