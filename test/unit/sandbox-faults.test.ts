import { describe, expect, it } from 'vitest';
import { createFaultDecider } from '../../sandbox/faults.ts';

const delays = (faults: Parameters<typeof createFaultDecider>[0], n = 2_000) => {
  const decider = createFaultDecider(faults, 1);
  return Array.from({ length: n }, () => decider.next().delayMs);
};

describe('sandbox latency', () => {
  it('answers every request after the latency asked for, exactly when there is no jitter', () => {
    expect(new Set(delays({ latencyMs: 150 }))).toEqual(new Set([150]));
    expect(new Set(delays({}))).toEqual(new Set([0]));
  });

  it('adds jitter drawn evenly from 0 to latencyJitterMs, whatever the fault drawn', () => {
    // Prepare: 90 ms ± 20 ms of jitter, with 429s and 5xx on some requests
    const d = delays({ latencyMs: 90, latencyJitterMs: 20, rate429: 0.2, rate5xx: 0.2 });
    // Assess: every whole millisecond from 90 to 110 occurs, nothing outside, mean near 100
    expect(Math.min(...d)).toBe(90);
    expect(Math.max(...d)).toBe(110);
    expect(new Set(d).size).toBe(21);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(mean).toBeGreaterThan(99);
    expect(mean).toBeLessThan(101);
  });

  it('draws the same delays for the same seed', () => {
    expect(delays({ latencyMs: 10, latencyJitterMs: 50, seed: 4 }, 50)).toEqual(delays({ latencyMs: 10, latencyJitterMs: 50, seed: 4 }, 50));
  });
});
