/**
 * The `_history` and `_latest` views and `application_stage_history` over a small versioned
 * warehouse written by hand: Parquet files of the versions each sync stored (a record unchanged adds
 * no row), registered in the local catalog, and the `syncs` rows of every completed sync. Two
 * integrations share an application id; one integration's first files predate the `_is_deleted`
 * column. Expected values are written out below, never derived from the views' SQL.
 *
 * Integration A (syncs of `applications` on June 1–5, of `jobs` on June 1–6):
 * - a1 changes twice (Applied on the 1st, Screen on the 2nd, Interview on the 4th), with its offers
 *   (child rows) stored with every version;
 * - a2 never changes after the 1st (in Screen);
 * - a3 is deleted in the ATS on the 4th (`remote_deleted_at` set);
 * - a4 appears on the 2nd and is no longer returned on the 5th (a deletion copy of its last version);
 * - a5 is hired on the 4th;
 * - the 3rd stores nothing (a sync with no change: its `syncs` row only).
 * Integration B (syncs of `applications` on June 2, 4 and 5): its own a1 moves from Applied to Screen
 * on the 4th; b2 came back deleted on the 2nd. Its June 2 file has no `_is_deleted` column.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLocalReportData } from '../../cli/commands/report.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import type { Cell } from '../../shared/flatten.ts';
import { encodeParquet } from '../../shared/parquet.ts';
import type { CatalogTable, ModelName, TableDef } from '../../shared/tables.ts';
import { SYNCS_TABLE, tableByName } from '../../shared/tables.ts';
import { dataFileKey, partitionPrefix, runPrefix } from '../../shared/warehouse/layout.ts';
import { objects } from '../helpers/history.ts';
import { tempDirs } from '../helpers/temp.ts';

const A = 'greenhouse:HistViewsAcme01';
const B = 'lever:HistViewsGlobex02';

/** When each sync started (source clock): the `_synced_at` of what it stored, the `valid_from` of its `syncs` row. */
const STARTED: Record<string, Record<string, string>> = {
  [A]: {
    '2025-06-01': '2025-06-01T08:00:00.000Z',
    '2025-06-02': '2025-06-02T08:00:00.000Z',
    '2025-06-03': '2025-06-03T08:00:00.000Z',
    '2025-06-04': '2025-06-04T09:30:00.000Z',
    '2025-06-05': '2025-06-05T08:00:00.000Z',
    '2025-06-06': '2025-06-06T08:00:00.000Z',
  },
  // B's syncs start later in the day than A's: a window over `id` alone would interleave the two a1.
  [B]: {
    '2025-06-02': '2025-06-02T10:00:00.000Z',
    '2025-06-04': '2025-06-04T11:00:00.000Z',
    '2025-06-05': '2025-06-05T11:00:00.000Z',
  },
};

type Row = Record<string, Cell>;

const table = (name: string): TableDef => {
  const t = tableByName(name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
};
const ms = (iso: string): number => Date.parse(iso);

/** An application version: open (`PENDING`) unless an outcome is given. */
const app = (id: string, stage: string, index: number, extra: Row = {}): Row => ({
  id,
  outcome: 'PENDING',
  job_id: 'j1',
  job_name: 'Backend Engineer',
  current_stage_id: stage,
  current_stage_name: { s0: 'Applied', s1: 'Screen', s2: 'Interview' }[stage] ?? null,
  current_stage_index: index,
  remote_created_at: ms('2025-05-20T12:00:00.000Z'),
  _is_deleted: false,
  ...extra,
});
const offer = (applicationId: string, position: number, offerId: string, status: string): Row => ({
  application_id: applicationId,
  position,
  offer_id: offerId,
  status,
  _is_deleted: false,
});

const tempDir = tempDirs('kombo-history-views-');
let db: WarehouseDb;

/** Writes one file of rows into a partition, as a sync stores them, and registers the partition. */
async function store(
  wh: { store: FolderStore; catalog: LocalCatalog },
  def: CatalogTable,
  integrationId: string,
  date: string,
  rows: readonly Row[],
  opts: { key?: string; legacy?: boolean } = {},
): Promise<void> {
  // A file written before `_is_deleted` existed lacks the column altogether.
  const columns = def.columns.filter((c) => !(opts.legacy === true && c.name === '_is_deleted'));
  const data = columns.filter((c) => c.name !== '_run_id' && c.name !== '_synced_at');
  const buffer = { table: { ...def, columns }, columns: data.map((c) => rows.map((r) => r[c.name] ?? null)), rowCount: rows.length };
  const runId = `20250601T000000Z-${date.slice(8)}hist`;
  const file = encodeParquet(buffer, { runId, syncedAt: ms(STARTED[integrationId]?.[date] as string) });
  const key = opts.key ?? dataFileKey(def.name, date, integrationId, runId, 0);
  await wh.store.put(key, file);
  const location = opts.key === undefined ? runPrefix(def.name, date, integrationId, runId) : partitionPrefix(def.name, date, integrationId);
  await wh.catalog.registerPartition(def, date, integrationId, location);
}

/** The `syncs` row of a completed sync of one model. */
async function synced(wh: { store: FolderStore; catalog: LocalCatalog }, integrationId: string, date: string, model: ModelName, versions: number): Promise<void> {
  const started = ms(STARTED[integrationId]?.[date] as string);
  const row: Row = {
    model,
    run_id: `20250601T000000Z-${date.slice(8)}hist`,
    mode: versions > 0 && date.endsWith('01') ? 'full' : 'incremental',
    updated_after: null,
    started_at: started,
    valid_from: started,
    records: versions,
    versions,
    deletions: 0,
    finished_at: started + 60_000,
  };
  await store(wh, SYNCS_TABLE, integrationId, date, [row], { key: `${partitionPrefix('syncs', date, integrationId)}${model}.parquet` });
}

beforeAll(async () => {
  const dir = tempDir();
  const folder = new FolderStore(dir);
  const wh = { store: folder, catalog: new LocalCatalog(folder) };
  const applications = table('applications');
  const offers = table('application_offers');
  const jobs = table('jobs');
  const stages = table('job_stages');

  // Integration A, applications.
  await store(wh, applications, A, '2025-06-01', [app('a1', 's0', 0), app('a2', 's1', 1), app('a3', 's0', 0), app('a5', 's1', 1)]);
  await store(wh, offers, A, '2025-06-01', [offer('a1', 0, 'o1', 'DRAFT')]);
  await store(wh, applications, A, '2025-06-02', [app('a1', 's1', 1), app('a4', 's1', 1)]);
  await store(wh, offers, A, '2025-06-02', [offer('a1', 0, 'o1', 'SENT')]);
  // 2025-06-03: nothing changed.
  await store(wh, applications, A, '2025-06-04', [
    app('a1', 's2', 2),
    app('a3', 's0', 0, { remote_deleted_at: ms('2025-06-03T17:00:00.000Z'), _is_deleted: true }),
    app('a5', 's2', 2, { outcome: 'HIRED' }),
  ]);
  await store(wh, offers, A, '2025-06-04', [offer('a1', 0, 'o1', 'SENT'), offer('a1', 1, 'o2', 'DRAFT')]);
  // a4 no longer returned by the full sync of the 5th: a copy of its last version, flagged.
  await store(wh, applications, A, '2025-06-05', [app('a4', 's1', 1, { _is_deleted: true })]);
  for (const [date, versions] of [['2025-06-01', 4], ['2025-06-02', 2], ['2025-06-03', 0], ['2025-06-04', 3], ['2025-06-05', 1]] as const) {
    await synced(wh, A, date, 'applications', versions);
  }

  // Integration A, jobs: one job, opened on May 1, unchanged after the first sync.
  await store(wh, jobs, A, '2025-06-01', [{ id: 'j1', name: 'Backend Engineer', status: 'OPEN', opened_at: ms('2025-05-01T09:00:00.000Z'), _is_deleted: false }]);
  await store(wh, stages, A, '2025-06-01', [
    { job_id: 'j1', position: 0, stage_id: 's0', name: 'Applied', index: 0, _is_deleted: false },
    { job_id: 'j1', position: 1, stage_id: 's1', name: 'Screen', index: 1, _is_deleted: false },
    { job_id: 'j1', position: 2, stage_id: 's2', name: 'Interview', index: 2, _is_deleted: false },
  ]);
  for (const date of ['2025-06-01', '2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05', '2025-06-06']) await synced(wh, A, date, 'jobs', date.endsWith('01') ? 1 : 0);

  // Integration B: its June 2 file predates the `_is_deleted` column.
  await store(wh, applications, B, '2025-06-02', [app('a1', 's0', 0), app('b2', 's0', 0, { remote_deleted_at: ms('2025-06-01T12:00:00.000Z') })], { legacy: true });
  await store(wh, applications, B, '2025-06-04', [app('a1', 's1', 1)]);
  for (const [date, versions] of [['2025-06-02', 2], ['2025-06-04', 1], ['2025-06-05', 0]] as const) await synced(wh, B, date, 'applications', versions);

  db = await openWarehouse(dir);
}, 60_000);

afterAll(() => db?.close());

/** A timestamp as DuckDB prints it in UTC. */
const ts = (iso: string | null): string | null => (iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 19)}+00`);
const at = (integrationId: string, date: string): string | null => ts(STARTED[integrationId]?.[date] ?? null);

describe('applications_history', () => {
  it('holds every stored version, each valid until the next version of the same record of the same integration', async () => {
    // Act
    const rows = await objects(
      db,
      `SELECT integration_id, id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, current_stage_id, outcome,
        CAST("_valid_from" AS VARCHAR) AS valid_from, CAST("_valid_to" AS VARCHAR) AS valid_to, "_is_current" AS is_current, "_is_deleted" AS is_deleted
      FROM applications_history ORDER BY integration_id, id, snapshot_date`,
    );
    // Assess
    const v = (integrationId: string, id: string, date: string, stage: string, outcome: string, next: string | null, deleted = false) => ({
      integration_id: integrationId,
      id,
      snapshot_date: date,
      current_stage_id: stage,
      outcome,
      valid_from: at(integrationId, date),
      valid_to: next === null ? null : at(integrationId, next),
      is_current: next === null,
      is_deleted: deleted,
    });
    expect(rows).toEqual([
      v(A, 'a1', '2025-06-01', 's0', 'PENDING', '2025-06-02'),
      v(A, 'a1', '2025-06-02', 's1', 'PENDING', '2025-06-04'),
      v(A, 'a1', '2025-06-04', 's2', 'PENDING', null),
      v(A, 'a2', '2025-06-01', 's1', 'PENDING', null),
      v(A, 'a3', '2025-06-01', 's0', 'PENDING', '2025-06-04'),
      v(A, 'a3', '2025-06-04', 's0', 'PENDING', null, true),
      v(A, 'a4', '2025-06-02', 's1', 'PENDING', '2025-06-05'),
      v(A, 'a4', '2025-06-05', 's1', 'PENDING', null, true),
      v(A, 'a5', '2025-06-01', 's1', 'PENDING', '2025-06-04'),
      v(A, 'a5', '2025-06-04', 's2', 'HIRED', null),
      v(B, 'a1', '2025-06-02', 's0', 'PENDING', '2025-06-04'),
      v(B, 'a1', '2025-06-04', 's1', 'PENDING', null),
      // No `_is_deleted` in its file: `remote_deleted_at` tells.
      v(B, 'b2', '2025-06-02', 's0', 'PENDING', null, true),
    ]);
  });

  it('gives child rows the validity of the parent version they were stored with', async () => {
    const rows = await objects(
      db,
      `SELECT CAST(snapshot_date AS VARCHAR) AS snapshot_date, offer_id, status, CAST("_valid_from" AS VARCHAR) AS valid_from,
        CAST("_valid_to" AS VARCHAR) AS valid_to, "_is_current" AS is_current, "_is_deleted" AS is_deleted
      FROM application_offers_history ORDER BY snapshot_date, position`,
    );
    expect(rows).toEqual([
      { snapshot_date: '2025-06-01', offer_id: 'o1', status: 'DRAFT', valid_from: at(A, '2025-06-01'), valid_to: at(A, '2025-06-02'), is_current: false, is_deleted: false },
      { snapshot_date: '2025-06-02', offer_id: 'o1', status: 'SENT', valid_from: at(A, '2025-06-02'), valid_to: at(A, '2025-06-04'), is_current: false, is_deleted: false },
      { snapshot_date: '2025-06-04', offer_id: 'o1', status: 'SENT', valid_from: at(A, '2025-06-04'), valid_to: null, is_current: true, is_deleted: false },
      { snapshot_date: '2025-06-04', offer_id: 'o2', status: 'DRAFT', valid_from: at(A, '2025-06-04'), valid_to: null, is_current: true, is_deleted: false },
    ]);
  });

  /** The applications as of T, as `integration:id@stage/outcome`, from the point-in-time filter of the docs. */
  const asOf = async (t: string): Promise<string[]> => {
    const rows = await objects(
      db,
      `SELECT integration_id, id, current_stage_id, outcome FROM applications_history
      WHERE "_valid_from" <= TIMESTAMP '${t}' AND ("_valid_to" IS NULL OR "_valid_to" > TIMESTAMP '${t}') AND NOT "_is_deleted"
      ORDER BY integration_id, id`,
    );
    return rows.map((r) => `${r.integration_id === A ? 'A' : 'B'}:${String(r.id)}@${String(r.current_stage_id)}/${String(r.outcome)}`);
  };

  it.each([
    // Before any sync: nothing known yet.
    ['2025-05-31 23:00:00', []],
    ['2025-06-01 12:00:00', ['A:a1@s0/PENDING', 'A:a2@s1/PENDING', 'A:a3@s0/PENDING', 'A:a5@s1/PENDING']],
    // The night with no change, and B's deleted b2 left out.
    ['2025-06-03 12:00:00', ['A:a1@s1/PENDING', 'A:a2@s1/PENDING', 'A:a3@s0/PENDING', 'A:a4@s1/PENDING', 'A:a5@s1/PENDING', 'B:a1@s0/PENDING']],
    // Minutes before A's sync of the 4th started: still the state of the 2nd.
    ['2025-06-04 09:29:59', ['A:a1@s1/PENDING', 'A:a2@s1/PENDING', 'A:a3@s0/PENDING', 'A:a4@s1/PENDING', 'A:a5@s1/PENDING', 'B:a1@s0/PENDING']],
    ['2025-06-04 12:00:00', ['A:a1@s2/PENDING', 'A:a2@s1/PENDING', 'A:a4@s1/PENDING', 'A:a5@s2/HIRED', 'B:a1@s1/PENDING']],
    ['2025-06-05 12:00:00', ['A:a1@s2/PENDING', 'A:a2@s1/PENDING', 'A:a5@s2/HIRED', 'B:a1@s1/PENDING']],
  ])('as of %s gives the nightly state of that moment', async (t, expected) => {
    expect(await asOf(t)).toEqual(expected);
  });
});

describe('applications_latest', () => {
  it('holds the current version of every record not deleted, dated by the sync that stored it', async () => {
    const rows = await objects(
      db,
      'SELECT integration_id, id, current_stage_id, outcome, CAST(snapshot_date AS VARCHAR) AS snapshot_date, "_is_deleted" AS is_deleted FROM applications_latest ORDER BY integration_id, id',
    );
    expect(rows).toEqual([
      { integration_id: A, id: 'a1', current_stage_id: 's2', outcome: 'PENDING', snapshot_date: '2025-06-04', is_deleted: false },
      { integration_id: A, id: 'a2', current_stage_id: 's1', outcome: 'PENDING', snapshot_date: '2025-06-01', is_deleted: false },
      { integration_id: A, id: 'a5', current_stage_id: 's2', outcome: 'HIRED', snapshot_date: '2025-06-04', is_deleted: false },
      { integration_id: B, id: 'a1', current_stage_id: 's1', outcome: 'PENDING', snapshot_date: '2025-06-04', is_deleted: false },
    ]);
  });
});

describe('application_stage_history over versions', () => {
  it('gives each stretch its versions’ dates and times, and counts an open one up to the latest applications sync', async () => {
    const rows = await objects(
      db,
      `SELECT integration_id, application_id, stage_id, CAST(entered_on AS VARCHAR) AS entered_on, CAST(entered_at AS VARCHAR) AS entered_at,
        CAST(left_on AS VARCHAR) AS left_on, CAST(left_at AS VARCHAR) AS left_at, days_in_stage, is_current, outcome_after
      FROM application_stage_history ORDER BY integration_id, application_id, entered_on`,
    );
    const s = (integrationId: string, id: string, stage: string, entered: string, left: string | null, days: number, after: string | null) => ({
      integration_id: integrationId,
      application_id: id,
      stage_id: stage,
      entered_on: entered,
      entered_at: at(integrationId, entered),
      left_on: left,
      left_at: left === null ? null : at(integrationId, left),
      days_in_stage: days,
      is_current: left === null,
      outcome_after: after,
    });
    expect(rows).toEqual([
      s(A, 'a1', 's0', '2025-06-01', '2025-06-02', 1, 'ADVANCED'),
      s(A, 'a1', 's1', '2025-06-02', '2025-06-04', 2, 'ADVANCED'),
      // Open: up to A's latest applications sync (the 5th), not its latest jobs sync (the 6th).
      s(A, 'a1', 's2', '2025-06-04', null, 1, null),
      // Unchanged since the first sync: one version, four days by the 5th.
      s(A, 'a2', 's1', '2025-06-01', null, 4, null),
      s(A, 'a3', 's0', '2025-06-01', '2025-06-04', 3, 'DELETED'),
      s(A, 'a4', 's1', '2025-06-02', '2025-06-05', 3, 'DELETED'),
      s(A, 'a5', 's1', '2025-06-01', '2025-06-04', 3, 'HIRED'),
      s(B, 'a1', 's0', '2025-06-02', '2025-06-04', 2, 'ADVANCED'),
      // B's sync of the 5th stored nothing; its `syncs` row still dates the stretch.
      s(B, 'a1', 's1', '2025-06-04', null, 1, null),
    ]);
  });
});

describe('the funnel views over versions', () => {
  it('time_to_fill counts an unchanged open job up to the latest jobs sync, and dates its first hire by the hire’s version', async () => {
    const rows = await objects(
      db,
      'SELECT job_id, CAST(opened_on AS VARCHAR) AS opened_on, CAST(first_hire_on AS VARCHAR) AS first_hire_on, days_to_fill, days_open, hires FROM time_to_fill',
    );
    expect(rows).toEqual([{ job_id: 'j1', opened_on: '2025-05-01', first_hire_on: '2025-06-04', days_to_fill: 34, days_open: 36, hires: 1 }]);
  });

  it('hiring_funnel lists the job’s stages from its only version, counting live applications and open ones', async () => {
    const rows = await objects(
      db,
      `SELECT stage_id, reached, currently_in, hired, median_days_in_stage FROM hiring_funnel WHERE integration_id = '${A}' ORDER BY stage_index`,
    );
    // a3 and a4 are deleted; a1 and a5 reached Interview; a1 left Applied and Screen after the first sync (1 and 2 days).
    expect(rows).toEqual([
      { stage_id: 's0', reached: 3, currently_in: 0, hired: 1, median_days_in_stage: null },
      { stage_id: 's1', reached: 3, currently_in: 1, hired: 1, median_days_in_stage: 2 },
      { stage_id: 's2', reached: 2, currently_in: 1, hired: 1, median_days_in_stage: null },
    ]);
  });

  it('time_to_hire dates a hire by the first version showing it', async () => {
    const rows = await objects(db, 'SELECT integration_id, application_id, CAST(hired_on AS VARCHAR) AS hired_on, days_to_hire FROM time_to_hire');
    expect(rows).toEqual([{ integration_id: A, application_id: 'a5', hired_on: '2025-06-04', days_to_hire: 15 }]);
  });
});

describe('the report over versions', () => {
  it('counts every completed applications sync of an integration, those that stored nothing included', async () => {
    const { snapshots } = await loadLocalReportData(db);
    expect(snapshots).toEqual([
      { integrationId: A, first: '2025-06-01', latest: '2025-06-05', snapshots: 5 },
      { integrationId: B, first: '2025-06-02', latest: '2025-06-05', snapshots: 3 },
    ]);
  });
});

describe('the history examples of docs/BI.md', () => {
  const blocks = [...readFileSync(new URL('../../docs/BI.md', import.meta.url), 'utf8').matchAll(/^```sql\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
  const example = (pattern: RegExp): string => {
    const sql = blocks.find((b) => pattern.test(b));
    if (sql === undefined) throw new Error(`docs/BI.md has no example matching ${String(pattern)}`);
    return sql;
  };

  it('give the open applications per stage as of a moment', async () => {
    const rows = await objects(db, example(/FROM applications_history\s+WHERE "_valid_from" <= TIMESTAMP/));
    expect(rows).toEqual([
      { current_stage_name: 'Screen', open_applications: 2 },
      { current_stage_name: 'Interview', open_applications: 1 },
    ]);
  });

  it('give the open applications at the end of every night a change was stored', async () => {
    const rows = await objects(db, example(/WITH nights AS/));
    const night = (integrationId: string, date: string, n: number) => ({ integration_id: integrationId, night: date, open_applications: n });
    expect(rows.map((r) => ({ ...r, night: String(r.night) }))).toEqual([
      night(A, '2025-06-01', 4),
      night(A, '2025-06-02', 5),
      night(A, '2025-06-04', 3),
      night(A, '2025-06-05', 2),
      night(B, '2025-06-02', 1),
      night(B, '2025-06-04', 1),
    ]);
  });
});
