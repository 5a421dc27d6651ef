/**
 * The figures of the nightly-snapshot storage, pinned: the 14-day warehouse of `npm start` (the
 * built-in sandbox's default integrations and seed, one snapshot a day from 2025-06-01) synced by
 * the real pipeline, and every row of the analytics views compared with
 * `test/fixtures/snapshot-era-figures.json`, recorded from that storage. A change in how the
 * warehouse stores or reads its data must leave every figure as it was.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxIntegrationSpec } from '../../sandbox/index.ts';
import { consecutiveDays } from '../../sandbox/index.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { buildHistoryWarehouse, objects } from '../helpers/history.ts';

/**
 * The warehouse the figures were recorded from, spelled out rather than read from the demo's or
 * the sandbox's defaults, so that a change of those defaults cannot pass for a change of figures.
 */
const INTEGRATIONS: readonly SandboxIntegrationSpec[] = [
  { id: 'greenhouse:Bq7TfKx2LmW9pRz4VnY8cHs3', tool: 'greenhouse', candidates: 1500 },
  { id: 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy', tool: 'lever', candidates: 400 },
  { id: 'workable:Ts5GxY3nKc8WqP2hRz7MfVdJ', tool: 'workable', candidates: 60, unavailableModels: ['offers'] },
  { id: 'teamtailor:Xm9KpL2vQw7RtN4sHd6YbF3c', tool: 'teamtailor', candidates: 0 },
];
const SEED = 42;
const DATES = consecutiveDays('2025-06-01', 14);

const VIEWS = [
  'application_stage_history',
  'hiring_funnel',
  'time_to_hire',
  'time_to_fill',
  'offer_acceptance',
  'rejection_breakdown',
  'interviewer_load',
  'source_effectiveness',
] as const;
const LATEST_VIEWS = ['candidates_latest', 'applications_latest', 'interviews_latest', 'jobs_latest', 'offers_latest', 'users_latest'] as const;

type Row = Record<string, unknown>;
type Figures = Record<(typeof VIEWS)[number], Row[]> & { latest_counts: Record<(typeof LATEST_VIEWS)[number], number> };

const FIGURES = JSON.parse(readFileSync(new URL('../fixtures/snapshot-era-figures.json', import.meta.url), 'utf8')) as Figures;

/**
 * A column as the fixture holds it: dates as `YYYY-MM-DD`, doubles rounded to 6 decimals (so that
 * the last bits of a division or a median cannot tell two storages apart), integers as BIGINT
 * (read back as numbers).
 */
function pinned(name: string, type: string): string {
  const column = `"${name}"`;
  if (type === 'DATE') return `strftime(${column}, '%Y-%m-%d') AS ${column}`;
  if (type === 'DOUBLE' || type === 'FLOAT' || type.startsWith('DECIMAL')) return `round(CAST(${column} AS DOUBLE), 6) AS ${column}`;
  if (type.includes('INT')) return `CAST(${column} AS BIGINT) AS ${column}`;
  return column;
}

/** The fixture's columns of `view`, in the fixture's order, every row, sorted by all of them. */
async function viewRows(db: WarehouseDb, view: string, columns: readonly string[]): Promise<Row[]> {
  const types = new Map((await objects(db, `DESCRIBE ${view}`)).map((c) => [String(c.column_name), String(c.column_type)]));
  // A column the view no longer has is selected as is, so that DuckDB names it in the failure.
  const select = columns.map((c) => pinned(c, types.get(c) ?? '')).join(', ');
  return objects(db, `SELECT ${select} FROM ${view} ORDER BY ALL`);
}

let db: WarehouseDb;

beforeAll(async () => {
  const warehouse = await buildHistoryWarehouse({ integrations: INTEGRATIONS, seed: SEED, dates: DATES });
  db = await openWarehouse(warehouse.dir);
}, 300_000);

afterAll(() => db?.close());

describe('figures of the 14-day demo warehouse, as the nightly-snapshot storage gives them', () => {
  it.each(VIEWS)('%s: every row as recorded', async (view) => {
    // Prepare
    const expected = FIGURES[view];
    const columns = Object.keys(expected[0] ?? {});
    // Act
    const actual = await viewRows(db, view, columns);
    // Assess
    expect(columns.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it.each(LATEST_VIEWS)('%s: as many rows as recorded', async (view) => {
    const [row] = await objects(db, `SELECT count(*) AS n FROM ${view}`);
    expect(row?.n).toBe(FIGURES.latest_counts[view]);
  });
});
