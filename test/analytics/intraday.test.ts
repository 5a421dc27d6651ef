/**
 * The history and funnel views when a day holds several versions of a record: three syncs on one
 * date saw an application in three stages, each version stored with its own `_synced_at` (the start
 * of the sync that stored it) and its nested offers with the same `_synced_at`.
 */
import { describe, expect, it } from 'vitest';
import { loadReportData } from '../../shared/analytics/report-data.ts';
import { renderReport } from '../../shared/analytics/report-html.ts';
import type { HandApp, HandJob } from '../helpers/hand-warehouse.ts';
import { applicationOfferRows, applicationRows, handWarehouse, integrationRows, jobRows, syncRowsAt } from '../helpers/hand-warehouse.ts';

/** A nightly sync on the 1st, three syncs on the 2nd (the nightly one and two during the day), a nightly one on the 3rd. */
const STARTS = ['2025-06-01T02:00:00Z', '2025-06-02T02:00:00Z', '2025-06-02T10:00:00Z', '2025-06-02T15:00:00Z', '2025-06-03T02:00:00Z'];

const JOBS: HandJob[] = [{ id: 'j', stages: ['Applied', 'Screen', 'Onsite', 'Offer'] }];

const APPS: HandApp[] = [
  {
    id: 'a1',
    job: 'j',
    created: '2025-05-30T09:00:00Z',
    // Listed out of order on purpose: the views must order by the time of each version, not by how rows are stored.
    versions: [
      { date: '2025-06-02', at: '2025-06-02T15:00:00Z', stage: 'Offer', offers: [{ id: 'o1', status: 'SENT' }, { id: 'o2', status: 'DRAFT' }] },
      { date: '2025-06-01', at: '2025-06-01T02:00:00Z', stage: 'Applied' },
      { date: '2025-06-02', at: '2025-06-02T10:00:00Z', stage: 'Onsite', offers: [{ id: 'o1', status: 'SENT' }] },
      { date: '2025-06-02', at: '2025-06-02T02:00:00Z', stage: 'Screen', offers: [{ id: 'o1', status: 'DRAFT' }] },
    ],
  },
  // One version a day: the nightly history these views always had.
  { id: 'a2', job: 'j', created: '2025-05-30T09:00:00Z', versions: [{ date: '2025-06-01', stage: 'Applied' }, { date: '2025-06-03', stage: 'Screen' }] },
];

/** The warehouse of {@link APPS}, with `extra` statements run first, handed to `body`. */
async function withWarehouse<T>(extra: readonly string[], body: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  return handWarehouse(async (run) => {
    for (const statement of extra) await run(statement);
    await run(applicationRows(APPS, JOBS));
    const offers = applicationOfferRows(APPS);
    if (offers !== null) await run(offers);
    for (const s of jobRows(JOBS, '2025-06-03')) await run(s);
    await run(syncRowsAt(['applications', 'jobs'], STARTS));
    return body(run);
  });
}

const query = (sql: string, extra: readonly string[] = []): Promise<Record<string, unknown>[]> => withWarehouse(extra, (run) => run(sql));

/** A timestamp as DuckDB prints it in UTC. */
const ts = (iso: string | null): string | null => (iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 19)}+00`);

describe('applications_history with several versions a day', () => {
  it('chains the versions of one day by the time of the sync that stored each', async () => {
    // Act
    const rows = await query(`SELECT CAST(snapshot_date AS VARCHAR) AS snapshot_date, current_stage_id AS stage,
        CAST("_valid_from" AS VARCHAR) AS valid_from, CAST("_valid_to" AS VARCHAR) AS valid_to, "_is_current" AS is_current
      FROM applications_history WHERE id = 'a1' ORDER BY "_valid_from"`);
    // Assess
    expect(rows).toEqual([
      { snapshot_date: '2025-06-01', stage: 'Applied', valid_from: ts('2025-06-01T02:00:00Z'), valid_to: ts('2025-06-02T02:00:00Z'), is_current: false },
      { snapshot_date: '2025-06-02', stage: 'Screen', valid_from: ts('2025-06-02T02:00:00Z'), valid_to: ts('2025-06-02T10:00:00Z'), is_current: false },
      { snapshot_date: '2025-06-02', stage: 'Onsite', valid_from: ts('2025-06-02T10:00:00Z'), valid_to: ts('2025-06-02T15:00:00Z'), is_current: false },
      { snapshot_date: '2025-06-02', stage: 'Offer', valid_from: ts('2025-06-02T15:00:00Z'), valid_to: null, is_current: true },
    ]);
  });

  it('gives each child row the validity of its own parent version, not of every version of that day', async () => {
    const rows = await query(`SELECT offer_id, status, CAST("_valid_from" AS VARCHAR) AS valid_from, CAST("_valid_to" AS VARCHAR) AS valid_to, "_is_current" AS is_current
      FROM application_offers_history WHERE application_id = 'a1' ORDER BY "_valid_from", position`);
    expect(rows).toEqual([
      { offer_id: 'o1', status: 'DRAFT', valid_from: ts('2025-06-02T02:00:00Z'), valid_to: ts('2025-06-02T10:00:00Z'), is_current: false },
      { offer_id: 'o1', status: 'SENT', valid_from: ts('2025-06-02T10:00:00Z'), valid_to: ts('2025-06-02T15:00:00Z'), is_current: false },
      { offer_id: 'o1', status: 'SENT', valid_from: ts('2025-06-02T15:00:00Z'), valid_to: null, is_current: true },
      { offer_id: 'o2', status: 'DRAFT', valid_from: ts('2025-06-02T15:00:00Z'), valid_to: null, is_current: true },
    ]);
  });

  it('answers an as-of question between two syncs of the same day', async () => {
    const rows = await query(`SELECT current_stage_id AS stage FROM applications_history
      WHERE id = 'a1' AND "_valid_from" <= TIMESTAMP '2025-06-02 12:00:00' AND ("_valid_to" IS NULL OR "_valid_to" > TIMESTAMP '2025-06-02 12:00:00')`);
    expect(rows).toEqual([{ stage: 'Onsite' }]);
  });
});

describe('rejection_breakdown with several versions a day', () => {
  it('counts an application declined by one sync and changed again by the next, the same day, once, in the stage it was declined in', async () => {
    // Prepare: declined at 10:00 in Screen, its reason edited at 15:00.
    const declined: HandApp = {
      id: 'a3',
      job: 'j',
      created: '2025-05-30T09:00:00Z',
      versions: [
        { date: '2025-06-01', stage: 'Applied' },
        { date: '2025-06-02', at: '2025-06-02T02:00:00Z', stage: 'Screen' },
        { date: '2025-06-02', at: '2025-06-02T10:00:00Z', stage: 'Screen', outcome: 'DECLINED', reason: 'Skill' },
        { date: '2025-06-02', at: '2025-06-02T15:00:00Z', stage: 'Screen', outcome: 'DECLINED', reason: 'Skills' },
      ],
    };
    // Act
    const rows = await query('SELECT rejection_reason, stage_id, declined, share_of_job FROM rejection_breakdown', [applicationRows([declined], JOBS)]);
    // Assess
    expect(rows).toEqual([{ rejection_reason: 'Skills', stage_id: 'Screen', declined: 1, share_of_job: 1 }]);
  });
});

describe('time_to_fill with several versions a day', () => {
  it('stops a job’s days open at its latest closed stretch when it closed, reopened and closed again within one date', async () => {
    // Prepare: no `closed_at`; closed at 02:00, reopened at 10:00, closed again at 15:00 on the 2nd.
    const job = (status: string, at: string) => `('j2', 'j2', '${status}', TIMESTAMPTZ '2025-05-31T08:00:00Z', TIMESTAMPTZ '${at}', DATE '${at.slice(0, 10)}', 'acme')`;
    const versions = `INSERT INTO jobs (id, name, status, opened_at, "_synced_at", snapshot_date, integration_id) VALUES
      ${[job('OPEN', '2025-06-01T02:00:00Z'), job('CLOSED', '2025-06-02T02:00:00Z'), job('OPEN', '2025-06-02T10:00:00Z'), job('CLOSED', '2025-06-02T15:00:00Z')].join(', ')}`;
    // Act
    const rows = await query("SELECT job_status, days_open FROM time_to_fill WHERE job_id = 'j2'", [versions]);
    // Assess
    expect(rows).toEqual([{ job_status: 'CLOSED', days_open: 2 }]);
  });
});

describe('applications_latest with several versions a day', () => {
  it('holds the version of the day’s last sync', async () => {
    const rows = await query(`SELECT id, current_stage_id AS stage, CAST("_synced_at" AS VARCHAR) AS synced_at FROM applications_latest ORDER BY id`);
    expect(rows).toEqual([
      { id: 'a1', stage: 'Offer', synced_at: ts('2025-06-02T15:00:00Z') },
      { id: 'a2', stage: 'Screen', synced_at: ts('2025-06-03T02:00:00Z') },
    ]);
  });
});

describe('application_stage_history with several versions a day', () => {
  it('shows the stages entered and left between two nightly syncs, with their hours', async () => {
    // Act
    const rows = await query(`SELECT application_id, stage_id, CAST(entered_at AS VARCHAR) AS entered_at, CAST(left_at AS VARCHAR) AS left_at,
        days_in_stage, hours_in_stage, is_current, outcome_after
      FROM application_stage_history ORDER BY application_id, entered_at`);
    // Assess
    const s = (id: string, stage: string, entered: string, left: string | null, days: number, hours: number, after: string | null) => ({
      application_id: id,
      stage_id: stage,
      entered_at: ts(entered),
      left_at: ts(left),
      days_in_stage: days,
      hours_in_stage: hours,
      is_current: left === null,
      outcome_after: after,
    });
    expect(rows).toEqual([
      s('a1', 'Applied', '2025-06-01T02:00:00Z', '2025-06-02T02:00:00Z', 1, 24, 'ADVANCED'),
      // Seen only by the syncs during the day: a nightly history would have shown Applied, then Offer.
      s('a1', 'Screen', '2025-06-02T02:00:00Z', '2025-06-02T10:00:00Z', 0, 8, 'ADVANCED'),
      s('a1', 'Onsite', '2025-06-02T10:00:00Z', '2025-06-02T15:00:00Z', 0, 5, 'ADVANCED'),
      // Still there: up to the start of the latest applications sync (the 3rd, 02:00).
      s('a1', 'Offer', '2025-06-02T15:00:00Z', null, 1, 11, null),
      s('a2', 'Applied', '2025-06-01T02:00:00Z', '2025-06-03T02:00:00Z', 2, 48, 'ADVANCED'),
      s('a2', 'Screen', '2025-06-03T02:00:00Z', null, 0, 0, null),
    ]);
  });

  it('lets hiring_funnel count the application in its current stage once', async () => {
    const rows = await query(`SELECT stage_id, reached, currently_in FROM hiring_funnel ORDER BY stage_index`);
    expect(rows).toEqual([
      { stage_id: 'Applied', reached: 2, currently_in: 0 },
      { stage_id: 'Screen', reached: 2, currently_in: 1 },
      { stage_id: 'Onsite', reached: 1, currently_in: 0 },
      { stage_id: 'Offer', reached: 1, currently_in: 1 },
    ]);
  });

  it('gives stage_survival the hours of the stretches between two nightly syncs', async () => {
    const rows = await query(`SELECT stage_id, stretches, left_stage, median_hours_in_stage FROM stage_survival ORDER BY stage_index`);
    expect(rows).toEqual([
      { stage_id: 'Applied', stretches: 2, left_stage: 2, median_hours_in_stage: 24 },
      { stage_id: 'Screen', stretches: 2, left_stage: 1, median_hours_in_stage: 8 },
      { stage_id: 'Onsite', stretches: 1, left_stage: 1, median_hours_in_stage: 5 },
      { stage_id: 'Offer', stretches: 1, left_stage: 0, median_hours_in_stage: null },
    ]);
  });
});

/** The funnel views with one row or more per integration, and what each is keyed by besides it. */
const PER_INTEGRATION = ['hiring_funnel', 'application_stage_history', 'funnel_cohorts', 'hire_survival', 'hire_summary', 'stage_survival'];

describe('organization_name of the funnel views', () => {
  // Renamed during the 2nd, then deleted on the 3rd: the name of its latest version, deletion or not.
  const INTEGRATION_VERSIONS = integrationRows([
    { at: '2025-06-01T02:00:00Z', organization: 'Acme GmbH' },
    { at: '2025-06-02T10:00:00Z', organization: 'Acme Corp' },
    { at: '2025-06-03T02:00:00Z', organization: 'Acme Corp', deleted: true },
  ]);

  it.each(PER_INTEGRATION)('%s names the organization of the integration’s latest version in integrations', async (view) => {
    // Act
    const rows = await query(`SELECT DISTINCT organization_name, count(*) OVER () > 0 AS has_rows FROM ${view}`, [INTEGRATION_VERSIONS]);
    // Assess
    expect(rows).toEqual([{ organization_name: 'Acme Corp', has_rows: true }]);
  });

  it.each(PER_INTEGRATION)('%s leaves it null when integrations has no row for the integration, and keeps every row', async (view) => {
    const named = await query(`SELECT count(*) AS n FROM ${view}`, [INTEGRATION_VERSIONS]);
    const rows = await query(`SELECT DISTINCT organization_name, count(*) OVER () AS n FROM ${view}`);
    expect(rows).toEqual([{ organization_name: null, n: named[0]?.n }]);
  });
});

describe('the report with organization names', () => {
  it('names the organization on the job cards and filters them by it', async () => {
    // Prepare
    const versions = integrationRows([{ at: '2025-06-01T02:00:00Z', organization: 'Acme Corp' }]);
    // Act
    const html = await withWarehouse([versions], async (run) => renderReport(await loadReportData(run, new Date('2025-06-03T12:00:00Z'))));
    // Assess
    expect(html).toMatch(/<article class="card"[^>]* data-filter-organization="0"[^>]* data-card="job">\s*<h3>j<\/h3>\s*<div class="sub">Acme Corp \(acme\) · /);
    expect(html).toContain('<select id="filter-organization" name="organization"><option value="" selected>all</option><option value="0">Acme Corp</option></select>');
  });

  it('counts every applications sync of the integration, several on one date included', async () => {
    const data = await withWarehouse([], (run) => loadReportData(run, new Date('2025-06-03T12:00:00Z')));
    expect(data.snapshots).toEqual([{ integrationId: 'acme', first: '2025-06-01', latest: '2025-06-03', snapshots: STARTS.length }]);
  });

  it('falls back to the tool alone where the organization is unknown', async () => {
    const html = await withWarehouse([], async (run) => renderReport(await loadReportData(run, new Date('2025-06-03T12:00:00Z'))));
    expect(html).toMatch(/<h3>j<\/h3>\s*<div class="sub">acme · /);
    expect(html).toContain('<option value="0">(unknown)</option>');
  });
});
