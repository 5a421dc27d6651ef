import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { WAIT_LOG_INTERVAL_MS, createProgress, formatJsonRows, formatReport, formatReportJson, formatTable, streamReportRows } from '../../cli/output.ts';
import type { RetryEvent } from '../../shared/kombo/client.ts';
import type { RunPlan, RunReport } from '../../shared/state/runs.ts';

/** A stderr stand-in that keeps what is written; a terminal when `tty`. */
function sink(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: tty, columns: 160 });
  return { stream, text: () => chunks.join('') };
}

const refused = (over: Partial<RetryEvent> = {}): RetryEvent => ({
  integrationId: 'lever:X1',
  model: 'candidates',
  attempt: 1,
  maxAttempts: 8,
  delayMs: 250,
  code: 'NETWORK.ERROR',
  message: 'network error: fetch failed: connect ECONNREFUSED 127.0.0.1:9',
  pausesAll: false,
  ...over,
});

const plan: RunPlan = {
  runId: 'r1',
  snapshotDate: '2026-11-20',
  createdAt: '2026-11-20T00:00:00.000Z',
  streams: [{ integrationId: 'lever:X1', model: 'candidates', status: 'pending' }],
};

describe('formatTable', () => {
  it('aligns columns by display width after CJK, emoji and accents', () => {
    // Prepare
    const rows = [
      ['日本語の求人', 'Tokyo', 1],
      ['🚀 Growth Hacker', 'Berlin', 22],
      ['Café', '서울', 333],
      ['plain', 'x', 4444],
    ] as const;
    // Act
    const lines = formatTable(['title', 'city', 'n'], rows).split('\n').slice(2);
    // Assess: on every line the city starts, and the right-aligned number ends, at the same terminal column
    const column = (line: string, text: string) => stringWidth(line.slice(0, line.indexOf(text)));
    expect(new Set(lines.map((line, i) => column(line, rows[i]![1])))).toEqual(new Set([stringWidth('🚀 Growth Hacker') + 2]));
    expect(new Set(lines.map((line) => stringWidth(line)))).toEqual(new Set([stringWidth('🚀 Growth Hacker') + 2 + stringWidth('Berlin') + 2 + 4]));
  });
});

describe('formatJsonRows', () => {
  it('prints DuckDB counts as numbers and timestamps as ISO 8601', async () => {
    // Prepare
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, sum(x)::BIGINT AS total, avg(x) AS mean, 1.50::DECIMAL(10, 2) AS price,
              TIMESTAMPTZ '2025-04-02 16:42:39.9+00' AS synced_at, TIMESTAMP '2025-04-02 16:42:39.123456' AS local_ts,
              DATE '2025-04-02' AS day, [1::BIGINT, 2] AS ids, {'at': TIMESTAMPTZ '2025-01-01 00:00:00+00', 'n': 3::HUGEINT} AS nested,
              170141183460469231731687303715884105727::HUGEINT AS too_big, NULL::BIGINT AS missing
       FROM range(3) t(x)`,
    );
    // Act
    const parsed = JSON.parse(formatJsonRows(reader.columnNames(), reader.getRows())) as unknown;
    connection.closeSync();
    instance.closeSync();
    // Assess
    expect(parsed).toEqual([
      {
        n: 3,
        total: 3,
        mean: 1,
        price: 1.5,
        synced_at: '2025-04-02T16:42:39.900Z',
        local_ts: '2025-04-02T16:42:39.123456',
        day: '2025-04-02',
        ids: [1, 2],
        nested: { at: '2025-01-01T00:00:00.000Z', n: 3 },
        too_big: '170141183460469231731687303715884105727',
        missing: null,
      },
    ]);
  });
});

describe('createProgress: waiting is never silent', () => {
  it('logs each backoff as a timestamped line when stderr is not a terminal', () => {
    // Prepare
    const out = sink(false);
    let t = Date.parse('2026-11-20T10:00:00.000Z');
    const progress = createProgress(out.stream, () => t);
    // Act: a refused connection on the integration check, then on a stream
    progress.retry(refused({ model: undefined }));
    progress.plan(plan);
    t += 1000;
    progress.retry(refused({ attempt: 3, delayMs: 12_400 }));
    progress.hold({ reason: 'window-spent', ms: 31_000 });
    progress.hold({ reason: 'throttled', ms: 31_000 });
    // Assess
    expect(out.text().split('\n').filter((l) => l !== '')).toEqual([
      '2026-11-20T10:00:00.000Z lever:X1 (integration check): network error: fetch failed: connect ECONNREFUSED 127.0.0.1:9; attempt 1 of 8 failed, next in 0.3 s',
      '2026-11-20T10:00:00.000Z run r1: 1 stream to fetch, snapshot 2026-11-20',
      '2026-11-20T10:00:01.000Z lever:X1 candidates: network error: fetch failed: connect ECONNREFUSED 127.0.0.1:9; attempt 3 of 8 failed, next in 12 s',
      "2026-11-20T10:00:01.000Z Kombo's rate-limit window is spent: requests wait 31 s for it to reset",
    ]);
  });

  it('logs a stream\'s short backoffs at most once per interval, then says how many it left out', () => {
    const out = sink(false);
    let t = 0;
    const progress = createProgress(out.stream, () => t);
    for (let attempt = 1; attempt <= 5; attempt++) {
      progress.retry(refused({ attempt, delayMs: 100 }));
      t += 1000;
    }
    t = WAIT_LOG_INTERVAL_MS;
    progress.retry(refused({ attempt: 6, delayMs: 100 }));
    // A long wait is always told.
    progress.retry(refused({ attempt: 7, delayMs: WAIT_LOG_INTERVAL_MS }));
    const lines = out.text().split('\n').filter((l) => l !== '');
    expect(lines.map((l) => /attempt (\d)/.exec(l)?.[1])).toEqual(['1', '6', '7']);
    expect(lines[1]).toMatch(/\(4 more retries since the last line\)$/);
  });

  it('on a terminal prints the waits before the bar exists and above it afterwards', () => {
    const out = sink(true);
    const progress = createProgress(out.stream);
    progress.retry(refused({ model: undefined, code: 'HTTP.502', message: 'HTTP 502: an HTML page "502 Bad Gateway"' }));
    progress.plan(plan);
    progress.retry(refused({ delayMs: 30_000, code: 'PLATFORM.RATE_LIMIT_EXCEEDED', message: 'HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED: Too many requests.', pausesAll: true }));
    progress.stop();
    const text = out.text();
    expect(text).toContain('lever:X1 (integration check): HTTP 502: an HTML page "502 Bad Gateway"; attempt 1 of 8 failed, next in 0.3 s\n');
    expect(text).toContain("lever:X1 candidates: HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED: Too many requests; attempt 1 of 8 failed, next in 30 s; Kombo's rate limit: every request waits\n");
    expect(text).toContain('syncing |');
  });
});

describe('the end-of-run report: how each stream synced, records fetched against versions stored', () => {
  const totals = { pages: 3, requests: 4, retries: 1, throttles: 0, files: 2 };
  const report: RunReport = {
    runId: '20261121T020000Z-abc123',
    snapshotDate: '2026-11-21',
    status: 'failed',
    finishedAt: '2026-11-21T02:10:00.000Z',
    streams: [
      // Incremental: 120 records changed since the watermark, 20 of them only in fields left out of the hash.
      {
        runId: 'r',
        integrationId: 'lever:X1',
        model: 'candidates',
        status: 'done',
        finishedAt: '2026-11-21T02:05:00.000Z',
        totals: { ...totals, rows: { candidates: 100, candidate_email_addresses: 150 }, records: 120, unchanged: 20, deletions: 3 },
        sync: { mode: 'incremental', updatedAfter: '2026-11-20T01:45:00.000Z', startedAt: '2026-11-21T02:00:00.000Z' },
      },
      // Full: a first sync stores every record.
      {
        runId: 'r',
        integrationId: 'lever:X1',
        model: 'jobs',
        status: 'done',
        finishedAt: '2026-11-21T02:06:00.000Z',
        totals: { ...totals, rows: { jobs: 40, job_stages: 200 }, records: 40, unchanged: 0, deletions: 0 },
        sync: { mode: 'full', startedAt: '2026-11-21T02:00:00.000Z' },
      },
      // Ended by the plan: it never fetched, so it has no mode.
      {
        runId: 'r',
        integrationId: 'ashby:Y2',
        model: 'jobs',
        status: 'failed',
        code: 'INTEGRATION.INACTIVE',
        reason: 'integration status is INACTIVE: reconnect it in Kombo',
        finishedAt: '2026-11-21T02:00:01.000Z',
        totals: { pages: 0, requests: 1, retries: 0, throttles: 0, rows: {}, files: 0 },
      },
    ],
  };
  const cells = (line: string) => line.split(/\s{2,}/);

  it('prints mode and updated after, then records, versions and deletions, beside the columns it had', () => {
    // Act
    const lines = formatReport(report).split('\n');
    // Assess
    expect(cells(lines[0]!)).toEqual(['integration', 'model', 'status', 'mode', 'updated after', 'records', 'versions', 'deletions', 'rows (all tables)', 'pages', 'requests', 'retries', 'throttles', 'error code']);
    const row = (id: string, model: string) => cells(lines.find((l) => l.startsWith(`${id} `) && l.includes(` ${model} `))!);
    expect(row('lever:X1', 'candidates')).toEqual(['lever:X1', 'candidates', 'done', 'incremental', '2026-11-20T01:45:00Z', '120', '100', '3', '250', '3', '4', '1', '0']);
    expect(row('lever:X1', 'jobs')).toEqual(['lever:X1', 'jobs', 'done', 'full', '40', '40', '0', '240', '3', '4', '1', '0']);
    // A stream the plan ended: blank mode, zeros, its error code.
    expect(row('ashby:Y2', 'jobs')).toEqual(['ashby:Y2', 'jobs', 'failed', '0', '0', '0', '0', '0', '1', '0', '0', 'INTEGRATION.INACTIVE']);
    // The blank mode keeps the columns aligned: every row's records end where the header's do.
    const end = lines[0]!.indexOf('records') + 'records'.length;
    for (const l of lines.slice(2, 5)) expect(l.slice(0, end)).toMatch(/\d$/);
    expect(lines.at(-1)).toBe('run 20261121T020000Z-abc123 failed (2/3 streams complete)');
  });

  it('takes a report written before records and versions were counted apart: its records are its rows', () => {
    const older: RunReport = { ...report, streams: [{ ...report.streams[1]!, totals: { ...totals, rows: { jobs: 40, job_stages: 200 } } }] };
    expect(streamReportRows(older)[0]).toMatchObject({ records: 40, versions: 40, unchanged: 0, deletions: 0 });
  });

  it('gives --format json with counts as numbers and instants as ISO 8601 strings', () => {
    // Act
    const parsed = JSON.parse(formatReportJson(report, '/data/warehouse')) as Record<string, unknown> & { streams: Record<string, unknown>[] };
    // Assess
    expect(parsed).toMatchObject({ run_id: report.runId, snapshot_date: '2026-11-21', status: 'failed', finished_at: '2026-11-21T02:10:00.000Z', streams_complete: 2, streams_total: 3, warehouse: '/data/warehouse' });
    expect(parsed.streams.map((s) => `${String(s['integration_id'])} ${String(s['model'])}`)).toEqual(['ashby:Y2 jobs', 'lever:X1 candidates', 'lever:X1 jobs']);
    expect(parsed.streams[1]).toEqual({
      integration_id: 'lever:X1',
      model: 'candidates',
      status: 'done',
      mode: 'incremental',
      updated_after: '2026-11-20T01:45:00.000Z',
      started_at: '2026-11-21T02:00:00.000Z',
      records: 120,
      unchanged: 20,
      versions: 100,
      deletions: 3,
      rows: 250,
      pages: 3,
      requests: 4,
      retries: 1,
      throttles: 0,
      error_code: null,
      reason: null,
    });
    expect(parsed.streams[2]).toMatchObject({ mode: 'full', updated_after: null, records: 40, versions: 40 });
    expect(parsed.streams[0]).toMatchObject({ mode: null, updated_after: null, started_at: null, error_code: 'INTEGRATION.INACTIVE' });
  });

  it('counts the planned streams by mode in the plan line', () => {
    const out = sink(false);
    const progress = createProgress(out.stream, () => Date.parse('2026-11-21T02:00:00Z'));
    const sync = (mode: 'full' | 'incremental') => ({ mode, startedAt: '2026-11-21T02:00:00.000Z' });
    progress.plan({
      ...plan,
      streams: [
        { integrationId: 'lever:X1', model: 'candidates', status: 'pending', sync: sync('incremental') },
        { integrationId: 'lever:X1', model: 'jobs', status: 'pending', sync: sync('full') },
        { integrationId: 'lever:X1', model: 'users', status: 'pending', sync: sync('incremental') },
        { integrationId: 'ashby:Y2', model: 'jobs', status: 'failed', code: 'INTEGRATION.INACTIVE' },
      ],
    });
    expect(out.text()).toBe('2026-11-21T02:00:00.000Z run r1: 3 streams to fetch (1 full, 2 incremental), snapshot 2026-11-20\n');
  });
});
