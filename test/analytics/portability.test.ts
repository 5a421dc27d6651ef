/**
 * The views are written once for Athena (Trino, engine v3) and DuckDB. Nothing here can run Trino,
 * so each view's SQL is checked against a list of constructs that Trino lacks or that behave
 * differently in the two engines (kept below, with the reason for each), and DuckDB's view of the
 * output columns is checked against the declared columns that Glue records.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { DUCKDB_TYPES, analyticsViewStatements, openWarehouse, quoteLiteral } from '../../shared/adapters/local/duckdb.ts';
import { DUCKDB_VIEW_TYPES, TRIM_CODE_POINTS, VIEWS, viewReference } from '../../shared/analytics/views.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS } from '../../shared/tables.ts';

/** Constructs Trino lacks, or that give different results in DuckDB and Trino. */
const FORBIDDEN: readonly (readonly [RegExp, string])[] = [
  [/::/, '`::` casts are DuckDB/PostgreSQL shorthand: use CAST(x AS T)'],
  [/\bQUALIFY\b/i, 'QUALIFY is DuckDB-only: filter a window in an outer query'],
  [/\b(GROUP|ORDER)\s+BY\s+ALL\b/i, 'GROUP BY ALL / ORDER BY ALL are DuckDB-only: list the expressions'],
  [/\bILIKE\b/i, 'ILIKE is DuckDB/PostgreSQL-only: lower(x) LIKE …'],
  [/\bstrf?time\s*\(|\bstrptime\s*\(/i, 'strftime/strptime are DuckDB-only: Trino has date_format/date_parse'],
  [/\bepoch(_ms|_us|_ns)?\s*\(/i, 'epoch()/epoch_ms() are DuckDB-only: Trino has to_unixtime/from_unixtime'],
  [/\blist_\w+\s*\(|\blist\s*\(|\[\s*\d+\s*:\s*\d*\s*\]/i, 'list functions and slices are DuckDB-only'],
  [/\bstruct_\w+\s*\(|\{\s*'/i, 'struct_pack/struct literals are DuckDB-only: Trino has ROW'],
  [/\b(max_by|min_by|arg_max|arg_min)\s*\(/i, 'max_by/min_by: DuckDB skips NULL values, Trino returns them'],
  [/\bdatediff\s*\(|\bdate_sub\s*\(|\bdate_add\s*\(|\bdate_part\s*\(/i, 'datediff/date_add/date_sub/date_part differ or are missing: use date_diff with a quoted unit'],
  [/\bmedian\s*\(|\bquantile\w*\s*\(|\bapprox_quantile\s*\(|\bpercentile_(cont|disc)\s*\(/i, 'median/quantile are missing in Trino (approx_percentile is missing in DuckDB): rank with row_number'],
  [/\*\s*(EXCLUDE|REPLACE)\b|\bCOLUMNS\s*\(/i, 'star modifiers are DuckDB-only: list the columns'],
  [/\/\//, '`//` integer division is DuckDB-only'],
  [/\bregexp_matches\s*\(|\bstring_agg\s*\(|\bgroup_concat\s*\(|\bifnull\s*\(|\bnvl\s*\(|\blen\s*\(/i, 'DuckDB-only function: Trino has regexp_like, listagg/array_join, coalesce, length'],
  [/\b(PIVOT|UNPIVOT|ASOF|POSITIONAL|ANTI\s+JOIN|SEMI\s+JOIN|USING\s+SAMPLE)\b/i, 'DuckDB-only syntax'],
  [/\bWINDOW\b/i, 'named WINDOW clauses: repeat the OVER (…) instead'],
  [/\bINTERVAL\s+\d/i, "INTERVAL needs a quoted value in Trino: INTERVAL '3' DAY"],
  [/\bIS\s+(NOT\s+)?(TRUE|FALSE)\b/i, 'IS [NOT] TRUE: write coalesce(x, false) = …'],
  [/#\d/, 'positional column references (#1) are DuckDB-only'],
  [/;/, 'a view is one statement'],
];

/**
 * `trim`, `ltrim` and `rtrim` calls without a character set. With one argument Trino strips Java
 * whitespace (tab, newline; not U+00A0) and DuckDB spaces and U+00A0 (not tab or newline), so the
 * same value groups differently; `trim(x, chars)` strips the same in both. `code` has its string
 * literals blanked, so only commas of the call itself count.
 */
function trimsWithoutCharacters(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/\b([lr]?trim)\s*\(/gi)) {
    let depth = 1;
    let commas = 0;
    let i = (m.index ?? 0) + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      const ch = code[i];
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ',' && depth === 1) commas++;
    }
    if (commas !== 1) found.push(`${m[1] as string}(…) without its characters strips different whitespace in Trino and DuckDB: use ${m[1] as string}(x, chars)`);
  }
  return found;
}

/** Findings of the checks on one SQL text: forbidden constructs, trim, division, date_diff, double quotes. */
function portabilityFindings(sql: string, identifiers: ReadonlySet<string>): string[] {
  const code = sql.replace(/--[^\n]*/g, ' ').replace(/'(?:[^']|'')*'/g, "''");
  const findings: string[] = [];
  for (const [pattern, reason] of FORBIDDEN) if (pattern.test(code)) findings.push(reason);
  findings.push(...trimsWithoutCharacters(code));
  // Trino divides integers as integers, DuckDB as doubles: the numerator must be a DOUBLE.
  const divisions = (code.match(/\//g) ?? []).length;
  const doubleDivisions = (code.match(/AS DOUBLE\)\s*\//g) ?? []).length;
  if (divisions !== doubleDivisions) findings.push('a division whose numerator is not CAST(… AS DOUBLE)');
  // DuckDB's date_diff counts unit boundaries, Trino's whole units: only quoted day/millisecond units.
  for (const m of sql.matchAll(/date_diff\s*\(\s*([^,]*),/gi)) {
    if (!/^'(day|millisecond)'$/.test((m[1] as string).trim())) findings.push(`date_diff with unit ${m[1]}: use 'day' on DATE values or 'millisecond'`);
  }
  // DuckDB reads "x" as a string when no column x exists; Trino never does.
  for (const m of code.matchAll(/"([^"]*)"/g)) if (!identifiers.has(m[1] as string)) findings.push(`"${m[1]}" is not a known identifier: strings take single quotes`);
  return findings;
}

const IDENTIFIERS = new Set([
  ...CATALOG_TABLES.flatMap((t) => [t.name, ...t.columns.map((c) => c.name)]),
  ...PARTITION_COLUMNS.map((p) => p.name),
  ...VIEWS.flatMap((v) => [v.name, ...v.columns.map((c) => c.name)]),
]);

describe.each(VIEWS.map((v) => [v.name, v] as const))('view %s', (name, view) => {
  it('uses no construct Trino lacks or runs differently', () => {
    expect(portabilityFindings(view.sql, IDENTIFIERS)).toEqual([]);
  });

  it('reads only tables and views defined before it', () => {
    const earlier = VIEWS.slice(0, VIEWS.indexOf(view)).map((v) => v.name);
    const later = VIEWS.slice(VIEWS.indexOf(view)).map((v) => v.name);
    for (const v of later) expect(new RegExp(`\\b${v}\\b`).test(view.sql.replace(/ AS \w+/g, '')), `${name} reads ${v}`).toBe(false);
    const read = [...view.sql.matchAll(/(?<!DISTINCT\s+)\b(?:FROM|JOIN)\s+([a-z_]+)/gi)].map((m) => m[1] as string);
    const known = new Set([...CATALOG_TABLES.map((t) => t.name), ...earlier]);
    const ctes = new Set([...view.sql.matchAll(/(?:WITH|,)\s*([a-z_]+)\s+AS\s*\(/gi)].map((m) => m[1] as string));
    for (const r of read) expect(known.has(r) || ctes.has(r), `${name} reads ${r}`).toBe(true);
  });
});

describe('the portability check itself', () => {
  it.each([
    ['SELECT x::INT FROM t', '`::`'],
    ['SELECT * FROM t QUALIFY row_number() OVER () = 1', 'QUALIFY'],
    ['SELECT a, count(*) FROM t GROUP BY ALL', 'GROUP BY ALL'],
    ['SELECT strftime(ts, \'%Y\') FROM t', 'strftime'],
    ["SELECT struct_pack(a := 1)", 'struct_pack'],
    ['SELECT list_value(1, 2)', 'list functions'],
    ['SELECT epoch_ms(ts) FROM t', 'epoch'],
    ["SELECT a FROM t WHERE b ILIKE 'x%'", 'ILIKE'],
    ['SELECT max_by(a, b) FROM t', 'max_by'],
    ['SELECT count(*) / 2 FROM t', 'division'],
    ['SELECT date_diff(unit, a, b) FROM t', 'date_diff'],
    ["SELECT date_diff('hour', a, b) FROM t", 'date_diff'],
    ['SELECT "not a column" FROM t', 'identifier'],
    ['SELECT median(a) FROM t', 'median'],
    ['SELECT trim(a) FROM t', 'trim(x, chars)'],
    ["SELECT trim(BOTH ' ' FROM a) FROM t", 'trim(x, chars)'],
    ['SELECT ltrim(coalesce(a, b)) FROM t', 'ltrim(x, chars)'],
  ])('flags %s', (sql, what) => {
    const findings = portabilityFindings(sql, new Set(['t', 'a', 'b']));
    expect(findings.join(' | ')).toContain(what === 'division' ? 'division' : what === 'identifier' ? 'not a known identifier' : what);
  });

  it('accepts the portable forms', () => {
    const sql = `SELECT CAST(a AS DOUBLE) / b, date_diff('day', CAST(a AS DATE), CAST(b AS DATE)), "a", 'it''s', trim(coalesce(a, b), ' ,' || chr(9)) FROM t WHERE coalesce(b, false) = false AND a > DATE '2025-01-01' + INTERVAL '3' DAY`;
    expect(portabilityFindings(sql, new Set(['t', 'a', 'b']))).toEqual([]);
  });
});

describe('declared columns', () => {
  let db: WarehouseDb;
  beforeAll(async () => {
    // An empty warehouse: the table views are typed empty relations, enough to type every view.
    db = await openWarehouse(mkdtempSync(join(tmpdir(), 'kombo-empty-')));
  });
  afterAll(() => db?.close());

  it.each(VIEWS.map((v) => [v.name, v] as const))('of %s are the names and types DuckDB infers', async (_name, view) => {
    const described = await db.query(`DESCRIBE SELECT * FROM ${view.name}`);
    const actual = described.rows.map((r) => [r[0], r[1]]);
    expect(actual).toEqual(view.columns.map((c) => [c.name, DUCKDB_VIEW_TYPES[c.type]]));
  });

  it('are unique, lower-case identifiers in every view', () => {
    for (const v of VIEWS) {
      const names = v.columns.map((c) => c.name);
      expect(new Set(names).size, v.name).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[a-z_][a-z0-9_]*$/);
    }
  });
});

describe('source_effectiveness on DuckDB', () => {
  it('groups a source the same whatever spaces, tabs, line breaks or no-break spaces surround it', async () => {
    // Prepare: the contract's tables as DuckDB tables, the real view SQL over them, one snapshot.
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      for (const t of CATALOG_TABLES) {
        const cols = [...t.columns, ...PARTITION_COLUMNS].map((c) => `"${c.name}" ${DUCKDB_TYPES[c.type]}`);
        await db.run(`CREATE TABLE "${t.name}" (${cols.join(', ')})`);
      }
      for (const statement of analyticsViewStatements()) await db.run(statement);
      const sources = ['LinkedIn', ' LinkedIn ', '\tLinkedIn\n', '\u00a0LinkedIn\u00a0', 'LinkedIn\r\n', '\u3000LinkedIn\u2003', '\n \t\u00a0', null];
      const values = sources.map((src, k) => `('c${k}', ${src === null ? 'NULL' : quoteLiteral(src)}, DATE '2025-06-01', 'acme')`);
      await db.run(`INSERT INTO candidates (id, source, snapshot_date, integration_id) VALUES ${values.join(', ')}`);

      // Act
      const reader = await db.runAndReadAll('SELECT source, CAST(candidates AS INTEGER) AS n FROM source_effectiveness ORDER BY source');

      // Assess
      expect(reader.getRowsJson()).toEqual([
        ['(unknown)', 2],
        ['LinkedIn', 6],
      ]);
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  it('trims exactly the characters JavaScript trims, so the views agree with code reading the values', () => {
    const jsWhitespace: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (String.fromCharCode(c).trim() === '') jsWhitespace.push(c);
    expect([...TRIM_CODE_POINTS].sort((a, b) => a - b)).toEqual(jsWhitespace);
  });
});

describe('docs/ANALYTICS.md', () => {
  it('holds the view reference generated from shared/analytics/views.ts (run `npm run docs` after changing a view)', () => {
    const doc = readFileSync(new URL('../../docs/ANALYTICS.md', import.meta.url), 'utf8');
    expect(doc).toContain(viewReference().trim());
  });
});
