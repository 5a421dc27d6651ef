/**
 * The report on AWS, with the AWS SDK mocked: `kombo-etl report --athena` and the reporter Lambda
 * run the report's queries through Athena (answered here by DuckDB over a sandbox warehouse, as
 * Athena answers: text values, typed columns, pages) and must draw the same page as
 * `kombo-etl report` over that warehouse. The Lambda writes it to `reports/latest.html` and
 * `reports/<date>.html`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SANDBOX_INTEGRATIONS } from '../../sandbox/index.ts';
import { writeAthenaReport, writeReport } from '../../cli/commands/report.ts';
import { athenaQuery } from '../../shared/adapters/aws/athena-query.ts';
import { ATHENA_WORKGROUP_ENV, LATEST_REPORT_KEY, REPORTS_BUCKET_ENV, publishReport } from '../../shared/adapters/aws/report-publisher.ts';
import { ENV } from '../../shared/adapters/aws/env.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { athenaOverDuckDb } from '../helpers/athena-duckdb.ts';
import { runCli } from '../helpers/cli.ts';

const SMALL = DEFAULT_SANDBOX_INTEGRATIONS[2]?.id as string;
const DAYS = ['2025-05-01', '2025-05-02', '2025-05-05'] as const;
const warehouse = mkdtempSync(join(tmpdir(), 'kombo-report-athena-'));
const out = mkdtempSync(join(tmpdir(), 'kombo-report-athena-out-'));
const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
let db: WarehouseDb;
let local: string;

/** The page without its generated-at stamp. */
const unstamped = (html: string): string => html.replace(/ · generated [^<]*<\/p>/, '</p>');

beforeAll(async () => {
  for (const date of DAYS) {
    const r = await runCli(['sync', '--as-of', date, '--integrations', SMALL, '--warehouse', warehouse]);
    expect(r.code, r.stderr).toBe(0);
  }
  local = readFileSync(await writeReport(warehouse, { out: join(out, 'local.html') }), 'utf8');
  db = await openWarehouse(warehouse);
}, 180_000);

afterAll(() => db?.close());
beforeEach(() => {
  athena.reset();
  s3.reset();
});
afterEach(() => vi.unstubAllEnvs());

describe('kombo-etl report --athena', () => {
  it('draws the page of the local report from Athena’s answers, every query in the workgroup and database given', async () => {
    const started = athenaOverDuckDb(athena, db);
    const path = await writeAthenaReport({ workGroup: 'kombo-etl', database: 'kombo_etl', region: 'eu-west-1' }, join(out, 'athena.html'));
    expect(started.length).toBeGreaterThan(5);
    expect(started.every((q) => q.workGroup === 'kombo-etl' && q.database === 'kombo_etl')).toBe(true);
    expect(unstamped(readFileSync(path, 'utf8'))).toBe(unstamped(local));
  });

  it('sends only SQL the Trino grammar parses', async () => {
    const started = athenaOverDuckDb(athena, db);
    await writeAthenaReport({ workGroup: 'w', database: 'd', region: 'eu-west-1' }, join(out, 'grammar.html'));
    const trino = new TrinoSQL();
    expect(started.flatMap((q) => trino.validate(q.sql).map((e) => `${q.sql.slice(0, 60)}… ${e.startLine}:${e.startColumn} ${e.message}`))).toEqual([]);
  });

  it('says which query failed and why', async () => {
    athenaOverDuckDb(athena, db);
    athena.on((await import('@aws-sdk/client-athena')).GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: hiring_funnel' } } });
    const query = athenaQuery({ client: new AthenaClient({ region: 'eu-west-1' }), workGroup: 'w', database: 'd', sleep: async () => {} });
    await expect(query('SELECT 1')).rejects.toThrow(/^Athena query query-1 failed: TABLE_NOT_FOUND: hiring_funnel$/);
  });

  it.each([
    [['--athena'], /^error: --athena needs --workgroup and --database: the stack outputs AthenaWorkGroup and GlueDatabase$/],
    [['--athena', '--workgroup', 'w'], /^error: --athena needs --workgroup and --database/],
    [['--workgroup', 'w'], /^error: --workgroup is for --athena: add --athena, or leave it out to read --warehouse$/],
    [['--athena', '--workgroup', 'w', '--database', 'd', '--as-of', '2025-05-01'], /^error: --as-of reads the history of a local warehouse; leave it out with --athena$/],
  ])('refuses %j with exit 2 and one line', async (args, message) => {
    const r = await runCli(['report', '--warehouse', warehouse, '--out', join(out, 'never.html'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });
});

describe('the reporter Lambda', () => {
  it('writes the page to reports/<latest sync>.html and reports/latest.html', async () => {
    athenaOverDuckDb(athena, db);
    const puts: PutObjectCommandInput[] = [];
    s3.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      puts.push(input);
      return {};
    });
    const query = athenaQuery({ client: new AthenaClient({ region: 'eu-west-1' }), workGroup: 'w', database: 'd', sleep: async () => {} });
    const published = await publishReport({ query, s3: new S3Client({ region: 'eu-west-1' }), bucket: 'warehouse-bucket' });
    expect(published).toEqual({ bucket: 'warehouse-bucket', keys: [`reports/${DAYS[2]}.html`, LATEST_REPORT_KEY], date: DAYS[2] });
    expect(puts.map((p) => [p.Bucket, p.Key, p.ContentType])).toEqual([
      ['warehouse-bucket', `reports/${DAYS[2]}.html`, 'text/html; charset=utf-8'],
      ['warehouse-bucket', 'reports/latest.html', 'text/html; charset=utf-8'],
    ]);
    expect(unstamped(String(puts[0]?.Body))).toBe(unstamped(local));
    expect(puts[1]?.Body).toBe(puts[0]?.Body);
  });

  it('is wiring: the handler reads its environment and publishes', async () => {
    vi.stubEnv(REPORTS_BUCKET_ENV, 'warehouse-bucket');
    vi.stubEnv(ATHENA_WORKGROUP_ENV, 'kombo-etl');
    vi.stubEnv(ENV.glueDatabase, 'kombo_etl');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    const started = athenaOverDuckDb(athena, db);
    s3.on(PutObjectCommand).resolves({});
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { handler } = (await import('../../functions/reporter.ts')) as unknown as { handler: (event: unknown, context: Context) => Promise<{ keys: string[] }> };
    const context = { functionName: 'reporter', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const published = await handler({}, context);
    expect(published.keys).toEqual([`reports/${DAYS[2]}.html`, LATEST_REPORT_KEY]);
    expect(started.every((q) => q.workGroup === 'kombo-etl' && q.database === 'kombo_etl')).toBe(true);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Bucket)).toEqual(['warehouse-bucket', 'warehouse-bucket']);
  });
});
