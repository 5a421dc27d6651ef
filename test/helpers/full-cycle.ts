import { isFullSyncDay } from '../../shared/pipeline/plan.ts';
/**
 * Each integration syncs in full on its own day of the full-sync cycle (`fullSyncDay`). A test
 * whose days must all sync incrementally unless it asks for a full sync takes a cycle on which none
 * of its days is one of its integrations' own days.
 */

/** The shortest cycle of at least `min` days on which none of `dates` is a full-sync day of any of `integrationIds`. */
export function cycleWithoutFullDays(integrationIds: readonly string[], dates: readonly string[], min = 8): number {
  for (let every = min; every <= 3650; every++) {
    if (!integrationIds.some((id) => dates.some((d) => isFullSyncDay(id, d, every)))) return every;
  }
  throw new Error('no such cycle');
}
