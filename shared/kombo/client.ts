/**
 * Kombo ATS API client: cursor pagination, bearer auth, `X-Integration-Id`, retries with
 * exponential backoff and full jitter, `Retry-After` honoured, every page validated. Every request
 * of a client passes one gate that paces them all against Kombo's rate limit (`pacing.ts`).
 * The API key is held here and never written into an error, a log line or a stat.
 */
import type { ModelName } from '../tables.ts';
import { KOMBO_MODELS } from '../tables.ts';
import type { FailureLocation } from '../errors.ts';
import {
  DataError,
  IntegrationFatalError,
  KomboEtlError,
  ModelNotAvailableError,
  RetriesExhaustedError,
  RunFatalError,
  TransientError,
  errorMessage,
} from '../errors.ts';
import { THROTTLE_CODES, classify, parseRetryAfter } from './classify.ts';
import type { PacingOptions, RequestGateOptions } from './pacing.ts';
import { BUDGET_THROTTLE_CODES, RequestGate, parseRateLimitHeaders } from './pacing.ts';
import type { IntegrationInfo } from './schemas.ts';
import { ERROR_ENVELOPE, INTEGRATION_ENVELOPE, PAGE_ENVELOPE, RECORD_SCHEMAS, formatIssues } from './schemas.ts';
import type { ErrorMessages } from './error-text.ts';
import { cleanText, describeErrorBody } from './error-text.ts';

/** Kombo's EU endpoint, the default. */
export const KOMBO_EU_URL = 'https://api.kombo.dev/v1';
/** Kombo's US endpoint. */
export const KOMBO_US_URL = 'https://api.us.kombo.dev/v1';
/** Largest page Kombo serves. */
export const MAX_PAGE_SIZE = 250;

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  /** First backoff step; doubles each attempt. */
  readonly baseDelayMs: number;
  /** No single wait is longer than this, `Retry-After` included. */
  readonly maxDelayMs: number;
  /** Per-attempt timeout, headers and body together. */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  timeoutMs: 60_000,
};

/** What happened while fetching, for the run report and metrics. */
export interface RequestStats {
  requests: number;
  retries: number;
  throttles: number;
}

/**
 * A request that failed and will be tried again after a wait, told as it starts waiting: what a
 * user watching a run sees while nothing else moves (every request refused, a 429 pause).
 */
export interface RetryEvent {
  readonly integrationId: string;
  /** The model of a page request; absent for the integration check. */
  readonly model?: ModelName;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts the request may make at most. */
  readonly maxAttempts: number;
  /** How long this request now waits before its next attempt. */
  readonly delayMs: number;
  /** Kombo's error code, or ours (`HTTP.502`, `NETWORK.ERROR`…). */
  readonly code: string;
  /** The failure, summarised (never a whole error page). */
  readonly message: string;
  /** Kombo's budget for the key is spent: every request of the client waits, not just this one. */
  readonly pausesAll: boolean;
}

export interface KomboClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Injected for tests: how to wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). */
  readonly random?: () => number;
  /** Injected for tests: the clock (epoch ms) the pacing gate reads. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** How this client paces itself against Kombo's rate limit (default: from the `ratelimit-*` headers). */
  readonly pacing?: PacingOptions;
  /** Told each time a request backs off before its next attempt. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Told each time the pacing gate holds requests for a while (see {@link RequestGateOptions.onHold}). */
  readonly onHold?: RequestGateOptions['onHold'];
  /**
   * Whether error messages keep Kombo's `message` (`keep`, the default, as `piiMode` keep does) or
   * give only its code, title and log URL (`omit`): see `error-text.ts`.
   */
  readonly errorMessages?: ErrorMessages;
}

export interface Page {
  readonly records: Record<string, unknown>[];
  readonly next: string | null;
  /** Length of the answer's body in characters: what the page costs in memory, for chunk budgets. */
  readonly bytes?: number;
}

export interface ListOptions {
  readonly cursor?: string | null;
  readonly updatedAfter?: string;
  /** Only these records (Kombo's `ids` filter, a comma-separated list), deleted ones included. */
  readonly ids?: readonly string[];
  readonly pageSize?: number;
  /** Per-caller accounting and retry budget (one per stream), on top of the client's own stats. */
  readonly tracker?: RequestTracker;
  /**
   * Told the next page's cursor as soon as the first bytes of the answer's body name it, while the
   * rest of the body is still on its way and before the page is parsed and validated, so that the
   * caller can ask for that page in the meantime (see {@link peekNext}). A guess read from the
   * body's head: the returned page's `next` is the truth. Not called when the body does not start
   * the way Kombo's pages do, or when the answer is not a 2xx.
   */
  readonly onNext?: (next: string | null) => void;
}

const PAGE_HEAD = /^\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*"next"\s*:\s*(null|"(?:[^"\\]|\\.)*")/;
/** How far into a body its `next` may be looked for: the envelope's head, whatever the cursor's length. */
const PAGE_HEAD_CHARS = 8_192;

/**
 * `next` read from the head of a page's body without parsing the page: Kombo (and the sandbox)
 * write `{"status":"success","data":{"next":…,"results":[…]}}` in that order. Undefined when the
 * body starts any other way.
 */
export function peekNext(text: string): string | null | undefined {
  const m = PAGE_HEAD.exec(text.slice(0, PAGE_HEAD_CHARS));
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as string | null;
  } catch {
    return undefined;
  }
}

/**
 * A response's body as text, read as it arrives. `onNext` is told the page's `next` as soon as the
 * body's head names it, so that a 430 kB page's transfer and decoding happen while the next
 * request is already on its way.
 */
async function readBody(res: Response, onNext: ((next: string | null) => void) | undefined): Promise<string> {
  if (!res.body) return '';
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let head = onNext === undefined ? undefined : '';
  for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
    const part = decoder.decode(bytes, { stream: true });
    parts.push(part);
    if (head === undefined) continue;
    head += part;
    const next = peekNext(head);
    if (next !== undefined) {
      head = undefined;
      onNext!(next);
    } else if (head.length >= PAGE_HEAD_CHARS) head = undefined;
  }
  parts.push(decoder.decode());
  return parts.join('');
}

/**
 * What one caller (a stream's chunk) spent, and how many retries it may still spend. When
 * `retriesLeft` reaches 0 the next transient failure ends the request at once with
 * {@link RetriesExhaustedError}, whatever the per-request budget says.
 */
export interface RequestTracker {
  readonly stats: RequestStats;
  retriesLeft?: number;
}

/**
 * A 2xx answer as it came: its status and text, not yet parsed. A chunk can hand it to another
 * thread to parse, validate and encode (see `readPage`), so that the thread waiting on Kombo stays free.
 */
export interface RawPage {
  readonly status: number;
  readonly text: string;
  /** Length of the text in characters: what the page costs in memory, for chunk budgets. */
  readonly bytes: number;
  /** The answer's `Date` header (epoch milliseconds, whole seconds): the source's clock. */
  readonly serverTime?: number;
}

/** Words of a non-JSON body kept in a message: enough to recognise the page, never the page. */
const SUMMARY_WORDS = 8;
const SUMMARY_CHARS = 80;

/** The first words of a text, whitespace collapsed, with `…` when cut. */
function firstWords(text: string): string {
  const words = cleanText(text, Number.POSITIVE_INFINITY).split(' ');
  let out = words.slice(0, SUMMARY_WORDS).join(' ');
  if (out.length > SUMMARY_CHARS) out = out.slice(0, SUMMARY_CHARS).trimEnd();
  return out.length < words.join(' ').length ? `${out}…` : out;
}

/**
 * A body that is not Kombo's JSON (a load balancer's HTML error page, a proxy's plain text),
 * described in a few words for an error message: an HTML page by the first words of its
 * `<title>` (or of its text when it has none), anything else by its first words.
 */
export function summariseBody(text: string, messages: ErrorMessages = 'keep'): string {
  if (text.trim() === '') return 'an empty body';
  if (/^\s*(<!doctype html|<html|<head|<body)/i.test(text)) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
    const words = firstWords(decodeEntities((title ?? text.replace(/<(script|style)[\s\S]*?<\/\1>|<[^>]*>/gi, ' ')).trim()));
    return words === '' ? 'an HTML page' : `an HTML page "${words}"`;
  }
  return messages === 'keep' ? `"${firstWords(text)}"` : `${text.length} characters of text`;
}

/** The few character references error pages use in titles. */
function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return text.replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return named[ref.toLowerCase()] ?? m;
  });
}

/** The JSON of a 2xx answer; a clear {@link DataError} when the body is empty or not JSON. */
function parseBody(raw: RawPage, loc: FailureLocation, messages: ErrorMessages): unknown {
  if (raw.text !== '') {
    try {
      return JSON.parse(raw.text);
    } catch {
      // reported below
    }
  }
  const what = raw.text === '' ? 'an empty body' : `a body that is not JSON: ${summariseBody(raw.text, messages)}`;
  throw new DataError(`HTTP ${raw.status} with ${what}`, 'DATA.MALFORMED_JSON', loc);
}

/** A page answer parsed and validated: the work {@link KomboClient.listPage} adds to {@link KomboClient.fetchPage}. */
export function readPage(raw: RawPage, model: ModelName, loc: FailureLocation, messages: ErrorMessages = 'keep'): Page {
  return { ...parsePage(parseBody(raw, loc, messages), model, loc), bytes: raw.bytes };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Build the error class that matches a classified failure. */
function errorFor(
  kind: ReturnType<typeof classify>,
  message: string,
  code: string,
  loc: FailureLocation,
  retryAfterMs: number | undefined,
): KomboEtlError {
  switch (kind) {
    case 'transient':
      return new TransientError(message, code, loc, retryAfterMs);
    case 'skippable':
      return new ModelNotAvailableError(message, code, loc);
    case 'integration-fatal':
      return new IntegrationFatalError(message, code, loc);
    case 'run-fatal':
      return new RunFatalError(message, code, loc);
  }
}

/** Network-level failures (reset, refused, timeout) are transient by nature. */
function networkError(err: unknown, loc: FailureLocation, timeoutMs: number): TransientError {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new TransientError(`request timed out after ${timeoutMs} ms`, 'NETWORK.TIMEOUT', loc, undefined, { cause: err });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return new TransientError(`network error: ${errorMessage(err)}${cause}`, 'NETWORK.ERROR', loc, undefined, { cause: err });
}

/** A client for one Kombo API key. Stateless apart from its stats. */
export class KomboClient {
  readonly stats: RequestStats = { requests: 0, retries: 0, throttles: 0 };
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly errorMessages: ErrorMessages;
  /** Shared by every caller of this client: when each request may start. */
  readonly pacing: RequestGate;

  constructor(opts: KomboClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
    this.fetchFn = opts.fetch ?? fetch;
    this.onRetry = opts.onRetry;
    this.errorMessages = opts.errorMessages ?? 'keep';
    this.pacing = new RequestGate({ ...opts.pacing, sleep: this.sleep, ...(opts.now && { now: opts.now }), ...(opts.onHold && { onHold: opts.onHold }) });
  }

  /** Fetch one page of a model, validated. Retries transient failures within the policy. */
  async listPage(integrationId: string, model: ModelName, opts: ListOptions = {}): Promise<Page> {
    const raw = await this.fetchPage(integrationId, model, opts);
    return readPage(raw, model, { integrationId, model, cursor: opts.cursor ?? null }, this.errorMessages);
  }

  /**
   * Fetch one page of a model and return its text unparsed (see {@link readPage}). Retries
   * transient failures within the policy, exactly as {@link listPage}.
   */
  async fetchPage(integrationId: string, model: ModelName, opts: ListOptions = {}): Promise<RawPage> {
    const cursor = opts.cursor ?? null;
    const loc: FailureLocation = { integrationId, model, cursor };
    const params = new URLSearchParams({
      page_size: String(opts.pageSize ?? MAX_PAGE_SIZE),
      include_deleted: 'true',
    });
    // Kombo wants every filter repeated on every page, the cursor alongside.
    if (opts.updatedAfter !== undefined) params.set('updated_after', opts.updatedAfter);
    if (opts.ids !== undefined) params.set('ids', opts.ids.join(','));
    if (cursor !== null) params.set('cursor', cursor);
    return this.request(`${KOMBO_MODELS[model].endpoint}?${params.toString()}`, integrationId, loc, opts.tracker, opts.onNext);
  }

  /**
   * `GET /integrations/{id}`: status and read models of one integration, and the time Kombo
   * answered (`sourceTime`, from its `Date` header, when it sends one). `tracker` counts its
   * requests, retries and throttles, as for a page.
   */
  async getIntegration(integrationId: string, tracker?: RequestTracker): Promise<IntegrationInfo & { readonly sourceTime?: string }> {
    const loc: FailureLocation = { integrationId };
    const raw = await this.request(`/integrations/${encodeURIComponent(integrationId)}`, integrationId, loc, tracker);
    const parsed = INTEGRATION_ENVELOPE.safeParse(parseBody(raw, loc, this.errorMessages));
    if (!parsed.success) {
      throw new DataError(`unexpected integration response: ${formatIssues(parsed.error)}`, 'DATA.INVALID_ENVELOPE', loc);
    }
    // Kombo's clock, for the watermark of the streams that follow (whole seconds, so never ahead).
    return { ...parsed.data.data, ...(raw.serverTime !== undefined && { sourceTime: new Date(raw.serverTime).toISOString() }) };
  }

  /** One request with retries. Returns a 2xx answer's text. */
  private async request(
    pathAndQuery: string,
    integrationId: string,
    loc: FailureLocation,
    tracker?: RequestTracker,
    onNext?: ListOptions['onNext'],
  ): Promise<RawPage> {
    let attempt = 0;
    let satOutUntil = Number.NEGATIVE_INFINITY;
    for (;;) {
      attempt++;
      if (tracker) tracker.stats.requests++;
      try {
        return await this.attempt(pathAndQuery, integrationId, loc, satOutUntil, onNext);
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        // A bare 429 (no Kombo body) is throttling too.
        if (THROTTLE_CODES.has(err.code) || BUDGET_THROTTLE_CODES.has(err.code)) {
          this.stats.throttles++;
          if (tracker) tracker.stats.throttles++;
        }
        if (attempt >= this.policy.maxAttempts) throw new RetriesExhaustedError(err, attempt);
        if (tracker?.retriesLeft !== undefined) {
          if (tracker.retriesLeft <= 0) throw new RetriesExhaustedError(err, attempt, 'the stream');
          tracker.retriesLeft--;
        }
        if (tracker) tracker.stats.retries++;
        this.stats.retries++;
        const delay = this.backoff(attempt, err.retryAfterMs);
        // Kombo's own budget is spent: every request of this client waits, not just this one.
        const pausesAll = BUDGET_THROTTLE_CODES.has(err.code);
        if (pausesAll) satOutUntil = this.pacing.throttled(delay);
        this.onRetry?.({
          integrationId,
          ...(loc.model !== undefined && { model: loc.model as ModelName }),
          attempt,
          maxAttempts: this.policy.maxAttempts,
          delayMs: delay,
          code: err.code,
          message: err.message,
          pausesAll,
        });
        await this.sleep(delay);
      }
    }
  }

  /** Exponential backoff with full jitter; the server's `Retry-After` wins when given. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.policy.maxDelayMs);
    const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * ceiling);
  }

  private async attempt(pathAndQuery: string, integrationId: string, loc: FailureLocation, satOutUntil: number, onNext?: ListOptions['onNext']): Promise<RawPage> {
    await this.pacing.acquire(satOutUntil);
    this.stats.requests++;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(`${this.baseUrl}${pathAndQuery}`, {
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          'x-integration-id': integrationId,
          accept: 'application/json',
        },
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      // Read the body inside the same try: a reset mid-body surfaces here.
      text = await readBody(res, res.ok ? onNext : undefined);
    } catch (err) {
      this.pacing.settle(undefined, false);
      throw networkError(err, loc, this.policy.timeoutMs);
    }
    this.pacing.settle(parseRateLimitHeaders(res.headers), true);
    if (res.status !== 429) this.pacing.succeeded();

    if (res.ok) {
      const serverTime = Date.parse(res.headers.get('date') ?? '');
      return { status: res.status, text, bytes: text.length, ...(!Number.isNaN(serverTime) && { serverTime }) };
    }

    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }

    const envelope = ERROR_ENVELOPE.safeParse(body);
    const code = envelope.success ? (envelope.data.error.code ?? null) : null;
    const kind = classify(code, res.status);
    // Kombo's message only when personal data is kept; a load balancer's error page is summarised,
    // never pasted into logs and reports.
    const detail = envelope.success ? describeErrorBody(envelope.data.error, this.errorMessages) : summariseBody(text, this.errorMessages);
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    throw errorFor(kind, `HTTP ${res.status}${code === null ? '' : ` ${code}`}: ${detail}`, code ?? `HTTP.${res.status}`, loc, retryAfterMs);
  }
}

/** Validate a list page: the envelope first, then every record, so errors can name the record. */
export function parsePage(body: unknown, model: ModelName, loc: FailureLocation): Page {
  const envelope = PAGE_ENVELOPE.safeParse(body);
  if (!envelope.success) {
    throw new DataError(`not a Kombo page: ${formatIssues(envelope.error)}`, 'DATA.INVALID_ENVELOPE', loc);
  }
  const schema = RECORD_SCHEMAS[model];
  const records: Record<string, unknown>[] = [];
  const results = envelope.data.data.results;
  for (let i = 0; i < results.length; i++) {
    const parsed = schema.safeParse(results[i]);
    if (!parsed.success) {
      const raw = results[i];
      const id = raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
      const recordLoc: FailureLocation = id === undefined ? loc : { ...loc, recordId: id };
      throw new DataError(
        `invalid ${model} record at index ${i}${id === undefined ? '' : ` (id ${id})`}: ${formatIssues(parsed.error)}`,
        'DATA.INVALID_RECORD',
        recordLoc,
      );
    }
    records.push(results[i] as Record<string, unknown>);
  }
  return { records, next: envelope.data.data.next };
}
