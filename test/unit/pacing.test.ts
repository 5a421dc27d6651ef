import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../sandbox/index.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { HoldEvent, RateLimitSnapshot } from '../../shared/kombo/pacing.ts';
import { RATE_RECOVERY_STEP, RequestGate, THROTTLE_RATE_FACTOR, parseRateLimitHeaders } from '../../shared/kombo/pacing.ts';

/** A clock that only moves when told to, and a sleep that waits on it. No test here reads real time. */
function fakeTime(start = 1_000_000) {
  let t = start;
  const timers: { at: number; resolve: () => void }[] = [];
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: t + Math.max(0, ms), resolve })),
    /** Move the clock forward, firing due timers in order and letting their continuations run. */
    async advance(ms: number): Promise<void> {
      const end = t + ms;
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const due = timers[0];
        if (!due || due.at > end) break;
        timers.shift();
        t = due.at;
        due.resolve();
        await settle();
      }
      t = end;
      await settle();
    },
    /** Run until no timer is left (or `limit` ms passed). */
    async runAll(limit = 3_600_000): Promise<void> {
      const end = t + limit;
      await settle();
      while (timers.length > 0 && t < end) {
        timers.sort((a, b) => a.at - b.at);
        await this.advance(Math.max(0, timers[0]!.at - t));
      }
    },
  };
}

/** Acquire and record when each request was let through. */
function acquireAll(gate: RequestGate, n: number, now: () => number, satOutUntil?: number): number[] {
  const released: number[] = [];
  for (let i = 0; i < n; i++) void gate.acquire(satOutUntil).then(() => released.push(now()));
  return released;
}

const headers = (h: Record<string, string>) => new Headers(h);
const budget = (limit: number, remaining: number, resetMs: number): RateLimitSnapshot => ({ limit, remaining, resetMs });

describe('parseRateLimitHeaders', () => {
  it('reads limit, remaining and reset (seconds, possibly fractional)', () => {
    expect(parseRateLimitHeaders(headers({ 'ratelimit-limit': '10', 'ratelimit-remaining': '3', 'ratelimit-reset': '1.5' }))).toEqual({ limit: 10, remaining: 3, resetMs: 1500 });
  });

  it('is undefined without the headers, and skips values that are not numbers', () => {
    expect(parseRateLimitHeaders(headers({ 'content-type': 'application/json' }))).toBeUndefined();
    expect(parseRateLimitHeaders(headers({ 'ratelimit-limit': 'many', 'ratelimit-remaining': '2' }))).toEqual({ remaining: 2 });
  });
});

describe('RequestGate', () => {
  it('never waits when neither headers nor a configured rate announce a budget', async () => {
    // Prepare
    const time = fakeTime();
    const gate = new RequestGate({ now: time.now, sleep: time.sleep });
    await gate.acquire();
    gate.settle(undefined, true);
    // Act
    const released = acquireAll(gate, 5, time.now);
    await time.advance(0);
    // Assess
    expect(released).toEqual([1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000]);
    expect(gate.rate()).toBeUndefined();
  });

  it('lets one request out until the first answer, then paces the others at limit ÷ window', async () => {
    const time = fakeTime();
    const gate = new RequestGate({ now: time.now, sleep: time.sleep, utilisation: 1 });
    const released = acquireAll(gate, 4, time.now);
    await time.advance(50);
    expect(released).toHaveLength(1);

    gate.settle(budget(10, 9, 1000), true);
    await time.runAll();

    expect(gate.rate()).toBe(10);
    expect(released).toEqual([1_000_000, 1_000_050, 1_000_150, 1_000_250]);
  });

  it('aims below the budget by its utilisation', () => {
    const gate = new RequestGate({ utilisation: 0.95 });
    gate.settle(budget(600, 599, 60_000), true);
    expect(gate.rate()).toBeCloseTo(9.5);
  });

  it('keeps to a configured share when it is below what the headers allow', () => {
    const gate = new RequestGate({ requestsPerSecond: 2, utilisation: 1 });
    expect(gate.rate()).toBe(2);
    gate.settle(budget(10, 9, 1000), true);
    expect(gate.rate()).toBe(2);
  });

  it('on a 429 holds every request until Retry-After, without the throttled one waiting twice', async () => {
    // Prepare: a known pace of 10/s
    const time = fakeTime();
    const gate = new RequestGate({ now: time.now, sleep: time.sleep, utilisation: 1 });
    await gate.acquire();
    gate.settle(budget(10, 9, 1000), true);
    // Act: one request gets 429 with Retry-After: 2 s; another worker asks meanwhile
    const until = gate.throttled(2000);
    const other = acquireAll(gate, 1, time.now);
    await time.advance(1999);
    // Assess: nobody went during the pause
    expect(other).toEqual([]);
    await time.advance(1);
    expect(other).toEqual([1_002_000]);
    // The throttled request slept its 2 s itself: its retry only waits for its pacing slot.
    const retry = acquireAll(gate, 1, time.now, until);
    await time.runAll();
    expect(retry[0]! - other[0]!).toBeCloseTo(1000 / (10 * THROTTLE_RATE_FACTOR), 0);
    expect(gate.stats.pauses).toBe(1);
  });

  it('tells each hold of a second or more once, with why and how long; shorter spacing goes untold', async () => {
    // Prepare: a pace of 10/s, so spacing alone never holds for a second
    const time = fakeTime();
    const holds: HoldEvent[] = [];
    const gate = new RequestGate({ now: time.now, sleep: time.sleep, utilisation: 1, onHold: (e) => holds.push(e) });
    await gate.acquire();
    gate.settle(budget(10, 9, 1000), true);
    acquireAll(gate, 3, time.now);
    await time.runAll();
    expect(holds).toEqual([]);
    // Act: the window is spent for 30 s while two requests wait, then a 429 pauses everyone for 45 s
    gate.settle(budget(10, 0, 31_000), true);
    acquireAll(gate, 2, time.now);
    await time.advance(10_000);
    gate.throttled(45_000);
    acquireAll(gate, 1, time.now);
    await time.runAll();
    // Assess
    expect(holds).toEqual([
      { reason: 'window-spent', ms: 30_000 },
      { reason: 'throttled', ms: 25_000 },
    ]);
  });

  it('slows down once per 429 storm and recovers a step per answered request', () => {
    const gate = new RequestGate({ utilisation: 1 });
    gate.settle(budget(10, 9, 1000), true);
    gate.throttled(1000);
    gate.throttled(1000); // answered together with the first: the same storm
    expect(gate.rate()).toBeCloseTo(10 * THROTTLE_RATE_FACTOR);
    const steps = Math.ceil((1 - THROTTLE_RATE_FACTOR) / RATE_RECOVERY_STEP);
    for (let i = 0; i < steps; i++) gate.succeeded();
    expect(gate.rate()).toBe(10);
  });

  it('after "ratelimit-remaining: 0" waits until the window can have reset (the header rounds up)', async () => {
    const time = fakeTime();
    const gate = new RequestGate({ now: time.now, sleep: time.sleep, utilisation: 1 });
    await gate.acquire();
    gate.settle(budget(100, 0, 5000), true);
    const released = acquireAll(gate, 1, time.now);
    await time.advance(3999);
    expect(released).toEqual([]);
    await time.advance(1);
    expect(released).toEqual([1_004_000]);
  });
});

describe('KomboClient pacing', () => {
  const page = (ids: string[]) => ({ status: 'success', data: { next: null, results: ids.map((id) => ({ id, first_name: 'Ada', remote_created_at: '2024-01-01T00:00:00.000Z' })) } });

  /**
   * A Kombo stand-in with a fixed-window budget (the sandbox's limiter) and a constant latency, on
   * the fake clock: requests are counted when they arrive, answers come `latencyMs` later.
   */
  function budgetedKombo(time: ReturnType<typeof fakeTime>, limit: { requests: number; windowSeconds: number }, latencyMs: number) {
    const limiter = new RateLimiter(limit);
    const arrivals: number[] = [];
    let rejected = 0;
    const fetchFn = (async () => {
      arrivals.push(time.now());
      const verdict = limiter.take('key', time.now());
      await time.sleep(latencyMs);
      if (!verdict.allowed) {
        rejected++;
        const body = { status: 'error', error: { code: 'PLATFORM.RATE_LIMIT_EXCEEDED', title: null, message: 'slow down', log_url: null } };
        return new Response(JSON.stringify(body), { status: 429, headers: { ...verdict.headers, 'retry-after': String(verdict.resetSeconds) } });
      }
      return new Response(JSON.stringify(page([`c${arrivals.length}`])), { status: 200, headers: verdict.headers });
    }) as unknown as typeof fetch;
    return { fetchFn, arrivals, rejected: () => rejected };
  }

  it('keeps workers that share one client under the budget together, and busy up to it', async () => {
    // Prepare: 10 requests per 1 s window, 100 ms latency, 8 workers with 10 pages each
    const time = fakeTime();
    const kombo = budgetedKombo(time, { requests: 10, windowSeconds: 1 }, 100);
    const client = new KomboClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', fetch: kombo.fetchFn, sleep: time.sleep, now: time.now, random: () => 0.5 });
    await Promise.all([client.getIntegration('lever:Abc').catch(() => undefined), time.runAll()]);
    // Act
    const worker = async () => {
      for (let i = 0; i < 10; i++) await client.listPage('lever:Abc', 'candidates');
    };
    const workers = Promise.all(Array.from({ length: 8 }, worker));
    await time.runAll();
    await workers;
    // Assess: no 429, no fixed window over budget, and 80 pages in about 80 / 9.5 s
    expect(kombo.rejected()).toBe(0);
    const perWindow = new Map<number, number>();
    for (const t of kombo.arrivals) perWindow.set(Math.floor((t - 1_000_000) / 1000), (perWindow.get(Math.floor((t - 1_000_000) / 1000)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(10);
    const span = kombo.arrivals.at(-1)! - kombo.arrivals[1]!;
    expect(span).toBeGreaterThan((79 / 10) * 1000);
    expect(span).toBeLessThan((80 / 9) * 1000);
  });

  it('holds every worker on a 429 instead of each retrying on its own', async () => {
    // Prepare: a budget of 5 per 10 s, spent by a stranger sharing the key before we start
    const time = fakeTime();
    const kombo = budgetedKombo(time, { requests: 5, windowSeconds: 10 }, 50);
    const client = new KomboClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', fetch: kombo.fetchFn, sleep: time.sleep, now: time.now, random: () => 0.5 });
    await Promise.all([client.listPage('lever:Abc', 'candidates'), time.runAll()]);
    for (let i = 0; i < 4; i++) await Promise.all([kombo.fetchFn('http://127.0.0.1:9/v1/stranger'), time.runAll()]);
    // Act: four workers ask at once while the window is spent
    const workers = Promise.all(Array.from({ length: 4 }, () => client.listPage('lever:Abc', 'candidates')));
    await time.runAll();
    await workers;
    // Assess: one 429 (the first to ask); nobody asked again before the next window
    expect(kombo.rejected()).toBe(1);
    expect(client.stats.throttles).toBe(1);
    const nextWindow = 1_000_000 + 10_000;
    expect(kombo.arrivals.slice(6).every((t) => t >= nextWindow)).toBe(true);
    expect(kombo.arrivals).toHaveLength(10);
  });
});
