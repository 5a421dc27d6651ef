/**
 * The built-in Kombo sandbox: a node:http server on 127.0.0.1 that speaks the part of Kombo's API
 * the pipeline uses (bearer auth, `X-Integration-Id`, cursor paging, `page_size` ≤ 250,
 * `updated_after`, `include_deleted`, `ids`, `remote_ids`, Kombo error bodies) over a seeded
 * dataset, with injectable faults. `POST /ats/candidates` writes into the same dataset object the
 * caller holds, so tests can use it as ground truth.
 *
 * Choices worth knowing:
 * - Cursors are keyset cursors (last id + a hash of the filters), not offsets, so a candidate
 *   created between two pages neither repeats nor hides a record.
 * - Faults (429, 5xx, resets) are decided before authentication, as a rate limiter or load
 *   balancer in front of Kombo would; they apply to every GET, `GET /integrations/{id}` included,
 *   and never to POST, so writes stay deterministic. Latency applies to every request; a GET is
 *   answered that long after it arrived, the sandbox's own work included, as Kombo's latency is.
 * - A request budget (`faults.rateLimit`, see `rate-limit.ts`) counts GETs per API key in fixed
 *   windows and answers 429 with `Retry-After` once a window is spent; with a budget, every answer
 *   carries `ratelimit-*` headers, so clients can pace themselves as they would against Kombo.
 * - Documented filters the sandbox does not implement (`email`, `job_ids`, …) and unknown query
 *   parameters answer 400 `PLATFORM.INPUT_INVALID` instead of silently returning unfiltered data.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { SandboxDataset, SandboxIntegrationData, SandboxJob, SandboxModel, SandboxScreeningQuestion, SandboxStage } from './data.ts';
import {
  DEFAULT_SANDBOX_SEED,
  IdFactory,
  Rng,
  SANDBOX_DATA_AS_OF,
  SANDBOX_MODELS,
  fnv1a32,
  modelRecords,
  nestedCandidate,
  sortById,
  toolLabel,
  typedAnswer,
} from './data.ts';
import { createSandboxTimeline, generateDataset } from './dataset.ts';
import type { SandboxTimeline } from './timeline.ts';
import { asOfInstant } from './timeline.ts';
import type { ExtraFaultDecider, FaultDecider, FaultDecision, PageBadDataKind, SandboxFaults, ServerErrorKind } from './faults.ts';
import { RateLimiter } from './rate-limit.ts';
import { randomString } from './random.ts';
import type { SandboxWebhookOptions, SandboxWebhookStats } from './webhooks.ts';
import { WebhookSender, changedModels, dataChangedData, fingerprint } from './webhooks.ts';
import {
  DEFAULT_SLOW_MS,
  applyOddities,
  badDataFor,
  createExtraFaultDecider,
  createFaultDecider,
  isModelUnavailable,
  isRevoked,
  isTargeted,
  parseSandboxFaults,
} from './faults.ts';

/** The API key the sandbox accepts unless told otherwise. */
export const SANDBOX_API_KEY = 'sandbox-key';
/** Page size when `page_size` is absent (Kombo's default). */
export const SANDBOX_DEFAULT_PAGE_SIZE = 100;
/** Largest `page_size` accepted (Kombo's limit). */
export const SANDBOX_MAX_PAGE_SIZE = 250;
/** Value of the `ratelimit-limit` header on 429 answers. */
export const SANDBOX_RATE_LIMIT = 300;

/** How to start the sandbox. */
export interface SandboxOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Accepted bearer key (default {@link SANDBOX_API_KEY}). */
  apiKey?: string;
  /** Data to serve, used live (POST appends to it). Default: `generateDataset({ seed })`. */
  dataset?: SandboxDataset;
  /** Seed for the generated dataset, the fault PRNG (unless `faults.seed`) and ids of created records. */
  seed?: number;
  faults?: SandboxFaults;
  /**
   * Serve the simulated company as of the end of this day (`YYYY-MM-DD`) instead of the static
   * dataset; move the date later with {@link RunningSandbox.setAsOf}. Ignored when `dataset` is given.
   */
  asOf?: string;
  /** The simulated history to serve with `asOf` (default: `createSandboxTimeline({ seed })`). */
  timeline?: SandboxTimeline;
  /**
   * Send Kombo's webhooks to this 127.0.0.1 URL, signed with this secret: `data-changed` after
   * `POST /ats/candidates` and after each move of the simulated clock that changed records,
   * `integration-created` / `integration-deleted` when integrations are added or removed
   * (`POST /sandbox/integrations`, `DELETE /sandbox/integrations/{id}`). Default: none sent.
   */
  webhook?: SandboxWebhookOptions;
}

/** What `POST /sandbox/integrations` (or {@link RunningSandbox.addIntegration}) takes. */
export interface NewSandboxIntegration {
  /** Tool id, like `greenhouse` (lowercase letters, digits, `_` and `-`). */
  tool: string;
  end_user_organization_name: string;
  /** Candidates to generate (default {@link SANDBOX_NEW_INTEGRATION_CANDIDATES}). */
  candidates?: number;
}

/** Candidates an integration added to a running sandbox gets unless told otherwise. */
export const SANDBOX_NEW_INTEGRATION_CANDIDATES = 40;
/** Most candidates an integration added to a running sandbox may ask for. */
export const SANDBOX_MAX_NEW_INTEGRATION_CANDIDATES = 5_000;

/** Request counters, for asserting what a client did. */
export interface SandboxStats {
  /** Every request received, faulted or not. */
  requests: number;
  faults: { '429': number; '5xx': number; reset: number; slow: number; invalidCursor: number; repeatRecord: number; badData: number };
  /** Requests per URL path (no query string). */
  byPath: Record<string, number>;
  /** Requests answered 429 because the key's budget ({@link SandboxFaults.rateLimit}) was spent. */
  rateLimited: number;
}

/** A started sandbox. */
export interface RunningSandbox {
  /** Base URL, like `https://api.kombo.dev/v1`: `http://127.0.0.1:<port>/v1`. */
  url: string;
  apiKey: string;
  /** The served data, live: `POST /ats/candidates` appends to it. */
  dataset: SandboxDataset;
  stats: SandboxStats;
  /** Replaces the fault settings (validated) and restarts the fault PRNG from its seed. */
  setFaults(f: SandboxFaults): void;
  /**
   * Re-reads the dataset after records were edited in place (e.g. a test sets
   * `remote_deleted_at`). Arrays that grew or were replaced are picked up without it.
   */
  reindex(): void;
  /** The simulated date served (`YYYY-MM-DD`), or null for the static dataset. */
  readonly asOf: string | null;
  /** The simulated history served, or null for the static dataset. */
  readonly timeline: SandboxTimeline | null;
  /**
   * Moves the simulated clock to the end of `date` (`YYYY-MM-DD`): every integration's records are
   * replaced, in the same `dataset` object, by the ones as of that day. Records created with
   * `POST /ats/candidates` are dropped. Only for a sandbox started with `asOf`.
   * @throws Error when the sandbox serves a static dataset or the date is malformed.
   */
  setAsOf(date: string): void;
  /**
   * Moves the simulated clock to an instant (`YYYY-MM-DDTHH:MM:SSZ`), within a day or across days:
   * the records as of then, the `Date` header that instant, `asOf` its date. Only for a sandbox
   * started with `asOf`; webhooks as for {@link setAsOf}. Also `POST /sandbox/clock` `{at}`.
   * @throws Error when the sandbox serves a static dataset or the instant is malformed.
   */
  setClock(instant: string): void;
  /**
   * Connects a new integration (as an end user finishing Kombo's connect flow would): generated
   * data, its own id, and an `integration-created` webhook. Also `POST /sandbox/integrations`.
   * @throws Error when the tool or organization name is malformed.
   */
  addIntegration(spec: NewSandboxIntegration): SandboxIntegrationData;
  /**
   * Removes an integration: its endpoints answer `PLATFORM.INTEGRATION_NOT_FOUND` from then on, and
   * an `integration-deleted` webhook goes out. Also `DELETE /sandbox/integrations/{id}`.
   * Returns false when no such integration exists.
   */
  deleteIntegration(id: string): boolean;
  /**
   * Sends Kombo's webhooks to another receiver from now on (or to a first one, for a sandbox started
   * without `webhook`): a receiver that starts after the sandbox, as the demo's does.
   */
  sendWebhooksTo(webhook: SandboxWebhookOptions): void;
  /** The webhooks sent so far and their deliveries, or null when none are configured. */
  readonly webhooks: SandboxWebhookStats | null;
  /** Resolves once every webhook sent so far was delivered or given up on. */
  webhooksSettled(): Promise<void>;
  /** Stops listening and destroys open (keep-alive) connections. */
  close(): Promise<void>;
}

type Rec = Record<string, unknown>;

interface Reply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    readonly title: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

const TITLES: Record<string, string> = {
  'PLATFORM.AUTHENTICATION_INVALID': 'The provided API key is invalid.',
  'PLATFORM.INPUT_INVALID': 'The input is invalid.',
  'PLATFORM.INTEGRATION_NOT_FOUND': 'The integration could not be found.',
  'PLATFORM.RATE_LIMIT_EXCEEDED': 'You have exceeded the rate limit.',
  'PLATFORM.UNKNOWN_ERROR': 'An unknown error occurred.',
  'REMOTE.SERVICE_UNAVAILABLE': 'The remote system is currently unavailable.',
  'INTEGRATION.MODEL_NOT_AVAILABLE': "This data model isn't supported for the selected integration.",
  'INTEGRATION.AUTHENTICATION_INVALID': 'The credentials of this integration are no longer valid.',
};

function fail(status: number, code: string | null, message: string): HttpError {
  return new HttpError(status, code, code === null ? null : (TITLES[code] ?? null), message);
}

function errorReply(err: HttpError, headers?: Record<string, string>): Reply {
  const body = JSON.stringify({ status: 'error', error: { code: err.code, title: err.title, message: err.message, log_url: null } });
  return { status: err.status, body, contentType: JSON_TYPE, ...(headers ? { headers } : {}) };
}

const okReply = (data: unknown, extra: Rec = {}): Reply => ({
  status: 200,
  body: JSON.stringify({ status: 'success', data, ...extra }),
  contentType: JSON_TYPE,
});

// ---------------------------------------------------------------------------------------------
// Indexes over the live dataset

interface ModelView {
  source: Rec[];
  indexedLength: number;
  /** Sorted by id. */
  all: Rec[];
  /** `all` without deleted records: the default listing, kept so unfiltered pages never scan. */
  live: Rec[];
  byId: Map<string, Rec>;
  /** Filtered results by filter key; small, cleared on any change. */
  cache: Map<string, Rec[]>;
}

const FILTER_CACHE_SIZE = 16;

interface IntegrationState {
  data: SandboxIntegrationData;
  views: Map<SandboxModel, ModelView>;
}

const isDeleted = (r: Rec): boolean => r.remote_deleted_at !== null && r.remote_deleted_at !== undefined;

function buildView(source: Rec[]): ModelView {
  const all = sortById(source);
  const byId = new Map<string, Rec>();
  for (const r of all) byId.set(String(r.id), r);
  return { source, indexedLength: source.length, all, live: all.filter((r) => !isDeleted(r)), byId, cache: new Map() };
}

/** Index of the first record whose id is greater than `id`. */
function upperBound(records: readonly Rec[], id: string): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (String((records[mid] as Rec).id) <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(records: Rec[], record: Rec): void {
  records.splice(upperBound(records, String(record.id)), 0, record);
}

// ---------------------------------------------------------------------------------------------
// Query parsing

interface ListQuery {
  pageSize: number;
  cursor: string | null;
  includeDeleted: boolean;
  updatedAfterMs: number | null;
  ids: string[] | null;
  remoteIds: string[] | null;
}

const COMMON_PARAMS = new Set(['cursor', 'page_size', 'updated_after', 'include_deleted', 'ids', 'remote_ids', 'ignore_unsupported_filters']);
const UNSUPPORTED_PARAMS: Record<SandboxModel, readonly string[]> = {
  candidates: ['email', 'job_ids', 'first_name', 'last_name'],
  applications: ['outcome', 'outcomes', 'job_ids', 'created_after', 'candidate_ids', 'current_stage_ids'],
  interviews: ['application_ids', 'stage_ids'],
  jobs: ['job_codes', 'post_url', 'status', 'statuses', 'name_contains'],
  offers: [],
  users: ['emails'],
  rejection_reasons: [],
  application_stages: [],
  tags: [],
};

const UPDATED_AFTER = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$/;

function parseListQuery(model: SandboxModel, params: URLSearchParams): ListQuery {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key)) throw fail(400, 'PLATFORM.INPUT_INVALID', `Query parameter "${key}" was given more than once.`);
    seen.add(key);
    if (UNSUPPORTED_PARAMS[model].includes(key)) {
      throw fail(400, 'PLATFORM.INPUT_INVALID', `Query parameter "${key}" is documented by Kombo but not supported by the Kombo sandbox.`);
    }
    if (!COMMON_PARAMS.has(key)) throw fail(400, 'PLATFORM.INPUT_INVALID', `Unknown query parameter "${key}".`);
  }

  let pageSize = SANDBOX_DEFAULT_PAGE_SIZE;
  const rawSize = params.get('page_size');
  if (rawSize !== null) {
    pageSize = /^\d{1,6}$/.test(rawSize) ? Number(rawSize) : Number.NaN;
    if (!(pageSize >= 1 && pageSize <= SANDBOX_MAX_PAGE_SIZE)) {
      throw fail(400, 'PLATFORM.INPUT_INVALID', `page_size must be an integer between 1 and ${SANDBOX_MAX_PAGE_SIZE}, got "${rawSize}".`);
    }
  }

  const rawDeleted = params.get('include_deleted');
  if (rawDeleted !== null && rawDeleted !== 'true' && rawDeleted !== 'false') {
    throw fail(400, 'PLATFORM.INPUT_INVALID', `include_deleted must be "true" or "false", got "${rawDeleted}".`);
  }
  const rawIgnore = params.get('ignore_unsupported_filters');
  if (rawIgnore !== null && rawIgnore !== 'true' && rawIgnore !== 'false') {
    throw fail(400, 'PLATFORM.INPUT_INVALID', `ignore_unsupported_filters must be "true" or "false", got "${rawIgnore}".`);
  }

  let updatedAfterMs: number | null = null;
  const rawUpdated = params.get('updated_after');
  if (rawUpdated !== null) {
    // Without a zone Kombo reads UTC; Date.parse would read local time.
    const normalised = rawUpdated.includes('T') && !rawUpdated.endsWith('Z') ? `${rawUpdated}Z` : rawUpdated;
    updatedAfterMs = UPDATED_AFTER.test(rawUpdated) ? Date.parse(normalised) : Number.NaN;
    if (Number.isNaN(updatedAfterMs)) {
      throw fail(400, 'PLATFORM.INPUT_INVALID', `updated_after must be a date-time like 2024-01-31T12:00:00.000Z, got "${rawUpdated}".`);
    }
  }

  const list = (name: string): string[] | null => {
    const raw = params.get(name);
    if (raw === null) return null;
    const items = raw.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) throw fail(400, 'PLATFORM.INPUT_INVALID', `${name} must be a comma-separated list without empty entries.`);
    return [...new Set(items)].sort();
  };
  const ids = list('ids');
  const bad = ids?.find((id) => id.length !== 24);
  if (bad !== undefined) throw fail(400, 'PLATFORM.INPUT_INVALID', `ids must be 24 characters long, got "${bad}".`);

  return {
    pageSize,
    cursor: params.get('cursor'),
    includeDeleted: rawDeleted === 'true',
    updatedAfterMs,
    ids,
    remoteIds: list('remote_ids'),
  };
}

const cursorSchema = z.strictObject({ v: z.literal(1), after: z.string(), filters: z.string() });

function encodeCursor(after: string, filters: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after, filters }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, filters: string): string {
  const invalid = (): HttpError =>
    fail(400, 'PLATFORM.INPUT_INVALID', 'The cursor is invalid: pass the `next` value of the previous page unchanged, with the same filters.');
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success || result.data.filters !== filters) throw invalid();
  return result.data.after;
}

function timeMs(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

/**
 * Whether `GET /ats/<model>?updated_after=<sinceMs>` lists `record`. Kombo's `updated_after` also
 * matches when nested data changed. The sandbox approximates that with the record's own
 * `changed_at` / `remote_updated_at` and, for candidates, those of the application summaries they
 * nest (the documented "applications" dependency).
 */
export function updatedSince(model: SandboxModel, record: Rec, sinceMs: number): boolean {
  if (timeMs(record.changed_at) >= sinceMs || timeMs(record.remote_updated_at) >= sinceMs) return true;
  if (model === 'candidates' && Array.isArray(record.applications)) {
    for (const app of record.applications as Rec[]) {
      if (timeMs(app.changed_at) >= sinceMs || timeMs(app.remote_updated_at) >= sinceMs) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Server

const POST_CANDIDATE_BODY = z.looseObject({
  candidate: z.looseObject({
    first_name: z.string().min(1),
    last_name: z.string().min(1),
    email_address: z.email(),
    company: z.string().nullish(),
    title: z.string().nullish(),
    phone_number: z.string().nullish(),
    location: z
      .looseObject({
        city: z.string().nullish(),
        country: z.string().nullish(),
        state: z.string().nullish(),
        zip_code: z.string().nullish(),
        street_1: z.string().nullish(),
        street_2: z.string().nullish(),
      })
      .nullish(),
    social_links: z.array(z.looseObject({ url: z.string().min(1) })).nullish(),
  }),
  application: z.looseObject({ job_id: z.string().min(1), stage_id: z.string().min(1).nullish() }),
  attachments: z.array(z.unknown()).nullish(),
  screening_question_answers: z.array(z.looseObject({ question_id: z.string(), answer: z.unknown() })).nullish(),
  remote_fields: z.record(z.string(), z.unknown()).nullish(),
  source: z.looseObject({ name: z.string().nullish() }).nullish(),
});

const MAX_BODY_BYTES = 25 * 1024 * 1024;

const NEW_INTEGRATION_BODY = z.looseObject({
  tool: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'expected a tool id like "greenhouse" (lowercase letters, digits, _ and -)'),
  end_user_organization_name: z.string().trim().min(1).max(200),
  candidates: z.int().min(0).max(SANDBOX_MAX_NEW_INTEGRATION_CANDIDATES).optional(),
});

const CLOCK_BODY = z.union([z.strictObject({ as_of: z.string() }), z.strictObject({ at: z.string() })]);

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Kombo's read models the sandbox serves, with the fields of each (the keys of its records). */
const READ_MODELS: readonly { id: string; model: SandboxModel; label: string; fields: readonly string[] }[] = [
  {
    id: 'ats_candidates',
    model: 'candidates',
    label: 'Candidates',
    fields: [
      'id', 'remote_id', 'first_name', 'last_name', 'company', 'title', 'confidential', 'source', 'phone_numbers', 'email_addresses',
      'social_media', 'location', 'custom_fields', 'integration_fields', 'remote_url', 'remote_created_at', 'remote_updated_at',
      'remote_data', 'changed_at', 'remote_deleted_at', 'applications', 'tags',
    ],
  },
  {
    id: 'ats_applications',
    model: 'applications',
    label: 'Applications',
    fields: [
      'id', 'remote_id', 'outcome', 'rejection_reason_name', 'rejected_at', 'current_stage_id', 'job_id', 'candidate_id',
      'screening_question_answers', 'custom_fields', 'integration_fields', 'remote_url', 'changed_at', 'remote_deleted_at',
      'remote_created_at', 'remote_updated_at', 'remote_data', 'candidate', 'current_stage', 'job', 'interviews', 'offers',
    ],
  },
  {
    id: 'ats_interviews',
    model: 'interviews',
    label: 'Interviews',
    fields: [
      'id', 'remote_id', 'title', 'starting_at', 'ending_at', 'location', 'video_conferencing_url', 'application_id', 'stage_id',
      'canceled', 'remote_created_at', 'remote_updated_at', 'remote_data', 'changed_at', 'remote_deleted_at', 'users', 'application',
    ],
  },
  {
    id: 'ats_jobs',
    model: 'jobs',
    label: 'Jobs',
    fields: [
      'id', 'remote_id', 'name', 'job_code', 'description', 'confidential', 'weekly_hours', 'employment_type', 'status', 'visibility',
      'category', 'department', 'post_url', 'experience_level', 'remote_work_status', 'salary_amount', 'salary_amount_from',
      'salary_amount_to', 'salary_currency', 'salary_period', 'location', 'custom_fields', 'remote_url', 'opened_at', 'closed_at',
      'remote_created_at', 'remote_updated_at', 'contact_id', 'changed_at', 'remote_deleted_at', 'stages', 'screening_questions',
      'job_postings', 'hiring_team',
    ],
  },
  {
    id: 'ats_offers',
    model: 'offers',
    label: 'Offers',
    fields: [
      'id', 'remote_id', 'status', 'employment_start_date', 'application_id', 'custom_fields', 'changed_at', 'remote_deleted_at',
      'remote_created_at', 'remote_updated_at', 'application',
    ],
  },
  {
    id: 'ats_users',
    model: 'users',
    label: 'Users',
    fields: ['id', 'remote_id', 'first_name', 'last_name', 'email', 'status', 'system_roles', 'changed_at', 'remote_deleted_at'],
  },
  { id: 'ats_rejection_reasons', model: 'rejection_reasons', label: 'Rejection reasons', fields: ['id', 'remote_id', 'name', 'changed_at', 'remote_deleted_at'] },
  { id: 'ats_application_stages', model: 'application_stages', label: 'Application stages', fields: ['id', 'remote_id', 'name', 'changed_at', 'remote_deleted_at'] },
  { id: 'ats_tags', model: 'tags', label: 'Tags', fields: ['id', 'remote_id', 'name', 'changed_at', 'remote_deleted_at'] },
];

/** Whether `model` answers `INTEGRATION.MODEL_NOT_AVAILABLE`: the tool does not offer it, or a fault switched it off. */
function unavailable(faults: SandboxFaults, data: SandboxIntegrationData, model: SandboxModel): boolean {
  return isModelUnavailable(faults, data.id, model) || (data.unavailableModels?.includes(model) ?? false);
}

/**
 * The one write action the sandbox offers, with its fields; attachments are accepted but not
 * stored, which Kombo's coverage enum calls `NOT_IMPLEMENTED`.
 */
const CREATE_CANDIDATE_FIELDS: readonly { id: string; stored: boolean }[] = [
  { id: 'candidate.first_name', stored: true },
  { id: 'candidate.last_name', stored: true },
  { id: 'candidate.email_address', stored: true },
  { id: 'candidate.company', stored: true },
  { id: 'candidate.title', stored: true },
  { id: 'candidate.phone_number', stored: true },
  { id: 'candidate.location', stored: true },
  { id: 'candidate.social_links', stored: true },
  { id: 'application.job_id', stored: true },
  { id: 'application.stage_id', stored: true },
  { id: 'screening_question_answers', stored: true },
  { id: 'source', stored: true },
  { id: 'attachments', stored: false },
];

/** The scope config every sandbox integration reports (Kombo's dashboard setting of which data may be read). */
const SCOPE_CONFIG = { id: 'SandboxScopeCfg7aXk2PqR9', name: 'Kombo sandbox: every ATS read model' } as const;

function socialType(url: string): string | null {
  const host = (() => {
    try {
      return new URL(url).hostname;
    } catch {
      return '';
    }
  })();
  if (host.endsWith('linkedin.com')) return 'LINKEDIN';
  if (host.endsWith('github.com')) return 'GITHUB';
  if (host.endsWith('xing.com')) return 'XING';
  if (host.endsWith('twitter.com') || host.endsWith('x.com')) return 'TWITTER';
  return host === '' ? null : 'OTHER';
}

class Sandbox {
  readonly stats: SandboxStats = {
    requests: 0,
    faults: { '429': 0, '5xx': 0, reset: 0, slow: 0, invalidCursor: 0, repeatRecord: 0, badData: 0 },
    byPath: {},
    rateLimited: 0,
  };
  private faults: SandboxFaults = {};
  private budget: RateLimiter | undefined;
  private decider: FaultDecider;
  private extraDecider: ExtraFaultDecider;
  private readonly states = new Map<string, IntegrationState>();
  private ids: IdFactory | null = null;
  private readonly idRng: Rng;
  private created = 0;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  closed = false;
  /** The simulated day served, or null for a static picture: what the `Date` header says. */
  asOf: string | null = null;
  /** The simulated history served with `asOf`, or null. */
  timeline: SandboxTimeline | null = null;
  /** The simulated instant when the clock was moved within a day ({@link setClock}); null: the end of `asOf`. */
  clockMs: number | null = null;
  /** Where webhooks go, or null when none are sent. */
  webhooks: WebhookSender | null = null;
  /** The histories of integrations added while running (each its own), moved with the clock. */
  private readonly addedTimelines = new Map<string, SandboxTimeline>();
  /** End user organization and connection time of integrations added while running. */
  private readonly connected = new Map<string, { organizationName: string; createdAt: string }>();
  private readonly integrationRng: Rng;

  constructor(
    readonly dataset: SandboxDataset,
    private readonly apiKey: string,
    private readonly seed: number,
    faults: SandboxFaults,
  ) {
    this.faults = faults;
    this.decider = createFaultDecider(faults, seed);
    this.extraDecider = createExtraFaultDecider(faults, seed);
    this.budget = faults.rateLimit && new RateLimiter(faults.rateLimit);
    this.idRng = new Rng(fnv1a32(`sandbox-writes:${seed}`));
    this.integrationRng = new Rng(fnv1a32(`sandbox-integrations:${seed}`));
    this.syncStates();
    this.applyOddities();
  }

  /** Makes the served records odd as `faults.oddRecords` asks, in place, and re-indexes what changed. */
  applyOddities(): void {
    const oddities = this.faults.oddRecords ?? [];
    if (oddities.length === 0) return;
    let changed = 0;
    for (const integration of this.dataset.integrations) changed += applyOddities(integration, oddities);
    if (changed > 0) this.reindex();
  }

  setFaults(f: SandboxFaults): void {
    this.faults = parseSandboxFaults(f);
    this.decider = createFaultDecider(this.faults, this.seed);
    this.extraDecider = createExtraFaultDecider(this.faults, this.seed);
    // A budget keeps counting across fault changes unless the budget itself changed.
    const limit = this.faults.rateLimit;
    if (limit === undefined) this.budget = undefined;
    else if (this.budget?.limit.requests !== limit.requests || this.budget.limit.windowSeconds !== limit.windowSeconds) this.budget = new RateLimiter(limit);
    this.applyOddities();
  }

  reindex(): void {
    this.states.clear();
    this.syncStates();
  }

  /** Wakes pending latency sleeps so `close()` does not wait for them. */
  wakeAll(): void {
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }

  /**
   * Moves the simulated clock to the end of `date`: each integration's records are replaced, in the
   * same objects, by the ones as of then; a `data-changed` webhook names the models that changed.
   */
  setAsOf(date: string): void {
    this.moveTo(asOfInstant(date));
    this.clockMs = null;
  }

  /** The sandbox's clock: what its `Date` header says and what writes are stamped with. */
  now(): Date {
    return this.clockMs === null ? sandboxNow(this.asOf) : new Date(this.clockMs);
  }

  /**
   * Moves the simulated clock to an instant (ISO 8601, UTC), within a day or across days: the
   * records as of then, and `asOf` the instant's date. Lets several syncs see one day's changes.
   */
  setClock(instant: string): void {
    const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/.test(instant) ? Date.parse(instant) : Number.NaN;
    if (Number.isNaN(ms)) throw new Error(`the clock takes an instant like 2025-06-02T14:30:00Z, got "${instant}"`);
    this.moveTo(ms);
    this.clockMs = ms;
  }

  private moveTo(atMs: number): void {
    if (this.timeline === null) throw new Error('moving the clock (setAsOf, setClock) needs a sandbox started with asOf (a simulated clock), not a static dataset');
    const date = new Date(atMs).toISOString().slice(0, 10);
    const next = [...this.timeline.datasetAt(atMs).integrations];
    for (const t of this.addedTimelines.values()) next.push(...t.datasetAt(atMs).integrations);
    const before = this.webhooks === null ? null : new Map(this.dataset.integrations.map((i) => [i.id, fingerprint(i)]));
    // Same integration objects, new arrays: the server re-indexes a model when its array changes.
    for (const data of next) {
      const live = this.dataset.integrations.find((i) => i.id === data.id);
      if (!live) continue;
      live.candidates = data.candidates;
      live.applications = data.applications;
      live.interviews = data.interviews;
      live.jobs = data.jobs;
      live.funnel = data.funnel;
    }
    this.applyOddities();
    this.asOf = date;
    if (before === null) return;
    for (const live of this.dataset.integrations) {
      const was = before.get(live.id);
      const models = was === undefined ? [] : changedModels(was, fingerprint(live));
      if (models.length > 0) this.notifyChanged(live, models);
    }
  }

  /** Sends `data-changed` for `models` of an integration, when webhooks are on. */
  private notifyChanged(data: SandboxIntegrationData, models: readonly SandboxModel[]): void {
    this.webhooks?.send('data-changed', dataChangedData(data.id, data.tool, models));
  }

  /** The `end_user` and `created_at` of an integration, as `GET /integrations/{id}` and the webhooks give them. */
  private connection(data: SandboxIntegrationData): { endUser: Rec; createdAt: string } {
    const added = this.connected.get(data.id);
    // A stable, plausible creation date: up to a year before the data's as-of date.
    const createdAt = added?.createdAt ?? new Date(Date.parse(SANDBOX_DATA_AS_OF) - (fnv1a32(data.id) % 365) * 86_400_000 - 86_400_000).toISOString();
    const organizationName = added?.organizationName ?? `${toolLabel(data.tool)} sandbox customer`;
    return { endUser: { organization_name: organizationName, creator_email: null, origin_id: null }, createdAt };
  }

  addIntegration(raw: unknown): SandboxIntegrationData {
    const parsed = NEW_INTEGRATION_BODY.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw fail(400, 'PLATFORM.INPUT_INVALID', `Invalid request body: ${detail}`);
    }
    const { tool, end_user_organization_name: organizationName } = parsed.data;
    let id: string;
    do id = `${tool}:${randomString(this.integrationRng, ALPHANUMERIC, 24)}`;
    while (this.state(id) !== undefined);
    const spec = { id, tool, candidates: parsed.data.candidates ?? SANDBOX_NEW_INTEGRATION_CANDIDATES };
    let data: SandboxIntegrationData;
    if (this.timeline !== null && this.asOf !== null) {
      const timeline = createSandboxTimeline({ seed: this.seed, integrations: [spec] });
      this.addedTimelines.set(id, timeline);
      data = timeline.datasetAt(this.now().getTime()).integrations[0] as SandboxIntegrationData;
    } else {
      data = generateDataset({ seed: this.seed, integrations: [spec] }).integrations[0] as SandboxIntegrationData;
    }
    this.connected.set(id, { organizationName, createdAt: this.now().toISOString() });
    this.dataset.integrations.push(data);
    this.syncStates();
    this.applyOddities();
    const { endUser } = this.connection(data);
    this.webhooks?.send('integration-created', { id, tool, category: 'ATS', end_user: endUser });
    return data;
  }

  deleteIntegration(id: string): boolean {
    const at = this.dataset.integrations.findIndex((i) => i.id === id);
    const data = this.dataset.integrations[at];
    if (data === undefined) return false;
    const { endUser } = this.connection(data);
    this.dataset.integrations.splice(at, 1);
    this.states.delete(id);
    this.addedTimelines.delete(id);
    this.webhooks?.send('integration-deleted', { id, tool: data.tool, category: 'ATS', end_user: endUser, deleted_at: this.now().toISOString() });
    return true;
  }

  /**
   * `POST /sandbox/integrations`, `DELETE /sandbox/integrations/{id}` and `POST /sandbox/clock`
   * (`{as_of}`: {@link setAsOf}): the sandbox's own controls, not Kombo's API.
   */
  private async control(method: string, url: URL, req: IncomingMessage): Promise<Reply> {
    this.authenticate(req);
    const id = url.pathname.startsWith('/sandbox/integrations/') ? decodeURIComponent(url.pathname.slice('/sandbox/integrations/'.length)) : null;
    if (url.pathname === '/sandbox/integrations' && method === 'POST') {
      const data = this.addIntegration(await readJson(req));
      return okReply({ id: data.id, tool: data.tool, candidates: data.candidates.length });
    }
    if (url.pathname === '/sandbox/clock' && method === 'POST') {
      const parsed = CLOCK_BODY.safeParse(await readJson(req));
      const usage = 'expected {"as_of": "YYYY-MM-DD"} (the end of that day) or {"at": "YYYY-MM-DDTHH:MM:SSZ"} (an instant)';
      if (!parsed.success) throw fail(400, 'PLATFORM.INPUT_INVALID', `Invalid request body: ${usage}.`);
      if (this.timeline === null) throw fail(400, 'PLATFORM.INPUT_INVALID', 'This sandbox serves a static dataset: start it with --as-of to have a clock to move.');
      const before = this.webhooks?.stats.events.length ?? 0;
      try {
        if ('as_of' in parsed.data) this.setAsOf(parsed.data.as_of);
        else this.setClock(parsed.data.at);
      } catch (err) {
        throw fail(400, 'PLATFORM.INPUT_INVALID', `Invalid request body: ${err instanceof Error ? err.message : String(err)}; ${usage}.`);
      }
      return okReply({ as_of: this.asOf, now: this.now().toISOString(), webhooks: this.webhooks === null ? [] : this.webhooks.stats.events.slice(before).map((e) => e.id) });
    }
    if (id !== null && id !== '' && method === 'DELETE') {
      if (!this.deleteIntegration(id)) throw fail(404, 'PLATFORM.INTEGRATION_NOT_FOUND', `No integration with the ID "${id}" exists.`);
      return okReply({ id });
    }
    throw fail(404, null, `Route ${method}:${url.pathname} not found`);
  }

  private syncStates(): void {
    for (const data of this.dataset.integrations) {
      const state = this.states.get(data.id);
      if (!state || state.data !== data) this.states.set(data.id, { data, views: new Map() });
    }
  }

  private state(integrationId: string): IntegrationState | undefined {
    if (!this.states.has(integrationId)) this.syncStates();
    return this.states.get(integrationId);
  }

  private view(state: IntegrationState, model: SandboxModel): ModelView {
    const source = modelRecords(state.data, model);
    let view = state.views.get(model);
    if (!view || view.source !== source || view.indexedLength !== source.length) {
      view = buildView(source);
      state.views.set(model, view);
    }
    return view;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleepers.add(entry);
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    this.stats.requests++;
    this.stats.byPath[url.pathname] = (this.stats.byPath[url.pathname] ?? 0) + 1;
    if (url.pathname === '/sandbox/clock' || url.pathname === '/sandbox/integrations' || url.pathname.startsWith('/sandbox/integrations/')) {
      // The sandbox's controls get no faults, budget or latency: they stand for an end user's clicks, not API calls.
      let reply: Reply;
      try {
        reply = await this.control(method, url, req);
      } catch (err) {
        reply = errorReply(err instanceof HttpError ? err : fail(500, 'PLATFORM.UNKNOWN_ERROR', `Sandbox failure: ${err instanceof Error ? err.message : String(err)}`));
      }
      this.write(res, reply, Buffer.from(reply.body, 'utf8'), false);
      return;
    }
    // The budget counts a GET when it arrives (before latency), as a gateway in front of Kombo would;
    // writes are not counted, like every other fault, so that they stay deterministic.
    const budget = method === 'POST' ? this.budget?.peek(bearerToken(req), Date.now()) : this.budget?.take(bearerToken(req), Date.now());

    let decision: FaultDecision = method === 'POST' ? { kind: 'none', delayMs: this.faults.latencyMs ?? 0 } : this.decider.next();
    let slow = method !== 'POST' && this.extraDecider.slow();
    // Writes and requests of integrations the faults do not target get no page faults.
    let pageFaults = method === 'POST' ? undefined : this.extraDecider;
    if (!isTargeted(this.faults, requestIntegration(url, req))) {
      decision = { kind: 'none', delayMs: decision.delayMs };
      slow = false;
      pageFaults = undefined;
    }
    // A GET's latency is the time from its arrival to its answer, the sandbox's own work included (as
    // Kombo's is): the answer is computed first and waits for the rest. A write waits first, then acts.
    const answerAt = performance.now() + decision.delayMs;
    const untilAnswer = async (): Promise<void> => {
      const left = answerAt - performance.now();
      if (left > 0) await this.sleep(left);
      if (slow) {
        this.stats.faults.slow++;
        await this.sleep(this.faults.slowMs ?? DEFAULT_SLOW_MS);
      }
    };
    if (method === 'POST') await untilAnswer();
    if (this.closed) return;

    let reply: Reply;
    if (budget?.allowed === false) {
      this.stats.rateLimited++;
      const seconds = budget.resetSeconds;
      const form = this.faults.retryAfterForm ?? 'seconds';
      const retryAfter: Record<string, string> =
        form === 'none' ? {} : { 'retry-after': form === 'seconds' ? String(seconds) : new Date(Date.now() + seconds * 1000).toUTCString() };
      reply = errorReply(fail(429, 'PLATFORM.RATE_LIMIT_EXCEEDED', `Rate limit of ${budget.headers['ratelimit-limit']} requests exceeded. Retry in ${seconds} seconds.`), retryAfter);
    } else if (decision.kind === 'rate-limit') {
      this.stats.faults['429']++;
      const seconds = String(decision.retryAfterSeconds);
      const form = this.faults.retryAfterForm ?? 'seconds';
      const retryAfter: Record<string, string> =
        form === 'none' ? {} : { 'retry-after': form === 'seconds' ? seconds : new Date(Date.now() + decision.retryAfterSeconds * 1000).toUTCString() };
      reply = errorReply(fail(429, 'PLATFORM.RATE_LIMIT_EXCEEDED', `Too many requests. Retry in ${seconds} seconds.`), {
        ...retryAfter,
        'ratelimit-limit': String(SANDBOX_RATE_LIMIT),
        'ratelimit-remaining': '0',
        'ratelimit-reset': seconds,
      });
    } else if (decision.kind === 'server-error') {
      this.stats.faults['5xx']++;
      reply = serverError(decision.error);
    } else {
      try {
        reply = await this.route(method, url, req, pageFaults);
      } catch (err) {
        if (err instanceof HttpError) reply = errorReply(err);
        else reply = errorReply(fail(500, 'PLATFORM.UNKNOWN_ERROR', `Sandbox failure: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    // Encoding the answer is the sandbox's own work too: done before the wait, not after it.
    const body = Buffer.from(reply.body, 'utf8');
    if (method !== 'POST') await untilAnswer();
    if (this.closed) return;
    if (budget) reply = { ...reply, headers: { ...reply.headers, ...budget.headers } };
    this.write(res, reply, body, decision.kind === 'reset' && budget?.allowed !== false);
  }

  private write(res: ServerResponse, reply: Reply, body: Buffer, reset: boolean): void {
    res.writeHead(reply.status, {
      'content-type': reply.contentType,
      'content-length': String(body.length),
      date: this.now().toUTCString(),
      ...reply.headers,
    });
    if (!reset) {
      res.end(body);
      return;
    }
    this.stats.faults.reset++;
    // Content-Length promises the whole body; the client sees the connection die mid-body.
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
  }

  private authenticate(req: IncomingMessage): void {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match || match[1] !== this.apiKey) {
      throw fail(401, 'PLATFORM.AUTHENTICATION_INVALID', 'The API key is missing or invalid. Send it as "Authorization: Bearer <API key>".');
    }
  }

  private integration(req: IncomingMessage): IntegrationState {
    const header = req.headers['x-integration-id'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id === undefined || id.trim() === '') throw fail(400, 'PLATFORM.INPUT_INVALID', 'The X-Integration-Id header is required.');
    const state = this.state(id);
    if (!state) throw fail(404, 'PLATFORM.INTEGRATION_NOT_FOUND', `No integration with the ID "${id}" exists.`);
    if (isRevoked(this.faults, id)) {
      throw fail(401, 'INTEGRATION.AUTHENTICATION_INVALID', `The credentials of integration "${id}" were revoked in the source system.`);
    }
    return state;
  }

  private async route(method: string, url: URL, req: IncomingMessage, pageFaults?: ExtraFaultDecider): Promise<Reply> {
    const path = url.pathname;
    const notFound = (): HttpError => fail(404, null, `Route ${method}:${path} not found`);
    if (!path.startsWith('/v1/')) throw notFound();
    const rest = path.slice(4);

    if (rest.startsWith('integrations/') && method === 'GET') {
      this.authenticate(req);
      return this.getIntegration(decodeURIComponent(rest.slice('integrations/'.length)));
    }
    // Kombo's paths spell the models with hyphens: `rejection_reasons` is `ats/rejection-reasons`.
    const model = SANDBOX_MODELS.find((m) => rest === `ats/${m.replaceAll('_', '-')}`);
    if (model === undefined || (method !== 'GET' && !(method === 'POST' && model === 'candidates'))) throw notFound();

    this.authenticate(req);
    const state = this.integration(req);
    if (unavailable(this.faults, state.data, model)) {
      throw fail(404, 'INTEGRATION.MODEL_NOT_AVAILABLE', `The "${model}" model is not available for ${toolLabel(state.data.tool)} (${state.data.id}).`);
    }
    if (method === 'POST') return this.createCandidate(state, await readJson(req));
    return this.list(state, model, url.searchParams, pageFaults);
  }

  private getIntegration(id: string): Reply {
    const state = this.state(id);
    if (!state) throw fail(404, 'PLATFORM.INTEGRATION_NOT_FOUND', `No integration with the ID "${id}" exists.`);
    const { tool } = state.data;
    const assets = `https://storage.googleapis.com/kombo-assets/integrations/${encodeURIComponent(tool)}`;
    const { endUser, createdAt } = this.connection(state.data);
    return okReply({
      id,
      tool: { id: tool, label: toolLabel(tool), internal_label: null, logo_url: `${assets}/logo.svg`, icon_url: `${assets}/icon.svg` },
      category: 'ATS',
      status: isRevoked(this.faults, id) ? 'INVALID' : 'ACTIVE',
      setup_status: 'COMPLETED',
      data_expired_at: null,
      created_at: createdAt,
      end_user: endUser,
      scope_config: SCOPE_CONFIG,
      beta: false,
      read_models: READ_MODELS.map((m) => {
        const available = !unavailable(this.faults, state.data, m.model);
        // A model switched off is one the tool does not support; `oddRecords` can make that an undocumented status.
        const coverage = available ? 'SUPPORTED' : this.faults.oddRecords?.includes('unknown-enum') ? 'NOT_SUPPORTED' : 'UNSUPPORTED';
        return {
          id: m.id,
          label: m.label,
          is_available: available,
          coverage_status: coverage,
          scope_config_setting: 'ENABLED',
          opted_out_by_customer: false,
          fields: m.fields.map((field) => ({
            id: field,
            is_available: available,
            coverage_status: coverage,
            scope_config_setting: 'ENABLED',
            opted_out_by_customer: false,
          })),
        };
      }),
      write_actions: [
        {
          id: 'ats_create_candidate',
          label: 'Create candidate',
          is_available: true,
          coverage_status: 'SUPPORTED',
          scope_config_setting: 'ENABLED',
          opted_out_by_customer: false,
          fields: CREATE_CANDIDATE_FIELDS.map((f) => ({ id: f.id, is_available: f.stored, coverage_status: f.stored ? 'SUPPORTED' : 'NOT_IMPLEMENTED' })),
        },
      ],
    });
  }

  private list(state: IntegrationState, model: SandboxModel, params: URLSearchParams, pageFaults?: ExtraFaultDecider): Reply {
    const q = parseListQuery(model, params);
    const view = this.view(state, model);
    const filterKey = JSON.stringify([state.data.id, model, q.includeDeleted, q.updatedAfterMs, q.ids, q.remoteIds]);
    const filters = fnv1a32(filterKey).toString(36);

    let results: Rec[];
    if (q.ids === null && q.updatedAfterMs === null && q.remoteIds === null) {
      results = q.includeDeleted ? view.all : view.live;
    } else {
      const cached = view.cache.get(filterKey);
      if (cached) results = cached;
      else {
        results = this.filter(view, model, q);
        if (view.cache.size >= FILTER_CACHE_SIZE) view.cache.delete(view.cache.keys().next().value as string);
        view.cache.set(filterKey, results);
      }
    }

    if (q.cursor !== null && pageFaults?.invalidCursor() === true) {
      this.stats.faults.invalidCursor++;
      throw fail(400, 'PLATFORM.INPUT_INVALID', 'The cursor is invalid or has expired: start again from the first page.');
    }
    const start = q.cursor === null ? 0 : upperBound(results, decodeCursor(q.cursor, filters));
    const page = results.slice(start, start + q.pageSize);
    const last = page[page.length - 1];
    const next = start + q.pageSize < results.length && last ? encodeCursor(String(last.id), filters) : null;
    const bad = badDataFor(this.faults, state.data.id, model, Math.floor(start / q.pageSize));
    if (bad !== undefined && page.length > 0) {
      this.stats.faults.badData++;
      return badPage(bad, model, next, page);
    }
    const pick = start > 0 ? pageFaults?.repeatRecord() : undefined;
    if (pick != null) {
      // A record of an earlier page shows up again, as offset paging does when rows shift.
      this.stats.faults.repeatRecord++;
      const earlier = results[Math.floor(pick * start)];
      if (earlier) return okReply({ next, results: [...page.slice(0, 1), earlier, ...page.slice(1)] });
    }
    return okReply({ next, results: page });
  }

  private filter(view: ModelView, model: SandboxModel, q: ListQuery): Rec[] {
    let candidates: Rec[];
    if (q.ids !== null) {
      const missing = q.ids.filter((id) => !view.byId.has(id));
      if (missing.length > 0) throw fail(404, 'PLATFORM.INPUT_INVALID', `No ${model} found for these IDs in this integration: ${missing.join(', ')}.`);
      candidates = q.ids.map((id) => view.byId.get(id) as Rec);
      if (!q.includeDeleted) candidates = candidates.filter((r) => !isDeleted(r));
    } else {
      candidates = q.includeDeleted ? view.all : view.live;
    }
    const remoteIds = q.remoteIds === null ? null : new Set(q.remoteIds);
    const since = q.updatedAfterMs;
    // `ids` were sorted and deduplicated while parsing, so the result stays in id order.
    return candidates.filter(
      (r) => (remoteIds === null || remoteIds.has(String(r.remote_id))) && (since === null || updatedSince(model, r, since)),
    );
  }

  private jobs(state: IntegrationState): SandboxJob[] {
    if (state.data.jobs) return state.data.jobs;
    // Hand-built datasets may omit jobs: rebuild them from what applications reveal.
    const jobs = new Map<string, SandboxJob>();
    for (const app of state.data.applications) {
      const job = app.job as { id: string; remote_id: string; name: string } | null | undefined;
      if (!job) continue;
      let entry = jobs.get(job.id);
      if (!entry) {
        entry = { id: job.id, remote_id: job.remote_id, name: job.name, stages: [] };
        jobs.set(job.id, entry);
      }
      const stage = app.current_stage as SandboxStage | null | undefined;
      if (stage && !entry.stages.some((s) => s.id === stage.id)) entry.stages.push(stage);
    }
    for (const job of jobs.values()) job.stages.sort((a, b) => a.index - b.index);
    return [...jobs.values()];
  }

  private newId(): string {
    if (this.ids === null) {
      this.ids = new IdFactory();
      for (const integration of this.dataset.integrations) {
        for (const model of SANDBOX_MODELS) for (const r of modelRecords(integration, model)) this.ids.reserve(String(r.id));
        for (const job of integration.jobs ?? []) {
          this.ids.reserve(job.id);
          for (const s of job.stages) this.ids.reserve(s.id);
        }
      }
    }
    return this.ids.next(this.idRng);
  }

  private createCandidate(state: IntegrationState, raw: unknown): Reply {
    const parsed = POST_CANDIDATE_BODY.safeParse(raw);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw fail(400, 'PLATFORM.INPUT_INVALID', `Invalid request body: ${detail}`);
    }
    const body = parsed.data;
    const job = this.jobs(state).find((j) => j.id === body.application.job_id);
    if (!job) throw fail(400, 'PLATFORM.INPUT_INVALID', `No job with the ID "${body.application.job_id}" exists in this integration.`);
    let stage: SandboxStage | null = job.stages[0] ?? null;
    if (body.application.stage_id) {
      stage = job.stages.find((s) => s.id === body.application.stage_id) ?? null;
      if (!stage) throw fail(400, 'PLATFORM.INPUT_INVALID', `Stage "${body.application.stage_id}" does not belong to job "${job.id}".`);
    }

    const { answers, unknownQuestions } = screeningAnswers(job, body.screening_question_answers ?? []);
    // Stamped on the sandbox's clock: the simulated day's end when it serves one, as its `Date` says.
    const now = this.now().toISOString();
    this.created++;
    const c = body.candidate;
    const candidateId = this.newId();
    const candidateRemoteId = String(900_000_000 + this.created * 2);
    const applicationId = this.newId();
    const applicationRemoteId = String(900_000_001 + this.created * 2);
    const emails = [{ email_address: c.email_address, type: null }];
    const jobSummary = { id: job.id, name: job.name, remote_id: job.remote_id };
    const stageSummary = stage && { id: stage.id, remote_id: stage.remote_id, name: stage.name, index: stage.index };
    const location = c.location
      ? {
          city: c.location.city ?? null,
          country: c.location.country ?? null,
          raw: [c.location.street_1, c.location.zip_code, c.location.city, c.location.country].filter(Boolean).join(', ') || null,
          state: c.location.state ?? null,
          street_1: c.location.street_1 ?? null,
          street_2: c.location.street_2 ?? null,
          zip_code: c.location.zip_code ?? null,
        }
      : null;

    const application: Rec = {
      id: applicationId,
      remote_id: applicationRemoteId,
      outcome: 'PENDING',
      rejection_reason_name: null,
      rejected_at: null,
      current_stage_id: stage?.id ?? null,
      job_id: job.id,
      candidate_id: candidateId,
      screening_question_answers: answers,
      custom_fields: {},
      integration_fields: [],
      remote_url: null,
      changed_at: now,
      remote_deleted_at: null,
      remote_created_at: now,
      remote_updated_at: now,
      remote_data: null,
      candidate: null,
      current_stage: stageSummary,
      job: jobSummary,
      interviews: [],
      offers: [],
    };
    const candidate: Rec = {
      id: candidateId,
      remote_id: candidateRemoteId,
      first_name: c.first_name,
      last_name: c.last_name,
      company: c.company ?? null,
      title: c.title ?? null,
      confidential: false,
      source: body.source?.name ?? null,
      phone_numbers: c.phone_number ? [{ phone_number: c.phone_number, type: null }] : [],
      email_addresses: emails,
      social_media: (c.social_links ?? []).map((l) => ({ link: l.url, type: socialType(l.url), username: null })),
      location,
      custom_fields: {},
      integration_fields: [],
      remote_url: null,
      remote_created_at: now,
      remote_updated_at: now,
      remote_data: null,
      changed_at: now,
      remote_deleted_at: null,
      applications: [
        {
          id: applicationId,
          remote_id: applicationRemoteId,
          outcome: 'PENDING',
          rejection_reason_name: null,
          rejected_at: null,
          remote_url: null,
          changed_at: now,
          remote_created_at: now,
          remote_updated_at: now,
          current_stage: stageSummary,
          job: jobSummary,
        },
      ],
      tags: [],
    };

    application.candidate = nestedCandidate(candidate);
    this.append(state, 'candidates', candidate);
    this.append(state, 'applications', application);
    this.notifyChanged(state.data, ['candidates', 'applications']);
    const warnings = [
      ...((body.attachments ?? []).length > 0 ? [{ message: 'The Kombo sandbox does not store attachments.' }] : []),
      ...unknownQuestions.map((id) => ({ message: `Screening question "${id}" is not a question of job "${job.id}"; its answer was not submitted.` })),
    ];
    return okReply(candidate, { warnings });
  }

  /** Appends to the caller-visible dataset and keeps the indexes in step without a rebuild. */
  private append(state: IntegrationState, model: 'candidates' | 'applications', record: Rec): void {
    const view = this.view(state, model);
    state.data[model].push(record);
    view.indexedLength++;
    insertSorted(view.all, record);
    insertSorted(view.live, record);
    view.byId.set(String(record.id), record);
    view.cache.clear();
  }
}

/**
 * `screening_question_answers` of a created application, typed as Kombo serves them, from the
 * request's `{question_id, answer}` pairs. As Kombo does, an answer to a question the job does not
 * have is skipped with a warning, and an answer in the wrong format for its question is refused.
 * @throws HttpError 400 `PLATFORM.INPUT_INVALID` naming the question and the format it needs.
 */
function screeningAnswers(job: SandboxJob, given: readonly { question_id: string; answer: unknown }[]): { answers: Rec[]; unknownQuestions: string[] } {
  const questions = new Map((job.screening_questions ?? []).map((q) => [q.id, q]));
  const answers: Rec[] = [];
  const unknownQuestions: string[] = [];
  for (const { question_id: id, answer } of given) {
    const question = questions.get(id);
    if (question === undefined) {
      unknownQuestions.push(id);
      continue;
    }
    const value = answerValue(question, answer);
    if (value === undefined) throw fail(400, 'PLATFORM.INPUT_INVALID', `Invalid answer to screening question "${id}" (${question.type}): ${ANSWER_FORMATS[question.type]}.`);
    answers.push({ question: { remote_id: question.remote_id, title: question.title, type: question.type }, answer: typedAnswer(question.type, value) });
  }
  return { answers, unknownQuestions };
}

const ANSWER_FORMATS: Record<SandboxScreeningQuestion['type'], string> = {
  TEXT: 'expected a string',
  SINGLE_SELECT: 'expected the id of one of its options',
  MULTI_SELECT: 'expected an array of ids of its options',
  BOOLEAN: 'expected true or false',
  NUMBER: 'expected a number',
  DATE: 'expected an ISO 8601 date',
  UNKNOWN: 'expected any value',
};

/** The answer's value as stored (a date as an ISO instant), or undefined when it does not fit the question. */
function answerValue(question: SandboxScreeningQuestion, answer: unknown): unknown {
  const options = new Set(question.options ?? []);
  switch (question.type) {
    case 'TEXT':
      return typeof answer === 'string' ? answer : undefined;
    case 'SINGLE_SELECT':
      return typeof answer === 'string' && options.has(answer) ? answer : undefined;
    case 'MULTI_SELECT':
      return Array.isArray(answer) && answer.every((a) => typeof a === 'string' && options.has(a)) ? answer : undefined;
    case 'BOOLEAN':
      return typeof answer === 'boolean' ? answer : undefined;
    case 'NUMBER':
      return typeof answer === 'number' && Number.isFinite(answer) ? answer : undefined;
    case 'DATE': {
      const ms = typeof answer === 'string' && /^\d{4}-\d{2}-\d{2}/.test(answer) ? Date.parse(answer) : Number.NaN;
      return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
    }
    case 'UNKNOWN':
      return answer;
  }
}

/** The bearer token a request presents ('' without one): the key its budget is counted under. */
function bearerToken(req: IncomingMessage): string {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
}

/** The integration a request is for: `X-Integration-Id`, or the id in `GET /integrations/{id}`. */
function requestIntegration(url: URL, req: IncomingMessage): string | undefined {
  const header = req.headers['x-integration-id'];
  const id = Array.isArray(header) ? header[0] : header;
  if (id !== undefined) return id;
  const m = /^\/v1\/integrations\/(.+)$/.exec(url.pathname);
  return m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
}

/** A page the client must refuse, with the page's real records otherwise. */
function badPage(kind: PageBadDataKind, model: SandboxModel, next: string | null, page: readonly Rec[]): Reply {
  const at = Math.min(1, page.length - 1);
  const records = page.map((r) => ({ ...r }));
  const target = records[at] as Rec;
  switch (kind) {
    case 'malformed-json':
      return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ status: 'success', data: { next, results: records } }).slice(0, 200) };
    case 'not-envelope':
      return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ results: records, cursor: next }) };
    case 'empty-body':
      return { status: 200, contentType: JSON_TYPE, body: '' };
    case 'missing-id':
      delete target['id'];
      break;
    case 'wrong-type':
      target['remote_id'] = 47_110_815;
      break;
    case 'bad-timestamp':
      target[model === 'interviews' ? 'starting_at' : 'remote_created_at' in target ? 'remote_created_at' : 'changed_at'] = 'last Tuesday, around noon';
      break;
  }
  return okReply({ next, results: records });
}

function serverError(kind: ServerErrorKind): Reply {
  switch (kind) {
    case 'unknown-error-500':
      return errorReply(fail(500, 'PLATFORM.UNKNOWN_ERROR', 'An unexpected error occurred. Please try again.'));
    case 'service-unavailable-503':
      return errorReply(fail(503, 'REMOTE.SERVICE_UNAVAILABLE', 'The remote system did not respond in time. Please try again later.'));
    case 'load-balancer-502':
      return {
        status: 502,
        contentType: 'text/html',
        body: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n',
      };
    case 'load-balancer-503':
      return { status: 503, contentType: 'text/plain', body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' };
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(fail(413, 'PLATFORM.INPUT_INVALID', `The request body is larger than ${MAX_BODY_BYTES} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(fail(400, 'PLATFORM.INPUT_INVALID', 'The request body is not valid JSON.'));
      }
    });
  });
}

/**
 * The sandbox's clock: the end of the simulated day `asOf` (`YYYY-MM-DD`, see {@link asOfInstant}),
 * or the real time for a sandbox serving a static picture (`null`). Its HTTP `Date` header says
 * this instant, so a client that reads the source's clock (as Kombo's `Date` header gives it) sees
 * simulated time.
 * @throws Error when `asOf` is not a real date.
 */
export function sandboxNow(asOf: string | null): Date {
  return new Date(asOf === null ? Date.now() : asOfInstant(asOf));
}

/**
 * Starts the sandbox on 127.0.0.1 (never another interface).
 * @throws Error when the fault settings are invalid or the port is taken.
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const seed = opts.seed ?? DEFAULT_SANDBOX_SEED;
  const apiKey = opts.apiKey ?? SANDBOX_API_KEY;
  const faults = parseSandboxFaults(opts.faults ?? {});
  const timeline = opts.dataset === undefined && opts.asOf !== undefined ? (opts.timeline ?? createSandboxTimeline({ seed })) : null;
  const asOf = timeline === null ? null : (opts.asOf as string);
  const dataset = opts.dataset ?? (timeline === null ? generateDataset({ seed }) : timeline.datasetAsOf(asOf as string));
  const ids = new Set<string>();
  for (const i of dataset.integrations) {
    if (ids.has(i.id)) throw new Error(`Sandbox dataset lists integration "${i.id}" twice`);
    ids.add(i.id);
  }
  const sandbox = new Sandbox(dataset, apiKey, seed, faults);
  sandbox.asOf = asOf;
  sandbox.timeline = timeline;
  if (opts.webhook !== undefined) sandbox.webhooks = new WebhookSender(opts.webhook, seed);

  const server = createServer((req, res) => {
    sandbox.handle(req, res).catch((err: unknown) => {
      // Only reachable if writing the reply itself failed; the client sees a dropped connection.
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    dataset,
    stats: sandbox.stats,
    setFaults: (f) => sandbox.setFaults(f),
    reindex: () => sandbox.reindex(),
    get asOf() {
      return sandbox.asOf;
    },
    timeline,
    setAsOf: (date) => sandbox.setAsOf(date),
    setClock: (instant) => sandbox.setClock(instant),
    addIntegration: (spec) => {
      try {
        return sandbox.addIntegration(spec);
      } catch (err) {
        throw err instanceof HttpError ? new Error(err.message) : err;
      }
    },
    deleteIntegration: (id) => sandbox.deleteIntegration(id),
    sendWebhooksTo: (webhook) => {
      sandbox.webhooks?.close();
      sandbox.webhooks = new WebhookSender(webhook, seed);
    },
    get webhooks() {
      return sandbox.webhooks?.stats ?? null;
    },
    webhooksSettled: () => sandbox.webhooks?.settled() ?? Promise.resolve(),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        sandbox.closed = true;
        sandbox.webhooks?.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
        sandbox.wakeAll();
      });
      return closing;
    },
  };
}
