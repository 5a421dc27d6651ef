/**
 * Parquet encoding with hyparquet-writer: pure JavaScript (a small Lambda bundle, no native
 * binary), byte-order string statistics, and proper logical types. The schema comes from the table
 * definition, so the same column always has the same type, even in a file where it is all null.
 */
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { CatalogTable, ColumnType } from './tables.ts';
import type { Cell, TableBuffer } from './flatten.ts';

/** Rows per row group: large groups keep Athena's per-group overhead low. */
export const ROW_GROUP_SIZE = 100_000;

type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]['schema']>[number];

function schemaElement(name: string, type: ColumnType): SchemaElement {
  const base = { name, repetition_type: 'OPTIONAL' as const };
  switch (type) {
    case 'string':
    case 'json':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'timestamp':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'int32':
      return { ...base, type: 'INT32' };
    case 'double':
      return { ...base, type: 'DOUBLE' };
  }
}

/** The Parquet schema of a table (partition columns excluded: they live in the path). */
export function parquetSchema(table: CatalogTable): SchemaElement[] {
  return [
    { name: 'schema', num_children: table.columns.length },
    ...table.columns.map((c) => schemaElement(c.name, c.type)),
  ];
}

/**
 * `_run_id` and `_synced_at` of a file's rows: one value for every row (a sync's own versions), or
 * one per row (rows carried over or rewritten, each keeping the sync that stored it).
 */
export interface RowsMeta {
  readonly runId: string | readonly string[];
  /** Epoch milliseconds. */
  readonly syncedAt: number | readonly number[];
}

/** One sync's `_run_id` and `_synced_at`, shared by every row of the file. */
export interface FileMeta extends RowsMeta {
  readonly runId: string;
  readonly syncedAt: number;
}

/** A meta column's values: the one value repeated, or the per-row values (as many as the rows). */
function metaColumn(name: string, value: string | number | readonly (string | number)[], n: number): Cell[] {
  if (typeof value === 'string' || typeof value === 'number') return new Array<Cell>(n).fill(value);
  if (value.length !== n) throw new Error(`${name}: ${value.length} values for ${n} rows`);
  return [...value];
}

/** Encode one table's buffered rows as a Parquet file. */
export function encodeParquet(buffer: Pick<TableBuffer, 'columns' | 'rowCount'> & { readonly table: CatalogTable }, meta: RowsMeta): Uint8Array {
  const { table } = buffer;
  const n = buffer.rowCount;
  let dataIndex = 0;
  const columnData = table.columns.map((col) => {
    let data: Cell[];
    if (col.name === '_run_id') data = metaColumn(col.name, meta.runId, n);
    else if (col.name === '_synced_at') data = metaColumn(col.name, meta.syncedAt, n);
    else data = buffer.columns[dataIndex++]!;
    return { name: col.name, data };
  });
  const writer = new ByteWriter();
  const pending = parquetWrite({
    writer,
    columnData,
    schema: parquetSchema(table),
    rowGroupSize: ROW_GROUP_SIZE,
    // Statistics keep the library's 16-byte UTF-8-aware truncation: a truncated max is rounded up,
    // so pruning stays exact while footers stay small.
    createdBy: 'kombo-etl',
  });
  // The writer only goes asynchronous with async compressors, which we never pass.
  if (pending) throw new Error('hyparquet-writer returned a promise: an asynchronous compressor is configured');
  return new Uint8Array(writer.getBuffer());
}
