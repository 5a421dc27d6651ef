/**
 * The pipeline against a Kombo-compatible server that behaves as Kombo documents, not as the
 * project's sandbox does (test/helpers/kombo-server.ts): cursors that shift when a record
 * disappears mid-listing, a `Date` header that runs ahead of the clock that stamps `changed_at`.
 * Each case syncs with the real pipeline (`runLocal`, a folder warehouse, `KomboClient`) and reads
 * the warehouse back with DuckDB.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelName } from '../../shared/tables.ts';
import { queryWarehouse, serverSync } from '../helpers/server-sync.ts';
import type { KomboRecord, KomboServer, Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, startKomboServer } from '../helpers/kombo-server.ts';

const INTEGRATION = 'greenhouse:UpdatedAfter3Rm8';
const KEY = 'updated-after-test-key';
const APPLIED: Stage = { id: 'StgApplied', name: 'Applied', index: 0 };
const SCREEN: Stage = { id: 'StgScreen', name: 'Screen', index: 1 };
const FEB = '2026-02-20T10:00:00.000Z';

const application = (id: string, changedAt = FEB): KomboRecord => applicationRecord({ id, candidateId: `cand-${id}`, stage: APPLIED, changedAt });

let kombo: KomboServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await kombo?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  kombo = undefined;
  dir = undefined;
});

/** A warehouse folder and a sync of it against `server`, one date (and run) at a time. */
function syncer(server: KomboServer, models: readonly ModelName[], dates: readonly string[]) {
  const s = serverSync(server, { apiKey: KEY, integrationId: INTEGRATION, models, dates, label: 'ua' });
  dir = s.dir;
  return s.sync;
}

const query = (sql: string): Promise<Record<string, unknown>[]> => queryWarehouse(dir as string, sql);

describe('a full sync whose listing skips a live record', () => {
  const D1 = '2026-03-02';
  const D2 = '2026-03-03';
  const D3 = '2026-03-04';

  it('stores no deletion for the skipped record, and the removed one is found deleted by the next full sync', async () => {
    const ids = ['app-1', 'app-2', 'app-3', 'app-4', 'app-5'];
    kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: `${D1}T06:00:00.000Z`, records: { applications: ids.map((id) => application(id)) } });
    const sync = syncer(kombo, ['applications'], [D1, D2, D3]);
    await sync(D1);

    // Day 2, a full sync: app-1 is removed right after the first page (app-1, app-2) is served, so
    // the second page (offset 2 of app-2…app-5) holds app-4 and app-5, and app-3 is skipped.
    kombo.setClock(`${D2}T06:00:00.000Z`);
    const server = kombo;
    server.afterPage((page) => {
      if (page.endpoint === 'applications' && page.cursor === null && page.idsFilter === undefined && page.ids.includes('app-1')) server.remove('applications', 'app-1');
    });
    const from = kombo.pages.length;
    await sync(D2, { full: true });
    kombo.afterPage(undefined);
    const listed = kombo.pages.slice(from).filter((p) => p.idsFilter === undefined).flatMap((p) => p.ids);
    expect(listed).toEqual(['app-1', 'app-2', 'app-4', 'app-5']);

    const deletions = `SELECT id, CAST(snapshot_date AS VARCHAR) AS date FROM applications WHERE _is_deleted ORDER BY ALL`;
    expect(await query(deletions)).toEqual([]);
    expect((await query(`SELECT id FROM applications_latest ORDER BY id`)).map((r) => r['id'])).toEqual(ids);

    // Day 3, a full sync again: app-1 is not returned, not even when asked for by id.
    kombo.setClock(`${D3}T06:00:00.000Z`);
    await sync(D3, { full: true });
    expect(await query(deletions)).toEqual([{ id: 'app-1', date: D3 }]);
    expect((await query(`SELECT id FROM applications_latest ORDER BY id`)).map((r) => r['id'])).toEqual(ids.slice(1));
  });
});

describe('a `Date` header ahead of our clock', () => {
  it('never places the watermark past a change made after the fetch', async () => {
    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const day = (ms: number): string => iso(ms).slice(0, 10);
    const [d1, d2] = [day(now - 86_400_000), day(now)];
    // Kombo stamps `changed_at` with the true time; its `Date` header runs an hour ahead.
    kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: iso(now), dateAheadMs: 3_600_000, records: { applications: [application('app-1')] } });
    const sync = syncer(kombo, ['applications'], [d1, d2]);
    await sync(d1);
    // A move made a minute after the first sync's fetch.
    kombo.setClock(iso(now + 60_000));
    kombo.change('applications', 'app-1', (r) => {
      r['current_stage_id'] = SCREEN.id;
      r['current_stage'] = { id: SCREEN.id, remote_id: `r-${SCREEN.id}`, name: SCREEN.name, index: SCREEN.index };
    });
    kombo.setClock(iso(now + 120_000));
    const from = kombo.pages.length;
    await sync(d2);
    const sent = kombo.pages.slice(from).map((p) => p.updatedAfter);
    expect(sent.length).toBeGreaterThan(0);
    for (const after of sent) expect(Date.parse(after as string)).toBeLessThanOrEqual(now + 60_000);
    expect(await query(`SELECT current_stage_name AS stage FROM applications_latest`)).toEqual([{ stage: 'Screen' }]);
  });
});
