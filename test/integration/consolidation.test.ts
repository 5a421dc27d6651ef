/**
 * Consolidation of a date that is over: many syncs of one day, through the real pipeline against the
 * Kombo-compatible test server, leave their partitions in several files; compaction (`kombo-etl
 * compact`'s `compactWarehouse`) rewrites each into one file per 50,000 rows and swaps it in with
 * one repoint. A reader that resolves, lists and reads the partition over and over while that
 * happens always finds every version of the day exactly once, and the history reads the same after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { compactWarehouse, newCompactionRunId } from '../../shared/pipeline/compact.ts';
import type { ObjectStore } from '../../shared/ports.ts';
import type { ModelName } from '../../shared/tables.ts';
import { hiveEscape } from '../../shared/warehouse/layout.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import type { KomboRecord, KomboServer, Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';
import { queryWarehouse } from '../helpers/server-sync.ts';

const INTEGRATION = 'greenhouse:Consolidate5';
const KEY = 'consolidation-key';
const D1 = '2026-05-04';
const D2 = '2026-05-05';
const CYCLE = cycleWithoutFullDays([INTEGRATION], [D1, D2]);
const FEB = '2026-02-10T09:00:00.000Z';
const STAGES: readonly Stage[] = [
  { id: 'StgApplied', name: 'Applied', index: 0 },
  { id: 'StgScreen', name: 'Screen', index: 1 },
  { id: 'StgInterview', name: 'Interview', index: 2 },
];
const NAMES = ['ada', 'ben', 'cal'];

const dirs: string[] = [];
const servers: KomboServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const moveTo = (stage: Stage) => (r: KomboRecord): void => {
  r['current_stage_id'] = stage.id;
  r['current_stage'] = { id: stage.id, remote_id: `r-${stage.id}`, name: stage.name, index: stage.index };
};

/** `syncs` syncs of D1, a minute apart, each after one application moved stage (and, with `candidates`, one candidate changed). */
async function dayOfSyncs(syncs: number, models: readonly ModelName[]) {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-consolidate-'));
  dirs.push(dir);
  const kombo = await startKomboServer({
    integrationId: INTEGRATION,
    apiKey: KEY,
    clock: `${D1}T06:00:00.000Z`,
    records: {
      candidates: NAMES.map((n) => candidateRecord({ id: `cand-${n}`, firstName: n, lastName: 'Test', emails: [`${n}@example.com`], tags: [], changedAt: FEB })),
      applications: NAMES.map((n) => applicationRecord({ id: `app-${n}`, candidateId: `cand-${n}`, stage: STAGES[0]!, changedAt: FEB })),
    },
  });
  servers.push(kombo);
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: kombo.url, apiKey: KEY });
  const moves = NAMES.map(() => 0);
  for (let i = 0; i < syncs; i++) {
    const clock = new Date(Date.parse(`${D1}T06:00:00.000Z`) + i * 60_000).toISOString();
    if (i > 0) {
      kombo.setClock(new Date(Date.parse(clock) - 30_000).toISOString());
      // Each move takes the application to another stage than its current one.
      kombo.change('applications', `app-${NAMES[i % 3]!}`, moveTo(STAGES[++moves[i % 3]! % 3]!));
      if (models.includes('candidates')) kombo.change('candidates', `cand-${NAMES[i % 3]!}`, (r) => void (r['title'] = `Title ${i}`));
    }
    kombo.setClock(clock);
    const runId = `${clock.replace(/[-:]/g, '').slice(0, 13)}Z-c${String(i).padStart(2, '0')}`;
    const report = await runLocal({ client, store, catalog: new LocalCatalog(store), runId, snapshotDate: D1, integrationIds: [INTEGRATION], models, concurrency: 1, limits: { pageSize: 1 }, fullEveryDays: CYCLE });
    expect(report.status, JSON.stringify(report.streams)).toBe('succeeded');
  }
  return { dir, store };
}

/** The files a reader of the partition finds now: resolve it in the catalog, list its folder. */
async function partitionFiles(store: ObjectStore, table: string, date: string): Promise<{ location: string; keys: string[] }> {
  const entry = (await new LocalCatalog(store).partitions(table)).find((p) => p.snapshotDate === date && p.integrationId === INTEGRATION);
  if (entry === undefined) return { location: '', keys: [] };
  return { location: entry.location, keys: (await store.list(entry.location)).filter((k) => k.endsWith('.parquet')) };
}

/** What a reader reads of the partition now: one `id@_synced_at` per version row, sorted. */
async function readNow(store: ObjectStore, table: string, date: string): Promise<{ location: string; versions: string[] }> {
  const { location, keys } = await partitionFiles(store, table, date);
  const versions: string[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body === undefined) throw new Error(`${key} vanished while being read`);
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    for (const r of (await parquetReadObjects({ file, columns: ['id', '_synced_at'] })) as Record<string, unknown>[]) versions.push(`${String(r['id'])}@${(r['_synced_at'] as Date).toISOString()}`);
  }
  return { location, versions: versions.sort() };
}

/** A store whose every call first lets other work run: a reader's loop interleaves with each step of the compaction. */
function yielding(store: ObjectStore): ObjectStore {
  const pause = () => new Promise<void>((r) => setImmediate(r));
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await pause();
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

const HISTORY = `SELECT id, CAST(snapshot_date AS VARCHAR) AS d, epoch_ms(_synced_at) AS at, current_stage_id AS stage, _is_deleted AS deleted FROM applications_history WHERE integration_id = '${INTEGRATION}' ORDER BY ALL`;

describe('consolidation of a date that is over', () => {
  it('a reader reading the partition in a loop while it is consolidated sees every version once, every time; the history reads the same', async () => {
    const { dir, store } = await dayOfSyncs(6, ['candidates', 'applications']);
    const before = await readNow(store, 'applications', D1);
    // Six syncs: three records' first versions, then one more version per sync after the first.
    expect(before.versions).toHaveLength(3 + 5);
    expect((await partitionFiles(store, 'applications', D1)).keys.length).toBeGreaterThan(1);
    const history = await queryWarehouse(dir, HISTORY);

    // A query that resolved and listed the partition just before the swap, and reads it after.
    const catalog = new LocalCatalog(yielding(store));
    let resolvedBeforeSwap: { location: string; keys: string[] } | undefined;
    const swapWatch: typeof catalog.registerPartition = async (table, date, integrationId, prefix) => {
      if (table.name === 'applications' && date === D1) resolvedBeforeSwap = await partitionFiles(store, 'applications', D1);
      return catalog.registerPartition(table, date, integrationId, prefix);
    };
    let done = false;
    const compaction = compactWarehouse({ store: yielding(store), catalog: { registerPartition: swapWatch, removePartition: (t, d, i) => catalog.removePartition(t, d, i) } }, { runId: newCompactionRunId(new Date(`${D2}T03:00:00Z`)), today: D2, retentionDays: 0 }).finally(() => {
      done = true;
    });
    // The reader takes its time too: each of its calls lets the compaction go on.
    const reads: { location: string; versions: string[] }[] = [];
    while (!done) reads.push(await readNow(yielding(store), 'applications', D1));
    const report = await compaction;
    reads.push(await readNow(store, 'applications', D1));
    expect(resolvedBeforeSwap!.location).toBe(before.location);
    const late: string[] = [];
    for (const key of resolvedBeforeSwap!.keys) {
      const body = await store.get(key);
      expect(body, `${key}, listed just before the swap, is still there after it`).toBeDefined();
      const file = body!.buffer.slice(body!.byteOffset, body!.byteOffset + body!.byteLength) as ArrayBuffer;
      for (const r of (await parquetReadObjects({ file, columns: ['id', '_synced_at'] })) as Record<string, unknown>[]) late.push(`${String(r['id'])}@${(r['_synced_at'] as Date).toISOString()}`);
    }
    expect(late.sort()).toEqual(before.versions);

    // The reader saw the partition before the swap and after it, and every read found each version once.
    expect(new Set(reads.map((r) => r.location)).size).toBe(2);
    expect(reads.length).toBeGreaterThan(4);
    for (const r of reads) expect(r.versions).toEqual(before.versions);
    const applications = report.streams.find((s) => s.model === 'applications')!;
    expect(applications.partitionsConsolidated).toBeGreaterThan(0);
    for (const table of ['applications', 'candidates', 'candidate_email_addresses']) {
      expect((await partitionFiles(store, table, D1)).keys, table).toHaveLength(1);
    }
    expect(await queryWarehouse(dir, HISTORY)).toEqual(history);

    // The next compaction deletes the files the swap left behind, and finds nothing more to do.
    const again = await compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: newCompactionRunId(new Date(`${D2}T04:00:00Z`)), today: D2, retentionDays: 0 });
    expect(again.streams.map((s) => s.partitionsConsolidated)).toEqual([0, 0]);
    const left = (await store.list(`applications/snapshot_date=${D1}/`)).filter((k) => k.endsWith('.parquet'));
    expect(left).toEqual((await partitionFiles(store, 'applications', D1)).keys);
    expect(await queryWarehouse(dir, HISTORY)).toEqual(history);
  }, 60_000);

  it('50 syncs of a day, then consolidation: one file per table and date, every version kept; today is left alone', async () => {
    const { dir, store } = await dayOfSyncs(50, ['applications']);
    const history = await queryWarehouse(dir, HISTORY);
    expect(history).toHaveLength(3 + 49);
    const filesBefore = (await partitionFiles(store, 'applications', D1)).keys.length;
    const syncsPrefix = `syncs/snapshot_date=${D1}/integration_id=${hiveEscape(INTEGRATION)}/`;
    const syncFiles = async (): Promise<number> => (await store.list(syncsPrefix)).length;
    const syncRows = await queryWarehouse(dir, 'SELECT run_id, model, versions FROM syncs ORDER BY run_id');
    expect(await syncFiles()).toBe(50);
    // The day is not over yet: nothing to consolidate.
    const early = await compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: newCompactionRunId(new Date(`${D1}T23:00:00Z`)), today: D1, retentionDays: 0 });
    expect(early.streams.map((s) => s.partitionsConsolidated)).toEqual([0]);
    const report = await compactWarehouse({ store, catalog: new LocalCatalog(store) }, { runId: newCompactionRunId(new Date(`${D2}T03:00:00Z`)), today: D2, retentionDays: 0 });
    const s = report.streams[0]!;
    // The applications partition and the stream's `syncs` rows of the day, one file per sync before.
    expect({ consolidated: s.partitionsConsolidated, before: s.filesBefore > s.filesAfter, after: (await partitionFiles(store, 'applications', D1)).keys.length }).toEqual({ consolidated: 2, before: true, after: 1 });
    expect(filesBefore + 50).toBe(s.filesBefore);
    expect(await queryWarehouse(dir, HISTORY)).toEqual(history);
    expect(await syncFiles()).toBe(1);
    expect(await queryWarehouse(dir, 'SELECT run_id, model, versions FROM syncs ORDER BY run_id')).toEqual(syncRows);
  }, 120_000);
});
