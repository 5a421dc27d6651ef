/**
 * The retention rule, in one place for every caller: `kombo-etl compact --retention-days N`, the
 * compactor Lambda (`RETENTION_DAYS`), the CDK context `retentionDays` and compaction itself.
 *
 * A retention is a whole number of days from 0 to {@link MAX_RETENTION_DAYS}. N days keep the
 * history of the last N days whole (the cutoff is today − N). **0 keeps every version**: the cutoff
 * falls before any data, so compaction removes nothing by age and only erasure removes anything;
 * in AWS there is then no compaction schedule and run state does not expire.
 */
import { ConfigError } from './errors.ts';

/** The retention that keeps every version: only erasure removes anything. */
export const KEEP_EVERY_VERSION = 0;
/** The longest retention accepted: a hundred years. */
export const MAX_RETENTION_DAYS = 36_500;
/** The cutoff of a retention of {@link KEEP_EVERY_VERSION}: a date before any snapshot. */
export const BEFORE_ANY_SNAPSHOT = '0000-01-01';

const DAY_MS = 86_400_000;

/** What a valid retention is, for messages. */
export const RETENTION_RULE = `a whole number of days from 0 to ${MAX_RETENTION_DAYS} (0 keeps every version: only erasure removes anything)`;

/** Whether `days` is a valid retention. */
export function isRetentionDays(days: number): boolean {
  return Number.isInteger(days) && days >= 0 && days <= MAX_RETENTION_DAYS;
}

/** The retention written as text (a flag, an environment variable), or undefined when it is not one: digits only, surrounding blanks ignored. */
export function retentionDaysOf(raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  const days = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return isRetentionDays(days) ? days : undefined;
}

/** {@link retentionDaysOf}, or a {@link ConfigError} that starts with `name` and says what to give. */
export function parseRetentionDays(raw: string | undefined, name: string): number {
  const days = retentionDaysOf(raw);
  if (days === undefined) throw new ConfigError(`${name} ${JSON.stringify(raw ?? '')}: give the days of history to keep whole, ${RETENTION_RULE}`);
  return days;
}

/** Whether a retention keeps every version: nothing to compact by age, nothing of `_runs/` to expire. */
export function keepsEveryVersion(retentionDays: number): boolean {
  return retentionDays === KEEP_EVERY_VERSION;
}

/**
 * The first snapshot date a retention of `retentionDays` keeps whole, counted back from `today`;
 * {@link BEFORE_ANY_SNAPSHOT} for a retention that keeps every version. Throws on an invalid one.
 */
export function retentionCutoff(today: string, retentionDays: number): string {
  if (!isRetentionDays(retentionDays)) throw new Error(`retention must be ${RETENTION_RULE} (got ${retentionDays})`);
  if (keepsEveryVersion(retentionDays)) return BEFORE_ANY_SNAPSHOT;
  return new Date(Date.parse(`${today}T00:00:00Z`) - retentionDays * DAY_MS).toISOString().slice(0, 10);
}
