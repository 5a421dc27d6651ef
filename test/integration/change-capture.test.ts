/**
 * Change capture end to end: the real pipeline (`runLocal`, a folder warehouse, the local catalog,
 * `KomboClient`) syncs an independent Kombo-compatible server (test/helpers/kombo-server.ts, not the
 * project's sandbox) day after day while the test changes its records, and DuckDB reads back the
 * `syncs` table, the `_history` and `_latest` views and the raw tables.
 *
 * The company: candidates ada, ben, cal, dee, eve; applications ada-1 (with an offer), ben-1, ben-2,
 * cal-1, dee-1, eve-1, eve-2 (with an offer). Pages hold 2 records. Every sync starts at 06:00 on the
 * server's clock (its `Date` header), changes are made before it.
 *
 * - Day 1 (full: the first sync): everything.
 * - Day 2: ada-1 and cal-1 move stage; ben is deleted in the ATS with his two applications; fay and
 *   fay-1 are new; cal's email changes, nothing else of him; eve-2 vanishes from the server; dee-1
 *   moves stage at 05:55, five minutes before the sync, so day 3's overlap returns it again.
 * - Day 3: fay-1 moves stage, eve gains a tag, ada-2 is new; only dee's raw payload (`remote_data`)
 *   changes, which no version records; the server also returns eve-1, unchanged since before day 1,
 *   whatever `updated_after` says. Then day 3 is synced again (a new run), incrementally from day 3's
 *   first sync: it finds only eve-1 (the quirk) and adds nothing to the date.
 * - Day 4: nothing changes.
 * - Day 5: a full sync (asked), run twice: eve-2, never returned since day 2, gets its deletion copy
 *   from the first; the second builds on it and adds nothing.
 * - Day 6: eve-2 is back as it was, and ben-1's deletion is undone in the ATS: both current again.
 *
 * Expected versions, pages and `syncs` figures are written out below from the story above, never
 * derived from the pipeline's code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAtsApplicationsPositiveResponse$inboundSchema, GetAtsCandidatesPositiveResponse$inboundSchema } from '@kombo-api/sdk/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { ModelName } from '../../shared/tables.ts';
import { objects } from '../helpers/history.ts';
import type { KomboRecord, KomboServer, PageRequest, Stage } from '../helpers/kombo-server.ts';
import { applicationRecord, candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';
import type { RunReport } from '../../shared/state/runs.ts';

const INTEGRATION = 'greenhouse:ChangeCapture7Kq2';
const KEY = 'change-capture-test-key';
const PAGE_SIZE = 2;
const MODELS: readonly ModelName[] = ['candidates', 'applications'];

const D1 = '2026-03-02';
const D2 = '2026-03-03';
const D3 = '2026-03-04';
const D4 = '2026-03-05';
const D5 = '2026-03-06';
const D6 = '2026-03-07';
/** A full-sync cycle on which none of the days is the integration's own: only day 1 and the asked syncs are full. */
const CYCLE = cycleWithoutFullDays([INTEGRATION], [D1, D2, D3, D4, D5, D6]);
/** When each day's sync starts on the server's clock: the `_valid_from` of what it stores. */
const start = (date: string): string => `${date}T06:00:00.000Z`;
/** `updated_after` of an incremental sync following the sync of `date`: its start less 15 minutes. */
const after = (date: string): string => `${date}T05:45:00.000Z`;
const ms = (iso: string): number => Date.parse(iso);

const APPLIED: Stage = { id: 'StgApplied', name: 'Applied', index: 0 };
const SCREEN: Stage = { id: 'StgScreen', name: 'Screen', index: 1 };
const INTERVIEW: Stage = { id: 'StgInterview', name: 'Interview', index: 2 };

// ---------------------------------------------------------------------------------------------
// The story's expected outcome, written out.

/** A sync of the scenario: its snapshot date, run, and mode. */
interface Step {
  readonly name: string;
  readonly date: string;
  readonly runId: string;
  readonly mode: 'full' | 'incremental';
  /** `updated_after` sent, for an incremental sync. */
  readonly updatedAfter?: string;
  /** A full sync asked for (`sync --full`), not one the planner chose. */
  readonly asked?: true;
  /** A second sync of its date: it builds on the first, and stores nothing that one stored. */
  readonly again?: { readonly returned: Record<'candidates' | 'applications', readonly string[]> };
}

const STEPS: readonly Step[] = [
  { name: 'day 1', date: D1, runId: '20260302T060000Z-cc01', mode: 'full' },
  { name: 'day 2', date: D2, runId: '20260303T060000Z-cc02', mode: 'incremental', updatedAfter: after(D1) },
  { name: 'day 3', date: D3, runId: '20260304T060000Z-cc03', mode: 'incremental', updatedAfter: after(D2) },
  { name: 'day 3 again', date: D3, runId: '20260304T060000Z-cc03b', mode: 'incremental', updatedAfter: after(D3), again: { returned: { candidates: [], applications: ['app-eve-1'] } } },
  { name: 'day 4', date: D4, runId: '20260305T060000Z-cc04', mode: 'incremental', updatedAfter: after(D3) },
  { name: 'day 5 (full)', date: D5, runId: '20260306T060000Z-cc05', mode: 'full', asked: true },
  {
    name: 'day 5 (full) again',
    date: D5,
    runId: '20260306T060000Z-cc05b',
    mode: 'full',
    asked: true,
    again: {
      returned: {
        candidates: ['cand-ada', 'cand-ben', 'cand-cal', 'cand-dee', 'cand-eve', 'cand-fay'],
        applications: ['app-ada-1', 'app-ada-2', 'app-ben-1', 'app-ben-2', 'app-cal-1', 'app-dee-1', 'app-eve-1', 'app-fay-1'],
      },
    },
  },
  { name: 'day 6', date: D6, runId: '20260307T060000Z-cc06', mode: 'incremental', updatedAfter: after(D5) },
];
const step = (name: string): Step => STEPS.find((s) => s.name === name) as Step;

/** The ids each date's sync gets back from the server: what changed since its `updated_after` (all there is on a full sync). */
const RETURNED: Record<string, Record<'candidates' | 'applications', readonly string[]>> = {
  [D1]: {
    candidates: ['cand-ada', 'cand-ben', 'cand-cal', 'cand-dee', 'cand-eve'],
    applications: ['app-ada-1', 'app-ben-1', 'app-ben-2', 'app-cal-1', 'app-dee-1', 'app-eve-1', 'app-eve-2'],
  },
  [D2]: {
    candidates: ['cand-ben', 'cand-cal', 'cand-fay'],
    applications: ['app-ada-1', 'app-ben-1', 'app-ben-2', 'app-cal-1', 'app-dee-1', 'app-fay-1'],
  },
  // dee-1 again (changed in the 15 minutes before day 2's start), eve-1 by the server's quirk.
  [D3]: { candidates: ['cand-dee', 'cand-eve'], applications: ['app-ada-2', 'app-dee-1', 'app-eve-1', 'app-fay-1'] },
  [D4]: { candidates: [], applications: [] },
  // Everything, ben's deleted records included; eve-2 is gone.
  [D5]: {
    candidates: ['cand-ada', 'cand-ben', 'cand-cal', 'cand-dee', 'cand-eve', 'cand-fay'],
    applications: ['app-ada-1', 'app-ada-2', 'app-ben-1', 'app-ben-2', 'app-cal-1', 'app-dee-1', 'app-eve-1', 'app-fay-1'],
  },
  [D6]: { candidates: [], applications: ['app-ben-1', 'app-eve-2'] },
};

/** Root rows each date stores (deletions included), and how many of them are deletions. */
const STORED: Record<string, Record<'candidates' | 'applications', { readonly versions: number; readonly deletions: number }>> = {
  [D1]: { candidates: { versions: 5, deletions: 0 }, applications: { versions: 7, deletions: 0 } },
  [D2]: { candidates: { versions: 3, deletions: 1 }, applications: { versions: 6, deletions: 2 } },
  [D3]: { candidates: { versions: 1, deletions: 0 }, applications: { versions: 2, deletions: 0 } },
  [D4]: { candidates: { versions: 0, deletions: 0 }, applications: { versions: 0, deletions: 0 } },
  [D5]: { candidates: { versions: 0, deletions: 0 }, applications: { versions: 1, deletions: 1 } },
  [D6]: { candidates: { versions: 0, deletions: 0 }, applications: { versions: 2, deletions: 0 } },
};

interface Version {
  readonly date: string;
  readonly deleted?: true;
}
interface CandidateVersion extends Version {
  readonly emails: readonly string[];
  readonly tags: readonly string[];
}
interface ApplicationVersion extends Version {
  readonly stage: string;
  readonly offers: readonly string[];
}

/** Every version of every candidate, in date order. */
const CANDIDATES: Record<string, readonly CandidateVersion[]> = {
  'cand-ada': [{ date: D1, emails: ['ada@example.com'], tags: ['Referral'] }],
  'cand-ben': [
    { date: D1, emails: ['ben@example.com'], tags: [] },
    { date: D2, emails: ['ben@example.com'], tags: [], deleted: true },
  ],
  'cand-cal': [
    { date: D1, emails: ['cal@old.example.com'], tags: ['Silver medalist'] },
    { date: D2, emails: ['cal@new.example.com'], tags: ['Silver medalist'] },
  ],
  'cand-dee': [{ date: D1, emails: ['dee@example.com', 'dee@work.example.com'], tags: [] }],
  'cand-eve': [
    { date: D1, emails: ['eve@example.com'], tags: ['Referral'] },
    { date: D3, emails: ['eve@example.com'], tags: ['Referral', 'Rehire'] },
  ],
  'cand-fay': [{ date: D2, emails: ['fay@example.com'], tags: [] }],
};

/** Every version of every application, in date order. */
const APPLICATIONS: Record<string, readonly ApplicationVersion[]> = {
  'app-ada-1': [
    { date: D1, stage: 'Screen', offers: ['DRAFT'] },
    { date: D2, stage: 'Interview', offers: ['DRAFT'] },
  ],
  'app-ada-2': [{ date: D3, stage: 'Applied', offers: [] }],
  'app-ben-1': [
    { date: D1, stage: 'Applied', offers: [] },
    { date: D2, stage: 'Applied', offers: [], deleted: true },
    { date: D6, stage: 'Applied', offers: [] },
  ],
  'app-ben-2': [
    { date: D1, stage: 'Screen', offers: [] },
    { date: D2, stage: 'Screen', offers: [], deleted: true },
  ],
  'app-cal-1': [
    { date: D1, stage: 'Applied', offers: [] },
    { date: D2, stage: 'Screen', offers: [] },
  ],
  'app-dee-1': [
    { date: D1, stage: 'Applied', offers: [] },
    { date: D2, stage: 'Screen', offers: [] },
  ],
  'app-eve-1': [{ date: D1, stage: 'Interview', offers: [] }],
  // Removed outright on day 2: current until the full sync of day 5 stores its deletion copy; back on day 6.
  'app-eve-2': [
    { date: D1, stage: 'Applied', offers: ['DECLINED'] },
    { date: D5, stage: 'Applied', offers: ['DECLINED'], deleted: true },
    { date: D6, stage: 'Applied', offers: ['DECLINED'] },
  ],
  'app-fay-1': [
    { date: D2, stage: 'Applied', offers: [] },
    { date: D3, stage: 'Screen', offers: [] },
  ],
};

/** A version as the `_history` views give it. */
interface Validity {
  readonly snapshot_date: string;
  readonly valid_from: number;
  readonly valid_to: number | null;
  readonly _is_current: boolean;
  readonly _is_deleted: boolean;
}

/** The versions of one record stored by `asOf`, each valid until the next one's start. */
function chain<V extends Version>(versions: readonly V[], asOf: string): (V & Validity)[] {
  const kept = versions.filter((v) => v.date <= asOf);
  return kept.map((v, k) => ({
    ...v,
    snapshot_date: v.date,
    valid_from: ms(start(v.date)),
    valid_to: k + 1 < kept.length ? ms(start(kept[k + 1]!.date)) : null,
    _is_current: k + 1 === kept.length,
    _is_deleted: v.deleted === true,
  }));
}

const validity = (v: Validity): Validity => ({
  snapshot_date: v.snapshot_date,
  valid_from: v.valid_from,
  valid_to: v.valid_to,
  _is_current: v._is_current,
  _is_deleted: v._is_deleted,
});

const expectedApplications = (asOf: string) =>
  Object.entries(APPLICATIONS).flatMap(([id, vs]) => chain(vs, asOf).map((v) => ({ id, ...validity(v), stage: v.stage })));
const expectedCandidates = (asOf: string) => Object.entries(CANDIDATES).flatMap(([id, vs]) => chain(vs, asOf).map((v) => ({ id, ...validity(v) })));
const expectedEmails = (asOf: string) =>
  Object.entries(CANDIDATES).flatMap(([id, vs]) =>
    chain(vs, asOf).flatMap((v) => v.emails.map((email, position) => ({ candidate_id: id, position, email_address: email, ...validity(v) }))),
  );
const expectedTags = (asOf: string) =>
  Object.entries(CANDIDATES).flatMap(([id, vs]) => chain(vs, asOf).flatMap((v) => v.tags.map((name, position) => ({ candidate_id: id, position, name, ...validity(v) }))));
const expectedOffers = (asOf: string) =>
  Object.entries(APPLICATIONS).flatMap(([id, vs]) =>
    chain(vs, asOf).flatMap((v) => v.offers.map((status, position) => ({ application_id: id, position, status, ...validity(v) }))),
  );
/** `_latest`: each record's current version, deleted ones left out. */
const expectedLatest = <T extends { _is_current: boolean; _is_deleted: boolean }>(rows: readonly T[]) => rows.filter((r) => r._is_current && !r._is_deleted);

// ---------------------------------------------------------------------------------------------
// The server's company and the changes of each day.

const TAG_REFERRAL = { id: 'TagReferral', name: 'Referral' };
const TAG_SILVER = { id: 'TagSilver', name: 'Silver medalist' };
const TAG_REHIRE = { id: 'TagRehire', name: 'Rehire' };
/** Before day 1: every record last changed in February. */
const FEB = '2026-02-20T10:00:00.000Z';

const candidate = (id: string, emails: readonly string[], tags: readonly { id: string; name: string }[]): KomboRecord =>
  candidateRecord({ id, firstName: id.slice(5), lastName: 'Example', emails, tags, changedAt: FEB });
const application = (id: string, candidateId: string, stage: Stage, offers: readonly { id: string; status: string }[] = []): KomboRecord =>
  applicationRecord({ id, candidateId, stage, offers, changedAt: FEB });

const SEED = {
  candidates: [
    candidate('cand-ada', ['ada@example.com'], [TAG_REFERRAL]),
    candidate('cand-ben', ['ben@example.com'], []),
    candidate('cand-cal', ['cal@old.example.com'], [TAG_SILVER]),
    candidate('cand-dee', ['dee@example.com', 'dee@work.example.com'], []),
    candidate('cand-eve', ['eve@example.com'], [TAG_REFERRAL]),
  ],
  applications: [
    application('app-ada-1', 'cand-ada', SCREEN, [{ id: 'OfrAda1', status: 'DRAFT' }]),
    application('app-ben-1', 'cand-ben', APPLIED),
    application('app-ben-2', 'cand-ben', SCREEN),
    application('app-cal-1', 'cand-cal', APPLIED),
    application('app-dee-1', 'cand-dee', APPLIED),
    application('app-eve-1', 'cand-eve', INTERVIEW),
    application('app-eve-2', 'cand-eve', APPLIED, [{ id: 'OfrEve2', status: 'DECLINED' }]),
  ],
};

/** Moves an application to a stage, as the ATS does. */
const moveTo = (stage: Stage) => (r: KomboRecord): void => {
  r['current_stage_id'] = stage.id;
  r['current_stage'] = { id: stage.id, remote_id: `r-${stage.id}`, name: stage.name, index: stage.index };
};

function changesOfDay2(kombo: KomboServer): void {
  kombo.setClock(`${D2}T05:00:00.000Z`);
  kombo.change('applications', 'app-ada-1', moveTo(INTERVIEW));
  kombo.change('applications', 'app-cal-1', moveTo(SCREEN));
  kombo.markDeleted('candidates', 'cand-ben');
  kombo.markDeleted('applications', 'app-ben-1');
  kombo.markDeleted('applications', 'app-ben-2');
  kombo.put('candidates', candidate('cand-fay', ['fay@example.com'], []));
  kombo.put('applications', application('app-fay-1', 'cand-fay', APPLIED));
  // A nested-only change: one email of cal's, nothing else.
  kombo.change('candidates', 'cand-cal', (r) => {
    r['email_addresses'] = [{ email_address: 'cal@new.example.com', type: 'PRIVATE' }];
  });
  kombo.remove('applications', 'app-eve-2');
  // Five minutes before the sync starts: inside the next sync's 15-minute overlap.
  kombo.setClock(`${D2}T05:55:00.000Z`);
  kombo.change('applications', 'app-dee-1', moveTo(SCREEN));
}

function changesOfDay3(kombo: KomboServer): void {
  kombo.setClock(`${D3}T05:00:00.000Z`);
  kombo.change('applications', 'app-fay-1', moveTo(SCREEN));
  kombo.change('candidates', 'cand-eve', (r) => {
    r['tags'] = [TAG_REFERRAL, TAG_REHIRE].map((t) => ({ id: t.id, name: t.name, remote_id: null }));
  });
  kombo.put('applications', application('app-ada-2', 'cand-ada', APPLIED));
  // Only the raw payload: returned (its changed_at moved), but no stored column differs.
  kombo.change('candidates', 'cand-dee', (r) => {
    r['remote_data'] = { greenhouse: { last_activity: 'email opened' } };
  });
  // The quirk: eve-1, unchanged since February, comes back whatever `updated_after` says.
  kombo.returnAlways('applications', ['app-eve-1']);
}

function changesOfDay6(kombo: KomboServer): void {
  kombo.setClock(`${D6}T05:00:00.000Z`);
  kombo.put('applications', SEED.applications.find((r) => r.id === 'app-eve-2') as KomboRecord);
  kombo.change('applications', 'app-ben-1', (r) => {
    r.remote_deleted_at = null;
  });
}

// ---------------------------------------------------------------------------------------------
// The scenario runs once; what DuckDB reads after each sync is kept for the assertions.

interface Observed {
  readonly report: RunReport;
  readonly pages: readonly PageRequest[];
  readonly syncs: Record<string, unknown>[];
  readonly applications: Record<string, unknown>[];
  readonly candidates: Record<string, unknown>[];
  readonly emails: Record<string, unknown>[];
  readonly tags: Record<string, unknown>[];
  readonly offers: Record<string, unknown>[];
  readonly applicationsLatest: Record<string, unknown>[];
  readonly candidatesLatest: Record<string, unknown>[];
  /** Child rows of the raw tables (what is stored, whatever the views join). */
  readonly rawEmails: Record<string, unknown>[];
  readonly rawTags: Record<string, unknown>[];
  readonly rawOffers: Record<string, unknown>[];
  /** Every row of the `_history` views, all columns but `_run_id`, and row counts of the raw tables per date. */
  readonly dump: Record<string, Record<string, unknown>[]>;
  /** eve-2's rows in `applications` and `application_offers`, all columns. */
  readonly eve2: Record<string, unknown>[];
  readonly eve2Offers: Record<string, unknown>[];
  readonly runIds: Record<string, unknown>[];
}

const observed = new Map<string, Observed>();
let kombo: KomboServer;
let dir: string;

const VALIDITY_SQL = `CAST(snapshot_date AS VARCHAR) AS snapshot_date, epoch_ms(_valid_from) AS valid_from, epoch_ms(_valid_to) AS valid_to, _is_current, _is_deleted`;
const DUMPED = ['candidates', 'candidate_email_addresses', 'candidate_tags', 'applications', 'application_offers'] as const;

async function observe(report: RunReport, pages: readonly PageRequest[]): Promise<Observed> {
  const db = await openWarehouse(dir);
  try {
    const q = (sql: string) => objects(db, sql);
    const where = `WHERE integration_id = '${INTEGRATION}'`;
    const dump: Record<string, Record<string, unknown>[]> = {};
    for (const t of DUMPED) {
      dump[`${t}_history`] = await q(`SELECT * EXCLUDE (_run_id) FROM ${t}_history ORDER BY ALL`);
      dump[t] = await q(`SELECT CAST(snapshot_date AS VARCHAR) AS snapshot_date, count(*) AS n FROM ${t} GROUP BY 1 ORDER BY 1`);
    }
    return {
      report,
      pages,
      dump,
      syncs: await q(
        `SELECT CAST(snapshot_date AS VARCHAR) AS snapshot_date, model, run_id, mode, epoch_ms(updated_after) AS updated_after, epoch_ms(started_at) AS started_at,
           epoch_ms(valid_from) AS valid_from, records, versions, deletions, finished_at IS NOT NULL AS finished
         FROM syncs ${where} ORDER BY snapshot_date, model, started_at, run_id`,
      ),
      applications: await q(`SELECT id, ${VALIDITY_SQL}, current_stage_name AS stage FROM applications_history ${where} ORDER BY id, snapshot_date`),
      candidates: await q(`SELECT id, ${VALIDITY_SQL} FROM candidates_history ${where} ORDER BY id, snapshot_date`),
      emails: await q(`SELECT candidate_id, position, email_address, ${VALIDITY_SQL} FROM candidate_email_addresses_history ${where} ORDER BY candidate_id, snapshot_date, position`),
      tags: await q(`SELECT candidate_id, position, name, ${VALIDITY_SQL} FROM candidate_tags_history ${where} ORDER BY candidate_id, snapshot_date, position`),
      offers: await q(`SELECT application_id, position, status, ${VALIDITY_SQL} FROM application_offers_history ${where} ORDER BY application_id, snapshot_date, position`),
      applicationsLatest: await q(`SELECT id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, current_stage_name AS stage FROM applications_latest ${where} ORDER BY id`),
      candidatesLatest: await q(`SELECT id, CAST(snapshot_date AS VARCHAR) AS snapshot_date FROM candidates_latest ${where} ORDER BY id`),
      rawEmails: await q(`SELECT candidate_id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, position, email_address, _is_deleted FROM candidate_email_addresses ${where} ORDER BY ALL`),
      rawTags: await q(`SELECT candidate_id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, position, name, _is_deleted FROM candidate_tags ${where} ORDER BY ALL`),
      rawOffers: await q(`SELECT application_id, CAST(snapshot_date AS VARCHAR) AS snapshot_date, position, status, _is_deleted FROM application_offers ${where} ORDER BY ALL`),
      eve2: await q(`SELECT * FROM applications ${where} AND id = 'app-eve-2' ORDER BY snapshot_date`),
      eve2Offers: await q(`SELECT * FROM application_offers ${where} AND application_id = 'app-eve-2' ORDER BY snapshot_date, position`),
      runIds: await q(
        `SELECT 'applications' AS t, CAST(snapshot_date AS VARCHAR) AS snapshot_date, _run_id FROM applications ${where}
         UNION SELECT 'candidates', CAST(snapshot_date AS VARCHAR), _run_id FROM candidates ${where}
         UNION SELECT 'candidate_email_addresses', CAST(snapshot_date AS VARCHAR), _run_id FROM candidate_email_addresses ${where}
         ORDER BY ALL`,
      ),
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kombo-change-capture-'));
  kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: start(D1), records: SEED });
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: kombo.url, apiKey: KEY });
  const sync = async (s: Step): Promise<void> => {
    kombo.setClock(start(s.date));
    const from = kombo.pages.length;
    const report = await runLocal({
      client,
      store,
      catalog: new LocalCatalog(store),
      runId: s.runId,
      snapshotDate: s.date,
      integrationIds: [INTEGRATION],
      models: MODELS,
      concurrency: 2,
      limits: { pageSize: PAGE_SIZE },
      fullEveryDays: CYCLE,
      ...(s.asked && { full: true }),
    });
    observed.set(s.name, await observe(report, kombo.pages.slice(from)));
  };

  await sync(step('day 1'));
  changesOfDay2(kombo);
  await sync(step('day 2'));
  changesOfDay3(kombo);
  await sync(step('day 3'));
  await sync(step('day 3 again'));
  kombo.returnAlways('applications', []);
  await sync(step('day 4'));
  await sync(step('day 5 (full)'));
  await sync(step('day 5 (full) again'));
  changesOfDay6(kombo);
  await sync(step('day 6'));
}, 60_000);

afterAll(async () => {
  await kombo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const seen = (name: string): Observed => {
  const o = observed.get(name);
  if (!o) throw new Error(`the scenario did not reach ${name}`);
  return o;
};

// ---------------------------------------------------------------------------------------------

describe('the server is Kombo-compatible', () => {
  it('every page it served passes the SDK schema of its endpoint', () => {
    const schemas = { candidates: GetAtsCandidatesPositiveResponse$inboundSchema, applications: GetAtsApplicationsPositiveResponse$inboundSchema };
    const served = [...observed.values()].flatMap((o) => o.pages);
    expect(served.length).toBeGreaterThan(20);
    // A full sync's second look at eve-2, gone since day 2, is refused (404): the page it asks for names no record.
    for (const page of served.filter((p) => !(p.idsFilter?.join() === 'app-eve-2'))) {
      expect(page.body, `refused: ${JSON.stringify(page)}`).toBeDefined();
      const parsed = schemas[page.endpoint as keyof typeof schemas].safeParse(JSON.parse(page.body as string));
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
    }
  });
});

describe.each(STEPS)('$name', (s) => {
  it('completes every stream, in the expected mode, as the run report says', () => {
    const { report } = seen(s.name);
    expect(report.status).toBe('succeeded');
    const markers = report.streams.map((m) => ({ model: m.model, status: m.status, mode: m.sync?.mode, updatedAfter: m.sync?.updatedAfter, startedAt: m.sync?.startedAt }));
    expect(markers.sort((a, b) => a.model.localeCompare(b.model))).toEqual(
      ['applications', 'candidates'].map((model) => ({ model, status: 'done', mode: s.mode, updatedAfter: s.updatedAfter, startedAt: start(s.date) })),
    );
  });

  it('asks for the pages of what changed and no more: every page with the sync\'s filters', () => {
    const { pages } = seen(s.name);
    for (const endpoint of ['candidates', 'applications'] as const) {
      const mine = pages.filter((p) => p.endpoint === endpoint && p.idsFilter === undefined);
      // A full sync asks once more, by id, for what its listing no longer returned: eve-2, on day 5.
      // Day 5's second run builds on the first, which already stored eve-2's deletion: nothing to ask.
      const lookedFor = pages.filter((p) => p.endpoint === endpoint && p.idsFilter !== undefined).map((p) => p.idsFilter);
      expect(lookedFor, endpoint).toEqual(s.name === 'day 5 (full)' && endpoint === 'applications' ? [['app-eve-2']] : []);
      const returned = (s.again?.returned ?? RETURNED[s.date]!)[endpoint];
      expect(mine.flatMap((p) => p.ids), endpoint).toEqual(returned);
      // The server's last page has no `next`, so the pages are exactly those holding the records (one when there are none).
      expect(mine, endpoint).toHaveLength(Math.max(1, Math.ceil(returned.length / PAGE_SIZE)));
      for (const p of mine) expect({ updatedAfter: p.updatedAfter, includeDeleted: p.includeDeleted, pageSize: p.pageSize }).toEqual({ updatedAfter: s.updatedAfter ?? null, includeDeleted: true, pageSize: PAGE_SIZE });
    }
  });

  it('records the sync of each stream in `syncs`', () => {
    const row = seen(s.name).syncs.filter((r) => r['snapshot_date'] === s.date && r['run_id'] === s.runId);
    expect(row).toEqual(
      (['applications', 'candidates'] as const).map((model) => ({
        snapshot_date: s.date,
        model,
        run_id: s.runId,
        mode: s.mode,
        updated_after: s.updatedAfter === undefined ? null : ms(s.updatedAfter),
        started_at: ms(start(s.date)),
        valid_from: ms(start(s.date)),
        records: (s.again?.returned ?? RETURNED[s.date]!)[model].length,
        ...(s.again ? { versions: 0, deletions: 0 } : STORED[s.date]![model]),
        finished: true,
      })),
    );
  });

  it('`applications_history` and `candidates_history` hold exactly the true versions, chained', () => {
    const o = seen(s.name);
    expect(o.applications).toEqual(expectedApplications(s.date));
    expect(o.candidates).toEqual(expectedCandidates(s.date));
  });

  it('child rows (emails, tags, offers) are stored only with their parent\'s versions, with its validity and flag', () => {
    const o = seen(s.name);
    expect(o.emails).toEqual(expectedEmails(s.date));
    expect(o.tags).toEqual(expectedTags(s.date));
    expect(o.offers).toEqual(expectedOffers(s.date));
    // The raw tables: no child row without a version of its parent on the same date, flagged as it is.
    expect(o.rawEmails).toEqual(expectedEmails(s.date).map((r) => ({ candidate_id: r.candidate_id, snapshot_date: r.snapshot_date, position: r.position, email_address: r.email_address, _is_deleted: r._is_deleted })).sort(byAll));
    expect(o.rawTags).toEqual(expectedTags(s.date).map((r) => ({ candidate_id: r.candidate_id, snapshot_date: r.snapshot_date, position: r.position, name: r.name, _is_deleted: r._is_deleted })).sort(byAll));
    expect(o.rawOffers).toEqual(expectedOffers(s.date).map((r) => ({ application_id: r.application_id, snapshot_date: r.snapshot_date, position: r.position, status: r.status, _is_deleted: r._is_deleted })).sort(byAll));
  });

  it('`applications_latest` and `candidates_latest` give each record\'s current version, deleted ones left out', () => {
    const o = seen(s.name);
    expect(o.applicationsLatest).toEqual(expectedLatest(expectedApplications(s.date)).map((r) => ({ id: r.id, snapshot_date: r.snapshot_date, stage: r.stage })));
    expect(o.candidatesLatest).toEqual(expectedLatest(expectedCandidates(s.date)).map((r) => ({ id: r.id, snapshot_date: r.snapshot_date })));
  });
});

/** Orders rows as DuckDB's `ORDER BY ALL` does for these (strings, then integers). */
function byAll(a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const k of Object.keys(a)) {
    const x = a[k] as string | number | boolean;
    const y = b[k] as string | number | boolean;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

describe('what each sync stores', () => {
  it('the removed application stays current until the full sync, which stores its deletion copy and closes it', () => {
    for (const name of ['day 2', 'day 3', 'day 4']) {
      expect(seen(name).applicationsLatest.find((r) => r['id'] === 'app-eve-2'), name).toEqual({ id: 'app-eve-2', snapshot_date: D1, stage: 'Applied' });
    }
    const full = seen('day 5 (full)');
    expect(full.applicationsLatest.find((r) => r['id'] === 'app-eve-2')).toBeUndefined();
    expect(full.applications.filter((r) => r['id'] === 'app-eve-2')).toEqual([
      { id: 'app-eve-2', snapshot_date: D1, valid_from: ms(start(D1)), valid_to: ms(start(D5)), _is_current: false, _is_deleted: false, stage: 'Applied' },
      { id: 'app-eve-2', snapshot_date: D5, valid_from: ms(start(D5)), valid_to: null, _is_current: true, _is_deleted: true, stage: 'Applied' },
    ]);
    // The copy has every column of the last version; only the run, the time and the flag differ.
    const [last, copy] = full.eve2;
    const meta = (r: Record<string, unknown> | undefined) => ({ snapshot_date: String(r?.['snapshot_date']), _run_id: r?.['_run_id'], _is_deleted: r?.['_is_deleted'] });
    expect([meta(last), meta(copy)]).toEqual([
      { snapshot_date: D1, _run_id: step('day 1').runId, _is_deleted: false },
      { snapshot_date: D5, _run_id: step('day 5 (full)').runId, _is_deleted: true },
    ]);
    const data = (r: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => !['snapshot_date', '_run_id', '_synced_at', '_is_deleted'].includes(k)));
    expect(data(copy)).toEqual(data(last));
    expect(Object.keys(data(last))).toContain('current_stage_name');
    // Its offer comes along, flagged too.
    expect(full.eve2Offers.map((r) => [String(r['snapshot_date']), r['offer_id'], r['status'], r['_is_deleted']])).toEqual([
      [D1, 'OfrEve2', 'DECLINED', false],
      [D5, 'OfrEve2', 'DECLINED', true],
    ]);
  });

  it.each([['day 3', 'day 3 again'], ['day 5 (full)', 'day 5 (full) again']])('%s synced again in a new run adds nothing: same versions, same rows', (first, again) => {
    const a = seen(first);
    const b = seen(again);
    expect(Object.keys(b.dump)).toHaveLength(DUMPED.length * 2);
    expect(b.dump).toEqual(a.dump);
    // The date's rows are still the first run's (the new run's folder holds them, as they were); the earlier dates keep theirs.
    const date = step(first).date;
    const runs = (o: Observed) => o.runIds.filter((r) => r['snapshot_date'] === date).map((r) => r['_run_id']);
    expect(new Set(runs(a))).toEqual(new Set([step(first).runId]));
    expect(new Set(runs(b))).toEqual(new Set([step(first).runId]));
    expect(b.runIds.filter((r) => r['snapshot_date'] !== date)).toEqual(a.runIds.filter((r) => r['snapshot_date'] !== date));
  });

  it('a record changed in the 15 minutes before a sync started is returned by the next sync too, and stored once', () => {
    expect(seen('day 2').pages.some((p) => p.ids.includes('app-dee-1'))).toBe(true);
    expect(seen('day 3').pages.some((p) => p.ids.includes('app-dee-1'))).toBe(true);
    expect(kombo.get('applications', 'app-dee-1').changed_at).toBe(`${D2}T05:55:00.000Z`);
    expect(seen('day 3').applications.filter((r) => r['id'] === 'app-dee-1').map((r) => r['snapshot_date'])).toEqual([D1, D2]);
  });

  it('a record the server returns although older than the watermark, unchanged, adds no row', () => {
    const page = seen('day 3').pages.find((p) => p.ids.includes('app-eve-1'));
    expect(page?.updatedAfter).toBe(after(D2));
    expect(kombo.get('applications', 'app-eve-1').changed_at < after(D2)).toBe(true);
    expect(seen('day 3').applications.filter((r) => r['id'] === 'app-eve-1').map((r) => r['snapshot_date'])).toEqual([D1]);
  });

  it('a removed record that comes back, and a deletion undone in the ATS, are current again', () => {
    const o = seen('day 6');
    expect(o.applications.filter((r) => ['app-ben-1', 'app-eve-2'].includes(r['id'] as string) && r['_is_current'])).toEqual([
      { id: 'app-ben-1', snapshot_date: D6, valid_from: ms(start(D6)), valid_to: null, _is_current: true, _is_deleted: false, stage: 'Applied' },
      { id: 'app-eve-2', snapshot_date: D6, valid_from: ms(start(D6)), valid_to: null, _is_current: true, _is_deleted: false, stage: 'Applied' },
    ]);
    expect(o.applicationsLatest.filter((r) => ['app-ben-1', 'app-eve-2'].includes(r['id'] as string)).map((r) => r['snapshot_date'])).toEqual([D6, D6]);
  });

  it('a record whose raw payload alone changed is returned but adds no row', () => {
    expect(seen('day 3').pages.some((p) => p.ids.includes('cand-dee'))).toBe(true);
    expect(seen('day 3').candidates.filter((r) => r['id'] === 'cand-dee').map((r) => r['snapshot_date'])).toEqual([D1]);
  });

  it('a day with no change stores nothing but its `syncs` rows', () => {
    const before = seen('day 3 again').dump;
    const after4 = seen('day 4').dump;
    expect(after4).toEqual(before);
    expect(seen('day 4').syncs.filter((r) => r['snapshot_date'] === D4).map((r) => [r['model'], r['records'], r['versions']])).toEqual([
      ['applications', 0, 0],
      ['candidates', 0, 0],
    ]);
  });
});
