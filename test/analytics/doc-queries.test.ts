/**
 * The example queries of the README (and of docs/ANALYTICS.md) run against a sandbox warehouse and
 * answer per record, not per stored version. The physical tables hold one row per version of a
 * record, so a query that counts them counts changes; the examples must read the views (`_latest`,
 * `_history`, the analytics views) or `syncs` instead, which is checked on their text.
 *
 * Two warehouses are synced from the same simulated day: one holds it as one sync, the other as two
 * syncs of the same data. A per-record query answers both alike. The lead examples are also checked
 * against the sandbox's own records.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxDataset } from '../../sandbox/index.ts';
import { createSandboxTimeline, startSandbox } from '../../sandbox/index.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse, quoteLiteral } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { MODELS, TABLES } from '../../shared/tables.ts';
import { tempDirs } from '../helpers/temp.ts';

/** The documents whose `kombo-etl query "…"` examples are run. */
const DOCUMENTS = ['README.md', 'docs/ANALYTICS.md'] as const;
const ROOT = new URL('../../', import.meta.url);

/** Every `kombo-etl query "<SQL>"` (or `'<SQL>'`) inside a fenced code block of a Markdown text. */
function exampleQueries(markdown: string): string[] {
  const queries: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) continue;
    const m = /kombo-etl query\s+(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line);
    const sql = m && (m[1] !== undefined ? m[1].replace(/\\(["\\$`])/g, '$1') : (m[2] as string));
    // `"<SQL>"` in a usage line is a placeholder, not an example.
    if (sql && !/^<[^>]*>$/.test(sql)) queries.push(sql);
  }
  return queries;
}

const SPECS = [
  { id: 'greenhouse:DocQueriesAAAAbbbbCCCCd1', tool: 'greenhouse', candidates: 240 },
  { id: 'lever:DocQueriesEEEEffffGGGGhh', tool: 'lever', candidates: 60 },
] as const;
const AS_OF = '2025-06-01';
const tempDir = tempDirs('kombo-doc-queries-');

let dataset: SandboxDataset;
let once: WarehouseDb | undefined;
let twice: WarehouseDb | undefined;

/** Sync the sandbox (serving {@link AS_OF}) into a new warehouse, once per snapshot date. */
async function syncSnapshots(url: string, apiKey: string, dates: readonly string[]): Promise<string> {
  const dir = tempDir();
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: url, apiKey });
  for (const [k, date] of dates.entries()) {
    const report = await runLocal({
      client,
      store,
      catalog: new LocalCatalog(store),
      runId: `20250601T00000${k}Z-d0c5ql`,
      snapshotDate: date,
      integrationIds: SPECS.map((s) => s.id),
      models: MODELS,
      concurrency: 4,
    });
    if (report.status !== 'succeeded') throw new Error(`sync of ${date} ended ${report.status}`);
  }
  return dir;
}

beforeAll(async () => {
  const timeline = createSandboxTimeline({ seed: 11, integrations: SPECS });
  const sandbox = await startSandbox({ timeline, asOf: AS_OF });
  try {
    dataset = sandbox.dataset;
    const one = await syncSnapshots(sandbox.url, sandbox.apiKey, [AS_OF]);
    const two = await syncSnapshots(sandbox.url, sandbox.apiKey, ['2025-05-31', AS_OF]);
    once = await openWarehouse(one);
    twice = await openWarehouse(two);
  } finally {
    await sandbox.close();
  }
}, 120_000);

/** The warehouse `beforeAll` opened. */
const opened = (db: WarehouseDb | undefined): WarehouseDb => {
  if (!db) throw new Error('the sandbox warehouses were not built');
  return db;
};

afterAll(() => {
  once?.close();
  twice?.close();
});

/**
 * Columns that name the run and the moment of the fetch: they differ between any two syncs. A
 * version's `snapshot_date` is the date of the sync that stored it, so it moves with the first sync.
 */
const RUN_COLUMNS = new Set(['_run_id', '_synced_at', 'snapshot_date', '_valid_from', '_valid_to']);

/** The data tables: one row per version. Examples read the views over them, or `syncs`. */
const DATA_TABLES = new Set(TABLES.map((t) => t.name));

/** The data tables a query reads directly (`from applications`, `join jobs`). */
const rawReads = (sql: string): string[] =>
  [...sql.matchAll(/\b(?:from|join)\s+"?([a-z_]+)"?/gi)].map((m) => (m[1] as string).toLowerCase()).filter((t) => DATA_TABLES.has(t));

/** A result's rows as sorted JSON lines, without {@link RUN_COLUMNS}. */
async function rowsOf(db: WarehouseDb, sql: string): Promise<string[]> {
  const { columns, rows } = await db.query(sql);
  const kept = columns.flatMap((c, i) => (RUN_COLUMNS.has(c) ? [] : [i]));
  return rows.map((r) => JSON.stringify(kept.map((i) => r[i]))).sort();
}

/** What a query answers: its rows, or for `COPY … TO 'file'` the rows of the file it wrote (written into a temporary folder). */
async function answer(db: WarehouseDb, sql: string, label: string): Promise<string[]> {
  const target = /^\s*copy\b[\s\S]*\bto\s+'([^']+)'/i.exec(sql);
  if (!target) return rowsOf(db, sql);
  const name = target[1] as string;
  const dir = join(tempDir(), label);
  mkdirSync(dir);
  const file = quoteLiteral(join(dir, basename(name)));
  await db.query(sql.replace(`'${name}'`, file));
  const reader = name.endsWith('.parquet') ? `read_parquet(${file})` : name.endsWith('.json') ? `read_json_auto(${file})` : `read_csv(${file}, all_varchar = true)`;
  return rowsOf(db, `select * from ${reader}`);
}

/** Records not deleted: what the `_latest` views hold. */
const live = (records: readonly Record<string, unknown>[]): number => records.filter((r) => r['remote_deleted_at'] === null).length;

describe.each(DOCUMENTS)('example queries of %s', (doc) => {
  const queries = exampleQueries(readFileSync(new URL(doc, ROOT), 'utf8'));

  it('has examples to check', () => {
    expect(queries.length).toBeGreaterThan(0);
  });

  it.each(queries.map((q) => [q]))('%s: reads views, not the version rows of a table', (sql) => {
    expect(rawReads(sql), 'a table holds one row per version: read its _latest or _history view').toEqual([]);
  });

  it.each(queries.map((q) => [q]))('%s: the same answer over one snapshot as over two snapshots of the same data', async (sql) => {
    const one = await answer(opened(once), sql, 'once');
    const two = await answer(opened(twice), sql, 'twice');
    const message = 'the answer changed with the number of snapshots: the query reads every snapshot, not every record once';
    expect(two.length, message).toBe(one.length);
    expect(two, message).toEqual(one);
  });
});

describe('the README lead examples, against the sandbox', () => {
  const queries = exampleQueries(readFileSync(new URL('README.md', ROOT), 'utf8'));

  it('count the applications per current stage once each', async () => {
    const sql = queries.find((q) => /count\(\*\)/i.test(q) && /current_stage_name/i.test(q) && /\bfrom\s+applications/i.test(q));
    expect(sql, 'the README shows applications counted per current stage').toBeDefined();
    const { rows } = await opened(twice).query(sql as string);
    const total = rows.reduce((n, r) => n + Number(r[r.length - 1]), 0);
    const expected = dataset.integrations.reduce((n, i) => n + live(i.applications), 0);
    expect(total).toBe(expected);
  });

  it('export one row per candidate', async () => {
    const sql = queries.find((q) => /^\s*copy\b/i.test(q) && /candidates/i.test(q));
    expect(sql, 'the README shows a COPY of the candidates to a file').toBeDefined();
    const rows = await answer(opened(twice), sql as string, 'lead');
    const expected = dataset.integrations.reduce((n, i) => n + live(i.candidates), 0);
    expect(rows.length).toBe(expected);
  });
});
