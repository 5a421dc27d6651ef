import { describe, expect, it } from 'vitest';
import type { SandboxIntegrationData } from '../../sandbox/index.ts';
import {
  HUGE_STRING_BYTES,
  MANY_CUSTOM_FIELDS,
  UNKNOWN_OUTCOME,
  UNKNOWN_QUESTION_TYPE,
  applyOddities,
  createFaultDecider,
  WITHDRAWAL_REASON,
  generateDataset,
  parseSandboxFaults,
} from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

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

describe('odd records (faults.oddRecords)', () => {
  const SPEC = [{ id: 'greenhouse:OddUnitAAAAbbbbCCCCddddE', tool: 'greenhouse', candidates: 120 }] as const;
  const fresh = (): SandboxIntegrationData => generateDataset({ seed: 3, integrations: SPEC }).integrations[0]!;
  const withdrawals = (data: SandboxIntegrationData): Rec[] => data.applications.filter((a) => a.rejection_reason_name === WITHDRAWAL_REASON);

  it('is off by default: the generated data keeps to Kombo’s enums and question types', () => {
    const data = fresh();
    expect(data.applications.some((a) => a.outcome === UNKNOWN_OUTCOME)).toBe(false);
    expect(JSON.stringify(data)).not.toContain(`"type":"${UNKNOWN_QUESTION_TYPE}"`);
  });

  it('unknown-enum: a withdrawal’s outcome becomes WITHDRAWN on the application and wherever it is nested', () => {
    // Prepare
    const data = fresh();
    const targets = withdrawals(data);
    expect(targets.length).toBeGreaterThan(0);
    // Act
    const changed = applyOddities(data, ['unknown-enum']);
    // Assess
    expect(changed).toBe(targets.length);
    const ids = new Set(targets.map((a) => a.id));
    for (const a of data.applications) expect(a.outcome === UNKNOWN_OUTCOME).toBe(ids.has(a.id));
    const nested = data.candidates.flatMap((c) => c.applications as Rec[]).filter((a) => ids.has(a.id));
    expect(nested.length).toBe(targets.length);
    expect(nested.every((a) => a.outcome === UNKNOWN_OUTCOME)).toBe(true);
    const inInterviews = data.interviews.map((i) => i.application as Rec).filter((a) => ids.has(a.id));
    expect(inInterviews.every((a) => a.outcome === UNKNOWN_OUTCOME)).toBe(true);
    expect(applyOddities(data, ['unknown-enum'])).toBe(0);
  });

  it('unknown-question-type: answers to not-yet-mapped questions come with a type Kombo does not list', () => {
    const data = fresh();
    const before = JSON.stringify(data.jobs);
    expect(applyOddities(data, ['unknown-question-type'])).toBeGreaterThan(0);
    const types = new Set(data.applications.flatMap((a) => (a.screening_question_answers as { question: Rec }[]).map((x) => x.question.type)));
    expect(types.has(UNKNOWN_QUESTION_TYPE)).toBe(true);
    expect(types.has('UNKNOWN')).toBe(false);
    // Questions are shared by the applications of a job: replaced, never edited in place.
    expect(JSON.stringify(data.jobs)).toBe(before);
  });

  it.each(['huge-string', 'many-custom-fields'] as const)('%s: one live candidate and one live application', (oddity) => {
    const data = fresh();
    expect(applyOddities(data, [oddity])).toBe(2);
    const odd = (r: Rec): boolean =>
      oddity === 'huge-string' ? String(r.remote_id).length > HUGE_STRING_BYTES : Object.keys((r.custom_fields as Rec | null) ?? {}).length === MANY_CUSTOM_FIELDS;
    expect(data.candidates.filter(odd)).toHaveLength(1);
    expect(data.applications.filter(odd)).toHaveLength(1);
  });

  it('is validated like every fault: an unknown oddity is refused with its path', () => {
    expect(parseSandboxFaults({ oddRecords: ['unknown-enum', 'unknown-question-type'] }).oddRecords).toHaveLength(2);
    expect(() => parseSandboxFaults({ oddRecords: ['WITHDRAWN'] })).toThrow(/oddRecords\.0/);
  });
});
