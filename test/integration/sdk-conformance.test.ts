/**
 * The sandbox as Kombo's official TypeScript SDK sees it: every page of every model of every
 * sandbox integration, and `GET /integrations/{id}`, validated with the SDK's own inbound schemas
 * (generated from Kombo's OpenAPI). Static data, several days of the simulated clock, incremental
 * pages (`updated_after`), records written through `POST /ats/candidates` and the answers shaped by
 * fault switches all count. The target is 0 rejected: the default sandbox is Kombo as Kombo
 * documents it, and robustness cases live behind switches that other tests turn on.
 */
import type { ZodTypeAny } from 'zod/v3';
import {
  GetAtsApplicationStagesPositiveResponse$inboundSchema,
  GetAtsApplicationStagesPositiveResponseResult$inboundSchema,
  GetAtsJobsPositiveResponse$inboundSchema,
  GetAtsJobsPositiveResponseResult$inboundSchema,
  GetAtsOffersPositiveResponse$inboundSchema,
  GetAtsOffersPositiveResponseResult$inboundSchema,
  GetAtsRejectionReasonsPositiveResponse$inboundSchema,
  GetAtsRejectionReasonsPositiveResponseResult$inboundSchema,
  GetAtsTagsPositiveResponse$inboundSchema,
  GetAtsTagsPositiveResponseResult$inboundSchema,
  GetAtsUsersPositiveResponse$inboundSchema,
  GetAtsUsersPositiveResponseResult$inboundSchema,
  GetAtsApplicationsPositiveResponse$inboundSchema,
  GetAtsApplicationsPositiveResponseResult$inboundSchema,
  GetAtsCandidatesPositiveResponse$inboundSchema,
  GetAtsCandidatesPositiveResponseResult$inboundSchema,
  GetAtsInterviewsPositiveResponse$inboundSchema,
  GetAtsInterviewsPositiveResponseResult$inboundSchema,
  GetIntegrationsIntegrationIdPositiveResponse$inboundSchema,
} from '@kombo-api/sdk/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxModel } from '../../sandbox/index.ts';
import { SANDBOX_DEMO_FIRST_DAY, SANDBOX_MODELS, SANDBOX_TIMELINE_START, createSandboxTimeline, startSandbox } from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

/** The SDK's schema of a whole page (what its client parses) and of one record of it. */
const SCHEMAS: Record<SandboxModel, { page: ZodTypeAny; record: ZodTypeAny }> = {
  candidates: { page: GetAtsCandidatesPositiveResponse$inboundSchema, record: GetAtsCandidatesPositiveResponseResult$inboundSchema },
  applications: { page: GetAtsApplicationsPositiveResponse$inboundSchema, record: GetAtsApplicationsPositiveResponseResult$inboundSchema },
  interviews: { page: GetAtsInterviewsPositiveResponse$inboundSchema, record: GetAtsInterviewsPositiveResponseResult$inboundSchema },
  jobs: { page: GetAtsJobsPositiveResponse$inboundSchema, record: GetAtsJobsPositiveResponseResult$inboundSchema },
  offers: { page: GetAtsOffersPositiveResponse$inboundSchema, record: GetAtsOffersPositiveResponseResult$inboundSchema },
  users: { page: GetAtsUsersPositiveResponse$inboundSchema, record: GetAtsUsersPositiveResponseResult$inboundSchema },
  rejection_reasons: { page: GetAtsRejectionReasonsPositiveResponse$inboundSchema, record: GetAtsRejectionReasonsPositiveResponseResult$inboundSchema },
  application_stages: { page: GetAtsApplicationStagesPositiveResponse$inboundSchema, record: GetAtsApplicationStagesPositiveResponseResult$inboundSchema },
  tags: { page: GetAtsTagsPositiveResponse$inboundSchema, record: GetAtsTagsPositiveResponseResult$inboundSchema },
};

/** Every rejection, and what was checked, across the file. */
class Conformance {
  pages = 0;
  records = 0;
  integrations = 0;
  readonly rejectedPages: string[] = [];
  /** `model path: message` → record ids, e.g. `applications outcome: Invalid enum value` → [...]. */
  readonly rejectedRecords = new Map<string, string[]>();

  checkPage(variant: string, integrationId: string, model: SandboxModel, body: unknown): void {
    this.pages++;
    if (!SCHEMAS[model].page.safeParse(body).success) this.rejectedPages.push(`${variant} ${integrationId} ${model}`);
    for (const record of ((body as { data?: { results?: Rec[] } }).data?.results ?? [])) {
      this.records++;
      const result = SCHEMAS[model].record.safeParse(record);
      if (!result.success) for (const issue of result.error.issues) this.reject(`${model} ${shape(issue.path)}: ${issue.message}`, `${variant} ${String(record.id)}`);
    }
  }

  checkIntegration(variant: string, body: unknown): void {
    this.integrations++;
    const result = GetIntegrationsIntegrationIdPositiveResponse$inboundSchema.safeParse(body);
    if (!result.success) for (const issue of result.error.issues) this.reject(`integration ${shape(issue.path)}: ${issue.message}`, variant);
  }

  /** Rejected records (or integration answers) per distinct problem, for a readable failure. */
  summary(): string[] {
    return [...this.rejectedRecords].map(([problem, where]) => `${problem} (${where.length}×, e.g. ${where.slice(0, 2).join(', ')})`);
  }

  get rejectedCount(): number {
    return new Set([...this.rejectedRecords.values()].flat()).size;
  }

  private reject(problem: string, where: string): void {
    const list = this.rejectedRecords.get(problem) ?? [];
    list.push(where);
    this.rejectedRecords.set(problem, list);
  }
}

/** An issue path without array indexes, so one problem on 900 records reads as one line. */
const shape = (path: readonly (string | number)[]): string => path.map((p) => (typeof p === 'number' ? '[]' : p)).join('.').replace(/\.\[\]/g, '[]') || '(record)';

/** Totals over the file, for the closing line. */
const totals = { records: 0, pages: 0, integrations: 0, rejected: 0, rejectedPages: 0 };
let sandbox: RunningSandbox;

async function get(path: string, query: Record<string, string> = {}, integrationId?: string): Promise<Rec> {
  const url = new URL(`${sandbox.url}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${sandbox.apiKey}` };
  if (integrationId !== undefined) headers['x-integration-id'] = integrationId;
  const res = await fetch(url, { headers });
  const body = (await res.json()) as Rec;
  if (res.status !== 200) throw new Error(`${url.pathname}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Records seen per model across a {@link pageEverything} call. */
type ModelCounts = Partial<Record<SandboxModel, number>>;

/**
 * Pages every model of every integration with `query`, deleted records included; returns the
 * records seen. A model the integration's tool does not offer must answer its 404 instead.
 */
async function pageEverything(seen: Conformance, variant: string, query: Record<string, string> = {}, counts: ModelCounts = {}): Promise<number> {
  let records = 0;
  for (const integration of sandbox.dataset.integrations) {
    for (const model of SANDBOX_MODELS) {
      const path = `/ats/${model.replaceAll('_', '-')}`;
      if (integration.unavailableModels?.includes(model)) {
        await expectNotAvailable(path, integration.id);
        continue;
      }
      let cursor: string | null = null;
      do {
        const body = await get(path, { page_size: '250', include_deleted: 'true', ...query, ...(cursor === null ? {} : { cursor }) }, integration.id);
        seen.checkPage(variant, integration.id, model, body);
        const data = body.data as { next: string | null; results: unknown[] };
        records += data.results.length;
        counts[model] = (counts[model] ?? 0) + data.results.length;
        cursor = data.next;
      } while (cursor !== null);
    }
  }
  return records;
}

async function expectNotAvailable(path: string, integrationId: string): Promise<void> {
  const res = await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': integrationId } });
  const body = (await res.json()) as { error?: { code?: string } };
  expect([res.status, body.error?.code]).toEqual([404, 'INTEGRATION.MODEL_NOT_AVAILABLE']);
}

async function checkIntegrations(seen: Conformance, variant: string): Promise<void> {
  for (const integration of sandbox.dataset.integrations) seen.checkIntegration(`${variant} ${integration.id}`, await get(`/integrations/${encodeURIComponent(integration.id)}`));
}

/** Asserts nothing was rejected, naming each problem with the records it hit otherwise. */
function expectAccepted(seen: Conformance): void {
  totals.records += seen.records;
  totals.pages += seen.pages;
  totals.integrations += seen.integrations;
  totals.rejected += seen.rejectedCount;
  totals.rejectedPages += seen.rejectedPages.length;
  expect(seen.summary(), `${seen.rejectedCount} of ${seen.records + seen.integrations} answers rejected`).toEqual([]);
  expect(seen.rejectedPages, `${seen.rejectedPages.length} of ${seen.pages} pages rejected`).toEqual([]);
}

afterAll(() => {
  console.log(
    `SDK conformance: ${totals.records} records on ${totals.pages} pages and ${totals.integrations} integration answers checked; ${totals.rejected} answers and ${totals.rejectedPages} pages rejected`,
  );
});

describe('the static sandbox, as the Kombo SDK validates it', () => {
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('accepts every record of every model and integration, and every GET /integrations/{id}', async () => {
    // Act
    const seen = new Conformance();
    const counts: ModelCounts = {};
    const records = await pageEverything(seen, 'static', {}, counts);
    await checkIntegrations(seen, 'static');
    // Assess
    expect(records).toBeGreaterThan(5_000);
    for (const model of SANDBOX_MODELS) expect(counts[model], model).toBeGreaterThan(0);
    expectAccepted(seen);
  });

  it('accepts incremental pages (updated_after)', async () => {
    const seen = new Conformance();
    const records = await pageEverything(seen, 'static updated_after', { updated_after: '2025-05-01T00:00:00.000Z' });
    expect(records).toBeGreaterThan(100);
    expectAccepted(seen);
  });

  it('accepts records created through POST /ats/candidates, an answer to every question of the job included', async () => {
    // Prepare: a job of the first integration, and an answer to each of its screening questions
    const integration = sandbox.dataset.integrations[0]!;
    const job = integration.jobs![0]!;
    const questions = job.screening_questions ?? [];
    const ANSWERS: Record<string, (options: string[]) => unknown> = {
      TEXT: () => 'Because of the product.',
      SINGLE_SELECT: (options) => options[0],
      MULTI_SELECT: (options) => options.slice(0, 2),
      BOOLEAN: () => false,
      NUMBER: () => 7,
      DATE: () => '2025-09-01',
      UNKNOWN: () => ({ file_name: 'portfolio.pdf' }),
    };
    expect(new Set(questions.map((q) => q.type))).toEqual(new Set(Object.keys(ANSWERS)));
    const res = await fetch(`${sandbox.url}/ats/candidates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': integration.id, 'content-type': 'application/json' },
      body: JSON.stringify({
        candidate: { first_name: 'Ada', last_name: 'Lovelace', email_address: 'ada@example.com' },
        application: { job_id: job.id },
        screening_question_answers: questions.map((q) => ({ question_id: q.id, answer: ANSWERS[q.type]!(q.options ?? []) })),
      }),
    });
    expect(res.status).toBe(200);
    const candidateId = ((await res.json()) as { data: { id: string } }).data.id;
    // Act: what changed since the static data's as-of date is what was just written
    const seen = new Conformance();
    const records = await pageEverything(seen, 'after POST', { updated_after: '2025-06-02T00:00:00.000Z' });
    // Assess
    expectAccepted(seen);
    expect(records).toBe(2);
    const created = integration.applications.find((a) => a.candidate_id === candidateId);
    expect((created?.screening_question_answers as unknown[]).length).toBe(questions.length);
  });

  it('accepts GET /integrations/{id} for a model switched off and for a revoked integration', async () => {
    const [first, second] = sandbox.dataset.integrations;
    sandbox.setFaults({ modelNotAvailable: [{ integrationId: first!.id, model: 'interviews' }], revokedIntegrations: [second!.id] });
    const seen = new Conformance();
    let info: { read_models: Rec[]; status: string };
    try {
      await checkIntegrations(seen, 'faults');
      info = (await get(`/integrations/${encodeURIComponent(first!.id)}`)).data as typeof info;
    } finally {
      sandbox.setFaults({});
    }
    expectAccepted(seen);
    expect(info.read_models.find((m) => m.id === 'ats_interviews')).toMatchObject({ is_available: false, coverage_status: 'UNSUPPORTED' });
  });
});

describe('the simulated clock, as the Kombo SDK validates it', () => {
  const timeline = createSandboxTimeline();
  /** The first day, a day among the arrivals, the demo's first and last days, and the last day of arrivals. */
  const DAYS = [SANDBOX_TIMELINE_START, '2025-04-15', SANDBOX_DEMO_FIRST_DAY, '2025-06-14', '2025-08-27'];

  beforeAll(async () => {
    sandbox = await startSandbox({ timeline, asOf: SANDBOX_TIMELINE_START });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it.each(DAYS)('accepts every record as of %s, and the pages since the day before', async (day) => {
    // Prepare
    sandbox.setAsOf(day);
    const dayBefore = new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString();
    // Act
    const seen = new Conformance();
    const counts: ModelCounts = {};
    const all = await pageEverything(seen, `as of ${day}`, {}, counts);
    const since = await pageEverything(seen, `as of ${day} updated_after`, { updated_after: dayBefore });
    await checkIntegrations(seen, `as of ${day}`);
    // Assess
    expectAccepted(seen);
    // Every model has records on every day, but interviews and offers, which need a few days to come.
    const waiting = day === SANDBOX_TIMELINE_START ? ['interviews', 'offers'] : [];
    for (const model of SANDBOX_MODELS.filter((m) => !waiting.includes(m))) expect(counts[model], model).toBeGreaterThan(0);
    expect(all).toBeGreaterThan(0);
    expect(since).toBeGreaterThan(0);
    expect(since).toBeLessThanOrEqual(all);
  });
});
