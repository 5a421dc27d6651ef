/**
 * Compaction of a warehouse of versions, read back by DuckDB. The warehouse is written with the
 * pipeline's own pieces (Parquet encoder, local catalog, stream state and index files), so the
 * dates, changes and deletions are exactly those the checks name:
 *
 * | candidate | 2023-11-01 (full) | 2024-01-10 (full) | 2024-06-01 | 2025-06-01 (full) | 2026-02-01 |
 * |---|---|---|---|---|---|
 * | A | v1 | unchanged | | unchanged | |
 * | B | v1 | unchanged | v2 | unchanged | |
 * | C | v1 | unchanged | deleted | | |
 * | E | v1 | unchanged | | v2 | |
 * | F | | | | | v1 |
 *
 * Each candidate version has one email row (a child row following its parent).
 */
import { cpSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { consecutiveDays, createSandboxTimeline, startSandbox } from '../../sandbox/index.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { compactInvocation, parseCompactorEvent } from '../../shared/adapters/aws/compactor.ts';
import { RETENTION_DAYS_ENV, parseCompactorEnv } from '../../shared/adapters/aws/compactor-env.ts';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { VIEWS } from '../../shared/analytics/views.ts';
import type { Cell } from '../../shared/flatten.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { encodeParquet } from '../../shared/parquet.ts';
import { compactWarehouse } from '../../shared/pipeline/compact.ts';
import { retentionCutoff } from '../../shared/retention.ts';
import type { CompactionReport } from '../../shared/pipeline/compact.ts';
import type { TableDef } from '../../shared/tables.ts';
import { MODELS, TABLES, tableByName } from '../../shared/tables.ts';
import { dataFileKey, runPrefix } from '../../shared/warehouse/layout.ts';
import { runCli } from '../helpers/cli.ts';
import { buildHistoryWarehouse, objects } from '../helpers/history.ts';
import { tempDirs } from '../helpers/temp.ts';
import { encodeJson } from '../../shared/state/codec.ts';
import { runKeys, stateKeys } from '../../shared/state/keys.ts';
import { readStreamState, writeIndexFile } from '../../shared/state/streams.ts';
import type { IndexEntry, StreamCommit, StreamState } from '../../shared/state/streams.ts';

const INTEGRATION = 'greenhouse:CompactTestAAAAbbbb';
const CANDIDATES = tableByName('candidates')!;
const EMAILS = tableByName('candidate_email_addresses')!;
const D0 = '2023-11-01';
const D1 = '2024-01-10';
const D2 = '2024-06-01';
const D3 = '2025-06-01';
const D4 = '2026-02-01';

interface Version {
  readonly id: string;
  readonly name: string;
  readonly deleted?: boolean;
}

/** What each date's sync stored, and how. */
const SYNCS: readonly { date: string; mode: 'full' | 'incremental'; versions: readonly Version[] }[] = [
  { date: D0, mode: 'full', versions: [{ id: 'A', name: 'Ada' }, { id: 'B', name: 'Bo' }, { id: 'C', name: 'Cy' }, { id: 'E', name: 'Eve' }] },
  { date: D1, mode: 'full', versions: [] },
  { date: D2, mode: 'incremental', versions: [{ id: 'B', name: 'Bob' }, { id: 'C', name: 'Cy', deleted: true }] },
  { date: D3, mode: 'full', versions: [{ id: 'E', name: 'Eva' }] },
  { date: D4, mode: 'incremental', versions: [{ id: 'F', name: 'Fay' }] },
];

const runOf = (date: string) => `sync-${date.replace(/-/g, '')}`;
const syncedAt = (date: string) => Date.parse(`${date}T02:00:00Z`);

/** One table's rows as the pipeline writes them (every data column, in order; meta columns filled by the encoder). */
function parquetOf(table: TableDef, rows: readonly Record<string, Cell>[], date: string): Uint8Array {
  const columns = table.columns.filter((c) => c.name !== '_run_id' && c.name !== '_synced_at').map((c) => rows.map((r) => r[c.name] ?? null));
  return encodeParquet({ table, columns, rowCount: rows.length }, { runId: runOf(date), syncedAt: syncedAt(date) });
}

/** Write the warehouse of the table above: partitions, catalog, commits, index files, run state. */
async function buildWarehouse(dir: string, integrationId: string = INTEGRATION): Promise<void> {
  const store = new FolderStore(dir);
  const catalog = new LocalCatalog(store);
  const index = new Map<string, IndexEntry>();
  let state: StreamState = { integrationId, model: 'candidates', commits: [] };
  for (const sync of SYNCS) {
    const run = runOf(sync.date);
    if (sync.versions.length > 0) {
      const people = sync.versions.map((v) => ({
        id: v.id,
        first_name: v.name,
        last_name: `${v.id}son`,
        remote_deleted_at: v.deleted === true ? syncedAt(sync.date) - 3_600_000 : null,
        _is_deleted: v.deleted === true,
      }));
      const emails = sync.versions.map((v) => ({ candidate_id: v.id, position: 0, email_address: `${v.name.toLowerCase()}@example.com`, type: 'PERSONAL', _is_deleted: v.deleted === true }));
      for (const [table, rows] of [[CANDIDATES, people], [EMAILS, emails]] as const) {
        await store.put(dataFileKey(table.name, sync.date, integrationId, run, 0), parquetOf(table, rows, sync.date));
        await catalog.registerPartition(table, sync.date, integrationId, runPrefix(table.name, sync.date, integrationId, run));
      }
    }
    const changes = new Map<string, IndexEntry>(sync.versions.map((v) => [v.id, { h: `${v.name}${v.deleted === true ? '-' : ''}`, d: v.deleted === true, v: sync.date }]));
    for (const [id, e] of changes) index.set(id, e);
    const key = stateKeys.index(integrationId, 'candidates', sync.date, run);
    await writeIndexFile(store, key, sync.mode === 'full' ? index : changes);
    const commit: StreamCommit = {
      snapshotDate: sync.date,
      runId: run,
      mode: sync.mode,
      startedAt: new Date(syncedAt(sync.date)).toISOString(),
      updatedAfter: null,
      records: sync.versions.length,
      versions: sync.versions.length,
      deletions: sync.versions.filter((v) => v.deleted === true).length,
      index: key,
    };
    state = { ...state, commits: [...state.commits, commit] };
    await store.put(runKeys.plan(run), encodeJson({ runId: run, snapshotDate: sync.date, streams: [] }));
    await store.put(runKeys.success(run), encodeJson({ runId: run }));
  }
  await store.put(stateKeys.stream(integrationId, 'candidates'), encodeJson(state));
  // A run of an old date that never ended keeps its state.
  await store.put(runKeys.plan('unended-backfill'), encodeJson({ runId: 'unended-backfill', snapshotDate: D0, streams: [] }));
}

const newWarehouse = tempDirs('kombo-compact-');

async function compact(dir: string, today: string, retentionDays: number, erase?: string[]): Promise<CompactionReport> {
  const store = new FolderStore(dir);
  return compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: `compact-${today.replace(/-/g, '')}`, today, retentionDays, ...(erase && { erase }) });
}

/** Every stored version: `id@date` (deleted ones marked `!`), and every email row: `id@date`. */
async function stored(dir: string): Promise<{ versions: string[]; emails: string[] }> {
  const db = await openWarehouse(dir);
  try {
    const v = await objects(db, `SELECT id, CAST(snapshot_date AS VARCHAR) AS d, _is_deleted AS del FROM candidates ORDER BY id, d`);
    const e = await objects(db, `SELECT candidate_id AS id, CAST(snapshot_date AS VARCHAR) AS d FROM candidate_email_addresses ORDER BY id, d`);
    return { versions: v.map((r) => `${String(r.id)}@${String(r.d)}${r.del === true ? '!' : ''}`), emails: e.map((r) => `${String(r.id)}@${String(r.d)}`) };
  } finally {
    db.close();
  }
}

/** `candidates_latest` and the state as of a moment, from the history view. */
async function views(dir: string, asOf: string): Promise<{ latest: unknown[]; asOf: unknown[]; emailsAsOf: unknown[] }> {
  const db = await openWarehouse(dir);
  const at = `TIMESTAMPTZ '${asOf} 12:00:00+00'`;
  const pit = `_valid_from <= ${at} AND (_valid_to IS NULL OR _valid_to > ${at}) AND NOT _is_deleted`;
  try {
    return {
      latest: await objects(db, `SELECT id, first_name, CAST(snapshot_date AS VARCHAR) AS d, CAST(_synced_at AS VARCHAR) AS s, _run_id FROM candidates_latest ORDER BY id`),
      asOf: await objects(db, `SELECT id, first_name FROM candidates_history WHERE ${pit} ORDER BY id`),
      emailsAsOf: await objects(db, `SELECT candidate_id, email_address FROM candidate_email_addresses_history WHERE ${pit} ORDER BY candidate_id`),
    };
  } finally {
    db.close();
  }
}

describe('compaction of a warehouse of versions', () => {
  // 2026-03-01 less 365 days: versions stored before 2025-03-01 are compacted.
  const TODAY = '2026-03-01';
  const RETENTION = 365;

  it('keeps the version current at the cutoff, removes superseded ones and purges records deleted before it, children alike', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    expect(retentionCutoff(TODAY, RETENTION)).toBe('2025-03-01');
    const before = await stored(dir);
    expect(before.versions).toEqual(['A@2023-11-01', 'B@2023-11-01', 'B@2024-06-01', 'C@2023-11-01', 'C@2024-06-01!', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);

    const report = await compact(dir, TODAY, RETENTION);

    const after = await stored(dir);
    // A: unchanged for more than the retention, its only row stays. B: v1 superseded before the
    // cutoff goes. C: deleted before the cutoff, every row goes. E: changed after the cutoff, so
    // its v1 was current at the cutoff and stays.
    expect(after.versions).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
    expect(after.emails).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
    const [stream] = report.streams;
    expect(stream).toMatchObject({
      status: 'compacted',
      rowsRemoved: { candidates: 3, candidate_email_addresses: 3 },
      versionsRemoved: 1,
      recordsPurged: 1,
      partitionsRewritten: 4,
      partitionsEmptied: 0,
      // The full commit of 2024-01-10 is the latest before the cutoff: the one before it goes.
      commitsTrimmed: 1,
      indexFilesRemoved: 1,
    });
    expect(report.runsRemoved).toEqual([runOf(D0), runOf(D1), runOf(D2)]);
    const store = new FolderStore(dir);
    expect((await readStreamState(store, { integrationId: INTEGRATION, model: 'candidates' })).commits.map((c) => c.snapshotDate)).toEqual([D1, D2, D3, D4]);
    expect(await store.list(runKeys.prefix('unended-backfill'))).toHaveLength(1);
    // Each rewritten partition holds one run folder, the compaction's, registered.
    const files = (await store.list('candidates/')).filter((k) => k.includes(`snapshot_date=${D0}/`));
    expect(files).toEqual([dataFileKey('candidates', D0, INTEGRATION, `compact-${TODAY.replace(/-/g, '')}`, 0)]);
  });

  it('leaves _latest and every point in time from the cutoff on as they were; rows keep their run and sync time', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const moments = ['2025-03-01', '2025-07-01', '2026-02-15'];
    const before = await Promise.all(moments.map((m) => views(dir, m)));
    expect(before[0]!.asOf).toEqual([{ id: 'A', first_name: 'Ada' }, { id: 'B', first_name: 'Bob' }, { id: 'E', first_name: 'Eve' }]);

    await compact(dir, TODAY, RETENTION);

    const after = await Promise.all(moments.map((m) => views(dir, m)));
    expect(after).toEqual(before);
    // Before the cutoff, history is gone: B's first name as of 2024-01-01 no longer reads.
    const old = await views(dir, '2024-01-01');
    expect(old.asOf).toEqual([{ id: 'A', first_name: 'Ada' }, { id: 'E', first_name: 'Eve' }]);
  });

  it('a later compaction finds the versions of partitions whose commits it trimmed, and does nothing twice', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    await compact(dir, TODAY, RETENTION);
    const again = await compact(dir, TODAY, RETENTION);
    expect(again.streams[0]).toMatchObject({ rowsRemoved: {}, partitionsRewritten: 0, commitsTrimmed: 0, indexFilesRemoved: 0 });

    // Six months on the cutoff passes E's change of 2025-06-01: E's v1 (in the 2023-11-01
    // partition, whose commit is gone) is superseded now.
    const latest = (await views(dir, '2026-02-15')).latest;
    const later = await compact(dir, '2026-09-01', RETENTION);
    expect((await stored(dir)).versions).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2025-06-01', 'F@2026-02-01']);
    expect(later.streams[0]).toMatchObject({ rowsRemoved: { candidates: 1, candidate_email_addresses: 1 }, versionsRemoved: 1 });
    expect((await views(dir, '2026-02-15')).latest).toEqual(latest);
  });

  it('erases every version of the records named, current ones included, and empties a partition left without rows', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const report = await compact(dir, TODAY, RETENTION, ['A', 'F']);
    expect((await stored(dir)).versions).toEqual(['B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01']);
    expect((await stored(dir)).emails).toEqual(['B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01']);
    expect(report.streams[0]).toMatchObject({ recordsPurged: 3, partitionsEmptied: 2 });
    const store = new FolderStore(dir);
    expect((await store.list('candidates/')).some((k) => k.includes(`snapshot_date=${D4}/`))).toBe(false);
    // The latest view has lost them, nothing else.
    expect((await views(dir, '2026-02-15')).latest.map((r) => (r as { id: string }).id)).toEqual(['B', 'E']);
  });

  it('finishes a rewrite cut short at the next compaction, without doubling a row', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const store = new FolderStore(dir);
    const local = new LocalCatalog(store);
    let calls = 0;
    // The process dies when it registers its first rewritten partition: new files written, old ones still there.
    const dying = {
      registerPartition: async (...args: Parameters<LocalCatalog['registerPartition']>) => (++calls === 1 ? Promise.reject(new Error('killed')) : local.registerPartition(...args)),
      removePartition: local.removePartition.bind(local),
    };
    await expect(compactWarehouse({ store, catalog: dying }, { runId: 'compact-dies', today: TODAY, retentionDays: RETENTION })).rejects.toThrow('killed');
    await compact(dir, TODAY, RETENTION);
    expect((await stored(dir)).versions).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
    expect((await stored(dir)).emails).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
    expect((await store.list('candidate_email_addresses/snapshot_date=2023-11-01/')).filter((k) => k.endsWith('.parquet'))).toHaveLength(1);
  });

  it('a compaction stopped early leaves the rest to the next one, which starts there', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const second = 'lever:CompactTestCCCCdddd';
    await buildWarehouse(dir, second);
    const store = new FolderStore(dir);
    const deps = { store, catalog: new LocalCatalog(store) };
    let asked = 0;
    const first = await compactWarehouse(deps, { runId: 'compact-one', today: TODAY, retentionDays: RETENTION, resume: true, shouldStop: () => ++asked > 1 });
    expect(first.streams.map((s) => s.integrationId)).toEqual([INTEGRATION]);
    expect(first).toMatchObject({ notReached: 1, runsRemoved: [] });
    const next = await compactWarehouse(deps, { runId: 'compact-two', today: TODAY, retentionDays: RETENTION, resume: true });
    expect(next.streams.map((s) => [s.integrationId, s.partitionsRewritten])).toEqual([[second, 4], [INTEGRATION, 0]]);
    expect(next.notReached).toBe(0);
  });

  it('leaves a stream another run is syncing alone', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const store = new FolderStore(dir);
    await store.put(stateKeys.lock(INTEGRATION, 'candidates'), encodeJson({ runId: 'sync-running', snapshotDate: '2026-03-01', lockedAt: new Date().toISOString() }));
    const report = await compact(dir, TODAY, RETENTION);
    expect(report.streams[0]).toMatchObject({ status: 'busy', holder: 'sync-running', partitionsRewritten: 0 });
    expect((await stored(dir)).versions).toHaveLength(8);
    // Its lock is still the sync's.
    expect(new TextDecoder().decode(await store.get(stateKeys.lock(INTEGRATION, 'candidates')))).toContain('sync-running');
  });
});

describe('compaction of a warehouse the pipeline wrote', () => {
  const SPEC = { id: 'greenhouse:CompactSyncAAAAbbbbCCCCd', tool: 'greenhouse', candidates: 150 } as const;
  const SEED = 23;
  const DATES = consecutiveDays('2025-05-12', 4);
  const NEXT = '2025-05-16';
  // With a retention of one day counted from the last date, the first two dates are compacted.
  const TODAY = DATES[3]!;
  const CUTOFF = DATES[2]!;

  /** Every data table's history as of each moment, every column, in a stable order. */
  async function historyAt(dir: string, moments: readonly string[]): Promise<Record<string, unknown[]>> {
    const db = await openWarehouse(dir);
    const out: Record<string, unknown[]> = {};
    try {
      for (const table of TABLES) {
        for (const m of moments) {
          const at = `TIMESTAMPTZ '${m}'`;
          out[`${table.name}@${m}`] = await objects(db, `SELECT * FROM ${table.name}_history WHERE _valid_from <= ${at} AND (_valid_to IS NULL OR _valid_to > ${at}) AND NOT _is_deleted ORDER BY ALL`);
        }
      }
      for (const v of VIEWS.filter((x) => x.name.endsWith('_latest'))) out[v.name] = await objects(db, `SELECT * FROM ${v.name} ORDER BY ALL`);
    } finally {
      db.close();
    }
    return out;
  }

  async function rows(dir: string): Promise<number> {
    const db = await openWarehouse(dir);
    try {
      const counts = await Promise.all(TABLES.map(async (t) => Number((await objects(db, `SELECT count(*) AS n FROM ${t.name}`))[0]!.n)));
      return counts.reduce((a, b) => a + b, 0);
    } finally {
      db.close();
    }
  }

  it('changes no point in time from the cutoff on, and the next sync builds on the compacted warehouse as on the whole one', async () => {
    const timeline = createSandboxTimeline({ seed: SEED, integrations: [SPEC] });
    const wh = await buildHistoryWarehouse({ integrations: [SPEC], seed: SEED, dates: DATES, timeline });
    const whole = newWarehouse();
    cpSync(wh.dir, whole, { recursive: true });
    const moments = [`${CUTOFF} 00:00:00+00`, `${CUTOFF} 23:59:59.999+00`, `${TODAY} 23:59:59.999+00`];
    const before = await historyAt(wh.dir, moments);

    const report = await compact(wh.dir, TODAY, 1);

    expect(report.cutoff).toBe(CUTOFF);
    const removed = report.streams.reduce((n, s) => n + Object.values(s.rowsRemoved).reduce((a, b) => a + b, 0), 0);
    expect(removed).toBeGreaterThan(0);
    expect(await rows(wh.dir)).toBe((await rows(whole)) - removed);
    expect(await historyAt(wh.dir, moments)).toEqual(before);

    // The next night's sync of both warehouses gives the same present and the same versions.
    const sandbox = await startSandbox({ timeline, asOf: NEXT });
    try {
      const client = new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
      for (const dir of [wh.dir, whole]) {
        const store = new FolderStore(dir);
        const run = await runLocal({ client, store, catalog: new LocalCatalog(store), runId: '20990101T000099Z-aaaaaa', snapshotDate: NEXT, integrationIds: [SPEC.id], models: MODELS, concurrency: 2, full: true });
        expect(run.status).toBe('succeeded');
      }
    } finally {
      await sandbox.close();
    }
    const nextMoments = [`${NEXT} 23:59:59.999+00`];
    expect(await historyAt(wh.dir, nextMoments)).toEqual(await historyAt(whole, nextMoments));
  });
});

describe('kombo-etl compact', () => {
  it('prints what it removed', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const r = await runCli(['compact', '--warehouse', dir, '--retention-days', '365', '--today', '2026-03-01']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('versions stored before 2025-03-01 compacted');
    expect(r.stdout).toMatch(/greenhouse:CompactTestAAAAbbbb\s+candidates\s+6\s+1\s+1\s+4\s+0\s+1/);
    expect(r.stdout).toContain('removed 6 rows (1 superseded version, 1 record purged), rewrote 4 partitions (0 left empty), removed 1 index file of change capture state and 3 run folders (_runs/)');
    expect((await stored(dir)).versions).toEqual(['A@2023-11-01', 'B@2024-06-01', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
  });

  it('with --retention-days 0 keeps every version and only erases, as the compactor Lambda does with RETENTION_DAYS=0', async () => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const lambdaDir = newWarehouse();
    cpSync(dir, lambdaDir, { recursive: true });
    const runs = await new FolderStore(dir).list('_runs/');
    const r = await runCli(['compact', '--warehouse', dir, '--retention-days', '0', '--erase', 'B', '--today', '2026-03-01']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('every version kept (--retention-days 0): only the records erased were removed');
    expect(r.stdout).toContain('removed 4 rows (0 superseded versions, 1 record purged)');
    expect((await stored(dir)).versions).toEqual(['A@2023-11-01', 'C@2023-11-01', 'C@2024-06-01!', 'E@2023-11-01', 'E@2025-06-01', 'F@2026-02-01']);
    expect(await new FolderStore(dir).list('_runs/')).toEqual(runs);
    expect((await readStreamState(new FolderStore(dir), { integrationId: INTEGRATION, model: 'candidates' })).commits).toHaveLength(SYNCS.length);

    // The compactor Lambda's own code, on the same warehouse through the local adapters.
    const { retentionDays } = parseCompactorEnv({ [ENV.warehouseBucket]: 'bucket', [ENV.glueDatabase]: 'db', [RETENTION_DAYS_ENV]: '0' });
    const store = new FolderStore(lambdaDir);
    const lambdaDeps = { store, catalog: new LocalCatalog(store), retentionDays, logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'test' }) };
    await compactInvocation(lambdaDeps, parseCompactorEvent({ erase: ['B'] }), () => 15 * 60_000);
    expect(await stored(lambdaDir)).toEqual(await stored(dir));
  });

  it.each([
    [['--today', '2026-03-01'], '--retention-days "": give the days of history to keep whole'],
    [['--retention-days', '-1'], '--retention-days "-1"'],
    [['--retention-days', '36501'], '--retention-days "36501"'],
    [['--retention-days', '30', '--erase', 'A,../x'], '--erase: "../x" is not a Kombo record id'],
    [['--retention-days', '30', '--integrations', 'nope'], 'invalid integration id "nope"'],
    [['--retention-days', '30', '--today', '2026-02-30'], 'invalid snapshot date "2026-02-30"'],
  ])('%j is a configuration error: exit 2, one line, nothing changed', async (args, message) => {
    const dir = newWarehouse();
    await buildWarehouse(dir);
    const files = readdirSync(dir, { recursive: true }).sort();
    const r = await runCli(['compact', '--warehouse', dir, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(files);
  });

  it('a missing warehouse is a configuration error', async () => {
    const r = await runCli(['compact', '--warehouse', '/nonexistent/kombo-warehouse', '--retention-days', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the warehouse is missing');
  });
});
