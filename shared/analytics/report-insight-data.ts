/** What the report's survival, cohort, interviewer-outcome and data-quality sections read. */
import type { ReportQuery, ReportRow } from './report-data.ts';
import type { CohortRow, HireSummaryRow, InsightData, InterviewerOutcomeRow, QualityRow, SurvivalPoint } from './report-types.ts';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The SELECTs of the newer sections (SQL that DuckDB and Athena both run). */
export const INSIGHT_SQL = {
  // The curve of each integration over all its jobs: the rows without a job.
  survival: 'SELECT integration_id, job_id, day, at_risk, hired, censored, share_hired FROM hire_survival WHERE job_id IS NULL ORDER BY integration_id, day',
  hireSummary: `SELECT s.integration_id, s.organization_name, s.job_id, f.job_name, s.applications, s.hires, s.median_days_to_hire, s.p75_days_to_hire, s.naive_median_days_to_hire
FROM hire_summary s LEFT JOIN time_to_fill f ON f.integration_id = s.integration_id AND f.job_id = s.job_id
ORDER BY s.integration_id, s.job_id`,
  cohorts: `SELECT c.integration_id, c.job_id, f.job_name, CAST(c.cohort_month AS VARCHAR) AS cohort_month, c.stage_id, c.stage_name, c.stage_index,
  c.applications, c.reached, c.share_reached, c.cohort_age_days
FROM funnel_cohorts c LEFT JOIN time_to_fill f ON f.integration_id = c.integration_id AND f.job_id = c.job_id
ORDER BY c.integration_id, c.job_id, c.cohort_month, c.stage_index, c.stage_id`,
  interviewers: `SELECT integration_id, user_id, user_name, interviews, applications, advanced, declined, still_open, advance_rate, median_days_to_interview
FROM interviewer_outcomes ORDER BY integration_id, user_id`,
  quality: 'SELECT integration_id, check_name, records, share, example_ids FROM data_quality ORDER BY integration_id, check_name',
} as const;

const survivalPoint = (r: ReportRow): SurvivalPoint => ({
  integrationId: str(r.integration_id),
  jobId: strOrNull(r.job_id),
  day: num(r.day),
  atRisk: num(r.at_risk),
  hired: num(r.hired),
  censored: num(r.censored),
  shareHired: num(r.share_hired),
});

const hireSummary = (r: ReportRow): HireSummaryRow => ({
  integrationId: str(r.integration_id),
  organizationName: strOrNull(r.organization_name),
  jobId: strOrNull(r.job_id),
  jobName: strOrNull(r.job_name),
  applications: num(r.applications),
  hires: num(r.hires),
  medianDaysToHire: numOrNull(r.median_days_to_hire),
  p75DaysToHire: numOrNull(r.p75_days_to_hire),
  naiveMedianDaysToHire: numOrNull(r.naive_median_days_to_hire),
});

const cohort = (r: ReportRow): CohortRow => ({
  integrationId: str(r.integration_id),
  jobId: str(r.job_id),
  jobName: strOrNull(r.job_name),
  cohortMonth: str(r.cohort_month),
  stageId: str(r.stage_id),
  stageName: strOrNull(r.stage_name),
  stageIndex: num(r.stage_index),
  applications: num(r.applications),
  reached: num(r.reached),
  shareReached: numOrNull(r.share_reached),
  cohortAgeDays: numOrNull(r.cohort_age_days),
});

const interviewer = (r: ReportRow): InterviewerOutcomeRow => ({
  integrationId: str(r.integration_id),
  userId: str(r.user_id),
  name: strOrNull(r.user_name) ?? str(r.user_id),
  interviews: num(r.interviews),
  applications: num(r.applications),
  advanced: num(r.advanced),
  declined: num(r.declined),
  stillOpen: num(r.still_open),
  advanceRate: numOrNull(r.advance_rate),
  medianDaysToInterview: numOrNull(r.median_days_to_interview),
});

const quality = (r: ReportRow): QualityRow => ({
  integrationId: str(r.integration_id),
  checkName: str(r.check_name),
  records: num(r.records),
  share: numOrNull(r.share),
  exampleIds: strOrNull(r.example_ids)?.split(',').filter((id) => id !== '') ?? [],
});

/** Reads the rows of the newer sections. */
export async function loadInsightData(query: ReportQuery): Promise<InsightData> {
  return {
    survival: (await query(INSIGHT_SQL.survival)).map(survivalPoint),
    hireSummary: (await query(INSIGHT_SQL.hireSummary)).map(hireSummary),
    cohorts: (await query(INSIGHT_SQL.cohorts)).map(cohort),
    interviewers: (await query(INSIGHT_SQL.interviewers)).map(interviewer),
    quality: (await query(INSIGHT_SQL.quality)).map(quality),
  };
}
