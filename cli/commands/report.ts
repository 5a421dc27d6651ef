/** `kombo-etl report`: the hiring report, one self-contained HTML file, from the analytics views. */
import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import type { ReportData } from '../../shared/analytics/report-html.ts';
import type { ReportQuery } from '../../shared/analytics/report-data.ts';
import { loadReportData } from '../../shared/analytics/report-data.ts';
import { renderReport } from '../../shared/analytics/report-html.ts';
import { ConfigError } from '../../shared/errors.ts';
import { errnoCode } from '../../shared/adapters/local/folder-store.ts';
import { assertSnapshotDate } from '../../shared/warehouse/layout.ts';
import { assertReadableWarehouse, makeOutputFolder, writePrivately } from '../warehouse.ts';

/** File name of the report inside the warehouse when no `--out` is given. */
export const REPORT_FILE = 'report.html';

/** The report's queries on DuckDB: each row as an object by column name. */
export function duckdbQuery(db: WarehouseDb): ReportQuery {
  return async (sql) => {
    const r = await db.query(sql);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
  };
}

/** Reads what the report shows from the views of a local warehouse. */
export async function loadLocalReportData(db: WarehouseDb, now: Date = new Date()): Promise<ReportData> {
  return loadReportData(duckdbQuery(db), now);
}

/** What `report` reads from and where it writes. */
export interface ReportOptions {
  /** Default `<warehouse>/report.html` (`report.html` with `athena`). */
  readonly out?: string;
  /** `YYYY-MM-DD`: the report as the warehouse knew it at the end of that day. */
  readonly asOf?: string;
  /** Read the views through Athena instead of the local warehouse. */
  readonly athena?: AthenaReportOptions;
}

/** `report --athena`: the workgroup and Glue database the stack created (its outputs name them). */
export interface AthenaReportOptions {
  readonly workGroup?: string;
  readonly database?: string;
  /** Default: the AWS SDK's (`AWS_REGION`, the profile's). */
  readonly region?: string;
}

/** The report's queries through Athena, with the usual AWS credentials; the SDK is loaded only here. */
async function athenaReportQuery(options: AthenaReportOptions): Promise<ReportQuery> {
  const { workGroup, database } = options;
  if (workGroup === undefined || workGroup === '' || database === undefined || database === '') {
    throw new ConfigError('--athena needs --workgroup and --database: the stack outputs AthenaWorkGroup and GlueDatabase');
  }
  const [{ AthenaClient }, { athenaQuery }] = await Promise.all([import('@aws-sdk/client-athena'), import('../../shared/adapters/aws/athena-query.ts')]);
  const client = new AthenaClient(options.region === undefined ? {} : { region: options.region });
  return athenaQuery({ client, workGroup, database });
}

/** Writes the report drawn through Athena to `out` (default `report.html`); returns its absolute path. */
export async function writeAthenaReport(athena: AthenaReportOptions, out?: string): Promise<string> {
  const path = resolve(out ?? REPORT_FILE);
  const query = await athenaReportQuery(athena);
  await writeHtml(path, renderReport(await loadReportData(query)));
  return path;
}

/**
 * Refuse an output path that is a symbolic link: writing through it would put the report (personal
 * data) wherever the link points, a file someone else may have planted it to reach.
 */
async function assertNotSymlink(path: string): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (s?.isSymbolicLink()) throw new ConfigError(`--out ${path}: is a symbolic link, which the report never follows; remove it or choose another file`);
}

/** Write the page at `path`, readable by its owner only; a path that cannot be written is a {@link ConfigError}. */
async function writeReportFile(path: string, html: string): Promise<void> {
  try {
    await writePrivately(path, html);
  } catch (err) {
    const why = errnoCode(err) === 'EISDIR' ? 'is a folder' : errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM' ? 'no permission to write it' : 'cannot be written';
    throw new ConfigError(`--out ${path}: ${why}; choose another file`);
  }
}

/**
 * Writes the report of the warehouse at `warehouse` to `options.out` (default
 * `<warehouse>/report.html`), readable by its owner only; returns its absolute path. A missing or
 * empty warehouse, an `--as-of` before its first sync, or an `--out` that cannot be written or is a
 * symbolic link, is a {@link ConfigError}, and then nothing is created.
 */
export async function writeReport(warehouse: string, options: ReportOptions = {}): Promise<string> {
  await assertReadableWarehouse(warehouse);
  const path = resolve(options.out ?? join(warehouse, REPORT_FILE));
  await assertNotSymlink(path);
  const asOf = options.asOf === undefined ? undefined : assertAsOf(options.asOf);
  const db = await openWarehouse(warehouse, asOf === undefined ? {} : { asOf });
  let data: ReportData;
  try {
    data = await loadReportData(duckdbQuery(db), new Date(), asOf ?? null);
  } finally {
    db.close();
  }
  if (asOf !== undefined && data.snapshots.length === 0) throw new ConfigError(`--as-of ${asOf}: the warehouse holds no sync on or before that day; choose a later day`);
  await writeHtml(path, renderReport(data));
  return path;
}

/** `--as-of` must be a day, `YYYY-MM-DD`. */
function assertAsOf(value: string): string {
  try {
    return assertSnapshotDate(value);
  } catch {
    throw new ConfigError(`--as-of ${value}: expected a day like 2025-06-01`);
  }
}

/** Writes the page, creating its folder; a path that cannot be written is a {@link ConfigError}. */
export async function writeHtml(path: string, html: string): Promise<void> {
  await assertNotSymlink(path);
  await makeOutputFolder('--out', path);
  await writeReportFile(path, html);
}

/** The `report` command: write the file and say where it is. */
export async function reportCommand(warehouse: string, options: ReportOptions = {}, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (options.athena !== undefined && options.asOf !== undefined) throw new ConfigError('--as-of reads the history of a local warehouse; leave it out with --athena');
  const path = options.athena === undefined ? await writeReport(warehouse, options) : await writeAthenaReport(options.athena, options.out);
  stdout.write(`report: ${path}\n`);
}
