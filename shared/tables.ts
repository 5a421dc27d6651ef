/**
 * The table contract, declared once. The Parquet schema, the Glue tables, the DuckDB views and the
 * README's column reference are all derived from these definitions.
 */

/** Kombo ATS models we read. */
export const MODELS = ['candidates', 'applications', 'interviews'] as const;
export type ModelName = (typeof MODELS)[number];

/** Logical column types. `json` is free-form data kept as JSON text; `timestamp` is INT64 TIMESTAMP(MILLIS, UTC). */
export type ColumnType = 'string' | 'json' | 'timestamp' | 'boolean' | 'int32';

/** Where a column's value comes from. */
export type ColumnSource =
  /** A field of the record (or of the array element, for child tables), by path. */
  | { readonly kind: 'field'; readonly path: readonly string[] }
  /** The id of the parent record (child tables only). */
  | { readonly kind: 'parent-id' }
  /** The element's index in its array (child tables only). */
  | { readonly kind: 'position' }
  /** Added by the pipeline: `_run_id`, `_synced_at`. */
  | { readonly kind: 'meta' };

/**
 * Personal data a column holds, for `piiMode`: names, email addresses, phone numbers and social
 * handles are hashed or dropped; `raw` columns (the ATS's own payload, which repeats all of them)
 * can only be dropped.
 */
export type PiiKind = 'name' | 'email' | 'phone' | 'handle' | 'raw';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly source: ColumnSource;
  /** Set on columns holding personal data (see {@link PiiKind}). */
  readonly pii?: PiiKind;
}

export interface TableDef {
  readonly name: string;
  /** The Kombo model (endpoint) the rows come from. */
  readonly model: ModelName;
  /** One line on what a row is, for the README and the Glue table comment. */
  readonly grain: string;
  /** For child tables: the array field of the parent record that becomes rows. */
  readonly arrayField?: string;
  readonly columns: readonly ColumnDef[];
}

const field = (name: string, type: ColumnType = 'string', path: readonly string[] = [name]): ColumnDef => ({
  name,
  type,
  source: { kind: 'field', path },
});

/** A nested object's fields, joined with `_`: `location.city` → `location_city`. */
const nested = (object: string, fields: readonly string[], type: ColumnType = 'string'): ColumnDef[] =>
  fields.map((f) => field(`${object}_${f}`, type, [object, f]));

/** Mark a column as personal data. */
const pii = (col: ColumnDef, kind: PiiKind): ColumnDef => ({ ...col, pii: kind });

const parentId = (name: string): ColumnDef => ({ name, type: 'string', source: { kind: 'parent-id' } });
const position: ColumnDef = { name: 'position', type: 'int32', source: { kind: 'position' } };

/** Columns every table carries, added by the pipeline. */
export const META_COLUMNS: readonly ColumnDef[] = [
  { name: '_run_id', type: 'string', source: { kind: 'meta' } },
  { name: '_synced_at', type: 'timestamp', source: { kind: 'meta' } },
];

const LOCATION_FIELDS = ['city', 'country', 'raw', 'state', 'street_1', 'street_2', 'zip_code'] as const;

const withMeta = (t: TableDef): TableDef => ({ ...t, columns: [...t.columns, ...META_COLUMNS] });

/** Every table of the warehouse, in a stable order. */
export const TABLES: readonly TableDef[] = (
  [
  {
    name: 'candidates',
    model: 'candidates',
    grain: 'one row per candidate',
    columns: [
      field('id'),
      field('remote_id'),
      pii(field('first_name'), 'name'),
      pii(field('last_name'), 'name'),
      field('company'),
      field('title'),
      field('confidential', 'boolean'),
      field('source'),
      ...nested('location', LOCATION_FIELDS),
      field('custom_fields', 'json'),
      field('integration_fields', 'json'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'candidate_email_addresses',
    model: 'candidates',
    grain: "one row per email address of a candidate (candidates[].email_addresses)",
    arrayField: 'email_addresses',
    columns: [parentId('candidate_id'), position, pii(field('email_address'), 'email'), field('type')],
  },
  {
    name: 'candidate_phone_numbers',
    model: 'candidates',
    grain: 'one row per phone number of a candidate (candidates[].phone_numbers)',
    arrayField: 'phone_numbers',
    columns: [parentId('candidate_id'), position, pii(field('phone_number'), 'phone'), field('type')],
  },
  {
    name: 'candidate_social_media',
    model: 'candidates',
    grain: 'one row per social media link of a candidate (candidates[].social_media)',
    arrayField: 'social_media',
    columns: [parentId('candidate_id'), position, pii(field('link'), 'handle'), field('type'), pii(field('username'), 'handle')],
  },
  {
    name: 'candidate_tags',
    model: 'candidates',
    grain: 'one row per tag of a candidate (candidates[].tags)',
    arrayField: 'tags',
    columns: [parentId('candidate_id'), position, field('tag_id', 'string', ['id']), field('name'), field('remote_id')],
  },
  {
    name: 'applications',
    model: 'applications',
    grain: 'one row per application',
    columns: [
      field('id'),
      field('remote_id'),
      field('outcome'),
      field('rejection_reason_name'),
      field('rejected_at', 'timestamp'),
      field('candidate_id'),
      field('job_id'),
      field('job_name', 'string', ['job', 'name']),
      field('job_remote_id', 'string', ['job', 'remote_id']),
      field('current_stage_id'),
      field('current_stage_name', 'string', ['current_stage', 'name']),
      field('current_stage_remote_id', 'string', ['current_stage', 'remote_id']),
      field('current_stage_index', 'int32', ['current_stage', 'index']),
      field('screening_question_answers', 'json'),
      field('custom_fields', 'json'),
      field('integration_fields', 'json'),
      field('remote_url'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'interviews',
    model: 'interviews',
    grain: 'one row per interview',
    columns: [
      field('id'),
      field('remote_id'),
      field('title'),
      field('starting_at', 'timestamp'),
      field('ending_at', 'timestamp'),
      ...nested('location', LOCATION_FIELDS),
      field('video_conferencing_url'),
      field('application_id'),
      field('stage_id'),
      field('canceled', 'boolean'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'interview_users',
    model: 'interviews',
    grain: 'one row per interviewer of an interview (interviews[].users)',
    arrayField: 'users',
    columns: [
      parentId('interview_id'),
      position,
      field('user_id', 'string', ['id']),
      field('remote_id'),
      pii(field('first_name'), 'name'),
      pii(field('last_name'), 'name'),
      pii(field('email'), 'email'),
    ],
  },
  ] satisfies TableDef[]
).map(withMeta);

/** Partition columns: in the path only, never inside the files. */
export const PARTITION_COLUMNS = [
  { name: 'snapshot_date', type: 'date' },
  { name: 'integration_id', type: 'string' },
] as const;

/** The tables one model's records flatten into. */
export function tablesForModel(model: ModelName): readonly TableDef[] {
  return TABLES.filter((t) => t.model === model);
}

/** Look a table up by name. */
export function tableByName(name: string): TableDef | undefined {
  return TABLES.find((t) => t.name === name);
}

/** Type guard for model names coming from config or messages. */
export function isModelName(value: string): value is ModelName {
  return (MODELS as readonly string[]).includes(value);
}
