/**
 * Ctrl-C (SIGINT) and SIGTERM during `kombo-etl sync`: a real child process syncing a slow sandbox
 * over real HTTP is signalled mid-run; it must mark the run interrupted, say how to resume and exit
 * 130, and `kombo-etl retry` must then complete the warehouse, as DuckDB counts it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { DEFAULT_SANDBOX_INTEGRATIONS, startSandbox } from '../../sandbox/index.ts';
import { TABLES } from '../../shared/tables.ts';
import { hiveEscape } from '../../shared/warehouse/layout.ts';
import type { CliResult } from '../helpers/cli.ts';
import { runCli } from '../helpers/cli.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { tempDirs } from '../helpers/temp.ts';
import { EXPECTED, servedRecords } from '../helpers/truth.ts';

const BIN = resolve(import.meta.dirname, '../../bin/kombo-etl.js');
const DATE = '2026-11-21';
const tmp = tempDirs('kombo-int-');

let sandbox: RunningSandbox;
let db: Reader;

beforeAll(async () => {
  // Slow enough that the run is far from over when its first stream ends.
  sandbox = await startSandbox({ port: 0, faults: { latencyMs: 200 } });
  db = await duck();
});
afterAll(async () => {
  db.close();
  await sandbox.close();
});

const kombo = () => ['--api-url', sandbox.url, '--api-key', sandbox.apiKey];

/**
 * Start `kombo-etl sync`, send `signals` once its first stream has ended (the plain log says
 * `…: done`), and resolve to what it printed and how it exited.
 */
function syncAndSignal(warehouse: string, signals: readonly NodeJS.Signals[]): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  const ids = sandbox.dataset.integrations.map((i) => i.id).join(',');
  const child = spawn(process.execPath, [BIN, 'sync', ...kombo(), '--integrations', ids, '--warehouse', warehouse, '--snapshot-date', DATE, '--concurrency', '2'], {
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
  });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (!sent && /chunk \d+: done/.test(stderr)) {
      sent = true;
      for (const s of signals) child.kill(s);
    }
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code: code ?? -1, signal, stdout, stderr })));
}

/** Rows per table in every Parquet file of the warehouse, and what the sandbox holds. */
async function counts(warehouse: string): Promise<{ actual: Record<string, number>; expected: Record<string, number> }> {
  const actual: Record<string, number> = {};
  const expected: Record<string, number> = {};
  // The tables of the sandbox's records: `integrations` records the integration checks.
  for (const t of TABLES.filter((x) => x.model !== 'integrations')) {
    const spec = EXPECTED[t.name]!;
    expected[t.name] = sandbox.dataset.integrations.flatMap((i) => servedRecords(i, spec.model).flatMap((r) => spec.rows(r))).length;
    const files = existsSync(join(warehouse, t.name)) ? readdirSync(join(warehouse, t.name), { recursive: true }).filter((f) => String(f).endsWith('.parquet')) : [];
    actual[t.name] = files.length === 0 ? 0 : Number((await db.all(`SELECT count(*)::INT AS n FROM read_parquet('${warehouse}/${t.name}/**/*.parquet')`))[0]!['n']);
  }
  return { actual, expected };
}

describe.each([
  ['SIGINT', ['SIGINT']],
  ['SIGTERM', ['SIGTERM']],
] as const)('kombo-etl sync stopped by %s', (_name, signals) => {
  const warehouse = tmp();
  let stopped: CliResult & { signal: NodeJS.Signals | null };
  let runId: string;

  beforeAll(async () => {
    stopped = await syncAndSignal(warehouse, signals);
    runId = readdirSync(join(warehouse, '_runs'))[0]!;
  }, 120_000);

  it('exits 130, marks the run interrupted and says how to resume it', () => {
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`kombo-etl retry --run-id ${runId}`);
    expect(existsSync(join(warehouse, '_runs', runId, '_INTERRUPTED.json'))).toBe(true);
    // It really stopped mid-run: some streams never ended.
    const ended = readdirSync(join(warehouse, '_runs', runId, 'streams'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.length).toBeLessThan(sandbox.dataset.integrations.length * 3);
  });

  it('is resumed by kombo-etl retry into a complete warehouse', async () => {
    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, ...kombo()]);
    expect(retry.code, retry.stderr + retry.stdout).toBe(0);
    expect(retry.stdout).toMatch(/^resumed \S+ (candidates|applications|interviews) \(interrupted\)$/m);
    const { actual, expected } = await counts(warehouse);
    expect(actual).toEqual(expected);
    expect(existsSync(join(warehouse, '_runs', runId, '_SUCCESS.json'))).toBe(true);
    expect(existsSync(join(warehouse, '_runs', runId, '_INTERRUPTED.json'))).toBe(false);
  }, 120_000);
});

describe('a second SIGINT', () => {
  it('exits at once, while the first still waits for the plan', async () => {
    // Planning asks Kombo about every integration: 3 s here, during which the first SIGINT waits.
    const slow = await startSandbox({ port: 0, faults: { latencyMs: 3_000 } });
    const warehouse = tmp();
    try {
      const child = spawn(process.execPath, [BIN, 'sync', '--api-url', slow.url, '--api-key', slow.apiKey, '--integrations', slow.dataset.integrations[0]!.id, '--warehouse', warehouse, '--snapshot-date', DATE], {
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/stopping/.test(stderr)) child.kill('SIGINT');
      });
      const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
      // Signalled once its planning request is on the way.
      while (slow.stats.requests === 0) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toMatch(/stopped at once/);
      // It did not wait for the plan: the run was never written.
      expect(existsSync(join(warehouse, '_runs'))).toBe(false);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

describe('kombo-etl sync killed outright (SIGKILL: no chance to say anything)', () => {
  const warehouse = tmp();
  let runId: string;

  beforeAll(async () => {
    const killed = await syncAndSignal(warehouse, ['SIGKILL']);
    expect(killed.signal).toBe('SIGKILL');
    runId = readdirSync(join(warehouse, '_runs'))[0]!;
  }, 120_000);

  it('is resumed by kombo-etl retry, since the process that ran it is gone', async () => {
    expect(existsSync(join(warehouse, '_runs', runId, '_INTERRUPTED.json'))).toBe(false);
    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse, ...kombo()]);
    expect(retry.code, retry.stderr + retry.stdout).toBe(0);
    expect(retry.stdout).toMatch(/^resumed \S+ (candidates|applications|interviews) \(interrupted\)$/m);
    const { actual, expected } = await counts(warehouse);
    expect(actual).toEqual(expected);
  }, 120_000);
});

describe('retry of an interrupted kombo-etl sync --as-of', () => {
  it('serves the resumed streams the same simulated day', async () => {
    const warehouse = tmp();
    const small = DEFAULT_SANDBOX_INTEGRATIONS[2]!.id;
    const day = '2025-06-01';
    const first = await runCli(['sync', '--as-of', day, '--integrations', small, '--models', 'candidates', '--warehouse', warehouse]);
    expect(first.code, first.stderr).toBe(0);
    const candidates = async () => Number((await db.all(`SELECT count(*)::INT AS n FROM read_parquet('${warehouse}/candidates/**/*.parquet')`))[0]!['n']);
    const onThatDay = await candidates();
    // The run as a Ctrl-C in its last moments leaves it: the stream never ended, the run is not complete.
    const runId = readdirSync(join(warehouse, '_runs'))[0]!;
    const run = join(warehouse, '_runs', runId);
    rmSync(join(run, 'streams', hiveEscape(small), 'candidates.json'));
    rmSync(join(run, '_SUCCESS.json'));
    rmSync(join(run, 'report.json'));
    writeFileSync(join(run, '_INTERRUPTED.json'), JSON.stringify({ runId, interruptedAt: new Date().toISOString(), signal: 'SIGINT' }));

    const retry = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse]);
    expect(retry.code, retry.stderr + retry.stdout).toBe(0);
    expect(retry.stdout).toContain(`resumed ${small} candidates`);
    expect(retry.stdout).toContain(`simulated date ${day}`);
    expect(await candidates()).toBe(onThatDay);
  }, 120_000);
});
