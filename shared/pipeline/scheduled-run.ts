/**
 * The run id of a scheduled invocation. EventBridge Scheduler delivers at least once, and retries a
 * delivery that failed; each invocation minting its own id would start a second run of the same
 * night, whose streams find the first run's locks and end `STREAM.BUSY`. Derived from the
 * schedule and its scheduled time instead, every invocation of one night names the same run, and
 * the planner plans it once.
 */
import { createHash } from 'node:crypto';
import { newRunId } from '../warehouse/layout.ts';

/** How the planner was invoked: when, and by which schedule (absent for a run started by hand). */
export interface RunInvocation {
  readonly at: Date;
  /** ARN of the schedule that invoked the planner for its time `at`. */
  readonly scheduleArn?: string;
}

/**
 * `<scheduled time>-<6 hex of a hash of the schedule and that time>`: the same for every invocation
 * of one schedule's night, different for two schedules (two stacks sharing a warehouse) or nights,
 * and of the form {@link newRunId} mints, so the deadline check reads its start from it.
 */
export function scheduledRunId(scheduledTime: Date, scheduleArn: string): string {
  const digest = createHash('sha256').update(`${scheduleArn}\n${scheduledTime.toISOString()}`).digest();
  return newRunId(scheduledTime, () => digest.readUInt32BE(0) / 2 ** 32);
}

/** The run id of an invocation: derived for a schedule's, minted anew for one by hand. */
export function runIdOf(invocation: RunInvocation, mint: () => string = () => newRunId()): string {
  return invocation.scheduleArn === undefined ? mint() : scheduledRunId(invocation.at, invocation.scheduleArn);
}
