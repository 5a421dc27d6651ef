/**
 * The deadline check of a nightly schedule: did the run that schedule started for the night finish?
 * Only that run counts (its id is derived from the schedule, see `scheduled-run.ts`): a run started
 * by hand the same day is not the night's. And the first check after a deploy, when the schedule
 * has not run yet (deployed between its time and the deadline), is not an overdue night.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../ports.ts';
import { scheduledRunId } from './scheduled-run.ts';
import { encodeJson } from '../state/codec.ts';
import { runKeys } from '../state/keys.ts';
import type { DeadlineVerdict } from './watch.ts';
import { runsStartedBetween } from './watch.ts';

const DAY_MS = 86_400_000;

/** `_runs/_deadline-<hash of the schedule>.json`: written by the schedule's first deadline check (and kept by every later one). */
export const firstCheckKey = (nightlyScheduleArn: string): string => runKeys.deadlineCheck(createHash('sha256').update(nightlyScheduleArn).digest('hex').slice(0, 12));

/**
 * Did the run `nightlyScheduleArn` started in the `windowMs` before `deadline` finish? A run that
 * finished with failed streams counts as finished: failures have their own alarm.
 */
export async function checkNightlyDeadline(store: ObjectStore, deadline: Date, nightlyScheduleArn: string, windowMs = DAY_MS): Promise<DeadlineVerdict> {
  const from = new Date(deadline.getTime() - windowMs);
  const runs = (await runsStartedBetween(store, from, deadline)).filter((r) => r.runId === scheduledRunId(r.startedAt, nightlyScheduleArn));
  const key = firstCheckKey(nightlyScheduleArn);
  const firstCheck = await store.putIfAbsent(key, encodeJson({ nightlySchedule: nightlyScheduleArn, firstCheck: deadline.toISOString() }));
  // Rewritten by every check, so that the expiry of `_runs/` never takes it.
  if (!firstCheck) await store.put(key, encodeJson({ nightlySchedule: nightlyScheduleArn, lastCheck: deadline.toISOString() }));
  if (runs.length === 0) {
    if (firstCheck) return { status: 'met', reason: `first deadline check since the deploy, and the nightly schedule has not run yet: from the next deadline on, a night without a finished run is overdue`, runs };
    return { status: 'missed', reason: `the nightly schedule started no run between ${from.toISOString()} and ${deadline.toISOString()} (runs started by hand do not count)`, runs };
  }
  const finished = runs.filter((r) => r.progress !== 'running');
  if (finished.length === 0) return { status: 'missed', reason: `the nightly run ${runs.at(-1)!.runId} has not finished`, runs };
  return { status: 'met', reason: `the nightly run ${finished.at(-1)!.runId} finished`, runs };
}
