/** `kombo-etl report`: the hiring report, one self-contained HTML file, from the analytics views. */
import { randomBytes } from 'node:crypto';
import { lstat, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import type { ReportData } from '../../shared/analytics/report-html.ts';
import { renderReport } from '../../shared/analytics/report-html.ts';
import { ConfigError } from '../../shared/errors.ts';
import { PRIVATE_FILE_MODE, errnoCode } from '../../shared/adapters/local/folder-store.ts';
import { assertReadableWarehouse, makeOutputFolder } from '../warehouse.ts';

/** Weeks of interviewer load shown: the latest snapshot's week, the weeks before it, and the next one. */
export const REPORT_LOAD_WEEKS_BEFORE = 5;
/** Interviewers shown in the load chart, busiest first. */
export const REPORT_LOAD_PEOPLE = 15;
/** File name of the report inside the warehouse when no `--out` is given. */
export const REPORT_FILE = 'report.html';

type Row = Record<string, unknown>;

async function rows(db: WarehouseDb, sql: string): Promise<Row[]> {
  const r = await db.query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Reads what the report shows from the views (DuckDB over a local warehouse). */
export async function loadReportData(db: WarehouseDb, now: Date = new Date()): Promise<ReportData> {
  const snapshots = await rows(
    db,
    // From `syncs`: a sync that found no application changed stores no version, yet it happened.
    `SELECT integration_id, CAST(min(snapshot_date) AS VARCHAR) AS first_date, CAST(max(snapshot_date) AS VARCHAR) AS latest_date, count(DISTINCT snapshot_date) AS n
     FROM syncs WHERE model = 'applications' GROUP BY integration_id ORDER BY integration_id`,
  );
  const funnel = await rows(db, 'SELECT * FROM hiring_funnel ORDER BY integration_id, job_id, stage_index, stage_id');
  const hires = await rows(db, 'SELECT * FROM time_to_hire ORDER BY integration_id, hired_on, application_id');
  // The weeks around each integration's latest snapshot, and its busiest interviewers in them.
  const load = await rows(
    db,
    `WITH latest AS (SELECT integration_id, CAST(date_trunc('week', max(snapshot_date)) AS DATE) AS week FROM syncs WHERE model = 'interviews' GROUP BY integration_id),
     recent AS (
       SELECT l.* FROM interviewer_load l JOIN latest w ON w.integration_id = l.integration_id
       WHERE l.week_start BETWEEN w.week - INTERVAL ${REPORT_LOAD_WEEKS_BEFORE} WEEK AND w.week + INTERVAL 1 WEEK
     ),
     busiest AS (
       SELECT integration_id, user_id FROM recent GROUP BY integration_id, user_id
       ORDER BY sum(hours) DESC, integration_id, user_id LIMIT ${REPORT_LOAD_PEOPLE}
     )
     SELECT r.* FROM recent r JOIN busiest b USING (integration_id, user_id) ORDER BY r.week_start, r.user_id`,
  );
  const sources = await rows(db, 'SELECT * FROM source_effectiveness ORDER BY integration_id, source');
  const fill = await rows(
    db,
    `SELECT integration_id, job_id, job_name, job_status, department, CAST(opened_on AS VARCHAR) AS opened_on, CAST(closed_on AS VARCHAR) AS closed_on,
       CAST(first_hire_on AS VARCHAR) AS first_hire_on, days_to_fill, CAST(first_offer_accepted_on AS VARCHAR) AS first_offer_accepted_on,
       days_to_accepted_offer, days_open, hires
     FROM time_to_fill ORDER BY integration_id, job_id`,
  );
  const offers = await rows(db, 'SELECT *, CAST(sent_month AS VARCHAR) AS sent_on FROM offer_acceptance ORDER BY integration_id, job_id, sent_month');
  const rejections = await rows(db, 'SELECT * FROM rejection_breakdown ORDER BY integration_id, job_id, stage_index, rejection_reason');
  return {
    generatedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    snapshots: snapshots.map((s) => ({ integrationId: str(s.integration_id), first: str(s.first_date), latest: str(s.latest_date), snapshots: num(s.n) })),
    funnel: funnel.map((f) => ({
      integrationId: str(f.integration_id),
      jobId: str(f.job_id),
      jobName: strOrNull(f.job_name),
      jobStatus: strOrNull(f.job_status),
      department: strOrNull(f.department),
      location: strOrNull(f.location),
      stageId: str(f.stage_id),
      stageName: strOrNull(f.stage_name),
      stageIndex: num(f.stage_index),
      listedInJob: f.listed_in_job !== false,
      reached: num(f.reached),
      currentlyIn: num(f.currently_in),
      conversionToNext: numOrNull(f.conversion_to_next),
      hired: num(f.hired),
      medianDaysInStage: numOrNull(f.median_days_in_stage),
    })),
    hires: hires.map((h) => ({
      integrationId: str(h.integration_id),
      applicationId: str(h.application_id),
      jobName: strOrNull(h.job_name),
      source: strOrNull(h.source),
      appliedOn: strOrNull(h.applied_on),
      hiredOn: str(h.hired_on),
      daysToHire: numOrNull(h.days_to_hire),
    })),
    load: load.map((l) => ({
      integrationId: str(l.integration_id),
      userId: str(l.user_id),
      name: strOrNull(l.user_name) ?? str(l.user_id),
      status: strOrNull(l.user_status),
      weekStart: str(l.week_start),
      isoWeek: str(l.iso_week),
      interviews: num(l.interviews),
      hours: num(l.hours),
      candidates: num(l.candidates),
    })),
    sources: sources.map((s) => ({
      integrationId: str(s.integration_id),
      source: str(s.source),
      candidates: num(s.candidates),
      applications: num(s.applications),
      interviews: num(s.interviews),
      hires: num(s.hires),
      hireRate: numOrNull(s.hire_rate),
    })),
    fill: fill.map((f) => ({
      integrationId: str(f.integration_id),
      jobId: str(f.job_id),
      jobName: strOrNull(f.job_name),
      jobStatus: strOrNull(f.job_status),
      department: strOrNull(f.department),
      openedOn: strOrNull(f.opened_on),
      closedOn: strOrNull(f.closed_on),
      firstHireOn: strOrNull(f.first_hire_on),
      daysToFill: numOrNull(f.days_to_fill),
      firstOfferAcceptedOn: strOrNull(f.first_offer_accepted_on),
      daysToAcceptedOffer: numOrNull(f.days_to_accepted_offer),
      daysOpen: numOrNull(f.days_open),
      hires: num(f.hires),
    })),
    offers: offers.map((o) => ({
      integrationId: str(o.integration_id),
      jobId: strOrNull(o.job_id),
      jobName: strOrNull(o.job_name),
      department: strOrNull(o.department),
      sentMonth: str(o.sent_on),
      sent: num(o.sent),
      accepted: num(o.accepted),
      declined: num(o.declined),
      abandoned: num(o.abandoned),
      pending: num(o.pending),
      acceptanceRate: numOrNull(o.acceptance_rate),
      medianDaysToDecision: numOrNull(o.median_days_to_decision),
    })),
    rejections: rejections.map((r) => ({
      integrationId: str(r.integration_id),
      jobId: str(r.job_id),
      jobName: strOrNull(r.job_name),
      rejectionReason: str(r.rejection_reason),
      stageName: strOrNull(r.stage_name),
      stageIndex: numOrNull(r.stage_index),
      declined: num(r.declined),
      shareOfJob: num(r.share_of_job),
    })),
  };
}

/**
 * Refuse an output path that is a symbolic link: writing through it would put the report (personal
 * data) wherever the link points, a file someone else may have planted it to reach.
 */
async function assertNotSymlink(path: string): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (s?.isSymbolicLink()) throw new ConfigError(`--out ${path}: is a symbolic link, which the report never follows; remove it or choose another file`);
}

/**
 * Write `html` at `path`, readable by its owner only: into a new file beside it, renamed over it, so
 * that a reader never sees half a report and an existing file's looser mode is not kept.
 */
async function writePrivately(path: string, html: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, html, { encoding: 'utf8', flag: 'wx', mode: PRIVATE_FILE_MODE });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    const why = errnoCode(err) === 'EISDIR' ? 'is a folder' : errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM' ? 'no permission to write it' : 'cannot be written';
    throw new ConfigError(`--out ${path}: ${why}; choose another file`);
  }
}

/**
 * Writes the report of the warehouse at `warehouse` to `out` (default `<warehouse>/report.html`),
 * readable by its owner only; returns its absolute path. A missing or empty warehouse, an `--out`
 * that cannot be written or is a symbolic link, is a {@link ConfigError}, and then nothing is created.
 */
export async function writeReport(warehouse: string, out?: string): Promise<string> {
  await assertReadableWarehouse(warehouse);
  const path = resolve(out ?? join(warehouse, REPORT_FILE));
  await assertNotSymlink(path);
  const db = await openWarehouse(warehouse);
  let html: string;
  try {
    html = renderReport(await loadReportData(db));
  } finally {
    db.close();
  }
  await makeOutputFolder('--out', path);
  await writePrivately(path, html);
  return path;
}

/** The `report` command: write the file and say where it is. */
export async function reportCommand(warehouse: string, out: string | undefined, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const path = await writeReport(warehouse, out);
  stdout.write(`report: ${path}\n`);
}
