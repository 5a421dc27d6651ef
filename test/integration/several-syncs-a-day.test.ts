/**
 * Several syncs of one snapshot date, through the real pipeline (`runLocal`, a folder warehouse,
 * the local catalog, `KomboClient`) against the Kombo-compatible test server, whose clock the test
 * sets, and DuckDB reading the tables back:
 *
 * - each sync adds its own versions to the date: a record changed three times a day and seen by
 *   three syncs has three versions that day, each valid from its sync's start;
 * - a date's partition reads one run folder, which holds every sync's versions of the date;
 * - a retry of a run whose stream a later sync already committed stores nothing for it
 *   (`STREAM.SUPERSEDED`), and leaves the history as it was;
 * - a retry of the latest run replaces its own versions only.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { retryLocal, runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { compactStream, compactWarehouse, newCompactionRunId } from '../../shared/pipeline/compact.ts';
import type { ObjectStore } from '../../shared/ports.ts';
import type { ModelName } from '../../shared/tables.ts';
import { readStreamState } from '../../shared/state/streams.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import type { KomboRecord, KomboServer, Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';
import { queryWarehouse } from '../helpers/server-sync.ts';
import { PII_ERROR_BODY } from '../helpers/pii-dataset.ts';

const INTEGRATION = 'greenhouse:SeveralADay7';
const KEY = 'several-syncs-key';
const MODELS: readonly ModelName[] = ['candidates', 'applications'];
const D1 = '2026-04-14';
const D2 = '2026-04-15';
const CYCLE = cycleWithoutFullDays([INTEGRATION], [D1, D2]);
const FEB = '2026-02-10T09:00:00.000Z';
const at = (date: string, hhmm: string): string => `${date}T${hhmm}:00.000Z`;

const APPLIED: Stage = { id: 'StgApplied', name: 'Applied', index: 0 };
const SCREEN: Stage = { id: 'StgScreen', name: 'Screen', index: 1 };
const INTERVIEW: Stage = { id: 'StgInterview', name: 'Interview', index: 2 };

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

async function scenario() {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-several-'));
  dirs.push(dir);
  const failures: Record<string, { status: number; body: string }> = {};
  const kombo = await startKomboServer({
    integrationId: INTEGRATION,
    apiKey: KEY,
    clock: at(D1, '06:00'),
    failures,
    records: {
      candidates: ['ada', 'ben'].map((n) => candidateRecord({ id: `cand-${n}`, firstName: n, lastName: 'Test', emails: [`${n}@example.com`], tags: [], changedAt: FEB })),
      applications: ['ada', 'ben'].map((n) => applicationRecord({ id: `app-${n}`, candidateId: `cand-${n}`, stage: APPLIED, changedAt: FEB })),
    },
  });
  servers.push(kombo);
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: kombo.url, apiKey: KEY });
  const catalog = new LocalCatalog(store);
  let n = 0;
  const runIdAt = (clock: string) => `${clock.replace(/[-:]/g, '').slice(0, 13)}Z-day${String(++n).padStart(2, '0')}`;
  const sync = async (date: string, clock: string, runId = runIdAt(clock), via: { readonly store?: ObjectStore; readonly signal?: AbortSignal; readonly full?: true } = {}) => {
    kombo.setClock(clock);
    return runLocal({ client, store: via.store ?? store, catalog, runId, snapshotDate: date, integrationIds: [INTEGRATION], models: MODELS, concurrency: 2, limits: { pageSize: 1 }, fullEveryDays: CYCLE, ...(via.signal && { signal: via.signal }), ...(via.full && { full: true }) });
  };
  const retry = async (runId: string, clock: string) => {
    kombo.setClock(clock);
    return (await retryLocal({ client, store, catalog, runId, concurrency: 2, limits: { pageSize: 1 } })).report!;
  };
  const rows = (table: string, date: string) =>
    queryWarehouse(dir, `SELECT ${table === 'applications' ? 'id, current_stage_id AS stage' : 'id, title'}, _run_id AS run, strftime(_synced_at, '%H:%M') AS at, _is_deleted AS deleted FROM ${table} WHERE integration_id = '${INTEGRATION}' AND snapshot_date = DATE '${date}' ORDER BY id, _synced_at`);
  const runFolders = (table: string, date: string) => {
    const partition = join(dir, table, `snapshot_date=${date}`, `integration_id=${encodeURIComponent(INTEGRATION)}`);
    return readdirSync(partition).filter((f) => f.startsWith('run-') && readdirSync(join(partition, f)).length > 0);
  };
  return { dir, kombo, store, failures, sync, runIdAt, retry, rows, runFolders };
}

describe('several syncs of a date', () => {
  it('three syncs of a day store three versions of a record changed three times; a retry of the middle run adds nothing and loses nothing', async () => {
    const s = await scenario();
    const first = await s.sync(D1, at(D1, '06:00'));
    expect(first.status).toBe('succeeded');

    // Mid-morning the application moves to Screen; the candidates endpoint refuses the next sync.
    s.kombo.setClock(at(D1, '09:00'));
    s.kombo.change('applications', 'app-ada', moveTo(SCREEN));
    s.failures['candidates'] = { status: 403, body: PII_ERROR_BODY };
    const middle = await s.sync(D1, at(D1, '10:00'));
    expect(middle.streams.map((m) => `${m.model}:${m.status}`).sort()).toEqual(['applications:done', 'candidates:failed']);

    // Afternoon: an interview is booked and the candidate changes; the next sync sees both.
    s.kombo.setClock(at(D1, '13:00'));
    s.kombo.change('applications', 'app-ada', moveTo(INTERVIEW));
    s.kombo.change('candidates', 'cand-ada', (r) => {
      r['title'] = 'Staff Engineer';
    });
    delete s.failures['candidates'];
    const last = await s.sync(D1, at(D1, '14:00'));
    expect(last.status).toBe('succeeded');

    const expectedApplications = [
      { id: 'app-ada', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
      { id: 'app-ada', stage: SCREEN.id, run: middle.runId, at: '10:00', deleted: false },
      { id: 'app-ada', stage: INTERVIEW.id, run: last.runId, at: '14:00', deleted: false },
      { id: 'app-ben', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
    ];
    const expectedCandidates = [
      { id: 'cand-ada', title: null, run: first.runId, at: '06:00', deleted: false },
      { id: 'cand-ada', title: 'Staff Engineer', run: last.runId, at: '14:00', deleted: false },
      { id: 'cand-ben', title: null, run: first.runId, at: '06:00', deleted: false },
    ];
    expect(await s.rows('applications', D1)).toEqual(expectedApplications);
    expect(await s.rows('candidates', D1)).toEqual(expectedCandidates);
    // The partition reads the latest sync's folder alone; the earlier folders are gone.
    expect(s.runFolders('applications', D1)).toEqual([`run-${last.runId}`]);

    // The middle run's failed stream is retried after the later sync committed: it is superseded.
    const retried = await s.retry(middle.runId, at(D1, '15:00'));
    const candidates = retried.streams.find((m) => m.model === 'candidates')!;
    expect([candidates.status, candidates.code]).toEqual(['skipped', 'STREAM.SUPERSEDED']);
    expect(retried.status).toBe('succeeded');
    expect(candidates.reason).toContain(at(D1, '14:00'));
    expect(await s.rows('applications', D1)).toEqual(expectedApplications);
    expect(await s.rows('candidates', D1)).toEqual(expectedCandidates);

    const commits = (await readStreamState(s.store, { integrationId: INTEGRATION, model: 'applications' })).commits;
    expect(commits.map((c) => [c.runId, c.mode, c.versions])).toEqual([
      [first.runId, 'full', 2],
      [middle.runId, 'incremental', 1],
      [last.runId, 'incremental', 1],
    ]);
    // One `syncs` row per sync: three of applications, two of candidates (the superseded retry stored none).
    const syncs = await queryWarehouse(s.dir, `SELECT model, run_id, versions FROM syncs WHERE snapshot_date = DATE '${D1}' ORDER BY model, started_at`);
    expect(syncs).toEqual([
      { model: 'applications', run_id: first.runId, versions: 2 },
      { model: 'applications', run_id: middle.runId, versions: 1 },
      { model: 'applications', run_id: last.runId, versions: 1 },
      { model: 'candidates', run_id: first.runId, versions: 2 },
      { model: 'candidates', run_id: last.runId, versions: 1 },
    ]);

    // The next day builds on the last sync of the day before.
    s.kombo.setClock(at(D2, '05:00'));
    s.kombo.change('applications', 'app-ben', moveTo(SCREEN));
    const next = await s.sync(D2, at(D2, '06:00'));
    expect(next.status).toBe('succeeded');
    expect(await s.rows('applications', D2)).toEqual([{ id: 'app-ben', stage: SCREEN.id, run: next.runId, at: '06:00', deleted: false }]);
    expect(await s.rows('applications', D1)).toEqual(expectedApplications);
  });

  it("a retry of a day's latest run replaces its own versions only and keeps the earlier syncs' versions", async () => {
    const s = await scenario();
    const first = await s.sync(D1, at(D1, '06:00'));
    s.kombo.setClock(at(D1, '09:00'));
    s.kombo.change('applications', 'app-ada', moveTo(SCREEN));
    s.kombo.change('candidates', 'cand-ada', (r) => {
      r['title'] = 'Engineer';
    });
    s.failures['candidates'] = { status: 403, body: PII_ERROR_BODY };
    const second = await s.sync(D1, at(D1, '10:00'));
    expect(second.status).not.toBe('succeeded');
    delete s.failures['candidates'];
    const retried = await s.retry(second.runId, at(D1, '11:00'));
    expect(retried.status).toBe('succeeded');
    // The retried stream's versions are dated when the retry fetched (the machine's clock).
    expect((await s.rows('candidates', D1)).map(({ at: _at, ...r }) => r)).toEqual([
      { id: 'cand-ada', title: null, run: first.runId, deleted: false },
      { id: 'cand-ada', title: 'Engineer', run: second.runId, deleted: false },
      { id: 'cand-ben', title: null, run: first.runId, deleted: false },
    ]);
    expect(await s.rows('applications', D1)).toEqual([
      { id: 'app-ada', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
      { id: 'app-ada', stage: SCREEN.id, run: second.runId, at: '10:00', deleted: false },
      { id: 'app-ben', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
    ]);
    expect(s.runFolders('candidates', D1)).toEqual([`run-${second.runId}`]);
  });

  it("a run stopped right after its commit of the date, then resumed, keeps the earlier syncs' versions", async () => {
    const s = await scenario();
    const first = await s.sync(D1, at(D1, '06:00'));
    s.kombo.setClock(at(D1, '09:00'));
    s.kombo.change('applications', 'app-ada', moveTo(SCREEN));
    // Stopped (as by Ctrl-C) just after the applications stream committed, before it wrote its marker.
    const stop = new AbortController();
    const stopAfterCommit = new Proxy(s.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'put' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (key: string, body: Uint8Array) => {
          await target.put(key, body);
          if (key.endsWith('/applications/stream.json')) stop.abort('SIGINT');
        };
      },
    });
    const second = s.runIdAt(at(D1, '10:00'));
    await expect(s.sync(D1, at(D1, '10:00'), second, { store: stopAfterCommit, signal: stop.signal })).rejects.toThrow();
    const resumed = await s.retry(second, at(D1, '11:00'));
    expect(resumed.status).toBe('succeeded');
    // The resumed stream fetched again (its versions dated then, on the machine's clock); the first sync's versions stay.
    expect((await s.rows('applications', D1)).map((r) => (r['run'] === second ? { ...r, at: 'resumed' } : r))).toEqual([
      { id: 'app-ada', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
      { id: 'app-ada', stage: SCREEN.id, run: second, at: 'resumed', deleted: false },
      { id: 'app-ben', stage: APPLIED.id, run: first.runId, at: '06:00', deleted: false },
    ]);
  });

  it('a record deleted in the ATS by the last of several syncs of a day goes whole once that day is past the retention', async () => {
    const s = await scenario();
    await s.sync(D1, at(D1, '06:00'));
    s.kombo.setClock(at(D1, '09:00'));
    s.kombo.change('candidates', 'cand-ada', (r) => {
      r['title'] = 'Engineer';
    });
    await s.sync(D1, at(D1, '10:00'));
    s.kombo.setClock(at(D1, '13:00'));
    s.kombo.markDeleted('candidates', 'cand-ada');
    await s.sync(D1, at(D1, '14:00'));
    expect((await s.rows('candidates', D1)).map((r) => `${String(r['id'])} ${String(r['at'])} ${String(r['deleted'])}`)).toEqual(['cand-ada 06:00 false', 'cand-ada 10:00 false', 'cand-ada 14:00 true', 'cand-ben 06:00 false']);
    // The retention alone (no consolidation first): the day's partition still holds the three syncs' files.
    const compacted = await compactStream({ store: s.store, catalog: new LocalCatalog(s.store) }, newCompactionRunId(new Date(`${D2}T05:00:00Z`)), INTEGRATION, 'candidates', D2, new Set());
    expect(compacted.recordsPurged).toBe(1);
    expect(await s.rows('candidates', D1)).toEqual([{ id: 'cand-ben', title: null, run: expect.any(String), at: '06:00', deleted: false }]);
  });

  it('a full sync that no longer finds a record changed earlier in the day stores one deletion copy, of its latest version', async () => {
    const s = await scenario();
    await s.sync(D1, at(D1, '06:00'));
    s.kombo.setClock(at(D1, '09:00'));
    s.kombo.change('applications', 'app-ada', moveTo(SCREEN));
    await s.sync(D1, at(D1, '10:00'));
    // Consolidated in between (oldest version first in its file); the day is synced again after.
    const consolidated = await compactWarehouse({ store: s.store, catalog: new LocalCatalog(s.store) }, { runId: newCompactionRunId(new Date(`${D2}T01:00:00Z`)), today: D2, retentionDays: 0 });
    expect(consolidated.streams.find((c) => c.model === 'applications')?.partitionsConsolidated).toBe(2); // the applications partition and the stream's syncs rows
    s.kombo.setClock(at(D1, '13:00'));
    s.kombo.remove('applications', 'app-ada');
    const full = await s.sync(D1, at(D1, '14:00'), s.runIdAt(at(D1, '14:00')), { full: true });
    expect(full.status).toBe('succeeded');
    expect((await s.rows('applications', D1)).map((r) => `${String(r['id'])} ${String(r['stage'])} ${String(r['at'])} ${String(r['deleted'])}`)).toEqual([
      `app-ada ${APPLIED.id} 06:00 false`,
      `app-ada ${SCREEN.id} 10:00 false`,
      `app-ada ${SCREEN.id} 14:00 true`,
      `app-ben ${APPLIED.id} 06:00 false`,
    ]);
  });
});
