/**
 * Reading a partition's rows back from its Parquet files, for the steps that rewrite versions: a
 * full sync copying the last version of a record it no longer found, compaction dropping the
 * versions the retention no longer needs.
 */
import { parquetReadObjects } from 'hyparquet';
import type { Cell } from '../flatten.ts';
import type { ObjectStore } from '../ports.ts';
import type { TableDef } from '../tables.ts';
import { partitionPrefix } from '../warehouse/layout.ts';

/** A row as hyparquet reads it, by column name. */
export type Row = Record<string, unknown>;

/**
 * The Parquet files of a partition and their rows (or only `columns` of them). A finished
 * partition holds one run's files; a rewrite cut short may leave a second run's for a while.
 */
export async function readPartition(store: ObjectStore, table: TableDef, date: string, integrationId: string, columns?: string[]): Promise<{ keys: string[]; rows: Row[] }> {
  const keys = (await store.list(partitionPrefix(table.name, date, integrationId))).filter((k) => k.endsWith('.parquet'));
  const rows: Row[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (!body) continue;
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    rows.push(...((await parquetReadObjects({ file, ...(columns && { columns }) })) as Row[]));
  }
  return { keys, rows };
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
