/**
 * The Glue side of the table contract, derived from `shared/tables.ts` and nothing else. The CDK
 * catalog construct builds its tables from {@link glueTableInput} and the Glue catalog adapter
 * builds partitions from {@link glueStorageDescriptor}, so the columns Athena sees, the partitions'
 * storage and the Parquet files written all come from the one definition.
 */
import type { Column, StorageDescriptor, TableInput } from '@aws-sdk/client-glue';
import type { CatalogTable, ColumnType, TableDef } from '../../tables.ts';
import { PARTITION_COLUMNS } from '../../tables.ts';

/** Glue (Hive) type of each logical column type. JSON columns are text. */
export const GLUE_TYPES: Record<ColumnType | (typeof PARTITION_COLUMNS)[number]['type'], string> = {
  string: 'string',
  json: 'string',
  timestamp: 'timestamp',
  boolean: 'boolean',
  int32: 'int',
  double: 'double',
  date: 'date',
};

export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

const COMMENTS: Partial<Record<ColumnType, string>> = {
  json: 'JSON text',
  timestamp: 'UTC',
};

/** `s3://bucket/prefix/key`, for table and partition locations. */
export function s3Uri(bucket: string, prefix: string, key = ''): string {
  const root = prefix.replace(/^\/+|\/+$/g, '');
  return `s3://${bucket}/${root === '' ? '' : `${root}/`}${key}`;
}

/** The data columns of a table, in definition order. */
export function glueColumns(table: CatalogTable): Column[] {
  return table.columns.map((c) => ({
    Name: c.name,
    Type: GLUE_TYPES[c.type],
    ...(COMMENTS[c.type] !== undefined && { Comment: COMMENTS[c.type] }),
  }));
}

/** The partition keys: `snapshot_date` (date), `integration_id` (string), in path order. */
export function gluePartitionKeys(): Column[] {
  return PARTITION_COLUMNS.map((p) => ({ Name: p.name, Type: GLUE_TYPES[p.type] }));
}

/** Parquet storage at a location: the table's own, or one partition's run folder. */
export function glueStorageDescriptor(table: CatalogTable, location: string): StorageDescriptor {
  return {
    Columns: glueColumns(table),
    Location: location,
    InputFormat: PARQUET_INPUT_FORMAT,
    OutputFormat: PARQUET_OUTPUT_FORMAT,
    SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
    Compressed: false,
    StoredAsSubDirectories: false,
  };
}

/** The Glue table of a table definition, rooted at `<warehouse>/<table>/`. */
export function glueTableInput(table: CatalogTable, warehouseUri: string): TableInput {
  const root = warehouseUri.endsWith('/') ? warehouseUri : `${warehouseUri}/`;
  return {
    Name: table.name,
    Description: 'model' in table ? `Kombo ${(table as TableDef).model}: ${table.grain}` : `kombo-etl: ${table.grain}`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', has_encrypted_data: 'false' },
    PartitionKeys: gluePartitionKeys(),
    StorageDescriptor: glueStorageDescriptor(table, `${root}${table.name}/`),
  };
}
