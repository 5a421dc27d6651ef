/**
 * Fault injection for the Kombo sandbox: what can go wrong, how often, and a seeded decider so a
 * given seed replays the same faults for the same sequence of requests.
 */
import { z } from 'zod';
import type { SandboxIntegrationData, SandboxModel } from './data.ts';
import { Rng, SANDBOX_MODELS, WITHDRAWAL_REASON, fnv1a32 } from './data.ts';
import type { SandboxRateLimit } from './rate-limit.ts';

/** How a 429 says when to come back: delay-seconds (default), an HTTP date, or not at all. */
export type RetryAfterForm = 'seconds' | 'http-date' | 'none';

/**
 * A page that is not what the client can store: a broken body, or one record broken in a way the
 * client must refuse (no id, a number where a string is due, a timestamp it cannot parse).
 */
export type PageBadDataKind = 'malformed-json' | 'not-envelope' | 'empty-body' | 'missing-id' | 'wrong-type' | 'bad-timestamp';

/**
 * Records Kombo does not document but a client must store as they come, the day Kombo or an ATS
 * sends them (see {@link applyOddities}):
 * - `unknown-enum`: values outside Kombo's enums: a withdrawal's outcome `WITHDRAWN` (on the
 *   application, in `candidate.applications[]` and in `interview.application`), its offers'
 *   status `WITHDRAWN`, and coverage status `NOT_SUPPORTED` for a model switched off;
 * - `unknown-question-type`: screening answers to a question type Kombo does not list (`FILE`),
 *   with an answer object of a shape of its own;
 * - `huge-string`: a 2 MB `remote_id` on one candidate and one application;
 * - `many-custom-fields`: 10,000 custom fields on one candidate and one application.
 */
export type RecordOddity = 'unknown-enum' | 'unknown-question-type' | 'huge-string' | 'many-custom-fields';

/** Every {@link RecordOddity}. */
export const RECORD_ODDITIES: readonly RecordOddity[] = ['unknown-enum', 'unknown-question-type', 'huge-string', 'many-custom-fields'];

/** One bad page, served in place of page `page` (0-based, default 1) of one stream. */
export interface BadDataFault {
  integrationId: string;
  model: SandboxModel;
  kind: PageBadDataKind;
  page?: number;
}

/** Faults the sandbox injects. Rates are per request, in [0, 1]; everything defaults to "never". */
export interface SandboxFaults {
  /** Answers 429 `PLATFORM.RATE_LIMIT_EXCEEDED` with `Retry-After` and `ratelimit-*` headers. */
  rate429?: number;
  /** `Retry-After` seconds on a 429 (default {@link DEFAULT_RETRY_AFTER_SECONDS}; 0 allowed). */
  retryAfterSeconds?: number;
  /**
   * Answers a server error, one of: 500 `PLATFORM.UNKNOWN_ERROR`, 503 `REMOTE.SERVICE_UNAVAILABLE`
   * (both Kombo error bodies), or a load balancer's 502 HTML / 503 plain-text page.
   */
  rate5xx?: number;
  /** Sends status, headers and about half the body, then destroys the socket. */
  rateReset?: number;
  /** Time to answer each request (a GET: from its arrival, the sandbox's own work included). */
  latencyMs?: number;
  /** Uniform extra latency in [0, latencyJitterMs]. */
  latencyJitterMs?: number;
  /** These streams answer `INTEGRATION.MODEL_NOT_AVAILABLE`. */
  modelNotAvailable?: { integrationId: string; model: SandboxModel }[];
  /** Every request for these integrations answers `INTEGRATION.AUTHENTICATION_INVALID`. */
  revokedIntegrations?: string[];
  /** Seed of the fault PRNG (defaults to the sandbox seed). */
  seed?: number;
  /**
   * A request budget per API key, as Kombo enforces one: past `requests` in a fixed window of
   * `windowSeconds`, a GET answers 429 `PLATFORM.RATE_LIMIT_EXCEEDED` with `Retry-After` = seconds to
   * the next window. When set, every answer carries `ratelimit-limit`, `ratelimit-remaining` and
   * `ratelimit-reset`. Not a random fault: it depends on how fast the client asks, not on the seed.
   */
  rateLimit?: SandboxRateLimit;
  /** Form of `Retry-After` on 429 answers (default `seconds`). */
  retryAfterForm?: RetryAfterForm;
  /** Delays the answer by {@link SandboxFaults.slowMs} (meant to exceed the client's timeout). */
  rateSlow?: number;
  /** Extra delay of a slow answer (default {@link DEFAULT_SLOW_MS}). */
  slowMs?: number;
  /** Rejects a cursor with 400 `PLATFORM.INPUT_INVALID`, as for an expired one: a rate of the requests that carry one. */
  rateInvalidCursor?: number;
  /** A page after the first also carries a record already served on an earlier page: a rate of those pages. */
  rateRepeatRecord?: number;
  /** When set, rate-based faults hit only requests for these integrations. */
  onlyIntegrations?: string[];
  /** Bad pages served for given streams. */
  badData?: BadDataFault[];
  /**
   * Odd but valid records, applied to the served data in place (so it stays the ground truth) when
   * the sandbox starts, when this is set, and each time the simulated clock moves. Off by default:
   * the default sandbox is Kombo as Kombo documents it.
   */
  oddRecords?: RecordOddity[];
}

/** Extra delay of a slow answer when {@link SandboxFaults.slowMs} is not set. */
export const DEFAULT_SLOW_MS = 2_000;

/** `Retry-After` used when {@link SandboxFaults.retryAfterSeconds} is not set. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

const rate = z.number().min(0).max(1);
const MODEL = z.enum(SANDBOX_MODELS as [SandboxModel, ...SandboxModel[]]);

/** Validates fault settings, e.g. parsed from a `--faults` JSON option. Unknown keys are rejected (typos would silently disable a fault). */
export const sandboxFaultsSchema = z.strictObject({
  rate429: rate.optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  rate5xx: rate.optional(),
  rateReset: rate.optional(),
  latencyMs: z.number().min(0).optional(),
  latencyJitterMs: z.number().min(0).optional(),
  modelNotAvailable: z
    .array(z.strictObject({ integrationId: z.string().min(1), model: MODEL }))
    .optional(),
  revokedIntegrations: z.array(z.string().min(1)).optional(),
  seed: z.number().int().optional(),
  rateLimit: z.strictObject({ requests: z.number().int().min(1), windowSeconds: z.number().positive() }).optional(),
  retryAfterForm: z.enum(['seconds', 'http-date', 'none']).optional(),
  rateSlow: rate.optional(),
  slowMs: z.number().int().min(0).optional(),
  rateInvalidCursor: rate.optional(),
  rateRepeatRecord: rate.optional(),
  onlyIntegrations: z.array(z.string().min(1)).optional(),
  badData: z
    .array(
      z.strictObject({
        integrationId: z.string().min(1),
        model: MODEL,
        kind: z.enum(['malformed-json', 'not-envelope', 'empty-body', 'missing-id', 'wrong-type', 'bad-timestamp']),
        page: z.number().int().min(0).optional(),
      }),
    )
    .optional(),
  oddRecords: z.array(z.enum(['unknown-enum', 'unknown-question-type', 'huge-string', 'many-custom-fields'])).optional(),
});

// Compile-time guard: the schema and the hand-written interface must not drift apart.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesInterface: Equal<z.infer<typeof sandboxFaultsSchema>, SandboxFaults> = true;
void schemaMatchesInterface;

/**
 * Parses and validates fault settings.
 * @throws Error naming the offending field, e.g. `Invalid sandbox faults: rate429: Too big: expected number to be <=1`.
 */
export function parseSandboxFaults(input: unknown): SandboxFaults {
  const result = sandboxFaultsSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid sandbox faults: ${detail}`);
  }
  return result.data;
}

/** Which server error a 5xx fault produces. */
export type ServerErrorKind = 'unknown-error-500' | 'service-unavailable-503' | 'load-balancer-502' | 'load-balancer-503';

const SERVER_ERROR_KINDS: readonly ServerErrorKind[] = [
  'unknown-error-500',
  'service-unavailable-503',
  'load-balancer-502',
  'load-balancer-503',
];

/** What to do to one request. */
export type FaultDecision =
  | { kind: 'none'; delayMs: number }
  | { kind: 'rate-limit'; delayMs: number; retryAfterSeconds: number }
  | { kind: 'server-error'; delayMs: number; error: ServerErrorKind }
  | { kind: 'reset'; delayMs: number };

/** Draws one decision per request from a seeded PRNG. */
export interface FaultDecider {
  /** The decision for the next request. */
  next(): FaultDecision;
}

/**
 * A decider for `faults`. It always draws the same number of values per request, so the decision
 * for request n depends only on the seed and n, never on which faults were enabled earlier.
 * When several faults fire at once the most "upstream" wins: 429, then 5xx, then reset.
 */
export function createFaultDecider(faults: SandboxFaults, fallbackSeed: number): FaultDecider {
  const rng = new Rng(faults.seed ?? fallbackSeed);
  return {
    next(): FaultDecision {
      const u429 = rng.next();
      const u5xx = rng.next();
      const uReset = rng.next();
      const uKind = rng.next();
      const uJitter = rng.next();
      const delayMs = (faults.latencyMs ?? 0) + Math.floor(uJitter * ((faults.latencyJitterMs ?? 0) + 1));
      if (u429 < (faults.rate429 ?? 0)) {
        return { kind: 'rate-limit', delayMs, retryAfterSeconds: faults.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS };
      }
      if (u5xx < (faults.rate5xx ?? 0)) {
        return { kind: 'server-error', delayMs, error: SERVER_ERROR_KINDS[Math.floor(uKind * SERVER_ERROR_KINDS.length)] as ServerErrorKind };
      }
      if (uReset < (faults.rateReset ?? 0)) return { kind: 'reset', delayMs };
      return { kind: 'none', delayMs };
    },
  };
}

/** Whether `model` is switched off for `integrationId`. */
export function isModelUnavailable(faults: SandboxFaults, integrationId: string, model: SandboxModel): boolean {
  return (faults.modelNotAvailable ?? []).some((m) => m.integrationId === integrationId && m.model === model);
}

/** Whether the integration's credentials are revoked. */
export function isRevoked(faults: SandboxFaults, integrationId: string): boolean {
  return (faults.revokedIntegrations ?? []).includes(integrationId);
}

/**
 * The faults added after the first set, each drawn from its own seeded PRNG so that the decisions
 * of {@link createFaultDecider} for a given seed stay what they were. A page fault is drawn only
 * for the requests it can apply to: an invalid cursor for requests that carry a cursor, a repeated
 * record for pages after the first. Its rate is then a rate of those requests, and which of them
 * the n-th draw lands on does not depend on how requests of other streams interleave.
 */
export interface ExtraFaultDecider {
  /** Whether the next request answers slower than {@link SandboxFaults.slowMs}. */
  slow(): boolean;
  /** Whether the next request that carries a cursor has it rejected as invalid. */
  invalidCursor(): boolean;
  /** For the next page after the first: a number in [0, 1) picking the earlier record it repeats, or null. */
  repeatRecord(): number | null;
}

export function createExtraFaultDecider(faults: SandboxFaults, fallbackSeed: number): ExtraFaultDecider {
  const seed = faults.seed ?? fallbackSeed;
  const slow = new Rng(fnv1a32(`extra-faults:${seed}`));
  const cursor = new Rng(fnv1a32(`cursor-faults:${seed}`));
  const repeat = new Rng(fnv1a32(`repeat-faults:${seed}`));
  return {
    slow: () => slow.next() < (faults.rateSlow ?? 0),
    invalidCursor: () => cursor.next() < (faults.rateInvalidCursor ?? 0),
    repeatRecord: () => {
      const u = repeat.next();
      const pick = repeat.next();
      return u < (faults.rateRepeatRecord ?? 0) ? pick : null;
    },
  };
}

/** Whether rate-based faults apply to a request for `integrationId` (undefined: not known). */
export function isTargeted(faults: SandboxFaults, integrationId: string | undefined): boolean {
  if (faults.onlyIntegrations === undefined) return true;
  return integrationId !== undefined && faults.onlyIntegrations.includes(integrationId);
}

/** The bad page configured for this page of this stream, if any. */
export function badDataFor(faults: SandboxFaults, integrationId: string, model: SandboxModel, page: number): PageBadDataKind | undefined {
  return (faults.badData ?? []).find((b) => b.integrationId === integrationId && b.model === model && (b.page ?? 1) === page)?.kind;
}

/** Size of the string {@link makeOdd} puts in a `huge-string` record. */
export const HUGE_STRING_BYTES = 2 * 1024 * 1024;
/** Number of custom fields {@link makeOdd} puts in a `many-custom-fields` record. */
export const MANY_CUSTOM_FIELDS = 10_000;

/**
 * Make a dataset record odd but valid, in place, so that the dataset stays the ground truth:
 * an enum value Kombo never documented, a 2 MB string, or 10,000 custom fields. One record only;
 * {@link applyOddities} does it to a whole integration, nested copies included.
 */
export function makeOdd(record: Record<string, unknown>, oddity: Exclude<RecordOddity, 'unknown-question-type'>): void {
  switch (oddity) {
    case 'unknown-enum':
      // `outcome` on applications, `type` of contact details on candidates; both open in practice.
      if ('outcome' in record) record['outcome'] = 'WITHDRAWN_BY_ROBOT';
      for (const e of (record['email_addresses'] as Record<string, unknown>[] | undefined) ?? []) e['type'] = 'CARRIER_PIGEON';
      if ('canceled' in record && !('outcome' in record)) record['title'] = `${String(record['title'] ?? '')} (format: HOLOGRAM)`;
      return;
    case 'huge-string':
      record['remote_id'] = `huge-${'x'.repeat(HUGE_STRING_BYTES)}`;
      return;
    case 'many-custom-fields':
      record['custom_fields'] = Object.fromEntries(Array.from({ length: MANY_CUSTOM_FIELDS }, (_, i) => [`field_${i}`, `value ${i}`]));
      return;
  }
}

/** The outcome {@link applyOddities} gives withdrawals with `unknown-enum`: not in Kombo's enum. */
export const UNKNOWN_OUTCOME = 'WITHDRAWN';
/** The screening question type {@link applyOddities} introduces with `unknown-question-type`. */
export const UNKNOWN_QUESTION_TYPE = 'FILE';

type Rec = Record<string, unknown>;
const isLive = (r: Rec): boolean => r['remote_deleted_at'] === null || r['remote_deleted_at'] === undefined;

/**
 * Applies `oddities` to one integration's records, in place; applying them again changes nothing
 * more. Returns how many records it made odd (nested copies not counted).
 */
export function applyOddities(data: SandboxIntegrationData, oddities: readonly RecordOddity[]): number {
  let changed = 0;
  for (const oddity of new Set(oddities)) {
    switch (oddity) {
      case 'unknown-enum': {
        // Withdrawals are DECLINED with a reason in Kombo's enum; an ATS-specific outcome is what a client must survive.
        const withdrawn = new Set<unknown>();
        for (const app of data.applications) {
          if (app['rejection_reason_name'] !== WITHDRAWAL_REASON || (app['outcome'] !== 'DECLINED' && app['outcome'] !== UNKNOWN_OUTCOME)) continue;
          if (app['outcome'] !== UNKNOWN_OUTCOME) changed++;
          app['outcome'] = UNKNOWN_OUTCOME;
          withdrawn.add(app['id']);
          app['offers'] = ((app['offers'] as Rec[] | undefined) ?? []).map((o) => ({ ...o, status: UNKNOWN_OUTCOME }));
        }
        for (const c of data.candidates) {
          c['applications'] = ((c['applications'] as Rec[] | undefined) ?? []).map((a) => (withdrawn.has(a['id']) ? { ...a, outcome: UNKNOWN_OUTCOME } : a));
        }
        for (const i of data.interviews) {
          const app = i['application'] as Rec | null | undefined;
          if (app && withdrawn.has(app['id'])) i['application'] = { ...app, outcome: UNKNOWN_OUTCOME };
        }
        break;
      }
      case 'unknown-question-type':
        // Kombo passes answers it cannot map yet as UNKNOWN; here a type it does not list at all.
        for (const app of data.applications) {
          const answers = (app['screening_question_answers'] as Rec[] | null | undefined) ?? [];
          if (!answers.some((a) => (a['question'] as Rec | undefined)?.['type'] === 'UNKNOWN')) continue;
          changed++;
          app['screening_question_answers'] = answers.map((a) => {
            const question = a['question'] as Rec;
            if (question['type'] !== 'UNKNOWN') return a;
            return { question: { ...question, type: UNKNOWN_QUESTION_TYPE }, answer: { file: { name: 'portfolio.pdf', url: `https://files.example.com/${String(app['id'])}/portfolio.pdf` } } };
          });
        }
        break;
      case 'huge-string':
      case 'many-custom-fields':
        for (const records of [data.candidates, data.applications]) {
          const target = records.find(isLive);
          if (target === undefined) continue;
          changed++;
          makeOdd(target, oddity);
        }
        break;
    }
  }
  return changed;
}
