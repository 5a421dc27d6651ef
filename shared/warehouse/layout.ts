/**
 * The warehouse layout (contract):
 * `<table>/snapshot_date=YYYY-MM-DD/integration_id=<escaped id>/run-<run_id>/part-<chunk>.parquet`.
 * Every segment is validated before it touches a path or key. What the warehouse keeps besides its
 * tables lives in `shared/state/`.
 */
import { ConfigError } from '../errors.ts';

/** Kombo's `<tool>:<id>` form, nothing else: no `/`, no `..`, no control characters. */
const INTEGRATION_ID = /^[a-z0-9][a-z0-9_-]{0,63}:[A-Za-z0-9_-]{1,128}$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const SNAPSHOT_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Throws a ConfigError unless the id has Kombo's `<tool>:<id>` form. */
export function assertIntegrationId(id: string): string {
  if (!INTEGRATION_ID.test(id)) {
    throw new ConfigError(
      `invalid integration id ${JSON.stringify(id)}: expected Kombo's "<tool>:<id>" form, e.g. "greenhouse:AbC123" (letters, digits, "_" and "-" only)`,
    );
  }
  return id;
}

/** Throws a ConfigError unless the date is a real calendar date `YYYY-MM-DD`. */
export function assertSnapshotDate(date: string): string {
  const ms = SNAPSHOT_DATE.test(date) ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
  const ok = !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(date);
  if (!ok) throw new ConfigError(`invalid snapshot date ${JSON.stringify(date)}: expected YYYY-MM-DD`);
  return date;
}

/** Throws a ConfigError unless the run id is path-safe. */
export function assertRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new ConfigError(`invalid run id ${JSON.stringify(runId)}: letters, digits, "_" and "-" only`);
  return runId;
}

/**
 * Hive's partition-value escaping (as Hive, Spark and DuckDB write it): `:` → `%3A` and the other
 * characters Hadoop paths cannot hold. Readers decode it back.
 */
export function hiveEscape(value: string): string {
  // Control characters are exactly what must be escaped here.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f"#%'*/:=?\\\x7f{[\]^]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Inverse of {@link hiveEscape}. */
export function hiveUnescape(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Table and model names are ours, but they become path segments too: lowercase words only. */
const NAME_SEGMENT = /^[a-z][a-z_]{0,63}$/;

/** Throws a ConfigError unless a table or model name is a safe path segment. */
export function assertNameSegment(name: string): string {
  if (!NAME_SEGMENT.test(name)) throw new ConfigError(`invalid table or model name ${JSON.stringify(name)}: lowercase letters and "_" only`);
  return name;
}

/** `<table>/snapshot_date=…/integration_id=…/`: one partition. */
export function partitionPrefix(table: string, snapshotDate: string, integrationId: string): string {
  return `${assertNameSegment(table)}/snapshot_date=${assertSnapshotDate(snapshotDate)}/integration_id=${hiveEscape(assertIntegrationId(integrationId))}/`;
}

/** `<partition>/run-<run_id>/`: one run's files within a partition. */
export function runPrefix(table: string, snapshotDate: string, integrationId: string, runId: string): string {
  return `${partitionPrefix(table, snapshotDate, integrationId)}run-${assertRunId(runId)}/`;
}

/** Deterministic data file key: a redelivered chunk rewrites the same object. */
export function dataFileKey(table: string, snapshotDate: string, integrationId: string, runId: string, chunk: number): string {
  if (!Number.isInteger(chunk) || chunk < 0 || chunk > 99_999) throw new ConfigError(`invalid chunk number ${chunk}`);
  return `${runPrefix(table, snapshotDate, integrationId, runId)}part-${String(chunk).padStart(5, '0')}.parquet`;
}

/**
 * The file of a run folder holding the rows a sync carried over from the date's earlier syncs: named
 * by no chunk, so that a resumed stream, which deletes the files of its earlier chunks, keeps it
 * while the folder is the one readers see.
 */
export function carriedFileKey(table: string, snapshotDate: string, integrationId: string, runId: string): string {
  return `${runPrefix(table, snapshotDate, integrationId, runId)}part-carried.parquet`;
}

/**
 * The chunk number of a key a chunk wrote (`…/part-00042.parquet`, `…/part-00042.txt`), NaN for any
 * other key.
 */
export function chunkOfKey(key: string): number {
  return Number(/part-(\d{5})\.[a-z]+$/.exec(key)?.[1] ?? Number.NaN);
}

/** Mint a sortable, path-safe run id: `20261123T020000Z-a1b2c3`. */
export function newRunId(now: Date = new Date(), random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const suffix = Math.floor(random() * 0xffffff).toString(16).padStart(6, '0');
  return `${stamp}-${suffix}`;
}

/** One day, in milliseconds. */
export const DAY_MS = 86_400_000;

/** Today's date in UTC, `YYYY-MM-DD`. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
