/**
 * What compaction leaves of the answers, read back by DuckDB through the analytics views: the
 * stretch an application was in at the cutoff keeps its start (known or unknown), and erasing a user
 * removes their copies from the tables of other models. The warehouses are written with the
 * pipeline's own pieces (Parquet encoder, local catalog, stream state, index files, `syncs` rows), so
 * the dates and versions are exactly those the checks name.
 */
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import type { Cell } from '../../shared/flatten.ts';
import { encodeParquet } from '../../shared/parquet.ts';
import { compactWarehouse } from '../../shared/pipeline/compact.ts';
import { writeSyncRow } from '../../shared/pipeline/syncs-row.ts';
import { encodeJson } from '../../shared/state/codec.ts';
import { stateKeys } from '../../shared/state/keys.ts';
import type { IndexEntry, StreamCommit, StreamState } from '../../shared/state/streams.ts';
import { writeIndexFile } from '../../shared/state/streams.ts';
import type { ModelName } from '../../shared/tables.ts';
import { SYNCS_TABLE, tableByName, tablesForModel } from '../../shared/tables.ts';
import { dataFileKey, runPrefix } from '../../shared/warehouse/layout.ts';
import { objects } from '../helpers/history.ts';
import { tempDirs } from '../helpers/temp.ts';

const INTEGRATION = 'greenhouse:AnswersTestAAAAbbbb';

/** One date's sync of a stream: its rows per table, and the versions (id, hash) they are. */
interface Sync {
  readonly date: string;
  readonly mode: 'full' | 'incremental';
  readonly rows: Readonly<Record<string, readonly Record<string, Cell>[]>>;
}

const runOf = (date: string) => `sync-${date.replace(/-/g, '')}`;
const syncedAt = (date: string) => Date.parse(`${date}T02:00:00Z`);

/** Write one stream's syncs: partitions, catalog, index files, commits and `syncs` rows. */
async function buildStream(dir: string, model: ModelName, syncs: readonly Sync[]): Promise<void> {
  const store = new FolderStore(dir);
  const catalog = new LocalCatalog(store);
  const [own] = tablesForModel(model);
  const index = new Map<string, IndexEntry>();
  let state: StreamState = { integrationId: INTEGRATION, model, commits: [] };
  for (const sync of syncs) {
    const run = runOf(sync.date);
    for (const [name, rows] of Object.entries(sync.rows)) {
      const table = tableByName(name)!;
      const columns = table.columns.filter((c) => c.name !== '_run_id' && c.name !== '_synced_at').map((c) => rows.map((r) => r[c.name] ?? (c.name === '_is_deleted' ? false : null)));
      await store.put(dataFileKey(name, sync.date, INTEGRATION, run, 0), encodeParquet({ table, columns, rowCount: rows.length }, { runId: run, syncedAt: syncedAt(sync.date) }));
      await catalog.registerPartition(table, sync.date, INTEGRATION, runPrefix(name, sync.date, INTEGRATION, run));
    }
    const changes = new Map<string, IndexEntry>((sync.rows[own!.name] ?? []).map((r) => [r['id'] as string, { h: JSON.stringify(r), d: r['_is_deleted'] === true, v: sync.date }]));
    for (const [id, e] of changes) index.set(id, e);
    const key = stateKeys.index(INTEGRATION, model, sync.date, run);
    await writeIndexFile(store, key, sync.mode === 'full' ? index : changes);
    const startedAt = new Date(syncedAt(sync.date)).toISOString();
    const commit: StreamCommit = { snapshotDate: sync.date, runId: run, mode: sync.mode, startedAt, updatedAfter: null, records: changes.size, versions: changes.size, deletions: 0, index: key };
    state = { ...state, commits: [...state.commits, commit] };
    const ref = { integrationId: INTEGRATION, model, runId: run, snapshotDate: sync.date };
    const syncs = await writeSyncRow(store, ref, { mode: sync.mode, startedAt }, syncedAt(sync.date), { records: changes.size, versions: changes.size, deletions: 0 }, new Date(syncedAt(sync.date) + 60_000));
    await catalog.registerPartition(SYNCS_TABLE, sync.date, INTEGRATION, syncs);
  }
  await store.put(stateKeys.stream(INTEGRATION, model), encodeJson(state));
}

const newWarehouse = tempDirs('kombo-answers-');

async function compact(dir: string, today: string, retentionDays: number, erase?: string[]) {
  const store = new FolderStore(dir);
  return compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: `compact-${today.replace(/-/g, '')}`, today, retentionDays, ...(erase && { erase }) });
}

async function query(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await openWarehouse(dir);
  try {
    return await objects(db, sql);
  } finally {
    db.close();
  }
}

/** An application's version: open in a stage, or closed with an outcome. */
const application = (id: string, stage: string, index: number, extra: Record<string, Cell> = {}): Record<string, Cell> => ({
  id,
  job_id: 'J1',
  job_name: 'Engineer',
  outcome: 'PENDING',
  current_stage_id: stage,
  current_stage_name: `Stage ${stage}`,
  current_stage_index: index,
  ...extra,
});

describe('compaction keeps the answers at and after its cutoff', () => {
  // Retention 10 days from 2026-01-20: versions stored before 2026-01-10 are compacted.
  const TODAY = '2026-01-20';
  const RETENTION = 10;
  const CUTOFF = '2026-01-10';
  /**
   * | application | 01-01 (first sync, full) | 01-03 | 01-05 | 01-12 | 01-15 |
   * |---|---|---|---|---|---|
   * | P (start unknown) | S1 | S1, field changed | | S2 | |
   * | Q (start known) | S0 | S1 | S1, field changed | | S2 |
   * | R (moved before the cutoff) | S1 | S2 | | | |
   */
  const SYNCS: readonly Sync[] = [
    { date: '2026-01-01', mode: 'full', rows: { applications: [application('P', 'S1', 1), application('Q', 'S0', 0), application('R', 'S1', 1)] } },
    { date: '2026-01-03', mode: 'incremental', rows: { applications: [application('P', 'S1', 1, { remote_url: 'https://ats.example/p' }), application('Q', 'S1', 1), application('R', 'S2', 2)] } },
    { date: '2026-01-05', mode: 'incremental', rows: { applications: [application('Q', 'S1', 1, { remote_url: 'https://ats.example/q' })] } },
    { date: '2026-01-12', mode: 'incremental', rows: { applications: [application('P', 'S2', 2)] } },
    { date: '2026-01-15', mode: 'incremental', rows: { applications: [application('Q', 'S2', 2)] } },
  ];

  /** The applications above, and their job listing its three stages (unchanged since the first sync). */
  async function buildWarehouse(dir: string): Promise<void> {
    await buildStream(dir, 'applications', SYNCS);
    const stages = ['S0', 'S1', 'S2'].map((id, i) => ({ job_id: 'J1', position: i, stage_id: id, name: `Stage ${id}`, index: i }));
    await buildStream(dir, 'jobs', [{ date: '2026-01-01', mode: 'full', rows: { jobs: [{ id: 'J1', name: 'Engineer', status: 'OPEN' }], job_stages: stages } }]);
  }

  /** Every answer at and after the cutoff: the stretches open at or after it, the funnel, the history as of each date. */
  async function answers(dir: string): Promise<Record<string, unknown>> {
    const stretches = await query(
      dir,
      `SELECT application_id, stage_id, CAST(entered_on AS VARCHAR) AS entered_on, CAST(left_on AS VARCHAR) AS left_on, days_in_stage, is_current, outcome_after
       FROM application_stage_history WHERE left_on IS NULL OR left_on >= DATE '${CUTOFF}' ORDER BY ALL`,
    );
    const funnel = await query(dir, `SELECT stage_id, stage_index, reached, currently_in, conversion_to_next, hired, median_days_in_stage FROM hiring_funnel ORDER BY stage_index, stage_id`);
    const asOf: Record<string, unknown> = {};
    for (const d of ['2026-01-10', '2026-01-12', '2026-01-15', '2026-01-20']) {
      const at = `TIMESTAMPTZ '${d} 12:00:00+00'`;
      asOf[d] = await query(dir, `SELECT id, current_stage_id, remote_url, CAST(_valid_from AS VARCHAR) AS f FROM applications_history WHERE _valid_from <= ${at} AND (_valid_to IS NULL OR _valid_to > ${at}) AND NOT _is_deleted ORDER BY id`);
    }
    return { stretches, funnel, asOf };
  }

  it('a stretch under way at the cutoff keeps its start, and a start unknown stays unknown', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const before = await answers(dir);
    // Q entered S1 on 01-03 and left on 01-15: 12 days; P was in S1 at the first sync: its start is
    // unknown, so the median of S1 counts Q alone.
    expect(before['stretches']).toContainEqual({ application_id: 'Q', stage_id: 'S1', entered_on: '2026-01-03', left_on: '2026-01-15', days_in_stage: 12, is_current: false, outcome_after: 'ADVANCED' });
    expect(before['stretches']).toContainEqual({ application_id: 'P', stage_id: 'S1', entered_on: '2026-01-01', left_on: '2026-01-12', days_in_stage: 11, is_current: false, outcome_after: 'ADVANCED' });
    expect((before['funnel'] as Record<string, unknown>[]).find((r) => r['stage_id'] === 'S1')?.['median_days_in_stage']).toBe(12);

    await compact(dir, TODAY, RETENTION);

    expect(await answers(dir)).toEqual(before);
  });

  it('a later compaction, its cutoff within the same stretch, still keeps its start', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const before = await answers(dir);
    await compact(dir, '2026-01-14', 10);
    await compact(dir, TODAY, RETENTION);
    expect(await answers(dir)).toEqual(before);
  });
});

describe('erasing an ATS user', () => {
  const user = (id: string, name: string) => ({ user_id: id, first_name: name, last_name: `${name}son`, email: `${name.toLowerCase()}@example.com` });

  it('removes their rows from every table that copies them, and leaves the records they were on', async () => {
    const dir = newWarehouse();
    await buildStream(dir, 'users', [
      { date: '2026-01-01', mode: 'full', rows: { users: [{ id: 'U1', ...user('U1', 'Una') }, { id: 'U2', ...user('U2', 'Ugo') }].map(({ user_id: _, ...u }) => u) } },
    ]);
    await buildStream(dir, 'jobs', [
      { date: '2026-01-01', mode: 'full', rows: { jobs: [{ id: 'J1', name: 'Engineer' }], job_hiring_team: [{ job_id: 'J1', position: 0, ...user('U1', 'Una') }, { job_id: 'J1', position: 1, ...user('U2', 'Ugo') }] } },
      { date: '2026-01-05', mode: 'incremental', rows: { jobs: [{ id: 'J1', name: 'Senior engineer' }], job_hiring_team: [{ job_id: 'J1', position: 0, ...user('U1', 'Una') }] } },
    ]);
    await buildStream(dir, 'interviews', [
      { date: '2026-01-03', mode: 'full', rows: { interviews: [{ id: 'I1', title: 'Onsite' }], interview_users: [{ interview_id: 'I1', position: 0, ...user('U1', 'Una') }, { interview_id: 'I1', position: 1, ...user('U2', 'Ugo') }] } },
    ]);

    await compact(dir, '2026-01-20', 365, ['U1']);

    const copies = await query(
      dir,
      `SELECT 'job_hiring_team' AS t, user_id, CAST(snapshot_date AS VARCHAR) AS d FROM job_hiring_team
       UNION ALL SELECT 'interview_users', user_id, CAST(snapshot_date AS VARCHAR) FROM interview_users
       UNION ALL SELECT 'users', id, CAST(snapshot_date AS VARCHAR) FROM users ORDER BY ALL`,
    );
    expect(copies).toEqual([
      { t: 'interview_users', user_id: 'U2', d: '2026-01-03' },
      { t: 'job_hiring_team', user_id: 'U2', d: '2026-01-01' },
      { t: 'users', user_id: 'U2', d: '2026-01-01' },
    ]);
    const people = await query(dir, `SELECT count(*) AS n FROM (SELECT email FROM job_hiring_team UNION ALL SELECT email FROM interview_users) WHERE email = 'una@example.com'`);
    expect(people).toEqual([{ n: 0 }]);
    // The job and the interview stay, every version.
    expect(await query(dir, `SELECT id, CAST(snapshot_date AS VARCHAR) AS d FROM jobs UNION ALL SELECT id, CAST(snapshot_date AS VARCHAR) FROM interviews ORDER BY ALL`)).toEqual([
      { id: 'I1', d: '2026-01-03' },
      { id: 'J1', d: '2026-01-01' },
      { id: 'J1', d: '2026-01-05' },
    ]);
  });
});
