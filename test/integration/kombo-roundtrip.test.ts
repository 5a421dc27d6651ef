/**
 * An independent Kombo-compatible server, not the project's sandbox: a few lines of `node:http`
 * serving Kombo-documented payloads from test/fixtures/kombo-server (each checked against Kombo's
 * own SDK schemas). `kombo-etl sync` runs against it in a child process, and DuckDB reads the
 * Parquet it wrote: the candidate's `remote_url`, the application's offers and its nested
 * interviews must come back exactly, nulls, timestamps and booleans included.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  GetAtsApplicationsPositiveResponse$inboundSchema,
  GetAtsCandidatesPositiveResponse$inboundSchema,
  GetAtsInterviewsPositiveResponse$inboundSchema,
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

/** Each model's pages in order; a page's `next` cursor names the page after it. */
const PAGES = {
  candidates: ['candidates-1', 'candidates-2'],
  applications: ['applications-1', 'applications-2'],
  interviews: ['interviews-1'],
} as const;

const SDK_SCHEMAS = {
  candidates: GetAtsCandidatesPositiveResponse$inboundSchema,
  applications: GetAtsApplicationsPositiveResponse$inboundSchema,
  interviews: GetAtsInterviewsPositiveResponse$inboundSchema,
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
  const pages = { candidates: pagesByCursor('candidates'), applications: pagesByCursor('applications'), interviews: pagesByCursor('interviews') };
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
    const model = /^\/v1\/ats\/(candidates|applications|interviews)$/.exec(url.pathname)?.[1] as Model | undefined;
    const body = model && req.method === 'GET' ? pages[model].get(url.searchParams.get('cursor') ?? '') : undefined;
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

  it('stores the new columns with the contract types DuckDB and Athena read', async () => {
    const types = async (table: string) =>
      Object.fromEntries((await db.all(`DESCRIBE SELECT * FROM read_parquet('${warehouse}/${table}/**/*.parquet')`)).map((c) => [c['column_name'], c['column_type']]));
    expect(await types('application_interviews')).toMatchObject({ position: 'INTEGER', starting_at: 'TIMESTAMP WITH TIME ZONE', canceled: 'BOOLEAN', location_zip_code: 'VARCHAR' });
    expect(await types('application_offers')).toMatchObject({ application_id: 'VARCHAR', position: 'INTEGER', status: 'VARCHAR' });
    expect(await types('candidates')).toMatchObject({ remote_url: 'VARCHAR' });
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
