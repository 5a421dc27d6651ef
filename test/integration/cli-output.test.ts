/**
 * What the CLI prints, read as a user reads it: the sync's opening line counts the integrations it
 * was asked for, `query --format json` gives numbers and ISO 8601 timestamps, the table format
 * stays aligned after wide characters, and a report from one sync says why its medians are empty.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyNotice } from '../../shared/analytics/report-html.ts';
import stringWidth from 'string-width';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const WORKABLE = 'workable:Ts5GxY3nKc8WqP2hRz7MfVdJ';
const tempDir = tempDirs('kombo-cli-output-');
let warehouse: string;
let sync: CliResult;

beforeAll(async () => {
  warehouse = tempDir();
  sync = await runCli(['sync', '--sandbox', '--integrations', WORKABLE, '--models', 'candidates,applications', '--warehouse', warehouse, '--snapshot-date', '2026-01-15']);
}, 120_000);

describe('kombo-etl sync --sandbox --integrations ONE', () => {
  it('says it syncs one integration, and syncs only that one', () => {
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/^syncing the built-in Kombo sandbox at http:\/\/127\.0\.0\.1:\d+\/v1 \(1 integration\)$/m);
    expect(sync.stdout).toContain('(2/2 streams complete)');
  });
});

describe('kombo-etl query --format json', () => {
  it('prints counts as numbers and timestamps and dates as ISO 8601', async () => {
    // Act
    const sql = 'SELECT count(*) AS n, count(DISTINCT integration_id) AS integrations, max(_synced_at) AS synced_at, max(remote_created_at) AS created, min(snapshot_date) AS day FROM candidates';
    const res = await runCli(['query', sql, '--format', 'json', '--warehouse', warehouse]);
    // Assess
    expect(res.code, res.stderr).toBe(0);
    const [row] = JSON.parse(res.stdout) as Record<string, unknown>[];
    expect(row).toMatchObject({ n: 60, integrations: 1, day: '2026-01-15' });
    expect(row?.['synced_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(row?.['created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(row?.['created'] as string)).not.toBeNaN();
  });
});

describe('kombo-etl query (table)', () => {
  it('keeps the columns aligned after CJK and emoji', async () => {
    const sql = "SELECT * FROM (VALUES ('日本語の求人', 'Tokyo', 1), ('🚀 Growth Hacker', 'Berlin', 22), ('plain', 'x', 333)) t(title, city, n)";
    const res = await runCli(['query', sql, '--warehouse', warehouse]);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split('\n').slice(2, 5);
    const cityColumn = lines.map((l, i) => stringWidth(l.slice(0, l.indexOf(['Tokyo', 'Berlin', 'x'][i]!))));
    expect(new Set(cityColumn).size, res.stdout).toBe(1);
    expect(new Set(lines.map((l) => stringWidth(l))).size, res.stdout).toBe(1);
  });
});

describe('kombo-etl report on a warehouse of one sync', () => {
  it('says the medians fill in as history builds up night by night', async () => {
    const out = join(tempDir(), 'report.html');
    const res = await runCli(['report', '--warehouse', warehouse, '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<p class="notice" data-notice="history">This report is built from a single sync (2026-01-15).');
    expect(html).toContain('They fill in as history builds up night by night: each nightly sync adds what changed since the one before.');
  });

  it('names only the integrations that are still young, and says nothing once each has two snapshots', () => {
    const span = (integrationId: string, snapshots: number) => ({ integrationId, first: '2026-01-01', latest: '2026-01-14', snapshots });
    expect(historyNotice([span('greenhouse:A', 14), span('lever:B', 1)])).toMatch(/^<p class="notice" data-notice="history">lever has a single sync so far\. Days in stage/);
    expect(historyNotice([span('greenhouse:A', 14), span('lever:B', 2)])).toBe('');
  });
});
