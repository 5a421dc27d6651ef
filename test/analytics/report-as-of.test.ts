/**
 * `kombo-etl report --as-of DAY`: the report as the warehouse knew it at the end of that day. The
 * sandbox is synced day after day; the report written on day k is kept, and after the last day the
 * report `--as-of` day k must show the same numbers (only the generated-at stamp and the as-of label
 * may differ).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_INTEGRATIONS } from '../../sandbox/index.ts';
import { runCli } from '../helpers/cli.ts';

/** The small default integration: enough for a history, quick to sync. */
const SMALL = DEFAULT_SANDBOX_INTEGRATIONS[2]?.id as string;
const DAYS = ['2025-05-01', '2025-05-02', '2025-05-03', '2025-05-06'] as const;
const KEPT = DAYS[1];
const warehouse = mkdtempSync(join(tmpdir(), 'kombo-report-asof-'));
const out = mkdtempSync(join(tmpdir(), 'kombo-report-asof-out-'));

/** The page without what may differ between two reports of the same data: the stamp and the as-of label. */
const numbers = (html: string): string => html.replace(/ · <span data-as-of="[^"]*">[^<]*<\/span>/, '').replace(/ · generated [^<]*<\/p>/, '</p>');

beforeAll(async () => {
  for (const date of DAYS) {
    const r = await runCli(['sync', '--as-of', date, '--integrations', SMALL, '--warehouse', warehouse]);
    expect(r.code, r.stderr).toBe(0);
    if (date === KEPT) {
      const report = await runCli(['report', '--warehouse', warehouse, '--out', join(out, 'that-day.html')]);
      expect(report.code, report.stderr).toBe(0);
    }
  }
  const latest = await runCli(['report', '--warehouse', warehouse, '--out', join(out, 'latest.html')]);
  expect(latest.code, latest.stderr).toBe(0);
}, 240_000);

describe('kombo-etl report --as-of', () => {
  it('draws, after later syncs, the report the warehouse gave at the end of that day', async () => {
    const r = await runCli(['report', '--warehouse', warehouse, '--as-of', KEPT, '--out', join(out, 'as-of.html')]);
    expect(r.code, r.stderr).toBe(0);
    const thatDay = readFileSync(join(out, 'that-day.html'), 'utf8');
    const asOf = readFileSync(join(out, 'as-of.html'), 'utf8');
    // The later syncs changed the report: the comparison means something.
    expect(numbers(readFileSync(join(out, 'latest.html'), 'utf8'))).not.toBe(numbers(thatDay));
    expect(asOf).toContain(`<span data-as-of="${KEPT}">`);
    expect(numbers(asOf)).toBe(numbers(thatDay));
  });

  it('of the latest day is the latest report', async () => {
    const r = await runCli(['report', '--warehouse', warehouse, '--as-of', DAYS[DAYS.length - 1] as string, '--out', join(out, 'as-of-last.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(numbers(readFileSync(join(out, 'as-of-last.html'), 'utf8'))).toBe(numbers(readFileSync(join(out, 'latest.html'), 'utf8')));
  });

  it.each([
    ['a day before the first sync', '2025-04-30', /^error: --as-of 2025-04-30: the warehouse holds no sync on or before that day; choose a later day$/],
    ['a day that does not exist', '2025-02-30', /^error: --as-of 2025-02-30: expected a day like 2025-06-01$/],
  ])('refuses %s with exit 2, one line, and writes nothing', async (_what, day, message) => {
    const path = join(out, `refused-${day}.html`);
    const r = await runCli(['report', '--warehouse', warehouse, '--as-of', day, '--out', path]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(existsSync(path)).toBe(false);
  });
});
