/**
 * The simulated clock and the views through the real CLI: `sync --as-of` day after day, `query`
 * over the analytics views, `report`, and the flags' validation.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_INTEGRATIONS } from '../../sandbox/index.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

/** The small default integration: enough for a history, quick to sync. */
const SMALL = DEFAULT_SANDBOX_INTEGRATIONS[2]?.id as string;
const warehouse = mkdtempSync(join(tmpdir(), 'kombo-asof-'));

beforeAll(async () => {
  for (const date of ['2025-05-01', '2025-05-02', '2025-05-04']) {
    const r = await runCli(['sync', '--as-of', date, '--integrations', SMALL, '--warehouse', warehouse]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`simulated date ${date}`);
  }
}, 180_000);

describe('kombo-etl sync --as-of', () => {
  it('takes the simulated day as the snapshot date', async () => {
    // `syncs`, not the data tables: a sync that found nothing changed stores no version.
    const sql = "select distinct cast(snapshot_date as varchar) as d from syncs where model = 'applications' order by d";
    const q = await runCli(['query', sql, '--warehouse', warehouse, '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ d: '2025-05-01' }, { d: '2025-05-02' }, { d: '2025-05-04' }]);
  });

  it('builds a history that kombo-etl query reads through the analytics views', async () => {
    const q = await runCli(['query', 'select count(*) as n, count(*) filter (where left_on is not null) as closed from application_stage_history', '--warehouse', warehouse, '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const [row] = JSON.parse(q.stdout) as { n: string; closed: string }[];
    expect(Number(row?.n)).toBeGreaterThan(3);
    expect(Number(row?.closed)).toBeGreaterThan(0);
    const funnel = await runCli(['query', 'select * from hiring_funnel', '--warehouse', warehouse]);
    expect(funnel.code, funnel.stderr).toBe(0);
    expect(funnel.stdout).toMatch(/conversion_to_next/);
  });

  it.each([
    [['--as-of', '2025-02-30'], /--as-of/],
    [['--as-of', '2025-05-01', '--api-key', 'some-key', '--integrations', SMALL], /--as-of: only for the built-in sandbox/],
  ])('rejects %j with exit 2', async (args, message) => {
    const r = await runCli(['sync', '--warehouse', join(warehouse, 'never'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(warehouse, 'never'))).toBe(false);
  });

  it('rejects a malformed --as-of on kombo-etl sandbox', async () => {
    const r = await runCli(['sandbox', '--as-of', '01.05.2025']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--as-of/);
  });
});

describe('kombo-etl report', () => {
  it('writes the report where --out says', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kombo-report-')), 'nested', 'hiring.html');
    const r = await runCli(['report', '--warehouse', warehouse, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`report: ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg data-chart="funnel"');
  });
});

describe('kombo-etl query and report on a wrong --warehouse: exit 2, one line, never silent zeros', () => {
  const expectOneLine = (r: { code: number; stderr: string }, message: RegExp) => {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  };
  const empty = tempDirs('kombo-emptywh-');
  const missing = () => join(empty(), 'typo');

  it.each([
    ['a missing', missing, /^error: --warehouse .*typo: the warehouse is missing \(.*typo does not exist\); run `kombo-etl sync` first/],
    ['an empty', empty, /^error: --warehouse .*kombo-emptywh-\w+: the warehouse is empty \(.* holds no synced table\); run `kombo-etl sync` first/],
  ])('query on %s warehouse', async (_what, dir, message) => {
    const r = await runCli(['query', 'select count(*) as n from applications', '--warehouse', dir()]);
    expectOneLine(r, message);
    expect(r.stdout).toBe('');
  });

  it('query on a file', async () => {
    const file = join(empty(), 'warehouse.txt');
    writeFileSync(file, '');
    expectOneLine(await runCli(['query', 'select 1', '--warehouse', file]), /warehouse\.txt is a file, not a warehouse folder/);
  });

  it('report on a missing warehouse creates nothing', async () => {
    const dir = missing();
    expectOneLine(await runCli(['report', '--warehouse', dir]), /the warehouse is missing/);
    expect(existsSync(dir)).toBe(false);
  });

  it('report on an empty warehouse writes no report', async () => {
    const dir = empty();
    expectOneLine(await runCli(['report', '--warehouse', dir]), /the warehouse is empty/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('report --out where no folder can be made (/proc) ends at once with exit 2', async () => {
    const r = await runCli(['report', '--warehouse', warehouse, '--out', '/proc/kombo-report/hiring.html'], {}, { timeoutMs: 60_000 });
    expectOneLine(r, /^error: --out \/proc\/kombo-report\/hiring\.html: a folder cannot be created there; choose a folder you can write to$/);
  });
});
