/**
 * The fault matrix: every sandbox fault at several frequencies, and a crash at every step boundary
 * of a chunk (the message then redelivered as SQS would), run with the local adapters and again
 * with the AWS adapters (S3 + SQS FIFO on fauxqs, Glue mocked at the SDK level). After every case
 * DuckDB compares what is visible with the sandbox's ground truth: 0 rows lost, 0 doubled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxFaults } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import type { Adapters, Emulator } from './harness.ts';
import { Tally, awsAdapters, compareWithTruth, localAdapters, runCase, sandboxFaultCount, startEmulator } from './harness.ts';
import { FAULT_POINTS } from '../../shared/pipeline/faults.ts';
import type { FaultPoint } from '../../shared/pipeline/faults.ts';

const DATE = '2026-11-20';
const A = 'greenhouse:RelMatrixA00000000000000';
const B = 'lever:RelMatrixB00000000000000';
const dataset = () =>
  generateDataset({
    seed: 11,
    integrations: [
      { id: A, tool: 'greenhouse', candidates: 45 },
      { id: B, tool: 'lever', candidates: 22 },
    ],
  });

/** Each sandbox fault, at a low and a high frequency. `retryAfterSeconds: 0` keeps it fast. */
const SANDBOX_FAULTS: readonly [string, SandboxFaults][] = [
  ...[0.1, 0.3].map((r): [string, SandboxFaults] => [`429 with Retry-After: 0 at ${r}`, { rate429: r, retryAfterSeconds: 0 }]),
  ...[0.1, 0.3].map((r): [string, SandboxFaults] => [`429 without Retry-After at ${r}`, { rate429: r, retryAfterForm: 'none' }]),
  ...[0.1, 0.3].map((r): [string, SandboxFaults] => [`429 with an HTTP-date Retry-After at ${r}`, { rate429: r, retryAfterSeconds: 0, retryAfterForm: 'http-date' }]),
  ...[0.1, 0.3].map((r): [string, SandboxFaults] => [`5xx bursts at ${r}`, { rate5xx: r }]),
  ...[0.1, 0.3].map((r): [string, SandboxFaults] => [`connection reset mid-body at ${r}`, { rateReset: r }]),
  ...[0.05, 0.15].map((r): [string, SandboxFaults] => [`answers slower than the client timeout at ${r}`, { rateSlow: r, slowMs: 600 }]),
  ...[0.05, 0.15].map((r): [string, SandboxFaults] => [`cursor rejected as invalid at ${r}`, { rateInvalidCursor: r }]),
  ...[0.2, 0.6].map((r): [string, SandboxFaults] => [`a page repeats an earlier record at ${r}`, { rateRepeatRecord: r }]),
  [
    'everything at once at 0.05',
    { rate429: 0.05, retryAfterSeconds: 0, rate5xx: 0.05, rateReset: 0.05, rateSlow: 0.05, slowMs: 600, rateInvalidCursor: 0.05, rateRepeatRecord: 0.05 },
  ],
];

/**
 * The models the sandbox faults run against: those whose streams here run to many pages of 10, so
 * that a fault drawn per request lands on cursor pages and on pages after the first at the low
 * rates too. The other models' streams are a page or two and take the same client and chunk code.
 */
const PAGED_MODELS = ['candidates', 'applications', 'interviews'] as const;

/** Crashes at each boundary, once per chunk that reaches it; and all of them at once. */
const CRASHES: readonly [string, readonly FaultPoint[]][] = [...FAULT_POINTS.map((p): [string, FaultPoint[]] => [p, [p]]), ['every boundary', [...FAULT_POINTS]]];

let emulator: Emulator;
let db: Reader;
const tally = new Tally();

beforeAll(async () => {
  emulator = await startEmulator();
  db = await duck();
});
afterAll(async () => {
  console.log(tally.line('fault matrix (local + AWS adapters)'));
  db?.close();
  await emulator?.close();
});

describe.each(['local', 'aws'] as const)('fault matrix on the %s adapters', (kind) => {
  let n = 0;
  const adapters = async (): Promise<Adapters> => (kind === 'local' ? localAdapters() : awsAdapters(emulator));
  const runId = () => `rel-${kind}-${++n}`;

  async function expectExact(sandbox: RunningSandbox, a: Adapters, id: string, report: Awaited<ReturnType<typeof runCase>>['report'], faults: number) {
    const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: id, snapshotDate: DATE });
    tally.add(cmp, faults);
    expect(cmp.problems).toEqual([]);
    expect({ lost: cmp.lost, duplicated: cmp.duplicated, mismatched: cmp.mismatched }).toEqual({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(cmp.rowsCompared).toBeGreaterThan(200);
  }

  it.each(SANDBOX_FAULTS)('sandbox fault: %s', async (name, faults) => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { seed: 5, ...faults } });
    try {
      const a = await adapters();
      const id = runId();
      const { report, results } = await runCase({
        sandbox,
        adapters: a,
        runId: id,
        snapshotDate: DATE,
        integrationIds: [A, B],
        models: PAGED_MODELS,
        retry: { timeoutMs: 300 },
        limits: { maxCursorRestarts: 10 },
      });
      const injected = sandboxFaultCount(sandbox);
      expect(injected, name).toBeGreaterThan(0);
      expect(report.status, JSON.stringify(report.streams.filter((s) => s.status !== 'done'))).toBe('succeeded');
      // Alone, a fault reaches the client every time it is injected. Beside slow answers it may be
      // drawn on an answer the client has already given up on, so there only exactness is checked.
      const alone = (rate: keyof SandboxFaults) => Object.keys(faults).filter((k) => k.startsWith('rate')).join() === rate;
      if (alone('rateInvalidCursor')) expect(results.some((r) => r.outcome === 'restarted')).toBe(true);
      if (alone('rateRepeatRecord')) expect(report.streams.reduce((t, s) => t + (s.totals.duplicates ?? 0), 0)).toBeGreaterThan(0);
      await expectExact(sandbox, a, id, report, injected);
    } finally {
      await sandbox.close();
    }
  });

  it.each(CRASHES)('crash at %s of every chunk, then redelivery', async (_name, points) => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset() });
    try {
      const a = await adapters();
      const id = runId();
      const crashed = new Set<string>();
      const { report, crashes } = await runCase({
        sandbox,
        adapters: a,
        runId: id,
        snapshotDate: DATE,
        integrationIds: [A, B],
        crash: (point, msg) => {
          if (!points.includes(point)) return false;
          const k = `${msg.integrationId}/${msg.model}/${msg.chunk}/${point}`;
          if (crashed.has(k)) return false;
          crashed.add(k);
          return true;
        },
      });
      expect(crashes).toBeGreaterThanOrEqual(3);
      expect(report.status).toBe('succeeded');
      expect(await a.store.list(`_runs/${id}/_SUCCESS.json`)).toHaveLength(1);
      await expectExact(sandbox, a, id, report, crashes);
    } finally {
      await sandbox.close();
    }
  });
});

describe('redelivery after the deduplication window (local, no FIFO deduplication)', () => {
  it('duplicate continuations and crashes everywhere still add no rows', async () => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { seed: 9, rateRepeatRecord: 0.3, rate5xx: 0.1 } });
    try {
      const a = localAdapters(undefined, false);
      const crashed = new Set<string>();
      const { report, crashes } = await runCase({
        sandbox,
        adapters: a,
        runId: 'rel-nodedupe',
        snapshotDate: DATE,
        integrationIds: [A, B],
        crash: (point, msg) => {
          const k = `${msg.integrationId}/${msg.model}/${msg.chunk}/${point}`;
          if (crashed.has(k)) return false;
          crashed.add(k);
          return true;
        },
      });
      expect(report.status).toBe('succeeded');
      const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: 'rel-nodedupe', snapshotDate: DATE });
      tally.add(cmp, crashes + sandboxFaultCount(sandbox));
      expect(cmp.problems).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});

describe('concurrent finishes', () => {
  it.each(['local'] as const)('two streams finishing at the same moment write exactly one run success marker (%s, 10 rounds)', async () => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset() });
    try {
      for (let round = 0; round < 10; round++) {
        const a = localAdapters();
        const id = `rel-race-${round}`;
        // Both streams wait for each other after writing their marker: both then see every marker
        // and race for the completion marker.
        let waiting: (() => void) | undefined;
        let arrived = 0;
        const barrier = new Promise<void>((r) => (waiting = r));
        const { report } = await runCase({
          sandbox,
          adapters: a,
          runId: id,
          snapshotDate: DATE,
          integrationIds: [A, B],
          models: ['applications'],
          limits: { maxRows: 10_000, pageSize: 250 },
          faultPoint: async (point) => {
            if (point !== 'after-stream-marker') return;
            if (++arrived === 2) waiting!();
            await barrier;
          },
        });
        expect(arrived).toBe(2);
        expect(report.status).toBe('succeeded');
        expect(await a.store.list(`_runs/${id}/_`)).toEqual([`_runs/${id}/_SUCCESS.json`]);
        const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: id, snapshotDate: DATE });
        tally.add(cmp, 1);
        expect(cmp.problems).toEqual([]);
      }
    } finally {
      await sandbox.close();
    }
  });
});
