/**
 * Security: the API key never shows in CLI output, run state, reports or errors; path segments are
 * validated; `piiMode` stores what it promises (read back with DuckDB). Also `kombo-etl retry`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { parseStreamMessage } from '../../shared/adapters/aws/sqs-queue.ts';
import { parsePiiOptions } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { dataFileKey, partitionPrefix, runKeys } from '../../shared/warehouse/layout.ts';
import { runCli } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { localAdapters, runCase } from './harness.ts';

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
    expect(report.streams.filter((s) => s.status === 'failed').map((s) => s.integrationId)).toEqual([B, B, B]);

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
  const SALT = 'salt-from-the-secret-0123456789';
  beforeAll(async () => {
    db = await duck();
    sandbox = await startSandbox({ port: 0, dataset: generateDataset({ seed: 41, integrations: [{ id: A, tool: 'greenhouse', candidates: 12 }] }) });
  });
  afterAll(async () => {
    db?.close();
    await sandbox?.close();
  });

  const sha = (v: string) => createHash('sha256').update(SALT).update('\0').update(v).digest('hex');

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
      expect(row['company']).toBe(src['company'] ?? null);
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
