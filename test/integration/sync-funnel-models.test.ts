/**
 * `kombo-etl sync --as-of` over the built-in sandbox fills the jobs, offers, users, rejection
 * reasons, application stages and tags tables (and their child tables) with as many rows as Kombo's
 * own SDK pages out of the same sandbox: one row per record, one row per element of each array that
 * becomes a child table. An integration that does not offer a model has its stream skipped and no
 * rows in its tables.
 */
import { Kombo } from '@kombo-api/sdk';
import { KomboAtsError } from '@kombo-api/sdk/models/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { startSandbox } from '../../sandbox/index.ts';
import type { ModelName } from '../../shared/tables.ts';
import { TABLES } from '../../shared/tables.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';

/** A simulated day late in the sandbox's history: jobs have opened and closed, offers have been decided, users have left. */
const AS_OF = '2025-10-15';
const MODELS = ['jobs', 'offers', 'users', 'rejection_reasons', 'application_stages', 'tags'] as const satisfies readonly ModelName[];
type FunnelModel = (typeof MODELS)[number];

type Rec = Record<string, unknown>;

/**
 * Every record of one model of one integration, as the SDK pages it (deleted ones included, as a
 * sync asks for them); undefined when the sandbox answers that the integration does not offer it.
 */
async function pageWithSdk(kombo: Kombo, model: FunnelModel): Promise<Rec[] | undefined> {
  const request = { page_size: 250, include_deleted: true };
  const list = {
    jobs: () => kombo.ats.getJobs(request),
    offers: () => kombo.ats.getOffers(request),
    users: () => kombo.ats.getUsers(request),
    rejection_reasons: () => kombo.ats.getRejectionReasons(request),
    application_stages: () => kombo.ats.getApplicationStages(request),
    tags: () => kombo.ats.getTags(request),
  }[model];
  const records: Rec[] = [];
  try {
    for await (const page of await list()) records.push(...(page.result.data.results as unknown as Rec[]));
  } catch (err) {
    if (err instanceof KomboAtsError && err.error.code === 'INTEGRATION.MODEL_NOT_AVAILABLE') return undefined;
    throw err;
  }
  return records;
}

/** Rows each table of a model holds for these records: one per record, or one per array element. */
function rowCounts(model: FunnelModel, records: readonly Rec[]): Record<string, number> {
  return Object.fromEntries(
    TABLES.filter((t) => t.model === model).map((t) => {
      const field = t.arrayField;
      const n = field === undefined ? records.length : records.reduce((sum, r) => sum + (Array.isArray(r[field]) ? (r[field] as unknown[]).length : 0), 0);
      return [t.name, n];
    }),
  );
}

const tmp = tempDirs('kombo-funnel-models-');
let sandbox: RunningSandbox;
let db: Reader;
let warehouse: string;
let sync: CliResult;
/** Rows per integration and table, from the SDK's pages; a model the integration does not offer is absent. */
const expected = new Map<string, Record<string, number>>();
const unavailable: { integrationId: string; model: FunnelModel }[] = [];

beforeAll(async () => {
  warehouse = tmp();
  // The CLI starts its own built-in sandbox for --as-of; this one serves the same simulated day to the SDK.
  const started = Promise.all([
    runCli(['sync', '--as-of', AS_OF, '--warehouse', warehouse, '--concurrency', '4']),
    startSandbox({ port: 0, asOf: AS_OF }),
  ]);
  [sync, sandbox] = await started;
  db = await duck();
  for (const integration of sandbox.dataset.integrations) {
    const kombo = new Kombo({ api_key: sandbox.apiKey, integration_id: integration.id, server_url: sandbox.url });
    const counts: Record<string, number> = {};
    for (const model of MODELS) {
      const records = await pageWithSdk(kombo, model);
      if (records === undefined) unavailable.push({ integrationId: integration.id, model });
      Object.assign(counts, rowCounts(model, records ?? []));
    }
    expected.set(integration.id, counts);
  }
}, 240_000);
afterAll(async () => {
  db?.close();
  await sandbox?.close();
});

/** Rows of a table per integration, as DuckDB reads the warehouse. */
async function warehouseCounts(table: string): Promise<Map<string, number>> {
  const got = await db.all(
    `SELECT integration_id, count(*)::INTEGER AS n FROM read_parquet('${warehouse}/${table}/**/*.parquet', hive_partitioning = true) ` +
      `WHERE snapshot_date = DATE '${AS_OF}' GROUP BY 1`,
  );
  return new Map(got.map((r) => [String(r['integration_id']), Number(r['n'])]));
}

describe(`kombo-etl sync --as-of ${AS_OF}, the new models against what the Kombo SDK pages out of the sandbox`, () => {
  it('completes, skipping only the models an integration does not offer', () => {
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    expect(unavailable.length, 'the sandbox has an integration without offers').toBeGreaterThan(0);
    for (const { integrationId, model } of unavailable) expect(sync.stdout).toMatch(new RegExp(`${integrationId}\\s+${model}\\s+skipped`));
  });

  it.each(TABLES.filter((t) => (MODELS as readonly string[]).includes(t.model)).map((t) => t.name))('%s: as many rows per integration as the SDK pages', async (table) => {
    const got = await warehouseCounts(table);
    const want = [...expected].map(([id, counts]) => [id, counts[table] ?? 0] as const);
    expect(want.some(([, n]) => n > 0), `the sandbox serves ${table} rows`).toBe(true);
    expect(want.map(([id]) => [id, got.get(id) ?? 0])).toEqual(want);
  });
});
