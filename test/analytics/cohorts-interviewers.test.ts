/**
 * `stage_survival`, `funnel_cohorts` and `interviewer_outcomes` on DuckDB over hand-written
 * application histories, against what plain TypeScript computes from the same histories.
 */
import { describe, expect, it } from 'vitest';
import type { HandApp, HandJob } from '../helpers/hand-warehouse.ts';
import { INTEGRATION, applicationRows, daysBetween, handWarehouse, jobRows, kaplanMeier, kmQuantile, median, syncRows } from '../helpers/hand-warehouse.ts';

/** Every day from 2025-06-01 to 2025-06-25: one sync of each model each. */
const DATES = Array.from({ length: 25 }, (_, k) => `2025-06-${String(k + 1).padStart(2, '0')}`);
const FIRST = DATES[0] as string;
const LATEST = DATES.at(-1) as string;

const JOBS: HandJob[] = [{ id: 'eng', stages: ['Applied', 'Screen', 'Onsite', 'Offer'] }];

const at = (date: string, stage: string, outcome?: string) => ({ date, stage, ...(outcome !== undefined && { outcome }) });
const app = (id: string, created: string, ...versions: HandApp['versions']): HandApp => ({ id, job: 'eng', created, versions });

const APPS: HandApp[] = [
  // The May cohort: three applications, two of them on to the onsite.
  app('may1', '2025-05-10T09:00:00Z', at(FIRST, 'Screen'), at('2025-06-04', 'Onsite'), at('2025-06-09', 'Offer'), at('2025-06-12', 'Offer', 'HIRED')),
  app('may2', '2025-05-12T09:00:00Z', at(FIRST, 'Applied'), at('2025-06-03', 'Screen'), at('2025-06-08', 'Onsite')),
  app('may3', '2025-05-20T09:00:00Z', at(FIRST, 'Screen'), at('2025-06-06', 'Screen', 'DECLINED')),
  // The June cohort: applied in the last days, nobody at the onsite yet.
  app('jun1', '2025-06-02T09:00:00Z', at('2025-06-02', 'Applied'), at('2025-06-03', 'Screen'), at('2025-06-07', 'Screen', 'DECLINED')),
  app('jun2', '2025-06-21T09:00:00Z', at('2025-06-21', 'Applied'), at('2025-06-23', 'Screen')),
  app('jun3', '2025-06-22T09:00:00Z', at('2025-06-22', 'Applied')),
  app('jun4', '2025-06-20T09:00:00Z', at('2025-06-20', 'Applied'), at('2025-06-24', 'Screen', 'DECLINED')),
  // Deleted: left out of the cohorts; its stretch is censored.
  app('gone', '2025-06-05T09:00:00Z', at('2025-06-05', 'Applied'), { date: '2025-06-07', stage: 'Applied', deleted: true }),
];

type Interview = { id: string; app: string; stage: string | null; on: string; users: string[]; canceled?: boolean };
const USERS: Record<string, [string, string]> = { u1: ['Dana', 'Decline'], u2: ['Avery', 'Advance'] };
const INTERVIEWS: Interview[] = [
  // u1: both candidates declined after the screen.
  { id: 'i1', app: 'may3', stage: 'Screen', on: '2025-06-04', users: ['u1'] },
  { id: 'i2', app: 'jun1', stage: 'Screen', on: '2025-06-05', users: ['u1', 'u2'] },
  // u2: one on to the onsite, one hired, one still in the screen, and one canceled and one upcoming (not held).
  { id: 'i3', app: 'may2', stage: 'Screen', on: '2025-06-05', users: ['u2'] },
  { id: 'i4', app: 'may1', stage: null, on: '2025-06-05', users: ['u2'] },
  { id: 'i5', app: 'jun2', stage: 'Screen', on: '2025-06-24', users: ['u2'] },
  { id: 'i6', app: 'jun3', stage: 'Applied', on: '2025-06-23', users: ['u2'], canceled: true },
  { id: 'i7', app: 'jun3', stage: 'Applied', on: '2025-06-26', users: ['u2'] },
];

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return handWarehouse(async (run) => {
    await run(applicationRows(APPS, JOBS));
    for (const s of jobRows(JOBS, LATEST)) await run(s);
    await run(`INSERT INTO interviews (id, application_id, stage_id, starting_at, ending_at, canceled, snapshot_date, integration_id) VALUES ${INTERVIEWS.map(
      (i) => `('${i.id}', '${i.app}', ${i.stage === null ? 'NULL' : `'${i.stage}'`}, TIMESTAMPTZ '${i.on}T10:00:00Z', TIMESTAMPTZ '${i.on}T11:00:00Z', ${i.canceled === true}, DATE '${FIRST}', '${INTEGRATION}')`,
    ).join(', ')}`);
    await run(`INSERT INTO interview_users (interview_id, "position", user_id, first_name, last_name, snapshot_date, integration_id) VALUES ${INTERVIEWS.flatMap((i) =>
      i.users.map((u, k) => `('${i.id}', ${k}, '${u}', '${USERS[u]?.[0]}', '${USERS[u]?.[1]}', DATE '${FIRST}', '${INTEGRATION}')`),
    ).join(', ')}`);
    await run(syncRows(['applications', 'jobs', 'interviews'], DATES));
    return run(sql);
  });
}

const isOpen = (v: HandApp['versions'][number]) => v.deleted !== true && (v.outcome ?? 'PENDING') === 'PENDING';
const indexOf = (stage: string | null | undefined) => JOBS[0]!.stages.indexOf(stage ?? '');

/** An application's open stretches in a stage: entered, left (null while current), and whether a deletion ended it. */
function stretches(a: HandApp): { stage: string; entered: string; left: string | null; deleted: boolean }[] {
  const out: { stage: string; entered: string; left: string | null; deleted: boolean }[] = [];
  a.versions.forEach((v, k) => {
    const prev = a.versions[k - 1];
    if (!isOpen(v) || v.stage === undefined || v.stage === null) return;
    if (prev !== undefined && isOpen(prev) && prev.stage === v.stage) return;
    const end = a.versions.slice(k + 1).find((n) => !isOpen(n) || n.stage !== v.stage);
    out.push({ stage: v.stage, entered: v.date, left: end?.date ?? null, deleted: end?.deleted === true });
  });
  return out;
}

describe('stage_survival', () => {
  it('gives each stage its Kaplan–Meier median, open stretches counted as not left yet', async () => {
    const all = APPS.flatMap(stretches);
    const expected = JOBS[0]!.stages.flatMap((stage) => {
      const own = all.filter((s) => s.stage === stage);
      if (own.length === 0) return [];
      const days = own.map((s) => ({ duration: daysBetween(s.entered, s.left ?? LATEST), event: s.left !== null && !s.deleted }));
      const hours = days.map((d) => ({ ...d, duration: d.duration * 24 }));
      return [{
        stage_id: stage,
        stretches: own.length,
        left_stage: days.filter((d) => d.event).length,
        still_in: own.filter((s) => s.left === null).length,
        median_days_in_stage: kmQuantile(kaplanMeier(days), 0.5),
        median_hours_in_stage: kmQuantile(kaplanMeier(hours), 0.5),
      }];
    });
    const rows = await query('SELECT stage_id, stretches, left_stage, still_in, median_days_in_stage, median_hours_in_stage FROM stage_survival ORDER BY stage_index');
    expect(rows).toEqual(expected);
    expect(expected.some((e) => e.median_days_in_stage === null || e.still_in > 0)).toBe(true);
  });
});

describe('funnel_cohorts', () => {
  /** What the cohorts should be: per month of application and stage, applications and how many reached it. */
  function expectedCohorts(): Record<string, unknown>[] {
    const counted = APPS.filter((a) => a.versions.at(-1)?.deleted !== true);
    const months = [...new Set(counted.map((a) => `${(a.created as string).slice(0, 7)}-01`))].sort();
    return months.flatMap((month) => {
      const cohort = counted.filter((a) => (a.created as string).startsWith(month.slice(0, 7)));
      const furthest = cohort.map((a) => Math.max(...a.versions.map((v) => indexOf(v.stage))));
      const end = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10);
      return JOBS[0]!.stages.map((stage, k) => ({
        cohort_month: month,
        stage_id: stage,
        applications: cohort.length,
        reached: furthest.filter((f) => f >= k).length,
        share_reached: furthest.filter((f) => f >= k).length / cohort.length,
        cohort_age_days: daysBetween(end, LATEST),
      }));
    });
  }

  it('counts per cohort month and stage the applications that reached it, with the cohort’s age', async () => {
    const rows = await query(
      'SELECT CAST(cohort_month AS VARCHAR) AS cohort_month, stage_id, applications, reached, share_reached, cohort_age_days FROM funnel_cohorts ORDER BY cohort_month, stage_index',
    );
    expect(rows).toEqual(expectedCohorts());
  });

  it('shows a cohort too young to have reached the onsite as young, not as converting worse', async () => {
    const rows = await query("SELECT CAST(cohort_month AS VARCHAR) AS m, reached, cohort_age_days FROM funnel_cohorts WHERE stage_id = 'Onsite' ORDER BY m");
    expect(rows).toEqual([
      { m: '2025-05-01', reached: 2, cohort_age_days: 25 },
      { m: '2025-06-01', reached: 0, cohort_age_days: -5 },
    ]);
  });
});

describe('interviewer_outcomes', () => {
  /** What became of each interviewer's applications, from the histories. */
  function expectedOutcomes(): Record<string, unknown>[] {
    return Object.keys(USERS).map((user) => {
      const held = INTERVIEWS.filter((i) => i.users.includes(user) && i.canceled !== true && i.on < LATEST);
      const byApp = new Map<string, Interview>();
      for (const i of held) if ((byApp.get(i.app)?.on ?? '') <= i.on) byApp.set(i.app, i);
      const fates = [...byApp.values()].map((i) => {
        const a = APPS.find((x) => x.id === i.app) as HandApp;
        const own = stretches(a);
        const stage = i.stage ?? own.find((s) => s.entered <= i.on && (s.left === null || s.left > i.on))?.stage;
        const later = own.some((s) => s.entered > i.on && indexOf(s.stage) > indexOf(stage));
        const now = a.versions.at(-1)!;
        return now.outcome === 'HIRED' || later ? 'advanced' : now.outcome === 'DECLINED' ? 'declined' : isOpen(now) ? 'still_open' : 'other';
      });
      const days = held.flatMap((i) => {
        const a = APPS.find((x) => x.id === i.app) as HandApp;
        const stage = i.stage ?? stretches(a).find((s) => s.entered <= i.on && (s.left === null || s.left > i.on))?.stage;
        const entered = stretches(a).filter((s) => s.stage === stage && s.entered <= i.on).map((s) => s.entered).sort().at(-1);
        return entered !== undefined && entered > FIRST ? [daysBetween(entered, i.on)] : [];
      });
      const n = (f: string) => fates.filter((x) => x === f).length;
      return {
        user_id: user,
        user_name: (USERS[user] as string[]).join(' '),
        interviews: held.length,
        applications: byApp.size,
        advanced: n('advanced'),
        declined: n('declined'),
        still_open: n('still_open'),
        advance_rate: n('advanced') + n('declined') === 0 ? null : n('advanced') / (n('advanced') + n('declined')),
        median_days_to_interview: median(days),
      };
    });
  }

  it('follows each interviewed application to what happened after the interview', async () => {
    const rows = await query(
      'SELECT user_id, user_name, interviews, applications, advanced, declined, still_open, advance_rate, median_days_to_interview FROM interviewer_outcomes ORDER BY user_id',
    );
    expect(rows).toEqual(expectedOutcomes());
  });

  it('shows an interviewer whose candidates were all declined after the interview', async () => {
    const [row] = await query("SELECT applications, advanced, declined, still_open, advance_rate FROM interviewer_outcomes WHERE user_id = 'u1'");
    expect(row).toEqual({ applications: 2, advanced: 0, declined: 2, still_open: 0, advance_rate: 0 });
  });
});
