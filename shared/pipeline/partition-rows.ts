/**
 * Reading a partition's rows back from its Parquet files, for the steps that rewrite versions: a
 * full sync copying the last version of a record it no longer found, compaction dropping the
 * versions the retention no longer needs.
 */
import { parquetReadObjects } from 'hyparquet';
import type { Cell } from '../flatten.ts';
import { encodeParquet } from '../parquet.ts';
import type { ObjectStore } from '../ports.ts';
import type { CatalogTable, TableDef } from '../tables.ts';
import { isModelName } from '../tables.ts';
import { partitionPrefix } from '../warehouse/layout.ts';
import { readLeftBehind } from '../state/compaction.ts';

/** A row as hyparquet reads it, by column name. */
export type Row = Record<string, unknown>;

/** Run ids of compactions start with this, so that a lock they hold is known as theirs. */
export const COMPACTION_RUN_PREFIX = 'compact-';

/**
 * Whether a file of a partition is one its readers see: under the run folder of the stream's
 * commit of that date, or a compaction's rewrite of it. Files of runs that never committed the date
 * (stopped, failed, or still running) are never read. Without a commit of the date (one compaction
 * trimmed), every folder counts, as nothing but a registered run's files can be left there then.
 */
export function isCommittedFile(key: string, prefix: string, committedRun: string | undefined): boolean {
  if (committedRun === undefined) return true;
  const folder = key.slice(prefix.length).split('/')[0] ?? '';
  return folder === `run-${committedRun}` || folder.startsWith(`run-${COMPACTION_RUN_PREFIX}`);
}

/**
 * The Parquet files of a partition its readers see ({@link isCommittedFile}), and every other file
 * its folder holds (`all`, for a rewrite to replace), both without the files a consolidation left
 * behind for the next compaction to delete (`state/compaction.ts`).
 */
export async function partitionFiles(store: ObjectStore, table: TableDef, date: string, integrationId: string, committedRun: string | undefined): Promise<{ keys: string[]; all: string[] }> {
  const prefix = partitionPrefix(table.name, date, integrationId);
  // Only a stream's tables are consolidated: the `integrations` table has no files left behind.
  const behind = new Set(isModelName(table.model) ? await readLeftBehind(store, { integrationId, model: table.model }) : []);
  const all = (await store.list(prefix)).filter((k) => k.endsWith('.parquet') && !behind.has(k));
  return { keys: all.filter((k) => isCommittedFile(k, prefix, committedRun)), all };
}

/** The rows of these Parquet files (or only `columns` of them), in key order; a file gone meanwhile has none. */
export async function readRows(store: ObjectStore, keys: readonly string[], columns?: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (!body) continue;
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    rows.push(...((await parquetReadObjects({ file, ...(columns && { columns }) })) as Row[]));
  }
  return rows;
}

/**
 * The Parquet files of a partition its readers see and their rows (or only `columns` of them), and
 * every file the partition's folder holds (`all`), for a rewrite to replace ({@link partitionFiles}).
 * A rewrite cut short may leave a second compaction folder for a while.
 */
export async function readPartition(store: ObjectStore, table: TableDef, date: string, integrationId: string, committedRun: string | undefined, columns?: string[]): Promise<{ keys: string[]; all: string[]; rows: Row[] }> {
  const { keys, all } = await partitionFiles(store, table, date, integrationId, committedRun);
  return { keys, all, rows: await readRows(store, keys, columns) };
}

/** A Parquet value read back as the cell it was written from: timestamps as epoch milliseconds. */
export function parquetCell(value: unknown): Cell {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  return value as Cell;
}

/** The column holding the record id: `id` in the model's own table, the parent id in a child table. */
export const recordKeyColumn = (table: TableDef): string =>
  table.columns.find((c) => (table.arrayField === undefined ? c.name === 'id' : c.source.kind === 'parent-id'))!.name;

/**
 * Encode rows read back from a partition as one Parquet file, every column as stored: each row
 * keeps the `_run_id` and `_synced_at` of the sync that stored it.
 */
export function encodeRows(table: CatalogTable, rows: readonly Row[]): Uint8Array {
  const dataCols = table.columns.filter((c) => c.name !== '_run_id' && c.name !== '_synced_at');
  const columns = dataCols.map((c) => rows.map((r) => parquetCell(r[c.name])));
  const runId = rows.map((r) => String(r['_run_id']));
  const syncedAt = rows.map((r) => Number(parquetCell(r['_synced_at'])));
  return encodeParquet({ table, columns, rowCount: rows.length }, { runId, syncedAt });
}
