/**
 * The CLI end to end: a real child process syncing the sandbox over real HTTP, with every fault
 * switched on, into a real warehouse that DuckDB reads back and compares, field by field, with the
 * sandbox's ground truth.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxIntegrationData } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { hiveEscape } from '../../shared/warehouse/layout.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { EXPECTED, JSON_COLUMNS, rowKey, servedRecords } from '../helpers/truth.ts';

const DATE = '2026-11-20';
const tmp = () => mkdtempSync(join(tmpdir(), 'kombo-wh-'));

let sandbox: RunningSandbox;
let db: Reader;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  db = await duck();
});
afterAll(async () => {
  db.close();
  await sandbox.close();
});

const ids = () => sandbox.dataset.integrations.map((i) => i.id);
const sync = (warehouse: string, extra: string[] = [], integrations = ids()) =>
  runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', integrations.join(','), '--warehouse', warehouse, '--snapshot-date', DATE, '--concurrency', '4', ...extra]);

/** Every row of a table for one integration, as DuckDB reads it, timestamps as epoch ms. */
async function warehouseRows(warehouse: string, table: string, integrationId: string): Promise<Record<string, unknown>[]> {
  const glob = `${warehouse}/${table}/**/*.parquet`;
  const files = existsSync(join(warehouse, table)) ? readdirSync(join(warehouse, table), { recursive: true }).filter((f) => String(f).endsWith('.parquet')) : [];
  if (files.length === 0) return [];
  const src = `read_parquet('${glob}', hive_partitioning = true)`;
  const cols = await db.all(`DESCRIBE SELECT * FROM ${src}`);
  const select = cols
    .map((c) => String(c['column_name']))
    .filter((c) => !['_run_id', '_synced_at', '_is_deleted', 'snapshot_date', 'integration_id'].includes(c))
    .map((c) => {
      const type = String(cols.find((x) => x['column_name'] === c)!['column_type']);
      return type.startsWith('TIMESTAMP') ? `epoch_ms("${c}")::DOUBLE AS "${c}"` : `"${c}"`;
    })
    .join(', ');
  return db.all(`SELECT ${select} FROM ${src} WHERE integration_id = '${integrationId}' AND snapshot_date = DATE '${DATE}'`);
}

function expectedRows(data: SandboxIntegrationData, table: string) {
  const spec = EXPECTED[table]!;
  return servedRecords(data, spec.model).flatMap((r) => spec.rows(r));
}

const normalise = (rows: Record<string, unknown>[], key: string[]) =>
  rows
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, JSON_COLUMNS.has(k) && typeof v === 'string' ? JSON.parse(v) : v])))
    .sort((a, b) => rowKey(a, key).localeCompare(rowKey(b, key)));

async function expectMatchesTruth(warehouse: string, data: SandboxIntegrationData) {
  for (const table of Object.keys(EXPECTED)) {
    const key = EXPECTED[table]!.key;
    const actual = normalise(await warehouseRows(warehouse, table, data.id), key);
    const expected = normalise(expectedRows(data, table), key);
    expect(actual.length, `${data.id} ${table} row count`).toBe(expected.length);
    expect(actual, `${data.id} ${table} values`).toEqual(expected);
  }
}

describe('kombo-etl sync with every fault switched on', () => {
  const warehouse = tmp();
  let result: CliResult;
  let revoked: string;
  let partial: string;

  beforeAll(async () => {
    const [big, mid, small] = ids();
    revoked = small!;
    partial = mid!;
    sandbox.setFaults({
      seed: 5,
      rate429: 0.1,
      retryAfterSeconds: 0,
      rate5xx: 0.08,
      rateReset: 0.07,
      latencyMs: 2,
      latencyJitterMs: 5,
      modelNotAvailable: [{ integrationId: partial, model: 'interviews' }],
      revokedIntegrations: [revoked],
    });
    expect(big).toBeDefined();
    // One stream at a time: the request order, and so which request meets which seeded fault, is
    // the same on every run.
    result = await sync(warehouse, ['--concurrency', '1']);
    sandbox.setFaults({});
  }, 240_000);

  it('exits 1 because one integration is revoked, and says which', () => {
    expect(result.code, result.stderr + result.stdout).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`${revoked}.*failed.*INTEGRATION\\.AUTHENTICATION_INVALID`));
    expect(result.stdout).toMatch(new RegExp(`${partial}\\s+interviews\\s+skipped`));
  });

  it('actually met faults on the way, and retried through them', () => {
    const faults = JSON.stringify(sandbox.stats.faults);
    expect(sandbox.stats.faults['429'], `${faults} of ${sandbox.stats.requests} requests`).toBeGreaterThan(0);
    expect(sandbox.stats.faults['5xx'], faults).toBeGreaterThan(0);
    expect(sandbox.stats.faults.reset, faults).toBeGreaterThan(0);
    // The report's retries column is the client's count: it must have seen them too.
    // After the status: the mode and updated after (when the stream fetched), then records, versions, deletions, rows, pages, requests, retries.
    const retries = [...result.stdout.matchAll(/\s(done|skipped|failed)\s+(?:(?:full|incremental)\s+)?(?:\d{4}-\d\d-\d\dT\S+Z\s+)?(?:\d+\s+){6}(\d+)/g)].reduce((n, m) => n + Number(m[2]), 0);
    expect(retries).toBeGreaterThan(0);
  });

  it('writes every other integration exactly as the source has it, field by field', async () => {
    for (const data of sandbox.dataset.integrations) {
      if (data.id === revoked) continue;
      if (data.id === partial) {
        await expectMatchesTruth(warehouse, { ...data, interviews: [] });
        continue;
      }
      await expectMatchesTruth(warehouse, data);
    }
  });

  it('leaves nothing of the revoked integration visible', async () => {
    for (const table of Object.keys(EXPECTED)) expect(await warehouseRows(warehouse, table, revoked)).toEqual([]);
    const path = join(warehouse, 'candidates', `snapshot_date=${DATE}`, `integration_id=${hiveEscape(revoked)}`);
    expect(existsSync(path)).toBe(false);
  });

  it('keeps unicode, nulls, empty strings, long text, JSON and deleted rows', async () => {
    const src = `read_parquet('${warehouse}/candidates/**/*.parquet', hive_partitioning = true)`;
    const [facts] = await db.all(`SELECT
        count(*) FILTER (WHERE regexp_matches(first_name || last_name, '[^\\x00-\\x7F]'))::INT AS unicode,
        count(*) FILTER (WHERE company IS NULL)::INT AS null_company,
        count(*) FILTER (WHERE company = '')::INT AS empty_company,
        max(length(coalesce(title, '')) + length(custom_fields))::INT AS longest,
        count(*) FILTER (WHERE remote_deleted_at IS NOT NULL)::INT AS deleted,
        count(*) FILTER (WHERE json_valid(custom_fields))::INT AS valid_json,
        count(*)::INT AS total
      FROM ${src}`);
    expect(facts!['unicode']).toBeGreaterThan(0);
    expect(facts!['null_company']).toBeGreaterThan(0);
    expect(facts!['empty_company']).toBeGreaterThan(0);
    expect(facts!['longest']).toBeGreaterThanOrEqual(10_000);
    expect(facts!['deleted']).toBeGreaterThan(0);
    expect(facts!['valid_json']).toBe(facts!['total']);
    const types = await db.all(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${src})`);
    const typeOf = Object.fromEntries(types.map((t) => [t['column_name'], t['column_type']]));
    expect(typeOf).toMatchObject({ remote_created_at: 'TIMESTAMP WITH TIME ZONE', remote_deleted_at: 'TIMESTAMP WITH TIME ZONE', confidential: 'BOOLEAN', _synced_at: 'TIMESTAMP WITH TIME ZONE' });
  });

  it('answers kombo-etl query from the same warehouse', async () => {
    const q = await runCli(['query', 'select count(*) as n from candidates where remote_deleted_at is not null', '--warehouse', warehouse, '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
    const truth = sandbox.dataset.integrations.filter((i) => i.id !== revoked).flatMap((i) => i.candidates).filter((c) => c['remote_deleted_at'] != null).length;
    expect(JSON.parse(q.stdout)).toEqual([{ n: truth }]);
  });
});

describe('kombo-etl sync behaviour', () => {
  it('re-running the same snapshot date leaves the same row counts and one run per partition', async () => {
    const warehouse = tmp();
    const first = await sync(warehouse);
    expect(first.code, first.stderr).toBe(0);
    const count = async () => (await db.all(`SELECT count(*)::INT AS n FROM read_parquet('${warehouse}/applications/**/*.parquet')`))[0]!['n'];
    const before = await count();
    const second = await sync(warehouse);
    expect(second.code, second.stderr).toBe(0);
    expect(await count()).toBe(before);
    expect(before).toBe(sandbox.dataset.integrations.reduce((n, i) => n + i.applications.length, 0));
    // The tables of the synced records: `integrations` keeps the version of the first check, which the second found unchanged.
    const runs = await db.all(`SELECT integration_id, count(DISTINCT _run_id)::INT AS runs FROM read_parquet('${warehouse}/*/**/*.parquet', hive_partitioning = true, union_by_name = true, filename = true) WHERE filename NOT LIKE '%/integrations/%' GROUP BY ALL`);
    for (const r of runs) expect(r['runs']).toBe(1);
  }, 120_000);

  it('skips a model that is not available and still exits 0', async () => {
    const warehouse = tmp();
    const [big] = ids();
    sandbox.setFaults({ modelNotAvailable: [{ integrationId: big!, model: 'applications' }] });
    const r = await sync(warehouse, ['--models', 'candidates,applications'], [big!]);
    sandbox.setFaults({});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/applications\s+skipped.*INTEGRATION\.MODEL_NOT_AVAILABLE/);
    expect(existsSync(join(warehouse, 'candidates'))).toBe(true);
    expect(existsSync(join(warehouse, 'applications'))).toBe(false);
  }, 120_000);

  it('stops at once with a clear message on a bad API key, writing nothing', async () => {
    const warehouse = tmp();
    const r = await runCli(['sync', '--api-url', sandbox.url, '--api-key', 'wrong-key-4242', '--integrations', ids().join(','), '--warehouse', warehouse]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PLATFORM\.AUTHENTICATION_INVALID/);
    expect(r.stderr).toMatch(/API key/);
    expect(r.stdout + r.stderr).not.toContain('wrong-key-4242');
    expect(readdirSync(warehouse)).toEqual([]);
  });

  it.each([
    [['--snapshot-date', '2026-02-30'], /--snapshot-date/],
    [['--integrations', '../../etc'], /invalid integration id/],
    [['--models', 'offer'], /unknown model "offer"/],
    [['--concurrency', 'many'], /--concurrency/],
  ])('rejects bad usage %j with exit 2 and writes nothing', async (args, message) => {
    const warehouse = join(tmp(), 'wh');
    const r = await runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', ids()[0]!, '--warehouse', warehouse, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(warehouse)).toBe(false);
  });

  it('never prints the API key', async () => {
    const warehouse = tmp();
    const r = await sync(warehouse, ['--models', 'candidates'], [ids()[2]!]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(sandbox.apiKey);
  });
});

describe('Kombo or the built-in sandbox: never one for the other', () => {
  const SOURCE_RECORD = '_source.json';
  const kombo = () => ['--api-url', sandbox.url, '--api-key', sandbox.apiKey];
  const small = () => ids()[2]!;
  const runsIn = (warehouse: string) => (existsSync(join(warehouse, '_runs')) ? readdirSync(join(warehouse, '_runs')) : []);

  it.each([
    ['--api-url and --integrations', (url: string) => ({ args: ['--api-url', url, '--integrations', 'greenhouse:AbC123'], env: {} }), /--api-url/],
    ['--integrations', () => ({ args: ['--integrations', 'greenhouse:AbC123'], env: {} }), /--integrations/],
    ['KOMBO_API_URL', (url: string) => ({ args: [], env: { KOMBO_API_URL: url } }), /KOMBO_API_URL/],
    ['KOMBO_INTEGRATION_IDS', () => ({ args: [], env: { KOMBO_INTEGRATION_IDS: 'greenhouse:AbC123' } }), /KOMBO_INTEGRATION_IDS/],
    ['an empty KOMBO_API_KEY', (url: string) => ({ args: [], env: { KOMBO_API_KEY: '', KOMBO_API_URL: url, KOMBO_INTEGRATION_IDS: 'greenhouse:AbC123' } }), /KOMBO_API_KEY is empty/],
  ])('sync with %s but no API key: exit 2, one line naming the key, nothing written, nothing fetched', async (_what, given, names) => {
    const warehouse = join(tmp(), 'wh');
    const { args, env } = given(sandbox.url);
    const before = sandbox.stats.requests;
    const r = await runCli(['sync', '--warehouse', warehouse, ...args], env);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/KOMBO_API_KEY/);
    expect(r.stderr).toMatch(/--api-key/);
    expect(r.stderr).toMatch(names);
    expect(r.stdout).not.toMatch(/sandbox at/);
    expect(existsSync(warehouse)).toBe(false);
    expect(sandbox.stats.requests).toBe(before);
  });

  it('retry with KOMBO_INTEGRATION_IDS or an empty KOMBO_API_KEY but no key: exit 2, nothing written', async () => {
    const warehouse = tmp();
    const first = await runCli(['sync', ...kombo(), '--integrations', small(), '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
    expect(first.code, first.stderr).toBe(0);
    const runId = runsIn(warehouse)[0]!;
    const files = () => readdirSync(warehouse, { recursive: true }).sort();
    const before = files();
    for (const env of [{ KOMBO_INTEGRATION_IDS: small() }, { KOMBO_API_KEY: '' }, { KOMBO_API_URL: sandbox.url }]) {
      const r = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse], env);
      expect(r.code, JSON.stringify(env) + r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/KOMBO_API_KEY/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(files()).toEqual(before);
  });

  it('syncs the built-in sandbox when nothing Kombo-related is set, or with --sandbox, and records it', async () => {
    const warehouse = tmp();
    const r = await runCli(['sync', '--sandbox', '--integrations', small(), '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/built-in Kombo sandbox/);
    expect(JSON.parse(readFileSync(join(warehouse, SOURCE_RECORD), 'utf8'))).toMatchObject({ source: 'sandbox' });
    const again = await runCli(['sync', '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
    expect(again.code, again.stderr).toBe(0);
    expect(runsIn(warehouse)).toHaveLength(2);
  }, 120_000);

  describe('a warehouse that holds Kombo data never receives sandbox rows', () => {
    const warehouse = tmp();
    let runs: string[];
    beforeAll(async () => {
      const r = await runCli(['sync', ...kombo(), '--integrations', small(), '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(warehouse, SOURCE_RECORD), 'utf8'))).toMatchObject({ source: 'kombo' });
      runs = runsIn(warehouse);
    });

    it.each([
      ['sync --sandbox', ['sync', '--sandbox']],
      ['sync with nothing Kombo-related set', ['sync']],
      ['sync --as-of', ['sync', '--as-of', '2025-06-01']],
      ['demo', ['demo']],
    ])('%s: exit 2, one line, nothing written', async (_what, args) => {
      const r = await runCli([...args, '--warehouse', warehouse]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/holds data from Kombo/);
      expect(runsIn(warehouse)).toEqual(runs);
    });

    it('retry --sandbox of its run: exit 2', async () => {
      const r = await runCli(['retry', '--sandbox', '--run-id', runs[0]!, '--warehouse', warehouse]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/holds data from Kombo/);
    });
  });

  it('nor does a sandbox warehouse receive Kombo rows', async () => {
    const warehouse = tmp();
    const first = await runCli(['sync', '--sandbox', '--integrations', small(), '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
    expect(first.code, first.stderr).toBe(0);
    const r = await runCli(['sync', ...kombo(), '--integrations', small(), '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', DATE]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/holds data from the built-in sandbox/);
    expect(runsIn(warehouse)).toHaveLength(1);
  }, 120_000);

  it('tells what an older warehouse, without the record, holds from the integrations its runs planned', async () => {
    // Integrations that are not the built-in sandbox's: real ones, as far as the warehouse can tell.
    const REAL = 'greenhouse:RealCompanyA000000000000';
    const real = await startSandbox({ port: 0, apiKey: 'real-key-0000', dataset: generateDataset({ seed: 3, integrations: [{ id: REAL, tool: 'greenhouse', candidates: 5 }] }) });
    try {
      const older = tmp();
      const r = await runCli(['sync', '--api-url', real.url, '--api-key', 'real-key-0000', '--integrations', REAL, '--models', 'candidates', '--warehouse', older, '--snapshot-date', DATE]);
      expect(r.code, r.stderr).toBe(0);
      rmSync(join(older, SOURCE_RECORD));
      const refused = await runCli(['sync', '--sandbox', '--warehouse', older]);
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/holds data from Kombo/);
    } finally {
      await real.close();
    }
    const sandboxOnly = tmp();
    const s = await runCli(['sync', '--sandbox', '--integrations', small(), '--models', 'candidates', '--warehouse', sandboxOnly, '--snapshot-date', DATE]);
    expect(s.code, s.stderr).toBe(0);
    rmSync(join(sandboxOnly, SOURCE_RECORD));
    const refused = await runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', 'greenhouse:AbC123', '--warehouse', sandboxOnly]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/holds data from the built-in sandbox/);
  }, 120_000);
});

describe('kombo-etl retry with a key', () => {
  it('retries only the failed streams of --integrations, then of KOMBO_INTEGRATION_IDS', async () => {
    const warehouse = tmp();
    const [, , workable, teamtailor] = ids();
    sandbox.setFaults({ revokedIntegrations: [workable!, teamtailor!] });
    const first = await sync(warehouse, ['--models', 'candidates,applications'], [workable!, teamtailor!]);
    sandbox.setFaults({});
    expect(first.code, first.stderr).toBe(1);
    const runId = readdirSync(join(warehouse, '_runs'))[0]!;

    const one = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', workable!]);
    expect(one.code, one.stderr + one.stdout).toBe(1);
    expect(one.stdout).toContain(`retried ${workable} candidates`);
    expect(one.stdout).toContain(`retried ${workable} applications`);
    expect(one.stdout).not.toContain(`retried ${teamtailor}`);

    const other = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse], { KOMBO_API_URL: sandbox.url, KOMBO_API_KEY: sandbox.apiKey, KOMBO_INTEGRATION_IDS: teamtailor! });
    expect(other.code, other.stderr + other.stdout).toBe(0);
    expect(other.stdout).toContain(`retried ${teamtailor} candidates`);
    expect(other.stdout).not.toContain(`retried ${workable}`);
    expect(existsSync(join(warehouse, '_runs', runId, '_SUCCESS.json'))).toBe(true);
  }, 120_000);

  it('rejects an integration the run does not hold: exit 2', async () => {
    const warehouse = tmp();
    const first = await sync(warehouse, ['--models', 'candidates'], [ids()[3]!]);
    expect(first.code, first.stderr).toBe(0);
    const runId = readdirSync(join(warehouse, '_runs'))[0]!;
    const r = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', 'lever:NotInThisRun']);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toMatch(/lever:NotInThisRun/);
  });
});

describe('the snapshot date and --version', () => {
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

  it.each([['2099-01-01'], [tomorrow]])('rejects --snapshot-date %s, after today (UTC): exit 2, nothing written', async (date) => {
    const warehouse = join(tmp(), 'wh');
    const r = await runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', ids()[3]!, '--warehouse', warehouse, '--snapshot-date', date]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/after today/);
    expect(r.stderr).toMatch(/--allow-future-date/);
    expect(existsSync(warehouse)).toBe(false);
  });

  it('takes a future date with --allow-future-date', async () => {
    const warehouse = tmp();
    const r = await runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', ids()[2]!, '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', '2099-01-01', '--allow-future-date']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(warehouse, 'candidates', 'snapshot_date=2099-01-01'))).toBe(true);
  });

  it('kombo-etl --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
