/**
 * Watching runs from their state in the warehouse: which runs started in a time window, and
 * whether they finished. Backs the "run not finished by the deadline" alarm.
 */
import type { ObjectStore } from '../ports.ts';
import { DAY_MS } from '../warehouse/layout.ts';
import type { RunProgress } from '../state/runs.ts';
import { runsOfDays } from '../state/runs.ts';

export type { RunProgress };

export interface RunSummary {
  readonly runId: string;
  readonly startedAt: Date;
  readonly progress: RunProgress;
}

/** The verdict of a deadline check. */
export type DeadlineStatus = 'met' | 'missed';

export interface DeadlineVerdict {
  readonly status: DeadlineStatus;
  readonly reason: string;
  readonly runs: readonly RunSummary[];
}

/** Runs are minted as `YYYYMMDDTHHMMSSZ-xxxxxx` (`newRunId`); the stamp says when they started. */
const RUN_STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/;

function startedAt(runId: string): Date | undefined {
  const m = RUN_STAMP.exec(runId);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

const dayStamp = (t: Date) => t.toISOString().slice(0, 10).replace(/-/g, '');

/** Every run started in `[from, to]`, oldest first, with its progress. */
export async function runsStartedBetween(store: ObjectStore, from: Date, to: Date): Promise<RunSummary[]> {
  // One listing per UTC day in the window: run ids start with the day, so older runs are not read.
  const days: string[] = [];
  for (let day = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); day <= to.getTime(); day += DAY_MS) days.push(dayStamp(new Date(day)));
  const runs: RunSummary[] = [];
  for (const [runId, progress] of await runsOfDays(store, days)) {
    const at = startedAt(runId);
    if (at === undefined || at < from || at > to) continue;
    runs.push({ runId, startedAt: at, progress });
  }
  return runs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
}

/**
 * Did a run started in the `windowMs` before `deadline` finish by now? A run that finished with
 * failed streams counts as finished here: failures have their own alarm.
 */
export async function checkRunDeadline(store: ObjectStore, deadline: Date, windowMs = 24 * 3_600_000): Promise<DeadlineVerdict> {
  const from = new Date(deadline.getTime() - windowMs);
  const runs = await runsStartedBetween(store, from, deadline);
  if (runs.length === 0) return { status: 'missed', reason: `no run started between ${from.toISOString()} and ${deadline.toISOString()}`, runs };
  const finished = runs.filter((r) => r.progress !== 'running');
  if (finished.length === 0) return { status: 'missed', reason: `${runs.length} run(s) started since ${from.toISOString()}, none finished`, runs };
  return { status: 'met', reason: `run ${finished[finished.length - 1]!.runId} finished`, runs };
}
