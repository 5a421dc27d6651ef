/**
 * `kombo-etl export`, run as a user runs it (the real CLI in a child process) over a warehouse of
 * four simulated days synced by the real pipeline:
 * - `--duckdb FILE`: the file is opened in a fresh DuckDB instance, in a session that is not UTC,
 *   after the warehouse it came from has been moved away, and its views give the sandbox's figures;
 * - `--dbt-sources FILE`: valid YAML naming every table, view and column, whose data tests hold on
 *   the exported data (run here as dbt would run them) and parse as Trino SQL for dbt-athena.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { consecutiveDays } from '../../sandbox/index.ts';
import type { SandboxTimeline } from '../../sandbox/index.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import type { DbtSourcesFile, DbtTable } from '../../shared/analytics/dbt.ts';
import { DEFAULT_GLUE_DATABASE, dbtSourcesYaml } from '../../shared/analytics/dbt.ts';
import { tableDescription } from '../../shared/analytics/descriptions.ts';
import { VIEWS } from '../../shared/analytics/views.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS, TABLES } from '../../shared/tables.ts';
import { DEFAULT_STACK_NAME } from '../../infra/config.ts';
import { glueDatabaseName } from '../../infra/stack.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { buildHistoryWarehouse } from '../helpers/history.ts';
import { tempDirs } from '../helpers/temp.ts';
import { expectedJobFunnel } from './expected.ts';

const SPEC = { id: 'greenhouse:ExportTestAAAAbbbbCCCCdd', tool: 'greenhouse', candidates: 150 } as const;
const DATES = consecutiveDays('2025-05-12', 4);
const tempDir = tempDirs('kombo-export-');

type Row = Record<string, unknown>;

/** Rows as objects; BIGINT values (JSON strings) become numbers. */
async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql);
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  return reader.getRowsJson().map((row) => Object.fromEntries(names.map((n, i) => [n, types[i] === 'BIGINT' && row[i] !== null ? Number(row[i]) : row[i]])));
}

let timeline: SandboxTimeline;
let liveRows: Record<string, number>;
let liveLoad: Row[];
let exported: CliResult;
let duckdbFile: string;
let sourcesFile: string;
let instance: DuckDBInstance;
let file: DuckDBConnection;

beforeAll(async () => {
  const wh = await buildHistoryWarehouse({ integrations: [SPEC], seed: 11, dates: DATES });
  timeline = wh.timeline;
  // What the live views say, in their UTC session, before anything is exported.
  const live = await openWarehouse(wh.dir);
  try {
    liveRows = {};
    for (const name of [...CATALOG_TABLES.map((t) => t.name), ...VIEWS.map((v) => v.name)]) {
      liveRows[name] = Number((await live.query(`SELECT count(*) FROM ${name}`)).rows[0]?.[0]);
    }
    liveLoad = await rowsOf(live.connection, 'SELECT * FROM interviewer_load ORDER BY user_id, week_start');
  } finally {
    live.close();
  }

  const out = tempDir();
  duckdbFile = join(out, 'bi', 'kombo.duckdb');
  sourcesFile = join(out, 'dbt', 'models', 'sources.yml');
  exported = await runCli(['export', '--warehouse', wh.dir, '--duckdb', duckdbFile, '--dbt-sources', sourcesFile]);

  // The file must stand alone: the Parquet files it came from are gone from where they were.
  renameSync(wh.dir, `${wh.dir}-moved`);
  instance = await DuckDBInstance.create(duckdbFile, { access_mode: 'READ_ONLY' });
  file = await instance.connect();
  // A BI tool's session is in its own time zone, not UTC.
  await file.run("SET TimeZone = 'Pacific/Kiritimati'");
}, 240_000);

afterAll(() => {
  file?.closeSync();
  instance?.closeSync();
});

describe('kombo-etl export --duckdb', () => {
  it('exits 0 and says what it wrote, leaving no temporary file', () => {
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`wrote ${duckdbFile}: ${CATALOG_TABLES.length} tables and ${VIEWS.length} analytics views`);
    expect(readdirSync(join(duckdbFile, '..'))).toEqual(['kombo.duckdb']);
  });

  it('holds every table and analytics view as a table, with the rows of the live warehouse', async () => {
    const tables = await rowsOf(file, "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY table_name");
    expect(tables.map((t) => t['table_name'])).toEqual([...CATALOG_TABLES.map((t) => t.name), ...VIEWS.map((v) => v.name)].sort());
    for (const name of Object.keys(liveRows)) {
      const [counted] = await rowsOf(file, `SELECT count(*) AS n FROM ${name}`);
      expect(counted?.['n'], name).toBe(liveRows[name]);
    }
    expect(liveRows['applications']).toBeGreaterThan(liveRows['applications_latest'] as number);
    expect(liveRows['hiring_funnel']).toBeGreaterThan(5);
  });

  it('answers hiring_funnel with the figures of the sandbox event log', async () => {
    // Prepare
    const expected = expectedJobFunnel(timeline, SPEC.id, DATES).map((e) => ({
      integration_id: e.integration_id,
      job_id: e.job_id,
      stage_id: e.stage_id,
      stage_index: e.stage_index,
      reached: e.reached,
      currently_in: e.currently_in,
      conversion_to_next: e.conversion_to_next,
      hired: e.hired,
      median_days_in_stage: e.median_days_in_stage,
    }));
    // Act
    const actual = await rowsOf(file, 'SELECT integration_id, job_id, stage_id, stage_index, reached, currently_in, conversion_to_next, hired, median_days_in_stage FROM hiring_funnel');
    // Assess
    const key = (r: Row) => `${String(r['job_id'])}|${String(r['stage_index']).padStart(2, '0')}`;
    actual.sort((a, b) => key(a).localeCompare(key(b)));
    expected.sort((a, b) => key(a).localeCompare(key(b)));
    expect(actual.length).toBe(expected.length);
    expected.forEach((e, k) => {
      const a = actual[k] as Row;
      expect({ ...a, conversion_to_next: null }, key(e)).toEqual({ ...e, conversion_to_next: null });
      if (e.conversion_to_next === null) expect(a['conversion_to_next']).toBeNull();
      else expect(a['conversion_to_next'] as number).toBeCloseTo(e.conversion_to_next, 12);
    });
  });

  it('keeps the UTC weeks of interviewer_load in a session of another time zone', async () => {
    expect(liveLoad.length).toBeGreaterThan(0);
    expect(await rowsOf(file, 'SELECT * FROM interviewer_load ORDER BY user_id, week_start')).toEqual(liveLoad);
  });

  it('runs every SQL example of docs/BI.md', async () => {
    const doc = readFileSync(new URL('../../docs/BI.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/^```sql\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
    // An example per view, but not per `_history` view: one table's history shows how to read them all.
    const historyViews = new Set(TABLES.map((t) => `${t.name}_history`));
    expect(examples.length).toBeGreaterThanOrEqual(VIEWS.filter((v) => !historyViews.has(v.name)).length - 2);
    expect(examples.some((sql) => /_history\b/.test(sql) && /"_valid_to"/.test(sql))).toBe(true);
    for (const sql of examples) {
      const rows = await rowsOf(file, sql);
      // An example answers whenever what it reads holds rows; the simulated days lie in the past,
      // so the one about the last four weeks answers nothing here.
      const from = /\bFROM\s+(\w+)/i.exec(sql)?.[1] as string;
      const [held] = await rowsOf(file, `SELECT count(*) AS n FROM ${from}`);
      if ((held?.['n'] as number) > 0 && !sql.includes('current_date')) expect(rows.length, sql).toBeGreaterThan(0);
    }
  });

  it('can be read by any DuckDB from 1.0 on', async () => {
    const [db] = await rowsOf(file, 'SELECT tags FROM duckdb_databases() WHERE database_name = current_database()');
    expect(db?.['tags']).toEqual([{ key: 'storage_version', value: 'v1.0.0+' }]);
  });

  it('describes its tables and columns for the BI tool', async () => {
    const applications = TABLES.find((t) => t.name === 'applications');
    const [table] = await rowsOf(file, "SELECT comment FROM duckdb_tables() WHERE table_name = 'applications'");
    expect(table?.['comment']).toBe(tableDescription(applications!));
    const [columns] = await rowsOf(file, 'SELECT count(*) AS n FROM duckdb_columns() WHERE database_name = current_database()');
    expect(columns?.['n']).toBeGreaterThan(200);
    const uncommented = await rowsOf(file, "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() AND (comment IS NULL OR comment = '')");
    expect(uncommented).toEqual([]);
  });
});

describe('kombo-etl export --dbt-sources', () => {
  const sources = () => parse(readFileSync(sourcesFile, 'utf8')) as DbtSourcesFile;
  const byName = () => new Map((sources().sources[0]?.tables ?? []).map((t) => [t.name, t] as const));

  it('writes valid YAML, the same as the library generates', () => {
    const text = readFileSync(sourcesFile, 'utf8');
    const doc = parseDocument(text);
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
    expect(text).toBe(dbtSourcesYaml());
    expect(sources().version).toBe(2);
  });

  it('names the Glue database of a default deployment for dbt-athena, and main for dbt-duckdb', () => {
    const source = sources().sources[0];
    expect(DEFAULT_GLUE_DATABASE).toBe(glueDatabaseName(DEFAULT_STACK_NAME));
    expect(source?.schema).toBe(`{{ var('kombo_schema', 'main' if target.type == 'duckdb' else '${DEFAULT_GLUE_DATABASE}') }}`);
    // DuckDB names a database file after its stem: the file exported as kombo.duckdb is database kombo.
    expect(source?.database).toBe(`{{ var('kombo_database', '${basename(duckdbFile, '.duckdb')}' if target.type == 'duckdb' else target.database) }}`);
  });

  it('lists every table with every column (partition columns last) and every view with its columns, all described', () => {
    const tables = byName();
    expect([...tables.keys()]).toEqual([...CATALOG_TABLES.map((t) => t.name), ...VIEWS.map((v) => v.name)]);
    for (const t of TABLES) {
      expect(tables.get(t.name)?.columns.map((c) => c.name)).toEqual([...t.columns.map((c) => c.name), ...PARTITION_COLUMNS.map((p) => p.name)]);
    }
    for (const v of VIEWS) expect(tables.get(v.name)?.columns.map((c) => c.name)).toEqual(v.columns.map((c) => c.name));
    for (const t of tables.values()) {
      expect(t.description.length, t.name).toBeGreaterThan(10);
      for (const c of t.columns) expect(c.description.length, `${t.name}.${c.name}`).toBeGreaterThan(3);
    }
  });

  it('takes freshness from syncs, which every completed sync adds to, not from the data tables, which only grow on a change', async () => {
    const withFreshness = [...byName().values()].filter((t) => t.freshness !== undefined).map((t) => [t.name, t.loaded_at_field]);
    expect(withFreshness).toEqual([['syncs', 'finished_at']]);
    // Every simulated day has its syncs in the file, whatever it changed.
    const [synced] = await rowsOf(file, 'SELECT count(DISTINCT snapshot_date) AS n FROM syncs');
    expect(synced?.['n']).toBe(DATES.length);
  });

  it('never tests a physical table column as unique: every version repeats the ids', async () => {
    for (const t of TABLES) {
      for (const c of byName().get(t.name)?.columns ?? []) expect(c.data_tests ?? [], `${t.name}.${c.name}`).not.toContain('unique');
    }
    const [ids] = await rowsOf(file, 'SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids FROM applications');
    expect(ids?.['n']).toBeGreaterThan(ids?.['distinct_ids'] as number);
  });

  it("has data tests that hold on the exported data, run as dbt's unique and not_null tests run", async () => {
    let uniques = 0;
    let notNulls = 0;
    for (const t of byName().values()) {
      for (const test of t.data_tests ?? []) {
        if (typeof test === 'string') throw new Error(`unexpected table test ${test}`);
        const expr = test.unique.column_name;
        const duplicates = await rowsOf(file, `SELECT k, count(*) AS n FROM (SELECT ${expr} AS k FROM ${t.name} WHERE ${expr} IS NOT NULL) d GROUP BY k HAVING count(*) > 1`);
        expect(duplicates, `${t.name}: ${expr}`).toEqual([]);
        uniques++;
      }
      for (const c of t.columns.filter((x) => x.data_tests?.includes('not_null'))) {
        const [nulls] = await rowsOf(file, `SELECT count(*) AS n FROM ${t.name} WHERE ${c.name} IS NULL`);
        expect(nulls?.['n'], `${t.name}.${c.name}`).toBe(0);
        notNulls++;
      }
    }
    // Every table, its `_history` view and the `_latest` views have a unique key.
    expect(uniques).toBe(2 * TABLES.length + 1 + VIEWS.filter((v) => v.name.endsWith('_latest')).length);
    expect(notNulls).toBeGreaterThan(TABLES.length * 4);
  });

  it('has unique keys that parse as Trino SQL, for dbt-athena', () => {
    const trino = new TrinoSQL();
    const tables: DbtTable[] = [...byName().values()];
    for (const t of tables) {
      for (const test of t.data_tests ?? []) {
        if (typeof test !== 'string') expect(trino.validate(`SELECT ${test.unique.column_name} AS k FROM ${t.name}`), t.name).toEqual([]);
      }
    }
  });
});

describe('kombo-etl export, configuration errors', () => {
  it.each([
    ['nothing to export', [] as string[], 'export needs --duckdb FILE'],
    ['a missing warehouse', ['--warehouse', 'WH/none', '--duckdb', 'OUT/k.duckdb'], 'the warehouse is missing'],
    ['an empty warehouse', ['--warehouse', 'WH', '--duckdb', 'OUT/k.duckdb'], 'the warehouse is empty'],
    ['a folder as --duckdb', ['--warehouse', 'WH', '--duckdb', 'OUT'], 'is a folder'],
    ['a folder as --dbt-sources', ['--dbt-sources', 'OUT'], 'is a folder'],
    ['--dbt-sources under a file', ['--dbt-sources', 'OUT/file.txt/sources.yml'], 'is a file, not a folder'],
  ])('exits 2 with one line and writes nothing: %s', async (_what, args, message) => {
    // Prepare: an empty warehouse folder and an output folder holding one file.
    const wh = tempDir();
    const out = tempDir();
    writeFileSync(join(out, 'file.txt'), 'x');
    // Act
    const r = await runCli(['export', ...args.map((a) => a.replace(/^WH/, wh).replace(/^OUT/, out))]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(readdirSync(out)).toEqual(['file.txt']);
    expect(readdirSync(wh)).toEqual([]);
    expect(existsSync(join(out, 'k.duckdb'))).toBe(false);
  });
});
