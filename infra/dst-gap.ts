/**
 * EventBridge Scheduler follows daylight saving time, and skips a cron time that does not exist on
 * a day: in Europe/Berlin, 02:30 on the last Sunday of March. A nightly schedule there has no run
 * that night. Found at synth, from the cron's hours and minutes and the time zone's rules.
 */

/** `H:MM` times of an EventBridge cron whose minute and hour fields are numbers or lists of them; none for ranges, steps or `*`. */
export function cronTimes(cron: string): { hour: number; minute: number }[] {
  const [minutes, hours] = cron.slice('cron('.length, -1).split(' ');
  const values = (field: string | undefined, max: number) => {
    if (field === undefined || !/^\d+(,\d+)*$/.test(field)) return [];
    return field.split(',').map(Number).filter((n) => n <= max);
  };
  return values(hours, 23).flatMap((hour) => values(minutes, 59).map((minute) => ({ hour, minute })));
}

/** The UTC offset of `timeZone` at `utcMs`, in minutes. */
function offsetMinutes(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(utcMs);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'));
  return Math.round((local - Math.floor(utcMs / 60_000) * 60_000) / 60_000);
}

/** Whether the wall time `hour:minute` of the local date exists in `timeZone` (not skipped by a clock change). */
function wallTimeExists(timeZone: string, year: number, month: number, day: number, hour: number, minute: number): boolean {
  const wall = Date.UTC(year, month, day, hour, minute);
  // The offset is one of those a few hours either side; the wall time exists if one of them maps back onto it.
  for (const probe of [wall - 6 * 3_600_000, wall + 6 * 3_600_000]) {
    const utc = wall - offsetMinutes(timeZone, probe) * 60_000;
    if (utc + offsetMinutes(timeZone, utc) * 60_000 === wall) return true;
  }
  return false;
}

/**
 * Days of `year` (as `YYYY-MM-DD`) on which a time of the cron does not exist in `timeZone`, with
 * that time. Empty for time zones without daylight saving time, and for crons whose hours or
 * minutes are not plain numbers.
 */
export function skippedTimes(cron: string, timeZone: string, year: number): string[] {
  const skipped: string[] = [];
  const times = cronTimes(cron);
  for (let day = Date.UTC(year, 0, 1); day < Date.UTC(year + 1, 0, 1); day += 86_400_000) {
    const d = new Date(day);
    for (const t of times) {
      if (!wallTimeExists(timeZone, d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), t.hour, t.minute)) {
        skipped.push(`${d.toISOString().slice(0, 10)} ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`);
      }
    }
  }
  return skipped;
}
