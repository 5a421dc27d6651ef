/**
 * The version history through re-runs and backfills: the real pipeline (`runLocal`, a folder
 * warehouse, the local catalog, `KomboClient`) against the independent Kombo-compatible test server,
 * whose clock the test sets, and DuckDB reading the `_history` and `_latest` views back.
 *
 * - A plain re-run of a date adds to what an earlier run of that date stored: the deletion copy a
 *   `--full` run stored for an application removed outright and every other version stay; a record
 *   changed since gains the re-run's version.
 * - A backfill of past dates (a first sync of an earlier date, then the dates after it) dates its
 *   versions when it fetched them: a change made after a date never reads as made on it.
 * - A sync of a future date (`--allow-future-date`) can be undone (`kombo-etl unsync`, the compactor
 *   event `{"unsync_date": …}`), after which real syncs go on; until then they are refused with a
 *   message that names the way out.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { compactInvocation, parseCompactorEvent } from '../../shared/adapters/aws/compactor.ts';
import type { StreamReportRow } from '../../cli/output.ts';
import { runCli } from '../helpers/cli.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import type { FaultPoint } from '../../shared/pipeline/faults.ts';
import { localAdapters, runCase } from '../reliability/harness.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { ModelName } from '../../shared/tables.ts';
import { readStreamState } from '../../shared/state/streams.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import { objects } from '../helpers/history.ts';
import type { KomboRecord, KomboServer, Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';

const INTEGRATION = 'greenhouse:ReRuns4Backfill9';
const KEY = 'reruns-test-key';
const MODELS: readonly ModelName[] = ['candidates', 'applications'];
const D1 = '2026-03-02';
const D2 = '2026-03-03';
const D3 = '2026-03-04';
const D4 = '2026-03-05';
const D5 = '2026-03-06';
const D6 = '2026-03-07';
/** No day of the tests is a full-sync day of the integration: only first syncs and asked ones are full. */
const CYCLE = cycleWithoutFullDays([INTEGRATION], [D1, D2, D3, D4, D5, D6]);
const FEB = '2026-02-10T09:00:00.000Z';
const ms = (iso: string): number => Date.parse(iso);

const APPLIED: Stage = { id: 'StgApplied', name: 'Applied', index: 0 };
const SCREEN: Stage = { id: 'StgScreen', name: 'Screen', index: 1 };
const INTERVIEW: Stage = { id: 'StgInterview', name: 'Interview', index: 2 };

const seed = () => ({
  candidates: ['ada', 'ben', 'cal'].map((n) => candidateRecord({ id: `cand-${n}`, firstName: n, lastName: 'Test', emails: [`${n}@example.com`], tags: [], changedAt: FEB })),
  applications: ['ada', 'ben', 'cal'].map((n) => applicationRecord({ id: `app-${n}`, candidateId: `cand-${n}`, stage: APPLIED, changedAt: FEB })),
});

const moveTo = (stage: Stage) => (r: KomboRecord): void => {
  r['current_stage_id'] = stage.id;
  r['current_stage'] = { id: stage.id, remote_id: `r-${stage.id}`, name: stage.name, index: stage.index };
};

const dirs: string[] = [];
const servers: KomboServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh warehouse and server, and a sync of one date at a time on the server's clock. */
async function scenario() {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-reruns-'));
  dirs.push(dir);
  const kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: `${D1}T06:00:00.000Z`, records: seed() });
  servers.push(kombo);
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: kombo.url, apiKey: KEY });
  let n = 0;
  const sync = async (date: string, at: string, opts: { readonly full?: true } = {}) => {
    kombo.setClock(at);
    const runId = `${date.replaceAll('-', '')}T060000Z-rr${String(++n).padStart(2, '0')}`;
    const report = await runLocal({ client, store, catalog: new LocalCatalog(store), runId, snapshotDate: date, integrationIds: [INTEGRATION], models: MODELS, concurrency: 2, limits: { pageSize: 2 }, fullEveryDays: CYCLE, ...opts });
    expect(report.status, JSON.stringify(report.streams)).toBe('succeeded');
    return report;
  };
  const query = async (sql: string) => {
    const db = await openWarehouse(dir);
    try {
      return await objects(db, sql);
    } finally {
      db.close();
    }
  };
  const history = () =>
    query(`SELECT id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, current_stage_id AS stage, _is_deleted AS deleted, epoch_ms(_valid_from) AS valid_from FROM applications_history WHERE integration_id = '${INTEGRATION}' ORDER BY id, snapshot_date`);
  const latest = async () => (await query(`SELECT id FROM applications_latest WHERE integration_id = '${INTEGRATION}' ORDER BY id`)).map((r) => r['id']);
  const syncsRow = (date: string) =>
    query(`SELECT run_id, mode, versions, deletions FROM syncs WHERE integration_id = '${INTEGRATION}' AND model = 'applications' AND snapshot_date = DATE '${date}' ORDER BY started_at`);
  return { dir, kombo, store, sync, history, latest, syncsRow };
}

describe('a plain re-run of a date adds to what an earlier run of the date stored', () => {
  it('keeps the deletion a --full run stored, the versions it found unchanged, and adds the version of a record changed since', async () => {
    const s = await scenario();
    await s.sync(D1, `${D1}T06:00:00.000Z`);
    // Day 2: ben's application is removed outright, cal's moves; a full sync (asked) finds both.
    s.kombo.setClock(`${D2}T05:00:00.000Z`);
    s.kombo.remove('applications', 'app-ben');
    s.kombo.change('applications', 'app-cal', moveTo(SCREEN));
    await s.sync(D2, `${D2}T06:00:00.000Z`, { full: true });
    // Then ada's moves, and the nightly job runs day 2 again, incrementally.
    s.kombo.setClock(`${D2}T06:30:00.000Z`);
    s.kombo.change('applications', 'app-ada', moveTo(INTERVIEW));
    const again = await s.sync(D2, `${D2}T07:00:00.000Z`);
    expect(again.streams.find((m) => m.model === 'applications')?.sync?.mode).toBe('incremental');

    expect(await s.latest()).toEqual(['app-ada', 'app-cal']);
    expect(await s.history()).toEqual([
      { id: 'app-ada', snapshot_date: D1, stage: APPLIED.id, deleted: false, valid_from: ms(`${D1}T06:00:00.000Z`) },
      // The re-run's version, added to the earlier run's of the date.
      { id: 'app-ada', snapshot_date: D2, stage: INTERVIEW.id, deleted: false, valid_from: ms(`${D2}T07:00:00.000Z`) },
      { id: 'app-ben', snapshot_date: D1, stage: APPLIED.id, deleted: false, valid_from: ms(`${D1}T06:00:00.000Z`) },
      // The --full run's deletion copy, kept with its own time.
      { id: 'app-ben', snapshot_date: D2, stage: APPLIED.id, deleted: true, valid_from: ms(`${D2}T06:00:00.000Z`) },
      { id: 'app-cal', snapshot_date: D1, stage: APPLIED.id, deleted: false, valid_from: ms(`${D1}T06:00:00.000Z`) },
      { id: 'app-cal', snapshot_date: D2, stage: SCREEN.id, deleted: false, valid_from: ms(`${D2}T06:00:00.000Z`) },
    ]);
    // Each sync of the date has its own `syncs` row and commit, counting its own versions.
    expect(await s.syncsRow(D2)).toEqual([
      { run_id: expect.any(String), mode: 'full', versions: 2, deletions: 1 },
      { run_id: again.runId, mode: 'incremental', versions: 1, deletions: 0 },
    ]);
    const state = await readStreamState(s.store, { integrationId: INTEGRATION, model: 'applications' });
    expect(state.commits.map((c) => [c.snapshotDate, c.runId, c.mode])).toEqual([
      [D1, expect.any(String), 'full'],
      [D2, expect.any(String), 'full'],
      [D2, again.runId, 'incremental'],
    ]);

    // Later days build on it: ben stays deleted, and a full sync stores no second deletion of him.
    await s.sync(D3, `${D3}T06:00:00.000Z`);
    await s.sync(D4, `${D4}T06:00:00.000Z`, { full: true });
    expect(await s.latest()).toEqual(['app-ada', 'app-cal']);
    expect((await s.history()).filter((r) => r['id'] === 'app-ben').map((r) => [r['snapshot_date'], r['deleted']])).toEqual([
      [D1, false],
      [D2, true],
    ]);
  });
});

describe('a re-run of a date that crashes while finishing', () => {
  const CRASH_AT: readonly FaultPoint[] = ['after-versions', 'after-some-partitions', 'after-partitions', 'after-commit', 'after-stream-marker'];
  const SANDBOX_INTEGRATION = 'greenhouse:ReRunCrash00000000000000';

  /** A first run of the date, then a re-run of it crashing once at `point` (the message delivered again): the date's rows and `syncs` rows. */
  async function rerun(point: FaultPoint | undefined) {
    const sandbox = await startSandbox({ port: 0, dataset: generateDataset({ seed: 3, integrations: [{ id: SANDBOX_INTEGRATION, tool: 'greenhouse', candidates: 12 }] }) });
    const root = mkdtempSync(join(tmpdir(), 'kombo-rerun-crash-'));
    dirs.push(root);
    try {
      const adapters = localAdapters(root);
      const base = { sandbox, adapters, snapshotDate: D1, integrationIds: [SANDBOX_INTEGRATION], models: MODELS, fullEveryDays: CYCLE };
      await runCase({ ...base, runId: '20260302T060000Z-crash1' });
      let crashed = false;
      const again = await runCase({ ...base, runId: '20260302T070000Z-crash2', crash: (p, m) => !crashed && p === point && m.model === 'applications' && (crashed = true) });
      expect(again.report.status).toBe('succeeded');
      expect(crashed).toBe(point !== undefined);
      const db = await openWarehouse(root);
      try {
        return {
          rows: await objects(db, `SELECT id, CAST(snapshot_date AS VARCHAR) AS d, _is_deleted, _run_id, count(*) AS n FROM applications GROUP BY ALL ORDER BY ALL`),
          syncs: await objects(db, `SELECT model, mode, records, versions, deletions FROM syncs ORDER BY ALL`),
          commits: (await readStreamState(adapters.store, { integrationId: SANDBOX_INTEGRATION, model: 'applications' })).commits.map((c) => [c.snapshotDate, c.mode, c.versions]),
        };
      } finally {
        db.close();
      }
    } finally {
      await sandbox.close();
    }
  }

  it.each(CRASH_AT)('crashing %s stores the same rows, once each, as a re-run that does not crash', async (point) => {
    const clean = await rerun(undefined);
    const crashed = await rerun(point);
    expect(clean.rows.length).toBeGreaterThan(5);
    expect(clean.rows.every((r) => r['n'] === 1)).toBe(true);
    expect(crashed).toEqual(clean);
  });
});

describe('a backfill of past dates dates its versions when it fetched them', () => {
  it('never places a change made after a date on that date', async () => {
    const s = await scenario();
    // The company changes on days 5 and 6; nothing was synced yet.
    s.kombo.setClock(`${D5}T10:00:00.000Z`);
    s.kombo.change('applications', 'app-ada', moveTo(SCREEN));
    s.kombo.setClock(`${D6}T04:00:00.000Z`);
    s.kombo.change('applications', 'app-cal', moveTo(INTERVIEW));
    // On day 6, the missed nights are filled: days 3, 4 and 5, then day 6 itself.
    const fetchedAt = (minute: number) => `${D6}T05:${String(minute).padStart(2, '0')}:00.000Z`;
    await s.sync(D3, fetchedAt(0));
    await s.sync(D4, fetchedAt(10));
    await s.sync(D5, fetchedAt(20));
    s.kombo.setClock(`${D6}T05:25:00.000Z`);
    s.kombo.change('applications', 'app-ben', moveTo(SCREEN));
    await s.sync(D6, fetchedAt(30));
    const rows = await s.history();
    // Everything the first backfill stored is valid from when it was fetched, not from the end of day 3.
    expect(rows.filter((r) => r['snapshot_date'] === D3).map((r) => r['valid_from'])).toEqual([ms(fetchedAt(0)), ms(fetchedAt(0)), ms(fetchedAt(0))]);
    // No version is valid before its record changed to it.
    const changedAt: Record<string, string> = { 'app-ada': `${D5}T10:00:00.000Z`, 'app-cal': `${D6}T04:00:00.000Z`, 'app-ben': `${D6}T05:25:00.000Z` };
    for (const r of rows.filter((x) => x['stage'] !== APPLIED.id)) expect(r['valid_from'], String(r['id'])).toBeGreaterThanOrEqual(ms(changedAt[String(r['id'])]!));
    expect(rows.map((r) => [r['id'], r['snapshot_date'], r['stage']])).toEqual([
      ['app-ada', D3, SCREEN.id],
      ['app-ben', D3, APPLIED.id],
      ['app-ben', D6, SCREEN.id],
      ['app-cal', D3, INTERVIEW.id],
    ]);
  });
});

describe('the way back from a sync of a future date', () => {
  /** The sandbox's smallest integration with applications, and two of its models: quick runs. */
  const SANDBOX_INTEGRATION = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
  const FUTURE = '2099-01-01';
  const ONE_LINE = (r: { code: number; stderr: string }, message: RegExp) => {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  };

  it('kombo-etl unsync removes the future sync: later real syncs are refused until then, and go on after', async () => {
    const warehouse = join(mkdtempSync(join(tmpdir(), 'kombo-unsync-')), 'wh');
    dirs.push(warehouse);
    const sync = (asOf: string, extra: string[] = []) =>
      runCli(['sync', '--as-of', asOf, '--integrations', SANDBOX_INTEGRATION, '--models', 'candidates,applications', '--warehouse', warehouse, '--format', 'json', ...extra]);
    const streams = (r: { stdout: string }) => (JSON.parse(r.stdout) as { streams: StreamReportRow[] }).streams;
    expect((await sync('2025-06-01')).code).toBe(0);
    const future = await sync('2025-06-02', ['--snapshot-date', FUTURE, '--allow-future-date']);
    expect(future.code, future.stderr).toBe(0);

    // A real sync is refused, and the refusal says what happened and the way out.
    const refused = await sync('2025-06-03');
    expect(refused.code).toBe(1);
    for (const s of streams(refused)) {
      expect(s.error_code).toBe('STREAM.OUT_OF_ORDER');
      expect(s.reason).toContain(`already has a sync of ${FUTURE}, after 2025-06-03`);
      expect(s.reason).toContain('nothing of 2025-06-03 was synced');
      expect(s.reason).toContain(`kombo-etl unsync --snapshot-date ${FUTURE}`);
      expect(s.reason).toContain(`{"unsync_date": "${FUTURE}"}`);
    }

    // Refused with one line, nothing changed: a date with no sync, a date with a later one after it.
    ONE_LINE(await runCli(['unsync', '--snapshot-date', '2030-01-01', '--warehouse', warehouse]), /^error: --snapshot-date 2030-01-01: no stream has a sync of that date, so there is nothing to unsync/);
    ONE_LINE(await runCli(['unsync', '--snapshot-date', '2025-06-01', '--warehouse', warehouse]), new RegExp(`has a sync of ${FUTURE}, after 2025-06-01: unsync ${FUTURE} first`));
    ONE_LINE(await runCli(['unsync', '--warehouse', warehouse]), /^error: --snapshot-date is required/);

    const undone = await runCli(['unsync', '--snapshot-date', FUTURE, '--warehouse', warehouse]);
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stdout).toContain(`undid the sync of ${FUTURE} of 2 streams`);
    expect(undone.stdout).toContain(`${SANDBOX_INTEGRATION} applications: latest sync now 2025-06-01`);
    // No partition, file, `syncs` row or catalog entry of the date is left.
    const left = readdirSync(warehouse, { recursive: true }).map(String).filter((k) => k.includes(FUTURE) && statSync(join(warehouse, k)).isFile());
    expect(left).toEqual([]);
    const store = new FolderStore(warehouse);
    const state = await readStreamState(store, { integrationId: SANDBOX_INTEGRATION, model: 'applications' });
    expect(state.commits.map((c) => c.snapshotDate)).toEqual(['2025-06-01']);
    expect(existsSync(join(warehouse, state.commits[0]!.index))).toBe(true);

    // Real syncs go on, from the watermark of the sync before the undone one.
    const next = await sync('2025-06-03');
    expect(next.code, next.stderr).toBe(0);
    for (const s of streams(next)) expect(s).toMatchObject({ status: 'done', mode: 'incremental' });
  }, 240_000);

  it('the compactor event {"unsync_date": …} does the same on the AWS adapters\' ports', async () => {
    const s = await scenario();
    await s.sync(D1, `${D1}T06:00:00.000Z`);
    await s.sync(FUTURE, `${D2}T06:00:00.000Z`);
    const deps = { store: s.store, catalog: new LocalCatalog(s.store), retentionDays: 0, logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'test' }) };
    expect(() => parseCompactorEvent({ unsync_date: '2099-02-30' })).toThrow(/invalid snapshot date/);
    const report = await compactInvocation(deps, parseCompactorEvent({ unsync_date: FUTURE }), () => 15 * 60_000);
    expect(report).toEqual({ snapshotDate: FUTURE, streams: MODELS.map((model) => ({ integrationId: INTEGRATION, model, latest: D1 })) });
    expect((await new LocalCatalog(s.store).partitions('applications')).map((p) => p.snapshotDate)).toEqual([D1]);
    expect((await new LocalCatalog(s.store).partitions('syncs')).map((p) => p.snapshotDate)).toEqual([D1]);
    await s.sync(D2, `${D2}T07:00:00.000Z`);
    expect(await s.latest()).toEqual(['app-ada', 'app-ben', 'app-cal']);
  });
});
