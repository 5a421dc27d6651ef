/**
 * A dbt `sources.yml` for the warehouse, generated from the table definitions (`shared/tables.ts`)
 * and the analytics views (`views.ts`). One file serves both places the warehouse can be read:
 *
 * - **dbt-athena**: the source's schema is the stack's Glue database (`kombo_etl` by default), its
 *   database the profile's catalog (`awsdatacatalog`);
 * - **dbt-duckdb**: the file written by `kombo-etl export --duckdb` (named `kombo.duckdb`, or
 *   attached as `kombo`), schema `main`.
 *
 * The schema and database are Jinja that picks by `target.type`, and the dbt vars `kombo_schema`
 * and `kombo_database` override them (another stack name, a file attached under another name).
 *
 * Data tests say what the table contract guarantees, and no more. A physical table holds one row
 * per **version** of a record (one per sync that found it changed, several a day when several syncs
 * ran) and per integration, so `id` alone repeats: it is unique per (`snapshot_date`,
 * `integration_id`, `_synced_at`), which a `unique` test on the joined key checks; a child table is
 * unique per parent id and position within a version. A
 * `_history` view has its table's rows, so the same key; the `_latest` views hold one version per
 * record, so there the key is (`integration_id`, `id`). Kombo ids are only checked as present
 * (`not_null`): the pipeline rejects a record without one. The other views are aggregates whose
 * grain their description states; they carry no tests.
 */
import { Document } from 'yaml';
import type { CatalogTable, TableDef } from '../tables.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS, SYNCS_TABLE, TABLES } from '../tables.ts';
import { columnDescription, PARTITION_DESCRIPTIONS, SYNCS_COLUMN_DESCRIPTIONS, SYNCS_DESCRIPTION, tableDescription } from './descriptions.ts';
import type { ViewDef } from './views.ts';
import { VIEWS } from './views.ts';

/** Name of the dbt source: `{{ source('kombo', 'applications') }}`. */
export const DBT_SOURCE_NAME = 'kombo';
/** The Glue database of a stack deployed with the default name `KomboEtl`. */
export const DEFAULT_GLUE_DATABASE = 'kombo_etl';
/**
 * The database name dbt-duckdb sees for the exported file: DuckDB names a database file after its
 * stem, so `kombo.duckdb` opened as the profile's `path`, or attached with alias `kombo`.
 */
export const DUCKDB_DATABASE = 'kombo';
/** dbt source freshness of `syncs`: the pipeline syncs nightly. */
export const FRESHNESS_WARN_HOURS = 36;
export const FRESHNESS_ERROR_HOURS = 72;

type DbtTest = string | { readonly unique: { readonly column_name: string } };

export interface DbtColumn {
  readonly name: string;
  readonly description: string;
  readonly data_tests?: readonly DbtTest[];
}

export interface DbtTable {
  readonly name: string;
  readonly description: string;
  readonly loaded_at_field?: string;
  readonly freshness?: DbtFreshness;
  readonly data_tests?: readonly DbtTest[];
  readonly columns: readonly DbtColumn[];
}

export interface DbtFreshness {
  readonly warn_after: { readonly count: number; readonly period: 'hour' };
  readonly error_after: { readonly count: number; readonly period: 'hour' };
}

export interface DbtSource {
  readonly name: string;
  readonly description: string;
  readonly database: string;
  readonly schema: string;
  readonly tables: readonly DbtTable[];
}

export interface DbtSourcesFile {
  readonly version: 2;
  readonly sources: readonly DbtSource[];
}

/**
 * The key columns joined into one string, an expression for dbt's `unique` test that Trino and
 * DuckDB both accept (`||` on a date is an error in Trino; every part is cast to VARCHAR). Integration
 * ids and Kombo ids hold no `|`, so the joined key is as unique as the columns.
 */
export function keyExpression(columns: readonly string[]): string {
  return `concat(${columns.map((c) => `CAST(${c} AS VARCHAR)`).join(", '|', ")})`;
}

/** The columns that identify a row of a table within one snapshot of one integration. */
function rowKey(table: TableDef): string[] {
  if (table.arrayField === undefined) return ['id'];
  const parent = table.columns.find((c) => c.source.kind === 'parent-id');
  const position = table.columns.find((c) => c.source.kind === 'position');
  if (!parent || !position) throw new Error(`child table ${table.name} lacks its parent id or position`);
  return [parent.name, position.name];
}

/** Columns every row has: the row key, the pipeline's meta columns and the partition columns. */
function notNullColumns(table: TableDef): Set<string> {
  return new Set([...rowKey(table), ...table.columns.filter((c) => c.source.kind === 'meta').map((c) => c.name), ...PARTITION_COLUMNS.map((p) => p.name)]);
}

function tableColumns(table: TableDef): DbtColumn[] {
  const required = notNullColumns(table);
  const withTests = (name: string, description: string): DbtColumn => ({ name, description, ...(required.has(name) && { data_tests: ['not_null'] }) });
  return [
    ...table.columns.map((c) => withTests(c.name, columnDescription(table, c))),
    ...PARTITION_COLUMNS.map((p) => withTests(p.name, PARTITION_DESCRIPTIONS[p.name])),
  ];
}

function physicalTable(table: TableDef): DbtTable {
  return {
    name: table.name,
    description: tableDescription(table),
    data_tests: [{ unique: { column_name: keyExpression(['snapshot_date', 'integration_id', '_synced_at', ...rowKey(table)]) } }],
    columns: tableColumns(table),
  };
}

/** Columns of `syncs` every row has. */
const SYNCS_NOT_NULL: ReadonlySet<string> = new Set(['model', 'run_id', 'mode', 'started_at', 'finished_at', ...PARTITION_COLUMNS.map((p) => p.name)]);

/**
 * `syncs`, which carries the source's freshness: a data table's latest `_synced_at` only moves when a
 * record changed, so a quiet table (tags, rejection reasons) would look stale while its syncs run.
 */
function syncsTable(): DbtTable {
  const column = (name: string, description: string): DbtColumn => ({ name, description, ...(SYNCS_NOT_NULL.has(name) && { data_tests: ['not_null'] }) });
  return {
    name: SYNCS_TABLE.name,
    description: SYNCS_DESCRIPTION,
    loaded_at_field: 'finished_at',
    freshness: { warn_after: { count: FRESHNESS_WARN_HOURS, period: 'hour' }, error_after: { count: FRESHNESS_ERROR_HOURS, period: 'hour' } },
    data_tests: [{ unique: { column_name: keyExpression(['snapshot_date', 'integration_id', 'model', 'run_id']) } }],
    columns: [
      ...SYNCS_TABLE.columns.map((c) => column(c.name, SYNCS_COLUMN_DESCRIPTIONS[c.name] ?? c.name)),
      ...PARTITION_COLUMNS.map((p) => column(p.name, PARTITION_DESCRIPTIONS[p.name])),
    ],
  };
}

/**
 * The catalog tables that are neither a data table of a model nor `syncs` (the `integrations`
 * table): described by their grain, each column by where its value comes from.
 */
function otherTables(): DbtTable[] {
  const others = CATALOG_TABLES.filter((t) => t.name !== SYNCS_TABLE.name && !TABLES.some((d) => d.name === t.name));
  const describe = (c: CatalogTable['columns'][number]): string => (c.source.kind === 'field' ? `Kombo's \`${c.source.path.join('.')}\`` : c.name === '_synced_at' ? 'start of the sync that stored the version' : c.name);
  return others.map((t) => ({
    name: t.name,
    description: t.grain,
    columns: [...t.columns.map((c) => ({ name: c.name, description: describe(c) })), ...PARTITION_COLUMNS.map((p) => ({ name: p.name, description: PARTITION_DESCRIPTIONS[p.name] }))],
  }));
}

/** Columns of a `_history` view that every row has, besides its table's: the version's validity. */
const HISTORY_NOT_NULL: readonly string[] = ['_valid_from', '_is_current', '_is_deleted'];

function viewTable(view: ViewDef): DbtTable {
  const description = `analytics view: ${view.grain}. ${view.notes}`;
  const history = TABLES.find((t) => `${t.name}_history` === view.name);
  if (history !== undefined) {
    // The table's columns described as the table describes them, then the validity columns.
    const own = new Map(tableColumns(history).map((c) => [c.name, c]));
    return {
      name: view.name,
      description,
      data_tests: [{ unique: { column_name: keyExpression(['snapshot_date', 'integration_id', '_valid_from', ...rowKey(history)]) } }],
      columns: view.columns.map((c) => {
        const described = own.get(c.name);
        if (described !== undefined && c.name !== '_is_deleted') return described;
        return { name: c.name, description: c.description, ...(HISTORY_NOT_NULL.includes(c.name) && { data_tests: ['not_null'] }) };
      }),
    };
  }
  const table = TABLES.find((t) => `${t.name}_latest` === view.name);
  if (table === undefined) return { name: view.name, description, columns: view.columns.map((c) => ({ name: c.name, description: c.description })) };
  // A `_latest` view has its table's columns: describe them as the table does.
  const columns = tableColumns(table);
  if (columns.map((c) => c.name).join() !== view.columns.map((c) => c.name).join()) throw new Error(`${view.name} and ${table.name} have different columns`);
  return {
    name: view.name,
    description,
    data_tests: [{ unique: { column_name: keyExpression(['integration_id', ...rowKey(table)]) } }],
    columns,
  };
}

/** The sources file as data: one source, every table of the contract, `syncs`, then every analytics view. */
export function dbtSources(glueDatabase: string = DEFAULT_GLUE_DATABASE): DbtSourcesFile {
  return {
    version: 2,
    sources: [
      {
        name: DBT_SOURCE_NAME,
        description:
          'Kombo ATS records written nightly by kombo-etl: the physical tables (one row per version of a record) ' +
          'and the analytics views (history and current version of every record, stage history, funnel, time to hire, ' +
          'time to fill, offers, rejections, interviewer load, sources, time to hire and in stage counting open applications, ' +
          'cohorts, interviewer outcomes, data quality).',
        database: `{{ var('kombo_database', '${DUCKDB_DATABASE}' if target.type == 'duckdb' else target.database) }}`,
        schema: `{{ var('kombo_schema', 'main' if target.type == 'duckdb' else '${glueDatabase}') }}`,
        tables: [...TABLES.map(physicalTable), syncsTable(), ...otherTables(), ...VIEWS.map(viewTable)],
      },
    ],
  };
}

/** `sources.yml` text, with a header saying where it comes from. */
export function dbtSourcesYaml(glueDatabase: string = DEFAULT_GLUE_DATABASE): string {
  const doc = new Document(dbtSources(glueDatabase));
  doc.commentBefore =
    ' Generated by `kombo-etl export --dbt-sources` from the table and view definitions of kombo-etl:\n' +
    ' regenerate it after upgrading rather than editing it.\n' +
    ` dbt-athena: schema ${glueDatabase} (the Glue database); dbt-duckdb: the file of \`kombo-etl export --duckdb\`,\n` +
    ` named ${DUCKDB_DATABASE}.duckdb or attached as ${DUCKDB_DATABASE}, schema main.\n` +
    ' Override with --vars \'{kombo_schema: ..., kombo_database: ...}\'.';
  return doc.toString({ lineWidth: 0 });
}
