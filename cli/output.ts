/**
 * Terminal output: aligned tables, JSON rows, and a progress bar on a terminal or plain log lines
 * otherwise, both of which say when requests wait (backoff, rate-limit pauses).
 */
import cliProgress from 'cli-progress';
import stringWidth from 'string-width';
import type { DuckDBValue } from '@duckdb/node-api';
import {
  DuckDBArrayValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
} from '@duckdb/node-api';
import type { StreamMessage } from '../shared/ports.ts';
import type { ChunkResult } from '../shared/pipeline/chunk.ts';
import { endedStream } from '../shared/pipeline/chunk.ts';
import type { RetryEvent } from '../shared/kombo/client.ts';
import type { HoldEvent } from '../shared/kombo/pacing.ts';
import type { RunPlan, RunReport, StreamMarker } from '../shared/state/runs.ts';

/** C0 and C1 control characters and DEL: a terminal acts on them (escape sequences, links, clearing the screen). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const NAMED_CONTROLS: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

/**
 * Text as a terminal may print it: every control character written as a visible escape (`\e`,
 * `\n`, `\r`, `\t`, else `\xHH`), so that a value from the source (a name, an error message) can
 * neither move the cursor, clear the screen, plant a link nor break a table's lines.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => NAMED_CONTROLS[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Render rows as an aligned plain-text table (numbers right-aligned). Columns are aligned by the
 * width a terminal gives each character: a CJK character or an emoji takes two columns. Control
 * characters are printed escaped ({@link printable}).
 */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown): string => printable(v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const heads = columns.map(printable);
  const text = rows.map((r) => r.map(cell));
  const numeric = heads.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || (typeof r[i] === 'string' && /^-?\d+(\.\d+)?$/.test(r[i] as string))));
  const widths = heads.map((c, i) => Math.max(stringWidth(c), ...text.map((r) => stringWidth(r[i] ?? ''))));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - stringWidth(s)));
    return numeric[i] ? fill + s : s + fill;
  };
  const lines = [heads.map(pad).join('  '), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map((r) => r.map(pad).join('  '))];
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** Microseconds as ISO 8601, to the millisecond, or to the microsecond when it has one. */
function isoFromMicros(micros: bigint, zone: 'Z' | ''): string | undefined {
  const ms = micros / 1000n;
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString().slice(0, -1);
  const rest = Number(((micros % 1000n) + 1000n) % 1000n);
  return `${iso}${rest === 0 ? '' : String(rest).padStart(3, '0')}${zone}`;
}

/** A number as JSON can hold it exactly, or its digits as a string when it cannot. */
function exactNumber(digits: string): number | string {
  const n = Number(digits);
  return Number.isFinite(n) && String(n) === digits.replace(/^(-?)0+(?=\d)/, '$1').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') ? n : digits;
}

/**
 * A DuckDB value as plain JSON: integers of any width and decimals as numbers (as strings only
 * when a JSON number would lose digits), timestamps as ISO 8601 (`…Z` for TIMESTAMPTZ), lists,
 * structs and maps recursively, anything else (dates, times, intervals, UUIDs) as DuckDB prints it.
 */
export function jsonValue(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return exactNumber(value.toString());
  if (value instanceof DuckDBDecimalValue) return exactNumber(value.toString());
  if (value instanceof DuckDBTimestampTZValue) return isoFromMicros(value.micros, 'Z') ?? value.toString();
  if (value instanceof DuckDBTimestampValue) return isoFromMicros(value.micros, '') ?? value.toString();
  if (value instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(value.millis * 1000n, '') ?? value.toString();
  if (value instanceof DuckDBTimestampSecondsValue) return isoFromMicros(value.seconds * 1_000_000n, '') ?? value.toString();
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(jsonValue);
  if (value instanceof DuckDBStructValue) return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, jsonValue(v)]));
  if (value instanceof DuckDBMapValue) return Object.fromEntries(value.entries.map((e) => [String(jsonValue(e.key)), jsonValue(e.value)]));
  if (value instanceof DuckDBUnionValue) return jsonValue(value.value);
  return value.toString();
}

/** Rows as a JSON array of objects, one key per column, values as {@link jsonValue} gives them. */
export function formatJsonRows(columns: readonly string[], rows: readonly (readonly DuckDBValue[])[]): string {
  return JSON.stringify(
    rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, jsonValue(r[i] ?? null)]))),
    null,
    2,
  );
}

/** Progress reporting for a sync: a bar of streams on a terminal, log lines elsewhere. */
export interface Progress {
  plan(plan: RunPlan): void;
  page(msg: StreamMessage, records: number): void;
  chunk(msg: StreamMessage, result: ChunkResult): void;
  /** A request failed and waits before trying again. */
  retry(event: RetryEvent): void;
  /** The pacing gate holds requests (Kombo's rate-limit window is spent, or a slow pace). */
  hold(event: HoldEvent): void;
  stop(): void;
}

/**
 * Backoff lines per request target (an integration check, or a stream) at most once per this
 * interval, unless the wait itself is at least this long: a run that meets a few 429s does not
 * drown its log, and a run that waits is never silent for long.
 */
export const WAIT_LOG_INTERVAL_MS = 5_000;

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/** What a backoff says, or undefined when it is one of many in a short time. */
function waitLines(now: () => number): { retry(e: RetryEvent): string | undefined; hold(e: HoldEvent): string | undefined } {
  const last = new Map<string, { at: number; quiet: number }>();
  return {
    retry(e) {
      const key = `${e.integrationId} ${e.model ?? ''}`;
      const seen = last.get(key);
      const t = now();
      if (seen && t - seen.at < WAIT_LOG_INTERVAL_MS && e.delayMs < WAIT_LOG_INTERVAL_MS) {
        seen.quiet++;
        return undefined;
      }
      last.set(key, { at: t, quiet: 0 });
      const what = e.model === undefined ? `${e.integrationId} (integration check)` : `${e.integrationId} ${e.model}`;
      const quiet = seen && seen.quiet > 0 ? ` (${seen.quiet} more ${seen.quiet === 1 ? 'retry' : 'retries'} since the last line)` : '';
      const who = e.pausesAll ? "; Kombo's rate limit: every request waits" : '';
      return `${what}: ${e.message.replace(/\.$/, '')}; attempt ${e.attempt} of ${e.maxAttempts} failed, next in ${seconds(e.delayMs)}${who}${quiet}`;
    },
    hold(e) {
      // A 429 pause is told by the retry of the request that received it.
      if (e.reason === 'throttled') return undefined;
      return e.reason === 'window-spent'
        ? `Kombo's rate-limit window is spent: requests wait ${seconds(e.ms)} for it to reset`
        : `pacing within Kombo's rate limit: the next request in ${seconds(e.ms)}`;
    },
  };
}

/** A page of records or a finished chunk, as a log line. */
const chunkLine = (m: StreamMessage, r: ChunkResult) =>
  `${m.integrationId} ${m.model} chunk ${m.chunk}: ${r.outcome}${'code' in r ? ` (${r.code})` : ''}, ${r.totals.pages} pages, ${r.totals.requests} requests, ${r.totals.retries} retries so far`;

/** ` (2 full, 7 incremental)`, for planned streams whose mode the plan says; else nothing. */
function modeCounts(streams: readonly RunPlan['streams'][number][]): string {
  if (!streams.some((s) => s.sync !== undefined)) return '';
  const full = streams.filter((s) => s.sync?.mode === 'full').length;
  return ` (${full} full, ${streams.filter((s) => s.sync?.mode === 'incremental').length} incremental)`;
}

/**
 * Progress on `stream`: on a terminal a bar of streams with wait lines printed above it, elsewhere
 * (a log file, CI, cron) one timestamped line per event.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): Progress {
  const log = (line: string) => stream.write(`${new Date(now()).toISOString()} ${printable(line)}\n`);
  const waits = waitLines(now);
  if (!stream.isTTY) {
    return {
      plan: (p) => {
        const pending = p.streams.filter((s) => s.status === 'pending');
        log(`run ${p.runId}: ${pending.length} stream${pending.length === 1 ? '' : 's'} to fetch${modeCounts(pending)}, snapshot ${p.snapshotDate}`);
      },
      page: () => undefined,
      chunk: (m, r) => log(chunkLine(m, r)),
      retry: (e) => {
        const line = waits.retry(e);
        if (line !== undefined) log(line);
      },
      hold: (e) => {
        const line = waits.hold(e);
        if (line !== undefined) log(line);
      },
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    { format: 'syncing |{bar}| {value}/{total} streams | {records} records | {last}', hideCursor: true, stream, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let records = 0;
  // Before the plan (integration checks) there is no bar yet to print above.
  const say = (line: string | undefined) => {
    if (line === undefined) return;
    if (bar) bars.log(`${printable(line)}\n`);
    else stream.write(`${printable(line)}\n`);
  };
  return {
    plan: (p) => {
      bar = bars.create(p.streams.length, p.streams.filter((s) => s.status !== 'pending').length, { records, last: '' });
    },
    page: (m, n) => {
      records += n;
      bar?.update({ records, last: printable(`${m.integrationId} ${m.model}`) });
    },
    chunk: (_m, r) => {
      if (endedStream(r)) bar?.increment(1, { records });
    },
    retry: (e) => {
      const line = waits.retry(e);
      say(line);
      if (line !== undefined) bar?.update({ last: printable(`waiting ${seconds(e.delayMs)}: ${e.integrationId}${e.model ? ` ${e.model}` : ''}`) });
    },
    hold: (e) => say(waits.hold(e)),
    stop: () => {
      // Lines told since the last redraw are printed by a redraw; stop() alone would drop them.
      if (bar) bars.update();
      bars.stop();
    },
  };
}

/** How `sync` and `retry` print their final report: an aligned table, or JSON. */
export const REPORT_FORMATS = ['table', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** An ISO 8601 instant without a zero millisecond part, for a narrower column: `2026-11-19T23:45:00Z`. */
const shortIso = (iso: string | undefined): string => (iso === undefined ? '' : iso.replace(/\.000Z$/, 'Z'));

/** One stream of a run's report, as the final table and `--format json` give it. */
export interface StreamReportRow {
  readonly integration_id: string;
  readonly model: string;
  readonly status: StreamMarker['status'];
  /** `full` or `incremental`; null for a stream that never fetched (ended by the plan). */
  readonly mode: 'full' | 'incremental' | null;
  /** `updated_after` sent with every page (ISO 8601), for an incremental sync; else null. */
  readonly updated_after: string | null;
  /** When the sync started on the source's clock (ISO 8601): its versions' `_synced_at`. */
  readonly started_at: string | null;
  /** Records Kombo returned. */
  readonly records: number;
  /** Records returned unchanged since their last stored version: they add no row. */
  readonly unchanged: number;
  /** Versions stored: rows of the model's own table, deletions included. */
  readonly versions: number;
  /** Versions that record a deletion. */
  readonly deletions: number;
  /** Rows stored in every table of the model (its own and its child tables). */
  readonly rows: number;
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttles: number;
  readonly error_code: string | null;
  readonly reason: string | null;
}

/**
 * The streams of a report, sorted by integration and model. A report written before records and
 * versions were told apart stored every record it fetched: its records are its rows.
 */
export function streamReportRows(report: RunReport): StreamReportRow[] {
  return [...report.streams]
    .sort((a, b) => a.integrationId.localeCompare(b.integrationId) || a.model.localeCompare(b.model))
    .map((s) => {
      const versions = s.totals.rows[s.model] ?? 0;
      return {
        integration_id: s.integrationId,
        model: s.model,
        status: s.status,
        mode: s.sync?.mode ?? null,
        updated_after: s.sync?.updatedAfter ?? null,
        started_at: s.sync?.startedAt ?? null,
        records: s.totals.records ?? versions,
        unchanged: s.totals.unchanged ?? 0,
        versions,
        deletions: s.totals.deletions ?? 0,
        rows: Object.values(s.totals.rows).reduce((a, b) => a + b, 0),
        pages: s.totals.pages,
        requests: s.totals.requests,
        retries: s.totals.retries,
        throttles: s.totals.throttles,
        error_code: s.code ?? null,
        reason: s.reason ?? null,
      };
    });
}

/**
 * The end-of-run table: one line per stream, with how it synced (full, or incremental from when),
 * the records Kombo returned against the versions stored, and what fetching it cost, failed
 * streams included.
 */
export function formatReport(report: RunReport): string {
  const rows = streamReportRows(report).map((s) => [
    s.integration_id,
    s.model,
    s.status,
    s.mode ?? '',
    shortIso(s.updated_after ?? undefined),
    s.records,
    s.versions,
    s.deletions,
    s.rows,
    s.pages,
    s.requests,
    s.retries,
    s.throttles,
    s.error_code ?? '',
  ]);
  const failed = report.streams.filter((s) => s.status === 'failed');
  const columns = ['integration', 'model', 'status', 'mode', 'updated after', 'records', 'versions', 'deletions', 'rows (all tables)', 'pages', 'requests', 'retries', 'throttles', 'error code'];
  const lines = [formatTable(columns, rows)];
  for (const s of report.streams.filter((x) => x.status !== 'done')) lines.push(printable(`${s.status}: ${s.integrationId} ${s.model}: ${s.reason ?? ''}`));
  lines.push(printable(`run ${report.runId} ${report.status} (${report.streams.length - failed.length}/${report.streams.length} streams complete)`));
  return lines.join('\n');
}

/** The run's report as JSON (`--format json`): counts as numbers, instants as ISO 8601 strings. */
export function formatReportJson(report: RunReport, warehouse: string): string {
  const complete = report.streams.filter((s) => s.status !== 'failed').length;
  return JSON.stringify(
    {
      run_id: report.runId,
      snapshot_date: report.snapshotDate,
      status: report.status,
      finished_at: report.finishedAt,
      streams_complete: complete,
      streams_total: report.streams.length,
      warehouse,
      streams: streamReportRows(report),
    },
    null,
    2,
  );
}
