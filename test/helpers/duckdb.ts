/** DuckDB as the independent reader of the Parquet files the pipeline writes. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const EXTENSIONS = resolve(import.meta.dirname, '../../.duckdb/extensions');

export interface Reader {
  all(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/** An in-memory DuckDB with extensions kept inside the project (never downloaded). */
export async function duck(): Promise<Reader> {
  mkdirSync(EXTENSIONS, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { extension_directory: EXTENSIONS, autoinstall_known_extensions: 'false' });
  const conn = await instance.connect();
  return {
    async all(sql) {
      const r = await conn.runAndReadAll(sql);
      return r.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
