import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SandboxIntegrationData, SandboxOfferStatus } from '../../sandbox/index.ts';
import {
  DEFAULT_SANDBOX_INTEGRATIONS,
  SANDBOX_TIMELINE_START,
  asOfInstant,
  createSandboxTimeline,
  generateDataset,
  sandboxJobStatusAt,
} from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

const timeline = createSandboxTimeline();
const [BIG, , SMALL] = timeline.integrationIds as [string, string, string, string];
/** The first day, one among the arrivals, the demo's last day, and weeks after the last arrival (jobs closed). */
const DAYS = [SANDBOX_TIMELINE_START, '2025-04-15', '2025-06-14', '2025-10-31'];

const ids = (records: readonly Rec[]): string[] => records.map((r) => String(r.id)).sort();
const funnel = (data: SandboxIntegrationData): NonNullable<SandboxIntegrationData['funnel']> => {
  if (!data.funnel) throw new Error(`no funnel records for ${data.id}`);
  return data.funnel;
};

/** What the funnel's records must agree on with the candidates, applications and interviews served beside them. */
function expectConsistent(data: SandboxIntegrationData): void {
  const f = funnel(data);
  const jobs = new Map(f.jobs.map((j) => [String(j.id), j]));
  // Job stages are the stages applications sit in.
  for (const app of data.applications) {
    const job = jobs.get(String(app.job_id));
    expect(job, `job of application ${String(app.id)}`).toBeDefined();
    const stage = app.current_stage as Rec | null;
    if (stage !== null) expect((job?.stages as Rec[]).map((s) => s.id)).toContain(stage.id);
  }
  // Offers are the offers applications nest, with the same statuses.
  const nested = data.applications.flatMap((a) => (a.offers as Rec[]).map((o) => `${String(o.id)} ${String(o.status)} ${String(a.id)}`)).sort();
  expect(f.offers.map((o) => `${String(o.id)} ${String(o.status)} ${String(o.application_id)}`).sort()).toEqual(nested);
  // Users are the interviewers and the hiring teams.
  const users = new Set(ids(f.users));
  for (const iv of data.interviews) for (const u of iv.users as Rec[]) expect(users.has(String(u.id)), `interviewer ${String(u.id)}`).toBe(true);
  for (const job of f.jobs) for (const m of job.hiring_team as Rec[]) expect(users.has(String(m.id)), `hiring team member ${String(m.id)}`).toBe(true);
  // Reasons, tags and stages cover what records use.
  const reasons = new Set(f.rejection_reasons.map((r) => r.name));
  for (const app of data.applications) if (app.rejection_reason_name !== null) expect(reasons.has(app.rejection_reason_name)).toBe(true);
  const tags = new Set(ids(f.tags));
  for (const c of data.candidates) for (const t of c.tags as Rec[]) expect(tags.has(String(t.id))).toBe(true);
  expect(ids(f.application_stages)).toEqual(f.jobs.flatMap((j) => (j.stages as Rec[]).map((s) => String(s.id))).sort());
}

describe('sandbox funnel: the static dataset', () => {
  const dataset = generateDataset();

  it.each(dataset.integrations.map((d) => [d.id, d] as const))('%s: jobs, offers, users, reasons, stages and tags agree with the records', (_, data) => {
    expectConsistent(data);
  });

  it('lists rejection reasons and tags nobody uses, as an ATS does', () => {
    const data = dataset.integrations[0] as SandboxIntegrationData;
    const used = new Set(data.applications.map((a) => a.rejection_reason_name));
    expect(funnel(data).rejection_reasons.some((r) => !used.has(r.name))).toBe(true);
    const usedTags = new Set(data.candidates.flatMap((c) => (c.tags as Rec[]).map((t) => t.id)));
    expect(funnel(data).tags.some((t) => !usedTags.has(t.id))).toBe(true);
  });

  it('marks the integration whose tool does not offer offers', () => {
    expect(DEFAULT_SANDBOX_INTEGRATIONS.filter((s) => s.unavailableModels?.includes('offers'))).toHaveLength(1);
    expect(dataset.integrations.find((d) => d.id === SMALL)?.unavailableModels).toEqual(['offers']);
  });

  it('keeps a seed’s candidates, applications and interviews as they were before the funnel existed', () => {
    // Fingerprints of the records the first release generated for seed 42: the funnel draws from streams of its own.
    // (As of a day, interviews' remote_updated_at also moves when their application closes.)
    const fingerprint = (d: { integrations: SandboxIntegrationData[] }): string =>
      createHash('sha256')
        .update(JSON.stringify(d.integrations.map((i) => [i.candidates, i.applications, i.interviews])))
        .digest('hex')
        .slice(0, 16);
    expect(fingerprint(dataset)).toBe('33b427d980256b41');
    expect(fingerprint(timeline.datasetAsOf('2025-06-14'))).toBe('c7183b3ef7be2d64');
  });
});

describe('sandbox funnel: the simulated clock', () => {
  it.each(DAYS)('agrees with the records as of %s', (day) => {
    for (const data of timeline.datasetAsOf(day).integrations) expectConsistent(data);
  });

  it.each(DAYS)('serves each job as its history says on %s', (day) => {
    for (const id of timeline.integrationIds) {
      const served = new Map(funnel(timeline.datasetAsOf(day).integrations.find((d) => d.id === id)!).jobs.map((j) => [j.id, j]));
      for (const job of timeline.jobHistories(id)) {
        const record = served.get(job.id);
        if (Date.parse(job.createdAt) > asOfInstant(day)) {
          expect(record).toBeUndefined();
          continue;
        }
        const status = sandboxJobStatusAt(job, day);
        expect(record).toMatchObject({
          status,
          opened_at: status === 'DRAFT' ? null : job.openedAt,
          closed_at: status === 'CLOSED' ? job.closedAt : null,
          stages: job.stages,
        });
      }
    }
  });

  it('opens every job before its first application', () => {
    for (const id of timeline.integrationIds) {
      for (const job of timeline.jobHistories(id).filter((j) => j.firstApplicationAt !== null)) {
        expect(job.openedAt !== null && job.openedAt < (job.firstApplicationAt as string), job.name).toBe(true);
      }
    }
  });

  it.each(DEFAULT_SANDBOX_INTEGRATIONS.map((s) => s.id))('%s has a job closed without a hire and an open job with stages nobody reached', (id) => {
    const jobs = timeline.jobHistories(id);
    const closedWithoutHire = jobs.filter((j) => j.closedAt !== null && (j.firstHireAt === null || j.firstHireAt > j.closedAt));
    expect(closedWithoutHire.length).toBeGreaterThan(0);
    const reached = new Set(timeline.stageEvents(id).map((s) => s.stageId));
    const open = jobs.filter((j) => j.openedAt !== null && j.closedAt === null && j.openedAt < '2025-06-01');
    expect(open.some((j) => j.stages.some((s) => !reached.has(s.id)))).toBe(true);
  });

  it('closes some jobs with applications after their last application arrived', () => {
    const apps = timeline.applications(BIG);
    const closed = timeline.jobHistories(BIG).filter((j) => j.kind === 'applied' && j.closedAt !== null);
    expect(closed.length).toBeGreaterThan(0);
    for (const job of closed) for (const a of apps.filter((x) => x.jobId === job.id)) expect(a.createdAt < (job.closedAt as string)).toBe(true);
  });

  it('moves offers through Kombo’s statuses, one step at a time, and serves the status of the day', () => {
    const NEXT: Record<SandboxOfferStatus, SandboxOfferStatus[]> = {
      DRAFT: ['APPROVED', 'SENT', 'ABANDONED'],
      APPROVED: ['SENT', 'ABANDONED'],
      SENT: ['ACCEPTED', 'DECLINED', 'ABANDONED'],
      ACCEPTED: [],
      DECLINED: [],
      ABANDONED: [],
    };
    const offers = timeline.offers(BIG);
    for (const o of offers) {
      expect(o.statuses[0]?.status).toBe('DRAFT');
      o.statuses.slice(1).forEach((s, k) => {
        const before = o.statuses[k]!;
        expect(NEXT[before.status]).toContain(s.status);
        expect(s.at > before.at).toBe(true);
      });
    }
    const finals = new Set(offers.map((o) => o.statuses.at(-1)?.status));
    for (const s of ['ACCEPTED', 'DECLINED', 'ABANDONED', 'SENT']) expect(finals).toContain(s);
    const day = '2025-06-14';
    const served = new Map(funnel(timeline.datasetAsOf(day).integrations[0]!).offers.map((o) => [o.id, o]));
    for (const o of offers) {
      const now = o.statuses.filter((s) => Date.parse(s.at) <= asOfInstant(day)).at(-1);
      expect(served.get(o.id)?.status).toBe(now?.status);
    }
  });

  it('has users join and leave over time, and serves them as they stand', () => {
    const users = timeline.users(BIG);
    const start = `${SANDBOX_TIMELINE_START}T00:00:00.000Z`;
    expect(users.some((u) => u.createdAt > start)).toBe(true);
    expect(users.some((u) => u.deactivatedAt !== null && u.deactivatedAt > start)).toBe(true);
    expect(users.some((u) => u.deactivatedAt !== null && u.deactivatedAt < start)).toBe(true);
    for (const day of DAYS) {
      const served = new Map(funnel(timeline.datasetAsOf(day).integrations[0]!).users.map((u) => [u.id, u]));
      for (const u of users) {
        const at = asOfInstant(day);
        if (Date.parse(u.createdAt) > at) expect(served.has(u.id)).toBe(false);
        else expect(served.get(u.id)?.status).toBe(u.deactivatedAt !== null && Date.parse(u.deactivatedAt) <= at ? 'INACTIVE' : 'ACTIVE');
      }
    }
  });

  it('names the same reasons, stages and tags in its ground truth as it serves', () => {
    const data = timeline.datasetAsOf('2025-10-31').integrations[0]!;
    expect(timeline.rejectionReasons(BIG).map((r) => r.id).sort()).toEqual(ids(funnel(data).rejection_reasons));
    expect(timeline.applicationStages(BIG).map((r) => r.id).sort()).toEqual(ids(funnel(data).application_stages));
    expect(timeline.tags(BIG).map((r) => r.id).sort()).toEqual(ids(funnel(data).tags));
  });

  it('is deterministic for a seed', () => {
    const again = createSandboxTimeline();
    expect(JSON.stringify(again.datasetAsOf('2025-06-14').integrations.map((d) => d.funnel))).toBe(
      JSON.stringify(timeline.datasetAsOf('2025-06-14').integrations.map((d) => d.funnel)),
    );
    expect(JSON.stringify(again.jobHistories(BIG))).toBe(JSON.stringify(timeline.jobHistories(BIG)));
  });
});
