/**
 * `interviewer_load` and `source_effectiveness` on DuckDB, over a week of simulated days synced by
 * the real pipeline. Expected figures come from the sandbox's event log (`expected.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxTimeline } from '../../sandbox/index.ts';
import { consecutiveDays } from '../../sandbox/index.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { buildHistoryWarehouse, objects } from '../helpers/history.ts';
import { expectedLoad, expectedSources, latestInterviews } from './expected.ts';

const SPECS = [
  { id: 'workable:LoadTestAAAAbbbbCCCCdddd', tool: 'workable', candidates: 250 },
  { id: 'ashby:LoadTestEEEEffffGGGGhhhh', tool: 'ashby', candidates: 40 },
] as const;
const DATES = consecutiveDays('2025-05-05', 7);

let timeline: SandboxTimeline;
let db: WarehouseDb;

beforeAll(async () => {
  const wh = await buildHistoryWarehouse({ integrations: SPECS, seed: 3, dates: DATES });
  timeline = wh.timeline;
  db = await openWarehouse(wh.dir);
}, 120_000);

afterAll(() => db?.close());

const sortBy = <T extends Record<string, unknown>>(rows: T[], key: (r: T) => string): T[] => rows.sort((a, b) => key(a).localeCompare(key(b)));

describe('interviewer_load', () => {
  it('counts interviews, hours and distinct candidates per interviewer and ISO week', async () => {
    // Prepare
    const expected = SPECS.flatMap((s) => expectedLoad(timeline, s.id, DATES));
    // Act
    const actual = await objects(db, 'SELECT integration_id, user_id, CAST(week_start AS VARCHAR) AS week_start, interviews, hours, candidates FROM interviewer_load');
    // Assess
    const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.user_id)}|${String(r.week_start)}`;
    expect(actual.length).toBe(expected.length);
    const a = sortBy(actual, key);
    sortBy(expected as unknown as Record<string, unknown>[], key).forEach((e, k) => {
      expect({ ...a[k], hours: 0 }, key(e)).toEqual({ ...e, hours: 0 });
      expect(a[k]?.hours as number).toBeCloseTo(e.hours as number, 9);
    });
    expect(expected.some((e) => e.interviews > 1 && e.candidates > 1)).toBe(true);
  });

  it('leaves canceled interviews out', async () => {
    const canceled = SPECS.flatMap((s) => latestInterviews(timeline, s.id, DATES)).filter((i) => i.canceledNow === true);
    expect(canceled.length).toBeGreaterThan(0);
    const total = await objects(db, 'SELECT sum(interviews) AS n FROM interviewer_load');
    const seats = SPECS.flatMap((s) => latestInterviews(timeline, s.id, DATES)).filter((i) => i.canceledNow !== true).reduce((n, i) => n + i.users.length, 0);
    expect(Number(total[0]?.n)).toBe(seats);
  });

  it('labels weeks the ISO way, Monday first', async () => {
    const rows = await objects(db, "SELECT DISTINCT CAST(week_start AS VARCHAR) AS week_start, iso_week FROM interviewer_load WHERE week_start IN (DATE '2024-12-30', DATE '2025-05-05', DATE '2025-03-03')");
    const byWeek = Object.fromEntries(rows.map((r) => [r.week_start, r.iso_week]));
    expect(byWeek['2025-05-05']).toBe('2025-W19');
    expect(byWeek['2025-03-03']).toBe('2025-W10');
    for (const r of await objects(db, 'SELECT DISTINCT dayofweek(week_start) AS dow FROM interviewer_load')) expect(r.dow).toBe(1);
  });
});

describe('source_effectiveness', () => {
  it('counts candidates, applications, interviews and hires per source, with the hire rate', async () => {
    const expected = SPECS.flatMap((s) => expectedSources(timeline, s.id, DATES));
    const actual = await objects(db, 'SELECT integration_id, source, candidates, applications, interviews, hires, hire_rate FROM source_effectiveness');
    const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.source)}`;
    expect(actual.length).toBe(expected.length);
    const a = sortBy(actual, key);
    sortBy(expected as unknown as Record<string, unknown>[], key).forEach((e, k) => {
      expect({ ...a[k], hire_rate: 0 }, key(e)).toEqual({ ...e, hire_rate: 0 });
      if (e.hire_rate === null) expect(a[k]?.hire_rate).toBeNull();
      else expect(a[k]?.hire_rate as number).toBeCloseTo(e.hire_rate as number, 12);
    });
    expect(expected.some((e) => e.source === '(unknown)')).toBe(true);
    expect(expected.some((e) => e.hires > 0)).toBe(true);
  });
});
