/**
 * Personal data outside names and emails: free text in the columns that describe a person or are
 * categories typed by hand, formulas, HTML and terminal payloads, a user whose remote id is their
 * email, and an error body naming a candidate (see `test/helpers/pii-dataset.ts`). Synced with the
 * CLI from a Kombo-compatible server: in `drop` and `hash` mode no planted value shows in any
 * Parquet string column (read with DuckDB), any file of the run state, or any output of the CLI,
 * and the funnel, source and rejection views still answer. `keep` mode is the control: the same
 * scan finds the planted values there.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import type { KomboServer } from '../helpers/kombo-server.ts';
import { startKomboServer } from '../helpers/kombo-server.ts';
import { LABELS, PII_ERROR_BODY, PLANTED, piiDataset } from '../helpers/pii-dataset.ts';
import { tempDirs } from '../helpers/temp.ts';

const ID = 'greenhouse:PiiFreeText7Lm2Wp9Rt4Kd';
const KEY = 'kombo-test-key-pii-free-text';
const DATE = '2026-11-22';
const SALT = 'salt-from-the-secret-0123456789-abcdef';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

const textOf = (file: string): string => {
  const bytes = readFileSync(file);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
};

/** Every planted value found, as `needle in where`. */
function leaks(texts: readonly (readonly [string, string])[]): string[] {
  return texts.flatMap(([where, text]) => PLANTED.filter((needle) => text.includes(needle)).map((needle) => `${needle} in ${where}`));
}

describe('free-text personal data and error bodies', () => {
  let server: KomboServer;
  let db: Reader;
  const tempDir = tempDirs('kombo-pii-text-');
  beforeAll(async () => {
    const { records, failures } = piiDataset();
    server = await startKomboServer({ integrationId: ID, apiKey: KEY, clock: '2026-11-22T05:00:00.000Z', records, failures });
    db = await duck();
  });
  afterAll(async () => {
    db?.close();
    await server?.close();
  });

  /** Sync with the CLI, query the views, and gather every text the run left: Parquet rows, state files, outputs. */
  async function syncAndScan(mode: 'keep' | 'hash' | 'drop') {
    const warehouse = tempDir();
    const env = { KOMBO_API_URL: server.url, KOMBO_API_KEY: KEY, KOMBO_INTEGRATION_IDS: ID, ...(mode === 'hash' && { KOMBO_PII_SALT: SALT }) };
    const sync = await runCli(['sync', '--warehouse', warehouse, '--snapshot-date', DATE, '--pii-mode', mode], env);
    const query = (sql: string): Promise<CliResult> => runCli(['query', sql, '--warehouse', warehouse, '--format', 'json']);
    const views = {
      sources: await query('select source, candidates from source_effectiveness order by source'),
      rejections: await query('select rejection_reason, sum(declined) as declined from rejection_breakdown group by rejection_reason order by rejection_reason'),
      funnel: await query('select stage_name, reached from hiring_funnel order by stage_index'),
    };
    const texts: [string, string][] = [['sync stdout', sync.stdout], ['sync stderr', sync.stderr]];
    for (const [name, r] of Object.entries(views)) texts.push([`${name} query`, r.stdout + r.stderr]);
    const files = filesUnder(warehouse);
    for (const f of files.filter((x) => !x.endsWith('.parquet'))) texts.push([f.slice(warehouse.length), textOf(f)]);
    const parquet = files.filter((x) => x.endsWith('.parquet'));
    for (const f of parquet) {
      const rows = await db.all(`SELECT * FROM read_parquet('${f}')`);
      texts.push([f.slice(warehouse.length), JSON.stringify(rows)]);
    }
    const rows = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>[];
    return { sync, texts, parquet, warehouse, sources: rows(views.sources), rejections: rows(views.rejections), funnel: rows(views.funnel) };
  }

  it.each(['drop', 'hash'] as const)('%s: no planted value anywhere, and the views still answer', async (mode) => {
    const r = await syncAndScan(mode);
    // The offers stream failed on the 403: told by its code, title and log URL.
    expect(r.sync.code, r.sync.stderr).toBe(1);
    expect(r.sync.stdout + r.sync.stderr).toContain('INTEGRATION.PERMISSION_MISSING');
    expect(r.sync.stdout + r.sync.stderr).toContain('Missing permission (log: https://app.kombo.dev/logs/req-4711)');
    expect(r.parquet.length).toBeGreaterThan(10);
    expect(r.texts.reduce((n, [, t]) => n + t.length, 0)).toBeGreaterThan(20_000);
    expect(leaks(r.texts)).toEqual([]);
    for (const [where, text] of r.texts.filter(([w]) => !w.endsWith('.parquet'))) expect(text, where).not.toContain('\u001b');

    expect(r.sources).toEqual([
      { source: '(other)', candidates: 3 },
      { source: LABELS.source, candidates: 5 },
    ]);
    expect(r.rejections).toEqual([
      { rejection_reason: '(other)', declined: 1 },
      { rejection_reason: LABELS.rejection, declined: 2 },
    ]);
    expect(r.funnel.length).toBeGreaterThan(0);
    expect(r.funnel[0]).toMatchObject({ stage_name: 'Initial Screening', reached: 8 });
  }, 120_000);

  it('drop, an incremental night: a source shared by five records in an earlier sync stays itself on records that change alone', async () => {
    const warehouse = tempDir();
    const env = { KOMBO_API_URL: server.url, KOMBO_API_KEY: KEY, KOMBO_INTEGRATION_IDS: ID };
    const sync = (date: string) => runCli(['sync', '--warehouse', warehouse, '--snapshot-date', date, '--pii-mode', 'drop', '--models', 'candidates'], env);
    expect((await sync(DATE)).code).toBe(0);
    server.setClock('2026-11-23T05:00:00.000Z');
    const changed = piiDataset().records['candidates']!.filter((c) => c['source'] === LABELS.source).slice(0, 2).map((c) => c.id);
    for (const id of changed) server.change('candidates', id, (c) => void (c['confidential'] = true));
    const second = await sync('2026-11-23');
    expect(second.code, second.stderr).toBe(0);
    const rows = await db.all(`SELECT id, source FROM read_parquet('${warehouse}/candidates/snapshot_date=2026-11-23/**/*.parquet') ORDER BY id`);
    expect(rows).toEqual(changed.map((id) => ({ id, source: LABELS.source })));
  }, 120_000);

  it('drop: a label list the integration does not offer leaves counts alone; one Kombo refuses fails its stream', async () => {
    const { records } = piiDataset();
    const refusing = await startKomboServer({
      integrationId: ID, apiKey: KEY, clock: '2026-11-22T05:00:00.000Z', records,
      failures: {
        tags: { status: 403, body: PII_ERROR_BODY },
        'rejection-reasons': { status: 404, body: JSON.stringify({ status: 'error', error: { code: 'INTEGRATION.MODEL_NOT_AVAILABLE', title: 'Model not available', message: null, log_url: null } }) },
      },
    });
    try {
      const warehouse = tempDir();
      const env = { KOMBO_API_URL: refusing.url, KOMBO_API_KEY: KEY, KOMBO_INTEGRATION_IDS: ID };
      const sync = await runCli(['sync', '--warehouse', warehouse, '--snapshot-date', DATE, '--pii-mode', 'drop', '--models', 'candidates,applications', '--format', 'json'], env);
      expect(sync.code, sync.stderr).toBe(1);
      const report = JSON.parse(sync.stdout) as { streams: { model: string; status: string; error_code?: string | null }[] };
      expect(report.streams.map((s) => [s.model, s.status, s.error_code ?? null]).sort()).toEqual([
        ['applications', 'done', null],
        ['candidates', 'failed', 'INTEGRATION.PERMISSION_MISSING'],
      ]);
      const reasons = await db.all(`SELECT DISTINCT rejection_reason_name AS r FROM read_parquet('${warehouse}/applications/**/*.parquet') WHERE r IS NOT NULL`);
      expect(reasons).toEqual([{ r: '(other)' }]);
      expect(leaks([['sync', sync.stdout + sync.stderr]])).toEqual([]);
    } finally {
      await refusing.close();
    }
  }, 120_000);

  it('keep: the control, where the same scan finds what was planted, and the message is cut and cleaned', async () => {
    const r = await syncAndScan('keep');
    expect(r.sync.code, r.sync.stderr).toBe(1);
    const found = leaks(r.texts);
    expect(found.some((l) => l.startsWith('Referral') || l.startsWith('Jane Doe in /candidates/'))).toBe(true);
    expect(found.some((l) => l.startsWith('peter.pan in /interview_users/'))).toBe(true);
    // The message is told in keep mode, without the escapes that rewrote the terminal line.
    expect(r.sync.stdout + r.sync.stderr).toContain('Jane Doe <jane.private@example.com>, salary 95000 EUR');
    for (const [where, text] of r.texts.filter(([w]) => !w.endsWith('.parquet'))) expect(text, where).not.toContain('\u001b');
  }, 120_000);
});
