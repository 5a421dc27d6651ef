import { describe, expect, it } from 'vitest';
import type { RequestTracker, RetryEvent } from '../../shared/kombo/client.ts';
import { KomboClient, summariseBody } from '../../shared/kombo/client.ts';
import { classify, parseRetryAfter } from '../../shared/kombo/classify.ts';
import {
  DataError,
  IntegrationFatalError,
  ModelNotAvailableError,
  RetriesExhaustedError,
  RunFatalError,
} from '../../shared/errors.ts';

const API_KEY = 'test-secret-key-123';
const candidate = (id: string) => ({ id, first_name: 'Ada', remote_created_at: '2024-01-01T00:00:00.000Z' });
const page = (ids: string[], next: string | null) => ({ status: 'success', data: { next, results: ids.map(candidate) } });
const kError = (code: string | null, message = 'nope') => ({ status: 'error', error: { code, title: null, message, log_url: null } });

type Reply = { status: number; body: unknown; headers?: Record<string, string> } | Error;

/** A fetch stand-in that replays replies and records requests. */
function scripted(replies: Reply[]) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string> });
    const next = replies.shift();
    if (!next) throw new Error('no more scripted replies');
    if (next instanceof Error) throw next;
    const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body);
    return new Response(text, { status: next.status, headers: next.headers });
  }) as unknown as typeof fetch;
  return { fetchFn, calls };
}

function client(replies: Reply[], retry: Partial<{ maxAttempts: number }> = {}) {
  const s = scripted(replies);
  const sleeps: number[] = [];
  const retries: RetryEvent[] = [];
  const c = new KomboClient({
    onRetry: (e) => retries.push(e),
    baseUrl: 'http://127.0.0.1:9/v1',
    apiKey: API_KEY,
    fetch: s.fetchFn,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    retry,
  });
  return { c, calls: s.calls, sleeps, retries };
}

describe('KomboClient.listPage', () => {
  it('sends auth, integration id, page_size=250, include_deleted and the cursor', async () => {
    // Prepare
    const { c, calls } = client([{ status: 200, body: page(['a'], 'CUR2') }]);
    // Act
    const p = await c.listPage('greenhouse:Abc123', 'candidates', { cursor: 'CUR1', updatedAfter: '2024-01-01T00:00:00.000Z' });
    // Assess
    expect(p.next).toBe('CUR2');
    expect(p.records.map((r) => r.id)).toEqual(['a']);
    const url = new URL(calls[0]!.url);
    expect(url.pathname).toBe('/v1/ats/candidates');
    expect(url.searchParams.get('page_size')).toBe('250');
    expect(url.searchParams.get('include_deleted')).toBe('true');
    expect(url.searchParams.get('cursor')).toBe('CUR1');
    expect(url.searchParams.get('updated_after')).toBe('2024-01-01T00:00:00.000Z');
    expect(calls[0]!.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(calls[0]!.headers['x-integration-id']).toBe('greenhouse:Abc123');
  });

  it('retries 429 honouring Retry-After, then succeeds, counting throttles', async () => {
    const { c, sleeps } = client([
      { status: 429, body: kError('PLATFORM.RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '3' } },
      { status: 200, body: page(['a'], null) },
    ]);
    const p = await c.listPage('lever:X1', 'candidates');
    expect(p.records).toHaveLength(1);
    expect(sleeps).toEqual([3000]);
    expect(c.stats).toEqual({ requests: 2, retries: 1, throttles: 1 });
  });

  it('honours an HTTP-date Retry-After', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter on 5xx, plain 503 and network resets', async () => {
    const { c, sleeps } = client([
      { status: 500, body: kError('PLATFORM.UNKNOWN_ERROR') },
      { status: 503, body: '<html>Service Unavailable</html>' },
      new TypeError('fetch failed', { cause: new Error('ECONNRESET') }),
      { status: 200, body: page([], null) },
    ]);
    await c.listPage('lever:X1', 'interviews');
    // random() = 0.5 of a ceiling of 250, 500, 1000 ms
    expect(sleeps).toEqual([125, 250, 500]);
    expect(c.stats.retries).toBe(3);
  });

  it('gives up after the budget with the last Kombo code', async () => {
    const replies: Reply[] = Array.from({ length: 3 }, () => ({ status: 503, body: kError('REMOTE.SERVICE_UNAVAILABLE') }));
    const { c } = client(replies, { maxAttempts: 3 });
    const err = await c.listPage('lever:X1', 'candidates').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).code).toBe('REMOTE.SERVICE_UNAVAILABLE');
    expect((err as RetriesExhaustedError).attempts).toBe(3);
  });

  describe.each([
    ['INTEGRATION.MODEL_NOT_AVAILABLE', 404, ModelNotAvailableError],
    ['INTEGRATION.MODEL_DISABLED', 400, ModelNotAvailableError],
    ['INTEGRATION.AUTHENTICATION_INVALID', 401, IntegrationFatalError],
    ['PLATFORM.INTEGRATION_NOT_FOUND', 404, IntegrationFatalError],
    ['PLATFORM.AUTHENTICATION_INVALID', 401, RunFatalError],
    ['PLATFORM.INPUT_INVALID', 400, RunFatalError],
  ])('error code %s', (code, status, cls) => {
    it(`raises ${cls.name} without retrying, and never leaks the key`, async () => {
      const { c, calls } = client([{ status, body: kError(code) }]);
      const err = await c.listPage('lever:X1', 'candidates').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect((err as Error & { code: string }).code).toBe(code);
      expect(calls).toHaveLength(1);
      expect(JSON.stringify(err)).not.toContain(API_KEY);
      expect(String((err as Error).message)).not.toContain(API_KEY);
    });
  });

  it('branches on the code, not the status: a 200-less 400 with a transient code is retried', async () => {
    const { c } = client([
      { status: 400, body: kError('PLATFORM.TASK_TIMED_OUT') },
      { status: 200, body: page(['a'], null) },
    ]);
    await expect(c.listPage('lever:X1', 'candidates')).resolves.toMatchObject({ next: null });
  });

  it.each([
    ['an empty body', ''],
    ['malformed JSON', '{"status":"success","data":'],
    ['a non-envelope', { hello: 'world' }],
  ])('rejects %s on 200 with a DataError naming integration, model and cursor', async (_what, body) => {
    const { c } = client([{ status: 200, body }]);
    const err = await c.listPage('lever:X1', 'applications', { cursor: 'C9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).location).toMatchObject({ integrationId: 'lever:X1', model: 'applications', cursor: 'C9' });
  });

  it('names the record id when a record has the wrong type', async () => {
    const bad = { status: 'success', data: { next: null, results: [candidate('ok1'), { id: 'bad1', first_name: 42 }] } };
    const { c } = client([{ status: 200, body: bad }]);
    const err = await c.listPage('lever:X1', 'candidates').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).location.recordId).toBe('bad1');
    expect((err as DataError).message).toContain('first_name');
  });

  it('rejects an unparseable timestamp', async () => {
    const bad = { status: 'success', data: { next: null, results: [{ id: 'x', remote_created_at: 'yesterday' }] } };
    const { c } = client([{ status: 200, body: bad }]);
    await expect(c.listPage('lever:X1', 'candidates')).rejects.toThrow(/remote_created_at/);
  });

  it('accepts unknown fields and unknown enum values', async () => {
    const odd = { status: 'success', data: { next: null, results: [{ id: 'x', brand_new_field: { a: 1 }, phone_numbers: [{ phone_number: '1', type: 'PAGER' }] }] } };
    const { c } = client([{ status: 200, body: odd }]);
    const p = await c.listPage('lever:X1', 'candidates');
    expect(p.records[0]).toMatchObject({ id: 'x', brand_new_field: { a: 1 } });
  });
});

/** A fetch stand-in whose body arrives in `parts`, each read only when the reader asks for it. */
function streamed(status: number, parts: string[], events: string[]) {
  return (async () => {
    const encoder = new TextEncoder();
    let i = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (i === parts.length) return controller.close();
          events.push(`body part ${i + 1}`);
          controller.enqueue(encoder.encode(parts[i++]!));
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status });
  }) as unknown as typeof fetch;
}

const LB_502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

describe('what a failed request reports', () => {
  it.each([
    ['an HTML error page by its title', LB_502, 'an HTML page "502 Bad Gateway"'],
    ['a title with entities and a long text, by its first words', '<!DOCTYPE html><html><head><title>Service &amp; API   temporarily\nunavailable: our team is working on it right now, please come back later</title>', 'an HTML page "Service & API temporarily unavailable: our team is…"'],
    ['an HTML page without a title, by its text', '<html><body><h1>Gateway Timeout</h1><p>The upstream server did not answer.</p></body></html>', 'an HTML page "Gateway Timeout The upstream server did not answer."'],
    ['plain text, by its first words', 'upstream connect error or disconnect/reset before headers. reset reason: overflow', '"upstream connect error or disconnect/reset before headers. reset…"'],
    ['nothing', '  ', 'an empty body'],
  ])('summarises %s', (_what, body, expected) => {
    expect(summariseBody(body)).toBe(expected);
  });

  it('gives up on a load balancer\'s 502 page with its status and title, never the page', async () => {
    // Prepare
    const { c, retries } = client(Array.from({ length: 3 }, () => ({ status: 502, body: LB_502 })), { maxAttempts: 3 });
    // Act
    const err = await c.listPage('lever:X1', 'candidates').catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as Error).message).toBe('gave up after 3 attempts: HTTP 502: an HTML page "502 Bad Gateway"');
    expect((err as RetriesExhaustedError).code).toBe('HTTP.502');
    expect(retries.map((r) => r.message)).toEqual(['HTTP 502: an HTML page "502 Bad Gateway"', 'HTTP 502: an HTML page "502 Bad Gateway"']);
  });

  it('tells every backoff as it starts: who, which attempt, how long, and whether everyone waits', async () => {
    const { c, retries } = client([
      { status: 503, body: kError('REMOTE.SERVICE_UNAVAILABLE', 'down') },
      { status: 429, body: kError('PLATFORM.RATE_LIMIT_EXCEEDED', 'slow down'), headers: { 'retry-after': '30' } },
      { status: 200, body: page(['a'], null) },
    ]);
    await c.listPage('lever:X1', 'candidates');
    expect(retries).toEqual([
      { integrationId: 'lever:X1', model: 'candidates', attempt: 1, maxAttempts: 8, delayMs: 125, code: 'REMOTE.SERVICE_UNAVAILABLE', message: 'HTTP 503 REMOTE.SERVICE_UNAVAILABLE: down', pausesAll: false },
      { integrationId: 'lever:X1', model: 'candidates', attempt: 2, maxAttempts: 8, delayMs: 30_000, code: 'PLATFORM.RATE_LIMIT_EXCEEDED', message: 'HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED: slow down', pausesAll: true },
    ]);
  });

  it('counts a bare 429 (no Kombo body) as a throttle', async () => {
    const { c } = client([
      { status: 429, body: 'Too Many Requests', headers: { 'retry-after': '0' } },
      { status: 200, body: page([], null) },
    ]);
    await c.listPage('lever:X1', 'candidates');
    expect(c.stats).toEqual({ requests: 2, retries: 1, throttles: 1 });
  });

  it('counts an integration check that gives up in the caller\'s tracker', async () => {
    // Prepare
    const { c, retries } = client(Array.from({ length: 4 }, () => ({ status: 429, body: kError('PLATFORM.RATE_LIMIT_EXCEEDED'), headers: { 'retry-after': '0' } })), { maxAttempts: 4 });
    const tracker: RequestTracker = { stats: { requests: 0, retries: 0, throttles: 0 } };
    // Act
    const err = await c.getIntegration('lever:X1', tracker).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(tracker.stats).toEqual({ requests: 4, retries: 3, throttles: 4 });
    expect(retries.map((r) => [r.model, r.attempt])).toEqual([[undefined, 1], [undefined, 2], [undefined, 3]]);
  });
});

describe('KomboClient read-ahead (onNext)', () => {
  const text = JSON.stringify(page(['a', 'b', 'c'], 'CUR/"2"'));
  const split = (at: number[]) => [0, ...at].map((from, i, all) => text.slice(from, all[i + 1] ?? text.length));

  it('tells the next cursor from the head of the body, before the rest of the body is read', async () => {
    // Prepare: the cursor (with an escaped quote) is cut across the first two parts
    const events: string[] = [];
    const cut = text.indexOf('CUR') + 4;
    const c = new KomboClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: API_KEY, fetch: streamed(200, split([cut, cut + 20, cut + 40]), events) });
    // Act
    const p = await c.listPage('lever:X1', 'candidates', { onNext: (next) => events.push(`next ${next}`) });
    // Assess
    expect(events).toEqual(['body part 1', 'body part 2', 'next CUR/"2"', 'body part 3', 'body part 4']);
    expect(p.next).toBe('CUR/"2"');
    expect(p.records.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('says nothing for an error answer or a page written in another order, which is still read whole', async () => {
    const events: string[] = [];
    const reordered = new KomboClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: API_KEY, fetch: streamed(200, ['{"data":{"next":"X","results":[]},', '"status":"success"}'], events) });
    expect(await reordered.listPage('lever:X1', 'candidates', { onNext: (next) => events.push(`next ${next}`) })).toMatchObject({ next: 'X', records: [] });
    const refused = new KomboClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: API_KEY, fetch: streamed(401, [JSON.stringify(kError('PLATFORM.AUTHENTICATION_INVALID'))], events) });
    await expect(refused.listPage('lever:X1', 'candidates', { onNext: (next) => events.push(`next ${next}`) })).rejects.toBeInstanceOf(RunFatalError);
    expect(events.filter((e) => e.startsWith('next'))).toEqual([]);
  });
});

describe('classify', () => {
  it.each([
    [null, 429, 'transient'],
    [null, 502, 'transient'],
    [null, 418, 'integration-fatal'],
    ['SOMETHING.NEW', 503, 'transient'],
    ['REMOTE.RATE_LIMIT_EXCEEDED', 400, 'transient'],
    ['INTEGRATION.QA_FAILED', 400, 'integration-fatal'],
    ['PLATFORM.IP_NOT_WHITELISTED', 403, 'run-fatal'],
  ] as const)('code %s with HTTP %d is %s', (code, status, kind) => {
    expect(classify(code, status)).toBe(kind);
  });
});
