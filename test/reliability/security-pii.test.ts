/**
 * Security: the API key never shows in CLI output, run state, reports or errors; path segments are
 * validated; `piiMode` stores what it promises (read back with DuckDB). Also `kombo-etl retry`.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { parseStreamMessage } from '../../shared/adapters/aws/sqs-queue.ts';
import { parsePiiOptions } from '../../cli/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { CATALOG_TABLES, MODELS, TABLES } from '../../shared/tables.ts';
import { dataFileKey, partitionPrefix } from '../../shared/warehouse/layout.ts';
import { runCli } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';
import { localAdapters, runCase } from './harness.ts';
import { runKeys } from '../../shared/state/keys.ts';

const A = 'greenhouse:RelSecurityA000000000000';
const B = 'lever:RelSecurityB000000000000';
const KEY = 'kombo-live-KNOWN-SECRET-7f3a9c2e41';
const WRONG = 'kombo-live-WRONG-SECRET-0b8d6e1f55';
const DATE = '2026-11-22';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

describe('the API key never leaks', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      apiKey: KEY,
      dataset: generateDataset({ seed: 31, integrations: [{ id: A, tool: 'greenhouse', candidates: 20 }, { id: B, tool: 'lever', candidates: 10 }] }),
      faults: { seed: 2, rate5xx: 0.1, rateReset: 0.05, rate429: 0.05, retryAfterSeconds: 0, revokedIntegrations: [B] },
    });
  });
  afterAll(async () => sandbox?.close());

  it('in CLI output, run state, reports and errors, through a failed sync, a retry and a rejected key', async () => {
    const warehouse = mkdtempSync(join(tmpdir(), 'kombo-sec-'));
    const env = { KOMBO_API_URL: sandbox.url, KOMBO_INTEGRATION_IDS: `${A},${B}` };
    const sync = await runCli(['sync', '--warehouse', warehouse, '--snapshot-date', DATE], { ...env, KOMBO_API_KEY: KEY });
    expect(sync.code, sync.stderr).toBe(1);
    const runId = readdirSync(join(warehouse, '_runs'))[0]!;
    const report = JSON.parse(readFileSync(join(warehouse, runKeys.report(runId)), 'utf8')) as { streams: { integrationId: string; status: string }[] };
    expect(report.streams.filter((s) => s.status === 'failed').map((s) => s.integrationId)).toEqual(MODELS.map(() => B));

    // The credentials are fixed: `retry` fetches only B's streams into the same run.
    sandbox.setFaults({});
    const before = sandbox.stats.byPath['/v1/ats/candidates'] ?? 0;
    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, '--api-key', KEY], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`retried ${B} candidates (was: INTEGRATION.AUTHENTICATION_INVALID)`);
    expect(retry.stdout).not.toContain(`retried ${A}`);
    expect(sandbox.stats.byPath['/v1/ats/candidates']! - before).toBe(1);
    expect(readdirSync(join(warehouse, '_runs', runId))).toContain('_SUCCESS.json');

    const wrong = await runCli(['sync', '--warehouse', warehouse], { ...env, KOMBO_API_KEY: WRONG });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('PLATFORM.AUTHENTICATION_INVALID');

    const client = new KomboClient({ baseUrl: sandbox.url, apiKey: WRONG, retry: { maxAttempts: 1 } });
    const err = await client.listPage(A, 'candidates').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);

    const haystack = [
      sync.stdout, sync.stderr, retry.stdout, retry.stderr, wrong.stdout, wrong.stderr,
      ...filesUnder(warehouse).filter((f) => !f.endsWith('.parquet')).map((f) => readFileSync(f, 'utf8')),
      ...filesUnder(warehouse).filter((f) => f.endsWith('.parquet')).map((f) => readFileSync(f).toString('latin1')),
      String(err), (err as Error).stack ?? '', JSON.stringify(err), inspect(err, { depth: 5 }), JSON.stringify(client.stats),
    ];
    let scanned = 0;
    for (const text of haystack) {
      scanned += text.length;
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(WRONG);
    }
    expect(scanned).toBeGreaterThan(10_000);
  }, 120_000);
});

describe('path segments are validated before they touch a key', () => {
  it.each(['../x', 'greenhouse:../x', 'greenhouse:a/b', 'greenhouse:a%2Fb', 'x:y\n', ''])('integration id %j', (id) => {
    expect(() => partitionPrefix('candidates', DATE, id)).toThrow(ConfigError);
    expect(() => runKeys.stream('r1', id, 'candidates')).toThrow(ConfigError);
    expect(() => parseStreamMessage(JSON.stringify({ runId: 'r', snapshotDate: DATE, integrationId: id, model: 'candidates', cursor: null, chunk: 0, totals: { pages: 0, requests: 0, retries: 0, throttles: 0, rows: {}, files: 0 } }))).toThrow(/integration id/);
  });
  it.each(['../r', 'r/1', '.', 'r 1'])('run id %j', (runId) => {
    expect(() => runKeys.plan(runId)).toThrow(ConfigError);
    expect(() => dataFileKey('candidates', DATE, A, runId, 0)).toThrow(ConfigError);
  });
  it.each(['../candidates', 'candidates/x', 'Candidates'])('table or model name %j', (name) => {
    expect(() => partitionPrefix(name, DATE, A)).toThrow(ConfigError);
    expect(() => runKeys.stream('r1', A, name)).toThrow(ConfigError);
  });
  it.each(['2026-11-22/..', '../2026-11-22'])('snapshot date %j', (d) => {
    expect(() => partitionPrefix('candidates', d, A)).toThrow(ConfigError);
  });
});

describe('piiMode', () => {
  let db: Reader;
  let sandbox: RunningSandbox;
  const SALT = 'salt-from-the-secret-0123456789-abcdefgh';
  beforeAll(async () => {
    db = await duck();
    sandbox = await startSandbox({ port: 0, dataset: generateDataset({ seed: 41, integrations: [{ id: A, tool: 'greenhouse', candidates: 12 }] }) });
  });
  afterAll(async () => {
    db?.close();
    await sandbox?.close();
  });

  const sha = (v: string) => createHmac('sha256', SALT).update(v).digest('hex');

  it.each(['keep', 'hash', 'drop'] as const)('%s: stores what it promises', async (mode) => {
    const a = localAdapters();
    const runId = `pii-${mode}`;
    const { report } = await runCase({ sandbox, adapters: a, runId, snapshotDate: DATE, integrationIds: [A], models: ['candidates'], pii: mode === 'hash' ? { mode, salt: SALT } : { mode } });
    expect(report.status).toBe('succeeded');
    const folder = (t: string) => a.store.locate(`${t}/snapshot_date=${DATE}/integration_id=greenhouse%3ARelSecurityA000000000000/run-${runId}`);
    const candidates = await db.all(`SELECT id, first_name, last_name, company, remote_data FROM read_parquet('${folder('candidates')}/*.parquet') ORDER BY id`);
    const emails = await db.all(`SELECT candidate_id, position, email_address FROM read_parquet('${folder('candidate_email_addresses')}/*.parquet') ORDER BY candidate_id, position`);
    const truth = new Map(sandbox.dataset.integrations[0]!.candidates.map((c) => [String(c['id']), c]));
    expect(candidates).toHaveLength(truth.size);
    expect(emails.length).toBeGreaterThan(0);
    for (const row of candidates) {
      const src = truth.get(String(row['id']))!;
      // A candidate's employer describes the person: kept only in keep mode.
      expect(row['company']).toBe(mode === 'keep' ? (src['company'] ?? null) : null);
      const first = src['first_name'] as string | null;
      if (mode === 'keep') {
        expect(row['first_name']).toBe(first);
        expect(row['remote_data']).toBe(src['remote_data'] == null ? null : JSON.stringify(src['remote_data']));
      } else {
        expect(row['remote_data']).toBeNull();
        expect(row['first_name']).toBe(first === null ? null : mode === 'hash' ? sha(first.trim()) : null);
      }
    }
    for (const row of emails) {
      const src = (truth.get(String(row['candidate_id']))!['email_addresses'] as { email_address: string }[])[Number(row['position'])]!.email_address;
      const want = mode === 'keep' ? src : mode === 'hash' ? sha(src.trim().toLowerCase()) : null;
      expect(row['email_address']).toBe(want);
      if (mode !== 'keep') expect(JSON.stringify(row)).not.toContain('@');
    }
  });

  it('is keep by default; hash without a salt is refused, without echoing anything secret', () => {
    expect(parsePiiOptions({}, {})).toEqual({ mode: 'keep' });
    expect(parsePiiOptions({}, { KOMBO_PII_MODE: 'hash', KOMBO_PII_SALT: SALT })).toEqual({ mode: 'hash', salt: SALT });
    expect(() => parsePiiOptions({ piiMode: 'hash', piiSalt: 'short' }, {})).toThrow(/KOMBO_PII_SALT/);
    expect(() => parsePiiOptions({ piiMode: 'hash', piiSalt: 'short' }, {})).not.toThrow(/short/);
    expect(() => parsePiiOptions({ piiMode: 'mask' }, {})).toThrow(/--pii-mode/);
  });
});

/** What identifies a person of the sandbox dataset: full names, email addresses, phone numbers. */
function personalNeedles(data: RunningSandbox['dataset']): { kind: string; value: string }[] {
  const out = new Map<string, string>();
  const name = (first: unknown, last: unknown) => {
    const f = typeof first === 'string' ? first.trim() : '';
    const l = typeof last === 'string' ? last.trim() : '';
    // A lone first or last name ("May", "Berlin") is found in ordinary text; a full name is not.
    if (f && l) {
      out.set(`${f} ${l}`, 'name');
      out.set(`${l}, ${f}`, 'name');
    }
  };
  for (const integration of data.integrations) {
    for (const c of integration.candidates) {
      name(c['first_name'], c['last_name']);
      for (const e of (c['email_addresses'] as { email_address?: string | null }[] | null) ?? []) if (e.email_address) out.set(e.email_address, 'email');
      for (const p of (c['phone_numbers'] as { phone_number?: string | null }[] | null) ?? []) if (p.phone_number) out.set(p.phone_number, 'phone');
    }
    // Interviewers are people too.
    for (const iv of integration.interviews) {
      for (const u of (iv['users'] as { first_name?: unknown; last_name?: unknown; email?: string | null }[]) ?? []) {
        name(u.first_name, u.last_name);
        if (u.email) out.set(u.email, 'email');
      }
    }
  }
  return [...out].map(([value, kind]) => ({ kind, value }));
}

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Every needle found, case-insensitively, in any of the texts of `hay` (value → where it was read).
 * DuckDB does the matching: thousands of needles against every distinct string of a warehouse.
 */
async function findNeedles(db: Reader, needles: readonly { kind: string; value: string }[], hay: readonly { src: string; value: string }[]) {
  await db.all('CREATE OR REPLACE TEMP TABLE needle (kind VARCHAR, v VARCHAR)');
  await db.all('CREATE OR REPLACE TEMP TABLE hay (src VARCHAR, v VARCHAR)');
  for (let i = 0; i < needles.length; i += 500) {
    await db.all(`INSERT INTO needle VALUES ${needles.slice(i, i + 500).map((n) => `(${sqlText(n.kind)}, lower(${sqlText(n.value)}))`).join(', ')}`);
  }
  for (const h of hay) await db.all(`INSERT INTO hay VALUES (${sqlText(h.src)}, lower(${sqlText(h.value)}))`);
  return db.all(HITS_SQL('hay'));
}

/** Hits grouped by where and what, with one example each: a readable failure. */
const HITS_SQL = (from: string) =>
  `SELECT h.src, n.kind, count(*)::INTEGER AS hits, min(n.v) AS example FROM needle n JOIN ${from} h ON contains(h.v, n.v) GROUP BY ALL ORDER BY ALL`;

describe('--pii-mode drop and hash leave no name, email address or phone number anywhere in the warehouse', () => {
  const tmp = tempDirs('kombo-pii-drop-');
  let db: Reader;
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    db = await duck();
    sandbox = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    db?.close();
    await sandbox?.close();
  });

  it.each(['drop', 'hash'])('%s: scans every string column of every Parquet file, the run state and the CLI output of a sync of the sandbox', async (mode) => {
    const warehouse = tmp();
    const ids = sandbox.dataset.integrations.map((i) => i.id);
    const sync = await runCli(
      ['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', ids.join(','), '--warehouse', warehouse, '--snapshot-date', DATE, '--pii-mode', mode],
      { KOMBO_PII_SALT: 'salt-from-the-secret-0123456789-abcdefgh' },
    );
    expect(sync.code, sync.stderr).toBe(0);
    const needles = personalNeedles(sandbox.dataset);
    expect(needles.filter((n) => n.kind === 'name').length).toBeGreaterThan(1000);
    expect(needles.filter((n) => n.kind === 'email').length).toBeGreaterThan(1000);
    expect(needles.filter((n) => n.kind === 'phone').length).toBeGreaterThan(500);

    // Every distinct value of every string column, file by file, as DuckDB reads it.
    await db.all('CREATE OR REPLACE TEMP TABLE strings (src VARCHAR, v VARCHAR)');
    const files = filesUnder(warehouse);
    const parquet = files.filter((f) => f.endsWith('.parquet'));
    const tables = new Set<string>();
    for (const file of parquet) {
      const cols = await db.all(`DESCRIBE SELECT * FROM read_parquet(${sqlText(file)})`);
      tables.add(file.slice(warehouse.length + 1).split('/')[0]!);
      for (const c of cols.filter((x) => String(x['column_type']) === 'VARCHAR')) {
        const col = `"${String(c['column_name'])}"`;
        const table = file.slice(warehouse.length + 1).split('/')[0]!;
        await db.all(`INSERT INTO strings SELECT DISTINCT ${sqlText(`${table}.${String(c['column_name'])}`)}, lower(${col}) FROM read_parquet(${sqlText(file)}) WHERE ${col} IS NOT NULL`);
      }
    }
    // Run state and change capture state (its index files are gzipped JSON) are scanned as text.
    const other = files
      .filter((f) => !f.endsWith('.parquet'))
      .map((f) => ({ src: f.slice(warehouse.length + 1), value: f.endsWith('.gz') ? gunzipSync(readFileSync(f)).toString('utf8') : readFileSync(f, 'utf8') }));
    expect(other.some((o) => o.src.startsWith('_runs/'))).toBe(true);
    expect(other.some((o) => o.src.startsWith('_state/') && o.src.endsWith('.json.gz'))).toBe(true);
    const hits = await findNeedles(db, needles, [...other, { src: 'stdout', value: sync.stdout }, { src: 'stderr', value: sync.stderr }]);
    const parquetHits = await db.all(HITS_SQL('strings'));
    const [{ n: values }] = (await db.all('SELECT count(*)::INTEGER AS n FROM strings')) as [{ n: number }];

    expect([...tables].sort()).toEqual(CATALOG_TABLES.map((t) => t.name).filter((t) => tables.has(t)).sort());
    expect(tables.size).toBeGreaterThanOrEqual(TABLES.length - 1);
    expect(values).toBeGreaterThan(10_000);
    expect(parquetHits).toEqual([]);
    expect(hits).toEqual([]);
  }, 240_000);

  it('the scan finds a name, an email address and a phone number where they are', async () => {
    const c = sandbox.dataset.integrations[0]!.candidates.find((x) => x['first_name'] && x['last_name'] && (x['phone_numbers'] as unknown[]).length > 0 && (x['email_addresses'] as unknown[]).length > 0)!;
    const hits = await findNeedles(db, personalNeedles(sandbox.dataset), [{ src: 'record', value: `Interview with ${String(c['first_name'])} ${String(c['last_name'])}: ${JSON.stringify(c)}` }]);
    expect(new Set(hits.map((h) => h['kind']))).toEqual(new Set(['name', 'email', 'phone']));
  });
});

describe('a retry stores personal data as its run did', () => {
  const tmp = tempDirs('kombo-pii-retry-');
  let sandbox: RunningSandbox;
  let db: Reader;
  beforeAll(async () => {
    db = await duck();
    sandbox = await startSandbox({
      port: 0,
      apiKey: KEY,
      dataset: generateDataset({ seed: 31, integrations: [{ id: A, tool: 'greenhouse', candidates: 20 }, { id: B, tool: 'lever', candidates: 10 }] }),
      faults: { revokedIntegrations: [B] },
    });
  });
  afterAll(async () => {
    db?.close();
    await sandbox?.close();
  });

  /** A drop-mode run whose integration B failed, with B's credentials fixed afterwards. */
  async function failedDropRun(): Promise<{ warehouse: string; runId: string; env: Record<string, string> }> {
    sandbox.setFaults({ revokedIntegrations: [B] });
    const warehouse = tmp();
    const env = { KOMBO_API_URL: sandbox.url, KOMBO_INTEGRATION_IDS: `${A},${B}`, KOMBO_API_KEY: KEY };
    const sync = await runCli(['sync', '--warehouse', warehouse, '--snapshot-date', DATE, '--models', 'candidates', '--pii-mode', 'drop'], env);
    expect(sync.code, sync.stderr).toBe(1);
    sandbox.setFaults({});
    return { warehouse, runId: readdirSync(join(warehouse, '_runs'))[0]!, env };
  }

  it('without --pii-mode, a retry of a drop run drops too', async () => {
    const { warehouse, runId, env } = await failedDropRun();
    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`retried ${B} candidates`);
    const glob = sqlText(join(warehouse, 'candidates', '**', '*.parquet'));
    const rows = (await db.all(`SELECT count(*)::INTEGER AS n, count(first_name)::INTEGER AS named FROM read_parquet(${glob})`)) as [{ n: number; named: number }];
    expect(rows[0]).toEqual({ n: 30, named: 0 });
  });

  it('a retry asked for another mode is refused with exit 2, and writes nothing', async () => {
    const { warehouse, runId, env } = await failedDropRun();
    const before = filesUnder(warehouse).length;
    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, '--pii-mode', 'keep'], env);
    expect(retry.code).toBe(2);
    expect(retry.stderr.trim()).toBe(`error: run ${runId} stores personal data with --pii-mode drop: retry it with the same mode, or leave --pii-mode out`);
    expect(filesUnder(warehouse).length).toBe(before);
  });
});
