/**
 * DuckDB over a local warehouse: one view per table of the contract, reading exactly the run
 * folders the catalog registered, with the partition columns decoded from the Hive-style paths.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import type { CatalogTable, ColumnType } from '../../tables.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS } from '../../tables.ts';
import { FolderStore, makeDirectory } from './folder-store.ts';
import { LocalCatalog } from './local-catalog.ts';
import { VIEWS } from '../../analytics/views.ts';
import { assertSnapshotDate } from '../../warehouse/layout.ts';

/** DuckDB's type for each logical column type. */
export const DUCKDB_TYPES: Record<ColumnType | 'date', string> = {
  string: 'VARCHAR',
  json: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  boolean: 'BOOLEAN',
  int32: 'INTEGER',
  double: 'DOUBLE',
  date: 'DATE',
};

/** Extensions stay inside the project: DuckDB must never reach out to download one. */
const EXTENSION_DIR = resolve(fileURLToPath(new URL('../../../.duckdb/extensions', import.meta.url)));

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
export const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A typed, empty relation with the table's columns, for tables with no partition yet. */
function emptySelect(table: CatalogTable): string {
  const cols = [...table.columns.map((c) => [c.name, DUCKDB_TYPES[c.type]] as const), ...PARTITION_COLUMNS.map((p) => [p.name, DUCKDB_TYPES[p.type]] as const)];
  return `SELECT ${cols.map(([n, t]) => `CAST(NULL AS ${t}) AS ${quoteIdent(n)}`).join(', ')} WHERE false`;
}

/**
 * The SQL of one table's view over the given Parquet files. Columns are matched by name, as Athena
 * matches them: a file written before a column was added reads as null in it. With `asOf`, only the
 * partitions of syncs on or before that day are read: every view above then sees the warehouse as
 * it was at the end of that day (its `_history` ends there, its `_latest` is that day's).
 */
export function tableViewSql(table: CatalogTable, files: readonly string[], asOf?: string): string {
  if (files.length === 0) return `CREATE OR REPLACE VIEW ${quoteIdent(table.name)} AS ${emptySelect(table)}`;
  const list = files.map(quoteLiteral).join(', ');
  const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
  return (
    `CREATE OR REPLACE VIEW ${quoteIdent(table.name)} AS SELECT ${columns}, snapshot_date, integration_id ` +
    `FROM read_parquet([${list}], hive_partitioning = true, union_by_name = true, hive_types = {'snapshot_date': DATE, 'integration_id': VARCHAR})` +
    (asOf === undefined ? '' : ` WHERE snapshot_date <= DATE ${quoteLiteral(assertSnapshotDate(asOf))}`)
  );
}

export interface WarehouseDb {
  readonly connection: DuckDBConnection;
  /** Run SQL and return column names and JSON-safe rows. */
  query(sql: string): Promise<{ columns: string[]; rows: unknown[][] }>;
  close(): void;
}

/** `CREATE OR REPLACE VIEW` statements of the analytics views, in dependency order. */
export function analyticsViewStatements(): string[] {
  return VIEWS.map((v) => `CREATE OR REPLACE VIEW ${quoteIdent(v.name)} AS\n${v.sql}`);
}

/**
 * Open DuckDB in memory with a view per table over the local warehouse at `dir`, then the
 * analytics views of `views.ts` over those (as of the end of `options.asOf`, when given: see
 * {@link tableViewSql}). The connection's time zone is UTC, as in Athena, so
 * `CAST(timestamp AS DATE)` gives the same day in both.
 */
export async function openWarehouse(dir: string, options: { readonly asOf?: string } = {}): Promise<WarehouseDb> {
  await makeDirectory(EXTENSION_DIR);
  const instance = await DuckDBInstance.create(':memory:', {
    extension_directory: EXTENSION_DIR,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const store = new FolderStore(dir);
  const catalog = new LocalCatalog(store);
  for (const table of CATALOG_TABLES) {
    const files: string[] = [];
    for (const p of await catalog.partitions(table.name)) {
      for (const key of await store.list(p.location)) if (key.endsWith('.parquet')) files.push(store.locate(key));
    }
    await connection.run(tableViewSql(table, files, options.asOf));
  }
  for (const statement of analyticsViewStatements()) await connection.run(statement);
  return {
    connection,
    async query(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
