/** The rows the hiring report draws, one interface per view it reads. */
/** One row of `hiring_funnel`. */
export interface FunnelStageRow {
  integrationId: string;
  /** The end user's organization of the integration (`integrations`); null when unknown. */
  organizationName: string | null;
  jobId: string;
  jobName: string | null;
  jobStatus: string | null;
  department: string | null;
  location: string | null;
  stageId: string;
  stageName: string | null;
  stageIndex: number;
  /** False for a stage seen on applications that the job's stage list lacks. */
  listedInJob: boolean;
  reached: number;
  currentlyIn: number;
  conversionToNext: number | null;
  hired: number;
  /** Median days of the stretches that ended (`hiring_funnel`). */
  medianDaysInStage: number | null;
  /** Kaplan–Meier median days in the stage, stretches still open counted (`stage_survival`); null until half have ended. */
  kmMedianDaysInStage: number | null;
}

/** One row of `time_to_hire`. */
export interface HireRow {
  integrationId: string;
  applicationId: string;
  jobName: string | null;
  source: string | null;
  appliedOn: string | null;
  hiredOn: string;
  daysToHire: number | null;
}

/** One row of `interviewer_load`. */
export interface LoadRow {
  integrationId: string;
  userId: string;
  name: string;
  /** The user's status in the ATS (`ACTIVE`, `INACTIVE`); null when unknown. */
  status: string | null;
  weekStart: string;
  isoWeek: string;
  interviews: number;
  hours: number;
  candidates: number;
}

/** One row of `source_effectiveness`. */
export interface SourceRow {
  integrationId: string;
  source: string;
  candidates: number;
  applications: number;
  interviews: number;
  hires: number;
  hireRate: number | null;
}

/** One row of `time_to_fill`. */
export interface FillRow {
  integrationId: string;
  jobId: string;
  jobName: string | null;
  jobStatus: string | null;
  department: string | null;
  openedOn: string | null;
  closedOn: string | null;
  firstHireOn: string | null;
  daysToFill: number | null;
  firstOfferAcceptedOn: string | null;
  daysToAcceptedOffer: number | null;
  daysOpen: number | null;
  hires: number;
}

/** One row of `offer_acceptance`. */
export interface OfferRow {
  integrationId: string;
  jobId: string | null;
  jobName: string | null;
  department: string | null;
  /** First day of the month the offers were sent; null for offers sent before the first sync. */
  sentMonth: string | null;
  sent: number;
  accepted: number;
  declined: number;
  abandoned: number;
  pending: number;
  acceptanceRate: number | null;
  medianDaysToDecision: number | null;
}

/** One row of `rejection_breakdown`. */
export interface RejectionRow {
  integrationId: string;
  jobId: string;
  jobName: string | null;
  rejectionReason: string;
  stageName: string | null;
  stageIndex: number | null;
  declined: number;
  shareOfJob: number;
}

/** The snapshot dates an integration has synced (`syncs` of `applications`). */
export interface SnapshotSpan {
  integrationId: string;
  first: string;
  latest: string;
  snapshots: number;
}

export interface ReportData extends InsightData {
  generatedAt: string;
  /** The day whose end the report shows the warehouse at (`report --as-of`); null for its latest state. */
  asOf: string | null;
  snapshots: SnapshotSpan[];
  funnel: FunnelStageRow[];
  hires: HireRow[];
  /** Interviewer load, already limited to the weeks and people worth showing. */
  load: LoadRow[];
  sources: SourceRow[];
  fill: FillRow[];
  offers: OfferRow[];
  rejections: RejectionRow[];
}

/** One row of `hire_survival`: the Kaplan–Meier curve of days to hire, per job and per integration (`jobId` null). */
export interface SurvivalPoint {
  integrationId: string;
  jobId: string | null;
  day: number;
  atRisk: number;
  hired: number;
  censored: number;
  /** 1 − the Kaplan–Meier survival at `day`: non-decreasing, from 0. */
  shareHired: number;
}

/** One row of `hire_summary`: per job, and per integration with `jobId` null. */
export interface HireSummaryRow {
  integrationId: string;
  /** The end user's organization of the integration (`integrations`); null when unknown. */
  organizationName: string | null;
  jobId: string | null;
  jobName: string | null;
  applications: number;
  hires: number;
  /** Kaplan–Meier median days to hire; null where the curve never reaches one half. */
  medianDaysToHire: number | null;
  p75DaysToHire: number | null;
  /** The median of completed hires only: what `time_to_hire` alone gives. */
  naiveMedianDaysToHire: number | null;
}

/** One row of `funnel_cohorts`. */
export interface CohortRow {
  integrationId: string;
  jobId: string;
  jobName: string | null;
  /** First day of the cohort's month. */
  cohortMonth: string;
  stageId: string;
  stageName: string | null;
  stageIndex: number;
  applications: number;
  reached: number;
  shareReached: number | null;
  cohortAgeDays: number | null;
}

/** One row of `interviewer_outcomes`. */
export interface InterviewerOutcomeRow {
  integrationId: string;
  userId: string;
  name: string;
  interviews: number;
  applications: number;
  advanced: number;
  declined: number;
  stillOpen: number;
  advanceRate: number | null;
  medianDaysToInterview: number | null;
}

/** One row of `data_quality`: one check of one integration. */
export interface QualityRow {
  integrationId: string;
  checkName: string;
  records: number;
  share: number | null;
  exampleIds: string[];
}

/** What the report's newer sections draw; empty lists where the views hold nothing yet. */
export interface InsightData {
  survival: SurvivalPoint[];
  hireSummary: HireSummaryRow[];
  cohorts: CohortRow[];
  interviewers: InterviewerOutcomeRow[];
  quality: QualityRow[];
}
