/**
 * How many times Athena reads each table for one query of a view. Trino materialises neither CTEs
 * nor views: each reference to one is planned again, so a CTE that two others read is scanned
 * twice, and a view used twice is read twice with all its CTEs. Athena bills the bytes of every
 * scan, so these counts multiply what a funnel query costs over the versions stored (docs/SCALE.md).
 * The views' SQL is parsed with the Trino grammar (dt-sql-parser's `TrinoSQL`), and every CTE and
 * view reference is expanded down to the tables.
 */
import { TrinoSQL, TrinoSqlListener } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { VIEWS } from '../../shared/analytics/views.ts';

const trino = new TrinoSQL();

type NamedQuery = Parameters<NonNullable<TrinoSqlListener['enterNamedQuery']>>[0];
type TableName = Parameters<NonNullable<TrinoSqlListener['enterTableName']>>[0];

interface Cte {
  readonly name: string;
  /** Character range of the CTE's body. */
  readonly start: number;
  readonly stop: number;
  /** Character range of the query whose WITH defines it: where it can be referenced. */
  readonly scopeStart: number;
  readonly scopeStop: number;
}

interface Reference {
  readonly name: string;
  readonly at: number;
}

/** The CTEs and the table references (FROM/JOIN) of one SQL text. */
function parseQuery(sql: string): { ctes: Cte[]; refs: Reference[] } {
  const ctes: Cte[] = [];
  const refs: Reference[] = [];
  const listener = new (class extends TrinoSqlListener {
    override enterNamedQuery = (ctx: NamedQuery): void => {
      const scope = ctx.parent?.parent ?? ctx;
      ctes.push({
        name: ctx.identifier().getText().toLowerCase(),
        start: ctx.query().start?.start ?? 0,
        stop: ctx.query().stop?.stop ?? 0,
        scopeStart: scope.start?.start ?? 0,
        scopeStop: scope.stop?.stop ?? sql.length,
      });
    };
    override enterTableName = (ctx: TableName): void => {
      refs.push({ name: ctx.tableOrViewName().getText().replace(/"/g, '').toLowerCase(), at: ctx.start?.start ?? 0 });
    };
  })();
  const errors = trino.validate(sql);
  if (errors.length > 0) throw new Error(`not Trino SQL: ${errors.map((e) => e.message).join('; ')}`);
  trino.listen(listener, trino.parse(sql));
  return { ctes, refs };
}

/**
 * Scans of each table one query of `sql` makes in Trino: each reference to a CTE counts that CTE's
 * scans again, each reference to a view (in `views`) that view's, and each reference to anything
 * else one scan of that table.
 */
export function trinoScans(sql: string, views: ReadonlyMap<string, string>): Map<string, number> {
  const { ctes, refs } = parseQuery(sql);
  // The innermost CTE body holding a position (undefined: the statement's own query).
  const holder = (at: number): Cte | undefined =>
    ctes.filter((c) => c.start <= at && at <= c.stop).sort((a, b) => b.start - a.start)[0];
  // A non-recursive CTE is visible inside its WITH's query, after its own body.
  const resolve = (ref: Reference): Cte | undefined =>
    ctes
      .filter((c) => c.name === ref.name && c.scopeStart <= ref.at && ref.at <= c.scopeStop && c.stop < ref.at)
      .sort((a, b) => b.scopeStart - a.scopeStart)[0];
  const add = (into: Map<string, number>, from: ReadonlyMap<string, number>): void => {
    for (const [t, n] of from) into.set(t, (into.get(t) ?? 0) + n);
  };
  const count = (body: Cte | undefined): Map<string, number> => {
    const total = new Map<string, number>();
    for (const ref of refs.filter((r) => holder(r.at) === body)) {
      const cte = resolve(ref);
      const view = views.get(ref.name);
      if (cte !== undefined) add(total, count(cte));
      else if (view !== undefined) add(total, trinoScans(view, views));
      else total.set(ref.name, (total.get(ref.name) ?? 0) + 1);
    }
    return total;
  };
  return count(undefined);
}

const VIEW_SQL: ReadonlyMap<string, string> = new Map(VIEWS.map((v) => [v.name, v.sql]));

const scansOf = (view: string): Record<string, number> => {
  const sql = VIEW_SQL.get(view);
  if (sql === undefined) throw new Error(`no view ${view}`);
  return Object.fromEntries([...trinoScans(sql, VIEW_SQL)].sort(([a], [b]) => a.localeCompare(b)));
};

describe('scans of a funnel query in Athena (every CTE and view reference inlined)', () => {
  // Job and stage names and stage order come from the jobs' own latest versions (`job_names`, read
  // once for the names and once under the stages), not from the applications' copies: `jobs` and
  // `job_stages` are a few rows per job, and `applications` is still read once. `integrations` (one
  // row per version of an integration) names the organization.
  it('application_stage_history reads applications, job_stages and syncs once each, and jobs twice', () => {
    expect(scansOf('application_stage_history')).toEqual({ applications: 1, integrations: 1, job_stages: 1, jobs: 2, syncs: 1 });
  });

  it('hiring_funnel reads applications and syncs once, job_stages twice and jobs four times', () => {
    expect(scansOf('hiring_funnel')).toEqual({ applications: 1, integrations: 1, job_stages: 2, jobs: 4, syncs: 1 });
  });

  it.each([['hire_survival'], ['hire_summary']])('%s reads applications and syncs once each, the all-jobs curve included', (view) => {
    expect(scansOf(view)).toEqual({ applications: 1, integrations: 1, syncs: 1 });
  });

  it('stage_survival reads applications and syncs once, through application_stage_history (with its job names and stages), days and hours in one pass', () => {
    expect(scansOf('stage_survival')).toEqual({ applications: 1, integrations: 1, job_stages: 1, jobs: 2, syncs: 1 });
  });

  it('funnel_cohorts reads hiring_funnel once and applications once more', () => {
    expect(scansOf('funnel_cohorts')).toEqual({ applications: 2, integrations: 1, job_stages: 2, jobs: 4, syncs: 2 });
  });

  it('interviewer_outcomes reads the interviews once and applications twice (stretches and current outcome)', () => {
    expect(scansOf('interviewer_outcomes')).toEqual({ applications: 2, integrations: 1, interview_users: 1, interviews: 1, job_stages: 1, jobs: 2, syncs: 3, users: 1 });
  });

  it('data_quality reads applications once for its seven application checks, and each other model once for found_only_by_full_sync', () => {
    expect(scansOf('data_quality')).toEqual({
      applications: 1, candidate_email_addresses: 1, candidates: 2, interviews: 1, job_stages: 2, jobs: 4, offers: 2, syncs: 7,
    });
  });
});

describe('the scan count itself', () => {
  const views = new Map([
    ['apps_latest', 'WITH h AS (SELECT id FROM apps) SELECT id FROM h WHERE id IS NOT NULL'],
    ['twice', 'WITH a AS (SELECT id FROM apps), b AS (SELECT x.id FROM a x JOIN a y ON x.id = y.id) SELECT id FROM b'],
  ]);

  it.each([
    ['a table read once', 'SELECT id FROM apps', { apps: 1 }],
    ['a CTE read by two others', 'WITH a AS (SELECT id FROM apps), b AS (SELECT id FROM a), c AS (SELECT id FROM a) SELECT b.id FROM b JOIN c ON b.id = c.id', { apps: 2 }],
    ['a CTE read twice by one other, itself read twice', 'WITH a AS (SELECT id FROM apps), b AS (SELECT x.id FROM a x JOIN a y ON x.id = y.id) SELECT * FROM b UNION ALL SELECT * FROM b', { apps: 4 }],
    ['a view and its CTEs, at each reference', 'SELECT l.id FROM apps_latest l JOIN twice t ON l.id = t.id LEFT JOIN jobs j ON j.id = l.id', { apps: 3, jobs: 1 }],
    ['a table shadowed by a CTE of the same name', 'WITH apps AS (SELECT id FROM jobs) SELECT id FROM apps', { jobs: 1 }],
    ['a subquery inside a CTE', 'WITH a AS (SELECT id FROM (SELECT id FROM apps) s) SELECT id FROM a JOIN a b ON true', { apps: 2 }],
  ])('counts %s', (_what, sql, expected) => {
    expect(Object.fromEntries(trinoScans(sql, views))).toEqual(expected);
  });
});
