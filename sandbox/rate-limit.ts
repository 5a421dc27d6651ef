/**
 * The sandbox's request budget: per API key, `requests` per fixed window of `windowSeconds`, the
 * way an API gateway in front of Kombo would count. Pure (the clock is passed in), so tests can
 * drive it without timers.
 *
 * Choices worth knowing:
 * - Windows are fixed and start at the key's first request (as express-rate-limit and most
 *   gateways do), so a client that knows the budget can pace evenly and never see a 429.
 * - Every request counts when it arrives, rejected ones included: a client that hammers a closed
 *   window gains nothing.
 * - `ratelimit-reset` and `Retry-After` are whole seconds, rounded up (delta-seconds, as the IETF
 *   RateLimit header draft and Kombo send them): they never promise a reset earlier than the truth.
 */

/** A request budget. */
export interface SandboxRateLimit {
  /** Requests allowed per window. */
  requests: number;
  /** Window length in seconds. */
  windowSeconds: number;
}

/** The outcome of counting one request. */
export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** Seconds until the window resets, rounded up (at least 1 while a window is open). */
  readonly resetSeconds: number;
  /** `ratelimit-*` headers describing the budget after this request. */
  readonly headers: Record<string, string>;
}

interface KeyWindow {
  start: number;
  count: number;
}

/** Keys remembered at most (a client sending random keys must not grow the map without bound). */
const MAX_KEYS = 1_000;

/** Counts requests per API key in fixed windows. */
export class RateLimiter {
  private readonly windows = new Map<string, KeyWindow>();
  private readonly windowMs: number;

  constructor(readonly limit: SandboxRateLimit) {
    this.windowMs = limit.windowSeconds * 1000;
  }

  /** Count a request of `key` arriving at `now` (epoch ms) and say whether it is within budget. */
  take(key: string, now: number): RateLimitVerdict {
    const w = this.current(key, now);
    w.count++;
    return this.verdict(w, now, w.count <= this.limit.requests);
  }

  /** The budget of `key` at `now`, without counting a request. */
  peek(key: string, now: number): RateLimitVerdict {
    return this.verdict(this.current(key, now), now, true);
  }

  private current(key: string, now: number): KeyWindow {
    let w = this.windows.get(key);
    if (!w) {
      if (this.windows.size >= MAX_KEYS) this.windows.delete(this.windows.keys().next().value as string);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    } else if (now >= w.start + this.windowMs) {
      // Windows keep their phase: the n-th window of a key starts at first request + n × window.
      w.start += Math.floor((now - w.start) / this.windowMs) * this.windowMs;
      w.count = 0;
    }
    return w;
  }

  private verdict(w: KeyWindow, now: number, allowed: boolean): RateLimitVerdict {
    const resetSeconds = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    return {
      allowed,
      resetSeconds,
      headers: {
        'ratelimit-limit': String(this.limit.requests),
        'ratelimit-remaining': String(Math.max(0, this.limit.requests - w.count)),
        'ratelimit-reset': String(resetSeconds),
      },
    };
  }
}
