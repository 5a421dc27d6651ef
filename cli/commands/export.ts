/**
 * `kombo-etl export`: the warehouse for BI tools and dbt.
 *
 * `--duckdb FILE` writes a DuckDB database file with every table of the contract and every analytics
 * view **materialised as a table**: a copy of the data at export time, not views over the Parquet
 * files. A view over the warehouse would hold the files' absolute paths (and break when the file is
 * opened on another machine, in a BI tool's container, or after the warehouse moves), and the
 * analytics views compute dates and ISO weeks from UTC timestamps, which DuckDB does in the session's
 * time zone: a BI tool's session is not UTC, Athena's is. Materialised in a UTC session here, every
 * figure equals Athena's wherever the file is opened. Re-run the export after each sync.
 *
 * `--dbt-sources FILE` writes a dbt `sources.yml` (`shared/analytics/dbt.ts`) for dbt-athena and for
 * dbt-duckdb over that file. It needs no warehouse.
 *
 * Files are written to a temporary name beside the target and renamed over it at the end, so a BI
 * tool never opens half a file and a failed export leaves the previous one in place. They are
 * readable by their owner only (`rw-------`).
 */
import { chmod, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openWarehouse, quoteLiteral } from '../../shared/adapters/local/duckdb.ts';
import { DBT_SOURCE_NAME, dbtSourcesYaml } from '../../shared/analytics/dbt.ts';
import { columnDescription, PARTITION_DESCRIPTIONS, SYNCS_COLUMN_DESCRIPTIONS, SYNCS_DESCRIPTION, tableDescription } from '../../shared/analytics/descriptions.ts';
import { VIEWS } from '../../shared/analytics/views.ts';
import { ConfigError } from '../../shared/errors.ts';
import { PRIVATE_FILE_MODE } from '../../shared/adapters/local/folder-store.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS, SYNCS_TABLE, TABLES } from '../../shared/tables.ts';
import { assertReadableWarehouse, makeOutputFolder, tempBeside, writePrivately } from '../warehouse.ts';

export interface ExportOptions {
  readonly warehouse: string;
  readonly duckdb?: string;
  readonly dbtSources?: string;
}

/** What an export wrote. */
export interface DuckDbExport {
  readonly file: string;
  /** Rows of each table and materialised view, by name, in the order written. */
  readonly rows: Readonly<Record<string, number>>;
}

/** Schema (database name) the export attaches its file under while writing; not stored in the file. */
const TARGET = 'kombo_export';

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A sibling of `file` to write into first: `.<name>.<random>.tmp`. */
/** Refuse an output path that is a folder, before anything is written. */
async function assertFilePath(option: string, file: string): Promise<void> {
  const s = await stat(file).catch(() => undefined);
  if (s?.isDirectory()) throw new ConfigError(`${option} ${file}: is a folder; give a file name, like ${join(file, option === '--duckdb' ? 'kombo.duckdb' : 'sources.yml')}`);
}

/**
 * Write a DuckDB database file at `file` holding every table of the local warehouse at `warehouse`
 * and every analytics view, as tables with comments. The warehouse must hold synced data (checked
 * by the caller).
 */
export async function exportDuckDb(warehouse: string, file: string): Promise<DuckDbExport> {
  const target = resolve(file);
  const temp = tempBeside(target);
  const db = await openWarehouse(warehouse);
  const rows: Record<string, number> = {};
  try {
    await db.connection.run(`ATTACH ${quoteLiteral(temp)} AS ${TARGET}`);
    const copy = async (name: string, comment: string, columns: readonly (readonly [string, string])[]) => {
      const qualified = `${TARGET}.main.${quoteIdent(name)}`;
      await db.connection.run(`CREATE TABLE ${qualified} AS SELECT * FROM ${quoteIdent(name)}`);
      await db.connection.run(`COMMENT ON TABLE ${qualified} IS ${quoteLiteral(comment)}`);
      for (const [column, text] of columns) await db.connection.run(`COMMENT ON COLUMN ${qualified}.${quoteIdent(column)} IS ${quoteLiteral(text)}`);
      const counted = await db.connection.runAndReadAll(`SELECT count(*) FROM ${qualified}`);
      rows[name] = Number(counted.getRows()[0]?.[0] ?? 0);
    };
    try {
      for (const t of TABLES) {
        await copy(t.name, tableDescription(t), [
          ...t.columns.map((c) => [c.name, columnDescription(t, c)] as const),
          ...PARTITION_COLUMNS.map((p) => [p.name, PARTITION_DESCRIPTIONS[p.name]] as const),
        ]);
      }
      // Which syncs completed: the data tables cannot tell a night that stored nothing.
      await copy(SYNCS_TABLE.name, SYNCS_DESCRIPTION, [
        ...SYNCS_TABLE.columns.map((c) => [c.name, SYNCS_COLUMN_DESCRIPTIONS[c.name] ?? c.name] as const),
        ...PARTITION_COLUMNS.map((p) => [p.name, PARTITION_DESCRIPTIONS[p.name]] as const),
      ]);
      for (const v of VIEWS) {
        await copy(v.name, `kombo-etl analytics view, materialised at export: ${v.grain}`, v.columns.map((c) => [c.name, c.description] as const));
      }
    } finally {
      await db.connection.run(`DETACH ${TARGET}`);
    }
    // DuckDB creates the file by the umask; it holds the warehouse's personal data.
    await chmod(temp, PRIVATE_FILE_MODE);
    await rename(temp, target);
    return { file: target, rows };
  } catch (err) {
    await rm(temp, { force: true });
    await rm(`${temp}.wal`, { force: true });
    throw err;
  } finally {
    db.close();
  }
}

/** Write `sources.yml` at `file` (through a temporary file, like the DuckDB export). */
export async function exportDbtSources(file: string): Promise<string> {
  const target = resolve(file);
  await writePrivately(target, dbtSourcesYaml());
  return target;
}

/**
 * `kombo-etl export`: checks every option before writing anything (configuration errors are
 * {@link ConfigError}s), then writes what was asked for and says so on `out`.
 */
export async function exportCommand(opts: ExportOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (opts.duckdb === undefined && opts.dbtSources === undefined) {
    throw new ConfigError('export needs --duckdb FILE (a DuckDB database for BI tools) or --dbt-sources FILE (a dbt sources.yml), or both');
  }
  if (opts.duckdb !== undefined) {
    await assertFilePath('--duckdb', opts.duckdb);
    await assertReadableWarehouse(opts.warehouse);
  }
  if (opts.dbtSources !== undefined) await assertFilePath('--dbt-sources', opts.dbtSources);
  if (opts.duckdb !== undefined) await makeOutputFolder('--duckdb', opts.duckdb);
  if (opts.dbtSources !== undefined) await makeOutputFolder('--dbt-sources', opts.dbtSources);

  if (opts.duckdb !== undefined) {
    const { file, rows } = await exportDuckDb(opts.warehouse, opts.duckdb);
    const tables = CATALOG_TABLES.length;
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    out.write(`wrote ${file}: ${tables} tables and ${VIEWS.length} analytics views, ${total.toLocaleString('en-US')} rows (materialised from ${resolve(opts.warehouse)})\n`);
  }
  if (opts.dbtSources !== undefined) {
    const file = await exportDbtSources(opts.dbtSources);
    out.write(`wrote ${file}: dbt source '${DBT_SOURCE_NAME}' with ${CATALOG_TABLES.length} tables and ${VIEWS.length} views\n`);
  }
}
