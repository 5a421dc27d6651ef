/**
 * The views built on jobs, offers and users (`hiring_funnel` with the jobs' own stage lists,
 * `time_to_fill`, `offer_acceptance`, `rejection_breakdown`, the users in `interviewer_load`) on
 * DuckDB, over ten simulated days synced by the real pipeline. One integration does not offer the
 * `offers` model. Expected figures come from the sandbox's ground truth (`expected.ts`), never from
 * the views' SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxIntegrationSpec, SandboxTimeline } from '../../sandbox/index.ts';
import { consecutiveDays, createSandboxTimeline } from '../../sandbox/index.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { buildHistoryWarehouse, objects } from '../helpers/history.ts';
import {
  expectedInterviewer,
  expectedJobFunnel,
  expectedOfferAcceptance,
  expectedRejections,
  expectedTimeToFill,
  latestInterviews,
  latestOffers,
  offerStatusOn,
} from './expected.ts';

const WITH_OFFERS = [
  { id: 'greenhouse:JobsTestAAAAbbbbCCCCdddd', tool: 'greenhouse', candidates: 400 },
  { id: 'lever:JobsTestEEEEffffGGGGhhhh', tool: 'lever', candidates: 60 },
] as const satisfies readonly SandboxIntegrationSpec[];
const WITHOUT_OFFERS = { id: 'workable:JobsTestIIIIjjjjKKKKllll', tool: 'workable', candidates: 40, unavailableModels: ['offers'] } as const satisfies SandboxIntegrationSpec;
const SPECS: readonly SandboxIntegrationSpec[] = [...WITH_OFFERS, WITHOUT_OFFERS];
const SEED = 7;
/**
 * Ten days in May: the canceled jobs have closed, the late jobs open, a job gets its first hire
 * and offers are sent, accepted and declined.
 */
const DATES = consecutiveDays('2025-05-09', 10);
const FIRST = DATES[0] as string;
const LAST = DATES[DATES.length - 1] as string;

const day = (iso: string): string => iso.slice(0, 10);
const inWindow = (iso: string | null): boolean => iso !== null && day(iso) > FIRST && day(iso) <= LAST;
const sortBy = <T,>(rows: T[], key: (r: T) => string): T[] => rows.sort((a, b) => key(a).localeCompare(key(b)));

let timeline: SandboxTimeline;
let db: WarehouseDb;

beforeAll(async () => {
  timeline = createSandboxTimeline({ seed: SEED, integrations: SPECS });
  const wh = await buildHistoryWarehouse({ integrations: SPECS, seed: SEED, dates: DATES, timeline });
  db = await openWarehouse(wh.dir);
}, 180_000);

afterAll(() => db?.close());

describe('hiring_funnel with the jobs’ stage lists', () => {
  const SQL = `SELECT integration_id, job_id, job_name, job_status, department, location, stage_id, stage_index, listed_in_job,
    reached, currently_in, conversion_to_next, hired, median_days_in_stage FROM hiring_funnel`;
  const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.stage_index).padStart(2, '0')}|${String(r.stage_id)}`;

  it('holds every stage of every job, in the job’s order, with its status, department and location', async () => {
    // Prepare
    const expected = SPECS.flatMap((s) => expectedJobFunnel(timeline, s.id, DATES));
    // Act
    const actual = await objects(db, SQL);
    // Assess
    expect(actual.length).toBe(expected.length);
    const a = sortBy(actual, key);
    sortBy(expected, key).forEach((e, k) => {
      const row = a[k] as Record<string, unknown>;
      expect({ ...row, conversion_to_next: null }, key(e)).toEqual({ ...e, conversion_to_next: null });
      if (e.conversion_to_next === null) expect(row.conversion_to_next).toBeNull();
      else expect(row.conversion_to_next).toBeCloseTo(e.conversion_to_next, 12);
    });
    expect(new Set(expected.map((e) => e.job_status))).toEqual(new Set(['OPEN', 'CLOSED', 'DRAFT']));
    expect(expected.some((e) => e.department !== null && e.location !== null)).toBe(true);
  });

  it('lists the stages nobody reached, with reached 0, down to a job nobody applied to', async () => {
    const empty = SPECS.flatMap((s) => timeline.jobHistories(s.id)).filter((j) => j.kind !== 'applied' && j.createdAt <= `${LAST}T23:59:59.999Z`);
    expect(empty.length).toBeGreaterThan(0);
    for (const job of empty) {
      const rows = await objects(db, `SELECT stage_id, stage_index, reached, listed_in_job FROM hiring_funnel WHERE job_id = '${job.id}' ORDER BY stage_index`);
      expect(rows, job.name).toEqual(job.stages.map((s) => ({ stage_id: s.id, stage_index: s.index, reached: 0, listed_in_job: true })));
    }
    // And a stage of a job with applicants that nobody has reached yet.
    const unreached = await objects(db, 'SELECT count(*) AS n FROM hiring_funnel WHERE reached = 0 AND job_id IN (SELECT job_id FROM hiring_funnel WHERE reached > 0)');
    expect(unreached[0]?.n).toBeGreaterThan(0);
  });
});

describe('time_to_fill', () => {
  const SQL = `SELECT integration_id, job_id, job_status, department, CAST(opened_on AS VARCHAR) AS opened_on, CAST(closed_on AS VARCHAR) AS closed_on,
    CAST(first_hire_on AS VARCHAR) AS first_hire_on, days_to_fill, CAST(first_offer_accepted_on AS VARCHAR) AS first_offer_accepted_on,
    days_to_accepted_offer, days_open, hires FROM time_to_fill`;
  const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}`;

  it('matches the ground truth for every job', async () => {
    const expected = [
      ...WITH_OFFERS.flatMap((s) => expectedTimeToFill(timeline, s.id, DATES, true)),
      ...expectedTimeToFill(timeline, WITHOUT_OFFERS.id, DATES, false),
    ];
    const actual = await objects(db, SQL);
    expect(sortBy(actual, key)).toEqual(sortBy(expected, key));
    // Not vacuous: jobs filled inside the window, by a hire and by an accepted offer, and jobs still open.
    expect(expected.some((e) => e.days_to_fill !== null && e.days_to_accepted_offer !== null)).toBe(true);
    expect(expected.some((e) => e.job_status === 'OPEN' && e.closed_on === null && e.days_open !== null)).toBe(true);
  });

  it('dates the first hire and the first accepted offer as the sandbox made them', async () => {
    const filled = WITH_OFFERS.flatMap((s) => timeline.jobHistories(s.id)).filter((j) => inWindow(j.firstHireAt) && inWindow(j.firstAcceptedOfferAt));
    expect(filled.length).toBeGreaterThan(0);
    for (const job of filled) {
      const [row] = await objects(db, `${SQL} WHERE job_id = '${job.id}'`);
      expect(row, job.name).toMatchObject({ first_hire_on: day(job.firstHireAt as string), first_offer_accepted_on: day(job.firstAcceptedOfferAt as string) });
    }
  });

  it('shows a job closed without a hire as closed, with no fill date and its days open', async () => {
    const canceled = SPECS.flatMap((s) => timeline.jobHistories(s.id)).filter((j) => j.closedAt !== null && j.firstHireAt === null && day(j.closedAt) <= LAST);
    expect(canceled.length).toBeGreaterThan(0);
    for (const job of canceled) {
      const [row] = await objects(db, `${SQL} WHERE job_id = '${job.id}'`);
      expect(row, job.name).toMatchObject({
        job_status: 'CLOSED',
        closed_on: day(job.closedAt as string),
        first_hire_on: null,
        days_to_fill: null,
        hires: 0,
        days_open: Math.round((Date.parse(day(job.closedAt as string)) - Date.parse(day(job.openedAt as string))) / 86_400_000),
      });
    }
  });

  it('counts an open job’s days up to the latest snapshot', async () => {
    const rows = await objects(db, `SELECT days_open, date_diff('day', opened_on, DATE '${LAST}') AS so_far FROM time_to_fill WHERE job_status = 'OPEN'`);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.days_open).toBe(r.so_far);
  });
});

describe('offer_acceptance', () => {
  const SQL = `SELECT integration_id, job_id, CAST(sent_month AS VARCHAR) AS sent_month, sent, accepted, declined, abandoned, pending,
    acceptance_rate, median_days_to_decision FROM offer_acceptance`;
  const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.sent_month)}`;

  it('counts the offers sent per job and month and what became of them', async () => {
    const expected = WITH_OFFERS.flatMap((s) => expectedOfferAcceptance(timeline, s.id, DATES));
    const actual = await objects(db, SQL);
    expect(actual.length).toBe(expected.length);
    const a = sortBy(actual, key);
    sortBy(expected, key).forEach((e, k) => {
      const row = a[k] as Record<string, unknown>;
      expect({ ...row, acceptance_rate: null }, key(e)).toEqual({ ...e, acceptance_rate: null });
      if (e.acceptance_rate === null) expect(row.acceptance_rate).toBeNull();
      else expect(row.acceptance_rate).toBeCloseTo(e.acceptance_rate, 12);
    });
    expect(expected.some((e) => e.accepted > 0 && e.median_days_to_decision !== null)).toBe(true);
  });

  it('counts an offer the candidate declined inside the window as declined, in the month it was sent', async () => {
    const declined = WITH_OFFERS.flatMap((s) => latestOffers(timeline, s.id, DATES).map((o) => ({ o, integrationId: s.id }))).filter(
      ({ o }) => offerStatusOn(o, LAST) === 'DECLINED' && inWindow(o.statuses.find((s) => s.status === 'SENT')?.at ?? null),
    );
    expect(declined.length).toBeGreaterThan(0);
    for (const { o, integrationId } of declined) {
      const sentOn = DATES.find((d) => offerStatusOn(o, d) === 'SENT' || offerStatusOn(o, d) === 'DECLINED') as string;
      const [row] = await objects(db, `${SQL} WHERE integration_id = '${integrationId}' AND job_id = '${o.jobId}' AND sent_month = DATE '${sentOn.slice(0, 7)}-01'`);
      expect(row?.declined as number, o.id).toBeGreaterThan(0);
    }
  });

  it('has nothing from the integration that does not offer the offers model', async () => {
    const rows = await objects(db, `SELECT count(*) AS n FROM offer_acceptance WHERE integration_id = '${WITHOUT_OFFERS.id}'`);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('rejection_breakdown', () => {
  const SQL = 'SELECT integration_id, job_id, rejection_reason, stage_id, stage_index, declined, share_of_job FROM rejection_breakdown';
  const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.rejection_reason)}|${String(r.stage_id)}`;

  it('counts declined applications per job, reason and the stage they were declined in', async () => {
    const expected = SPECS.flatMap((s) => expectedRejections(timeline, s.id, DATES));
    const actual = await objects(db, SQL);
    expect(actual.length).toBe(expected.length);
    const a = sortBy(actual, key);
    sortBy(expected, key).forEach((e, k) => {
      const row = a[k] as Record<string, unknown>;
      expect({ ...row, share_of_job: 0 }, key(e)).toEqual({ ...e, share_of_job: 0 });
      expect(row.share_of_job).toBeCloseTo(e.share_of_job, 12);
    });
    expect(new Set(expected.map((e) => e.rejection_reason)).size).toBeGreaterThan(3);
  });

  it('puts an application declined in a late stage inside the window in that stage', async () => {
    const late = SPECS.flatMap((s) => timeline.applications(s.id)).filter((a) => {
      const job = timeline.jobs(a.integrationId).find((j) => j.id === a.jobId);
      return a.outcome === 'DECLINED' && inWindow(a.closedAt) && a.deletedAt === null && job !== undefined && (a.closedStage?.index ?? 0) >= job.stages.length - 3;
    });
    expect(late.length).toBeGreaterThan(0);
    for (const app of late) {
      const [row] = await objects(
        db,
        `${SQL} WHERE job_id = '${app.jobId}' AND stage_id = '${app.closedStage?.id}' AND rejection_reason = '${String(app.rejectionReason).replace(/'/g, "''")}'`,
      );
      expect(row?.declined as number, app.id).toBeGreaterThan(0);
      expect(row?.stage_index).toBe(app.closedStage?.index);
    }
  });
});

describe('interviewer_load with the users list', () => {
  it('names each interviewer and gives their status as the users list has it', async () => {
    const expected = new Map<string, { user_name: string | null; user_status: string | null }>();
    for (const s of SPECS) {
      for (const i of latestInterviews(timeline, s.id, DATES)) for (const u of i.users) expected.set(`${s.id}|${u.id}`, expectedInterviewer(timeline, s.id, DATES, u));
    }
    const rows = await objects(db, 'SELECT DISTINCT integration_id, user_id, user_name, user_status FROM interviewer_load');
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect({ user_name: r.user_name, user_status: r.user_status }, String(r.user_id)).toEqual(expected.get(`${String(r.integration_id)}|${String(r.user_id)}`));
    expect(rows.every((r) => r.user_status === 'ACTIVE' && typeof r.user_name === 'string')).toBe(true);
  });
});
