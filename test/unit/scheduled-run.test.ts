/**
 * The run id of a scheduled invocation: the same for every invocation of one schedule's night, and
 * read back by the deadline check as the time the run started; the deadline check counts that run
 * only, and forgives its first deadline when the schedule has not run yet.
 */
import { describe, expect, it } from 'vitest';
import { RUN_DEADLINE, SCHEDULED_RUN, SCHEDULE_SOURCE, parsePlannerEvent } from '../../shared/adapters/aws/events.ts';
import { checkNightlyDeadline } from '../../shared/pipeline/nightly-deadline.ts';
import { runIdOf, scheduledRunId } from '../../shared/pipeline/scheduled-run.ts';
import { checkRunDeadline, runsStartedBetween } from '../../shared/pipeline/watch.ts';
import { assertRunId } from '../../shared/warehouse/layout.ts';
import { MemoryStore } from '../helpers/memory-store.ts';
import { runKeys } from '../../shared/state/keys.ts';

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

describe('checkNightlyDeadline', () => {
  const DEADLINE = new Date('2026-11-23T08:00:00Z');
  const nightly = scheduledRunId(NIGHT, ARN);
  const byHand = '20261123T031500Z-00abcd';

  it('forgives the first deadline after a deploy when the schedule has not run yet, and no later one', async () => {
    const store = new MemoryStore();
    expect(await checkNightlyDeadline(store, DEADLINE, ARN)).toMatchObject({ status: 'met', reason: expect.stringMatching(/^first deadline check since the deploy/) });
    expect(await checkNightlyDeadline(store, new Date('2026-11-24T08:00:00Z'), ARN)).toMatchObject({ status: 'missed', reason: expect.stringMatching(/started no run/) });
  });

  it("counts only the schedule's own run: one started by hand is not the night's", async () => {
    const store = new MemoryStore();
    await checkNightlyDeadline(store, new Date('2026-11-22T08:00:00Z'), ARN);
    await store.put(runKeys.success(byHand), '{}');
    expect(await checkNightlyDeadline(store, DEADLINE, ARN)).toMatchObject({ status: 'missed', runs: [] });
    // What the check without the schedule says of the same warehouse.
    expect((await checkRunDeadline(store, DEADLINE)).status).toBe('met');
  });

  it("is met once the night's run finished, failed streams or not, and missed while it runs", async () => {
    const store = new MemoryStore();
    await store.put(runKeys.plan(nightly), '{}');
    expect(await checkNightlyDeadline(store, DEADLINE, ARN)).toMatchObject({ status: 'missed', reason: `the nightly run ${nightly} has not finished` });
    await store.put(runKeys.failed(nightly), '{}');
    expect(await checkNightlyDeadline(store, DEADLINE, ARN)).toMatchObject({ status: 'met', runs: [{ runId: nightly, progress: 'failed' }] });
  });

  it('reads the nightly schedule from the deadline event, and any run without it', () => {
    const deadline = (detail: unknown) => ({ version: '0', id: 'x', 'detail-type': RUN_DEADLINE, source: SCHEDULE_SOURCE, account: '1', time: DEADLINE.toISOString(), region: 'eu-central-1', resources: [], detail });
    expect(parsePlannerEvent(deadline({ nightly_schedule: ARN }), DEADLINE)).toEqual({ kind: 'deadline', at: DEADLINE, nightlyScheduleArn: ARN });
    expect(parsePlannerEvent(deadline({}), DEADLINE)).toEqual({ kind: 'deadline', at: DEADLINE });
  });
});
