/**
 * Seeded, realistic Kombo ATS data for the built-in sandbox.
 *
 * Pure and deterministic: the same seed and integration specs always give the same JSON, and
 * nothing here reads the clock, the environment or global state (faker runs on private,
 * per-call instances). Faker only fills small pools up front; per-record choices come from a fast
 * seeded PRNG so that 200,000 candidates stay well within benchmark budgets.
 *
 * The edge cases the warehouse must survive (unicode, nulls next to empty strings, 10 kB texts,
 * deleted rows, free-form types, nested custom fields …) are forced onto the first records of every
 * integration before the rest is drawn at random, so every non-empty integration has them.
 * Every record is what Kombo documents (its OpenAPI and official SDK): values outside Kombo's
 * enums and other odd shapes are switched on per sandbox (`oddRecords` in `faults.ts`), never here.
 * Records are returned sorted by id, the order the server pages in.
 */
import type { LocaleDefinition } from '@faker-js/faker';
import {
  Faker,
  ar,
  base,
  de,
  en,
  en_GB,
  en_US,
  es,
  fr,
  ja,
  ko,
  pl,
  pt_BR,
  sv,
  tr,
  vi,
  zh_CN,
} from '@faker-js/faker';
import type { FunnelProfile, SandboxFunnelModel, SandboxFunnelRecords, SandboxOfferStatus } from './funnel.ts';
import type { SandboxJob, SandboxQuestionType, SandboxScreeningQuestion, SandboxStage, SandboxUser } from './types.ts';
export type { SandboxJob, SandboxQuestionType, SandboxScreeningQuestion, SandboxStage, SandboxUser } from './types.ts';
import { SANDBOX_FUNNEL_MODELS, buildFunnelProfile, funnelAt, planFunnelClock, staticOfferEvents } from './funnel.ts';
import { DIGITS, HEX, IdFactory, LOWER, Rng, fnv1a32, randomString, sortById } from './random.ts';

// Moved to random.ts (shared with the timeline); re-exported so existing imports keep working.
export { IdFactory, Rng, fnv1a32, sortById } from './random.ts';

/** The Kombo read models the sandbox serves: the first three, and the funnel's ({@link SandboxFunnelModel}). */
export type SandboxModel = 'candidates' | 'applications' | 'interviews' | SandboxFunnelModel;

/** All sandbox models, in sync order. */
export const SANDBOX_MODELS: readonly SandboxModel[] = ['candidates', 'applications', 'interviews', ...SANDBOX_FUNNEL_MODELS];

/** What to generate for one integration. */
export interface SandboxIntegrationSpec {
  /** Kombo form `<tool>:<24 alphanumeric chars>`. */
  id: string;
  tool: string;
  /** Number of candidates; applications and interviews follow from it (≈1.2 and ≈1 per candidate). */
  candidates: number;
  /** Models the tool does not offer: they answer `INTEGRATION.MODEL_NOT_AVAILABLE`. */
  unavailableModels?: readonly SandboxModel[];
}





/** One integration's records, exactly as the list endpoints return them. */
export interface SandboxIntegrationData {
  id: string;
  tool: string;
  candidates: Record<string, unknown>[];
  applications: Record<string, unknown>[];
  interviews: Record<string, unknown>[];
  /**
   * The integration's jobs with their stages. Optional so that hand-built datasets stay short;
   * without it the server derives jobs from the applications it serves.
   */
  jobs?: SandboxJob[];
  /**
   * Records of the funnel models (jobs, offers, users, rejection reasons, application stages,
   * tags) as their endpoints return them. Optional: without it those endpoints list nothing.
   */
  funnel?: SandboxFunnelRecords;
  /** Models this integration's tool does not offer (`INTEGRATION.MODEL_NOT_AVAILABLE`). */
  unavailableModels?: readonly SandboxModel[];
}

/** The served records of `model` (an empty list for a funnel model a hand-built dataset leaves out). */
export function modelRecords(data: SandboxIntegrationData, model: SandboxModel): Record<string, unknown>[] {
  if (model === 'candidates' || model === 'applications' || model === 'interviews') return data[model];
  return data.funnel?.[model] ?? NO_RECORDS;
}

// One shared empty list, so an index built over it stays valid (the server compares identities).
const NO_RECORDS: Record<string, unknown>[] = [];

/** Everything the sandbox serves. */
export interface SandboxDataset {
  integrations: SandboxIntegrationData[];
}

/** Seed used when none is given. */
export const DEFAULT_SANDBOX_SEED = 42;

/**
 * The instant the generated data is "as of". Fixed so the data is reproducible; every generated
 * timestamp is at or before it except upcoming interviews (up to 30 days later).
 */
export const SANDBOX_DATA_AS_OF = '2025-06-01T00:00:00.000Z';

/**
 * Four integrations of very different sizes, the last one empty: enough to exercise fan-out,
 * chunking and the "nothing to sync" path. Workable does not offer offers, as some tools do not.
 */
export const DEFAULT_SANDBOX_INTEGRATIONS: readonly SandboxIntegrationSpec[] = Object.freeze([
  { id: 'greenhouse:Bq7TfKx2LmW9pRz4VnY8cHs3', tool: 'greenhouse', candidates: 1500 },
  { id: 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy', tool: 'lever', candidates: 400 },
  { id: 'workable:Ts5GxY3nKc8WqP2hRz7MfVdJ', tool: 'workable', candidates: 60, unavailableModels: ['offers'] },
  { id: 'teamtailor:Xm9KpL2vQw7RtN4sHd6YbF3c', tool: 'teamtailor', candidates: 0 },
]);

// ---------------------------------------------------------------------------------------------
// Pools, built once per dataset with faker

interface LocaleProfile {
  readonly key: string;
  readonly locale: LocaleDefinition;
  readonly country: string;
  readonly countryName: string;
  readonly callingCode: string;
  readonly weight: number;
}

const LOCALES: readonly LocaleProfile[] = [
  { key: 'en_US', locale: en_US, country: 'US', countryName: 'United States', callingCode: '1', weight: 30 },
  { key: 'en_GB', locale: en_GB, country: 'GB', countryName: 'United Kingdom', callingCode: '44', weight: 10 },
  { key: 'de', locale: de, country: 'DE', countryName: 'Germany', callingCode: '49', weight: 14 },
  { key: 'fr', locale: fr, country: 'FR', countryName: 'France', callingCode: '33', weight: 8 },
  { key: 'es', locale: es, country: 'ES', countryName: 'Spain', callingCode: '34', weight: 6 },
  { key: 'pt_BR', locale: pt_BR, country: 'BR', countryName: 'Brazil', callingCode: '55', weight: 5 },
  { key: 'pl', locale: pl, country: 'PL', countryName: 'Poland', callingCode: '48', weight: 4 },
  { key: 'sv', locale: sv, country: 'SE', countryName: 'Sweden', callingCode: '46', weight: 3 },
  { key: 'tr', locale: tr, country: 'TR', countryName: 'Türkiye', callingCode: '90', weight: 3 },
  { key: 'ja', locale: ja, country: 'JP', countryName: '日本', callingCode: '81', weight: 5 },
  { key: 'zh_CN', locale: zh_CN, country: 'CN', countryName: '中国', callingCode: '86', weight: 5 },
  { key: 'ko', locale: ko, country: 'KR', countryName: '대한민국', callingCode: '82', weight: 3 },
  { key: 'vi', locale: vi, country: 'VN', countryName: 'Việt Nam', callingCode: '84', weight: 2 },
  { key: 'ar', locale: ar, country: 'AE', countryName: 'الإمارات', callingCode: '971', weight: 2 },
];

interface Place {
  city: string;
  state: string;
  zip: string;
}

interface LocalePool {
  readonly profile: LocaleProfile;
  readonly firstNames: string[];
  readonly lastNames: string[];
  readonly places: Place[];
  readonly streets: string[];
  readonly companies: string[];
  readonly titles: string[];
}

interface Pools {
  readonly locales: LocalePool[];
  readonly localeTable: (readonly [LocalePool, number])[];
  /** Latin-script names for interviewers and email local parts. */
  readonly userFirstNames: string[];
  readonly userLastNames: string[];
  readonly jobTitles: string[];
  /** Texts of 10,000+ characters. */
  readonly longTexts: string[];
  readonly sentences: string[];
}

const POOL = { names: 120, places: 40, streets: 60, companies: 40, titles: 40 } as const;

/**
 * Flattens a concatenated string. V8 keeps `a + b` as a rope node pointing at both parts; with
 * millions of timestamps, URLs and emails those nodes cost a quarter of the heap. Reading a char
 * flattens the rope in place and the GC then drops the node.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * A copy with exactly `length` slots: arrays grown by `push` reserve 17 slots, which for
 * millions of one-element lists wastes a fifth of the heap.
 */
function tight<T>(items: T[]): T[] {
  return items.length === 0 ? [] : items.slice();
}

function times<T>(n: number, f: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(f(i));
  return out;
}

function buildPools(seed: number): Pools {
  const locales = LOCALES.map((profile, i): LocalePool => {
    const f = new Faker({ locale: [profile.locale, en, base] });
    f.seed(seed * 101 + i);
    return {
      profile,
      firstNames: times(POOL.names, () => f.person.firstName()),
      lastNames: times(POOL.names, () => f.person.lastName()),
      places: times(POOL.places, () => ({ city: f.location.city(), state: f.location.state(), zip: f.location.zipCode() })),
      streets: times(POOL.streets, () => f.location.streetAddress()),
      companies: times(POOL.companies, () => f.company.name()),
      titles: times(POOL.titles, () => f.person.jobTitle()),
    };
  });
  const f = new Faker({ locale: [en, base] });
  f.seed(seed);
  const sentences = times(200, () => f.lorem.sentence());
  const longTexts = times(3, () => {
    // Mixed scripts so byte length and character length differ, as in real recruiter notes.
    let text = 'Recruiter notes — Überblick / 面接メモ 📝\n';
    while (text.length < 10_500) text += f.lorem.paragraph(8) + (f.datatype.boolean() ? ' Ünïcödé ✓ 日本語. ' : '\n\n');
    return text;
  });
  return {
    locales,
    localeTable: locales.map((l) => [l, l.profile.weight] as const),
    userFirstNames: times(80, () => f.person.firstName()),
    userLastNames: times(80, () => f.person.lastName()),
    jobTitles: times(60, () => f.person.jobTitle()),
    longTexts,
    sentences,
  };
}

// ---------------------------------------------------------------------------------------------
// Fixed vocabularies

/** The rejection reason of a withdrawal (Kombo has no outcome of its own for it). */
export const WITHDRAWAL_REASON = 'Candidate withdrew';
/** The rejection reason when the candidate turned the offer down. */
export const OFFER_DECLINED_REASON = 'Offer declined';

const STAGE_MIDDLE = [
  'Recruiter Screen',
  'Hiring Manager Interview',
  'Technical Assessment',
  'Take-Home Assignment',
  'Onsite Interview',
  'Team Fit',
  'Reference Check',
  'Offer',
];
const STAGE_MIDDLE_UNICODE = ['Entretien RH', '一次面接', 'Fachgespräch mit Teamleitung', 'Prueba técnica', 'Offer 📝'];

const JOB_NAMES_FIXED = [
  'Backend Engineer',
  'Senior Product Designer',
  'Account Executive (DACH)',
  'Werkstudent:in Marketing (m/w/d)',
  'データサイエンティスト',
  'Head of Growth 🚀',
  'Customer Success Manager',
  'Staff Data Engineer',
  'Ingénieur·e DevOps',
  'Talent Acquisition Partner',
];

const TAG_NAMES = [
  'High Potential',
  'Referral',
  'Silver Medalist',
  'Relocation needed',
  'Do not contact',
  '⭐ Top Talent',
  'Ｇｒｏｗｔｈ',
  'Bilingüe',
  '社内推薦',
  'Sourced: LinkedIn',
];

const SOURCES: Weights<string | null> = [
  ['LinkedIn', 30],
  ['Company Website', 20],
  ['Employee Referral', 12],
  ['Indeed', 10],
  ['StepStone', 5],
  ['Agency', 5],
  ['XING', 3],
  ['Glassdoor', 3],
  ['Wellfound', 2],
  [null, 8],
  ['', 2],
];

const REJECTION_REASONS = [
  'Not enough experience',
  'Position filled',
  'Salary expectations too high',
  WITHDRAWAL_REASON,
  'No show',
  'Culture fit',
  'Überqualifiziert',
  'Ne parle pas allemand',
  'Failed technical assessment',
  '',
];

// Shared by many records (memory): the dataset is read-only by contract.
const LANGUAGE_SETS: readonly string[][] = [['en', 'de'], ['en', 'fr', 'ja'], ['es']];
const CULTURE_TAGS = ['async', 'remote'];
const PRIORITIES = ['low', 'normal', 'high'];
const DURATIONS_MIN = [30, 45, 60, 90];
const REMOTE_CUSTOM = { score: 4.5, nested: { deep: [1, 2, 3] } };

type Weights<T> = readonly (readonly [T, number])[];
const W_CONFIDENTIAL: Weights<boolean | null> = [
  [false, 85],
  [true, 5],
  [null, 10],
];
const W_PHONE_COUNT: Weights<number> = [
  [1, 75],
  [0, 10],
  [2, 15],
];
const W_PHONE_TYPE: Weights<string | null> = [
  ['MOBILE', 55],
  ['HOME', 15],
  ['WORK', 20],
  ['OTHER', 5],
  [null, 5],
];
const W_EMAIL_COUNT: Weights<number> = [
  [1, 80],
  [0, 4],
  [2, 16],
];
const W_EMAIL_TYPE: Weights<string | null> = [
  ['PRIVATE', 60],
  ['WORK', 30],
  ['OTHER', 5],
  [null, 5],
];
const W_SOCIAL_COUNT: Weights<number> = [
  [0, 50],
  [1, 35],
  [2, 15],
];
const W_TAG_COUNT: Weights<number> = [
  [0, 55],
  [1, 30],
  [2, 10],
  [3, 5],
];
const W_APP_COUNT: Weights<number> = [
  [1, 80],
  [0, 3],
  [2, 12],
  [3, 5],
];
/**
 * How an application ended, or not. Kombo's outcome is PENDING, HIRED, DECLINED or null; a
 * candidate's withdrawal is DECLINED with the reason "Candidate withdrew".
 */
type Outcome = 'PENDING' | 'HIRED' | 'DECLINED' | 'WITHDRAWAL' | null;
const W_OUTCOME: Weights<Outcome> = [
  ['PENDING', 45],
  ['DECLINED', 42],
  ['HIRED', 8],
  [null, 3],
  ['WITHDRAWAL', 0.3],
];


/** Offer statuses of an application still in the offer stage (the stage before the last). */
const W_OPEN_OFFER: Weights<string> = [
  ['DRAFT', 30],
  ['APPROVED', 15],
  ['SENT', 55],
];
const W_INTERVIEWERS: Weights<number> = [
  [1, 55],
  [2, 25],
  [3, 13],
  [4, 7],
];
const W_CANCELED: Weights<boolean | null> = [
  [false, 85],
  [true, 7],
  [null, 8],
];

const SOCIAL = ['LINKEDIN', 'GITHUB', 'XING', 'TWITTER', 'OTHER'] as const;
const EMAIL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'web.de', 'gmx.de', 'icloud.com', 'hey.com'];
const VIDEO_URLS = [
  (r: Rng): string => `https://meet.google.com/${code(r, 3)}-${code(r, 4)}-${code(r, 3)}`,
  (r: Rng): string => `https://zoom.us/j/${r.int(100000000, 999999999)}${r.int(10, 99)}`,
  (r: Rng): string => `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${code(r, 12)}%40thread.v2/0`,
];

const TOOL_LABELS: Record<string, string> = {
  greenhouse: 'Greenhouse',
  lever: 'Lever',
  workable: 'Workable',
  teamtailor: 'Teamtailor',
  ashby: 'Ashby',
  personio: 'Personio',
  smartrecruiters: 'SmartRecruiters',
  workday: 'Workday',
};

/** Human label of a tool id (`greenhouse` → `Greenhouse`). */
export function toolLabel(tool: string): string {
  return TOOL_LABELS[tool] ?? tool.charAt(0).toUpperCase() + tool.slice(1);
}

const code = (r: Rng, n: number): string => randomString(r, LOWER, n);
const hex = (r: Rng, n: number): string => randomString(r, HEX, n);
const digits = (r: Rng, n: number): string => randomString(r, DIGITS, n);

const slugCache = new Map<string, string>();

/** ASCII slug of a name for emails and profile URLs; empty for scripts without a Latin form. */
function asciiSlug(s: string | null): string {
  if (!s) return '';
  let slug = slugCache.get(s);
  if (slug === undefined) {
    slug = computeSlug(s);
    slugCache.set(s, slug);
  }
  return slug;
}

function computeSlug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/ł/g, 'l')
    .replace(/[^a-z0-9]/g, '');
}

// ---------------------------------------------------------------------------------------------
// Time

const DAY = 86_400_000;
const HOUR = 3_600_000;
const AS_OF_MS = Date.parse(SANDBOX_DATA_AS_OF);
const HISTORY_MS = 3 * 365 * DAY;

const hourCache = new Map<number, string>();
const MINUTES = times(60, (m) => `${String(m).padStart(2, '0')}:`);
const SECONDS = times(60_000, (k) => `${String(Math.floor(k / 1000)).padStart(2, '0')}.${String(k % 1000).padStart(3, '0')}Z`);

/**
 * `Date#toISOString` from cached pieces (`YYYY-MM-DDTHH:` per hour, `mm:`, `ss.sssZ`), because
 * formatting millions of dates dominated generation time. Same output for every instant in
 * 0001–9999; flattened so each timestamp is one plain string on the heap.
 */
function iso(ms: number): string {
  const hour = Math.floor(ms / HOUR);
  let prefix = hourCache.get(hour);
  if (prefix === undefined) {
    prefix = new Date(hour * HOUR).toISOString().slice(0, 14);
    hourCache.set(hour, prefix);
  }
  const rest = ms - hour * HOUR;
  const minute = Math.floor(rest / 60_000);
  return flat(prefix + (MINUTES[minute] as string) + (SECONDS[rest - minute * 60_000] as string));
}

const slotCache = new Map<number, string>();

/** Interviews start and end on a 15-minute grid, so their timestamps repeat: share the strings. */
function slotIso(ms: number): string {
  let text = slotCache.get(ms);
  if (text === undefined) {
    text = iso(ms);
    slotCache.set(ms, text);
  }
  return text;
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

// ---------------------------------------------------------------------------------------------
// Forced edge cases

interface ForcedApplication {
  outcome?: Outcome;
  stageNull?: boolean;
  deleted?: boolean;
  /** One entry per interview: number of interviewers. */
  interviewUsers?: number[];
  canceled?: (boolean | null)[];
  interviewDeleted?: boolean[];
}

interface ForcedCandidate {
  first?: string | null;
  last?: string | null;
  company?: string | null;
  title?: string | null;
  longTitle?: boolean;
  confidential?: boolean | null;
  deleted?: boolean;
  /** All list fields empty and no applications. */
  empty?: boolean;
  longCustom?: boolean;
  nestedCustom?: boolean;
  phoneType?: string;
  remoteData?: boolean;
  socialNull?: boolean;
  apps?: ForcedApplication[];
}

/**
 * Applied to the first records of every integration, so even a 60-candidate integration holds
 * every case the warehouse must survive. Ids are random, so these end up scattered in id order.
 */
const FORCED: readonly ForcedCandidate[] = [
  {
    first: 'Zoë',
    last: 'Müller-Lüdenscheidt',
    company: null,
    title: '🚀 Growth Hacker',
    confidential: null,
    apps: [
      { outcome: 'PENDING', interviewUsers: [2, 4], canceled: [false, null] },
      { outcome: 'DECLINED', interviewUsers: [3] },
      { outcome: 'HIRED', interviewUsers: [1, 2] },
    ],
  },
  {
    first: '太郎',
    last: '山田',
    company: '',
    title: 'Ｇｒｏｗｔｈ Hacker',
    apps: [{ outcome: 'WITHDRAWAL' }, { outcome: null, stageNull: true }],
  },
  { first: 'Anna 🌻', last: 'Ｔａｎａｋａ', title: '🚀 Growth Hacker', confidential: true, empty: true },
  {
    // Decomposed "é" (e + combining acute): equal to "Renée" only after normalisation.
    first: 'Rene\u0301e',
    last: "O'Connor-Ní Bhriain",
    title: 'Ｇｒｏｗｔｈ Hacker',
    longCustom: true,
    deleted: true,
    apps: [{ interviewUsers: [2] }],
  },
  {
    first: null,
    last: '',
    company: '',
    longTitle: true,
    phoneType: 'PAGER',
    remoteData: true,
    confidential: false,
    apps: [{ outcome: 'PENDING', interviewUsers: [3, 1, 2], canceled: [true, false, null] }],
  },
  {
    first: 'Łukasz',
    last: 'Żółć-Więckowski',
    longCustom: true,
    nestedCustom: true,
    apps: [{ deleted: true }, { interviewUsers: [2, 2], interviewDeleted: [true, false] }],
  },
  { first: '민준', last: '김', nestedCustom: true, socialNull: true, apps: [{ outcome: 'WITHDRAWAL', stageNull: true }] },
  { first: 'محمد', last: 'العتيبي', longCustom: true, remoteData: true },
  { first: 'Jürgen', last: 'Weiß', apps: [{}, {}] },
  { first: 'Nguyễn', last: 'Thị Minh Khai', company: null, apps: [{ interviewUsers: [4] }] },
];

// ---------------------------------------------------------------------------------------------
// Generation

type Rec = Record<string, unknown>;

/** What `candidate.applications[]` says of an application: the dataset and the timeline both nest it. */
export function applicationSummary(app: Rec): Rec {
  return {
    id: app.id,
    remote_id: app.remote_id,
    outcome: app.outcome,
    rejection_reason_name: app.rejection_reason_name,
    rejected_at: app.rejected_at,
    remote_url: app.remote_url,
    changed_at: app.changed_at,
    remote_created_at: app.remote_created_at,
    remote_updated_at: app.remote_updated_at,
    current_stage: app.current_stage,
    job: app.job,
  };
}

/** The candidate as an application nests it: Kombo's documented subset of the candidate record. */
export function nestedCandidate(candidate: Rec): Rec {
  return {
    id: candidate.id,
    remote_id: candidate.remote_id,
    first_name: candidate.first_name,
    last_name: candidate.last_name,
    email_addresses: candidate.email_addresses,
    phone_numbers: candidate.phone_numbers,
    social_media: candidate.social_media,
    source: candidate.source,
    remote_url: candidate.remote_url,
    tags: candidate.tags,
  };
}

/** What `application.interviews[]` says of an interview: the same values the interviews endpoint serves. */
export function interviewSummary(interview: Rec): Rec {
  return {
    id: interview.id,
    remote_id: interview.remote_id,
    title: interview.title,
    starting_at: interview.starting_at,
    ending_at: interview.ending_at,
    location: interview.location,
    canceled: interview.canceled,
  };
}

interface User {
  id: string;
  remote_id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
}

interface Tag {
  id: string;
  name: string;
  remote_id: string;
}

/** A screening question with the `question` object its answers nest, built once per job. */
interface Question {
  readonly def: SandboxScreeningQuestion;
  readonly ref: { remote_id: string | null; title: string; type: SandboxQuestionType };
}

interface Job {
  summary: { id: string; name: string; remote_id: string };
  stages: SandboxStage[];
  /** The questions answered from the main random stream, one per kind. */
  questions: { q: Question; kind: 'bool' | 'text' | 'number' | 'multi' }[];
  /** Single-select, date and not-yet-mapped questions, answered from the extra stream. */
  extraQuestions: Question[];
  /** Answers to the multi-select question: 1, 2 or 3 of the options. */
  optionSets: string[][];
}

interface Office {
  city: string;
  country: string;
  raw: string;
  state: string;
  street_1: string;
  street_2: string | null;
  zip_code: string;
}

function question(def: SandboxScreeningQuestion): Question {
  return { def, ref: { remote_id: def.remote_id, title: def.title, type: def.type } };
}

/** The typed answer Kombo nests next to a question of `type` (`content`, `checked`, `choices` …). */
export function typedAnswer(type: SandboxQuestionType, value: unknown): Rec {
  switch (type) {
    case 'TEXT':
      return { content: value ?? null };
    case 'SINGLE_SELECT':
      return { choice: value ?? null };
    case 'MULTI_SELECT':
      return { choices: value ?? [] };
    case 'BOOLEAN':
      return { checked: value ?? null };
    case 'NUMBER':
      return { number: value ?? null };
    case 'DATE':
      return { date: value ?? null };
    case 'UNKNOWN':
      return { raw: value ?? null };
  }
}

class IntegrationGenerator {
  private readonly rng: Rng;
  private readonly idRng: Rng;
  /**
   * Draws for what was added after the first release (offers before a hire, more question types):
   * a stream of its own, so that the records drawn from `rng` stay what they were for a seed.
   */
  private readonly extra: Rng;
  private readonly extraIdRng: Rng;
  private readonly jobs: Job[] = [];
  /** Interviewers (read by the timeline, which schedules its own interviews). */
  readonly users: User[] = [];
  /** Tags candidates carry (read by the funnel). */
  readonly tags: Tag[] = [];
  /** Office locations for onsite interviews (read by the timeline). */
  readonly offices: Office[] = [];
  private readonly domain: string;
  private remoteSeq = 0;

  readonly candidates: Rec[] = [];
  readonly applications: Rec[] = [];
  readonly interviews: Rec[] = [];

  constructor(
    private readonly spec: SandboxIntegrationSpec,
    private readonly pools: Pools,
    private readonly ids: IdFactory,
    seed: number,
  ) {
    this.rng = new Rng(fnv1a32(`${seed}:${spec.id}`));
    this.idRng = new Rng(fnv1a32(`ids:${seed}:${spec.id}`));
    this.extra = new Rng(fnv1a32(`extra:${seed}:${spec.id}`));
    this.extraIdRng = new Rng(fnv1a32(`extra-ids:${seed}:${spec.id}`));
    this.domain = `${asciiSlug(spec.tool) || 'acme'}-customer.example.com`;
  }

  run(): SandboxIntegrationData {
    this.setup();
    for (let i = 0; i < this.spec.candidates; i++) this.candidate(FORCED[i]);
    return {
      id: this.spec.id,
      tool: this.spec.tool,
      ...(this.spec.unavailableModels && { unavailableModels: [...this.spec.unavailableModels] }),
      candidates: sortById(this.candidates),
      applications: sortById(this.applications),
      interviews: sortById(this.interviews),
      jobs: this.jobs.map((j) => ({
        ...j.summary,
        stages: j.stages.map((s) => ({ ...s })),
        screening_questions: [...j.questions.map((x) => x.q), ...j.extraQuestions].map(({ def }) => ({ ...def, ...(def.options && { options: [...def.options] }) })),
      })),
    };
  }

  private newId(): string {
    return this.ids.next(this.idRng);
  }

  private newExtraId(): string {
    return this.ids.next(this.extraIdRng);
  }

  // Tools spell remote ids differently; lever uses UUIDs, most others counters.
  private remoteId(): string {
    this.remoteSeq++;
    switch (this.spec.tool) {
      case 'lever':
        return `${hex(this.rng, 8)}-${hex(this.rng, 4)}-4${hex(this.rng, 3)}-a${hex(this.rng, 3)}-${hex(this.rng, 12)}`;
      case 'workable':
        return hex(this.rng, 6);
      case 'greenhouse':
        return String(4_000_000_000 + this.remoteSeq * 7);
      default:
        return String(100_000 + this.remoteSeq);
    }
  }

  private remoteUrl(kind: 'candidate' | 'application', remoteId: string): string {
    const t = this.spec.tool;
    if (t === 'greenhouse') return flat(`https://app.greenhouse.io/people/${remoteId}${kind === 'application' ? '/applications' : ''}`);
    if (t === 'lever') return flat(`https://hire.lever.co/candidates/${remoteId}`);
    return flat(`https://${t}.example.com/${kind}s/${remoteId}`);
  }

  private setup(): void {
    const r = this.rng;
    const n = this.spec.candidates;
    const jobCount = Math.max(4, Math.min(30, Math.round(Math.sqrt(n) / 3)));
    for (let j = 0; j < jobCount; j++) {
      const name = j < JOB_NAMES_FIXED.length && r.chance(0.7) ? (JOB_NAMES_FIXED[j] as string) : r.pick(this.pools.jobTitles);
      const stageCount = r.int(4, 7);
      const middle = j === 1 ? STAGE_MIDDLE_UNICODE : STAGE_MIDDLE;
      // Keep pipeline order: choose which middle stages exist, never reorder them.
      const chosen = new Set<number>();
      while (chosen.size < Math.min(stageCount - 2, middle.length)) chosen.add(r.int(0, middle.length - 1));
      const names = ['Application Review', ...[...chosen].sort((a, b) => a - b).map((k) => middle[k] as string), 'Hired'];
      const stages = names.map((sname, index) => ({ id: this.newId(), remote_id: this.remoteId(), name: sname, index }));
      const options = times(3, () => this.newId());
      const summary = { id: this.newId(), name, remote_id: this.remoteId() };
      const TYPES = { bool: 'BOOLEAN', text: 'TEXT', number: 'NUMBER', multi: 'MULTI_SELECT' } as const;
      const questions = (
        [
          ['Do you require visa sponsorship?', 'bool'],
          ['Why do you want to join us?', 'text'],
          ['Years of experience', 'number'],
          ['Which languages do you speak?', 'multi'],
        ] as const
      ).map(([title, kind]) => ({
        q: question({ id: this.newId(), remote_id: this.remoteId(), title, type: TYPES[kind], ...(kind === 'multi' && { options }) }),
        kind,
      }));
      const channels = times(4, () => this.newExtraId());
      this.jobs.push({
        summary,
        stages,
        optionSets: [options.slice(0, 1), options.slice(0, 2), options],
        questions,
        extraQuestions: [
          question({ id: this.newExtraId(), remote_id: `${summary.remote_id}-source`, title: 'How did you hear about us?', type: 'SINGLE_SELECT', options: channels }),
          question({ id: this.newExtraId(), remote_id: `${summary.remote_id}-start`, title: 'Earliest start date', type: 'DATE' }),
          // A question type Kombo does not map yet (an upload): Kombo passes the ATS's answer on as `raw`.
          question({ id: this.newExtraId(), remote_id: null, title: 'Portfolio (upload)', type: 'UNKNOWN' }),
        ],
      });
    }
    const userCount = Math.max(5, Math.min(25, Math.round(n / 60)));
    for (let u = 0; u < userCount; u++) {
      const first = r.pick(this.pools.userFirstNames);
      const last = r.pick(this.pools.userLastNames);
      // Kombo nulls invalid interviewer emails; keep one such user.
      const email = u === 0 ? null : `${asciiSlug(first)}.${asciiSlug(last)}${u}@${this.domain}`;
      this.users.push({ id: this.newId(), remote_id: this.remoteId(), first_name: first, last_name: last, email });
    }
    for (const name of TAG_NAMES) this.tags.push({ id: this.newId(), name, remote_id: this.remoteId() });
    for (let o = 0; o < 3; o++) {
      const lp = r.weighted(this.pools.localeTable);
      const place = r.pick(lp.places);
      const street = r.pick(lp.streets);
      this.offices.push({
        city: place.city,
        country: lp.profile.country,
        raw: `${street}, ${place.zip} ${place.city}, ${lp.profile.countryName}`,
        state: place.state,
        street_1: street,
        street_2: o === 2 ? '3. OG / 3rd floor' : null,
        zip_code: place.zip,
      });
    }
  }

  private candidate(forced: ForcedCandidate | undefined): void {
    const r = this.rng;
    const p = this.pools;
    const lp = r.weighted(p.localeTable);
    const id = this.newId();
    const remoteId = this.remoteId();

    let first: string | null = r.chance(0.005) ? null : r.pick(lp.firstNames);
    let last: string | null = r.chance(0.003) ? '' : r.pick(lp.lastNames);
    if (forced && 'first' in forced) first = forced.first ?? null;
    if (forced && 'last' in forced) last = forced.last ?? null;

    const companyRoll = r.next();
    let company: string | null = companyRoll < 0.1 ? null : companyRoll < 0.13 ? '' : r.pick(lp.companies);
    if (forced && 'company' in forced) company = forced.company ?? null;

    const titleRoll = r.next();
    let title: string | null = titleRoll < 0.05 ? null : titleRoll < 0.07 ? '' : r.pick(lp.titles);
    // Same column, two visually similar unicode values: exercises Parquet min/max statistics.
    const growthRoll = r.next();
    if (growthRoll < 0.002) title = '🚀 Growth Hacker';
    else if (growthRoll < 0.004) title = 'Ｇｒｏｗｔｈ Hacker';
    if (forced && 'title' in forced) title = forced.title ?? null;
    if (forced?.longTitle) title = `Senior Principal Staff Engineer — ${p.longTexts[0]}`;

    let confidential = r.weighted(W_CONFIDENTIAL);
    if (forced && 'confidential' in forced) confidential = forced.confidential ?? null;

    const slug = asciiSlug(first) || asciiSlug(last) || `candidate${remoteId.slice(-4)}`;
    const slugFull = [asciiSlug(first), asciiSlug(last)].filter(Boolean).join('.') || slug;

    const phoneCount = r.weighted(W_PHONE_COUNT);
    const phones: Rec[] = [];
    for (let k = 0; k < phoneCount; k++) {
      let type = r.weighted(W_PHONE_TYPE);
      if (r.chance(0.001)) type = 'PAGER';
      phones.push({ phone_number: flat(`+${lp.profile.callingCode} ${digits(r, 3)} ${digits(r, 7)}`), type });
    }
    if (forced?.phoneType) phones.push({ phone_number: `+49 171 ${digits(r, 7)}`, type: forced.phoneType });

    const emailCount = r.weighted(W_EMAIL_COUNT);
    const emails: Rec[] = [];
    for (let k = 0; k < emailCount; k++) {
      const type = r.weighted(W_EMAIL_TYPE);
      const domain = type === 'WORK' ? `${asciiSlug(company) || 'work'}.example.com` : r.pick(EMAIL_DOMAINS);
      const local = r.chance(0.05) ? `${slugFull}+jobs` : `${slugFull}${r.int(1, 999)}`;
      emails.push({ email_address: flat(`${local}@${domain}`), type });
    }

    let social: Rec[] | null = [];
    const socialCount = r.weighted(W_SOCIAL_COUNT);
    for (let k = 0; k < socialCount; k++) {
      const type = k === 0 ? 'LINKEDIN' : r.pick(SOCIAL);
      const handle = `${slug}-${hex(r, 6)}`;
      const link =
        type === 'LINKEDIN'
          ? `https://www.linkedin.com/in/${handle}`
          : type === 'GITHUB'
            ? `https://github.com/${handle}`
            : type === 'XING'
              ? `https://www.xing.com/profile/${handle}`
              : type === 'TWITTER'
                ? `https://twitter.com/${handle}`
                : `https://${handle}.example.dev`;
      social.push({ link: flat(link), type, username: r.chance(0.4) ? handle : null });
    }
    if (forced?.socialNull) social = null;

    let location: Rec | null = null;
    if (!r.chance(0.05)) {
      const place = r.pick(lp.places);
      const hasStreet = r.chance(0.6);
      location = {
        city: place.city,
        country: lp.profile.country,
        raw: flat(`${place.city}, ${lp.profile.countryName}`),
        state: r.chance(0.8) ? place.state : null,
        street_1: hasStreet ? r.pick(lp.streets) : null,
        street_2: hasStreet && r.chance(0.05) ? `Apt ${r.int(1, 40)}${r.pick(['A', 'B', 'C'])}` : null,
        zip_code: r.chance(0.85) ? place.zip : '',
      };
    }

    const customFields = this.customFields(forced?.nestedCustom === true);
    if (forced?.longCustom || r.chance(0.0005)) customFields.recruiter_notes = r.pick(p.longTexts);

    const integrationFields: Rec[] = r.chance(0.1)
      ? [
          { id: this.newId(), key: 'customTshirtSize', type: 'CUSTOM', value: r.pick(['S', 'M', 'L', 'XL']), label: 'T-Shirt Size' },
          { id: this.newId(), key: 'gender', type: 'DEFAULT', value: null, label: null },
        ]
      : [];

    const tags: Tag[] = [];
    const tagCount = r.weighted(W_TAG_COUNT);
    while (tags.length < tagCount) {
      const t = r.pick(this.tags);
      if (!tags.includes(t)) tags.push(t);
    }

    const createdMs = AS_OF_MS - r.int(DAY, HISTORY_MS);
    // About a third of records are never edited after creation.
    const updatedMs = r.chance(0.3) ? createdMs : Math.min(AS_OF_MS, createdMs + r.int(0, 120 * DAY));
    const changedMs = Math.min(AS_OF_MS, updatedMs + r.int(0, 6 * HOUR));
    const deleted = forced?.deleted ?? r.chance(0.025);
    const deletedMs = deleted ? Math.min(AS_OF_MS, changedMs + r.int(HOUR, 30 * DAY)) : null;
    const remoteData = forced?.remoteData || r.chance(0.05) ? this.remoteData('candidates', remoteId, createdMs) : null;
    const createdIso = iso(createdMs);

    const candidate: Rec = {
      id,
      remote_id: remoteId,
      first_name: first,
      last_name: last,
      company,
      title,
      confidential,
      source: r.weighted(SOURCES),
      phone_numbers: forced?.empty ? [] : tight(phones),
      email_addresses: forced?.empty ? [] : tight(emails),
      social_media: forced?.empty ? [] : social && tight(social),
      location,
      custom_fields: forced?.empty ? {} : customFields,
      integration_fields: integrationFields,
      remote_url: this.remoteUrl('candidate', remoteId),
      remote_created_at: r.chance(0.005) ? null : createdIso,
      remote_updated_at: r.chance(0.01) ? null : updatedMs === createdMs ? createdIso : iso(updatedMs),
      remote_data: remoteData,
      changed_at: iso(changedMs),
      remote_deleted_at: isoOrNull(deletedMs),
      applications: [],
      tags: forced?.empty ? [] : tight(tags),
    };
    this.candidates.push(candidate);

    const appSpecs: ForcedApplication[] =
      forced?.apps ??
      (forced?.empty
        ? []
        : times(
            r.weighted(W_APP_COUNT),
            () => ({}),
          ));
    const usedJobs = new Set<Job>();
    const summaries: Rec[] = [];
    for (const spec of appSpecs) {
      let job = r.pick(this.jobs);
      while (usedJobs.has(job) && usedJobs.size < this.jobs.length) job = r.pick(this.jobs);
      usedJobs.add(job);
      summaries.push(this.application(candidate, job, createdMs, deletedMs, spec));
    }
    candidate.applications = tight(summaries);
  }

  /**
   * Offers other than a hire's accepted one (pushed by the caller from the main stream), consistent
   * with the outcome: an open offer (draft, approved or sent) while the application sits in the
   * offer stage (the one before the last), a declined or abandoned one when it was declined there,
   * and now and then an abandoned offer before the one a hire accepted.
   */
  private offers(outcome: string | null, withdrawal: boolean, atOfferStage: boolean): Rec[] {
    const x = this.extra;
    const offer = (status: string): Rec => ({ id: this.newExtraId(), remote_id: String(x.int(10_000_000, 99_999_999)), status });
    if (outcome === 'HIRED') return x.chance(0.15) ? [offer('ABANDONED')] : [];
    if (!atOfferStage || !x.chance(0.85)) return [];
    if (outcome === 'PENDING') return [offer(x.weighted(W_OPEN_OFFER))];
    if (outcome === 'DECLINED') return [offer(withdrawal || x.chance(0.5) ? 'DECLINED' : 'ABANDONED')];
    return [];
  }

  private customFields(nested: boolean): Rec {
    const r = this.rng;
    if (!nested && r.chance(0.3)) return {};
    const out: Rec = {};
    if (nested || r.chance(0.5))
      out.desired_salary = { amount: r.int(35, 180) * 1000, currency: r.pick(['EUR', 'USD', 'GBP', 'JPY']), period: 'YEAR' };
    if (nested || r.chance(0.4)) out.notice_period_weeks = r.int(0, 12);
    if (nested || r.chance(0.4)) out.willing_to_relocate = r.chance(0.5);
    if (nested || r.chance(0.3)) out.languages = r.pick(LANGUAGE_SETS);
    if (nested || r.chance(0.2)) out.referral = r.chance(0.5) && !nested ? null : { employee_id: hex(r, 8), bonus_eligible: true, paid_at: null };
    if (nested || r.chance(0.15))
      out.scores = { technical: r.int(1, 10) / 2, culture: { rating: r.int(1, 5), notes: null, tags: CULTURE_TAGS } };
    if (nested) out.visa = { required: false, type: null, history: [{ country: 'DE', valid_until: '2026-12-31' }] };
    return out;
  }

  private remoteData(model: SandboxModel, remoteId: string, createdMs: number): Rec {
    // Kombo keys remote_data by the remote endpoint path it read the record from.
    return {
      [`/v1/${model}/${remoteId}`]: {
        id: remoteId,
        created_at: iso(createdMs),
        is_private: false,
        labels: ['imported'],
        custom: REMOTE_CUSTOM,
      },
    };
  }

  private application(candidate: Rec, job: Job, candCreatedMs: number, candDeletedMs: number | null, spec: ForcedApplication): Rec {
    const r = this.rng;
    const id = this.newId();
    const remoteId = this.remoteId();
    const last = job.stages.length - 1;

    const drawn: Outcome =
      spec.outcome !== undefined
        ? spec.outcome
        : r.weighted(W_OUTCOME);
    const withdrawal = drawn === 'WITHDRAWAL';
    let outcome: Exclude<Outcome, 'WITHDRAWAL'> = withdrawal ? 'DECLINED' : drawn;
    let stageIdx: number | null = outcome === 'HIRED' ? last : r.int(0, last - 1);
    if (outcome === null) stageIdx = r.int(0, last);
    if (spec.stageNull || (spec.stageNull === undefined && r.chance(0.01))) stageIdx = null;
    if (outcome === 'HIRED' && stageIdx === null) outcome = 'PENDING';
    const stage = stageIdx === null ? null : (job.stages[stageIdx] as SandboxStage);

    const createdMs = Math.min(AS_OF_MS, candCreatedMs + r.int(0, 60 * DAY));
    const updatedMs = r.chance(0.3) ? createdMs : Math.min(AS_OF_MS, createdMs + r.int(0, 90 * DAY));
    const createdIso = iso(createdMs);
    const changedMs = Math.min(AS_OF_MS, updatedMs + r.int(0, 6 * HOUR));
    const rejectedMs = withdrawal ? updatedMs : outcome === 'DECLINED' && !r.chance(0.1) ? updatedMs : null;
    const deleted = candDeletedMs !== null || (spec.deleted ?? r.chance(0.008));
    const deletedMs = deleted ? (candDeletedMs ?? Math.min(AS_OF_MS, changedMs + r.int(HOUR, 20 * DAY))) : null;

    const screening: Rec[] = [];
    if (r.chance(0.5)) {
      for (const { q, kind } of job.questions) {
        if (!r.chance(0.6)) continue;
        const value =
          kind === 'bool'
            ? r.chance(0.5)
            : kind === 'number'
              ? r.int(0, 25)
              : kind === 'multi'
                ? r.pick(job.optionSets)
                : r.pick(this.pools.sentences);
        screening.push({ question: q.ref, answer: typedAnswer(q.ref.type, value) });
      }
      for (const q of job.extraQuestions) {
        if (!this.extra.chance(0.5)) continue;
        const type = q.ref.type;
        const value =
          type === 'SINGLE_SELECT'
            ? this.extra.pick(q.def.options ?? [])
            : type === 'DATE'
              ? iso(Math.floor((createdMs + this.extra.int(14, 90) * DAY) / DAY) * DAY)
              : { file_name: 'portfolio.pdf', content_type: 'application/pdf', size_bytes: this.extra.int(50_000, 5_000_000) };
        screening.push({ question: q.ref, answer: typedAnswer(type, value) });
      }
    }

    const candidateSummary = nestedCandidate(candidate);
    const offers = this.offers(outcome, withdrawal, stageIdx === last - 1);
    const declinedOffer = offers.some((o) => o.status === 'DECLINED');
    let reason = withdrawal ? WITHDRAWAL_REASON : outcome === 'DECLINED' ? r.pick(REJECTION_REASONS) : null;
    if (declinedOffer && !withdrawal) reason = OFFER_DECLINED_REASON;
    const app: Rec = {
      id,
      remote_id: remoteId,
      outcome,
      rejection_reason_name: reason,
      rejected_at: isoOrNull(rejectedMs),
      current_stage_id: stage?.id ?? null,
      job_id: job.summary.id,
      candidate_id: candidate.id,
      screening_question_answers: tight(screening),
      custom_fields: r.chance(0.7) ? {} : { priority: r.pick(PRIORITIES), sla: { days: r.int(3, 30), breached: r.chance(0.2) } },
      integration_fields: [],
      remote_url: this.remoteUrl('application', remoteId),
      changed_at: iso(changedMs),
      remote_deleted_at: isoOrNull(deletedMs),
      remote_created_at: r.chance(0.005) ? null : createdIso,
      remote_updated_at: r.chance(0.01) ? null : updatedMs === createdMs ? createdIso : iso(updatedMs),
      remote_data: r.chance(0.04) ? this.remoteData('applications', remoteId, createdMs) : null,
      candidate: candidateSummary,
      current_stage: stage,
      job: job.summary,
      interviews: [],
      offers,
    };
    if (outcome === 'HIRED') offers.push({ id: this.newId(), remote_id: this.remoteId(), status: 'ACCEPTED' });
    this.applications.push(app);

    // Interviews happen at stages the application has reached (past the first review).
    const reached = stageIdx ?? r.int(0, last);
    const interviewUsers =
      spec.interviewUsers ??
      (reached === 0 || r.chance(0.35)
        ? []
        : times(r.int(1, Math.min(3, reached)), () =>
            r.weighted(W_INTERVIEWERS),
          ));
    const interviewSummaries: Rec[] = [];
    // Every interview of this application nests the same summary: build it once.
    const appSummary: Rec | null =
      interviewUsers.length === 0
        ? null
        : {
            id: app.id,
            remote_id: app.remote_id,
            outcome: app.outcome,
            rejection_reason_name: app.rejection_reason_name,
            candidate: {
              id: candidate.id,
              remote_id: candidate.remote_id,
              first_name: candidate.first_name,
              last_name: candidate.last_name,
              email_addresses: candidate.email_addresses,
            },
            job: job.summary,
          };
    interviewUsers.forEach((userCount, k) => {
      const interview = this.interview(app, appSummary as Rec, candidate, job, createdMs, deletedMs, reached, k, interviewUsers.length, userCount, {
        canceled: spec.canceled?.[k],
        deleted: spec.interviewDeleted?.[k],
      });
      interviewSummaries.push(interviewSummary(interview));
    });
    app.interviews = tight(interviewSummaries);

    return applicationSummary(app);
  }

  private interview(
    app: Rec,
    appSummary: Rec,
    candidate: Rec,
    job: Job,
    appCreatedMs: number,
    appDeletedMs: number | null,
    reached: number,
    k: number,
    count: number,
    userCount: number,
    forced: { canceled: boolean | null | undefined; deleted: boolean | undefined },
  ): Rec {
    const r = this.rng;
    const id = this.newId();
    const remoteId = this.remoteId();
    // The k-th of `count` interviews walks up the pipeline towards the stage reached, never into
    // the final "Hired" stage, and later interviews happen later.
    const top = Math.min(reached, job.stages.length - 2);
    const first = Math.max(Math.min(1, top), top - count + 1);
    const stage = job.stages[Math.min(top, first + k)] as SandboxStage;
    // Office hours (UTC), on the quarter hour.
    const day = Math.floor((appCreatedMs + (k + 1) * r.int(2 * DAY, 14 * DAY)) / DAY) * DAY;
    const startMs = day + r.int(7, 17) * HOUR + r.int(0, 3) * 15 * 60_000;
    const endMs = startMs + r.pick(DURATIONS_MIN) * 60_000;
    const createdMs = Math.min(AS_OF_MS, startMs - r.int(HOUR, 7 * DAY));
    const updatedMs = Math.min(AS_OF_MS, Math.max(createdMs, startMs + r.int(-DAY, DAY)));
    const changedMs = Math.min(AS_OF_MS, updatedMs + r.int(0, 6 * HOUR));
    const deleted = appDeletedMs !== null || (forced.deleted ?? r.chance(0.005));
    const deletedMs = deleted ? (appDeletedMs ?? Math.min(AS_OF_MS, changedMs + r.int(HOUR, 10 * DAY))) : null;
    const onsite = r.chance(0.4);
    const name = [candidate.first_name, candidate.last_name].filter((s) => typeof s === 'string' && s !== '').join(' ');

    const users: User[] = [];
    while (users.length < Math.min(userCount, this.users.length)) {
      const u = r.pick(this.users);
      if (!users.includes(u)) users.push(u);
    }
    const canceled =
      forced.canceled !== undefined
        ? forced.canceled
        : r.weighted(W_CANCELED);

    const interview: Rec = {
      id,
      remote_id: remoteId,
      title: r.chance(0.02) ? null : flat(`${stage.name}${name ? ` with ${name}` : ''}`),
      starting_at: slotIso(startMs),
      ending_at: slotIso(endMs),
      location: onsite ? r.pick(this.offices) : null,
      video_conferencing_url: onsite ? null : r.chance(0.9) ? r.pick(VIDEO_URLS)(r) : null,
      application_id: app.id,
      stage_id: r.chance(0.03) ? null : stage.id,
      canceled,
      remote_created_at: iso(createdMs),
      remote_updated_at: r.chance(0.01) ? null : iso(updatedMs),
      remote_data: r.chance(0.03) ? this.remoteData('interviews', remoteId, createdMs) : null,
      changed_at: iso(changedMs),
      remote_deleted_at: isoOrNull(deletedMs),
      users: tight(users),
      application: appSummary,
    };
    this.interviews.push(interview);
    return interview;
  }
}

/** Options of {@link generateDataset} and {@link createSandboxTimeline}. */
export interface GenerateOptions {
  seed?: number;
  integrations?: readonly SandboxIntegrationSpec[];
}

/** Validates the specs and runs one generator per integration (static data, as of {@link SANDBOX_DATA_AS_OF}). */
export function generateBase(opts: GenerateOptions): { seed: number; ids: IdFactory; integrations: TimelineBase[] } {
  const seed = opts.seed ?? DEFAULT_SANDBOX_SEED;
  const specs = opts.integrations ?? DEFAULT_SANDBOX_INTEGRATIONS;
  const seen = new Set<string>();
  for (const s of specs) {
    if (!/^[a-z0-9_-]+:[A-Za-z0-9]{24}$/.test(s.id)) throw new Error(`Sandbox integration id "${s.id}" is not of the form <tool>:<24 alphanumeric chars>`);
    if (seen.has(s.id)) throw new Error(`Sandbox integration id "${s.id}" is listed twice`);
    if (!Number.isInteger(s.candidates) || s.candidates < 0) throw new Error(`Sandbox integration "${s.id}": candidates must be a non-negative integer`);
    seen.add(s.id);
  }
  const pools = buildPools(seed);
  const ids = new IdFactory();
  const generators = specs.map((spec) => {
    const generator = new IntegrationGenerator(spec, pools, ids, seed);
    return { generator, data: generator.run() };
  });
  // The funnel draws its ids after every other record has its own, so it never shifts one of them.
  const integrations = generators.map(({ generator, data }): TimelineBase => {
    const funnel = buildFunnelProfile(
      seed,
      {
        integrationId: data.id,
        tool: data.tool,
        jobs: data.jobs ?? [],
        interviewers: generator.users,
        tags: generator.tags,
        reasonNames: [...REJECTION_REASONS, OFFER_DECLINED_REASON],
        offices: generator.offices as unknown as Rec[],
        sentences: pools.sentences,
      },
      ids,
    );
    data.funnel = staticFunnel(seed, data, funnel);
    return { data, generated: generator.candidates, users: generator.users, offices: generator.offices, funnel };
  });
  return { seed, ids, integrations };
}

/** The funnel of the static dataset, as of {@link SANDBOX_DATA_AS_OF}. */
function staticFunnel(seed: number, data: SandboxIntegrationData, profile: FunnelProfile): SandboxFunnelRecords {
  const created = (r: Rec): number => Date.parse(String(r.remote_created_at ?? r.changed_at));
  const applicationsByJob = new Map<string, number[]>();
  for (const app of data.applications) {
    const list = applicationsByJob.get(String(app.job_id)) ?? [];
    list.push(created(app));
    applicationsByJob.set(String(app.job_id), list);
  }
  const lastInterviewByUser = new Map<string, number>();
  for (const iv of data.interviews) {
    const start = Date.parse(String(iv.starting_at));
    for (const u of iv.users as SandboxUser[]) lastInterviewByUser.set(u.id, Math.max(start, lastInterviewByUser.get(u.id) ?? 0));
  }
  // Jobs without applicants and staff changes fall into the last hundred days before the as-of date.
  const facts = { originMs: AS_OF_MS - 100 * DAY, applicationsByJob, lastInterviewByUser };
  const clock = planFunnelClock(profile, facts, new Rng(fnv1a32(`funnel-static:${seed}:${data.id}`)));
  const offers = data.applications.flatMap((app) =>
    (app.offers as { id: string; remote_id: string; status: SandboxOfferStatus }[]).map((o) => ({
      id: o.id,
      remoteId: o.remote_id,
      application: app,
      events: staticOfferEvents(o.status, created(app), Date.parse(String(app.remote_updated_at ?? app.changed_at)), AS_OF_MS),
      deletedMs: app.remote_deleted_at === null ? null : Date.parse(String(app.remote_deleted_at)),
    })),
  );
  return funnelAt(profile, clock, offers, AS_OF_MS);
}

/** What the static generator hands over per integration. */
export interface TimelineBase {
  data: SandboxIntegrationData;
  /** Candidates in generation order: the forced edge cases first. */
  generated: readonly Rec[];
  users: readonly SandboxUser[];
  offices: readonly object[];
  /** The integration's funnel, apart from time. */
  funnel: FunnelProfile;
}

