/**
 * `application_stage_history`, `hiring_funnel`, `time_to_hire` and the `_latest` views on DuckDB,
 * over ten simulated days synced by the real pipeline, one day left out. Expected figures come from
 * the sandbox's event log (`expected.ts`), never from the views' SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxStageStretch, SandboxTimeline } from '../../sandbox/index.ts';
import { consecutiveDays, createSandboxTimeline } from '../../sandbox/index.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { buildHistoryWarehouse, objects } from '../helpers/history.ts';
import {
  expectedHires,
  expectedJobFunnel,
  expectedStretches,
  latestApplications,
  latestCandidateIds,
  latestInterviews,
} from './expected.ts';

const SPECS = [
  { id: 'greenhouse:HistTestAAAAbbbbCCCCdddd', tool: 'greenhouse', candidates: 400 },
  { id: 'lever:HistTestEEEEffffGGGGhhhh', tool: 'lever', candidates: 60 },
] as const;
const SEED = 7;

const day = (iso: string): string => iso.slice(0, 10);
const byKey = (r: Record<string, unknown>): string => `${String(r.integration_id)}|${String(r.application_id ?? r.job_id)}|${String(r.entered_on ?? r.stage_index)}`;

let timeline: SandboxTimeline;
let dates: string[];
/** The day without a snapshot. */
let skipped: string;
/** A candidate deleted inside the window while one of their applications was open. */
let deletedCandidate: { id: string; deletedOn: string; applicationId: string; integrationId: string };
let db: WarehouseDb;

beforeAll(async () => {
  timeline = createSandboxTimeline({ seed: SEED, integrations: SPECS });
  // The window is chosen from the event log: around the first deletion, after six weeks of
  // history, of a candidate with an application open at the time.
  const integrationId = SPECS[0].id;
  const openAtDeletion = timeline
    .stageEvents(integrationId)
    .filter((s) => s.outcome === 'DELETED' && s.leftAt !== null && s.leftAt >= '2025-04-15')
    .sort((a, b) => (a.leftAt as string).localeCompare(b.leftAt as string))[0] as SandboxStageStretch;
  const deletedOn = day(openAtDeletion.leftAt as string);
  deletedCandidate = { id: openAtDeletion.candidateId, deletedOn, applicationId: openAtDeletion.applicationId, integrationId };
  const all = consecutiveDays(new Date(Date.parse(deletedOn) - 5 * 86_400_000).toISOString().slice(0, 10), 10);
  skipped = all[3] as string; // two days before the deletion
  dates = all.filter((d) => d !== skipped);
  const wh = await buildHistoryWarehouse({ integrations: SPECS, seed: SEED, dates, timeline });
  db = await openWarehouse(wh.dir);
}, 120_000);

afterAll(() => db?.close());

const HISTORY_SQL = `SELECT integration_id, application_id, job_id, stage_id, stage_index, CAST(entered_on AS VARCHAR) AS entered_on,
  CAST(left_on AS VARCHAR) AS left_on, days_in_stage, is_current, outcome_after FROM application_stage_history`;

describe('application_stage_history', () => {
  it('matches the event log row for row, for every application of every integration', async () => {
    // Prepare
    const expected = SPECS.flatMap((s) => timeline.applications(s.id).flatMap((a) => expectedStretches(a, dates)));
    // Act
    const actual = await objects(db, HISTORY_SQL);
    // Assess
    expect(actual.length).toBeGreaterThan(80);
    expect(actual.sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual(expected.sort((a, b) => byKey(a).localeCompare(byKey(b))));
  });

  it('gives stretches inside the window the exact entry and exit dates of the event log', async () => {
    const rows = await objects(db, HISTORY_SQL);
    const first = dates[0] as string;
    const last = dates[dates.length - 1] as string;
    const inside = SPECS.flatMap((s) => timeline.stageEvents(s.id)).filter(
      (s) => s.leftAt !== null && day(s.enteredAt) > first && day(s.leftAt) <= last && day(s.enteredAt) !== skipped && day(s.leftAt) !== skipped,
    );
    expect(inside.length).toBeGreaterThan(25);
    for (const s of inside) {
      const row = rows.find((r) => r.application_id === s.applicationId && r.stage_id === s.stageId && r.entered_on === day(s.enteredAt));
      expect(row, `${s.applicationId} in ${s.stageName} from ${s.enteredAt}`).toBeDefined();
      expect(row?.left_on).toBe(day(s.leftAt as string));
      expect(row?.outcome_after).toBe(s.outcome);
      expect(row?.days_in_stage).toBe((Date.parse(day(s.leftAt as string)) - Date.parse(day(s.enteredAt))) / 86_400_000);
    }
  });

  it('does not split a stretch over the day without a snapshot', async () => {
    const rows = await objects(db, HISTORY_SQL);
    const spanning = SPECS.flatMap((s) => timeline.stageEvents(s.id)).filter(
      (s) => day(s.enteredAt) > (dates[0] as string) && day(s.enteredAt) < skipped && (s.leftAt === null || day(s.leftAt) > skipped),
    );
    expect(spanning.length).toBeGreaterThan(5);
    for (const s of spanning) {
      const matching = rows.filter((r) => r.application_id === s.applicationId && r.stage_id === s.stageId);
      expect(matching, `${s.applicationId} ${s.stageName}`).toHaveLength(1);
      expect(matching[0]?.entered_on).toBe(day(s.enteredAt));
      expect(matching[0]?.left_on).toBe(s.leftAt === null || day(s.leftAt) > (dates[dates.length - 1] as string) ? null : day(s.leftAt));
    }
  });

  it('shows a move made on the day without a snapshot on the next snapshot', async () => {
    const rows = await objects(db, HISTORY_SQL);
    const next = dates.find((d) => d > skipped);
    const moved = SPECS.flatMap((s) => timeline.stageEvents(s.id)).filter((s) => day(s.enteredAt) === skipped && (s.leftAt === null || day(s.leftAt) > skipped));
    expect(moved.length).toBeGreaterThan(0);
    for (const s of moved) {
      expect(rows.find((r) => r.application_id === s.applicationId && r.stage_id === s.stageId)?.entered_on).toBe(next);
    }
  });

  it('ends the stretch of a deleted candidate’s application on the deletion day, as DELETED', async () => {
    const rows = await objects(db, `${HISTORY_SQL} WHERE application_id = '${deletedCandidate.applicationId}' ORDER BY entered_on`);
    const lastRow = rows[rows.length - 1];
    expect(lastRow).toMatchObject({ left_on: deletedCandidate.deletedOn, outcome_after: 'DELETED', is_current: false });
  });

  it('ends the stretch before a hire with HIRED on the day of the hire', async () => {
    const hires = SPECS.flatMap((s) => timeline.applications(s.id)).filter(
      (a) => a.outcome === 'HIRED' && a.closedAt !== null && day(a.closedAt) > (dates[0] as string) && day(a.closedAt) <= (dates[dates.length - 1] as string) && day(a.closedAt) !== skipped,
    );
    expect(hires.length).toBeGreaterThan(0);
    const rows = await objects(db, HISTORY_SQL);
    for (const hire of hires) {
      const mine = rows.filter((r) => r.application_id === hire.id).sort((a, b) => String(a.entered_on).localeCompare(String(b.entered_on)));
      expect(mine[mine.length - 1]).toMatchObject({ left_on: day(hire.closedAt as string), outcome_after: 'HIRED' });
    }
  });

  it('records a skipped stage as an ADVANCED stretch followed by one two stages further', async () => {
    const rows = await objects(db, HISTORY_SQL);
    const jumps = SPECS.flatMap((s) => timeline.applications(s.id)).flatMap((a) =>
      a.stretches
        .slice(1)
        .map((s, k) => [a.stretches[k] as SandboxStageStretch, s] as const)
        .filter(([before, after]) => after.stageIndex - before.stageIndex === 2 && day(before.enteredAt) > (dates[0] as string) && day(after.enteredAt) <= (dates[dates.length - 1] as string) && day(after.enteredAt) !== skipped && day(before.enteredAt) !== skipped),
    );
    expect(jumps.length).toBeGreaterThan(0);
    for (const [before, after] of jumps) {
      const a = rows.find((r) => r.application_id === before.applicationId && r.stage_id === before.stageId);
      const b = rows.find((r) => r.application_id === after.applicationId && r.stage_id === after.stageId);
      expect(a).toMatchObject({ left_on: day(after.enteredAt), outcome_after: 'ADVANCED', stage_index: before.stageIndex });
      expect(b).toMatchObject({ entered_on: day(after.enteredAt), stage_index: before.stageIndex + 2 });
      expect(rows.some((r) => r.application_id === before.applicationId && r.stage_index === before.stageIndex + 1)).toBe(false);
    }
  });
});

describe('the _latest views', () => {
  it.each(SPECS.map((s) => s.id))('hold the records of %s as of the last sync, without deleted ones, each dated by its latest version', async (integrationId) => {
    const ids = async (view: string) =>
      (await objects(db, `SELECT id FROM ${view} WHERE integration_id = '${integrationId}'`)).map((r) => String(r.id)).sort();
    expect(await ids('candidates_latest')).toEqual(latestCandidateIds(timeline, integrationId, dates).sort());
    expect(await ids('applications_latest')).toEqual(latestApplications(timeline, integrationId, dates).map((a) => a.id).sort());
    expect(await ids('interviews_latest')).toEqual(latestInterviews(timeline, integrationId, dates).map((i) => i.id).sort());
    // A record unchanged since an earlier sync keeps the date of the sync that stored it.
    const dated = await objects(
      db,
      `SELECT CAST(l.snapshot_date AS VARCHAR) AS d, CAST(max(a.snapshot_date) AS VARCHAR) AS stored
      FROM applications_latest l JOIN applications a ON a.integration_id = l.integration_id AND a.id = l.id
      WHERE l.integration_id = '${integrationId}' GROUP BY l.integration_id, l.id, l.snapshot_date`,
    );
    expect(dated.filter((r) => r.d !== r.stored)).toEqual([]);
    expect(new Set(dated.map((r) => r.d)).size).toBeGreaterThan(1);
    expect(dated.every((r) => String(r.d) <= (dates[dates.length - 1] as string))).toBe(true);
  });

  it('leave out the candidate deleted inside the window, and their applications', async () => {
    const c = await objects(db, `SELECT count(*) AS n FROM candidates_latest WHERE id = '${deletedCandidate.id}'`);
    const a = await objects(db, `SELECT count(*) AS n FROM applications_latest WHERE candidate_id = '${deletedCandidate.id}'`);
    const before = await objects(db, `SELECT count(*) AS n FROM candidates WHERE id = '${deletedCandidate.id}' AND remote_deleted_at IS NULL`);
    expect(c).toEqual([{ n: 0 }]);
    expect(a).toEqual([{ n: 0 }]);
    expect(before[0]?.n).toBeGreaterThan(0);
  });
});

describe('hiring_funnel', () => {
  it('matches the event log for every job and stage', async () => {
    const expected = SPECS.flatMap((s) => expectedJobFunnel(timeline, s.id, dates));
    const actual = await objects(
      db,
      `SELECT integration_id, job_id, job_name, job_status, department, location, stage_id, stage_index, listed_in_job,
        reached, currently_in, conversion_to_next, hired, median_days_in_stage FROM hiring_funnel`,
    );
    const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.stage_index).padStart(2, '0')}`;
    expect(actual.length).toBe(expected.length);
    const sortedActual = actual.sort((a, b) => key(a).localeCompare(key(b)));
    const sortedExpected = expected.sort((a, b) => key(a).localeCompare(key(b)));
    sortedExpected.forEach((e, k) => {
      const a = sortedActual[k] as Record<string, unknown>;
      expect({ ...a, conversion_to_next: null }, key(e)).toEqual({ ...e, conversion_to_next: null });
      if (e.conversion_to_next === null) expect(a.conversion_to_next).toBeNull();
      else expect(a.conversion_to_next).toBeCloseTo(e.conversion_to_next, 12);
    });
    // Not vacuous: stages with people in them, hires, conversions and medians.
    expect(expected.some((e) => e.currently_in > 0 && e.hired > 0 && e.median_days_in_stage !== null)).toBe(true);
  });

  it('never widens: a stage never has more applications than the one before it', async () => {
    const rows = await objects(db, 'SELECT integration_id, job_id, stage_index, reached FROM hiring_funnel ORDER BY integration_id, job_id, stage_index');
    for (let k = 1; k < rows.length; k++) {
      const [prev, row] = [rows[k - 1], rows[k]] as [Record<string, unknown>, Record<string, unknown>];
      if (prev.job_id === row.job_id) expect(row.reached as number).toBeLessThanOrEqual(prev.reached as number);
    }
  });
});

describe('time_to_hire', () => {
  it('lists every hire seen happening, dated by its first HIRED snapshot', async () => {
    const expected = SPECS.flatMap((s) => expectedHires(timeline, s.id, dates));
    const actual = await objects(
      db,
      'SELECT integration_id, application_id, candidate_id, job_id, source, CAST(applied_on AS VARCHAR) AS applied_on, CAST(hired_on AS VARCHAR) AS hired_on, days_to_hire FROM time_to_hire',
    );
    const key = (r: Record<string, unknown>) => String(r.application_id);
    expect(expected.length).toBeGreaterThan(0);
    expect(actual.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('leaves out hires made before the first snapshot', async () => {
    const early = SPECS.flatMap((s) => latestApplications(timeline, s.id, dates)).filter(
      (a) => a.outcome === 'HIRED' && a.closedAt !== null && day(a.closedAt) <= (dates[0] as string),
    );
    expect(early.length).toBeGreaterThan(0);
    const listed = await objects(db, `SELECT count(*) AS n FROM time_to_hire WHERE application_id IN (${early.map((a) => `'${a.id}'`).join(', ')})`);
    expect(listed).toEqual([{ n: 0 }]);
  });

  it('is what hire_summary gives as the naive median beside the Kaplan–Meier one, per job', async () => {
    const hires = await objects(db, 'SELECT integration_id, job_id, days_to_hire FROM time_to_hire WHERE days_to_hire IS NOT NULL');
    const summary = await objects(db, 'SELECT integration_id, job_id, naive_median_days_to_hire FROM hire_summary WHERE job_id IS NOT NULL');
    const middle = (xs: number[]): number | null => {
      const s = [...xs].sort((a, b) => a - b);
      const m = Math.floor(s.length / 2);
      return s.length === 0 ? null : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
    };
    for (const row of summary) {
      const days = hires.filter((h) => h.integration_id === row.integration_id && h.job_id === row.job_id).map((h) => h.days_to_hire as number);
      expect(row.naive_median_days_to_hire, `${String(row.job_id)}`).toBe(middle(days));
    }
    expect(summary.filter((r) => r.naive_median_days_to_hire !== null).length).toBeGreaterThan(0);
  });
});
