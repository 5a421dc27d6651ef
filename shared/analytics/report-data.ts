/**
 * What the hiring report reads: one SELECT per section over the analytics views, written once in
 * SQL that DuckDB and Athena (Trino) both run, and the mapping of their rows to `report-types.ts`.
 * The engine is a parameter: `cli/commands/report.ts` passes DuckDB over a local warehouse, the
 * AWS adapter passes Athena.
 */
import type { FillRow, FunnelStageRow, HireRow, LoadRow, OfferRow, RejectionRow, ReportData, SnapshotSpan, SourceRow } from './report-types.ts';
import type { InsightData } from './report-types.ts';
import { loadInsightData } from './report-insight-data.ts';

/** One result row, by column name, with SQL nulls as `null`. */
export type ReportRow = Record<string, unknown>;
/** Runs one SELECT and returns its rows. */
export type ReportQuery = (sql: string) => Promise<ReportRow[]>;

/** Weeks of interviewer load shown: the latest snapshot's week, the weeks before it, and the next one. */
export const REPORT_LOAD_WEEKS_BEFORE = 5;
/** Interviewers shown in the load chart, busiest first. */
export const REPORT_LOAD_PEOPLE = 15;

/** The SELECTs of the report's first sections, by what they read. */
export const REPORT_SQL = {
  // From `syncs`: a sync that found no application changed stores no version, yet it happened. A
  // date may hold several syncs (runs), each counted.
  snapshots: `SELECT integration_id, CAST(min(snapshot_date) AS VARCHAR) AS first_date, CAST(max(snapshot_date) AS VARCHAR) AS latest_date, count(DISTINCT run_id) AS n
FROM syncs WHERE model = 'applications' GROUP BY integration_id ORDER BY integration_id`,
  // Beside each stage, its Kaplan–Meier median from `stage_survival`: stretches still open count too.
  funnel: `SELECT f.*, s.median_days_in_stage AS km_median_days_in_stage
FROM hiring_funnel f
LEFT JOIN stage_survival s ON s.integration_id = f.integration_id AND s.job_id = f.job_id AND s.stage_id = f.stage_id
ORDER BY f.integration_id, f.job_id, f.stage_index, f.stage_id`,
  hires: `SELECT integration_id, application_id, job_name, source, CAST(applied_on AS VARCHAR) AS applied_on, CAST(hired_on AS VARCHAR) AS hired_on, days_to_hire
FROM time_to_hire ORDER BY integration_id, hired_on, application_id`,
  // The weeks around each integration's latest snapshot, and its busiest interviewers in them.
  load: `WITH latest AS (SELECT integration_id, CAST(date_trunc('week', max(snapshot_date)) AS DATE) AS week FROM syncs WHERE model = 'interviews' GROUP BY integration_id),
recent AS (
  SELECT l.* FROM interviewer_load l JOIN latest w ON w.integration_id = l.integration_id
  WHERE l.week_start BETWEEN w.week - INTERVAL '${REPORT_LOAD_WEEKS_BEFORE * 7}' DAY AND w.week + INTERVAL '7' DAY
),
busiest AS (
  SELECT integration_id, user_id FROM recent GROUP BY integration_id, user_id
  ORDER BY sum(hours) DESC, integration_id, user_id LIMIT ${REPORT_LOAD_PEOPLE}
)
SELECT r.integration_id, r.user_id, r.user_name, r.user_status, CAST(r.week_start AS VARCHAR) AS week_start, r.iso_week, r.interviews, r.hours, r.candidates
FROM recent r JOIN busiest b ON b.integration_id = r.integration_id AND b.user_id = r.user_id ORDER BY r.week_start, r.user_id`,
  sources: 'SELECT * FROM source_effectiveness ORDER BY integration_id, source',
  fill: `SELECT integration_id, job_id, job_name, job_status, department, CAST(opened_on AS VARCHAR) AS opened_on, CAST(closed_on AS VARCHAR) AS closed_on,
  CAST(first_hire_on AS VARCHAR) AS first_hire_on, days_to_fill, CAST(first_offer_accepted_on AS VARCHAR) AS first_offer_accepted_on,
  days_to_accepted_offer, days_open, hires
FROM time_to_fill ORDER BY integration_id, job_id`,
  offers: `SELECT integration_id, job_id, job_name, department, CAST(sent_month AS VARCHAR) AS sent_on, sent, accepted, declined, abandoned, pending, acceptance_rate, median_days_to_decision
FROM offer_acceptance ORDER BY integration_id, job_id, sent_month`,
  rejections: 'SELECT * FROM rejection_breakdown ORDER BY integration_id, job_id, stage_index, rejection_reason',
} as const;

export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const snapshotSpan = (s: ReportRow): SnapshotSpan => ({ integrationId: str(s.integration_id), first: str(s.first_date), latest: str(s.latest_date), snapshots: num(s.n) });

const funnelStage = (f: ReportRow): FunnelStageRow => ({
  integrationId: str(f.integration_id),
  organizationName: strOrNull(f.organization_name),
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
  kmMedianDaysInStage: numOrNull(f.km_median_days_in_stage),
});

const hire = (h: ReportRow): HireRow => ({
  integrationId: str(h.integration_id),
  applicationId: str(h.application_id),
  jobName: strOrNull(h.job_name),
  source: strOrNull(h.source),
  appliedOn: strOrNull(h.applied_on),
  hiredOn: str(h.hired_on),
  daysToHire: numOrNull(h.days_to_hire),
});

const load = (l: ReportRow): LoadRow => ({
  integrationId: str(l.integration_id),
  userId: str(l.user_id),
  name: strOrNull(l.user_name) ?? str(l.user_id),
  status: strOrNull(l.user_status),
  weekStart: str(l.week_start),
  isoWeek: str(l.iso_week),
  interviews: num(l.interviews),
  hours: num(l.hours),
  candidates: num(l.candidates),
});

const source = (s: ReportRow): SourceRow => ({
  integrationId: str(s.integration_id),
  source: str(s.source),
  candidates: num(s.candidates),
  applications: num(s.applications),
  interviews: num(s.interviews),
  hires: num(s.hires),
  hireRate: numOrNull(s.hire_rate),
});

const fill = (f: ReportRow): FillRow => ({
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
});

const offer = (o: ReportRow): OfferRow => ({
  integrationId: str(o.integration_id),
  jobId: strOrNull(o.job_id),
  jobName: strOrNull(o.job_name),
  department: strOrNull(o.department),
  sentMonth: strOrNull(o.sent_on),
  sent: num(o.sent),
  accepted: num(o.accepted),
  declined: num(o.declined),
  abandoned: num(o.abandoned),
  pending: num(o.pending),
  acceptanceRate: numOrNull(o.acceptance_rate),
  medianDaysToDecision: numOrNull(o.median_days_to_decision),
});

const rejection = (r: ReportRow): RejectionRow => ({
  integrationId: str(r.integration_id),
  jobId: str(r.job_id),
  jobName: strOrNull(r.job_name),
  rejectionReason: str(r.rejection_reason),
  stageName: strOrNull(r.stage_name),
  stageIndex: numOrNull(r.stage_index),
  declined: num(r.declined),
  shareOfJob: num(r.share_of_job),
});

/** `2026-12-07T14:32:54.123Z` → `2026-12-07T14:32:54Z`. */
const stamp = (now: Date): string => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Reads everything the report shows, one query after the other (Athena runs them in the
 * workgroup's queue; DuckDB on one connection). `asOf` only labels the page: the engine behind
 * `query` already shows the warehouse as of that day.
 */
export async function loadReportData(query: ReportQuery, now: Date = new Date(), asOf: string | null = null): Promise<ReportData> {
  const q = REPORT_SQL;
  const first = {
    snapshots: (await query(q.snapshots)).map(snapshotSpan),
    funnel: (await query(q.funnel)).map(funnelStage),
    hires: (await query(q.hires)).map(hire),
    load: (await query(q.load)).map(load),
    sources: (await query(q.sources)).map(source),
    fill: (await query(q.fill)).map(fill),
    offers: (await query(q.offers)).map(offer),
    rejections: (await query(q.rejections)).map(rejection),
  };
  const insight: InsightData = await loadInsightData(query);
  return { generatedAt: stamp(now), asOf, ...first, ...insight };
}
