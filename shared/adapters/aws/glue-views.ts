/**
 * The analytics views as Glue tables of type `VIRTUAL_VIEW`, encoded the way Athena stores a view
 * it created itself ("Presto view"): the SQL and its output columns base64-encoded in
 * `ViewOriginalText`, the columns again with Hive types in the storage descriptor. Athena re-checks
 * the stored column types against what the SQL yields, which is why every view declares its
 * columns (`views.ts`) and casts to them.
 *
 * A view table carries no Glue `Description`. Trino's Glue metastore (Athena engine v3, and Trino
 * or EMR reading the same catalog) copies `Description` over the table's `comment` parameter, and
 * it recognises a view only by `comment = 'Presto View'`: with a description the view reads as a
 * broken table and `SELECT * FROM hiring_funnel` fails as "table not found". The description goes
 * into the view definition's own `comment` field instead.
 */
import type { TableInput } from '@aws-sdk/client-glue';
import type { ViewDef } from '../../analytics/views.ts';
import { HIVE_VIEW_TYPES } from '../../analytics/views.ts';

/** Athena's name for the Glue Data Catalog. */
export const ATHENA_CATALOG = 'awsdatacatalog';
/** Owner recorded in the view definition (Athena does not check it; views run as the invoker's workgroup). */
export const DEFAULT_VIEW_OWNER = 'kombo-etl';

/** The JSON Athena keeps inside `/* Presto View: … *\/`. */
export interface PrestoViewDefinition {
  originalSql: string;
  catalog: string;
  schema: string;
  columns: { name: string; type: string }[];
  /** The view's description (what one row is), shown by Trino's `SHOW CREATE VIEW` and `information_schema`. */
  comment: string;
  owner: string;
  runAsInvoker: boolean;
}

/** The description of a view: what one row is. */
export function viewComment(view: ViewDef): string {
  return `kombo-etl analytics view: ${view.grain}`;
}

/** The definition Athena reads for a view of database `schema`. */
export function prestoViewDefinition(view: ViewDef, schema: string, owner: string = DEFAULT_VIEW_OWNER): PrestoViewDefinition {
  return {
    originalSql: view.sql,
    catalog: ATHENA_CATALOG,
    schema,
    columns: view.columns.map((c) => ({ name: c.name, type: c.type })),
    comment: viewComment(view),
    owner,
    runAsInvoker: false,
  };
}

/** `ViewOriginalText`: `/* Presto View: <base64 of the definition JSON> *\/`. */
export function prestoViewText(view: ViewDef, schema: string, owner: string = DEFAULT_VIEW_OWNER): string {
  const json = JSON.stringify(prestoViewDefinition(view, schema, owner));
  return `/* Presto View: ${Buffer.from(json, 'utf8').toString('base64')} */`;
}

/** Decodes a `ViewOriginalText` back to its definition (for tests and for inspecting a catalog). */
export function decodePrestoViewText(text: string): PrestoViewDefinition {
  const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(text);
  if (!match) throw new Error('not a Presto view text');
  return JSON.parse(Buffer.from(match[1] as string, 'base64').toString('utf8')) as PrestoViewDefinition;
}

/**
 * The Glue table input that makes `view` an Athena view in database `databaseName`: no
 * `Description` (see the module comment), `comment = 'Presto View'`.
 */
export function glueViewTableInput(view: ViewDef, databaseName: string, owner: string = DEFAULT_VIEW_OWNER): TableInput {
  return {
    Name: view.name,
    TableType: 'VIRTUAL_VIEW',
    Parameters: { presto_view: 'true', comment: 'Presto View' },
    ViewOriginalText: prestoViewText(view, databaseName, owner),
    ViewExpandedText: '/* Presto View */',
    PartitionKeys: [],
    StorageDescriptor: {
      Columns: view.columns.map((c) => ({ Name: c.name, Type: HIVE_VIEW_TYPES[c.type] })),
      SerdeInfo: {},
    },
  };
}
