/**
 * The rest of the hiring funnel Kombo serves next to candidates, applications and interviews: jobs
 * (with stages, postings, screening questions and hiring team), offers, users, rejection reasons,
 * application stages and tags.
 *
 * Built in three steps so that the static dataset and the simulated clock share one description:
 * - {@link buildFunnelProfile}: who and what exists (job details, extra jobs without applicants,
 *   staff beyond the interviewers, reasons, tags), drawn once per integration from random streams
 *   of its own, after every other record was generated, so that a seed's candidates, applications
 *   and interviews stay exactly what they were;
 * - {@link planFunnelClock}: when things happen (jobs created, opened and closed around their
 *   applications; users joining and leaving around their interviews), from the applications'
 *   dates and another stream;
 * - {@link funnelAt}: the Kombo records at one instant, offers included (their statuses come
 *   from the caller: the static data's nested offers, or the timeline's offer events).
 *
 * Imports only types from `data.ts`, so there is no import cycle.
 */
import type { SandboxJob, SandboxScreeningQuestion, SandboxStage, SandboxUser } from './types.ts';
import type { IdFactory } from './random.ts';
import { HEX, Rng, fnv1a32, randomString, sortById } from './random.ts';

type Rec = Record<string, unknown>;

/** The read models of the funnel, in sync order after candidates, applications and interviews. */
export type SandboxFunnelModel = 'jobs' | 'offers' | 'users' | 'rejection_reasons' | 'application_stages' | 'tags';

/** Every {@link SandboxFunnelModel}, in sync order. */
export const SANDBOX_FUNNEL_MODELS: readonly SandboxFunnelModel[] = ['jobs', 'offers', 'users', 'rejection_reasons', 'application_stages', 'tags'];

/** The records of the funnel models, exactly as their list endpoints return them (sorted by id). */
export type SandboxFunnelRecords = Record<SandboxFunnelModel, Rec[]>;

/** Kombo's offer statuses. */
export type SandboxOfferStatus = 'DRAFT' | 'APPROVED' | 'SENT' | 'ACCEPTED' | 'DECLINED' | 'ABANDONED';

/** Kombo's job statuses the sandbox uses. */
export type SandboxJobStatus = 'DRAFT' | 'OPEN' | 'CLOSED';

/** What a job is in the simulated company: one with applicants, or one of the three without. */
export type SandboxJobKind = 'applied' | 'draft' | 'late' | 'canceled';

/** Kombo's hiring team roles. */
type TeamRole = 'RECRUITER' | 'HIRING_MANAGER' | 'COORDINATOR' | 'SOURCER' | 'INTERVIEWER';

/** A name Kombo lists with an id (rejection reason, tag): `late` ones are created inside the history. */
interface Named {
  id: string;
  remote_id: string;
  name: string;
  late: boolean;
}

interface JobProfile {
  job: SandboxJob;
  kind: SandboxJobKind;
  /** The Kombo fields that do not move with time. */
  fields: Rec;
  questions: Rec[];
  postings: Rec[];
  team: { user: UserProfile; roles: TeamRole[] }[];
}

interface UserProfile {
  user: SandboxUser;
  /** Whether the user comes from the interviewers (nested in interviews). */
  interviewer: boolean;
  /** `staff` stay; a `leaver` is deactivated inside the history, a `former` one before it; a `joiner` joins inside it. */
  kind: 'staff' | 'leaver' | 'former' | 'joiner';
  roles: Rec[];
}

/** Everything about an integration's funnel that does not depend on time. */
export interface FunnelProfile {
  jobs: JobProfile[];
  users: UserProfile[];
  reasons: Named[];
  tags: Named[];
}

/** When each job and user of a profile appears and changes (epoch ms). */
export interface FunnelClock {
  jobs: Map<string, { createdMs: number; openedMs: number | null; closedMs: number | null }>;
  users: Map<string, { createdMs: number; deactivatedMs: number | null }>;
  /** Creation of reasons and tags. */
  named: Map<string, number>;
}

/** The dates the clock is planned around. */
export interface FunnelFacts {
  /** Start of the simulated history: extra jobs and joiners are placed after it, staff before it. */
  originMs: number;
  /** Creation instants of each job's applications. */
  applicationsByJob: Map<string, number[]>;
  /** Start of each interviewer's last interview. */
  lastInterviewByUser: Map<string, number>;
}

/** One offer as the funnel serves it: its status events and the application it belongs to. */
export interface FunnelOffer {
  id: string;
  remoteId: string;
  /** The application record served at the same instant (for `application_id` and the nested candidate and job). */
  application: Rec;
  /** Ascending; the status at an instant is the last event at or before it. */
  events: readonly { status: SandboxOfferStatus; ms: number }[];
  deletedMs: number | null;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const dayStart = (ms: number): number => Math.floor(ms / DAY) * DAY;
/** A time in office hours (UTC) on the day of `ms`. */
const officeHours = (r: Rng, ms: number): number => dayStart(ms) + r.int(8 * 60, 17 * 60) * 60_000;

const DEPARTMENTS = ['Engineering', 'Product', 'Sales', 'Marketing', 'Data', 'Customer Success', 'People', 'Vertrieb', 'データ'];
const EXPERIENCE = ['Entry level', 'Mid level', 'Senior', 'Lead', null] as const;
const EMPLOYMENT = ['FULL_TIME', 'FULL_TIME', 'FULL_TIME', 'PART_TIME', 'CONTRACT', 'INTERNSHIP', null] as const;
const REMOTE = ['REMOTE', 'HYBRID', 'HYBRID', 'ON_SITE', null] as const;
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY'] as const;
const LANGUAGE_OPTIONS = ['English', 'Deutsch', '日本語'];
const CHANNEL_OPTIONS = ['LinkedIn', 'Employee referral', 'Job board', 'Meetup / event'];
const EXTRA_JOBS: readonly { kind: Exclude<SandboxJobKind, 'applied'>; name: string; stages: string[] }[] = [
  { kind: 'draft', name: 'Office Manager (Draft)', stages: ['Application Review', 'Recruiter Screen', 'Offer', 'Hired'] },
  { kind: 'late', name: 'Solutions Architect', stages: ['Application Review', 'Recruiter Screen', 'Technical Assessment', 'Onsite Interview', 'Offer', 'Hired'] },
  { kind: 'canceled', name: 'Junior Sales Development Rep', stages: ['Application Review', 'Hiring Manager Interview', 'Offer', 'Hired'] },
];
const STAFF: readonly { first: string; last: string; kind: UserProfile['kind']; role: 'RECRUITER' | 'HIRING_MANAGER' | 'COORDINATOR' | 'ADMIN' }[] = [
  { first: 'Priya', last: 'Raman', kind: 'staff', role: 'RECRUITER' },
  { first: 'Tomás', last: 'Olivares', kind: 'staff', role: 'HIRING_MANAGER' },
  { first: 'Ingrid', last: 'Halvorsen', kind: 'staff', role: 'HIRING_MANAGER' },
  { first: 'Kenji', last: 'Watanabe', kind: 'leaver', role: 'RECRUITER' },
  { first: 'Marta', last: 'Nowak', kind: 'former', role: 'COORDINATOR' },
  { first: 'Felix', last: 'Brandt', kind: 'joiner', role: 'HIRING_MANAGER' },
  { first: 'Admin', last: 'Account', kind: 'staff', role: 'ADMIN' },
];
const ROLE_LABELS: Record<string, string> = {
  RECRUITER: 'Recruiter',
  HIRING_MANAGER: 'Hiring Manager',
  COORDINATOR: 'Coordinator',
  SOURCER: 'Sourcer',
  INTERVIEWER: 'Interviewer',
  ADMIN: 'Site Admin',
};
/** Reasons no application uses: a list in an ATS always holds a few. */
const UNUSED_REASONS = ['Hired elsewhere', 'Role put on hold'];
const UNUSED_TAGS = ['Alumni', 'Needs visa'];

/** What {@link buildFunnelProfile} starts from: the generated integration. */
export interface FunnelBase {
  integrationId: string;
  tool: string;
  /** Jobs of the applications; the extra jobs are appended to this array. */
  jobs: SandboxJob[];
  interviewers: readonly SandboxUser[];
  tags: readonly { id: string; remote_id: string; name: string }[];
  /** Every rejection reason name the generators may give an application. */
  reasonNames: readonly string[];
  offices: readonly Rec[];
  sentences: readonly string[];
}

/**
 * Draws the time-independent part of an integration's funnel and appends the three jobs without
 * applicants (a draft, one opened late, one closed without a hire) to `base.jobs`.
 */
export function buildFunnelProfile(seed: number, base: FunnelBase, ids: IdFactory): FunnelProfile {
  const r = new Rng(fnv1a32(`funnel:${seed}:${base.integrationId}`));
  const idRng = new Rng(fnv1a32(`funnel-ids:${seed}:${base.integrationId}`));
  const newId = (): string => ids.next(idRng);
  let seq = 0;
  const remoteId = (): string => {
    seq++;
    if (base.tool === 'lever') return `${randomString(r, HEX, 8)}-${randomString(r, HEX, 4)}-4${randomString(r, HEX, 3)}-b${randomString(r, HEX, 3)}-${randomString(r, HEX, 12)}`;
    return base.tool === 'greenhouse' ? String(4_500_000_000 + seq * 3) : String(600_000 + seq);
  };
  const domain = `${base.tool.replace(/[^a-z0-9]/g, '') || 'acme'}-customer.example.com`;

  const users: UserProfile[] = base.interviewers.map((user) => ({
    user,
    interviewer: true,
    kind: 'staff',
    roles: [systemRole(remoteId(), 'INTERVIEWER')],
  }));
  for (const s of STAFF) {
    const user: SandboxUser = {
      id: newId(),
      remote_id: remoteId(),
      first_name: s.first,
      last_name: s.last,
      email: `${s.first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${s.last.toLowerCase()}@${domain}`,
    };
    const roles = [systemRole(remoteId(), s.role)];
    if (s.role === 'ADMIN') roles.push(systemRole(remoteId(), 'RECRUITER'));
    users.push({ user, interviewer: false, kind: s.kind, roles });
  }
  const pick = (kinds: readonly UserProfile['kind'][], role: string): UserProfile[] =>
    users.filter((u) => kinds.includes(u.kind) && u.roles.some((x) => x.unified_type === role));

  for (const extra of EXTRA_JOBS) {
    base.jobs.push({
      id: newId(),
      remote_id: remoteId(),
      name: extra.name,
      stages: extra.stages.map((name, index): SandboxStage => ({ id: newId(), remote_id: remoteId(), name, index })),
      screening_questions: [],
    });
  }

  const jobs = base.jobs.map((job, k): JobProfile => {
    const kind: SandboxJobKind = EXTRA_JOBS[k - (base.jobs.length - EXTRA_JOBS.length)]?.kind ?? 'applied';
    const intern = /werkstudent|intern|junior/i.test(job.name ?? '');
    const employment = intern ? (job.name.startsWith('Werkstudent') ? 'PART_TIME' : 'INTERNSHIP') : r.pick(EMPLOYMENT);
    const confidential = k === 1 ? true : k === 2 ? null : false;
    const visibility = confidential === true ? 'CONFIDENTIAL' : kind === 'draft' ? 'UNLISTED' : r.pick(['PUBLIC', 'PUBLIC', 'PUBLIC', 'INTERNAL']);
    const remote = r.pick(REMOTE);
    const office = remote === 'REMOTE' || base.offices.length === 0 ? null : r.pick(base.offices);
    const currency = r.pick(CURRENCIES);
    const scale = currency === 'JPY' ? 150 : 1;
    const hourly = employment === 'PART_TIME' || employment === 'INTERNSHIP';
    const from = hourly ? r.int(14, 22) + 0.5 : r.int(45, 95) * 1000 * scale;
    const to = hourly ? from + 4 : from + r.int(10, 30) * 1000 * scale;
    const postUrl = visibility === 'PUBLIC' ? `https://careers.${domain}/jobs/${job.remote_id}` : null;
    const description = k === 3 ? null : `<p>${r.pick(base.sentences)}</p><ul><li>${r.pick(base.sentences)}</li><li>${r.pick(base.sentences)}</li></ul>`;
    const fields: Rec = {
      job_code: k === 0 ? null : `${(r.pick(DEPARTMENTS).normalize('NFD').replace(/[^A-Za-z]/g, '').slice(0, 3) || 'GEN').toUpperCase()}-${1000 + k}`,
      description,
      confidential,
      weekly_hours: hourly ? 20 : r.pick([40, 40, 38.5, 35, null]),
      employment_type: employment,
      visibility,
      category: k % 4 === 3 ? null : r.pick(['Technical', 'Business', 'Operations']),
      department: k === 4 ? null : r.pick(DEPARTMENTS),
      post_url: postUrl,
      experience_level: r.pick(EXPERIENCE),
      remote_work_status: remote,
      // Ranges are the rule; a few ATSs give one amount, some none at all.
      salary_amount: k % 5 === 2 ? from : null,
      salary_amount_from: k % 5 === 2 || k % 7 === 6 ? null : from,
      salary_amount_to: k % 5 === 2 || k % 7 === 6 ? null : to,
      salary_currency: k % 7 === 6 ? null : currency,
      salary_period: k % 7 === 6 ? null : hourly ? 'HOUR' : 'YEAR',
      location: office && { ...office },
      custom_fields: r.chance(0.5) ? {} : { cost_center: `CC-${r.int(100, 999)}`, headcount: r.int(1, 4), approvals: { budget: r.chance(0.8), works_council: null } },
      remote_url: base.tool === 'greenhouse' ? `https://app.greenhouse.io/sdash/${job.remote_id}` : `https://${base.tool}.example.com/jobs/${job.remote_id}`,
      contact_id: null,
    };
    const questions = (job.screening_questions ?? []).map((q, index) => komboQuestion(q, index));
    const postings: Rec[] = [
      { id: newId(), remote_id: remoteId(), title: job.name, description_html: description, visibility: visibility === 'INTERNAL' ? 'INTERNAL' : visibility === 'PUBLIC' ? 'PUBLIC' : 'UNLISTED', url: postUrl },
    ];
    // The joiner manages the job opened late; nobody else's team holds someone who joins later.
    const managers = kind === 'late' ? pick(['joiner'], 'HIRING_MANAGER') : pick(['staff', 'leaver'], 'HIRING_MANAGER');
    const recruiters = pick(['staff', 'leaver'], 'RECRUITER');
    const team: JobProfile['team'] = [];
    if (managers.length > 0) team.push({ user: r.pick(managers), roles: ['HIRING_MANAGER'] });
    if (recruiters.length > 0) team.push({ user: r.pick(recruiters), roles: k === 0 ? ['RECRUITER', 'SOURCER'] : ['RECRUITER'] });
    const interviewers = users.filter((u) => u.interviewer);
    for (let n = r.int(0, 2); n > 0 && interviewers.length > 0; n--) {
      const u = r.pick(interviewers);
      if (!team.some((t) => t.user === u)) team.push({ user: u, roles: ['INTERVIEWER'] });
    }
    return { job, kind, fields, questions, postings, team };
  });

  const named = (name: string, late: boolean): Named => ({ id: newId(), remote_id: remoteId(), name, late });
  const reasons = [...new Set(base.reasonNames)].map((name) => named(name, false));
  reasons.push(named(UNUSED_REASONS[0] as string, false), named(UNUSED_REASONS[1] as string, true));
  const tags: Named[] = base.tags.map((t) => ({ ...t, late: false }));
  tags.push(named(UNUSED_TAGS[0] as string, false), named(UNUSED_TAGS[1] as string, true));
  return { jobs, users, reasons, tags };
}

function systemRole(remoteId: string, type: string): Rec {
  return { remote_id: remoteId, remote_label: ROLE_LABELS[type] ?? type, scope: 'SYSTEM', unified_type: type };
}

/** A screening question as Kombo's jobs endpoint lists it (`format` by type, options with names). */
function komboQuestion(q: SandboxScreeningQuestion, index: number): Rec {
  const options = (names: readonly string[]): Rec[] => (q.options ?? []).map((id, k) => ({ id, remote_id: null, name: names[k] ?? `Option ${k + 1}` }));
  const format: Rec =
    q.type === 'TEXT'
      ? { type: 'TEXT', display_type: 'MULTI_LINE', max_length: 2000 }
      : q.type === 'NUMBER'
        ? { type: 'NUMBER', display_type: 'FIELD', min: 0, max: 50 }
        : q.type === 'MULTI_SELECT'
          ? { type: 'MULTI_SELECT', options: options(LANGUAGE_OPTIONS) }
          : q.type === 'SINGLE_SELECT'
            ? { type: 'SINGLE_SELECT', display_type: 'DROPDOWN', options: options(CHANNEL_OPTIONS) }
            : q.type === 'UNKNOWN'
              ? { type: 'UNKNOWN', raw_question: { kind: 'file_upload', accept: ['application/pdf'] } }
              : { type: q.type };
  return {
    id: q.id,
    remote_id: q.remote_id,
    title: q.title,
    description: null,
    format,
    category: null,
    index,
    required: q.type === 'BOOLEAN',
    precondition_question_id: null,
    precondition_options: null,
  };
}

/**
 * When jobs and users appear and change. A job with applicants is created a few days before it
 * opens, and opens 3–30 days before its first application; about a third close 5–25 days after
 * their last application arrived. The draft never opens, the late job opens 6–11 weeks into the
 * history with nobody applying, the canceled one closes after 2–6 weeks without a hire. About a
 * fifth of the interviewers leave some days after their last interview.
 */
export function planFunnelClock(profile: FunnelProfile, facts: FunnelFacts, r: Rng): FunnelClock {
  const origin = facts.originMs;
  const jobs: FunnelClock['jobs'] = new Map();
  for (const { job, kind } of profile.jobs) {
    const apps = facts.applicationsByJob.get(job.id) ?? [];
    let openedMs: number | null;
    let closedMs: number | null = null;
    if (kind === 'draft') openedMs = null;
    else if (kind === 'late') openedMs = officeHours(r, origin + r.int(42, 77) * DAY);
    else if (kind === 'canceled') openedMs = officeHours(r, origin + r.int(1, 5) * DAY);
    else if (apps.length === 0) openedMs = officeHours(r, origin + r.int(0, 30) * DAY);
    else openedMs = officeHours(r, least(apps) - r.int(3, 30) * DAY);
    if (kind === 'canceled') closedMs = officeHours(r, (openedMs as number) + r.int(14, 45) * DAY);
    else if (kind === 'applied' && r.chance(0.35)) closedMs = officeHours(r, (apps.length === 0 ? (openedMs as number) + 30 * DAY : greatest(apps)) + r.int(5, 25) * DAY);
    const createdMs = kind === 'draft' ? officeHours(r, origin + r.int(10, 60) * DAY) : (openedMs as number) - r.int(1, 10) * DAY;
    jobs.set(job.id, { createdMs, openedMs, closedMs });
  }
  const users: FunnelClock['users'] = new Map();
  for (const u of profile.users) {
    let createdMs = officeHours(r, origin - r.int(30, 700) * DAY);
    let deactivatedMs: number | null = null;
    if (u.kind === 'joiner') createdMs = officeHours(r, origin + r.int(15, 35) * DAY);
    else if (u.kind === 'leaver') deactivatedMs = officeHours(r, origin + r.int(20, 60) * DAY);
    else if (u.kind === 'former') deactivatedMs = officeHours(r, origin - r.int(10, 90) * DAY);
    else if (u.interviewer && r.chance(0.2)) deactivatedMs = officeHours(r, (facts.lastInterviewByUser.get(u.user.id) ?? origin) + r.int(3, 30) * DAY);
    users.set(u.user.id, { createdMs, deactivatedMs });
  }
  const named: FunnelClock['named'] = new Map();
  for (const n of [...profile.reasons, ...profile.tags]) named.set(n.id, n.late ? officeHours(r, origin + r.int(10, 50) * DAY) : officeHours(r, origin - r.int(200, 900) * DAY));
  return { jobs, users, named };
}

/** The smallest of many numbers (a spread into `Math.min` overflows the stack on a big dataset). */
function least(values: readonly number[]): number {
  let out = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < out) out = v;
  return out;
}

/** The largest of many numbers; see {@link least}. */
function greatest(values: readonly number[]): number {
  let out = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > out) out = v;
  return out;
}

/** A job's status at `at` by its clock: draft until opened, open until closed. */
export function jobStatusAt(times: { openedMs: number | null; closedMs: number | null }, at: number): SandboxJobStatus {
  if (times.openedMs === null || times.openedMs > at) return 'DRAFT';
  return times.closedMs !== null && times.closedMs <= at ? 'CLOSED' : 'OPEN';
}

/** The funnel's Kombo records as they stand at `at` (epoch ms). */
export function funnelAt(profile: FunnelProfile, clock: FunnelClock, offers: readonly FunnelOffer[], at: number): SandboxFunnelRecords {
  const upTo = (ms: number | null): number | null => (ms !== null && ms <= at ? ms : null);
  const jobs: Rec[] = [];
  const stages: Rec[] = [];
  for (const p of profile.jobs) {
    const times = clock.jobs.get(p.job.id);
    if (!times || times.createdMs > at) continue;
    const opened = upTo(times.openedMs);
    const closed = upTo(times.closedMs);
    const status = jobStatusAt(times, at);
    const changedMs = Math.max(times.createdMs, opened ?? 0, closed ?? 0);
    const postingStatus = status === 'DRAFT' ? 'DRAFT' : status === 'OPEN' ? 'ACTIVE' : 'INACTIVE';
    jobs.push({
      id: p.job.id,
      remote_id: p.job.remote_id,
      name: p.job.name,
      ...p.fields,
      status,
      opened_at: opened === null ? null : iso(opened),
      closed_at: closed === null ? null : iso(closed),
      remote_created_at: iso(times.createdMs),
      remote_updated_at: iso(changedMs),
      changed_at: iso(changedMs),
      remote_deleted_at: null,
      stages: p.job.stages.map((s) => ({ id: s.id, remote_id: s.remote_id, name: s.name, index: s.index })),
      screening_questions: p.questions,
      job_postings: p.postings.map((x) => ({ ...x, status: postingStatus })),
      hiring_team: p.team.map(({ user: { user }, roles }) => ({
        id: user.id,
        remote_id: user.remote_id,
        first_name: user.first_name,
        last_name: user.last_name,
        email: user.email,
        hiring_team_roles: roles,
        job_roles: roles.map((role) => ({ remote_id: null, remote_label: ROLE_LABELS[role] ?? role, scope: 'JOB', unified_type: role })),
      })),
    });
    for (const s of p.job.stages) stages.push({ id: s.id, remote_id: s.remote_id, name: s.name, changed_at: iso(times.createdMs), remote_deleted_at: null });
  }

  const users: Rec[] = [];
  for (const u of profile.users) {
    const times = clock.users.get(u.user.id);
    if (!times || times.createdMs > at) continue;
    const deactivated = upTo(times.deactivatedMs);
    users.push({
      id: u.user.id,
      remote_id: u.user.remote_id,
      first_name: u.user.first_name,
      last_name: u.user.last_name,
      email: u.user.email,
      status: deactivated === null ? 'ACTIVE' : 'INACTIVE',
      system_roles: u.roles,
      changed_at: iso(deactivated ?? times.createdMs),
      remote_deleted_at: null,
    });
  }

  const named = (list: readonly Named[]): Rec[] =>
    list.flatMap((n) => {
      const created = clock.named.get(n.id) ?? 0;
      return created > at ? [] : [{ id: n.id, remote_id: n.remote_id, name: n.name, changed_at: iso(created), remote_deleted_at: null }];
    });

  return {
    jobs: sortById(jobs),
    offers: sortById(offers.flatMap((o) => offerAt(o, at))),
    users: sortById(users),
    rejection_reasons: sortById(named(profile.reasons)),
    application_stages: sortById(stages),
    tags: sortById(named(profile.tags)),
  };
}

/**
 * The start date an offer proposes (midnight UTC, 4–10 weeks after it was drafted at `draftedMs`),
 * or null for the few offers that leave it open. Derived from the offer id: fixed per offer.
 */
export function offerEmploymentStart(offerId: string, draftedMs: number): string | null {
  const h = fnv1a32(offerId);
  return h % 8 === 0 ? null : iso(dayStart(draftedMs) + (28 + (h % 45)) * DAY);
}

/** An offer record at `at`, or nothing before its first event. */
function offerAt(o: FunnelOffer, at: number): Rec[] {
  const first = o.events[0];
  if (first === undefined || first.ms > at) return [];
  let now = first;
  for (const e of o.events) if (e.ms <= at) now = e;
  const deleted = o.deletedMs !== null && o.deletedMs <= at;
  const changedMs = deleted ? (o.deletedMs as number) : now.ms;
  // Details the ATS keeps with the offer, fixed per offer: derived from its id, no random stream needed.
  const h = fnv1a32(o.id);
  const app = o.application;
  const candidate = (app.candidate ?? null) as Rec | null;
  return [
    {
      id: o.id,
      remote_id: o.remoteId,
      status: now.status,
      employment_start_date: offerEmploymentStart(o.id, first.ms),
      application_id: app.id,
      custom_fields: h % 3 === 0 ? {} : { base_salary: 40_000 + (h % 80) * 1000, currency: 'EUR', signing_bonus: h % 5 === 0 ? 5000 : null },
      changed_at: iso(changedMs),
      remote_deleted_at: deleted ? iso(o.deletedMs as number) : null,
      remote_created_at: iso(first.ms),
      remote_updated_at: iso(changedMs),
      application: {
        candidate: candidate && {
          id: candidate.id,
          remote_id: candidate.remote_id,
          first_name: candidate.first_name,
          last_name: candidate.last_name,
          email_addresses: candidate.email_addresses,
        },
        job: app.job ?? null,
      },
    },
  ];
}

/**
 * Status events of an offer of the static dataset, which only knows the current status: drafted
 * after the application was created, sent, and decided when the application was last updated.
 */
export function staticOfferEvents(status: SandboxOfferStatus, createdMs: number, updatedMs: number, asOfMs: number): { status: SandboxOfferStatus; ms: number }[] {
  // Never after the data's as-of instant, so that every offer an application nests is served.
  const start = Math.min(createdMs, asOfMs - 4 * HOUR);
  const span = Math.min(Math.max(updatedMs - start, 4 * HOUR), asOfMs - start);
  const draft = { status: 'DRAFT' as const, ms: start + Math.floor(span * 0.4) };
  const at = (s: SandboxOfferStatus, share: number): { status: SandboxOfferStatus; ms: number } => ({ status: s, ms: start + Math.floor(span * share) });
  switch (status) {
    case 'DRAFT':
      return [draft];
    case 'APPROVED':
      return [draft, at('APPROVED', 0.7)];
    case 'SENT':
      return [draft, at('SENT', 0.7)];
    case 'ABANDONED':
      return [draft, at('ABANDONED', 1)];
    case 'ACCEPTED':
    case 'DECLINED':
      return [draft, at('SENT', 0.7), at(status, 1)];
  }
}
