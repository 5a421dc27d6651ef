/**
 * The webhook receiver: Kombo's signature (HMAC-SHA256, base64url without padding), the size limit,
 * bad JSON and payloads, unknown event types, and case-insensitive headers.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KomboWebhookEvent } from '../../shared/webhooks/schemas.ts';
import { parseWebhook } from '../../shared/webhooks/schemas.ts';
import type { WebhookLogLine } from '../../shared/webhooks/receiver.ts';
import { MAX_WEBHOOK_BYTES, receiveWebhook } from '../../shared/webhooks/receiver.ts';
import { signKomboBody, verifyKomboSignature } from '../../shared/webhooks/signature.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

const DATA_CHANGED = {
  id: 'evt-1',
  type: 'data-changed',
  data: { integration_id: 'greenhouse:abc123', integration_tool: 'greenhouse', integration_category: 'ATS', changed_models: [{ name: 'ats_candidates' }, { name: 'ats_interviews' }], extra: 1 },
};

function harness() {
  const queued: KomboWebhookEvent[] = [];
  const logs: WebhookLogLine[] = [];
  const deps = { secret: () => Promise.resolve(SECRET), enqueue: (e: KomboWebhookEvent) => Promise.resolve(void queued.push(e)), log: (l: WebhookLogLine) => void logs.push(l) };
  const post = (body: string | Uint8Array, headers: Record<string, string | undefined> = {}) => {
    const bytes = typeof body === 'string' ? enc(body) : body;
    return receiveWebhook({ headers: { 'X-Kombo-Signature': signKomboBody(bytes, SECRET), ...headers }, body: bytes }, deps);
  };
  return { queued, logs, deps, post };
}

describe('signKomboBody / verifyKomboSignature', () => {
  it('is the HMAC-SHA256 of the raw body, base64url without padding', () => {
    const body = enc('{"a":1}');
    const expected = createHmac('sha256', SECRET).update(body).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(signKomboBody(body, SECRET)).toBe(expected);
    expect(signKomboBody(body, SECRET)).not.toMatch(/[=+/]/);
    expect(verifyKomboSignature(body, expected, SECRET)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['of another secret', signKomboBody(enc('{"a":1}'), 'another-secret-0123456789')],
    ['of another body', signKomboBody(enc('{"a":2}'), SECRET)],
    ['shorter', signKomboBody(enc('{"a":1}'), SECRET).slice(1)],
  ])('refuses a signature that is %s', (_, header) => {
    expect(verifyKomboSignature(enc('{"a":1}'), header, SECRET)).toBe(false);
  });
});

describe('receiveWebhook', () => {
  it('queues a signed known event, unknown fields kept, and answers 202', async () => {
    const h = harness();
    const res = await h.post(JSON.stringify(DATA_CHANGED));
    expect(res.status).toBe(202);
    expect(h.queued).toHaveLength(1);
    expect(h.queued[0]).toMatchObject({ id: 'evt-1', type: 'data-changed', data: { integration_id: 'greenhouse:abc123', extra: 1 } });
    expect(h.logs).toEqual([{ outcome: 'accepted', status: 202, eventId: 'evt-1', type: 'data-changed', integrationId: 'greenhouse:abc123' }]);
  });

  it('matches the signature header whatever its case', async () => {
    const h = harness();
    const body = enc(JSON.stringify(DATA_CHANGED));
    const res = await receiveWebhook({ headers: { 'x-kombo-signature': signKomboBody(body, SECRET) }, body }, h.deps);
    expect(res.status).toBe(202);
  });

  it.each([
    ['missing', { 'X-Kombo-Signature': undefined }],
    ['bad', { 'X-Kombo-Signature': signKomboBody(enc('other'), SECRET) }],
    ['signed with another secret', { 'X-Kombo-Signature': signKomboBody(enc(JSON.stringify(DATA_CHANGED)), 'not-the-secret-at-all') }],
  ])('answers 401 to a %s signature and queues nothing', async (_, headers) => {
    const h = harness();
    const res = await h.post(JSON.stringify(DATA_CHANGED), headers);
    expect(res.status).toBe(401);
    expect(h.queued).toEqual([]);
    expect(h.logs.map((l) => l.outcome)).toEqual(['bad-signature']);
  });

  it('answers 413 to a body over 1 MB before it checks the signature', async () => {
    const h = harness();
    let asked = 0;
    const big = enc(JSON.stringify({ ...DATA_CHANGED, pad: 'x'.repeat(MAX_WEBHOOK_BYTES) }));
    const res = await receiveWebhook({ headers: {}, body: big }, { ...h.deps, secret: () => Promise.resolve(String(++asked) + SECRET) });
    expect(res.status).toBe(413);
    expect(asked).toBe(0);
    expect(h.queued).toEqual([]);
    expect(MAX_WEBHOOK_BYTES).toBe(1_048_576);
    expect((await h.post(enc(' '.repeat(MAX_WEBHOOK_BYTES - 2) + '{}'))).status).not.toBe(413);
  });

  it.each([
    ['invalid JSON', '{"id": "evt-1", "type": '],
    ['JSON that is not an object', '[1,2]'],
    ['an object without a type', '{"id":"evt-1"}'],
    ['a data-changed without changed_models', JSON.stringify({ id: 'e', type: 'data-changed', data: { integration_id: 'greenhouse:abc' } })],
    ['a data-changed with a malformed integration id', JSON.stringify({ id: 'e', type: 'data-changed', data: { integration_id: '../etc', changed_models: [] } })],
    ['an integration-created without an id', JSON.stringify({ id: 'e', type: 'integration-created', data: { tool: 'greenhouse' } })],
  ])('answers 400 to %s and queues nothing', async (_, body) => {
    const h = harness();
    const res = await h.post(body);
    expect(res.status).toBe(400);
    expect(h.queued).toEqual([]);
  });

  it('answers 200 to an unknown event type, logs it and queues nothing', async () => {
    const h = harness();
    const res = await h.post(JSON.stringify({ id: 'evt-9', type: 'connection-flow-failed', data: {} }));
    expect(res).toEqual({ status: 200, body: JSON.stringify({ ignored: 'connection-flow-failed' }) });
    expect(h.queued).toEqual([]);
    expect(h.logs).toEqual([{ outcome: 'ignored', status: 200, type: 'connection-flow-failed', eventId: 'evt-9' }]);
  });

  it('does not accept the internal wake event from outside', async () => {
    const h = harness();
    const res = await h.post(JSON.stringify({ id: 'w', type: 'wake', integrationId: 'greenhouse:abc' }));
    expect(res.status).toBe(200);
    expect(h.queued).toEqual([]);
  });

  it('answers 500 when the event could not be queued, so that Kombo delivers it again', async () => {
    const h = harness();
    const body = enc(JSON.stringify(DATA_CHANGED));
    const res = await receiveWebhook({ headers: { 'X-Kombo-Signature': signKomboBody(body, SECRET) }, body }, { ...h.deps, enqueue: () => Promise.reject(new Error('queue down')) });
    expect(res.status).toBe(500);
    expect(h.logs[0]).toMatchObject({ outcome: 'enqueue-failed', eventId: 'evt-1' });
  });
});

describe('parseWebhook', () => {
  it.each([
    ['integration-created', { id: 'greenhouse:new1', tool: 'greenhouse', category: 'ATS', end_user: { organization_name: 'Acme', creator_email: null, origin_id: null } }],
    ['integration-deleted', { id: 'greenhouse:new1', tool: 'greenhouse', category: 'ATS', end_user: { organization_name: 'Acme', creator_email: null, origin_id: null }, deleted_at: '2026-12-07T10:00:00.000Z' }],
    ['integration-state-changed', { integration_id: 'greenhouse:new1', integration_tool: 'greenhouse', integration_category: 'ATS', qa_status: 'PASSED', setup_status: 'COMPLETED', state: 'SOME_NEW_STATE', updated_at: '2026-12-07T10:00:00.000Z' }],
    ['sync-finished', { sync_id: 's1', sync_state: 'SUCCEEDED', integration_id: 'greenhouse:new1', sync_duration_seconds: 12, log_url: 'https://example.invalid' }],
  ])('parses %s as the SDK describes it, enums open', (type, data) => {
    const parsed = parseWebhook(JSON.stringify({ id: 'evt', type, data }));
    expect(parsed.kind).toBe('event');
  });
});
