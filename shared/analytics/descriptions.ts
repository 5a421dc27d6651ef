/**
 * Descriptions of the warehouse's tables and columns for the catalogs users browse: the dbt
 * `sources.yml` and the comments of the exported DuckDB file. Derived from the table definitions
 * (`shared/tables.ts`), like the Glue tables and the README's column reference, so they cannot drift.
 */
import type { ColumnDef, TableDef } from '../tables.ts';
import { PARTITION_COLUMNS, TABLES, endpointOf } from '../tables.ts';
import { VIEWS } from './views.ts';
import { columnTreatment } from '../flatten.ts';

/** What a row of `table` is, and that the physical table keeps every snapshot. */
export function tableDescription(table: TableDef): string {
  const latest = VIEWS.some((v) => v.name === `${table.name}_latest`) ? `, or read ${table.name}_latest` : '';
  return `${table.grain}, from Kombo's GET ${endpointOf(table)}${table.model === 'integrations' ? ' and its integration webhooks' : ''}. Keeps every version of every record: read ${table.name}_history for their validity${latest} for the current ones`;
}

const TYPE_NOTES: Partial<Record<ColumnDef['type'], string>> = {
  json: 'JSON text',
  timestamp: 'UTC',
};

/** The table holding the records a child table's rows belong to. */
function parentTable(table: TableDef): TableDef | undefined {
  return TABLES.find((t) => t.model === table.model && t.arrayField === undefined);
}

/** What a column holds: where it comes from in Kombo's record, its unit, and whether it is personal data. */
export function columnDescription(table: TableDef, column: ColumnDef): string {
  const parts: string[] = [];
  switch (column.source.kind) {
    case 'field':
      parts.push(`Kombo field ${table.arrayField === undefined ? '' : `${table.arrayField}[].`}${column.source.path.join('.')}`);
      break;
    case 'parent-id':
      parts.push(`id of the ${parentTable(table)?.name ?? table.model} record the row belongs to`);
      break;
    case 'position':
      parts.push(`index in the record's ${table.arrayField ?? ''} array, from 0`);
      break;
    case 'meta':
      parts.push(column.name === '_run_id' ? 'id of the run that wrote the row' : 'when the sync that stored this version started (the version is valid from then)');
      break;
    case 'deleted':
      parts.push(table.arrayField === undefined ? 'this version records a deletion' : "the parent's version records a deletion");
      break;
    case 'integration':
      parts.push(column.source.from);
      break;
  }
  const note = TYPE_NOTES[column.type];
  if (note !== undefined) parts.push(note);
  if (column.pii !== undefined) {
    const hashed = columnTreatment(column, 'hash') === 'hashed';
    parts.push(`personal data: --pii-mode hash ${hashed ? 'stores a keyed hash (HMAC-SHA256)' : 'stores null'}, drop stores null`);
  }
  return parts.join('; ');
}

/** What a row of `syncs` is. */
export const SYNCS_DESCRIPTION =
  'One row per integration, model and snapshot date whose sync completed, written by kombo-etl. A sync that found nothing changed stores no version ' +
  'in the data tables but still has its row here: read the first and latest sync of an integration, and freshness, from this table';

/** Descriptions of the columns of `syncs`. */
export const SYNCS_COLUMN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  model: 'the Kombo model synced: candidates, applications, interviews, jobs, offers, users, rejection_reasons, application_stages or tags',
  run_id: 'id of the run that synced it',
  mode: "'full' (every record fetched; records no longer returned are stored as deleted) or 'incremental' (records changed since updated_after)",
  updated_after: "the lower bound of the records' change time asked of Kombo; null on a full sync; UTC",
  started_at: "when the sync started, on Kombo's clock; UTC",
  valid_from: 'the _synced_at (and _valid_from) of the versions the sync stored; UTC',
  records: 'records Kombo returned',
  versions: 'versions stored (records changed, deletions included)',
  deletions: 'versions stored that record a deletion',
  finished_at: 'when the sync completed; UTC',
};

/** Descriptions of the partition columns, which every table has after its own columns. */
export const PARTITION_DESCRIPTIONS: Record<(typeof PARTITION_COLUMNS)[number]['name'], string> = {
  snapshot_date: 'date of the nightly sync that stored the row (partition)',
  integration_id: 'Kombo integration id, like greenhouse:AbC123 (partition)',
};
