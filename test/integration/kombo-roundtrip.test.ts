/**
 * An independent Kombo-compatible server, not the project's sandbox: a few lines of `node:http`
 * serving Kombo-documented payloads from test/fixtures/kombo-server (each checked against Kombo's
 * own SDK schemas). `kombo-etl sync` runs against it in a child process, and DuckDB reads the
 * Parquet it wrote: the candidate's `remote_url`, the application's offers and its nested
 * interviews, and every row of jobs (with their stages, hiring team, screening questions and
 * postings), offers, users (with their system roles), rejection reasons, application stages and
 * tags must come back exactly, nulls, doubles, booleans, timestamps and JSON arrays included.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  GetAtsApplicationStagesPositiveResponse$inboundSchema,
  GetAtsApplicationsPositiveResponse$inboundSchema,
  GetAtsCandidatesPositiveResponse$inboundSchema,
  GetAtsInterviewsPositiveResponse$inboundSchema,
  GetAtsJobsPositiveResponse$inboundSchema,
  GetAtsOffersPositiveResponse$inboundSchema,
  GetAtsRejectionReasonsPositiveResponse$inboundSchema,
  GetAtsTagsPositiveResponse$inboundSchema,
  GetAtsUsersPositiveResponse$inboundSchema,
  GetIntegrationsIntegrationIdPositiveResponse$inboundSchema,
} from '@kombo-api/sdk/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableViewSql } from '../../shared/adapters/local/duckdb.ts';
import { tableByName } from '../../shared/tables.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';

const INTEGRATION = 'greenhouse:8mXk2PqR7vN4sT1wYz3bLc9d';
const KEY = 'kombo-roundtrip-test-key';
const DATE = '2026-11-18';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kombo-server/${name}.json`, import.meta.url), 'utf8');

/** Each endpoint's pages in order (by its path below `/ats/`); a page's `next` cursor names the page after it. */
const PAGES = {
  candidates: ['candidates-1', 'candidates-2'],
  applications: ['applications-1', 'applications-2'],
  interviews: ['interviews-1'],
  jobs: ['jobs-1', 'jobs-2'],
  offers: ['offers-1'],
  users: ['users-1'],
  'rejection-reasons': ['rejection-reasons-1'],
  'application-stages': ['application-stages-1'],
  tags: ['tags-1'],
} as const;

const SDK_SCHEMAS = {
  candidates: GetAtsCandidatesPositiveResponse$inboundSchema,
  applications: GetAtsApplicationsPositiveResponse$inboundSchema,
  interviews: GetAtsInterviewsPositiveResponse$inboundSchema,
  jobs: GetAtsJobsPositiveResponse$inboundSchema,
  offers: GetAtsOffersPositiveResponse$inboundSchema,
  users: GetAtsUsersPositiveResponse$inboundSchema,
  'rejection-reasons': GetAtsRejectionReasonsPositiveResponse$inboundSchema,
  'application-stages': GetAtsApplicationStagesPositiveResponse$inboundSchema,
  tags: GetAtsTagsPositiveResponse$inboundSchema,
} as const;

type Model = keyof typeof PAGES;

/** Page bodies by model and by the cursor that asks for them (`''`: the first page). */
function pagesByCursor(model: Model): Map<string, string> {
  const out = new Map<string, string>();
  let cursor = '';
  for (const name of PAGES[model]) {
    const body = fixture(name);
    out.set(cursor, body);
    cursor = (JSON.parse(body) as { data: { next: string | null } }).data.next ?? '';
  }
  return out;
}

const kombError = (code: string, message: string) => JSON.stringify({ status: 'error', error: { code, title: code, message, log_url: null } });

interface Served {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Kombo's read API, as far as a sync uses it: bearer key, integration header, cursor pages. */
async function serveKombo(): Promise<Served> {
  const pages = Object.fromEntries(Object.keys(PAGES).map((m) => [m, pagesByCursor(m as Model)])) as Record<Model, Map<string, string>>;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method ?? ''} ${url.pathname}${url.search}`);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.headers.authorization !== `Bearer ${KEY}`) return send(401, kombError('PLATFORM.AUTHENTICATION_INVALID', 'invalid API key'));
    if (req.headers['x-integration-id'] !== INTEGRATION) return send(404, kombError('PLATFORM.INTEGRATION_NOT_FOUND', 'no such integration'));
    if (req.method === 'GET' && url.pathname === `/v1/integrations/${encodeURIComponent(INTEGRATION)}`) return send(200, fixture('integration'));
    const model = /^\/v1\/ats\/([a-z-]+)$/.exec(url.pathname)?.[1];
    const body = model !== undefined && model in pages && req.method === 'GET' ? pages[model as Model].get(url.searchParams.get('cursor') ?? '') : undefined;
    return body === undefined ? send(404, kombError('PLATFORM.INPUT_INVALID', 'unknown path or cursor')) : send(200, body);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

const tmp = tempDirs('kombo-roundtrip-');
let kombo: Served;
let db: Reader;
let warehouse: string;
let sync: CliResult;

beforeAll(async () => {
  kombo = await serveKombo();
  db = await duck();
  warehouse = tmp();
  sync = await runCli(['sync', '--api-url', kombo.url, '--api-key', KEY, '--integrations', INTEGRATION, '--warehouse', warehouse, '--snapshot-date', DATE]);
}, 120_000);
afterAll(async () => {
  db?.close();
  await kombo?.close();
});

/** A table's rows for the test's snapshot and integration, read by DuckDB; timestamps as epoch milliseconds. */
async function rows(table: string, columns: readonly string[], order: string): Promise<Record<string, unknown>[]> {
  const src = `read_parquet('${warehouse}/${table}/**/*.parquet', hive_partitioning = true)`;
  const types = new Map((await db.all(`DESCRIBE SELECT * FROM ${src}`)).map((c) => [String(c['column_name']), String(c['column_type'])]));
  const select = columns.map((c) => (types.get(c)?.startsWith('TIMESTAMP') ? `epoch_ms("${c}")::DOUBLE AS "${c}"` : `"${c}"`)).join(', ');
  return db.all(`SELECT ${select} FROM ${src} WHERE snapshot_date = DATE '${DATE}' AND integration_id = '${INTEGRATION}' ORDER BY ${order}`);
}

const ms = (iso: string) => Date.parse(iso);
/** A table's columns read from Kombo records (keys, fields), without the pipeline's `_run_id` and `_synced_at`. */
const dataColumns = (table: string): string[] => tableByName(table)!.columns.filter((c) => c.source.kind !== 'meta' && c.source.kind !== 'deleted').map((c) => c.name);
const LOCATION_NULL = { location_city: null, location_country: null, location_raw: null, location_state: null, location_street_1: null, location_street_2: null, location_zip_code: null };

describe('the fixtures are what Kombo sends', () => {
  it.each(Object.entries(PAGES).flatMap(([model, names]) => names.map((name) => [name, model as Model] as const)))('%s passes the SDK schema of %s', (name, model) => {
    const parsed = SDK_SCHEMAS[model].safeParse(JSON.parse(fixture(name)));
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
  });

  it('integration passes the SDK schema of GET /integrations/{id}', () => {
    const parsed = GetIntegrationsIntegrationIdPositiveResponse$inboundSchema.safeParse(JSON.parse(fixture('integration')));
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
  });
});

describe('kombo-etl sync against an independent Kombo-compatible server', () => {
  it('completes, having read every page the server has', () => {
    expect(sync.code, sync.stderr).toBe(0);
    const pageRequests = kombo.requests.filter((r) => r.includes('/ats/'));
    for (const [model, names] of Object.entries(PAGES)) expect(pageRequests.filter((r) => r.startsWith(`GET /v1/ats/${model}?`))).toHaveLength(names.length);
  });

  it('candidates.remote_url: the profile link as Kombo sent it, null as null', async () => {
    const got = await rows('candidates', ['id', 'remote_url'], 'id');
    expect(got).toEqual([
      { id: '26vafvWSRmbhNcxJYqjCzuJg', remote_url: 'https://app.greenhouse.io/people/32' },
      { id: '7Zr3ZHnqyYgS3PoMfCTc9w2b', remote_url: null },
      { id: 'Hk2mQv8Rt5Yp1Lx9Nc4Bw6Zd', remote_url: 'https://acme.teamtailor.com/app/people/41?tab=profile&ref=kombo#Løvås' },
    ]);
  });

  it('application_offers: one row per offer, in Kombo order, every status and a null one', async () => {
    const got = await rows('application_offers', ['application_id', 'position', 'offer_id', 'remote_id', 'status'], 'application_id, position');
    expect(got).toEqual([
      { application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, offer_id: 'Ofr1Dq7Lm2Xp9Sv4Kt8Wb3Ny', remote_id: '501', status: 'DRAFT' },
      { application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, offer_id: 'Ofr2Hc5Rn8Yt1Mz6Qw3Jv7Bx', remote_id: '502', status: 'APPROVED' },
      { application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 2, offer_id: 'Ofr3Gk9Tp4Wd2Ns7Lx1Rm5Cz', remote_id: null, status: 'SENT' },
      { application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', position: 0, offer_id: 'Ofr4Zs1Kv6Lt3Xq8Md2Wp7Hn', remote_id: '601', status: 'ACCEPTED' },
      { application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', position: 1, offer_id: 'Ofr5Xb8Nm3Rq6Kd1Vt4Lw9Js', remote_id: '602', status: 'DECLINED' },
      { application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', position: 2, offer_id: 'Ofr6Lp2Wt7Hs4Mc9Rk1Xn5Dv', remote_id: '603', status: 'ABANDONED' },
      { application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', position: 3, offer_id: 'Ofr7Qd5Js8Vn2Lx6Tb3Mk9Wr', remote_id: '604', status: null },
    ]);
  });

  it('application_interviews: one row per nested interview, timestamps in UTC to the millisecond, location flattened, canceled true, false or null', async () => {
    const columns = [
      'application_id', 'position', 'interview_id', 'remote_id', 'title', 'starting_at', 'ending_at',
      ...Object.keys(LOCATION_NULL), 'canceled',
    ];
    const got = await rows('application_interviews', columns, 'application_id, position');
    expect(got).toEqual([
      {
        application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, interview_id: '9sKq2mVt7Lp3Xw8Rb4Nc6Yz1', remote_id: '32', title: 'Interview with John Doe',
        starting_at: ms('2023-06-26T14:30:00.000Z'), ending_at: ms('2023-06-26T15:30:00.000Z'),
        location_city: 'Berlin', location_country: 'DE', location_raw: 'Berlin, Germany', location_state: 'Berlin',
        location_street_1: 'Lohmühlenstraße 65', location_street_2: null, location_zip_code: '12435', canceled: false,
      },
      {
        application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, interview_id: 'Pq4Wn8Ds2Kx6Mv1Tz9Hb3Rc7', remote_id: null, title: null,
        starting_at: ms('2023-06-27T07:15:30.123Z'), ending_at: null, ...LOCATION_NULL, canceled: true,
      },
      {
        application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', position: 0, interview_id: 'Ht7Vx3Lq8Wm2Rk6Pd9Ns4Bc1', remote_id: 'iv-9', title: 'Culture fit — Zoë Løvås',
        starting_at: ms('2023-07-02T04:30:00.000Z'), ending_at: ms('2023-07-02T05:45:00.500Z'),
        ...LOCATION_NULL, location_city: 'Oslo', location_country: 'NO', canceled: null,
      },
    ]);
  });

  it('jobs: every field, doubles with their fractions, free-form fields as JSON text, nulls and missing fields as null', async () => {
    const got = await rows('jobs', dataColumns('jobs'), 'id');
    const NULLS = Object.fromEntries(dataColumns('jobs').map((c) => [c, null]));
    expect(got).toEqual([
      {
        ...NULLS,
        id: '26vafvWSRmbhNcxJYqjCzuJg', remote_id: '32', name: 'Backend Engineer', job_code: 'BE-2021-01',
        description: '<p>Kombo is hiring engineers! Write to Zoë Løvås.</p>', confidential: false, weekly_hours: 37.5,
        employment_type: 'FULL_TIME', status: 'OPEN', visibility: 'PUBLIC', category: 'Technical Job', department: 'Engineering',
        post_url: 'https://jobs.example.com/post/159829112', experience_level: 'Mid-Senior', remote_work_status: 'HYBRID',
        salary_amount: 4200, salary_amount_from: 3900.25, salary_amount_to: 4600.75, salary_currency: 'EUR', salary_period: 'MONTH',
        location_city: 'Berlin', location_country: 'DE', location_raw: 'Berlin, Germany', location_state: 'Berlin',
        location_street_1: 'Lohmühlenstraße 65', location_zip_code: '12435',
        custom_fields: '{"cost_center":"R&D-7","headcount":2}',
        integration_fields: '[{"id":"If7Kq2Wn8Rt4Xm1Lp6Vd3Hs9","key":"req_type","type":"DEFAULT","value":"backfill","label":"Requisition type"}]',
        remote_url: 'https://app.greenhouse.io/sdash/32',
        opened_at: ms('2022-08-07T14:01:29.196Z'), remote_created_at: ms('2022-08-01T09:00:00.000Z'), remote_updated_at: ms('2022-08-07T14:01:29.196Z'),
        contact_id: '6gT2yLMBEipd3zpezATv3Rhu', remote_data: '{"greenhouse":{"requisition_id":"REQ-32","openings":[{"id":1}]}}',
        changed_at: ms('2022-08-07T14:01:29.196Z'),
      },
      { ...NULLS, id: 'Hm3Kx8Wq2Lt6Rv9Pd4Ns7Bc1', remote_id: '33', changed_at: ms('2023-01-02T03:04:05.006Z') },
      {
        ...NULLS,
        id: 'Zt5Lp1Wk7Qm3Xr9Hd2Nv6Bc8', remote_id: '34', name: 'Data Analyst — Oslo', job_code: 'DA-7', description: '', confidential: true,
        weekly_hours: 20, employment_type: 'PART_TIME', status: 'CLOSED', visibility: 'INTERNAL', department: 'Finance',
        experience_level: 'Junior', remote_work_status: 'ON_SITE', salary_amount_from: 0.1, salary_amount_to: 1234567.89,
        salary_currency: 'NOK', salary_period: 'YEAR', location_city: 'Oslo', location_country: 'NO', custom_fields: '{}', integration_fields: '[]',
        remote_url: 'https://app.greenhouse.io/sdash/34', opened_at: ms('2023-03-01T00:00:00.000Z'), closed_at: ms('2023-05-31T23:59:59.999Z'),
        remote_created_at: ms('2023-02-27T08:30:00.000Z'), remote_updated_at: ms('2023-05-31T23:59:59.999Z'),
        changed_at: ms('2023-05-31T23:59:59.999Z'), remote_deleted_at: ms('2023-06-15T12:00:00.000Z'),
      },
    ]);
  });

  it('job_stages: every stage with its funnel index, a null index kept null, in the job\'s order', async () => {
    expect(await rows('job_stages', dataColumns('job_stages'), 'job_id, position')).toEqual([
      { job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, stage_id: 'Stg0Lq2Wm8Rt4Xk1Pv6Nd3Hs', remote_id: 's-1', name: 'Initial Screening', index: 0 },
      { job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, stage_id: 'Stg1Mx7Tb3Wq9Lr2Kd5Vn8Jc', remote_id: 's-2', name: 'Technical Interview', index: 1 },
      { job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 2, stage_id: 'Stg2Hp4Rz6Xm1Ws8Qt3Lb9Kd', remote_id: null, name: 'Offer', index: 2 },
      { job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 3, stage_id: 'Stg3Vc9Nk2Jd7Ht4Ms1Pw6Rx', remote_id: 's-9', name: 'Talent pool', index: null },
      { job_id: 'Zt5Lp1Wk7Qm3Xr9Hd2Nv6Bc8', position: 0, stage_id: 'Stg0Lq2Wm8Rt4Xk1Pv6Nd3Hs', remote_id: 's-1', name: 'Initial Screening', index: null },
    ]);
  });

  it('job_hiring_team: members with their roles as JSON arrays, an empty array as []', async () => {
    expect(await rows('job_hiring_team', dataColumns('job_hiring_team'), 'job_id, position')).toEqual([
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', remote_id: 'u-10', first_name: 'Leda', last_name: 'Watsica',
        email: 'leda.watsica@example.com', hiring_team_roles: '["HIRING_MANAGER","INTERVIEWER"]',
        job_roles: '[{"remote_id":"hm","remote_label":"Hiring Manager","scope":"JOB","unified_type":"HIRING_MANAGER"}]',
      },
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, user_id: 'Usr2Pz7Tc3Mw1Jk5Qr9Ld6Vn', remote_id: null, first_name: 'Ørjan', last_name: null,
        email: null, hiring_team_roles: '[]', job_roles: '[]',
      },
      {
        job_id: 'Zt5Lp1Wk7Qm3Xr9Hd2Nv6Bc8', position: 0, user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', remote_id: 'u-10', first_name: 'Leda', last_name: 'Watsica',
        email: null, hiring_team_roles: '["RECRUITER"]', job_roles: '[{"remote_id":null,"remote_label":"Hiring Wizard","scope":"JOB","unified_type":null}]',
      },
    ]);
  });

  it('job_screening_questions and job_postings: formats and boolean preconditions as JSON, required true or false', async () => {
    expect(await rows('job_screening_questions', dataColumns('job_screening_questions'), 'job_id, position')).toEqual([
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, question_id: 'Sq1Wn4Kt8Rm2Xv6Lp9Hd3Bc7', remote_id: '48b4d36a-1d4b-4c50-ada7-9519078e65b4',
        title: 'Which is your primary programming language?', description: 'Please enter the language you are most comfortable with.',
        format: '{"display_type":"SINGLE_LINE","max_length":null,"type":"TEXT"}', category: null, index: 0, required: true,
        precondition_question_id: null, precondition_options: null,
      },
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, question_id: 'Sq2Hb7Mz3Qt9Wk1Rn5Xd8Lv4', remote_id: null, title: 'Do you need a visa?', description: null,
        format: '{"display_type":"RADIO","options":[{"id":"Opt1Kd8Wq3Lm6Rt2Xv9Nb4Hs","remote_id":"yes","name":"Yes"},{"id":"Opt2Pz5Tc1Mw7Jk4Qr8Ld2Vn","remote_id":null,"name":"No"}],"type":"SINGLE_SELECT"}',
        category: 'DEMOGRAPHIC', index: null, required: false, precondition_question_id: 'Sq1Wn4Kt8Rm2Xv6Lp9Hd3Bc7', precondition_options: '[true]',
      },
    ]);
    expect(await rows('job_postings', dataColumns('job_postings'), 'job_id, position')).toEqual([
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, posting_id: 'Pst1Rx6Kq2Wm9Tb4Lz7Nd3Hc', remote_id: 'post-77', title: 'Backend Engineer (m/w/d)',
        description_html: '<h1>Backend Engineer</h1><p>Berlin, hybrid</p>', status: 'ACTIVE', visibility: 'PUBLIC', url: 'https://jobs.example.com/post/159829112',
      },
      { job_id: 'Zt5Lp1Wk7Qm3Xr9Hd2Nv6Bc8', position: 0, posting_id: 'Pst2Hb8Mz4Qt1Wk7Rn3Xd9Lv', remote_id: null, title: null, description_html: null, status: null, visibility: null, url: null },
    ]);
  });

  it('offers: every status and a null one, start dates in UTC, the nested application left to its own table', async () => {
    expect(await rows('offers', dataColumns('offers'), 'id')).toEqual([
      {
        id: 'Ofr1Dq7Lm2Xp9Sv4Kt8Wb3Ny', remote_id: '501', status: 'DRAFT', employment_start_date: null, application_id: '26vafvWSRmbhNcxJYqjCzuJg',
        custom_fields: null, integration_fields: null, remote_created_at: null, remote_updated_at: null, remote_data: null,
        changed_at: ms('2023-06-20T10:00:00.000Z'), remote_deleted_at: null,
      },
      {
        id: 'Ofr4Zs1Kv6Lt3Xq8Md2Wp7Hn', remote_id: '601', status: 'ACCEPTED', employment_start_date: ms('2023-09-01T00:00:00.000Z'),
        application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', custom_fields: '{"signing_bonus":2500.5,"relocation":true}', integration_fields: '[]',
        remote_created_at: ms('2023-07-01T08:00:00.000Z'), remote_updated_at: ms('2023-07-14T16:45:12.345Z'), remote_data: '{"offer":{"version":3}}',
        changed_at: ms('2023-07-14T16:45:12.345Z'), remote_deleted_at: null,
      },
      {
        id: 'Ofr5Xb8Nm3Rq6Kd1Vt4Lw9Js', remote_id: null, status: 'DECLINED', employment_start_date: ms('2023-10-14T22:00:00.000Z'), application_id: null,
        custom_fields: '{}', integration_fields: null, remote_created_at: ms('2023-07-20T00:00:00.000Z'), remote_updated_at: null, remote_data: null,
        changed_at: ms('2023-08-01T00:00:00.000Z'), remote_deleted_at: ms('2023-08-02T00:00:00.000Z'),
      },
      {
        id: 'Ofr7Qd5Js8Vn2Lx6Tb3Mk9Wr', remote_id: '604', status: null, employment_start_date: null, application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3',
        custom_fields: null, integration_fields: null, remote_created_at: null, remote_updated_at: null, remote_data: null,
        changed_at: ms('2023-08-03T00:00:00.000Z'), remote_deleted_at: null,
      },
    ]);
  });

  it('users and user_system_roles: names, a missing email as null, statuses, roles per user', async () => {
    expect(await rows('users', dataColumns('users'), 'id')).toEqual([
      {
        id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', remote_id: 'u-10', first_name: 'Leda', last_name: 'Watsica', email: 'leda.watsica@example.com', status: 'ACTIVE',
        remote_data: null, changed_at: ms('2022-08-07T14:01:29.196Z'), remote_deleted_at: null,
      },
      {
        id: 'Usr2Pz7Tc3Mw1Jk5Qr9Ld6Vn', remote_id: null, first_name: 'Ørjan', last_name: null, email: null, status: 'INACTIVE',
        remote_data: null, changed_at: ms('2023-02-01T00:00:00.000Z'), remote_deleted_at: null,
      },
      {
        id: 'Usr3Wm6Lt2Xq8Rk4Pd1Nv7Hc', remote_id: 'u-12', first_name: null, last_name: null, email: null, status: null,
        remote_data: '{"user":{"employee_id":"E-12"}}', changed_at: ms('2023-03-01T00:00:00.000Z'), remote_deleted_at: ms('2023-03-02T00:00:00.000Z'),
      },
    ]);
    expect(await rows('user_system_roles', dataColumns('user_system_roles'), 'user_id, position')).toEqual([
      { user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', position: 0, remote_id: 'admin', remote_label: 'Site Admin', scope: 'SYSTEM', unified_type: 'ADMIN' },
      { user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', position: 1, remote_id: null, remote_label: 'Onboarding Owner', scope: 'SYSTEM', unified_type: null },
      { user_id: 'Usr3Wm6Lt2Xq8Rk4Pd1Nv7Hc', position: 0, remote_id: 'rec', remote_label: null, scope: null, unified_type: 'RECRUITER' },
    ]);
  });

  it('rejection_reasons, application_stages and tags: id, remote id, name, change times', async () => {
    expect(await rows('rejection_reasons', dataColumns('rejection_reasons'), 'id')).toEqual([
      { id: '76bab8LKuFtqpZ89mofCPMHX', remote_id: '6', name: 'Not a fit', remote_data: null, changed_at: ms('2022-08-07T14:01:29.196Z'), remote_deleted_at: null },
      { id: 'Rj2Kq7Wm3Lt9Xv1Pd5Nb8Hs4', remote_id: '7', name: 'Withdrew — accepted another offer', remote_data: '{"type":"candidate"}', changed_at: ms('2023-01-01T00:00:00.000Z'), remote_deleted_at: null },
      { id: 'Rj3Hb6Mz1Qt8Wk4Rn2Xd7Lv9', remote_id: '8', name: null, remote_data: null, changed_at: ms('2023-01-02T00:00:00.000Z'), remote_deleted_at: ms('2023-02-02T00:00:00.000Z') },
    ]);
    expect(await rows('application_stages', dataColumns('application_stages'), 'id')).toEqual([
      { id: 'Stg0Lq2Wm8Rt4Xk1Pv6Nd3Hs', remote_id: 's-1', name: 'Initial Screening', changed_at: ms('2022-08-07T14:01:29.196Z'), remote_deleted_at: null },
      { id: 'Stg1Mx7Tb3Wq9Lr2Kd5Vn8Jc', remote_id: 's-2', name: 'Technical Interview', changed_at: ms('2022-08-07T14:01:29.196Z'), remote_deleted_at: null },
      { id: 'Stg2Hp4Rz6Xm1Ws8Qt3Lb9Kd', remote_id: null, name: null, changed_at: ms('2022-08-08T00:00:00.000Z'), remote_deleted_at: ms('2022-09-01T00:00:00.000Z') },
    ]);
    expect(await rows('tags', dataColumns('tags'), 'id')).toEqual([
      { id: '26vafvWSRmbhNcxJYqjCzuJg', remote_id: '32', name: 'High Potential', changed_at: ms('2022-08-07T14:01:29.196Z'), remote_deleted_at: null },
      { id: 'Tg2Kq7Wm3Lt9Xv1Pd5Nb8Hs4', remote_id: null, name: 'Rückruf 📞', changed_at: ms('2023-04-05T06:07:08.009Z'), remote_deleted_at: null },
    ]);
  });

  it('stores the new columns with the contract types DuckDB and Athena read', async () => {
    const types = async (table: string) =>
      Object.fromEntries((await db.all(`DESCRIBE SELECT * FROM read_parquet('${warehouse}/${table}/**/*.parquet')`)).map((c) => [c['column_name'], c['column_type']]));
    expect(await types('application_interviews')).toMatchObject({ position: 'INTEGER', starting_at: 'TIMESTAMP WITH TIME ZONE', canceled: 'BOOLEAN', location_zip_code: 'VARCHAR' });
    expect(await types('application_offers')).toMatchObject({ application_id: 'VARCHAR', position: 'INTEGER', status: 'VARCHAR' });
    expect(await types('candidates')).toMatchObject({ remote_url: 'VARCHAR' });
    expect(await types('jobs')).toMatchObject({ weekly_hours: 'DOUBLE', salary_amount_from: 'DOUBLE', confidential: 'BOOLEAN', opened_at: 'TIMESTAMP WITH TIME ZONE', custom_fields: 'VARCHAR' });
    expect(await types('job_stages')).toMatchObject({ index: 'INTEGER', position: 'INTEGER' });
    expect(await types('job_screening_questions')).toMatchObject({ required: 'BOOLEAN', index: 'INTEGER' });
    expect(await types('offers')).toMatchObject({ employment_start_date: 'TIMESTAMP WITH TIME ZONE' });
  });
});

describe('a warehouse with snapshots from before remote_url existed', () => {
  it('still reads: the local table view matches columns by name, older files give null', async () => {
    const folder = (date: string) => join(warehouse, 'candidates', `snapshot_date=${date}`, `integration_id=${encodeURIComponent(INTEGRATION)}`, 'run-old');
    const current = readdirSync(warehouse, { recursive: true, encoding: 'utf8' }).filter((f) => f.startsWith('candidates/') && f.endsWith('.parquet')).map((f) => join(warehouse, f));
    expect(current).toHaveLength(1);
    mkdirSync(folder('2026-11-01'), { recursive: true });
    const older = join(folder('2026-11-01'), 'part-00000.parquet');
    await db.all(`COPY (SELECT * EXCLUDE (remote_url) FROM read_parquet('${current[0]!}')) TO '${older}' (FORMAT parquet)`);

    await db.all(tableViewSql(tableByName('candidates')!, [older, current[0]!]));
    const got = await db.all(`SELECT CAST(snapshot_date AS VARCHAR) AS day, count(*)::INTEGER AS n, count(remote_url)::INTEGER AS with_url FROM candidates GROUP BY 1 ORDER BY 1`);
    expect(got).toEqual([
      { day: '2026-11-01', n: 3, with_url: 0 },
      { day: DATE, n: 3, with_url: 2 },
    ]);
  });
});
