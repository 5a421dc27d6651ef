/**
 * Bad data and limits: a bad page fails its stream with a located error while the other streams
 * complete and earlier snapshots stay visible; odd but valid records are stored as they come;
 * retry budgets per request and per stream end a stream with its Kombo code; a retry re-runs only
 * the failed streams into the same run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageBadDataKind, RecordOddity } from '../../sandbox/index.ts';
import { HUGE_STRING_BYTES, MANY_CUSTOM_FIELDS, RECORD_ODDITIES, UNKNOWN_OUTCOME, UNKNOWN_QUESTION_TYPE, generateDataset, startSandbox } from '../../sandbox/index.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { MODELS } from '../../shared/tables.ts';
import { Tally, compareWithTruth, localAdapters, retryCase, runCase, sandboxFaultCount } from './harness.ts';

const DATE = '2026-11-21';
const A = 'greenhouse:RelBadDataA0000000000000';
const B = 'lever:RelBadDataB0000000000000';
const dataset = () => generateDataset({ seed: 21, integrations: [{ id: A, tool: 'greenhouse', candidates: 30 }, { id: B, tool: 'lever', candidates: 15 }] });

let db: Reader;
const tally = new Tally();
beforeAll(async () => {
  db = await duck();
});
afterAll(() => {
  console.log(tally.line('bad data and limits (local adapters)'));
  db?.close();
});

const PAGE_CASES: readonly [PageBadDataKind, RegExp, string, boolean][] = [
  ['malformed-json', /not JSON/, 'DATA.MALFORMED_JSON', false],
  ['not-envelope', /not a Kombo page/, 'DATA.INVALID_ENVELOPE', false],
  ['empty-body', /empty body/, 'DATA.MALFORMED_JSON', false],
  ['missing-id', /invalid candidates record at index 1.*id/, 'DATA.INVALID_RECORD', false],
  ['wrong-type', /remote_id/, 'DATA.INVALID_RECORD', true],
  ['bad-timestamp', /remote_created_at/, 'DATA.INVALID_RECORD', true],
];

/** Per oddity: the table holding it, how to spot it in the served data, and in the Parquet rows. */
const ODD_CHECKS: Record<RecordOddity, ['candidates' | 'applications', (r: Record<string, unknown>) => boolean, string]> = {
  'unknown-enum': ['applications', (r) => r.outcome === UNKNOWN_OUTCOME, `outcome = '${UNKNOWN_OUTCOME}'`],
  'unknown-question-type': ['applications', (r) => JSON.stringify(r.screening_question_answers).includes(`"type":"${UNKNOWN_QUESTION_TYPE}"`), `screening_question_answers LIKE '%"type":"${UNKNOWN_QUESTION_TYPE}"%'`],
  'huge-string': ['candidates', (r) => String(r.remote_id).length > HUGE_STRING_BYTES, `length(remote_id) > ${HUGE_STRING_BYTES}`],
  'many-custom-fields': ['candidates', (r) => Object.keys((r.custom_fields as object | null) ?? {}).length === MANY_CUSTOM_FIELDS, `length(json_keys(custom_fields)) = ${MANY_CUSTOM_FIELDS}`],
};

describe('bad data', () => {
  it.each(PAGE_CASES)('%s: the stream fails with a located error; the rest completes; the earlier snapshot stays', async (kind, message, code, hasRecordId) => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset() });
    try {
      const a = localAdapters();
      // A clean run of the same day first: its rows must survive the failed re-run.
      const first = await runCase({ sandbox, adapters: a, runId: `bad-${kind}-1`, snapshotDate: DATE, integrationIds: [A, B] });
      expect(first.report.status).toBe('succeeded');
      sandbox.setFaults({ badData: [{ integrationId: A, model: 'candidates', kind, page: 1 }] });
      // In full, so that the stream reaches the page served bad: an incremental sync of the same day would find nothing changed.
      const { report } = await runCase({ sandbox, adapters: a, runId: `bad-${kind}-2`, snapshotDate: DATE, integrationIds: [A, B], full: true });
      expect(report.status).toBe('failed');
      const failed = report.streams.filter((s) => s.status === 'failed');
      expect(failed.map((s) => `${s.integrationId}/${s.model}`)).toEqual([`${A}/candidates`]);
      const f = failed[0]!;
      expect(f.code).toBe(code);
      expect(f.reason).toMatch(message);
      expect(f.reason).toContain(`integration ${A}`);
      expect(f.reason).toContain('model candidates');
      if (hasRecordId) {
        expect(f.location?.recordId).toMatch(/\w+/);
        expect(f.reason).toContain(`record ${f.location!.recordId!}`);
      }
      const cmp = await compareWithTruth(db, a, sandbox.dataset, report, {
        runId: `bad-${kind}-2`,
        snapshotDate: DATE,
        previouslyVisible: new Map([[`${A}/candidates`, `bad-${kind}-1`]]),
      });
      tally.add(cmp, sandboxFaultCount(sandbox));
      expect(cmp.problems).toEqual([]);
      expect(cmp.hiddenStreams).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it.each(RECORD_ODDITIES as RecordOddity[])('%s: stored as it comes, the run succeeds', async (oddity) => {
    // The sandbox switch writes the odd records into the data it serves, which stays the ground truth.
    const sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { oddRecords: [oddity] } });
    try {
      const a = localAdapters();
      const { report } = await runCase({ sandbox, adapters: a, runId: `odd-${oddity}`, snapshotDate: DATE, integrationIds: [A, B] });
      expect(report.status).toBe('succeeded');
      const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: `odd-${oddity}`, snapshotDate: DATE });
      tally.add(cmp, 2);
      expect(cmp.problems).toEqual([]);
      // The odd values themselves reach the warehouse, as many as the switch put into integration A.
      const [table, isOdd, where] = ODD_CHECKS[oddity];
      const odd = sandbox.dataset.integrations[0]![table].filter(isOdd);
      expect(odd.length).toBeGreaterThan(0);
      const rows = await db.all(`SELECT id FROM read_parquet('${a.store.locate(`${table}/snapshot_date=${DATE}/integration_id=greenhouse%3ARelBadDataA0000000000000`)}/*/*.parquet') WHERE ${where}`);
      expect(rows).toHaveLength(odd.length);
    } finally {
      await sandbox.close();
    }
  });
});

describe('limits and retry', () => {
  it('per-stream budget: a 5xx storm on one integration fails its streams with the Kombo code; retry re-runs only them into the same run', async () => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset() });
    try {
      const a = localAdapters();
      const runId = 'limit-stream';
      const { report } = await runCase({
        sandbox,
        adapters: a,
        runId,
        snapshotDate: DATE,
        integrationIds: [A, B],
        limits: { maxStreamRetries: 3 },
        afterPlan: () => sandbox.setFaults({ seed: 4, rate5xx: 0.7, onlyIntegrations: [A] }),
      });
      expect(report.status).toBe('failed');
      const failed = report.streams.filter((s) => s.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        expect(f.integrationId).toBe(A);
        expect(f.code).toMatch(/^(PLATFORM\.UNKNOWN_ERROR|REMOTE\.SERVICE_UNAVAILABLE|HTTP\.50[23])$/);
        expect(f.reason).toMatch(/retry budget/);
      }
      const bBefore = report.streams.filter((s) => s.integrationId === B).map((s) => s.finishedAt);
      const injected = sandboxFaultCount(sandbox);
      let cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId, snapshotDate: DATE });
      expect(cmp.problems).toEqual([]);

      sandbox.setFaults({});
      const retried = await retryCase({ sandbox, adapters: a, runId, snapshotDate: DATE, integrationIds: [A, B] });
      expect(retried.report.status).toBe('succeeded');
      expect(retried.report.streams.filter((s) => s.integrationId === B).map((s) => s.finishedAt)).toEqual(bBefore);
      expect(await a.store.list(`_runs/${runId}/_`)).toEqual([`_runs/${runId}/_SUCCESS.json`]);
      cmp = await compareWithTruth(db, a, sandbox.dataset, retried.report, { runId, snapshotDate: DATE });
      tally.add(cmp, injected);
      expect(cmp.problems).toEqual([]);
      expect(cmp.lost + cmp.duplicated).toBe(0);
    } finally {
      await sandbox.close();
    }
  });

  it('per-request budget: endless 429s end after maxAttempts with PLATFORM.RATE_LIMIT_EXCEEDED, the other integration completes', async () => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset() });
    try {
      const a = localAdapters();
      const { report } = await runCase({
        sandbox,
        adapters: a,
        runId: 'limit-request',
        snapshotDate: DATE,
        integrationIds: [A, B],
        retry: { maxAttempts: 3 },
        afterPlan: () => sandbox.setFaults({ rate429: 1, retryAfterSeconds: 0, onlyIntegrations: [A] }),
      });
      const failed = report.streams.filter((s) => s.status === 'failed');
      // Every stream of A, one per model.
      expect(failed.map((s) => s.integrationId)).toEqual(MODELS.map(() => A));
      for (const f of failed) {
        expect(f.code).toBe('PLATFORM.RATE_LIMIT_EXCEEDED');
        expect(f.reason).toMatch(/gave up after 3 attempts/);
      }
      const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: 'limit-request', snapshotDate: DATE });
      tally.add(cmp, sandboxFaultCount(sandbox));
      expect(cmp.problems).toEqual([]);
      expect(cmp.hiddenStreams).toBe(MODELS.length);
    } finally {
      await sandbox.close();
    }
  });

  it('a cursor rejected more often than the restart budget fails the stream with PLATFORM.INPUT_INVALID', async () => {
    const sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { rateInvalidCursor: 1, onlyIntegrations: [A] } });
    try {
      const a = localAdapters();
      const { report } = await runCase({ sandbox, adapters: a, runId: 'limit-cursor', snapshotDate: DATE, integrationIds: [A, B], limits: { maxCursorRestarts: 2 } });
      const failed = report.streams.filter((s) => s.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) {
        expect(f.code).toBe('PLATFORM.INPUT_INVALID');
        expect(f.reason).toMatch(/rejected the stream's cursor 3 times/);
      }
      const cmp = await compareWithTruth(db, a, sandbox.dataset, report, { runId: 'limit-cursor', snapshotDate: DATE });
      tally.add(cmp, sandboxFaultCount(sandbox));
      expect(cmp.problems).toEqual([]);
      // Nothing of the abandoned chains is left in the run folder.
      expect(await a.store.list(`candidates/snapshot_date=${DATE}/integration_id=greenhouse%3ARelBadDataA0000000000000/`)).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});
