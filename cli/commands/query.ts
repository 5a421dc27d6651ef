/** `kombo-etl query`: any SQL DuckDB accepts, over the warehouse's views. */
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { formatTable } from '../output.ts';
import { assertReadableWarehouse } from '../warehouse.ts';

export type QueryFormat = 'table' | 'csv' | 'json';

const csvCell = (v: unknown) => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Run one SQL statement and print its result; a missing or empty warehouse is a configuration error. */
export async function queryCommand(sql: string, warehouse: string, format: QueryFormat, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  await assertReadableWarehouse(warehouse);
  const db = await openWarehouse(warehouse);
  try {
    const { columns, rows } = await db.query(sql);
    if (format === 'json') out.write(`${JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))), null, 2)}\n`);
    else if (format === 'csv') out.write([columns, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
    else if (columns.length > 0) out.write(`${formatTable(columns, rows)}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`);
  } finally {
    db.close();
  }
}
