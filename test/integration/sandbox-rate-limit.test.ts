import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { RateLimiter, generateDataset, startSandbox } from '../../sandbox/index.ts';

const ID = 'greenhouse:Qw3ErTy7UiOp9AsDfGh2JkLz';

let sandbox: RunningSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(requests: number) {
  const dataset = generateDataset({ seed: 3, integrations: [{ id: ID, tool: 'greenhouse', candidates: 5 }] });
  sandbox = await startSandbox({ port: 0, dataset, faults: { rateLimit: { requests, windowSeconds: 60 } } });
  return sandbox;
}

const get = (s: RunningSandbox, key = s.apiKey) =>
  fetch(`${s.url}/ats/candidates`, { headers: { authorization: `Bearer ${key}`, 'x-integration-id': ID } });

describe('sandbox request budget', () => {
  it('counts GETs per key, puts ratelimit-* on every answer, and answers 429 with Retry-After past the budget', async () => {
    // Prepare
    const s = await start(3);
    // Act
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get(s));
    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    for (const a of answers) {
      expect(a.headers.get('ratelimit-limit')).toBe('3');
      expect(Number(a.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      expect(Number(a.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
    }
    const rejected = answers[3]!;
    expect(Number(rejected.headers.get('retry-after'))).toBe(Number(rejected.headers.get('ratelimit-reset')));
    expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe('PLATFORM.RATE_LIMIT_EXCEEDED');
    expect(s.stats.rateLimited).toBe(1);
  });

  it('keeps a budget per API key: another key (rejected or not) does not spend ours', async () => {
    const s = await start(1);
    expect((await get(s, 'someone-else')).status).toBe(401);
    expect((await get(s)).status).toBe(200);
    expect((await get(s)).status).toBe(429);
  });

  it('does not count writes, but tells them the budget', async () => {
    const s = await start(1);
    const post = await fetch(`${s.url}/ats/candidates`, { method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'x-integration-id': ID, 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(400);
    expect(post.headers.get('ratelimit-remaining')).toBe('1');
    expect((await get(s)).status).toBe(200);
    expect((await get(s)).status).toBe(429);
  });
});

describe('RateLimiter', () => {
  it('opens a new window a full window after the previous one started, keeping its phase', () => {
    const limiter = new RateLimiter({ requests: 2, windowSeconds: 1 });
    expect([0, 100, 200].map((t) => limiter.take('k', t).allowed)).toEqual([true, true, false]);
    expect(limiter.take('k', 999).resetSeconds).toBe(1);
    // 2,300 ms is inside the third window, which began at 2,000 ms
    expect(limiter.take('k', 2_300).headers).toEqual({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1' });
    expect(limiter.take('k', 2_999).allowed).toBe(true);
    expect(limiter.take('k', 2_999).allowed).toBe(false);
  });
});
