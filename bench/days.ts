/** Helpers of the webhook and intraday benches: the choice of days to sync, and a small seeded random stream. */
import { DEFAULT_FULL_EVERY_DAYS, isFullSyncDay } from '../shared/pipeline/plan.ts';

/** The day after `date` (`YYYY-MM-DD`). */
export const nextDay = (date: string): string => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * The first day from `earliest` whose next day is not the integration's weekly full-sync day: a
 * bench syncs it in full, then measures syncs of the next day, which are incremental.
 */
export function incrementalDay(integrationId: string, earliest: string): string {
  let day = earliest;
  while (isFullSyncDay(integrationId, nextDay(day), DEFAULT_FULL_EVERY_DAYS)) day = nextDay(day);
  return day;
}

/** mulberry32: a small seeded stream of numbers in [0, 1), so a bench draws the same scenario each time. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}
