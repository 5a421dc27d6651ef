/**
 * The webhook receiver: checks the size and Kombo's signature, parses the event, and queues it for
 * the dispatcher. It answers at once: the work (a sync, a registry change) happens on the queue's side.
 */
import type { KomboWebhookEvent } from './schemas.ts';
import { eventIntegrationId, parseWebhook } from './schemas.ts';
import { verifyKomboSignature } from './signature.ts';

/** The largest body accepted (1 MiB); a larger one is refused with 413 before anything else. */
export const MAX_WEBHOOK_BYTES = 1_048_576;

/** The header Kombo signs with (matched case-insensitively). */
export const SIGNATURE_HEADER = 'x-kombo-signature';

/** What became of one request, as one structured log line (the AWS receiver turns `outcome` into metrics). */
export interface WebhookLogLine {
  readonly outcome: 'accepted' | 'ignored' | 'too-large' | 'bad-signature' | 'invalid' | 'enqueue-failed';
  readonly status: number;
  readonly eventId?: string;
  readonly type?: string;
  readonly integrationId?: string;
  readonly reason?: string;
}

export interface ReceiverDeps {
  /** The webhook secret (read once and cached by the caller). */
  secret(): Promise<string>;
  /** Queue the event for the dispatcher. */
  enqueue(event: KomboWebhookEvent): Promise<void>;
  log(line: WebhookLogLine): void;
}

export interface WebhookRequest {
  readonly headers: Record<string, string | undefined>;
  readonly body: Uint8Array;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: string;
}

/** A header's value, whatever the case of its name. */
export function headerOf(headers: Record<string, string | undefined>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted && value !== undefined) return value;
  return undefined;
}

const reply = (status: number, body: Record<string, unknown>): WebhookResponse => ({ status, body: JSON.stringify(body) });

/**
 * Handle one webhook request: 413 for a body over {@link MAX_WEBHOOK_BYTES}, 401 for a missing or
 * bad signature, 400 for a body that is not JSON or an event whose payload its schema refuses, 200
 * (ignored) for an event type the pipeline does not act on, 202 once the event is queued, 500 when
 * queueing failed (Kombo then delivers it again). Nothing is queued unless the signature holds.
 */
export async function receiveWebhook(req: WebhookRequest, deps: ReceiverDeps): Promise<WebhookResponse> {
  const refuse = (line: WebhookLogLine, message: string): WebhookResponse => {
    deps.log(line);
    return reply(line.status, { error: message });
  };
  if (req.body.byteLength > MAX_WEBHOOK_BYTES) return refuse({ outcome: 'too-large', status: 413, reason: `${req.body.byteLength} bytes` }, `body over ${MAX_WEBHOOK_BYTES} bytes`);
  const signature = headerOf(req.headers, SIGNATURE_HEADER);
  if (!verifyKomboSignature(req.body, signature, await deps.secret())) {
    return refuse({ outcome: 'bad-signature', status: 401, reason: signature === undefined ? 'no signature header' : 'signature does not match' }, 'invalid signature');
  }
  const parsed = parseWebhook(new TextDecoder().decode(req.body));
  if (parsed.kind === 'invalid') return refuse({ outcome: 'invalid', status: 400, reason: parsed.reason }, parsed.reason);
  if (parsed.kind === 'unknown') {
    deps.log({ outcome: 'ignored', status: 200, type: parsed.type, ...(parsed.id !== undefined && { eventId: parsed.id }) });
    return reply(200, { ignored: parsed.type });
  }
  const event = parsed.event;
  const about = { eventId: event.id, type: event.type, integrationId: eventIntegrationId(event) };
  try {
    await deps.enqueue(event);
  } catch (err) {
    return refuse({ outcome: 'enqueue-failed', status: 500, ...about, reason: err instanceof Error ? err.message : String(err) }, 'could not queue the event; deliver it again');
  }
  deps.log({ outcome: 'accepted', status: 202, ...about });
  return reply(202, { accepted: event.id });
}
