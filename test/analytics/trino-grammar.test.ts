/**
 * Every piece of Athena SQL the project ships, parsed with a parser generated from Trino's own
 * grammar (dt-sql-parser's `TrinoSQL`). Athena engine v3 is Trino: what this parser rejects, Athena
 * rejects. The forbidden-construct list of `portability.test.ts` catches constructs that parse but
 * run differently; this catches anything Trino cannot parse at all, listed or not.
 */
import { readFileSync } from 'node:fs';
import type { ParseError } from 'dt-sql-parser';
import { TrinoSQL } from 'dt-sql-parser';
import { describe, expect, it } from 'vitest';
import { VIEWS } from '../../shared/analytics/views.ts';
import { REPORT_SQL } from '../../shared/analytics/report-data.ts';
import { INSIGHT_SQL } from '../../shared/analytics/report-insight-data.ts';

const trino = new TrinoSQL();

/** Syntax errors of one SQL text, as `line:column message`. */
const syntaxErrors = (sql: string): string[] => trino.validate(sql).map((e: ParseError) => `${e.startLine}:${e.startColumn} ${e.message}`);

/** Docs whose ```sql blocks are Athena SQL, to be run as they are in the stack's workgroup. */
const ATHENA_DOCS = ['docs/DEPLOY.md', 'docs/BI.md'] as const;

function sqlBlocks(path: string): string[] {
  const doc = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  return [...doc.matchAll(/^```sql\n([\s\S]*?)^```/gm)].map((m) => m[1] as string);
}

describe.each(VIEWS.map((v) => [v.name, v] as const))('view %s, parsed by the Trino grammar', (name, view) => {
  it('has no syntax error', () => {
    expect(syntaxErrors(view.sql)).toEqual([]);
  });

  it('has none as the CREATE VIEW statement Athena would run', () => {
    expect(syntaxErrors(`CREATE OR REPLACE VIEW ${name} AS\n${view.sql}`)).toEqual([]);
  });
});

/** The report's queries, which `report --athena` and the reporter Lambda send to Athena as they are. */
const REPORT_QUERIES = Object.entries({ ...REPORT_SQL, ...INSIGHT_SQL });

describe.each(REPORT_QUERIES)('the report query %s, parsed by the Trino grammar', (_name, sql) => {
  it('has no syntax error', () => {
    expect(syntaxErrors(sql)).toEqual([]);
  });
});

describe.each(ATHENA_DOCS.map((p) => [p] as const))('the Athena SQL examples of %s', (path) => {
  const blocks = sqlBlocks(path);

  it('exist', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((sql, k) => [k + 1, sql] as const))('example %i has no syntax error', (_k, sql) => {
    expect(syntaxErrors(sql)).toEqual([]);
  });
});

describe('the Trino grammar check itself', () => {
  it.each([
    ['a `::` cast', 'SELECT x::INTEGER FROM t'],
    ['QUALIFY', 'SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1'],
    ['an unquoted interval value', "SELECT DATE '2025-06-01' + INTERVAL 3 DAY"],
    ['a struct literal', "SELECT {'a': 1} AS s"],
    ['a star EXCLUDE', 'SELECT * EXCLUDE (a) FROM t'],
  ])('rejects %s', (_what, sql) => {
    expect(syntaxErrors(sql).length).toBeGreaterThan(0);
  });

  it('accepts the portable forms the views use', () => {
    const sql = `WITH x AS (SELECT a, row_number() OVER (PARTITION BY a ORDER BY b) AS rn FROM t)
SELECT CAST(a AS DOUBLE) / 2, date_diff('day', DATE '2025-06-01', DATE '2025-06-03'), DATE '2025-06-01' + INTERVAL '3' DAY,
  trim(a, chr(32) || chr(9)), CAST(date_trunc('week', CAST(b AS DATE)) AS DATE)
FROM x WHERE rn = 1 AND coalesce(c, false) = false`;
    expect(syntaxErrors(sql)).toEqual([]);
  });
});
