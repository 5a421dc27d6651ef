/** `kombo-etl query`: any SQL DuckDB accepts, over the warehouse's views. */
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { formatJsonRows, formatTable } from '../output.ts';
import { assertReadableWarehouse } from '../warehouse.ts';

export type QueryFormat = 'table' | 'csv' | 'json';

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (it starts with `=`, `+`,
 * `-`, `@`, a tab or a carriage return) is prefixed with `'`, as OWASP's CSV injection advice says,
 * so that opening the file never runs `=HYPERLINK(…)` or `=cmd|…`; a number (`-3`, `-0.5`) is
 * written as it is.
 * A value holding a quote, a comma, a line feed or a carriage return is quoted.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const raw = typeof v === 'object' ? JSON.stringify(v) : String(v);
  const s = /^[=+\-@\t\r]/.test(raw) && !/^-\d+(\.\d+)?(e[+-]?\d+)?$/i.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Run one SQL statement and print its result; a missing or empty warehouse is a configuration error. */
export async function queryCommand(sql: string, warehouse: string, format: QueryFormat, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  await assertReadableWarehouse(warehouse);
  const db = await openWarehouse(warehouse);
  try {
    if (format === 'json') {
      // DuckDB's own values, so that counts stay numbers and timestamps become ISO 8601.
      const reader = await db.connection.runAndReadAll(sql);
      out.write(`${formatJsonRows(reader.columnNames(), reader.getRows())}\n`);
      return;
    }
    const { columns, rows } = await db.query(sql);
    if (format === 'csv') out.write([columns, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
    else if (columns.length > 0) out.write(`${formatTable(columns, rows)}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`);
  } finally {
    db.close();
  }
}
