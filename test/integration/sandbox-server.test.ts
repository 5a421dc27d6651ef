import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxIntegrationData, SandboxModel } from '../../sandbox/index.ts';
import { SANDBOX_API_KEY, SANDBOX_MODELS, asOfInstant, createSandboxTimeline, generateDataset, modelRecords, startSandbox } from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

const BIG = 'greenhouse:Qw3ErTy7UiOp9AsDfGh2JkLz';
const SMALL = 'lever:Zx8CvBn4MqWe6RtYu1IoPaSd';
const EMPTY = 'teamtailor:Lk5JhGf3DsAp7OiUy9TrEwQm';
const MODELS: readonly SandboxModel[] = SANDBOX_MODELS;
/** The models the big integration has deleted records of (the funnel's lists other than offers have none). */
const WITH_DELETED: readonly SandboxModel[] = ['candidates', 'applications', 'interviews', 'offers'];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Rec;
}

let sandbox: RunningSandbox;
let big: SandboxIntegrationData;

async function call(
  path: string,
  opts: { integration?: string | null; key?: string | null; query?: Record<string, string>; method?: string; body?: unknown } = {},
): Promise<Answer> {
  const url = new URL(`${sandbox.url}${path}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? sandbox.apiKey : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const integration = opts.integration === undefined ? BIG : opts.integration;
  if (integration !== null) headers['x-integration-id'] = integration;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: Rec = {};
  try {
    json = JSON.parse(text) as Rec;
  } catch {
    // Load-balancer pages are not JSON.
  }
  return { status: res.status, headers: res.headers, text, json };
}

const errorCode = (a: Answer): unknown => (a.json.error as Rec | undefined)?.code;
const results = (a: Answer): Rec[] => (a.json.data as { results: Rec[] }).results;
const next = (a: Answer): string | null => (a.json.data as { next: string | null }).next;
const idsOf = (records: readonly Rec[]): string[] => records.map((r) => r.id as string);
/** Kombo's path of a model: `rejection_reasons` is served at `/ats/rejection-reasons`. */
const pathOf = (model: SandboxModel): string => `/ats/${model.replaceAll('_', '-')}`;

async function listAll(model: SandboxModel, query: Record<string, string> = {}, integration = BIG): Promise<{ records: Rec[]; pages: number }> {
  const records: Rec[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await call(pathOf(model), { integration, query: { ...query, ...(cursor === null ? {} : { cursor }) } });
    expect(page.status).toBe(200);
    expect(results(page).length).toBeLessThanOrEqual(Number(query.page_size ?? 100));
    records.push(...results(page));
    cursor = next(page);
    pages++;
  } while (cursor !== null);
  return { records, pages };
}

beforeAll(async () => {
  const dataset = generateDataset({
    seed: 11,
    integrations: [
      { id: BIG, tool: 'greenhouse', candidates: 700 },
      { id: SMALL, tool: 'lever', candidates: 60 },
      { id: EMPTY, tool: 'teamtailor', candidates: 0 },
    ],
  });
  sandbox = await startSandbox({ dataset, seed: 11 });
  big = sandbox.dataset.integrations[0] as SandboxIntegrationData;
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.setFaults({});
});

describe('sandbox server: transport and auth', () => {
  it('listens on 127.0.0.1 only, under /v1, with the default key', () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(sandbox.apiKey).toBe(SANDBOX_API_KEY);
  });

  it('answers with Kombo’s success envelope as UTF-8 JSON', async () => {
    const a = await call('/ats/candidates', { query: { page_size: '1' } });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(a.json.status).toBe('success');
    expect(results(a)).toHaveLength(1);
    expect(typeof next(a)).toBe('string');
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong key', 'not-the-key'],
  ])('rejects %s with 401 PLATFORM.AUTHENTICATION_INVALID', async (_label, key) => {
    const a = await call('/ats/candidates', { key });
    expect(a.status).toBe(401);
    expect(a.json).toEqual({ status: 'error', error: { code: 'PLATFORM.AUTHENTICATION_INVALID', title: expect.any(String), message: expect.any(String), log_url: null } });
  });

  it('requires X-Integration-Id (400 PLATFORM.INPUT_INVALID)', async () => {
    const a = await call('/ats/candidates', { integration: null });
    expect(a.status).toBe(400);
    expect(errorCode(a)).toBe('PLATFORM.INPUT_INVALID');
  });

  it('answers 404 PLATFORM.INTEGRATION_NOT_FOUND for an unknown integration', async () => {
    const a = await call('/ats/candidates', { integration: 'greenhouse:000000000000000000000000' });
    expect(a.status).toBe(404);
    expect(errorCode(a)).toBe('PLATFORM.INTEGRATION_NOT_FOUND');
  });

  it('answers unknown routes with a 404 Kombo error body', async () => {
    // Kombo spells its paths with hyphens: the model name itself is no route.
    const a = await call('/ats/rejection_reasons');
    expect(a.status).toBe(404);
    expect(a.json.status).toBe('error');
    expect((a.json.error as Rec).message).toMatch(/not found/i);
  });

  it('closes with keep-alive connections open and refuses connections afterwards', async () => {
    const other = await startSandbox({ dataset: generateDataset({ integrations: [] }) });
    const res = await fetch(`${other.url}/integrations/x:abc`, { headers: { authorization: `Bearer ${other.apiKey}` } });
    expect(res.status).toBe(404);
    await res.text();
    await other.close();
    await expect(fetch(`${other.url}/integrations/x:abc`)).rejects.toThrow();
  });
});

describe('sandbox server: listing', () => {
  it.each(MODELS)('pages through all live %s with page_size=250, in id order, without duplicates', async (model) => {
    const { records, pages } = await listAll(model, { page_size: '250' });
    const expected = modelRecords(big, model).filter((r) => r.remote_deleted_at === null);
    expect(pages).toBe(Math.ceil(expected.length / 250));
    expect(idsOf(records)).toEqual(idsOf(expected).sort());
    expect(new Set(idsOf(records)).size).toBe(records.length);
    expect(records).toEqual([...expected].sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1)));
  });

  it.each(WITH_DELETED)('includes deleted %s only with include_deleted=true', async (model) => {
    const all = await listAll(model, { page_size: '250', include_deleted: 'true' });
    const live = await listAll(model, { page_size: '250', include_deleted: 'false' });
    const deleted = modelRecords(big, model).filter((r) => r.remote_deleted_at !== null);
    expect(deleted.length).toBeGreaterThan(0);
    expect(idsOf(all.records).sort()).toEqual(idsOf(modelRecords(big, model)).sort());
    expect(live.records.length).toBe(modelRecords(big, model).length - deleted.length);
    expect(idsOf(live.records)).not.toContain(deleted[0]?.id);
  });

  it('uses Kombo’s default page size of 100', async () => {
    const a = await call('/ats/applications');
    expect(results(a)).toHaveLength(100);
  });

  it('serves an empty integration as one empty page', async () => {
    const a = await call('/ats/candidates', { integration: EMPTY });
    expect(a.status).toBe(200);
    expect(a.json.data).toEqual({ next: null, results: [] });
  });

  it.each(['251', '0', 'abc', '2.5', '-1'])('rejects page_size=%s with 400 PLATFORM.INPUT_INVALID', async (size) => {
    const a = await call('/ats/candidates', { query: { page_size: size } });
    expect(a.status).toBe(400);
    expect(errorCode(a)).toBe('PLATFORM.INPUT_INVALID');
  });

  it('rejects a cursor that does not decode', async () => {
    const a = await call('/ats/candidates', { query: { cursor: 'not a cursor!' } });
    expect(a.status).toBe(400);
    expect(errorCode(a)).toBe('PLATFORM.INPUT_INVALID');
    expect((a.json.error as Rec).message).toMatch(/cursor is invalid/i);
  });

  it('rejects a cursor used with different filters', async () => {
    const first = await call('/ats/candidates', { query: { page_size: '5' } });
    const cursor = next(first) as string;
    const ok = await call('/ats/candidates', { query: { page_size: '5', cursor } });
    expect(ok.status).toBe(200);
    const a = await call('/ats/candidates', { query: { page_size: '5', cursor, include_deleted: 'true' } });
    expect(a.status).toBe(400);
    expect((a.json.error as Rec).message).toMatch(/cursor is invalid/i);
    const elsewhere = await call('/ats/candidates', { integration: SMALL, query: { page_size: '5', cursor } });
    expect(elsewhere.status).toBe(400);
  });

  it('rejects unknown and unsupported query parameters instead of ignoring them', async () => {
    expect(errorCode(await call('/ats/candidates', { query: { pageSize: '10' } }))).toBe('PLATFORM.INPUT_INVALID');
    expect(errorCode(await call('/ats/candidates', { query: { email: 'a@b.co' } }))).toBe('PLATFORM.INPUT_INVALID');
  });
});

describe('sandbox server: filters', () => {
  const changedOrUpdated = (r: Rec, since: number): boolean =>
    Date.parse(r.changed_at as string) >= since || (r.remote_updated_at !== null && Date.parse(r.remote_updated_at as string) >= since);

  it.each(MODELS)('updated_after returns exactly the %s changed (or with changed nested applications) since then', async (model) => {
    const times = modelRecords(big, model).map((r) => r.changed_at as string).sort();
    const threshold = times[Math.floor(times.length / 2)] as string;
    const since = Date.parse(threshold);
    const expected = modelRecords(big, model).filter(
      (r) => changedOrUpdated(r, since) || (model === 'candidates' && (r.applications as Rec[]).some((a) => changedOrUpdated(a, since))),
    );
    const { records } = await listAll(model, { page_size: '250', include_deleted: 'true', updated_after: threshold });
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(modelRecords(big, model).length);
    expect(idsOf(records)).toEqual(idsOf(expected).sort());
  });

  it('returns nothing for updated_after in the future', async () => {
    const a = await call('/ats/interviews', { query: { updated_after: '2099-01-01T00:00:00.000Z', include_deleted: 'true' } });
    expect(results(a)).toEqual([]);
    expect(next(a)).toBeNull();
  });

  it.each(['yesterday', '2024-13-45T00:00:00.000Z', '2024-01-01 10:00'])('rejects updated_after=%s', async (value) => {
    const a = await call('/ats/candidates', { query: { updated_after: value } });
    expect(a.status).toBe(400);
    expect(errorCode(a)).toBe('PLATFORM.INPUT_INVALID');
  });

  it('filters by ids, hiding deleted ones unless include_deleted=true', async () => {
    const deleted = big.candidates.find((c) => c.remote_deleted_at !== null) as Rec;
    const live = big.candidates.filter((c) => c.remote_deleted_at === null).slice(0, 2);
    const wanted = [deleted, ...live].map((c) => c.id as string);
    const hidden = await call('/ats/candidates', { query: { ids: wanted.join(',') } });
    expect(idsOf(results(hidden))).toEqual(idsOf(live).sort());
    const shown = await call('/ats/candidates', { query: { ids: wanted.join(','), include_deleted: 'true' } });
    expect(idsOf(results(shown))).toEqual([...wanted].sort());
    expect(results(shown).find((c) => c.id === deleted.id)).toEqual(deleted);
  });

  it('answers 404 when one of the ids does not exist, and 400 when one is malformed', async () => {
    const unknown = await call('/ats/candidates', { query: { ids: `${big.candidates[0]?.id as string},zzzzzzzzzzzzzzzzzzzzzzzz` } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.status).toBe('error');
    const malformed = await call('/ats/candidates', { query: { ids: 'short' } });
    expect(malformed.status).toBe(400);
  });

  it('filters by remote_ids', async () => {
    const targets = big.applications.filter((a) => a.remote_deleted_at === null).slice(5, 8);
    const a = await call('/ats/applications', { query: { remote_ids: targets.map((t) => t.remote_id as string).join(',') } });
    expect(idsOf(results(a))).toEqual(idsOf(targets).sort());
  });
});

describe('sandbox server: faults', () => {
  it('answers 429 PLATFORM.RATE_LIMIT_EXCEEDED with Retry-After and rate-limit headers', async () => {
    sandbox.setFaults({ rate429: 1, retryAfterSeconds: 2 });
    const before = sandbox.stats.faults['429'];
    const a = await call('/ats/candidates');
    expect(a.status).toBe(429);
    expect(errorCode(a)).toBe('PLATFORM.RATE_LIMIT_EXCEEDED');
    expect(a.headers.get('retry-after')).toBe('2');
    expect(a.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(a.headers.get('ratelimit-limit'))).toBeGreaterThan(0);
    expect(a.headers.get('ratelimit-reset')).toBe('2');
    expect(sandbox.stats.faults['429']).toBe(before + 1);
  });

  it('allows Retry-After: 0 and defaults it to 1', async () => {
    sandbox.setFaults({ rate429: 1, retryAfterSeconds: 0 });
    expect((await call('/ats/candidates')).headers.get('retry-after')).toBe('0');
    sandbox.setFaults({ rate429: 1 });
    expect((await call('/ats/candidates')).headers.get('retry-after')).toBe('1');
  });

  it('answers a mix of 500/502/503: Kombo error bodies and a plain load-balancer page', async () => {
    sandbox.setFaults({ rate5xx: 1, seed: 3 });
    const before = sandbox.stats.faults['5xx'];
    const answers = await Promise.all(Array.from({ length: 40 }, () => call('/ats/interviews')));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([500, 502, 503]));
    const codes = new Set(answers.map(errorCode));
    expect(codes).toContain('PLATFORM.UNKNOWN_ERROR');
    expect(codes).toContain('REMOTE.SERVICE_UNAVAILABLE');
    const plain = answers.find((a) => a.status === 503 && !a.headers.get('content-type')?.includes('json'));
    expect(plain?.headers.get('content-type')).toBe('text/plain');
    expect(() => JSON.parse(plain?.text ?? '') as unknown).toThrow();
    expect(sandbox.stats.faults['5xx']).toBe(before + 40);
  });

  it('resets the connection mid-body after a 200 and its headers', async () => {
    sandbox.setFaults({ rateReset: 1 });
    const before = sandbox.stats.faults.reset;
    const res = await fetch(`${sandbox.url}/ats/candidates?page_size=250`, {
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': BIG },
    });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1000);
    await expect(res.text()).rejects.toThrow();
    expect(sandbox.stats.faults.reset).toBe(before + 1);
  });

  it('replays the same faults for the same seed', async () => {
    const run = async (): Promise<number[]> => {
      sandbox.setFaults({ rate429: 0.3, rate5xx: 0.3, seed: 99 });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await call('/ats/candidates', { query: { page_size: '1' } })).status);
      return statuses;
    };
    const first = await run();
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(await run()).toEqual(first);
  });

  it('rejects invalid fault settings', () => {
    expect(() => sandbox.setFaults({ rate429: 2 })).toThrow(/rate429/);
  });

  it('serves odd records only when asked: an unknown outcome on the application and wherever it is nested', async () => {
    // Prepare: a sandbox of its own, since odd records are written into the data it serves
    const data = generateDataset({ seed: 11, integrations: [{ id: SMALL, tool: 'lever', candidates: 60 }] });
    const odd = await startSandbox({ dataset: data, faults: { oddRecords: ['unknown-enum'], modelNotAvailable: [{ integrationId: SMALL, model: 'interviews' }] } });
    try {
      const get = async (path: string): Promise<Rec> => {
        const res = await fetch(`${odd.url}${path}`, { headers: { authorization: `Bearer ${odd.apiKey}`, 'x-integration-id': SMALL } });
        return (await res.json()) as Rec;
      };
      // Act
      const apps = ((await get('/ats/applications?page_size=250&include_deleted=true')).data as { results: Rec[] }).results;
      const candidates = ((await get('/ats/candidates?page_size=250&include_deleted=true')).data as { results: Rec[] }).results;
      const info = (await get(`/integrations/${SMALL}`)).data as { read_models: Rec[] };
      // Assess
      const withdrawn = apps.filter((a) => a.outcome === 'WITHDRAWN');
      expect(withdrawn.length).toBeGreaterThan(0);
      expect(withdrawn.every((a) => a.rejection_reason_name === 'Candidate withdrew')).toBe(true);
      const nested = candidates.flatMap((c) => c.applications as Rec[]).filter((a) => a.outcome === 'WITHDRAWN');
      expect(nested.map((a) => a.id).sort()).toEqual(withdrawn.map((a) => a.id).sort());
      expect(info.read_models.find((m) => m.id === 'ats_interviews')?.coverage_status).toBe('NOT_SUPPORTED');
      expect(data.integrations[0]!.interviews.some((i) => (i.application as Rec).outcome === 'WITHDRAWN')).toBe(true);
    } finally {
      await odd.close();
    }
  });

  it('answers INTEGRATION.MODEL_NOT_AVAILABLE for a disabled stream only, and reports it in read_models', async () => {
    sandbox.setFaults({ modelNotAvailable: [{ integrationId: SMALL, model: 'interviews' }] });
    const off = await call('/ats/interviews', { integration: SMALL });
    expect([400, 404]).toContain(off.status);
    expect(errorCode(off)).toBe('INTEGRATION.MODEL_NOT_AVAILABLE');
    expect((await call('/ats/applications', { integration: SMALL })).status).toBe(200);
    expect((await call('/ats/interviews', { integration: BIG })).status).toBe(200);
    const info = await call(`/integrations/${SMALL}`, { integration: null });
    const models = (info.json.data as { read_models: Rec[] }).read_models;
    expect(models.find((m) => m.id === 'ats_interviews')?.is_available).toBe(false);
    expect(models.find((m) => m.id === 'ats_candidates')?.is_available).toBe(true);
  });

  it('answers INTEGRATION.MODEL_NOT_AVAILABLE for a model the tool does not offer, and for a funnel model switched off', async () => {
    // Prepare: a tool without offers, as the default Workable integration is
    const data = generateDataset({ seed: 5, integrations: [{ id: SMALL, tool: 'workable', candidates: 30, unavailableModels: ['offers'] }] });
    const other = await startSandbox({ dataset: data, faults: { modelNotAvailable: [{ integrationId: SMALL, model: 'rejection_reasons' }] } });
    try {
      const get = async (path: string): Promise<{ status: number; body: Rec }> => {
        const res = await fetch(`${other.url}${path}`, { headers: { authorization: `Bearer ${other.apiKey}`, 'x-integration-id': SMALL } });
        return { status: res.status, body: (await res.json()) as Rec };
      };
      // Act
      const offers = await get('/ats/offers');
      const reasons = await get('/ats/rejection-reasons');
      const jobs = await get('/ats/jobs');
      const info = (await get(`/integrations/${SMALL}`)).body.data as { read_models: Rec[] };
      // Assess
      expect([offers.status, (offers.body.error as Rec).code]).toEqual([404, 'INTEGRATION.MODEL_NOT_AVAILABLE']);
      expect((offers.body.error as Rec).message).toMatch(/"offers" model is not available for Workable/);
      expect([reasons.status, (reasons.body.error as Rec).code]).toEqual([404, 'INTEGRATION.MODEL_NOT_AVAILABLE']);
      expect(jobs.status).toBe(200);
      expect(info.read_models.filter((m) => m.is_available === false).map((m) => m.id).sort()).toEqual(['ats_offers', 'ats_rejection_reasons']);
    } finally {
      await other.close();
    }
  });

  it('answers INTEGRATION.AUTHENTICATION_INVALID for every request of a revoked integration', async () => {
    sandbox.setFaults({ revokedIntegrations: [SMALL] });
    for (const model of MODELS) {
      const a = await call(pathOf(model), { integration: SMALL });
      expect([401, 403]).toContain(a.status);
      expect(errorCode(a)).toBe('INTEGRATION.AUTHENTICATION_INVALID');
    }
    expect((await call('/ats/candidates', { integration: BIG })).status).toBe(200);
    const info = await call(`/integrations/${SMALL}`, { integration: null });
    expect((info.json.data as Rec).status).toBe('INVALID');
  });
});

describe('sandbox server: POST /ats/candidates', () => {
  const job = (): { id: string; stages: { id: string; name: string; index: number }[] } => {
    const j = big.jobs?.[0];
    if (!j) throw new Error('dataset has no jobs');
    return j;
  };

  it('creates a candidate with one application, visible in the next GET and in the dataset', async () => {
    // Prepare
    const startedAt = new Date(Date.now() - 1000).toISOString();
    const stage = job().stages[2] as { id: string; name: string; index: number };
    sandbox.setFaults({ rate429: 1 }); // faults never apply to writes
    // Act
    const created = await call('/ats/candidates', {
      method: 'POST',
      body: {
        candidate: {
          first_name: 'Frank',
          last_name: 'Doe ✓',
          email_address: 'frank.doe@example.com',
          company: 'Acme Inc.',
          title: 'Head of Integrations',
          phone_number: '+1-541-754-3010',
          location: { city: 'New York', country: 'US' },
          social_links: [{ url: 'https://www.linkedin.com/in/frank-doe-123456789/' }],
        },
        application: { job_id: job().id, stage_id: stage.id },
      },
    });
    sandbox.setFaults({});
    // Assess
    expect(created.status).toBe(200);
    expect(created.json.status).toBe('success');
    expect(created.json.warnings).toEqual([]);
    const candidate = created.json.data as Rec;
    expect(candidate.id).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(candidate).toMatchObject({
      first_name: 'Frank',
      last_name: 'Doe ✓',
      company: 'Acme Inc.',
      email_addresses: [{ email_address: 'frank.doe@example.com', type: null }],
      social_media: [{ link: 'https://www.linkedin.com/in/frank-doe-123456789/', type: 'LINKEDIN', username: null }],
      remote_deleted_at: null,
    });
    const summary = (candidate.applications as Rec[])[0] as Rec;
    expect(summary.current_stage).toEqual({ id: stage.id, remote_id: expect.any(String), name: stage.name, index: stage.index });

    expect(big.candidates).toContainEqual(candidate);
    const application = big.applications.find((a) => a.candidate_id === candidate.id);
    expect(application).toMatchObject({ id: summary.id, job_id: job().id, current_stage_id: stage.id, outcome: 'PENDING' });

    const fetched = await call('/ats/candidates', { query: { ids: candidate.id as string } });
    expect(results(fetched)).toEqual([candidate]);
    const changed = await listAll('candidates', { page_size: '250', updated_after: startedAt });
    expect(idsOf(changed.records)).toContain(candidate.id);
    const apps = await listAll('applications', { page_size: '250', updated_after: startedAt });
    expect(apps.records).toContainEqual(application);
    for (const includeDeleted of ['false', 'true']) {
      const everything = await listAll('candidates', { page_size: '250', include_deleted: includeDeleted });
      const expected = big.candidates.filter((c) => includeDeleted === 'true' || c.remote_deleted_at === null);
      expect(idsOf(everything.records)).toEqual(idsOf(expected).sort());
    }
  });

  it('stores screening answers typed as Kombo serves them, skips unknown questions with a warning, refuses a wrong format', async () => {
    // Prepare
    const questions = big.jobs![0]!.screening_questions!;
    const q = (type: string) => questions.find((x) => x.type === type)!;
    const post = (answers: unknown[]) =>
      call('/ats/candidates', {
        method: 'POST',
        body: { candidate: { first_name: 'Quinn', last_name: 'Asks', email_address: 'quinn@example.com' }, application: { job_id: job().id }, screening_question_answers: answers },
      });
    // Act
    const created = await post([
      { question_id: q('BOOLEAN').id, answer: true },
      { question_id: q('MULTI_SELECT').id, answer: q('MULTI_SELECT').options!.slice(0, 2) },
      { question_id: q('DATE').id, answer: '2025-09-01' },
      { question_id: 'NotAQuestionOfThisJob0001', answer: 'x' },
    ]);
    const wrong = await post([{ question_id: q('NUMBER').id, answer: 'seven' }]);
    // Assess
    expect(created.status).toBe(200);
    expect(created.json.warnings).toEqual([{ message: expect.stringContaining('NotAQuestionOfThisJob0001') }]);
    const app = big.applications.find((a) => a.candidate_id === (created.json.data as Rec).id)!;
    expect(app.screening_question_answers).toEqual([
      { question: { remote_id: q('BOOLEAN').remote_id, title: q('BOOLEAN').title, type: 'BOOLEAN' }, answer: { checked: true } },
      { question: { remote_id: q('MULTI_SELECT').remote_id, title: q('MULTI_SELECT').title, type: 'MULTI_SELECT' }, answer: { choices: q('MULTI_SELECT').options!.slice(0, 2) } },
      { question: { remote_id: q('DATE').remote_id, title: q('DATE').title, type: 'DATE' }, answer: { date: '2025-09-01T00:00:00.000Z' } },
    ]);
    expect(wrong.status).toBe(400);
    expect(errorCode(wrong)).toBe('PLATFORM.INPUT_INVALID');
    expect(String((wrong.json.error as Rec).message)).toMatch(/NUMBER.*expected a number/);
  });

  it('puts the application in the job’s first stage when no stage is given', async () => {
    const created = await call('/ats/candidates', {
      method: 'POST',
      body: { candidate: { first_name: 'Ana', last_name: 'Ruiz', email_address: 'ana@example.com' }, application: { job_id: job().id } },
    });
    expect(created.status).toBe(200);
    const summary = ((created.json.data as Rec).applications as Rec[])[0] as Rec;
    expect((summary.current_stage as Rec).index).toBe(0);
  });

  it('keeps paging consistent when a candidate is created between two pages', async () => {
    const first = await call('/ats/candidates', { query: { page_size: '250' } });
    await call('/ats/candidates', {
      method: 'POST',
      body: { candidate: { first_name: 'Mid', last_name: 'Page', email_address: 'mid@example.com' }, application: { job_id: job().id } },
    });
    const rest = await listAll('candidates', { page_size: '250', cursor: next(first) as string });
    const seen = [...idsOf(results(first)), ...idsOf(rest.records)];
    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each([
    ['a missing email', { candidate: { first_name: 'A', last_name: 'B' }, application: { job_id: 'x' } }],
    ['an unknown job', { candidate: { first_name: 'A', last_name: 'B', email_address: 'a@b.co' }, application: { job_id: 'nope' } }],
  ])('rejects %s with 400 PLATFORM.INPUT_INVALID', async (_label, body) => {
    const before = big.candidates.length;
    const a = await call('/ats/candidates', { method: 'POST', body });
    expect(a.status).toBe(400);
    expect(errorCode(a)).toBe('PLATFORM.INPUT_INVALID');
    expect(big.candidates.length).toBe(before);
  });
});

describe('sandbox server: GET /integrations/:id', () => {
  it('returns Kombo’s integration shape with the bearer key alone', async () => {
    const a = await call(`/integrations/${encodeURIComponent(BIG)}`, { integration: null });
    expect(a.status).toBe(200);
    expect(a.json.data).toMatchObject({
      id: BIG,
      tool: { id: 'greenhouse', label: 'Greenhouse' },
      category: 'ATS',
      status: 'ACTIVE',
      setup_status: 'COMPLETED',
      data_expired_at: null,
    });
    const data = a.json.data as Rec;
    expect(new Date(data.created_at as string).toISOString()).toBe(data.created_at);
    expect(data).toMatchObject({ scope_config: { id: expect.any(String), name: expect.any(String) }, beta: false });
    expect(data.read_models).toEqual(
      MODELS.map((model) => `ats_${model}`).map((id) => ({
        id,
        label: expect.any(String),
        is_available: true,
        coverage_status: 'SUPPORTED',
        scope_config_setting: 'ENABLED',
        opted_out_by_customer: false,
        fields: expect.arrayContaining([{ id: 'remote_id', is_available: true, coverage_status: 'SUPPORTED', scope_config_setting: 'ENABLED', opted_out_by_customer: false }]),
      })),
    );
    // Each model lists exactly the fields its records carry.
    const models = data.read_models as { id: string; fields: { id: string }[] }[];
    for (const model of MODELS) {
      expect(models.find((m) => m.id === `ats_${model}`)?.fields.map((f) => f.id).sort()).toEqual(Object.keys(modelRecords(big, model)[0]!).sort());
    }
    const write = (data.write_actions as { id: string; fields: Rec[] }[])[0]!;
    expect(write.id).toBe('ats_create_candidate');
    expect(write.fields).toContainEqual({ id: 'attachments', is_available: false, coverage_status: 'NOT_IMPLEMENTED' });
  });

  it('answers 404 PLATFORM.INTEGRATION_NOT_FOUND and 401 without a valid key', async () => {
    expect(errorCode(await call('/integrations/greenhouse:nope', { integration: null }))).toBe('PLATFORM.INTEGRATION_NOT_FOUND');
    expect((await call(`/integrations/${BIG}`, { integration: null, key: 'wrong' })).status).toBe(401);
  });

  it('counts requests per path', () => {
    expect(sandbox.stats.requests).toBeGreaterThan(50);
    expect(sandbox.stats.byPath['/v1/ats/candidates']).toBeGreaterThan(10);
    expect(sandbox.stats.byPath[`/v1/integrations/${BIG}`]).toBeGreaterThan(0);
  });
});

describe('sandbox server: POST /ats/candidates on the simulated clock', () => {
  it('stamps the new candidate and application with the simulated day its Date header says, not the real time', async () => {
    // Prepare
    const DAY = '2025-06-03';
    const timeline = createSandboxTimeline({ seed: 3, integrations: [{ id: 'greenhouse:SimulatedPost00000000000', tool: 'greenhouse', candidates: 20 }] });
    const simulated = await startSandbox({ port: 0, timeline, asOf: DAY });
    try {
      const integration = simulated.dataset.integrations[0]!;
      // Act
      const res = await fetch(`${simulated.url}/ats/candidates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${simulated.apiKey}`, 'x-integration-id': integration.id, 'content-type': 'application/json' },
        body: JSON.stringify({ candidate: { first_name: 'Sim', last_name: 'Day', email_address: 'sim@example.com' }, application: { job_id: integration.jobs![0]!.id } }),
      });
      // Assess
      expect(res.status).toBe(200);
      const candidate = ((await res.json()) as { data: Rec }).data;
      const stamp = new Date(asOfInstant(DAY)).toISOString();
      expect(new Date(res.headers.get('date')!).toISOString()).toBe(stamp.replace(/\.\d{3}Z$/, '.000Z'));
      const get = async (path: string): Promise<Rec[]> => {
        const r = await fetch(`${simulated.url}${path}`, { headers: { authorization: `Bearer ${simulated.apiKey}`, 'x-integration-id': integration.id } });
        return ((await r.json()) as { data: { results: Rec[] } }).data.results;
      };
      const [stored] = await get(`/ats/candidates?ids=${String(candidate.id)}`);
      expect({ remote_created_at: stored?.remote_created_at, changed_at: stored?.changed_at }).toEqual({ remote_created_at: stamp, changed_at: stamp });
      const [application] = (await get('/ats/applications?page_size=250&include_deleted=true')).filter((a) => a.candidate_id === candidate.id);
      expect({ remote_created_at: application?.remote_created_at, changed_at: application?.changed_at }).toEqual({ remote_created_at: stamp, changed_at: stamp });
    } finally {
      await simulated.close();
    }
  });
});
