/**
 * `hire_survival` and `hire_summary` on DuckDB over hand-written application histories, against a
 * Kaplan–Meier curve computed here in plain TypeScript from the same histories.
 */
import { describe, expect, it } from 'vitest';
import type { HandApp, HandJob, KmPoint } from '../helpers/hand-warehouse.ts';
import { INTEGRATION, applicationRows, daysBetween, handWarehouse, jobRows, kaplanMeier, kmQuantile, median, syncRows } from '../helpers/hand-warehouse.ts';

/** Every day from 2025-06-01 to 2025-06-25: one `applications` sync each. */
const DATES = Array.from({ length: 25 }, (_, k) => `2025-06-${String(k + 1).padStart(2, '0')}`);
const FIRST = DATES[0] as string;
const LATEST = DATES.at(-1) as string;

const JOBS: HandJob[] = [
  { id: 'slow', stages: ['Applied', 'Screen', 'Onsite', 'Offer'] },
  { id: 'fast', stages: ['Applied', 'Offer'] },
];

const open = (date: string, stage = 'Applied') => ({ date, stage });
const hired = (date: string) => ({ date, outcome: 'HIRED', stage: 'Offer' });

const APPS: HandApp[] = [
  // `slow`: two quick hires, one decline, one deletion, and four applications open for weeks.
  { id: 's-h1', job: 'slow', created: '2025-05-30T10:00:00Z', versions: [open('2025-06-01'), hired('2025-06-03')] },
  { id: 's-h2', job: 'slow', created: '2025-06-02T23:30:00Z', versions: [open('2025-06-02'), hired('2025-06-05')] },
  { id: 's-d1', job: 'slow', created: '2025-06-01T08:00:00Z', versions: [open('2025-06-01'), { date: '2025-06-04', outcome: 'DECLINED', stage: 'Screen' }] },
  { id: 's-x1', job: 'slow', created: '2025-06-01T08:00:00Z', versions: [open('2025-06-01'), { date: '2025-06-06', stage: 'Screen', deleted: true }] },
  ...[20, 21, 22, 23].map((d) => ({ id: `s-o${d}`, job: 'slow', created: `2025-05-${d}T12:00:00Z`, versions: [open('2025-06-01'), open('2025-06-10', 'Screen')] })),
  // `fast`: everyone hired, one already in the first sync, one with no application date.
  { id: 'f-h1', job: 'fast', created: '2025-06-03T09:00:00Z', versions: [open('2025-06-03'), hired('2025-06-05')] },
  { id: 'f-h2', job: 'fast', created: '2025-06-03T09:00:00Z', versions: [open('2025-06-03'), hired('2025-06-08')] },
  { id: 'f-h3', job: 'fast', created: '2025-06-04T09:00:00Z', versions: [open('2025-06-04'), hired('2025-06-09')] },
  { id: 'f-early', job: 'fast', created: '2025-05-01T09:00:00Z', versions: [hired(FIRST)] },
  // Hired before the first sync, on a day the ATS's last change of it dates.
  { id: 'f-early2', job: 'fast', created: '2025-05-01T09:00:00Z', versions: [{ ...hired(FIRST), updatedAt: '2025-05-06T15:00:00Z' }] },
  { id: 'f-nodate', job: 'fast', created: null, versions: [open('2025-06-10'), hired('2025-06-12')] },
  // No job: counted for the integration as a whole only.
  { id: 'nojob', job: null, created: '2025-06-15T09:00:00Z', versions: [{ date: '2025-06-15', stage: null }] },
];

/** When a version's change happened at the latest: its date, or in the first sync the ATS's last change when earlier. */
const knownBy = (v: HandApp['versions'][number]): string =>
  v.date === FIRST && v.updatedAt !== undefined && v.updatedAt.slice(0, 10) < v.date ? v.updatedAt.slice(0, 10) : v.date;

/** Each application's clock, from its history: how long, and whether it stopped at a hire. */
function clock(app: HandApp): { duration: number; event: boolean; naive: number | null } {
  const current = app.versions.at(-1)!;
  const state = (v: (typeof app.versions)[number]) => (v.deleted === true ? 'deleted' : (v.outcome ?? 'PENDING') === 'PENDING' ? 'open' : 'closed');
  const start = app.created?.slice(0, 10) ?? app.versions[0]!.date;
  if (state(current) === 'closed' && current.outcome === 'HIRED') {
    const first = app.versions.find((v) => state(v) === 'closed' && v.outcome === 'HIRED')!;
    const naive = app.created !== null && first.date > FIRST ? daysBetween(app.created, first.date) : null;
    return { duration: Math.max(0, daysBetween(start, knownBy(first))), event: true, naive };
  }
  const stop = state(current) === 'open' ? LATEST : knownBy(app.versions.find((v) => state(v) !== 'open')!);
  return { duration: Math.max(0, daysBetween(start, stop)), event: false, naive: null };
}

/** The expected curve and summary of one job (null: all jobs). */
function truth(job: string | null): { curve: KmPoint[]; summary: Record<string, unknown> } {
  const clocks = APPS.filter((a) => job === null || a.job === job).map(clock);
  const curve = kaplanMeier(clocks);
  return {
    curve,
    summary: {
      job_id: job,
      applications: clocks.length,
      hires: clocks.filter((c) => c.event).length,
      median_days_to_hire: kmQuantile(curve, 0.5),
      p75_days_to_hire: kmQuantile(curve, 0.75),
      naive_median_days_to_hire: median(clocks.flatMap((c) => (c.naive === null ? [] : [c.naive]))),
    },
  };
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return handWarehouse(async (run) => {
    await run(applicationRows(APPS, JOBS));
    for (const s of jobRows(JOBS, LATEST)) await run(s);
    await run(syncRows(['applications', 'jobs'], DATES));
    return run(sql);
  });
}

const near = (actual: Record<string, unknown>[], expected: Record<string, unknown>[], key: string): void => {
  expect(actual.map((r) => ({ ...r, [key]: null }))).toEqual(expected.map((r) => ({ ...r, [key]: null })));
  expected.forEach((e, k) => expect(actual[k]?.[key] as number, `row ${k}`).toBeCloseTo(e[key] as number, 12));
};

describe('hire_survival', () => {
  it.each([['slow'], ['fast'], [null]])('is the Kaplan–Meier curve of job %s, open applications counted as not hired yet', async (job) => {
    const rows = await query(
      `SELECT "day", at_risk, hired, censored, share_hired FROM hire_survival WHERE integration_id = '${INTEGRATION}' AND job_id ${job === null ? 'IS NULL' : `= '${job}'`} ORDER BY "day"`,
    );
    near(rows, truth(job).curve as unknown as Record<string, unknown>[], 'share_hired');
  });

  it('never decreases, starts from 0 and reaches 1 when every application is hired', async () => {
    const rows = await query(`SELECT job_id, share_hired FROM hire_survival ORDER BY job_id, "day"`);
    for (const job of ['slow', 'fast']) {
      const shares = rows.filter((r) => r.job_id === job).map((r) => r.share_hired as number);
      expect(shares.every((s, k) => k === 0 || s >= (shares[k - 1] as number))).toBe(true);
      expect(shares[0]).toBeGreaterThanOrEqual(0);
    }
    expect(rows.filter((r) => r.job_id === 'fast').at(-1)?.share_hired).toBe(1);
  });
});

describe('hire_summary', () => {
  it('gives the Kaplan–Meier median and 75th percentile beside the naive median, per job and for all jobs', async () => {
    const rows = await query(
      'SELECT job_id, applications, hires, median_days_to_hire, p75_days_to_hire, naive_median_days_to_hire FROM hire_summary ORDER BY job_id NULLS LAST',
    );
    expect(rows).toEqual([truth('fast').summary, truth('slow').summary, truth(null).summary]);
  });

  it('shows a job whose open applications change the median: hires alone say days, the curve never reaches one half', async () => {
    const slow = truth('slow').summary;
    expect(slow.naive_median_days_to_hire).toBe(3.5);
    expect(slow.median_days_to_hire).toBeNull();
    const [row] = await query("SELECT median_days_to_hire, naive_median_days_to_hire FROM hire_summary WHERE job_id = 'slow'");
    expect(row).toEqual({ median_days_to_hire: null, naive_median_days_to_hire: 3.5 });
  });
});
