/**
 * The sandbox's simulated clock: a seeded event log over the generated people and jobs, and the
 * Kombo records as they stand at the end of any day.
 *
 * The static generator (`data.ts`) draws who the candidates are, which jobs (and stages) exist and
 * which job each application is for. This module decides *when* things happen, with its own
 * random streams so the static data stays exactly as it was:
 * - candidates arrive over {@link SANDBOX_TIMELINE_ARRIVAL_DAYS} days from
 *   {@link SANDBOX_TIMELINE_START} (the ten edge-case candidates on the first day), and apply;
 * - each application starts in its job's first stage and, at least one calendar day later, moves
 *   on, sometimes jumping over a stage, or is declined, or withdraws, or stalls; passing the stage
 *   before the last one is a hire: the application lands in the last stage ("Hired") with outcome
 *   `HIRED`. A withdrawal is `DECLINED` with the reason "Candidate withdrew", as Kombo reports it;
 * - the stage before the last is the offer stage: most applications that reach it get an offer,
 *   drafted, sometimes approved, then sent, and finally accepted (a hire), declined by the
 *   candidate, or abandoned when the application is declined;
 * - an interview is scheduled inside every stretch spent in an interview stage (screens,
 *   interviews, team fit), a few of them canceled;
 * - a few candidates are deleted, taking their applications and interviews with them, and a few
 *   applications are deleted on their own. Nothing happens to a record after its deletion.
 *
 * Because every stage change falls on a later calendar day than the previous one, a warehouse
 * synced once a day sees every stretch, with its exact entry and exit dates.
 *
 * The rest of the funnel (`funnel.ts`) moves on the same clock, from streams of its own: each job
 * opens days before its first application and about a third close after their last one arrived;
 * three jobs have no applicants (a draft, one opened late, one closed without a hire); offers are
 * served with the statuses above; a few users join or leave.
 *
 * `data.ts` does not import this module (`dataset.ts` composes the two), so there is no cycle.
 */
import type { SandboxDataset, SandboxIntegrationData, SandboxJob, SandboxStage, SandboxUser, TimelineBase } from './data.ts';
import { OFFER_DECLINED_REASON, WITHDRAWAL_REASON, applicationSummary } from './data.ts';
import type { FunnelClock, FunnelOffer, SandboxJobKind, SandboxJobStatus, SandboxOfferStatus } from './funnel.ts';
import { funnelAt, jobStatusAt, offerEmploymentStart, planFunnelClock } from './funnel.ts';
import type { IdFactory } from './random.ts';
import { LOWER, Rng, fnv1a32, randomString, sortById } from './random.ts';

type Rec = Record<string, unknown>;

/** The first day of the simulated company: no candidate exists before it (jobs and staff may). */
export const SANDBOX_TIMELINE_START = '2025-03-01';
/** Candidates arrive over this many days from {@link SANDBOX_TIMELINE_START}. */
export const SANDBOX_TIMELINE_ARRIVAL_DAYS = 180;
/** First of the 14 days `npm start` syncs: by then three months of history exist. */
export const SANDBOX_DEMO_FIRST_DAY = '2025-06-01';

/** What ended a stretch in a stage (a withdrawal is `DECLINED`, as Kombo reports it). */
export type StretchOutcome = 'ADVANCED' | 'HIRED' | 'DECLINED' | 'DELETED';

export type { SandboxJobKind, SandboxJobStatus, SandboxOfferStatus } from './funnel.ts';

/** Ground truth of one offer: each status it took, and when (`GET /ats/offers` serves the same ids). */
export interface SandboxOfferHistory {
  id: string;
  remoteId: string;
  applicationId: string;
  candidateId: string;
  jobId: string;
  /** Ascending in time; the status of the offer at an instant is the last one at or before it. */
  statuses: { status: SandboxOfferStatus; at: string }[];
  /** `employment_start_date` as served (fixed per offer). */
  employmentStartDate: string | null;
  /** When the offer was deleted with its application; nothing happens to it after that. */
  deletedAt: string | null;
}

/** Ground truth of one job (see {@link sandboxJobStatusAt} for its status on a day). */
export interface SandboxJobHistory {
  integrationId: string;
  id: string;
  remoteId: string;
  name: string;
  /** `applied` for jobs applications are for; `draft`, `late` and `canceled` ones never get an application. */
  kind: SandboxJobKind;
  department: string | null;
  /** The job's stages in funnel order (`index`), the same ids as the applications' `current_stage`. */
  stages: SandboxStage[];
  /** When the job appears in the API (as a draft until `openedAt`). */
  createdAt: string;
  /** Null for a job that is never opened. */
  openedAt: string | null;
  /** Null while open. */
  closedAt: string | null;
  firstApplicationAt: string | null;
  /** The earliest hire: `closedAt` of the first application of the job with outcome HIRED. */
  firstHireAt: string | null;
  /** The earliest ACCEPTED event of an offer of the job. */
  firstAcceptedOfferAt: string | null;
  /** The job's hiring team: user ids with their Kombo roles (`HIRING_MANAGER`, `RECRUITER`, …). */
  hiringTeam: { userId: string; roles: string[] }[];
}

/** Ground truth of one user (interviewer or staff): served from `createdAt`, INACTIVE from `deactivatedAt`. */
export interface SandboxUserHistory {
  integrationId: string;
  id: string;
  remoteId: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  createdAt: string;
  deactivatedAt: string | null;
  /** Kombo `unified_type`s of the user's system roles. */
  systemRoles: string[];
  /** Whether the user is one of the interviewers nested in interviews. */
  interviewer: boolean;
}

/** Ground truth of a named entry (rejection reason, application stage, tag). */
export interface SandboxNamedEntry {
  id: string;
  remoteId: string;
  name: string;
  /** When it appears in the API. */
  createdAt: string;
}

/**
 * A job's status at the end of `date` (`YYYY-MM-DD`, UTC), as `GET /ats/jobs` serves it then:
 * `DRAFT` before `openedAt` (or for ever without one), `OPEN` from it, `CLOSED` from `closedAt`.
 */
export function sandboxJobStatusAt(job: Pick<SandboxJobHistory, 'openedAt' | 'closedAt'>, date: string): SandboxJobStatus {
  const ms = (s: string | null): number | null => (s === null ? null : Date.parse(s));
  return jobStatusAt({ openedMs: ms(job.openedAt), closedMs: ms(job.closedAt) }, asOfInstant(date));
}

/** Ground truth: one stretch an application spent, open, in one stage. */
export interface SandboxStageStretch {
  integrationId: string;
  applicationId: string;
  candidateId: string;
  jobId: string;
  stageId: string;
  stageName: string;
  stageIndex: number;
  /** ISO instant the application entered the stage. */
  enteredAt: string;
  /** ISO instant it left the stage or was closed or deleted; null while it is still there, open. */
  leftAt: string | null;
  /** What happened at `leftAt`; null while current. */
  outcome: StretchOutcome | null;
}

/** Ground truth of one application. */
export interface SandboxApplicationHistory {
  integrationId: string;
  id: string;
  candidateId: string;
  jobId: string;
  jobName: string;
  /** ISO instant the application was created. */
  createdAt: string;
  /** `remote_created_at` as served: `createdAt`, or null for the few records that hide it. */
  remoteCreatedAt: string | null;
  /** Stretches while open, in order; the job's stages not listed between two of them were skipped. */
  stretches: SandboxStageStretch[];
  /** Final outcome (`HIRED` or `DECLINED`) once closed; null while open. */
  outcome: string | null;
  /** `rejection_reason_name` once declined: "Candidate withdrew" for a withdrawal; null otherwise. */
  rejectionReason: string | null;
  /** Offers made in the offer stage (the stage before the last). */
  offers: SandboxOfferHistory[];
  closedAt: string | null;
  /** The stage the application sits in once closed: the job's last stage for a hire. */
  closedStage: SandboxStage | null;
  deletedAt: string | null;
}

/** Ground truth of one candidate. */
export interface SandboxCandidateHistory {
  integrationId: string;
  id: string;
  source: string | null;
  /** ISO instant the candidate was created. */
  createdAt: string;
  deletedAt: string | null;
  applicationIds: string[];
}

/** Ground truth of one interview. */
export interface SandboxInterviewHistory {
  integrationId: string;
  id: string;
  applicationId: string;
  candidateId: string;
  /** The stage the application was in when the interview was scheduled (null when the ATS hides it). */
  stageId: string | null;
  startingAt: string;
  endingAt: string;
  createdAt: string;
  /** `canceled` once every event happened: true, false, or null (unknown to the ATS). */
  canceled: boolean | null;
  canceledAt: string | null;
  deletedAt: string | null;
  users: SandboxUser[];
}


const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Stage names (of `data.ts`'s vocabularies) at which an interview takes place. */
const INTERVIEW_STAGES = new Set([
  'Recruiter Screen',
  'Hiring Manager Interview',
  'Onsite Interview',
  'Team Fit',
  'Entretien RH',
  '一次面接',
  'Fachgespräch mit Teamleitung',
]);

/** Share of applications that stop moving in a stage, per stage visited. */
const P_STALL = 0.03;
const P_DECLINE_REVIEW = 0.4;
const P_DECLINE = 0.26;
const P_WITHDRAW = 0.04;
/** Chance of jumping over the next stage when advancing (never over the last two). */
const P_SKIP = 0.15;
const P_CANDIDATE_DELETED = 0.05;
const P_APPLICATION_DELETED = 0.005;
const FORCED_COUNT = 10;
const DECLINE_REASONS = ['Not enough experience', 'Position filled', 'Salary expectations too high', 'Culture fit', 'Failed technical assessment'];
const DURATIONS_MIN = [30, 45, 60, 90];

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const dayStart = (ms: number): number => Math.floor(ms / DAY) * DAY;

/**
 * The instant a `YYYY-MM-DD` as-of date stands for: the last millisecond of that day (UTC), so a
 * snapshot of day D holds everything that happened on D.
 * @throws Error when the date is malformed or does not exist.
 */
export function asOfInstant(date: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00.000Z`) : Number.NaN;
  if (Number.isNaN(ms) || iso(ms).slice(0, 10) !== date) throw new Error(`as-of date must be a real date like 2025-06-01, got "${date}"`);
  return ms + DAY - 1;
}

interface StretchPlan {
  stage: SandboxStage;
  enteredMs: number;
  leftMs: number | null;
  outcome: StretchOutcome | null;
}

interface InterviewPlan {
  id: string;
  remoteId: string;
  stage: SandboxStage;
  stageHidden: boolean;
  title: string | null;
  startMs: number;
  endMs: number;
  createdMs: number;
  canceledKind: 'no' | 'yes' | 'unknown';
  canceledMs: number | null;
  deletedMs: number | null;
  users: SandboxUser[];
  location: object | null;
  videoUrl: string | null;
  summaryStart: string;
  summaryEnd: string;
}

interface OfferPlan {
  id: string;
  remoteId: string;
  events: { status: SandboxOfferStatus; ms: number }[];
}

interface AppPlan {
  record: Rec;
  job: SandboxJob;
  createdMs: number;
  stretches: StretchPlan[];
  outcome: string | null;
  reason: string | null;
  closedMs: number | null;
  closedStage: SandboxStage | null;
  deletedMs: number | null;
  offers: OfferPlan[];
  interviews: InterviewPlan[];
  /** Instants at which the record's own fields change, ascending. */
  changes: number[];
  /**
   * Instants at which its nested offers and interview summaries change, ascending. The ATS's
   * `remote_updated_at` moves with them (so `updated_after` finds the application), `changed_at` does
   * not, unless the record hides `remote_updated_at`: then `changed_at` carries them, so that
   * `updated_after` still finds it, as Kombo's does.
   */
  nestedChanges: number[];
}

interface CandidatePlan {
  record: Rec;
  arrivalMs: number;
  deletedMs: number | null;
  apps: AppPlan[];
}

interface IntegrationPlan {
  base: TimelineBase;
  candidates: CandidatePlan[];
  funnel: FunnelClock;
}

/** Separate random streams for offers (see {@link SandboxTimeline}'s `plan`). */
interface OfferDraws {
  r: Rng;
  idRng: Rng;
}

/** `canceled` of an interview at an instant: true once canceled, null when the ATS does not say, false otherwise. */
function canceledAt(iv: InterviewPlan, at: number): boolean | null {
  if (iv.canceledMs !== null && iv.canceledMs <= at) return true;
  return iv.canceledKind === 'unknown' ? null : false;
}

/** Last element of an ascending list that is ≤ `at`, or `fallback`. */
function lastAtOrBefore(list: readonly number[], at: number, fallback: number): number {
  let out = fallback;
  for (const t of list) {
    if (t > at) break;
    out = t;
  }
  return out;
}

/** The simulated history of every integration; see the module comment. Read-only once built. */
export class SandboxTimeline {
  private readonly plans: IntegrationPlan[];

  constructor(
    readonly seed: number,
    bases: readonly TimelineBase[],
    ids: IdFactory,
  ) {
    this.plans = bases.map((base) => this.plan(base, ids));
  }

  /** Integration ids, in dataset order. */
  get integrationIds(): string[] {
    return this.plans.map((p) => p.base.data.id);
  }

  /**
   * Every record as the API shows it at the end of `date` (`YYYY-MM-DD`, UTC): new objects on each
   * call, sorted by id like the static dataset.
   */
  datasetAsOf(date: string): SandboxDataset {
    return this.datasetAt(asOfInstant(date));
  }

  /** Every record as the API shows it at the instant `atMs` (ms since the epoch), as {@link datasetAsOf} does at the end of a day. */
  datasetAt(atMs: number): SandboxDataset {
    return { integrations: this.plans.map((p) => this.materialize(p, atMs)) };
  }

  /** The jobs of an integration with their ordered stages. */
  jobs(integrationId: string): SandboxJob[] {
    return this.integration(integrationId).base.data.jobs ?? [];
  }

  /** Ground truth: every candidate that ever exists. */
  candidates(integrationId: string): SandboxCandidateHistory[] {
    return this.integration(integrationId).candidates.map((c) => ({
      integrationId,
      id: String(c.record.id),
      source: (c.record.source as string | null) ?? null,
      createdAt: iso(c.arrivalMs),
      deletedAt: isoOrNull(c.deletedMs),
      applicationIds: c.apps.map((a) => String(a.record.id)),
    }));
  }

  /** Ground truth: every application that ever exists, with its stretches. */
  applications(integrationId: string): SandboxApplicationHistory[] {
    const out: SandboxApplicationHistory[] = [];
    for (const c of this.integration(integrationId).candidates) {
      for (const a of c.apps) {
        const id = String(a.record.id);
        out.push({
          integrationId,
          id,
          candidateId: String(c.record.id),
          jobId: a.job.id,
          jobName: a.job.name,
          createdAt: iso(a.createdMs),
          remoteCreatedAt: a.record.remote_created_at === null ? null : iso(a.createdMs),
          stretches: a.stretches.map((s) => ({
            integrationId,
            applicationId: id,
            candidateId: String(c.record.id),
            jobId: a.job.id,
            stageId: s.stage.id,
            stageName: s.stage.name,
            stageIndex: s.stage.index,
            enteredAt: iso(s.enteredMs),
            leftAt: isoOrNull(s.leftMs),
            outcome: s.outcome,
          })),
          outcome: a.outcome,
          rejectionReason: a.outcome === 'DECLINED' ? a.reason : null,
          offers: a.offers.map((o) => offerHistory(o, a, String(c.record.id))),
          closedAt: isoOrNull(a.closedMs),
          closedStage: a.closedStage,
          deletedAt: isoOrNull(a.deletedMs),
        });
      }
    }
    return out;
  }

  /** Ground truth: the stage event log, one entry per stretch an application spent open in a stage. */
  stageEvents(integrationId: string): SandboxStageStretch[] {
    return this.applications(integrationId).flatMap((a) => a.stretches);
  }

  /** Ground truth: every interview that is ever scheduled. */
  interviews(integrationId: string): SandboxInterviewHistory[] {
    const out: SandboxInterviewHistory[] = [];
    for (const c of this.integration(integrationId).candidates) {
      for (const a of c.apps) {
        for (const i of a.interviews) {
          out.push({
            integrationId,
            id: i.id,
            applicationId: String(a.record.id),
            candidateId: String(c.record.id),
            stageId: i.stageHidden ? null : i.stage.id,
            startingAt: iso(i.startMs),
            endingAt: iso(i.endMs),
            createdAt: iso(i.createdMs),
            canceled: i.canceledKind === 'yes' ? true : i.canceledKind === 'unknown' ? null : false,
            canceledAt: isoOrNull(i.canceledMs),
            deletedAt: isoOrNull(i.deletedMs),
            users: i.users,
          });
        }
      }
    }
    return out;
  }

  /** Ground truth: every offer ever made, in application order (`GET /ats/offers` serves them by id). */
  offers(integrationId: string): SandboxOfferHistory[] {
    return this.integration(integrationId).candidates.flatMap((c) => c.apps.flatMap((a) => a.offers.map((o) => offerHistory(o, a, String(c.record.id)))));
  }

  /** Ground truth: every job with its opening, closing, first application, first hire and hiring team. */
  jobHistories(integrationId: string): SandboxJobHistory[] {
    const plan = this.integration(integrationId);
    const apps = plan.candidates.flatMap((c) => c.apps);
    const min = (values: number[]): string | null => (values.length === 0 ? null : iso(values.reduce((a, b) => Math.min(a, b))));
    return plan.base.funnel.jobs.map((p) => {
      const times = plan.funnel.jobs.get(p.job.id);
      if (!times) throw new Error(`Sandbox timeline has no times for job ${p.job.id}`);
      const ofJob = apps.filter((a) => a.job.id === p.job.id);
      return {
        integrationId,
        id: p.job.id,
        remoteId: p.job.remote_id,
        name: p.job.name,
        kind: p.kind,
        department: (p.fields.department as string | null) ?? null,
        stages: p.job.stages.map((st) => ({ ...st })),
        createdAt: iso(times.createdMs),
        openedAt: isoOrNull(times.openedMs),
        closedAt: isoOrNull(times.closedMs),
        firstApplicationAt: min(ofJob.map((a) => a.createdMs)),
        firstHireAt: min(ofJob.flatMap((a) => (a.outcome === 'HIRED' && a.closedMs !== null ? [a.closedMs] : []))),
        firstAcceptedOfferAt: min(ofJob.flatMap((a) => a.offers.flatMap((o) => o.events.filter((e) => e.status === 'ACCEPTED').map((e) => e.ms)))),
        hiringTeam: p.team.map((t) => ({ userId: t.user.user.id, roles: [...t.roles] })),
      };
    });
  }

  /** Ground truth: every user (interviewers and other staff), with when they joined and left. */
  users(integrationId: string): SandboxUserHistory[] {
    const plan = this.integration(integrationId);
    return plan.base.funnel.users.map((u) => {
      const times = plan.funnel.users.get(u.user.id);
      if (!times) throw new Error(`Sandbox timeline has no times for user ${u.user.id}`);
      return {
        integrationId,
        id: u.user.id,
        remoteId: u.user.remote_id,
        firstName: u.user.first_name,
        lastName: u.user.last_name,
        email: u.user.email,
        createdAt: iso(times.createdMs),
        deactivatedAt: isoOrNull(times.deactivatedMs),
        systemRoles: u.roles.map((r) => String(r.unified_type)),
        interviewer: u.interviewer,
      };
    });
  }

  /** Ground truth: the rejection reasons: every name applications are declined with, and a few unused. */
  rejectionReasons(integrationId: string): SandboxNamedEntry[] {
    const plan = this.integration(integrationId);
    return plan.base.funnel.reasons.map((n) => ({ id: n.id, remoteId: n.remote_id, name: n.name, createdAt: iso(plan.funnel.named.get(n.id) ?? 0) }));
  }

  /** Ground truth: the application stages: every stage of every job (ids as in `current_stage`). */
  applicationStages(integrationId: string): SandboxNamedEntry[] {
    const plan = this.integration(integrationId);
    return plan.base.funnel.jobs.flatMap((p) =>
      p.job.stages.map((st) => ({ id: st.id, remoteId: st.remote_id, name: st.name, createdAt: iso(plan.funnel.jobs.get(p.job.id)?.createdMs ?? 0) })),
    );
  }

  /** Ground truth: the tags: every tag candidates carry, and a few unused. */
  tags(integrationId: string): SandboxNamedEntry[] {
    const plan = this.integration(integrationId);
    return plan.base.funnel.tags.map((n) => ({ id: n.id, remoteId: n.remote_id, name: n.name, createdAt: iso(plan.funnel.named.get(n.id) ?? 0) }));
  }

  private integration(integrationId: string): IntegrationPlan {
    const plan = this.plans.find((p) => p.base.data.id === integrationId);
    if (!plan) throw new Error(`Sandbox timeline has no integration "${integrationId}"`);
    return plan;
  }

  // -------------------------------------------------------------------------------------------
  // Building the event log

  private plan(base: TimelineBase, ids: IdFactory): IntegrationPlan {
    const { data } = base;
    const r = new Rng(fnv1a32(`timeline:${this.seed}:${data.id}`));
    const idRng = new Rng(fnv1a32(`timeline-ids:${this.seed}:${data.id}`));
    // Offers draw from streams of their own, so the stories drawn from `r` stay what they were for a seed.
    const offers: OfferDraws = { r: new Rng(fnv1a32(`timeline-offers:${this.seed}:${data.id}`)), idRng: new Rng(fnv1a32(`timeline-offer-ids:${this.seed}:${data.id}`)) };
    const start = Date.parse(`${SANDBOX_TIMELINE_START}T00:00:00.000Z`);
    const jobs = new Map((data.jobs ?? []).map((j) => [j.id, j]));
    const appsById = new Map(data.applications.map((a) => [String(a.id), a]));
    let remoteSeq = 0;
    const remoteId = (): string => String(7_000_000 + ++remoteSeq);

    const candidates = base.generated.map((record, k): CandidatePlan => {
      const arrivalMs = k < FORCED_COUNT ? start + r.int(0, 12 * HOUR) : start + r.int(0, SANDBOX_TIMELINE_ARRIVAL_DAYS * DAY - 1);
      // The static generator marks its forced "deleted candidate" edge case; keep it deleted.
      const forcedDeleted = k < FORCED_COUNT && record.remote_deleted_at !== null;
      const deleted = forcedDeleted || (k >= FORCED_COUNT && r.chance(P_CANDIDATE_DELETED));
      const deletedMs = deleted ? arrivalMs + r.int(1, 45) * DAY + r.int(0, DAY - 1) : null;
      const apps: AppPlan[] = [];
      const summaries = (record.applications as Rec[] | undefined) ?? [];
      summaries.forEach((summary, n) => {
        const app = appsById.get(String(summary.id));
        const job = app && jobs.get(String(app.job_id));
        if (!app || !job) return;
        const createdMs = n === 0 ? arrivalMs + r.int(0, 6 * HOUR) : arrivalMs + r.int(1, 30) * DAY + r.int(0, DAY - 1);
        if (deletedMs !== null && createdMs >= deletedMs) return;
        apps.push(this.lifecycle(r, idRng, offers, ids, remoteId, base, app, job, createdMs, deletedMs));
      });
      return { record, arrivalMs, deletedMs, apps };
    });
    const applicationsByJob = new Map<string, number[]>();
    const lastInterviewByUser = new Map<string, number>();
    for (const a of candidates.flatMap((c) => c.apps)) {
      const list = applicationsByJob.get(a.job.id) ?? [];
      list.push(a.createdMs);
      applicationsByJob.set(a.job.id, list);
      for (const iv of a.interviews) for (const u of iv.users) lastInterviewByUser.set(u.id, Math.max(iv.startMs, lastInterviewByUser.get(u.id) ?? 0));
    }
    // The funnel's times come from a stream of their own as well.
    const funnel = planFunnelClock(base.funnel, { originMs: start, applicationsByJob, lastInterviewByUser }, new Rng(fnv1a32(`timeline-funnel:${this.seed}:${data.id}`)));
    return { base, candidates, funnel };
  }

  private lifecycle(
    r: Rng,
    idRng: Rng,
    offerDraws: OfferDraws,
    ids: IdFactory,
    remoteId: () => string,
    base: TimelineBase,
    record: Rec,
    job: SandboxJob,
    createdMs: number,
    candidateDeletedMs: number | null,
  ): AppPlan {
    const stages = job.stages;
    const last = stages.length - 1;
    const stretches: StretchPlan[] = [];
    const interviews: InterviewPlan[] = [];
    let outcome: string | null = null;
    let reason: string | null = null;
    let closedMs: number | null = null;
    let closedStage: SandboxStage | null = null;
    let t = createdMs;
    let i = 0;
    for (;;) {
      const stage = stages[i] as SandboxStage;
      const interviewStage = INTERVIEW_STAGES.has(stage.name);
      const dwell = interviewStage ? r.int(2, 7) : i === 0 ? r.int(1, 5) : r.int(1, 6);
      // Always on a later calendar day, in office hours.
      const nextMs = dayStart(t) + dwell * DAY + r.int(8 * 60, 18 * 60) * MINUTE + r.int(0, MINUTE - 1);
      if (interviewStage) interviews.push(this.interview(r, idRng, ids, remoteId, base, record, stage, t, dwell));
      const stretch: StretchPlan = { stage, enteredMs: t, leftMs: nextMs, outcome: null };
      stretches.push(stretch);
      const roll = r.next();
      const decline = i === 0 ? P_DECLINE_REVIEW : P_DECLINE;
      if (roll < P_STALL) {
        stretch.leftMs = null;
        break;
      }
      if (roll < P_STALL + decline + P_WITHDRAW) {
        const withdrawal = roll >= P_STALL + decline;
        outcome = 'DECLINED';
        reason = withdrawal ? WITHDRAWAL_REASON : r.pick(DECLINE_REASONS);
        stretch.outcome = 'DECLINED';
        closedMs = nextMs;
        closedStage = stage;
        break;
      }
      if (i >= last - 1) {
        outcome = 'HIRED';
        stretch.outcome = 'HIRED';
        closedMs = nextMs;
        closedStage = stages[last] as SandboxStage;
        break;
      }
      stretch.outcome = 'ADVANCED';
      i = i + 2 <= last - 1 && r.chance(P_SKIP) ? i + 2 : i + 1;
      t = nextMs;
    }

    // Deletion (the candidate's, or rarely the application's own) ends the story.
    const ownDeletedMs = r.chance(P_APPLICATION_DELETED) ? createdMs + r.int(1, 30) * DAY + r.int(0, DAY - 1) : null;
    const deletedMs = candidateDeletedMs === null ? ownDeletedMs : ownDeletedMs === null ? candidateDeletedMs : Math.min(candidateDeletedMs, ownDeletedMs);
    // A hire's offer keeps the id it always had; other offers take theirs from the offers' stream.
    const hireOffer = outcome === 'HIRED' ? { id: ids.next(idRng), remoteId: remoteId() } : null;
    const offers: OfferPlan[] = [];
    const offerStretch = stretches.find((s) => s.stage.index === last - 1);
    const x = offerDraws.r;
    if (offerStretch && (hireOffer !== null || x.chance(0.85))) {
      const from = offerStretch.enteredMs;
      const span = (offerStretch.leftMs ?? from + 3 * DAY) - from;
      const events: OfferPlan['events'] = [{ status: 'DRAFT', ms: from + Math.floor(span * 0.1) }];
      if (x.chance(0.3)) events.push({ status: 'APPROVED', ms: from + Math.floor(span * 0.3) });
      events.push({ status: 'SENT', ms: from + Math.floor(span * 0.5) });
      if (closedMs !== null && closedMs === offerStretch.leftMs) {
        const declined = reason === WITHDRAWAL_REASON || x.chance(0.5);
        const status: SandboxOfferStatus = outcome === 'HIRED' ? 'ACCEPTED' : declined ? 'DECLINED' : 'ABANDONED';
        events.push({ status, ms: closedMs });
        if (status === 'DECLINED' && reason !== WITHDRAWAL_REASON) reason = OFFER_DECLINED_REASON;
      }
      offers.push({ id: hireOffer?.id ?? ids.next(offerDraws.idRng), remoteId: hireOffer?.remoteId ?? String(x.int(10_000_000, 99_999_999)), events });
    }
    if (deletedMs !== null) {
      const kept = stretches.filter((s) => s.enteredMs < deletedMs);
      stretches.length = 0;
      stretches.push(...kept);
      const lastStretch = stretches[stretches.length - 1];
      if (lastStretch && (lastStretch.leftMs === null || lastStretch.leftMs >= deletedMs)) {
        lastStretch.leftMs = deletedMs;
        lastStretch.outcome = 'DELETED';
      }
      if (closedMs !== null && closedMs >= deletedMs) {
        outcome = null;
        reason = null;
        closedMs = null;
        closedStage = null;
      }
      // Nothing happens to an offer once the application is deleted.
      const keptOffers = offers
        .map((o) => ({ ...o, events: o.events.filter((e) => e.ms < deletedMs) }))
        .filter((o) => o.events.length > 0);
      offers.length = 0;
      offers.push(...keptOffers);
      const keptInterviews = interviews.filter((iv) => iv.createdMs < deletedMs);
      interviews.length = 0;
      for (const iv of keptInterviews) {
        iv.deletedMs = deletedMs;
        if (iv.canceledMs !== null && iv.canceledMs >= deletedMs) iv.canceledMs = null;
        interviews.push(iv);
      }
    }

    const changes = [createdMs, ...stretches.slice(1).map((s) => s.enteredMs)];
    if (closedMs !== null) changes.push(closedMs);
    if (deletedMs !== null) changes.push(deletedMs);
    changes.sort((a, b) => a - b);
    const nestedChanges = [
      ...offers.flatMap((o) => o.events.map((e) => e.ms)),
      ...interviews.flatMap((iv) => (iv.canceledMs === null ? [iv.createdMs] : [iv.createdMs, iv.canceledMs])),
    ].sort((a, b) => a - b);
    return {
      record,
      job,
      createdMs,
      stretches,
      outcome,
      reason,
      closedMs,
      closedStage,
      deletedMs,
      offers,
      interviews,
      changes,
      nestedChanges,
    };
  }

  private interview(
    r: Rng,
    idRng: Rng,
    ids: IdFactory,
    remoteId: () => string,
    base: TimelineBase,
    app: Rec,
    stage: SandboxStage,
    enteredMs: number,
    dwell: number,
  ): InterviewPlan {
    // Inside the stretch: from the next day to the day before the application moves on.
    const day = dayStart(enteredMs) + r.int(1, dwell - 1) * DAY;
    const startMs = day + r.int(7, 17) * HOUR + r.int(0, 3) * 15 * MINUTE;
    const endMs = startMs + r.pick(DURATIONS_MIN) * MINUTE;
    const createdMs = enteredMs + r.int(10, 120) * MINUTE;
    const cancelRoll = r.next();
    const canceledKind = cancelRoll < 0.07 ? 'yes' : cancelRoll < 0.13 ? 'unknown' : 'no';
    const users: SandboxUser[] = [];
    const count = Math.min(base.users.length, r.weighted([[1, 55], [2, 28], [3, 12], [4, 5]] as const));
    while (users.length < count) {
      const u = r.pick(base.users);
      if (!users.includes(u)) users.push(u);
    }
    const candidate = app.candidate as Rec;
    const name = [candidate.first_name, candidate.last_name].filter((s) => typeof s === 'string' && s !== '').join(' ');
    const onsite = base.offices.length > 0 && r.chance(0.35);
    const startIso = iso(startMs);
    const endIso = iso(endMs);
    return {
      id: ids.next(idRng),
      remoteId: remoteId(),
      stage,
      stageHidden: r.chance(0.02),
      title: r.chance(0.02) ? null : `${stage.name}${name ? ` with ${name}` : ''}`,
      startMs,
      endMs,
      createdMs,
      canceledKind,
      canceledMs: canceledKind === 'yes' ? Math.min(createdMs + r.int(1, 20) * HOUR, startMs - HOUR) : null,
      deletedMs: null,
      users,
      location: onsite ? r.pick(base.offices) : null,
      videoUrl: onsite ? null : `https://meet.google.com/${randomString(r, LOWER, 3)}-${randomString(r, LOWER, 4)}-${randomString(r, LOWER, 3)}`,
      summaryStart: startIso,
      summaryEnd: endIso,
    };
  }

  // -------------------------------------------------------------------------------------------
  // The records at one instant

  private materialize(plan: IntegrationPlan, at: number): SandboxIntegrationData {
    const { data } = plan.base;
    const candidates: Rec[] = [];
    const applications: Rec[] = [];
    const interviews: Rec[] = [];
    const offers: FunnelOffer[] = [];
    for (const c of plan.candidates) {
      if (c.arrivalMs > at) continue;
      const summaries: Rec[] = [];
      for (const a of c.apps) {
        if (a.createdMs > at) continue;
        const app = this.applicationAt(a, at);
        applications.push(app);
        for (const o of a.offers) offers.push({ id: o.id, remoteId: o.remoteId, application: app, events: o.events, deletedMs: a.deletedMs });
        summaries.push(applicationSummary(app));
        const appSummary: Rec = {
          id: app.id,
          remote_id: app.remote_id,
          outcome: app.outcome,
          rejection_reason_name: app.rejection_reason_name,
          candidate: app.candidate,
          job: app.job,
        };
        for (const iv of a.interviews) if (iv.createdMs <= at) interviews.push(this.interviewAt(iv, a, appSummary, at));
      }
      const deleted = c.deletedMs !== null && c.deletedMs <= at;
      const changedMs = deleted ? (c.deletedMs as number) : c.arrivalMs;
      candidates.push({
        ...c.record,
        remote_created_at: c.record.remote_created_at === null ? null : iso(c.arrivalMs),
        remote_updated_at: c.record.remote_updated_at === null ? null : iso(changedMs),
        changed_at: iso(changedMs),
        remote_deleted_at: deleted ? iso(c.deletedMs as number) : null,
        applications: summaries,
      });
    }
    return {
      id: data.id,
      tool: data.tool,
      ...(data.unavailableModels && { unavailableModels: data.unavailableModels }),
      candidates: sortById(candidates),
      applications: sortById(applications),
      interviews: sortById(interviews),
      jobs: (data.jobs ?? []).map((j) => ({ ...j, stages: j.stages.map((s) => ({ ...s })) })),
      funnel: funnelAt(plan.base.funnel, plan.funnel, offers, at),
    };
  }

  private applicationAt(a: AppPlan, at: number): Rec {
    let stage: SandboxStage | null = null;
    for (const s of a.stretches) if (s.enteredMs <= at) stage = s.stage;
    const closed = a.closedMs !== null && a.closedMs <= at;
    if (closed) stage = a.closedStage;
    const deleted = a.deletedMs !== null && a.deletedMs <= at;
    const changedMs = lastAtOrBefore(a.changes, at, a.createdMs);
    const updatedMs = Math.max(changedMs, lastAtOrBefore(a.nestedChanges, at, changedMs));
    const outcome = closed ? a.outcome : 'PENDING';
    const rejected = closed && outcome !== 'HIRED';
    const record = a.record;
    const hidesUpdated = record.remote_updated_at === null;
    return {
      ...record,
      outcome,
      rejection_reason_name: rejected ? a.reason : null,
      rejected_at: rejected ? iso(a.closedMs as number) : null,
      current_stage_id: stage?.id ?? null,
      current_stage: stage && { ...stage },
      changed_at: iso(hidesUpdated ? updatedMs : changedMs),
      remote_created_at: record.remote_created_at === null ? null : iso(a.createdMs),
      remote_updated_at: hidesUpdated ? null : iso(updatedMs),
      remote_deleted_at: deleted ? iso(a.deletedMs as number) : null,
      interviews: a.interviews
        .filter((iv) => iv.createdMs <= at)
        .map((iv) => ({
          id: iv.id,
          remote_id: iv.remoteId,
          title: iv.title,
          starting_at: iv.summaryStart,
          ending_at: iv.summaryEnd,
          location: iv.location,
          canceled: canceledAt(iv, at),
        })),
      offers: a.offers.flatMap((o) => {
        const now = o.events.filter((e) => e.ms <= at).at(-1);
        return now === undefined ? [] : [{ id: o.id, remote_id: o.remoteId, status: now.status }];
      }),
    };
  }

  private interviewAt(iv: InterviewPlan, a: AppPlan, appSummary: Rec, at: number): Rec {
    const canceled = iv.canceledMs !== null && iv.canceledMs <= at;
    const deleted = iv.deletedMs !== null && iv.deletedMs <= at;
    const changedMs = Math.max(iv.createdMs, canceled ? (iv.canceledMs as number) : 0, deleted ? (iv.deletedMs as number) : 0);
    // The application it nests changes outcome (and rejection reason) when it closes: like an
    // application's nested offers, that moves `remote_updated_at`, so `updated_after` finds it.
    const appClosedMs = a.closedMs !== null && a.closedMs <= at ? a.closedMs : 0;
    return {
      id: iv.id,
      remote_id: iv.remoteId,
      title: iv.title,
      starting_at: iv.summaryStart,
      ending_at: iv.summaryEnd,
      location: iv.location,
      video_conferencing_url: iv.videoUrl,
      application_id: a.record.id,
      stage_id: iv.stageHidden ? null : iv.stage.id,
      canceled: canceledAt(iv, at),
      remote_created_at: iso(iv.createdMs),
      remote_updated_at: iso(Math.max(changedMs, appClosedMs)),
      remote_data: null,
      changed_at: iso(changedMs),
      remote_deleted_at: deleted ? iso(iv.deletedMs as number) : null,
      users: iv.users,
      application: appSummary,
    };
  }
}

/** The ground truth of an offer of application `a`. */
function offerHistory(o: OfferPlan, a: AppPlan, candidateId: string): SandboxOfferHistory {
  const first = o.events[0];
  return {
    id: o.id,
    remoteId: o.remoteId,
    applicationId: String(a.record.id),
    candidateId,
    jobId: a.job.id,
    statuses: o.events.map((e) => ({ status: e.status, at: iso(e.ms) })),
    employmentStartDate: first === undefined ? null : offerEmploymentStart(o.id, first.ms),
    deletedAt: isoOrNull(a.deletedMs),
  };
}

/** Consecutive `YYYY-MM-DD` dates from `first`, `count` of them. */
export function consecutiveDays(first: string, count: number): string[] {
  const start = asOfInstant(first) + 1 - DAY;
  return Array.from({ length: count }, (_, k) => iso(start + k * DAY).slice(0, 10));
}
