/**
 * Full and incremental syncs through the real CLI: a first sync is full, the next fetches only what
 * changed since it (less 15 minutes), `--full` and `--full-every` sync in full again, and the final
 * report (table or `--format json`) says so, its counts agreeing with the `syncs` table DuckDB reads.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamReportRow } from '../../cli/output.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('kombo-cli-modes-');
/** The sandbox's smallest integration with applications, and two of its models: quick runs. */
const INTEGRATION = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
const MODELS = 'candidates,applications';
const DAYS = ['2025-06-01', '2025-06-02', '2025-06-03', '2025-06-04', '2025-06-05'] as const;
const OVERLAP_MS = 15 * 60_000;

interface JsonReport {
  run_id: string;
  snapshot_date: string;
  status: string;
  warehouse: string;
  streams: StreamReportRow[];
}

const warehouse = join(tmp(), 'wh');
const syncDay = (day: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runCli(['sync', '--as-of', day, '--integrations', INTEGRATION, '--models', MODELS, '--warehouse', warehouse, ...extra], env);
const json = (r: CliResult): JsonReport => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as JsonReport;
};
const byModel = (report: JsonReport) => Object.fromEntries(report.streams.map((s) => [s.model, s]));

let db: Reader;
const runs: { json: JsonReport[]; table: CliResult | undefined } = { json: [], table: undefined };

beforeAll(async () => {
  db = await duck();
  // Day by day, as the nightly schedule would: each run builds on the state the one before left.
  runs.json.push(json(await syncDay(DAYS[0], ['--format', 'json'])));
  runs.table = await syncDay(DAYS[1]);
  runs.json.push(json(await syncDay(DAYS[2], ['--full', '--format', 'json'])));
  runs.json.push(json(await syncDay(DAYS[3], ['--full-every', '1', '--format', 'json'])));
  runs.json.push(json(await syncDay(DAYS[4], ['--format', 'json'], { KOMBO_FULL_SYNC_EVERY_DAYS: '2' })));
}, 240_000);
afterAll(() => db.close());

/** The `syncs` rows of one snapshot date, as DuckDB reads the Parquet files. */
const syncsOf = (day: string) =>
  db.all(
    `SELECT model, mode, strftime(updated_after, '%Y-%m-%dT%H:%M:%S.%g') AS updated_after, records, versions, deletions
     FROM read_parquet('${warehouse}/syncs/**/*.parquet', hive_partitioning = true) WHERE snapshot_date = DATE '${day}' ORDER BY model`,
  );

describe('kombo-etl sync: full, then incremental, then full when asked or due', () => {
  it('syncs a first day in full: every record fetched is stored, and --format json is the report alone', async () => {
    const first = runs.json[0]!;
    expect(first).toMatchObject({ snapshot_date: DAYS[0], status: 'succeeded', warehouse });
    for (const s of first.streams) {
      expect(s).toMatchObject({ integration_id: INTEGRATION, status: 'done', mode: 'full', updated_after: null, unchanged: 0 });
      expect(s.records).toBeGreaterThan(0);
      expect(s.versions).toBe(s.records);
      expect(s.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const syncs = await syncsOf(DAYS[0]);
    expect(syncs.map((r) => [r['model'], r['mode'], r['updated_after'], r['records'], r['versions'], r['deletions']])).toEqual(
      first.streams.map((s) => [s.model, 'full', null, s.records, s.versions, s.deletions]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('syncs the next day incrementally from the first sync\'s start less 15 minutes, and the table says so', async () => {
    const table = runs.table!;
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('integration'))?.split(/\s{2,}/).slice(0, 8)).toEqual(['integration', 'model', 'status', 'mode', 'updated after', 'records', 'versions', 'deletions']);
    const first = byModel(runs.json[0]!);
    const syncs = await syncsOf(DAYS[1]);
    expect(syncs).toHaveLength(2);
    for (const row of syncs) {
      const model = String(row['model']);
      const after = new Date(Date.parse(first[model]!.started_at!) - OVERLAP_MS).toISOString();
      expect(row).toMatchObject({ mode: 'incremental', updated_after: after.slice(0, -1) });
      // Only what changed in a day comes back, and only what changed is stored.
      expect(Number(row['records'])).toBeLessThan(first[model]!.records);
      expect(Number(row['versions'])).toBeLessThanOrEqual(Number(row['records']) + Number(row['deletions']));
      const cells = lines.find((l) => l.startsWith(`${INTEGRATION} `) && l.includes(` ${model} `))?.split(/\s{2,}/);
      expect(cells?.slice(2, 8)).toEqual(['done', 'incremental', after.replace(/\.000Z$/, 'Z'), String(row['records']), String(row['versions']), String(row['deletions'])]);
    }
  });

  it('syncs in full with --full, storing only the records that changed', () => {
    const full = runs.json[1]!;
    for (const s of full.streams) {
      expect(s).toMatchObject({ mode: 'full', updated_after: null });
      expect(s.records).toBeGreaterThan(0);
      // Every record is fetched; most have not changed since their last version and add no row.
      expect(s.unchanged).toBeGreaterThan(0);
      expect(s.versions).toBeLessThan(s.records);
    }
  });

  it('syncs in full with --full-every 1 (the last full sync is a day old), and incrementally with KOMBO_FULL_SYNC_EVERY_DAYS=2 a day later', () => {
    expect(runs.json[2]!.streams.map((s) => s.mode)).toEqual(['full', 'full']);
    const next = runs.json[3]!;
    const fourth = byModel(runs.json[2]!);
    for (const s of next.streams) {
      expect(s.mode).toBe('incremental');
      expect(s.updated_after).toBe(new Date(Date.parse(fourth[s.model]!.started_at!) - OVERLAP_MS).toISOString());
    }
  });
});

describe('kombo-etl sync: a bad --full-every or KOMBO_FULL_SYNC_EVERY_DAYS', () => {
  it.each([
    [['--full-every', '0'], {}, /^error: --full-every: expected a whole number of days from 1 to 3650 .*got "0"$/],
    [['--full-every', 'weekly'], {}, /^error: --full-every: .*got "weekly"$/],
    [['--full-every', '2.5'], {}, /^error: --full-every: .*got "2\.5"$/],
    [[], { KOMBO_FULL_SYNC_EVERY_DAYS: '-1' }, /^error: KOMBO_FULL_SYNC_EVERY_DAYS: expected a whole number of days from 1 .*got "-1"$/],
  ])('%j %j: exit 2, one line that says what to do, nothing written', async (args, env, message) => {
    const target = join(tmp(), 'wh');
    const r = await runCli(['sync', '--sandbox', '--warehouse', target, ...args], env, { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(target)).toBe(false);
  });
});
