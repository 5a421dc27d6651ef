/**
 * The run id of a scheduled invocation: the same for every invocation of one schedule's night, and
 * read back by the deadline check as the time the run started.
 */
import { describe, expect, it } from 'vitest';
import { SCHEDULED_RUN, SCHEDULE_SOURCE, parsePlannerEvent } from '../../shared/adapters/aws/events.ts';
import { runIdOf, scheduledRunId } from '../../shared/pipeline/scheduled-run.ts';
import { runsStartedBetween } from '../../shared/pipeline/watch.ts';
import { assertRunId, runKeys } from '../../shared/warehouse/layout.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const ARN = 'arn:aws:scheduler:eu-central-1:123456789012:schedule/default/KomboEtl-NightlyRun';
const NIGHT = new Date('2026-11-23T02:00:00Z');

describe('scheduledRunId', () => {
  it('is the same for every invocation of one night, and a valid run id stamped with the scheduled time', () => {
    const id = scheduledRunId(NIGHT, ARN);
    expect(scheduledRunId(new Date('2026-11-23T02:00:00.000Z'), ARN)).toBe(id);
    expect(assertRunId(id)).toMatch(/^20261123T020000Z-[0-9a-f]{6}$/);
  });

  it('differs for another night or another schedule', () => {
    expect(scheduledRunId(new Date('2026-11-24T02:00:00Z'), ARN)).not.toBe(scheduledRunId(NIGHT, ARN));
    expect(scheduledRunId(NIGHT, ARN.replace('KomboEtl-', 'KomboEtlUs-'))).not.toBe(scheduledRunId(NIGHT, ARN));
  });

  it('is what the deadline check reads as the start of the run', async () => {
    const store = new MemoryStore();
    const id = scheduledRunId(NIGHT, ARN);
    await store.put(runKeys.success(id), '{}');
    expect(await runsStartedBetween(store, new Date('2026-11-23T00:00:00Z'), new Date('2026-11-23T08:00:00Z'))).toEqual([{ runId: id, startedAt: NIGHT, progress: 'succeeded' }]);
  });
});

describe('runIdOf a planner invocation', () => {
  const event = (over: Record<string, unknown> = {}) => ({ version: '0', id: 'x', 'detail-type': SCHEDULED_RUN, source: SCHEDULE_SOURCE, account: '1', time: NIGHT.toISOString(), region: 'eu-central-1', resources: [ARN], detail: {}, ...over });

  it('derives the id of a nightly event of ours from its schedule and time, whatever the delivery', () => {
    const first = parsePlannerEvent(event({ id: 'a' }), new Date('2026-11-23T02:00:05Z'));
    const repeat = parsePlannerEvent(event({ id: 'b' }), new Date('2026-11-23T02:03:00Z'));
    expect(first).toMatchObject({ kind: 'plan', scheduleArn: ARN });
    if (first.kind !== 'plan' || repeat.kind !== 'plan') throw new Error('expected plans');
    expect(runIdOf(repeat)).toBe(runIdOf(first));
  });

  it('mints a new id for a run by hand, or for an event another source sent', () => {
    let n = 0;
    const mint = () => `20261123T100000Z-00000${n++}`;
    for (const e of [{}, event({ source: 'someone.else' }), event({ resources: [] })]) {
      const req = parsePlannerEvent(e, NIGHT);
      if (req.kind !== 'plan') throw new Error('expected a plan');
      expect(req.scheduleArn).toBeUndefined();
      expect(runIdOf(req, mint)).toMatch(/^20261123T100000Z-/);
    }
  });
});
