/**
 * `data_quality` on DuckDB over hand-written histories: every check finds exactly the records
 * planted for it, and nothing on the same histories without them.
 */
import { describe, expect, it } from 'vitest';
import type { HandApp, HandJob } from '../helpers/hand-warehouse.ts';
import { INTEGRATION, applicationRows, handWarehouse, syncRows } from '../helpers/hand-warehouse.ts';
import { DATA_QUALITY_CHECKS } from '../../shared/analytics/views.ts';

/** Daily syncs from 2025-06-01 to 2025-07-10; full ones on the first day and on 2025-06-29. */
const DATES = Array.from({ length: 40 }, (_, k) => new Date(Date.UTC(2025, 5, 1 + k)).toISOString().slice(0, 10));
const FULL = ['2025-06-01', '2025-06-29'];
const JOBS: HandJob[] = [{ id: 'eng', stages: ['Applied', 'Screen', 'Onsite', 'Offer'] }];
const MODELS = ['applications', 'candidates', 'jobs', 'offers', 'interviews'];

const at = (date: string, stage: string, extra: Partial<HandApp['versions'][number]> = {}) => ({ date, stage, ...extra });
const app = (id: string, ...versions: HandApp['versions']): HandApp => ({ id, job: 'eng', created: '2025-05-20T09:00:00Z', versions });

/** Applications every check passes. */
const CLEAN: HandApp[] = [
  app('clean1', at('2025-06-01', 'Applied'), at('2025-06-03', 'Screen'), at('2025-06-05', 'Onsite'), at('2025-06-07', 'Offer'), at('2025-06-09', 'Offer', { outcome: 'HIRED' })),
  app('declined1', at('2025-06-01', 'Applied'), at('2025-06-06', 'Applied', { outcome: 'DECLINED', reason: 'Too junior' })),
  app('fresh1', at('2025-06-01', 'Applied'), at('2025-06-29', 'Screen', { changedAt: '2025-06-28T12:00:00Z' }), at('2025-07-08', 'Onsite')),
];

/** One application (or more) planted for each application check, by check. */
const PLANTED: Record<string, HandApp[]> = {
  skipped_stage: [app('skip1', at('2025-06-01', 'Applied'), at('2025-06-04', 'Onsite'), at('2025-07-01', 'Offer'))],
  moved_back: [app('back1', at('2025-06-01', 'Screen'), at('2025-06-03', 'Onsite'), at('2025-06-05', 'Screen'), at('2025-07-05', 'Onsite'))],
  declined_without_reason: [app('noreason1', at('2025-06-01', 'Applied'), at('2025-06-06', 'Applied', { outcome: 'DECLINED', reason: ' ' }))],
  hired_without_accepted_offer: [app('nooffer1', at('2025-06-01', 'Offer'), at('2025-06-08', 'Offer', { outcome: 'HIRED' }))],
  stale_open_application: [app('stale1', at('2025-06-01', 'Screen', { updatedAt: '2025-05-02T10:00:00Z' }))],
  application_of_unknown_job: [{ id: 'ghostapp1', job: 'ghost', created: null, versions: [at('2025-07-08', 'Applied')] }],
  found_only_by_full_sync: [app('silent1', at('2025-06-01', 'Applied'), at('2025-06-29', 'Screen', { changedAt: '2025-06-20T08:00:00Z' }), at('2025-07-08', 'Onsite'))],
};

/** What each check should find when everything is planted. */
const EXPECTED: Record<string, string[]> = {
  skipped_stage: ['skip1'],
  moved_back: ['back1'],
  declined_without_reason: ['noreason1'],
  hired_without_accepted_offer: ['nooffer1'],
  stale_open_application: ['stale1'],
  duplicate_candidate_email: ['c-dup1', 'c-dup2'],
  application_of_unknown_job: ['ghostapp1'],
  found_only_by_full_sync: ['applications/silent1', 'jobs/gone'],
};

async function checks(planted: boolean): Promise<Record<string, unknown>[]> {
  const apps = [...CLEAN, ...(planted ? Object.values(PLANTED).flat() : [])];
  return handWarehouse(async (run) => {
    await run(applicationRows(apps, JOBS));
    await run(`INSERT INTO jobs (id, name, status, "_is_deleted", snapshot_date, integration_id) VALUES
      ('eng', 'Engineer', 'OPEN', false, DATE '2025-06-01', '${INTEGRATION}'),
      ('gone', 'Gone', 'OPEN', false, DATE '2025-06-01', '${INTEGRATION}')
      ${planted ? `, ('gone', 'Gone', 'OPEN', true, DATE '2025-06-29', '${INTEGRATION}')` : ''}`);
    await run(`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES
      ${JOBS[0]!.stages.map((s, k) => `('eng', ${k}, '${s}', '${s}', ${k}, DATE '2025-06-01', '${INTEGRATION}')`).join(', ')}`);
    await run(`INSERT INTO offers (id, application_id, status, snapshot_date, integration_id) VALUES
      ('o1', 'clean1', 'ACCEPTED', DATE '2025-06-09', '${INTEGRATION}'), ('o2', 'nooffer1', 'DECLINED', DATE '2025-06-08', '${INTEGRATION}')`);
    const emails: [string, string][] = [['c-clean1', 'ana@example.com'], ['c-declined1', 'bo@example.com'], ['c-dup1', planted ? 'Sam@Example.com ' : 'sam@example.com'], ['c-dup2', planted ? ' sam@example.COM' : 'sam2@example.com']];
    await run(`INSERT INTO candidates (id, snapshot_date, integration_id) VALUES ${emails.map(([c]) => `('${c}', DATE '2025-06-01', '${INTEGRATION}')`).join(', ')}`);
    await run(`INSERT INTO candidate_email_addresses (candidate_id, "position", email_address, snapshot_date, integration_id) VALUES
      ${emails.map(([c, e]) => `('${c}', 0, '${e}', DATE '2025-06-01', '${INTEGRATION}')`).join(', ')}`);
    await run(syncRows(MODELS, DATES, FULL));
    return run('SELECT check_name, records, share, example_ids FROM data_quality ORDER BY check_name');
  });
}

describe('data_quality', () => {
  it('finds exactly what was planted for each check, one row per check', async () => {
    const rows = await checks(true);
    expect(rows.map((r) => r.check_name)).toEqual([...DATA_QUALITY_CHECKS].sort());
    for (const r of rows) {
      const want = EXPECTED[r.check_name as string] as string[];
      expect({ check: r.check_name, records: r.records, example_ids: r.example_ids }).toEqual({ check: r.check_name, records: want.length, example_ids: want.join(', ') });
    }
  });

  it('gives each check its share of the records it looks at', async () => {
    const share = Object.fromEntries((await checks(true)).map((r) => [r.check_name, r.share]));
    // Applications with a move between two listed stages: clean1, fresh1, skip1, back1, silent1.
    expect(share.skipped_stage).toBeCloseTo(1 / 5, 12);
    expect(share.moved_back).toBeCloseTo(1 / 5, 12);
    expect(share.declined_without_reason).toBeCloseTo(1 / 2, 12);
    expect(share.hired_without_accepted_offer).toBeCloseTo(1 / 2, 12);
    // Open: fresh1, skip1, back1, stale1, ghostapp1, silent1.
    expect(share.stale_open_application).toBeCloseTo(1 / 6, 12);
    expect(share.duplicate_candidate_email).toBeCloseTo(2 / 4, 12);
  });

  it('finds nothing, every check still answering with 0, on the same histories without the planted records', async () => {
    const rows = await checks(false);
    expect(rows).toEqual(
      [...DATA_QUALITY_CHECKS].sort().map((c) => expect.objectContaining({ check_name: c, records: 0, example_ids: null })),
    );
  });
});
