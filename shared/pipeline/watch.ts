/**
 * Watching runs from their state in the warehouse: which runs started in a time window, and
 * whether they finished. Backs the "run not finished by the deadline" alarm.
 */
import type { ObjectStore } from '../ports.ts';
import type { RunStatus } from './state.ts';

/** A run's progress: finished one way or the other, or still running (or stuck). */
export type RunProgress = RunStatus | 'running';

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
  const flags = new Map<string, { success: boolean; failed: boolean }>();
  // One listing per UTC day in the window: run ids start with the day, so older runs are not read.
  for (let day = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); day <= to.getTime(); day += 86_400_000) {
    for (const key of await store.list(`_runs/${dayStamp(new Date(day))}`)) {
      const [, runId, ...rest] = key.split('/');
      if (runId === undefined) continue;
      const f = flags.get(runId) ?? { success: false, failed: false };
      const file = rest.join('/');
      if (file === '_SUCCESS.json') f.success = true;
      if (file === '_FAILED.json') f.failed = true;
      flags.set(runId, f);
    }
  }
  const runs: RunSummary[] = [];
  for (const [runId, f] of flags) {
    const at = startedAt(runId);
    if (at === undefined || at < from || at > to) continue;
    runs.push({ runId, startedAt: at, progress: f.success ? 'succeeded' : f.failed ? 'failed' : 'running' });
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
