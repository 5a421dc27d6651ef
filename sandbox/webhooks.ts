/**
 * The sandbox's side of Kombo's webhooks: the events Kombo sends when an integration's data
 * changed (`data-changed`) or an integration was connected or removed (`integration-created`,
 * `integration-deleted`), shaped as the SDK's `*webhookpayload.ts` models describe them, signed as
 * Kombo signs them (`X-Kombo-Signature`: HMAC-SHA256 of the raw body with the webhook secret,
 * base64url without padding) and POSTed to one URL on 127.0.0.1.
 *
 * The sandbox signs on its own, as Kombo does: it is the sender, so a receiver tested against it
 * is checked against an independent signer rather than against its own code. Deliveries never hold
 * up the API answer that caused them. They go out one at a time in the order they happened (so a
 * receiver never sees an integration deleted before it was created); a failed one (network error or a non-2xx answer) is retried
 * a few times with a doubling wait, then counted as failed.
 */
import { createHmac } from 'node:crypto';
import type { SandboxIntegrationData, SandboxModel } from './data.ts';
import { modelRecords, SANDBOX_MODELS } from './data.ts';
import { Rng, fnv1a32, randomString } from './random.ts';

/** Where and how the sandbox sends webhooks. */
export interface SandboxWebhookOptions {
  /** `http://127.0.0.1:<port>/<path>`: the only kind of address the sandbox posts to. */
  url: string;
  /** The webhook secret both sides know (Kombo's dashboard shows it). */
  secret: string;
  /** Attempts per event, the first included (default {@link WEBHOOK_ATTEMPTS}). */
  attempts?: number;
  /** Wait before the first retry, doubled for each further one (default {@link WEBHOOK_BACKOFF_MS}). */
  backoffMs?: number;
}

/** Attempts per webhook, the first included. */
export const WEBHOOK_ATTEMPTS = 4;
/** Wait before the first retry of a webhook; doubled for each further retry. */
export const WEBHOOK_BACKOFF_MS = 250;
/** How long one delivery may take before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** The header Kombo signs its webhooks in. */
export const SIGNATURE_HEADER = 'X-Kombo-Signature';

/** Kombo's model name (`changed_models[].name`) of each sandbox model. */
export const KOMBO_MODEL_NAMES: Record<SandboxModel, string> = Object.fromEntries(SANDBOX_MODELS.map((m) => [m, `ats_${m}`])) as Record<SandboxModel, string>;

/** One webhook as Kombo sends it: `{ id, type, data }`. */
export interface SandboxWebhookEvent {
  id: string;
  type: 'data-changed' | 'integration-created' | 'integration-deleted';
  data: Record<string, unknown>;
}

/** What happened to the webhooks sent so far, for tests and benches. */
export interface SandboxWebhookStats {
  /** Every event handed to the sender, in order. */
  events: SandboxWebhookEvent[];
  /** Events the receiver answered 2xx. */
  delivered: number;
  /** Events given up on after the last attempt. */
  failed: number;
  /** HTTP attempts made, retries included. */
  attempts: number;
}

/**
 * Checks a webhook target: an `http` URL on 127.0.0.1 (the sandbox never posts anywhere else).
 * @throws Error saying what to pass instead.
 */
export function checkWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--webhook-url: ${JSON.stringify(raw)} is not a URL; pass one like http://127.0.0.1:8787/webhooks`);
  }
  if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') {
    throw new Error(`--webhook-url: the sandbox only posts to http://127.0.0.1:<port>/…, got ${JSON.stringify(raw)}`);
  }
  return url;
}

/** `X-Kombo-Signature` of a body: HMAC-SHA256 with the secret, base64url without `=` padding. */
export function signWebhookBody(body: Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

/** Signs and POSTs events in the background, retrying failed deliveries. */
export class WebhookSender {
  readonly stats: SandboxWebhookStats = { events: [], delivered: 0, failed: 0, attempts: 0 };
  private readonly url: URL;
  /** The last delivery queued: events go out one after another, in the order they happened. */
  private tail: Promise<void> = Promise.resolve();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly rng: Rng;
  private closed = false;

  constructor(
    private readonly opts: SandboxWebhookOptions,
    seed: number,
  ) {
    this.url = checkWebhookUrl(opts.url);
    if (opts.secret === '') throw new Error('--webhook-secret: must not be empty; pass the secret the receiver checks signatures with');
    this.rng = new Rng(fnv1a32(`sandbox-webhooks:${seed}`));
  }

  /** Queues an event of `type` with `data`; returns it at once (delivery happens in the background). */
  send(type: SandboxWebhookEvent['type'], data: Record<string, unknown>): SandboxWebhookEvent {
    const event: SandboxWebhookEvent = { id: randomString(this.rng, ID_ALPHABET, 24), type, data };
    this.stats.events.push(event);
    if (this.closed) return event;
    this.tail = this.tail.then(() => this.deliver(event));
    return event;
  }

  /** Resolves once every event sent so far was delivered or given up on. */
  async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }

  /** Stops retrying: pending waits end at once and no further attempt is made. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
  }

  private async deliver(event: SandboxWebhookEvent): Promise<void> {
    const body = Buffer.from(JSON.stringify(event), 'utf8');
    const headers = { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhookBody(body, this.opts.secret) };
    const attempts = this.opts.attempts ?? WEBHOOK_ATTEMPTS;
    for (let attempt = 0; attempt < attempts && !this.closed; attempt++) {
      if (attempt > 0) await this.wait((this.opts.backoffMs ?? WEBHOOK_BACKOFF_MS) * 2 ** (attempt - 1));
      if (this.closed) break;
      this.stats.attempts++;
      try {
        const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
        await res.arrayBuffer();
        if (res.ok) {
          this.stats.delivered++;
          return;
        }
      } catch {
        // A refused connection, a reset or a timeout: retried like a non-2xx answer.
      }
    }
    this.stats.failed++;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }
}

const ID_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A fingerprint of every record of every model of an integration: what a clock move compares. */
export type IntegrationFingerprint = Map<SandboxModel, Map<string, string>>;

/** The records of each model of `data`, each as its JSON text, by id. */
export function fingerprint(data: SandboxIntegrationData): IntegrationFingerprint {
  return new Map(SANDBOX_MODELS.map((m) => [m, new Map(modelRecords(data, m).map((r) => [String(r.id), JSON.stringify(r)]))]));
}

/** The models whose records differ between two fingerprints (a record added, removed or changed), in sync order. */
export function changedModels(before: IntegrationFingerprint, after: IntegrationFingerprint): SandboxModel[] {
  return SANDBOX_MODELS.filter((m) => {
    const a = before.get(m) ?? new Map<string, string>();
    const b = after.get(m) ?? new Map<string, string>();
    if (a.size !== b.size) return true;
    for (const [id, text] of b) if (a.get(id) !== text) return true;
    return false;
  });
}

/** The `data` of a `data-changed` event (the SDK's `DataChangedWebhookPayloadData`). */
export function dataChangedData(integrationId: string, tool: string, models: readonly SandboxModel[]): Record<string, unknown> {
  return {
    integration_id: integrationId,
    integration_tool: tool,
    integration_category: 'ATS',
    changed_models: models.map((m) => ({ name: KOMBO_MODEL_NAMES[m] })),
  };
}
