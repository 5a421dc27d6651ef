/**
 * Files of a run that never committed its date (a re-run stopped after its first chunk) lie in the
 * partition's folder next to the committed run's: nothing reads or publishes them. Compaction reads
 * the committed run's files only, and its rewrite removes the others; the run state an interrupted
 * run's `retry` needs stays.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('kombo-stopped-');
const INTEGRATION = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
const DAY = '2025-06-01';
const STOPPED = '20250601T050000Z-5t0pp3';
const warehouse = join(tmp(), 'wh');
const partition = () => {
  const base = join(warehouse, 'candidates', `snapshot_date=${DAY}`);
  return join(base, readdirSync(base)[0]!);
};

let db: Reader;
let erased = '';
let ids = 0;
beforeAll(async () => {
  db = await duck();
  const sync = await runCli(['sync', '--as-of', DAY, '--integrations', INTEGRATION, '--models', 'candidates', '--warehouse', warehouse]);
  expect(sync.code, sync.stderr).toBe(0);
  // A re-run of the date stopped after its first chunk: its file holds the same records, and its
  // run state says it was interrupted.
  const committed = readdirSync(partition()).find((d) => d.startsWith('run-'))!;
  cpSync(join(partition(), committed), join(partition(), `run-${STOPPED}`), { recursive: true });
  mkdirSync(join(warehouse, '_runs', STOPPED), { recursive: true });
  writeFileSync(join(warehouse, '_runs', STOPPED, 'plan.json'), JSON.stringify({ runId: STOPPED, snapshotDate: DAY, streams: [] }));
  writeFileSync(join(warehouse, '_runs', STOPPED, '_INTERRUPTED.json'), JSON.stringify({ signal: 'SIGINT' }));
  const rows = await db.all(`SELECT id FROM read_parquet('${partition()}/${committed}/*.parquet') WHERE NOT _is_deleted ORDER BY id`);
  // The retention purges the records deleted before its cutoff; the others stay, once each.
  ids = rows.length;
  erased = String(rows[0]!['id']);
}, 120_000);
afterAll(() => db.close());

describe('compaction and the files of a stopped run', () => {
  it('rewrites a partition from the committed run alone, removes the stopped run\'s files, and keeps its run state', async () => {
    const r = await runCli(['compact', '--warehouse', warehouse, '--retention-days', '30', '--today', '2025-09-01', '--erase', erased]);
    expect(r.code, r.stderr).toBe(0);
    const withFiles = readdirSync(partition()).filter((d) => readdirSync(join(partition(), d)).length > 0);
    expect(withFiles).toHaveLength(1);
    expect(withFiles[0]).toMatch(/^run-compact-/);
    const after = await db.all(`SELECT id, count(*) AS n FROM read_parquet('${partition()}/**/*.parquet') GROUP BY id`);
    expect(after).toHaveLength(ids - 1);
    expect(after.every((row) => Number(row['n']) === 1)).toBe(true);
    expect(after.some((row) => row['id'] === erased)).toBe(false);
    expect(existsSync(join(warehouse, '_runs', STOPPED, '_INTERRUPTED.json'))).toBe(true);
  }, 120_000);
});
