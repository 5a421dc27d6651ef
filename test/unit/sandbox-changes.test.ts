/**
 * The simulated clock behaves like Kombo for incremental syncs: whatever differs in a record from
 * one day to the next (nested objects and lists included) is found by `updated_after`, nothing is
 * found that did not change, and nothing vanishes (deleted records stay, with `remote_deleted_at`).
 * Checked over the timeline `npm start` serves: day by day in June 2025 and around the first day of
 * the simulated company, then through real HTTP with the 15-minute overlap incremental syncs use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxDataset, SandboxIntegrationData, SandboxModel } from '../../sandbox/index.ts';
import {
  SANDBOX_DEMO_FIRST_DAY,
  SANDBOX_MODELS,
  SANDBOX_TIMELINE_START,
  asOfInstant,
  consecutiveDays,
  createSandboxTimeline,
  modelRecords,
  sandboxNow,
  startSandbox,
  updatedSince,
} from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

const MINUTE = 60_000;
/** What incremental syncs subtract from their watermark. */
const OVERLAP_MS = 15 * MINUTE;

// The demo's sandbox: startSandbox({ asOf }) serves the default seed's timeline.
const timeline = createSandboxTimeline();
const days = new Map<string, SandboxDataset>();
const datasetOn = (date: string): SandboxDataset => {
  let data = days.get(date);
  if (data === undefined) {
    data = timeline.datasetAsOf(date);
    days.set(date, data);
  }
  return data;
};

/** Days on which jobs, users, rejection reasons and tags appear or change: the first few of each kind. */
function funnelEventDays(): string[] {
  const kinds = new Map<string, Set<string>>();
  const add = (kind: string, at: string | null): void => {
    if (at === null || at < '2025-02-01') return;
    const set = kinds.get(kind) ?? new Set<string>();
    set.add(at.slice(0, 10));
    kinds.set(kind, set);
  };
  for (const id of timeline.integrationIds) {
    for (const u of timeline.users(id)) {
      add('user created', u.createdAt);
      add('user deactivated', u.deactivatedAt);
    }
    for (const j of timeline.jobHistories(id)) {
      add('job created', j.createdAt);
      add('job opened', j.openedAt);
      add('job closed', j.closedAt);
    }
    for (const n of timeline.rejectionReasons(id)) add('rejection reason created', n.createdAt);
    for (const n of timeline.tags(id)) add('tag created', n.createdAt);
  }
  return [...kinds.values()].flatMap((set) => [...set].sort().slice(0, 3));
}

const dayBefore = (date: string): string => new Date(asOfInstant(date) - 86_400_000).toISOString().slice(0, 10);

/** Consecutive days [D, D+1] checked: 30 in June, the first days of the company, and days the funnel's other models change. */
const PAIRS: [string, string][] = [
  ...new Map(
    [
      ...[consecutiveDays('2025-02-26', 7), consecutiveDays(SANDBOX_DEMO_FIRST_DAY, 31)].flatMap((list) =>
        list.slice(1).map((next, k): [string, string] => [list[k] as string, next]),
      ),
      ...funnelEventDays().map((d): [string, string] => [dayBefore(d), d]),
    ].map((pair) => [pair[0], pair]),
  ).values(),
];

/** A record as compared from day to day: every field but `remote_data` and `changed_at`. */
const comparable = (r: Rec): string => JSON.stringify({ ...r, remote_data: undefined, changed_at: undefined });

/** The top-level fields of `after` that differ from `before` (what a failure names). */
const differing = (before: Rec, after: Rec): string[] =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== 'remote_data' && k !== 'changed_at' && JSON.stringify(before[k]) !== JSON.stringify(after[k]));

/** The models an integration serves (`offers` is not offered by every tool). */
const served = (data: SandboxIntegrationData): SandboxModel[] => SANDBOX_MODELS.filter((m) => !(data.unavailableModels ?? []).includes(m));

interface DayChanges {
  /** Ids new or changed on D+1, per model. */
  changed: Map<SandboxModel, Set<string>>;
  /** `model: field` → records whose change `updated_after` = end of D misses. */
  missed: Map<string, number>;
  /** `model` → records listed by `updated_after` = end of D though nothing of theirs changed. */
  spurious: Map<string, number>;
  /** `model` → records of D no longer served on D+1. */
  vanished: Map<string, number>;
  checked: number;
}

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** Compares one integration's records of D and D+1. */
function compareDays(before: SandboxIntegrationData, after: SandboxIntegrationData, since: number): DayChanges {
  const out: DayChanges = { changed: new Map(), missed: new Map(), spurious: new Map(), vanished: new Map(), checked: 0 };
  for (const model of served(after)) {
    const previous = new Map(modelRecords(before, model).map((r) => [String(r.id), r]));
    const changed = new Set<string>();
    for (const r of modelRecords(after, model)) {
      out.checked++;
      const id = String(r.id);
      const old = previous.get(id);
      previous.delete(id);
      const found = updatedSince(model, r, since);
      if (old !== undefined && comparable(old) === comparable(r)) {
        if (found) bump(out.spurious, model);
        continue;
      }
      changed.add(id);
      if (!found) for (const field of old === undefined ? ['(new record)'] : differing(old, r)) bump(out.missed, `${model}: ${field}`);
    }
    if (previous.size > 0) out.vanished.set(model, previous.size);
    out.changed.set(model, changed);
  }
  return out;
}

const integrationOn = (date: string, id: string): SandboxIntegrationData => datasetOn(date).integrations.find((i) => i.id === id) as SandboxIntegrationData;

describe('simulated clock: every change is found by updated_after', () => {
  // Prepare: every pair of days, every integration
  const results = PAIRS.flatMap(([d, next]) =>
    datasetOn(next).integrations.map((after) => ({ d, integration: after.id, ...compareDays(integrationOn(d, after.id), after, asOfInstant(d)) })),
  );
  const total = (pick: (r: (typeof results)[number]) => Map<string, number>): Record<string, number> => {
    const sum = new Map<string, number>();
    for (const r of results) for (const [k, n] of pick(r)) sum.set(k, (sum.get(k) ?? 0) + n);
    return Object.fromEntries([...sum].sort());
  };

  it('compares every model on every day, and sees changes of each model that changes then', () => {
    const changes = new Map<SandboxModel, number>();
    for (const r of results) for (const [model, ids] of r.changed) changes.set(model, (changes.get(model) ?? 0) + ids.size);
    expect(PAIRS.length).toBeGreaterThan(36);
    expect(results.reduce((n, r) => n + r.checked, 0)).toBeGreaterThan(100_000);
    for (const model of SANDBOX_MODELS) expect(changes.get(model), model).toBeGreaterThan(0);
  });

  it('moves changed_at or remote_updated_at past the previous day whenever any field of a record changes', () => {
    // Assess: `model: field` of every change the end of the previous day misses
    expect(total((r) => r.missed)).toEqual({});
  });

  it('moves no record that did not change', () => {
    expect(total((r) => r.spurious)).toEqual({});
  });

  it('keeps every record it served the day before (deleted ones with remote_deleted_at)', () => {
    expect(total((r) => r.vanished)).toEqual({});
  });

  it('serves the first days of the company consistently: jobs and staff before it, candidates from it on', () => {
    const before = integrationOn('2025-02-28', timeline.integrationIds[0] as string);
    const first = integrationOn(SANDBOX_TIMELINE_START, timeline.integrationIds[0] as string);
    expect(before.candidates).toHaveLength(0);
    expect(first.candidates.length).toBeGreaterThan(0);
    expect(modelRecords(before, 'users').length).toBeGreaterThan(0);
  });
});

describe('simulated clock over HTTP: an incremental fetch with a 15-minute overlap', () => {
  const integration = timeline.integrationIds[0] as string;
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ timeline, asOf: SANDBOX_DEMO_FIRST_DAY });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  const get = async (path: string, query: Record<string, string>): Promise<Response> => {
    const url = new URL(`${sandbox.url}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return fetch(url, { headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': integration } });
  };

  const listIds = async (model: SandboxModel, updatedAfter: string): Promise<string[]> => {
    const out: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { page_size: '250', include_deleted: 'true', updated_after: updatedAfter };
      if (cursor !== null) query.cursor = cursor;
      const res = await get(`/ats/${model.replaceAll('_', '-')}`, query);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { next: string | null; results: Rec[] } };
      out.push(...body.data.results.map((r) => String(r.id)));
      cursor = body.data.next;
    } while (cursor !== null);
    return out.sort();
  };

  it.each([
    ['2025-06-02', '2025-06-03'],
    ['2025-06-09', '2025-06-10'],
    ['2025-06-20', '2025-06-21'],
  ])('after %s, lists on %s exactly the records that changed, and those stamped inside the overlap', async (d, next) => {
    // Prepare: what changed from D to D+1, and what D already showed as changed in its last 15 minutes
    const since = asOfInstant(d) + 1 - OVERLAP_MS;
    const before = integrationOn(d, integration);
    const { changed } = compareDays(before, integrationOn(next, integration), asOfInstant(d));
    sandbox.setAsOf(next);
    let listed = 0;
    for (const model of SANDBOX_MODELS) {
      const inOverlap = modelRecords(before, model).filter((r) => updatedSince(model, r, since)).map((r) => String(r.id));
      const expected = [...new Set([...(changed.get(model) ?? []), ...inOverlap])].sort();
      // Act
      const ids = await listIds(model, new Date(since).toISOString());
      // Assess
      expect(ids, model).toEqual(expected);
      listed += ids.length;
    }
    expect(listed).toBeGreaterThan(0);
  });

  it("answers with the simulated instant in the Date header, and moves it with the clock", async () => {
    sandbox.setAsOf('2025-06-05');
    const res = await get('/ats/jobs', { page_size: '1' });
    expect(res.headers.get('date')).toBe('Thu, 05 Jun 2025 23:59:59 GMT');
    expect(Date.parse(res.headers.get('date') as string)).toBe(Math.floor(sandboxNow('2025-06-05').getTime() / 1000) * 1000);
    sandbox.setAsOf('2025-06-06');
    const error = await get('/ats/nothing', {});
    expect(error.status).toBe(404);
    expect(error.headers.get('date')).toBe(sandboxNow('2025-06-06').toUTCString());
  });

  it('answers with the real time in the Date header when it serves a static picture', async () => {
    const fixed = await startSandbox({ seed: 1, dataset: { integrations: [] } });
    try {
      const res = await fetch(`${fixed.url}/integrations/nobody`, { headers: { authorization: `Bearer ${fixed.apiKey}` } });
      const date = Date.parse(res.headers.get('date') as string);
      expect(Math.abs(date - Date.now())).toBeLessThan(60_000);
      expect(sandboxNow(null).getTime()).toBeGreaterThan(asOfInstant('2025-01-01'));
    } finally {
      await fixed.close();
    }
  });
});
