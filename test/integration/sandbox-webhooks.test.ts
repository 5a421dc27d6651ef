/**
 * The sandbox sends Kombo's webhooks: signed with the webhook secret (`X-Kombo-Signature`,
 * checked here with an independent HMAC), shaped as the SDK's webhook payload schemas accept them
 * (the SDK is the judge), `data-changed` naming exactly the models whose records changed, created
 * and deleted integrations announced, failed deliveries retried, and never an API answer held up by
 * a slow receiver. The CLI refuses a webhook URL off 127.0.0.1 with exit 2.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  GetIntegrationsIntegrationIdPositiveResponse$inboundSchema,
  DataChangedWebhookPayload$inboundSchema,
  IntegrationCreatedWebhookPayload$inboundSchema,
  IntegrationDeletedWebhookPayload$inboundSchema,
} from '@kombo-api/sdk/models';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxModel } from '../../sandbox/index.ts';
import { SANDBOX_DEMO_FIRST_DAY, SANDBOX_MODELS, asOfInstant, consecutiveDays, startSandbox } from '../../sandbox/index.ts';
import { runCli } from '../helpers/cli.ts';
import type { KomboWebhookEvent } from '../../shared/webhooks/schemas.ts';
import { receiveWebhook } from '../../shared/webhooks/receiver.ts';

type Rec = Record<string, unknown>;
const SECRET = 'whsec-sandbox-test';

/** One request the receiver got: its raw body, signature header and parsed JSON. */
interface Delivery {
  raw: Buffer;
  signature: string | undefined;
  json: Rec;
}

/** A webhook receiver on 127.0.0.1 that records every request; `answer` decides each reply (default 200). */
async function receiver(answer: (n: number) => number | 'hang' = () => 200): Promise<{ url: string; got: Delivery[]; server: Server; release(): void }> {
  const got: Delivery[] = [];
  const hung: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      got.push({ raw, signature: req.headers['x-kombo-signature'] as string | undefined, json: JSON.parse(raw.toString('utf8')) as Rec });
      const status = answer(got.length);
      if (status === 'hang') hung.push(() => res.end());
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kombo`, got, server, release: () => hung.splice(0).forEach((f) => f()) };
}

/** The signature Kombo's documentation describes, computed here independently of the sandbox. */
const expectedSignature = (raw: Buffer): string => createHmac('sha256', SECRET).update(raw).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function setUp(opts: { asOf?: string; answer?: (n: number) => number | 'hang'; backoffMs?: number } = {}): Promise<{ sandbox: RunningSandbox; hook: Awaited<ReturnType<typeof receiver>> }> {
  const hook = await receiver(opts.answer);
  open.push({ close: () => new Promise<void>((done) => { hook.release(); hook.server.closeAllConnections(); hook.server.close(() => done()); }) });
  const sandbox = await startSandbox({
    ...(opts.asOf !== undefined && { asOf: opts.asOf }),
    webhook: { url: hook.url, secret: SECRET, ...(opts.backoffMs !== undefined && { backoffMs: opts.backoffMs }) },
  });
  open.unshift(sandbox);
  return { sandbox, hook };
}

const root = (sandbox: RunningSandbox): string => new URL('/', sandbox.url).href.replace(/\/$/, '');
const auth = (sandbox: RunningSandbox): Record<string, string> => ({ authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' });

async function postCandidate(sandbox: RunningSandbox): Promise<Response> {
  const integration = sandbox.dataset.integrations[1]!;
  const job = integration.jobs![0]!;
  return fetch(`${sandbox.url}/ats/candidates`, {
    method: 'POST',
    headers: { ...auth(sandbox), 'x-integration-id': integration.id },
    body: JSON.stringify({ candidate: { first_name: 'Ada', last_name: 'Hook', email_address: 'ada@example.com' }, application: { job_id: job.id } }),
  });
}

describe('sandbox webhooks', () => {
  it('POST /ats/candidates sends one signed data-changed for candidates and applications, as the SDK parses it', async () => {
    // Prepare
    const { sandbox, hook } = await setUp();
    // Act
    const res = await postCandidate(sandbox);
    await sandbox.webhooksSettled();
    // Assess
    expect(res.status).toBe(200);
    expect(hook.got).toHaveLength(1);
    const [delivery] = hook.got as [Delivery];
    expect(delivery.signature).toBe(expectedSignature(delivery.raw));
    const parsed = DataChangedWebhookPayload$inboundSchema.parse(delivery.json);
    expect(parsed.type).toBe('data-changed');
    expect(parsed.data).toEqual({
      integration_id: sandbox.dataset.integrations[1]!.id,
      integration_tool: 'lever',
      integration_category: 'ATS',
      changed_models: [{ name: 'ats_candidates' }, { name: 'ats_applications' }],
    });
    expect(sandbox.webhooks).toMatchObject({ delivered: 1, failed: 0, attempts: 1 });
  });

  it('a clock move names exactly the models whose records changed (those updated_after lists), per integration', async () => {
    // Prepare
    const [first, second] = consecutiveDays(SANDBOX_DEMO_FIRST_DAY, 2) as [string, string];
    const { sandbox, hook } = await setUp({ asOf: first });
    const since = new Date(asOfInstant(first) + 1).toISOString();
    // Act
    sandbox.setAsOf(second);
    await sandbox.webhooksSettled();
    // Assess: a model is named iff an incremental listing since the previous clock finds a record.
    const expected = new Map<string, string[]>();
    for (const integration of sandbox.dataset.integrations) {
      const changed: SandboxModel[] = [];
      for (const model of SANDBOX_MODELS) {
        const r = await fetch(`${sandbox.url}/ats/${model.replaceAll('_', '-')}?include_deleted=true&page_size=1&updated_after=${since}`, {
          headers: { ...auth(sandbox), 'x-integration-id': integration.id },
        });
        const body = (await r.json()) as { data?: { results: unknown[] } };
        if ((body.data?.results.length ?? 0) > 0) changed.push(model);
      }
      if (changed.length > 0) expected.set(integration.id, changed.map((m) => `ats_${m}`));
    }
    expect(expected.size).toBeGreaterThan(0);
    const got = new Map(
      hook.got.map((d) => {
        const parsed = DataChangedWebhookPayload$inboundSchema.parse(d.json);
        expect(d.signature).toBe(expectedSignature(d.raw));
        return [parsed.data.integration_id, parsed.data.changed_models.map((m) => m.name as string)];
      }),
    );
    expect(got).toEqual(expected);
    expect(got.get(sandbox.dataset.integrations[0]!.id)).not.toContain('ats_jobs');
  });

  it('adding and removing an integration sends integration-created then integration-deleted, and the API follows', async () => {
    // Prepare
    const { sandbox, hook } = await setUp({ asOf: SANDBOX_DEMO_FIRST_DAY });
    // Act
    const added = await fetch(`${root(sandbox)}/sandbox/integrations`, {
      method: 'POST',
      headers: auth(sandbox),
      body: JSON.stringify({ tool: 'ashby', end_user_organization_name: 'Acme Robotics', candidates: 12 }),
    });
    const id = String(((await added.json()) as { data: Rec }).data.id);
    const info = await fetch(`${sandbox.url}/integrations/${encodeURIComponent(id)}`, { headers: auth(sandbox) });
    const candidates = await fetch(`${sandbox.url}/ats/candidates`, { headers: { ...auth(sandbox), 'x-integration-id': id } });
    const removed = await fetch(`${root(sandbox)}/sandbox/integrations/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth(sandbox) });
    const gone = await fetch(`${sandbox.url}/integrations/${encodeURIComponent(id)}`, { headers: auth(sandbox) });
    const again = await fetch(`${root(sandbox)}/sandbox/integrations/${encodeURIComponent(id)}`, { method: 'DELETE', headers: auth(sandbox) });
    await sandbox.webhooksSettled();
    // Assess
    expect(added.status).toBe(200);
    expect(id).toMatch(/^ashby:[A-Za-z0-9]{24}$/);
    const infoBody = await info.json();
    expect(GetIntegrationsIntegrationIdPositiveResponse$inboundSchema.safeParse(infoBody).success).toBe(true);
    expect((infoBody as { data: { end_user: Rec; created_at: string } }).data.end_user.organization_name).toBe('Acme Robotics');
    expect((infoBody as { data: { created_at: string } }).data.created_at).toBe(new Date(asOfInstant(SANDBOX_DEMO_FIRST_DAY)).toISOString());
    expect(candidates.status).toBe(200);
    expect(((await candidates.json()) as { data: { results: unknown[] } }).data.results.length).toBeGreaterThan(0);
    expect([removed.status, gone.status, again.status]).toEqual([200, 404, 404]);
    expect(hook.got.map((d) => d.json.type)).toEqual(['integration-created', 'integration-deleted']);
    for (const d of hook.got) expect(d.signature).toBe(expectedSignature(d.raw));
    const created = IntegrationCreatedWebhookPayload$inboundSchema.parse(hook.got[0]!.json);
    const deleted = IntegrationDeletedWebhookPayload$inboundSchema.parse(hook.got[1]!.json);
    expect(created.data).toEqual({ id, tool: 'ashby', category: 'ATS', end_user: { organization_name: 'Acme Robotics', creator_email: null, origin_id: null } });
    expect(deleted.data.id).toBe(id);
    expect(deleted.data.deleted_at.toISOString()).toBe(new Date(asOfInstant(SANDBOX_DEMO_FIRST_DAY)).toISOString());
  });

  it('an added integration moves with the clock and its changes are announced too', async () => {
    const [first, , third] = consecutiveDays(SANDBOX_DEMO_FIRST_DAY, 3) as [string, string, string];
    const { sandbox, hook } = await setUp({ asOf: first });
    const data = sandbox.addIntegration({ tool: 'teamtailor', end_user_organization_name: 'Northwind', candidates: 300 });
    const before = data.applications.length;
    const move = await fetch(`${root(sandbox)}/sandbox/clock`, { method: 'POST', headers: auth(sandbox), body: JSON.stringify({ as_of: third }) });
    await sandbox.webhooksSettled();
    expect(move.status).toBe(200);
    expect(sandbox.asOf).toBe(third);
    expect(data.applications.length).toBeGreaterThan(before);
    const changed = hook.got.filter((d) => d.json.type === 'data-changed' && (d.json.data as Rec).integration_id === data.id);
    expect(changed).toHaveLength(1);
  });

  it('the clock moves within a day too: the Date header says the instant, and each move announces what changed since the last', async () => {
    // Prepare
    const { sandbox, hook } = await setUp({ asOf: '2025-06-06' });
    const id = sandbox.dataset.integrations[0]!.id;
    const move = (body: Rec): Promise<Response> => fetch(`${root(sandbox)}/sandbox/clock`, { method: 'POST', headers: auth(sandbox), body: JSON.stringify(body) });
    // Act
    const noon = await move({ at: '2025-06-07T12:00:00Z' });
    const count = hook.got.length;
    await sandbox.webhooksSettled();
    const atNoon = hook.got.length;
    const evening = await move({ at: '2025-06-07T18:00:00Z' });
    const same = await move({ at: '2025-06-07T18:00:00Z' });
    const bad = await Promise.all([move({ at: 'tomorrow' }), move({ as_of: '2025-02-30' }), move({})]);
    await sandbox.webhooksSettled();
    const info = await fetch(`${sandbox.url}/integrations/${encodeURIComponent(id)}`, { headers: auth(sandbox) });
    // Assess
    expect([noon.status, evening.status, same.status]).toEqual([200, 200, 200]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400]);
    expect(count).toBeLessThanOrEqual(atNoon);
    expect(atNoon).toBeGreaterThan(0);
    expect(hook.got.length).toBeGreaterThan(atNoon);
    // The same instant again changes nothing, so it announces nothing.
    expect(((await same.json()) as { data: { webhooks: string[] } }).data.webhooks).toEqual([]);
    expect(sandbox.asOf).toBe('2025-06-07');
    expect(info.headers.get('date')).toBe(new Date('2025-06-07T18:00:00Z').toUTCString());
  });

  it('retries a failed delivery with backoff until the receiver takes it', async () => {
    // Prepare: the receiver fails twice (500, then 503), then answers 202.
    const { sandbox, hook } = await setUp({ answer: (n) => (n === 1 ? 500 : n === 2 ? 503 : 202), backoffMs: 5 });
    // Act
    await postCandidate(sandbox);
    await sandbox.webhooksSettled();
    // Assess: three attempts of the same signed event.
    expect(hook.got).toHaveLength(3);
    expect(new Set(hook.got.map((d) => d.raw.toString('utf8'))).size).toBe(1);
    expect(sandbox.webhooks).toMatchObject({ delivered: 1, failed: 0, attempts: 3 });
  });

  it('gives up after the last attempt and counts the event as failed', async () => {
    const { sandbox, hook } = await setUp({ answer: () => 500, backoffMs: 1 });
    await postCandidate(sandbox);
    await sandbox.webhooksSettled();
    expect(hook.got).toHaveLength(4);
    expect(sandbox.webhooks).toMatchObject({ delivered: 0, failed: 1, attempts: 4 });
  });

  it('answers the API call while the receiver still holds the webhook', async () => {
    // Prepare: the receiver never answers until released.
    const { sandbox, hook } = await setUp({ answer: () => 'hang' });
    // Act
    const res = await postCandidate(sandbox);
    // Assess: the API answered; the receiver has the request but has not answered it.
    expect(res.status).toBe(200);
    await expect.poll(() => hook.got.length).toBe(1);
    expect(sandbox.webhooks).toMatchObject({ delivered: 0, failed: 0 });
    hook.release();
    await sandbox.webhooksSettled();
    expect(sandbox.webhooks).toMatchObject({ delivered: 1 });
  });

  it('refuses a webhook URL off 127.0.0.1 when started in process', async () => {
    await expect(startSandbox({ webhook: { url: 'http://localhost:9/x', secret: SECRET } })).rejects.toThrow(/only posts to http:\/\/127\.0\.0\.1/);
    await expect(startSandbox({ webhook: { url: 'https://127.0.0.1:9/x', secret: SECRET } })).rejects.toThrow(/only posts to http:\/\/127\.0\.0\.1/);
  });
});

/** The pipeline's receiver (`receiveWebhook`) served on 127.0.0.1, checking signatures with `secret`. */
async function pipelineReceiver(secret: string): Promise<{ url: string; statuses: number[]; queued: KomboWebhookEvent[]; server: Server }> {
  const statuses: number[] = [];
  const queued: KomboWebhookEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
      void receiveWebhook(
        { headers, body: Buffer.concat(chunks) },
        { secret: () => Promise.resolve(secret), enqueue: (e) => Promise.resolve(void queued.push(e)), log: () => undefined },
      ).then((r) => {
        statuses.push(r.status);
        res.writeHead(r.status).end(r.body);
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  open.push({ close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, statuses, queued, server };
}

describe('the sandbox against the pipeline’s receiver', () => {
  it('every kind of event it sends is verified and queued (202)', async () => {
    // Prepare
    const hook = await pipelineReceiver(SECRET);
    const [first, second] = consecutiveDays(SANDBOX_DEMO_FIRST_DAY, 2) as [string, string];
    const sandbox = await startSandbox({ asOf: first, webhook: { url: hook.url, secret: SECRET } });
    open.unshift(sandbox);
    // Act
    await postCandidate(sandbox);
    sandbox.setAsOf(second);
    const added = sandbox.addIntegration({ tool: 'ashby', end_user_organization_name: 'Acme', candidates: 5 });
    sandbox.deleteIntegration(added.id);
    await sandbox.webhooksSettled();
    // Assess
    expect(hook.statuses.length).toBeGreaterThanOrEqual(4);
    expect(hook.statuses.every((s) => s === 202)).toBe(true);
    expect(hook.queued.map((e) => e.id)).toEqual(sandbox.webhooks!.events.map((e) => e.id));
    expect(new Set(hook.queued.map((e) => e.type))).toEqual(new Set(['data-changed', 'integration-created', 'integration-deleted']));
  });

  it('signed with another secret: refused with 401, retried, then given up', async () => {
    const hook = await pipelineReceiver('the-receivers-secret');
    const sandbox = await startSandbox({ webhook: { url: hook.url, secret: SECRET, backoffMs: 1 } });
    open.unshift(sandbox);
    await postCandidate(sandbox);
    await sandbox.webhooksSettled();
    expect(hook.statuses).toEqual([401, 401, 401, 401]);
    expect(hook.queued).toEqual([]);
    expect(sandbox.webhooks).toMatchObject({ delivered: 0, failed: 1 });
  });
});

describe('kombo-etl sandbox --webhook-url', () => {
  const QUICK = { timeoutMs: 60_000 };
  it.each([
    [['--webhook-url', 'http://example.com/hook', '--webhook-secret', 's'], /^error: --webhook-url: the sandbox only posts to http:\/\/127\.0\.0\.1:<port>\/…, got "http:\/\/example\.com\/hook"$/],
    [['--webhook-url', 'http://10.0.0.1:8080/', '--webhook-secret', 's'], /^error: --webhook-url: the sandbox only posts to http:\/\/127\.0\.0\.1/],
    [['--webhook-url', 'not a url', '--webhook-secret', 's'], /^error: --webhook-url: the sandbox only posts to/],
    [['--webhook-url', 'http://127.0.0.1:8080/'], /^error: --webhook-url: needs --webhook-secret too/],
    [['--webhook-secret', 's'], /^error: --webhook-secret: needs --webhook-url too/],
  ])('%j: exit 2, one line, nothing served', async (args, message) => {
    const r = await runCli(['sandbox', ...args], {}, QUICK);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
