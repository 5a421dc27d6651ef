/**
 * Copies of linked records against a Kombo-compatible server that follows the `updated_after`
 * table of Kombo's docs (test/helpers/kombo-server.ts): a change to a linked record (a job's name,
 * a stage's name, a user's name, a tag's name) does not move the parent's `changed_at`, so an
 * incremental fetch does not return the parent for it. And hash layouts: a release that hashes
 * other columns than the one that wrote the warehouse stores no version for unchanged records.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { STAGE_COUNTS_SQL } from '../../cli/commands/demo.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { currentLayout, hashRecord, legacyLayout } from '../../shared/pipeline/hash-layout.ts';
import { readLayouts } from '../../shared/state/layouts.ts';
import { priorIndex, readStreamState, writeIndexFile } from '../../shared/state/streams.ts';
import { stateKeys } from '../../shared/state/keys.ts';
import type { ModelName } from '../../shared/tables.ts';
import { queryWarehouse, serverSync } from '../helpers/server-sync.ts';
import type { KomboRecord, KomboServer } from '../helpers/kombo-server.ts';
import { candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';

const INTEGRATION = 'greenhouse:LinkedCopies4Tq9';
const KEY = 'linked-records-test-key';
const FEB = '2026-02-20T10:00:00.000Z';
const [D1, D2, D3] = ['2026-03-02', '2026-03-03', '2026-03-04'];
const MODELS: readonly ModelName[] = ['jobs', 'users', 'candidates', 'applications', 'interviews'];

const fixture = (name: string): KomboRecord => {
  const body = JSON.parse(readFileSync(new URL(`../fixtures/kombo-server/${name}.json`, import.meta.url), 'utf8')) as { data: { results: KomboRecord[] } };
  return body.data.results[0]!;
};

interface StageDef {
  readonly id: string;
  readonly name: string;
  readonly index: number;
}
const LEDA = { id: 'UsrLeda', remote_id: 'u-1', first_name: 'Leda', last_name: 'Watsica', email: 'leda@example.com' };
const BACKEND = { id: 'JobBackend', name: 'Backend Engineer', stages: [{ id: 'StgApplied', name: 'Applied', index: 0 }, { id: 'StgScreen', name: 'Screen', index: 1 }, { id: 'StgOnsite', name: 'Onsite', index: 2 }] };
const ANALYST = { id: 'JobAnalyst', name: 'Data Analyst', stages: [{ id: 'StgBApplied', name: 'Applied', index: 0 }, { id: 'StgBScreen', name: 'Screen', index: 1 }] };

const stageCopy = (s: StageDef) => ({ id: s.id, remote_id: `r-${s.id}`, name: s.name, index: s.index });

function job(j: { readonly id: string; readonly name: string; readonly stages: readonly StageDef[] }, team: readonly (typeof LEDA)[]): KomboRecord {
  return {
    ...fixture('jobs-1'),
    id: j.id,
    remote_id: `r-${j.id}`,
    name: j.name,
    changed_at: FEB,
    remote_deleted_at: null,
    stages: j.stages.map(stageCopy),
    hiring_team: team.map((u) => ({ ...u, hiring_team_roles: ['HIRING_MANAGER'], job_roles: [] })),
    screening_questions: [],
    job_postings: [],
  };
}

function application(id: string, j: typeof BACKEND, stage: StageDef): KomboRecord {
  return {
    id,
    remote_id: `r-${id}`,
    outcome: 'PENDING',
    rejection_reason_name: null,
    rejected_at: null,
    current_stage_id: stage.id,
    job_id: j.id,
    candidate_id: `cand-${id}`,
    screening_question_answers: [],
    custom_fields: {},
    integration_fields: [],
    remote_url: `https://app.greenhouse.io/applications/${id}`,
    changed_at: FEB,
    remote_deleted_at: null,
    remote_created_at: '2026-01-06T09:00:00.000Z',
    remote_updated_at: FEB,
    remote_data: null,
    candidate: { id: `cand-${id}`, remote_id: null, first_name: null, last_name: null, source: null, remote_url: null, tags: [] },
    current_stage: stageCopy(stage),
    job: { id: j.id, remote_id: `r-${j.id}`, name: j.name },
    interviews: [],
    offers: [],
  };
}

const interview = (id: string, applicationId: string): KomboRecord => ({
  ...fixture('interviews-1'),
  id,
  application_id: applicationId,
  stage_id: 'StgScreen',
  changed_at: FEB,
  remote_deleted_at: null,
  users: [LEDA],
});

const user = (u: typeof LEDA): KomboRecord => ({ ...u, status: 'ACTIVE', remote_data: null, changed_at: FEB, remote_deleted_at: null, system_roles: [] });

const RECORDS: Record<string, KomboRecord[]> = {
  jobs: [job(BACKEND, [LEDA]), job(ANALYST, [])],
  users: [user(LEDA)],
  candidates: ['app-1', 'app-2', 'app-3', 'app-4'].map((a) =>
    candidateRecord({ id: `cand-${a}`, firstName: 'Ada', lastName: a, emails: [`${a}@example.com`], tags: a === 'app-1' ? [{ id: 'TagRef', name: 'Referral' }] : [], changedAt: FEB }),
  ),
  applications: [
    application('app-1', BACKEND, BACKEND.stages[0]!),
    application('app-2', BACKEND, BACKEND.stages[1]!),
    application('app-3', BACKEND, BACKEND.stages[2]!),
    application('app-4', ANALYST, ANALYST.stages[1]!),
  ],
  interviews: [interview('iv-1', 'app-2')],
};

let kombo: KomboServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await kombo?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  kombo = undefined;
  dir = undefined;
});

/** A warehouse folder and a sync of it against `server`, one date (and run) at a time. */
function syncer(server: KomboServer, dates: readonly string[]) {
  const s = serverSync(server, { apiKey: KEY, integrationId: INTEGRATION, models: MODELS, dates, label: 'lk' });
  dir = s.dir;
  return s;
}

const query = (sql: string): Promise<Record<string, unknown>[]> => queryWarehouse(dir as string, sql);

/** Versions stored on `date`, per model. */
async function versionsOn(date: string): Promise<Record<string, number>> {
  const rows = await query(`SELECT model, versions FROM syncs WHERE snapshot_date = DATE '${date}' ORDER BY model`);
  return Object.fromEntries(rows.map((r) => [String(r['model']), Number(r['versions'])]));
}

/** A SQL list of rows, for a VALUES table. */
const values = (rows: readonly (readonly string[])[]): string => rows.map((r) => `(${r.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`).join(', ');

/**
 * Rows of the analytics views that name a job, a stage or an interviewer otherwise than Kombo's
 * own job and user records do now.
 */
async function staleNames(server: KomboServer): Promise<Record<string, number>> {
  const jobRecords = [BACKEND.id, ANALYST.id].map((id) => server.get('jobs', id));
  const jobs = `(VALUES ${values(jobRecords.map((j) => [j.id, String(j['name'])]))}) AS j(id, name)`;
  const stageRows = jobRecords.flatMap((j) => (j['stages'] as StageDef[]).map((st) => [j.id, st.id, st.name]));
  const stages = `(VALUES ${values(stageRows)}) AS s(job_id, stage_id, name)`;
  const users = `(VALUES ${values([[LEDA.id, String(server.get('users', LEDA.id)['first_name'])]])}) AS u(id, first_name)`;
  const count = async (sql: string): Promise<number> => Number((await query(`SELECT count(*) AS n FROM (${sql})`))[0]!['n']);
  const byJob = (view: string) => count(`SELECT 1 FROM ${view} v JOIN ${jobs} ON j.id = v.job_id WHERE v.job_name IS DISTINCT FROM j.name`);
  const byStage = (view: string) => count(`SELECT 1 FROM ${view} v JOIN ${stages} ON s.job_id = v.job_id AND s.stage_id = v.stage_id WHERE v.stage_name IS DISTINCT FROM s.name`);
  return {
    'application_stage_history.job_name': await byJob('application_stage_history'),
    'application_stage_history.stage_name': await byStage('application_stage_history'),
    'hiring_funnel.job_name': await byJob('hiring_funnel'),
    'hiring_funnel.stage_name': await byStage('hiring_funnel'),
    'interviewer_load.first_name': await count(`SELECT 1 FROM interviewer_load v JOIN ${users} ON u.id = v.user_id WHERE v.first_name IS DISTINCT FROM u.first_name`),
  };
}

describe('copies of linked records', () => {
  it('a job, a stage and a user renamed show under their new names the same night, with no versions for the copies alone', async () => {
    kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: `${D1}T05:00:00.000Z`, records: RECORDS });
    const { sync } = syncer(kombo, [D1, D2, D3]);
    await sync(D1);
    const server = kombo;
    expect(Object.values(await staleNames(server))).toEqual([0, 0, 0, 0, 0]);

    // Night 2. The job is renamed (its `changed_at` moves), its applications' copies follow without
    // moving theirs. A stage of the other job is renamed: neither the job nor its applications come
    // back for it. Leda becomes Lena: her user record moves, the interview and the hiring team that
    // copy her do not. A tag is renamed inside a candidate. And app-1 really moves on, to Screen.
    server.setClock(`${D2}T05:00:00.000Z`);
    server.change('jobs', BACKEND.id, (r) => (r['name'] = 'Platform Engineer'));
    for (const id of ['app-1', 'app-2', 'app-3']) server.changeLinked('applications', id, (r) => (r['job'] = { ...(r['job'] as object), name: 'Platform Engineer' }));
    server.changeLinked('jobs', ANALYST.id, (r) => ((r['stages'] as { name: string }[])[1]!.name = 'Phone Screen'));
    server.changeLinked('applications', 'app-4', (r) => ((r['current_stage'] as { name: string }).name = 'Phone Screen'));
    server.change('users', LEDA.id, (r) => (r['first_name'] = 'Lena'));
    server.changeLinked('interviews', 'iv-1', (r) => ((r['users'] as { first_name: string }[])[0]!.first_name = 'Lena'));
    server.changeLinked('jobs', BACKEND.id, (r) => ((r['hiring_team'] as { first_name: string }[])[0]!.first_name = 'Lena'));
    server.changeLinked('candidates', 'cand-app-1', (r) => ((r['tags'] as { name: string }[])[0]!.name = 'Employee referral'));
    server.change('applications', 'app-1', (r) => {
      r['current_stage_id'] = 'StgScreen';
      r['current_stage'] = stageCopy(BACKEND.stages[1]!);
    });
    const from = kombo.pages.length;
    await sync(D2);
    const jobPages = kombo.pages.slice(from).filter((p) => p.endpoint === 'jobs');
    expect.soft({ requests: jobPages.length, updatedAfter: jobPages.map((p) => p.updatedAfter) }).toEqual({ requests: 1, updatedAfter: [null] });
    // One page per model, as an incremental night of this integration took before jobs were listed in full.
    expect.soft(kombo.pages.slice(from).length).toBe(5);

    expect.soft(await staleNames(server)).toEqual({
      'application_stage_history.job_name': 0,
      'application_stage_history.stage_name': 0,
      'hiring_funnel.job_name': 0,
      'hiring_funnel.stage_name': 0,
      'interviewer_load.first_name': 0,
    });
    expect.soft(await versionsOn(D2)).toEqual({ applications: 1, candidates: 0, interviews: 0, jobs: 2, users: 1 });
    // The demo's count of applications per current stage names the renamed stage as its job does now.
    expect.soft(await query(STAGE_COUNTS_SQL)).toEqual([
      { current_stage: 'Screen', applications: 2 },
      { current_stage: 'Onsite', applications: 1 },
      { current_stage: 'Phone Screen', applications: 1 },
    ]);

    // A full sync afterwards: Kombo returns every copy as it is now, and none stores a version alone.
    kombo.setClock(`${D3}T05:00:00.000Z`);
    await sync(D3, { full: true });
    expect(await versionsOn(D3)).toEqual({ applications: 0, candidates: 0, interviews: 0, jobs: 0, users: 0 });
  });
});

describe('hash layouts across releases', () => {
  /** Rewrite every stream's index as `hash` says a record was stored, with `layouts` known: the warehouse as another release wrote it. */
  async function rewriteIndex(store: FolderStore, hash: (model: ModelName, record: KomboRecord) => string, layouts?: (model: ModelName) => unknown): Promise<number> {
    let entries = 0;
    for (const model of MODELS) {
      const state = await readStreamState(store, { integrationId: INTEGRATION, model });
      const index = await priorIndex(store, state, '9999-12-31');
      const endpoint = model === 'jobs' ? 'jobs' : model;
      for (const [id, e] of index) index.set(id, { ...e, h: hash(model, kombo!.get(endpoint, id)) });
      await writeIndexFile(store, state.commits.at(-1)!.index, index);
      entries += index.size;
      const key = stateKeys.layouts(INTEGRATION, model);
      if (layouts === undefined) await store.delete([key]);
      else await store.put(key, JSON.stringify(layouts(model)));
    }
    return entries;
  }

  it('a warehouse written before hash layouts (every column hashed) gets no version for an unchanged record at the next full sync', async () => {
    kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: `${D1}T05:00:00.000Z`, records: RECORDS });
    const { sync, store } = syncer(kombo, [D1, D2, D3]);
    await sync(D1);
    expect(await rewriteIndex(store, (model, r) => hashRecord(model, legacyLayout(model), r)!)).toBe(12);
    kombo.setClock(`${D2}T05:00:00.000Z`);
    await sync(D2, { full: true });
    expect(await versionsOn(D2)).toEqual({ applications: 0, candidates: 0, interviews: 0, jobs: 0, users: 0 });
    // The index now holds this release's hashes, and its layout is recorded.
    const state = await readStreamState(store, { integrationId: INTEGRATION, model: 'applications' });
    const ids = [...(await priorIndex(store, state, D3)).values()].map((e) => e.h.split(':')[0]);
    expect(new Set(ids)).toEqual(new Set([currentLayout('applications').id]));
    expect((await readLayouts(store, { integrationId: INTEGRATION, model: 'applications' })).map((l) => l.id)).toEqual([currentLayout('applications').id]);
  });

  it('a release with one more column stores no version for an unchanged record, and one when a column it knew changed', async () => {
    kombo = await startKomboServer({ integrationId: INTEGRATION, apiKey: KEY, clock: `${D1}T05:00:00.000Z`, records: RECORDS });
    const { sync, store } = syncer(kombo, [D1, D2, D3]);
    await sync(D1);
    // The release before this one did not store `remote_url`.
    const earlier = (model: ModelName) => {
      const now = currentLayout(model);
      return { id: `hEarlier${model}`.slice(0, 11), tables: now.tables.map(([t, cols]) => [t, cols.filter((c) => c !== 'remote_url')] as const) };
    };
    await rewriteIndex(store, (model, r) => hashRecord(model, earlier(model), r)!, (model) => ({ [earlier(model).id]: earlier(model) }));
    kombo.setClock(`${D2}T05:00:00.000Z`);
    kombo.change('applications', 'app-2', (r) => (r['outcome'] = 'HIRED'));
    await sync(D2, { full: true });
    expect(await versionsOn(D2)).toEqual({ applications: 1, candidates: 0, interviews: 0, jobs: 0, users: 0 });
  });
});
