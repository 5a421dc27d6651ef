/**
 * Client-side pacing against Kombo's rate limit. One {@link RequestGate} per {@link KomboClient},
 * shared by every worker that uses the client, decides when each request may start:
 *
 * - **Even spacing at the budget's rate.** The rate is the smaller of a configured share
 *   (`requestsPerSecond`) and what the `ratelimit-limit` / `ratelimit-reset` headers reveal
 *   (limit ÷ window), times a utilisation below 1 that absorbs timer and network jitter. Evenly
 *   spaced requests never put more than the limit into any window, fixed or sliding, so a
 *   pipeline that keeps every allowed request in flight sees (almost) no 429.
 * - **One pause for everyone on a 429.** A `PLATFORM.RATE_LIMIT_EXCEEDED` answer holds every
 *   request of the client until its `Retry-After` (instead of each worker retrying on its own and
 *   prolonging the storm), and lowers the rate multiplicatively; successes raise it back
 *   additively (AIMD), so clients that share one key with others settle below the budget.
 *   Throttling by the remote ATS (`REMOTE.RATE_LIMIT_EXCEEDED`) concerns one integration only and
 *   stays with the per-request backoff.
 * - **`ratelimit-remaining: 0`** holds new requests until the earliest moment the window can have
 *   reset (the header is whole seconds, rounded up, so one second earlier than it says).
 * - **A probe first.** Until the first answer, one request at a time: the headers of that answer
 *   set the pace before a burst of concurrent requests can spend a window.
 *
 * Without headers and without a configured rate the gate only applies 429 pauses: a server that
 * does not announce a budget is not slowed down.
 */

/** What the `ratelimit-*` headers of one answer say. */
export interface RateLimitSnapshot {
  /** `ratelimit-limit`: requests per window. */
  readonly limit?: number;
  /** `ratelimit-remaining`: requests left in the current window. */
  readonly remaining?: number;
  /** `ratelimit-reset`: milliseconds until the window resets. */
  readonly resetMs?: number;
}

/** How a client paces itself. */
export interface PacingOptions {
  /**
   * This client's share of the Kombo budget in requests per second, e.g. the budget divided by the
   * number of clients that share the key (Lambda fetchers). Unset: learnt from the headers alone.
   */
  readonly requestsPerSecond?: number;
  /** Fraction of the budget to aim at (default {@link DEFAULT_PACING_UTILISATION}). */
  readonly utilisation?: number;
}

/**
 * Codes that mean Kombo's budget for the API key is spent (a bare HTTP 429 too): they pause the
 * whole client. `REMOTE.RATE_LIMIT_EXCEEDED` is the ATS of one integration throttling, not Kombo.
 */
export const BUDGET_THROTTLE_CODES: ReadonlySet<string> = new Set(['PLATFORM.RATE_LIMIT_EXCEEDED', 'HTTP.429']);

/** Aim a little below the budget: arrivals jitter by a few milliseconds on their way to the limiter. */
export const DEFAULT_PACING_UTILISATION = 0.95;
/** On a 429 the rate is multiplied by this… */
export const THROTTLE_RATE_FACTOR = 0.7;
/** …and every answer that is not a 429 adds this fraction of the full rate back. */
export const RATE_RECOVERY_STEP = 0.02;
/** The rate never drops below this fraction of the full rate. */
export const MIN_RATE_FRACTION = 0.1;

/** What the gate did, for the run report and the benchmark. */
export interface PacingStats {
  /** Requests that had to wait for their turn. */
  waited: number;
  /** Total time requests spent waiting, in ms. */
  waitedMs: number;
  /** 429 pauses applied to every request of the client. */
  pauses: number;
  /** The current pace in requests per second, or null while none is known. */
  rate: number | null;
}

/** Parse `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds). Undefined when none is present. */
export function parseRateLimitHeaders(headers: { get(name: string): string | null }): RateLimitSnapshot | undefined {
  const num = (name: string): number | undefined => {
    const raw = headers.get(name)?.trim();
    if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) return undefined;
    return Number(raw);
  };
  const limit = num('ratelimit-limit');
  const remaining = num('ratelimit-remaining');
  const reset = num('ratelimit-reset');
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined;
  return {
    ...(limit !== undefined && limit > 0 && { limit }),
    ...(remaining !== undefined && { remaining }),
    ...(reset !== undefined && { resetMs: Math.round(reset * 1000) }),
  };
}

interface Waiter {
  readonly release: () => void;
  /** A pause this request already sat out itself (it was the request that got the 429). */
  readonly satOutUntil: number;
  readonly since: number;
}

/** Why the gate holds requests back. */
export type HoldReason =
  /** Kombo answered 429: every request waits out its `Retry-After`. */
  | 'throttled'
  /** `ratelimit-remaining: 0`: the window's budget is spent until it resets. */
  | 'window-spent'
  /** Even spacing at a pace slower than one request per {@link HOLD_REPORT_MS}. */
  | 'pace';

/** A hold of the gate long enough for a user to wonder why nothing moves. */
export interface HoldEvent {
  readonly reason: HoldReason;
  /** How long requests are held from now. */
  readonly ms: number;
}

/** Holds shorter than this are not reported: the gate spaces requests by less all the time. */
export const HOLD_REPORT_MS = 1_000;

export interface RequestGateOptions extends PacingOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told once per hold of at least {@link HOLD_REPORT_MS}, as it starts. */
  readonly onHold?: (event: HoldEvent) => void;
}

/** Decides when each request of one client may start. See the module comment. */
export class RequestGate {
  readonly stats: PacingStats = { waited: 0, waitedMs: 0, pauses: 0, rate: null };
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly configuredRate: number | undefined;
  private readonly utilisation: number;
  private readonly onHold: ((event: HoldEvent) => void) | undefined;
  /** What set {@link pausedUntil}, for {@link HoldEvent.reason}. */
  private pauseReason: HoldReason = 'throttled';
  /** End of the last hold reported: a hold is told once, not once per wake-up. */
  private reportedUntil = Number.NEGATIVE_INFINITY;
  private limit: number | undefined;
  /** The longest `ratelimit-reset` seen: at the start of a window it is the window's length. */
  private windowMs = 0;
  /** AIMD multiplier of the full rate. */
  private factor = 1;
  private nextAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  /** End of the latest 429 pause: 429s before it belong to the same storm. */
  private throttledUntil = Number.NEGATIVE_INFINITY;
  private answered = false;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private pumping = false;

  constructor(opts: RequestGateOptions = {}) {
    if (opts.requestsPerSecond !== undefined && !(opts.requestsPerSecond > 0)) throw new Error(`requestsPerSecond must be positive, got ${opts.requestsPerSecond}`);
    const utilisation = opts.utilisation ?? DEFAULT_PACING_UTILISATION;
    if (!(utilisation > 0 && utilisation <= 1)) throw new Error(`utilisation must be in (0, 1], got ${utilisation}`);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.configuredRate = opts.requestsPerSecond;
    this.utilisation = utilisation;
    this.onHold = opts.onHold;
    this.stats.rate = this.rate() ?? null;
  }

  /** Requests per second the gate lets through now, or undefined when unpaced. */
  rate(): number | undefined {
    const learnt = this.limit !== undefined && this.windowMs > 0 ? (this.limit * 1000) / this.windowMs : undefined;
    const full = learnt === undefined ? this.configuredRate : Math.min(learnt, this.configuredRate ?? learnt);
    return full === undefined ? undefined : full * this.utilisation * this.factor;
  }

  /**
   * Wait for this request's turn. `satOutUntil`: the end of a pause the caller has already waited
   * out itself (the request that received the 429), so that it does not wait twice.
   */
  acquire(satOutUntil = Number.NEGATIVE_INFINITY): Promise<void> {
    return new Promise<void>((release) => {
      this.queue.push({ release, satOutUntil, since: this.now() });
      void this.pump();
    });
  }

  /** The request released by {@link acquire} got an answer (with these headers) or failed (undefined). */
  settle(snapshot: RateLimitSnapshot | undefined, answered: boolean): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (answered) this.answered = true;
    if (snapshot) this.learn(snapshot);
    void this.pump();
  }

  /** An answer that was not a 429: the pace recovers a step. */
  succeeded(): void {
    if (this.factor < 1) {
      this.factor = Math.min(1, this.factor + RATE_RECOVERY_STEP);
      this.stats.rate = this.rate() ?? null;
    }
  }

  /**
   * Kombo answered 429: hold every request for `ms` and slow down. Returns `now + ms`, to hand to
   * {@link acquire} by the request that waits the pause out itself.
   */
  throttled(ms: number): number {
    const now = this.now();
    // Answers to requests that were in flight together arrive together: one slow-down per storm.
    if (now >= this.throttledUntil) {
      this.factor = Math.max(MIN_RATE_FRACTION, this.factor * THROTTLE_RATE_FACTOR);
      this.stats.pauses++;
      this.stats.rate = this.rate() ?? null;
    }
    this.throttledUntil = Math.max(this.throttledUntil, now + ms);
    if (now + ms > this.pausedUntil) {
      this.pausedUntil = now + ms;
      this.pauseReason = 'throttled';
    }
    return now + ms;
  }

  private learn(s: RateLimitSnapshot): void {
    if (s.limit !== undefined) this.limit = s.limit;
    // A 429 reports its reset too, but a fresh window's first answer is what shows the window length.
    if (s.resetMs !== undefined && (s.remaining === undefined || s.remaining > 0)) this.windowMs = Math.max(this.windowMs, s.resetMs);
    if (s.remaining === 0 && s.resetMs !== undefined) {
      // Whole seconds rounded up: the window may reset up to a second before the header says.
      const until = this.now() + s.resetMs - 1000;
      if (until > this.pausedUntil) {
        this.pausedUntil = until;
        this.pauseReason = 'window-spent';
      }
    }
    this.stats.rate = this.rate() ?? null;
  }

  /** Release waiters in order, each at its turn. One pump runs at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const head = this.queue[0];
        if (!head) return;
        // The probe: until the first answer, one request at a time.
        if (!this.answered && this.inFlight > 0) return;
        const rate = this.rate();
        const interval = rate === undefined ? 0 : 1000 / rate;
        // A request released late (timers, a busy event loop) may let the next one follow a little
        // sooner, but never sooner than the full budget allows: the utilisation's slack is the
        // most the schedule catches up, so no burst follows a stall.
        const catchUp = interval * (1 - this.utilisation);
        const now = this.now();
        const paused = this.pausedUntil > head.satOutUntil ? this.pausedUntil : Number.NEGATIVE_INFINITY;
        const at = Math.max(this.nextAt, paused);
        if (at > now) {
          if (at - now >= HOLD_REPORT_MS && at > this.reportedUntil) {
            this.reportedUntil = at;
            this.onHold?.({ reason: at === paused ? this.pauseReason : 'pace', ms: at - now });
          }
          await this.sleep(at - now);
          continue;
        }
        this.queue.shift();
        this.inFlight++;
        this.nextAt = interval === 0 ? now : Math.max(this.nextAt, now - catchUp) + interval;
        if (now > head.since) {
          this.stats.waited++;
          this.stats.waitedMs += now - head.since;
        }
        head.release();
      }
    } finally {
      this.pumping = false;
    }
  }
}
