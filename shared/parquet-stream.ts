/**
 * A Parquet file built row group by row group while a chunk is still fetching. A chunk hands a
 * table's buffer over as soon as it holds {@link STREAM_ROW_GROUP_ROWS} rows; the rows are encoded
 * there and then, in the time the next page is on its way from Kombo (the chunk asks for it first),
 * and the buffer is emptied. At the end of the chunk only the last rows and the footer are left to
 * encode, so a chain of chunks waits on the API, not on the encoder, and a chunk holds encoded
 * bytes (a tenth of the size of buffered rows or less) instead of all its rows.
 *
 * Same schema, codec, statistics and page indexes as {@link encodeParquet}; only the row groups
 * are smaller.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Cell, TableBuffer } from './flatten.ts';
import type { FileMeta } from './parquet.ts';
import { parquetSchema } from './parquet.ts';
import type { TableDef } from './tables.ts';

/**
 * Rows per row group of a file written while fetching. About 0.1–0.2 s of encoding for the widest
 * table, close to one page's latency, so it hides behind the next request; and still thousands
 * of rows per group, so readers pay little per group.
 */
export const STREAM_ROW_GROUP_ROWS = 10_000;

/** One table's file of one chunk, encoded a row group at a time. */
export class ParquetFileBuilder {
  /** Rows encoded so far. */
  rows = 0;
  private readonly writer = new ByteWriter();
  private readonly parquet: ParquetWriter;

  constructor(
    readonly table: TableDef,
    private readonly meta: FileMeta,
  ) {
    this.parquet = new ParquetWriter({ writer: this.writer, schema: parquetSchema(table), createdBy: 'kombo-etl' });
  }

  /** Encode the buffer's rows as one row group, then empty the buffer. */
  append(buffer: TableBuffer): void {
    const n = buffer.rowCount;
    if (n === 0) return;
    let dataIndex = 0;
    const columnData = this.table.columns.map((col) => {
      let data: Cell[];
      if (col.name === '_run_id') data = new Array<Cell>(n).fill(this.meta.runId);
      else if (col.name === '_synced_at') data = new Array<Cell>(n).fill(this.meta.syncedAt);
      else data = buffer.columns[dataIndex++]!;
      return { name: col.name, data };
    });
    // The writer only goes asynchronous with async compressors, which we never pass.
    if (this.parquet.write({ columnData, rowGroupSize: n })) throw new Error('hyparquet-writer returned a promise: an asynchronous compressor is configured');
    this.rows += n;
    for (const col of buffer.columns) col.length = 0;
    buffer.rowCount = 0;
  }

  /** Encode what is left in `buffer`, write the footer, and return the file. */
  finish(buffer: TableBuffer): Uint8Array {
    this.append(buffer);
    if (this.parquet.finish()) throw new Error('hyparquet-writer returned a promise while finishing');
    return new Uint8Array(this.writer.getBuffer());
  }
}
