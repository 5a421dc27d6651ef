/**
 * The table contract, declared once. The Parquet schema, the Glue tables, the DuckDB views and the
 * README's column reference are all derived from these definitions.
 */

/** Kombo ATS models we read. */
export const MODELS = ['candidates', 'applications', 'interviews', 'jobs', 'offers', 'users', 'rejection_reasons', 'application_stages', 'tags'] as const;
export type ModelName = (typeof MODELS)[number];

/** How Kombo serves a model: its list endpoint, and its id among the read models of `GET /integrations/{id}`. */
export interface KomboModel {
  /** Path of the list endpoint, below the API's base URL. */
  readonly endpoint: string;
  /** The read model that says whether the integration offers it (`read_models[].id`). */
  readonly readModel: string;
  /**
   * Set on a model listed in full on every sync, never incrementally: its records are few, and
   * Kombo's `updated_after` does not return them for a change of the linked records they copy (a
   * job for a renamed stage or hiring team member), so a full listing is what keeps those copies current.
   */
  readonly everySync?: 'full';
}

/** Endpoint and read model of every model we read. */
export const KOMBO_MODELS: Readonly<Record<ModelName, KomboModel>> = {
  candidates: { endpoint: '/ats/candidates', readModel: 'ats_candidates' },
  applications: { endpoint: '/ats/applications', readModel: 'ats_applications' },
  interviews: { endpoint: '/ats/interviews', readModel: 'ats_interviews' },
  jobs: { endpoint: '/ats/jobs', readModel: 'ats_jobs', everySync: 'full' },
  offers: { endpoint: '/ats/offers', readModel: 'ats_offers' },
  users: { endpoint: '/ats/users', readModel: 'ats_users' },
  rejection_reasons: { endpoint: '/ats/rejection-reasons', readModel: 'ats_rejection_reasons' },
  application_stages: { endpoint: '/ats/application-stages', readModel: 'ats_application_stages' },
  tags: { endpoint: '/ats/tags', readModel: 'ats_tags' },
};

/**
 * Logical column types. `json` is free-form data kept as JSON text; `timestamp` is INT64
 * TIMESTAMP(MILLIS, UTC); `double` is a 64-bit float, for Kombo's fractional numbers (hours, salaries).
 */
export type ColumnType = 'string' | 'json' | 'timestamp' | 'boolean' | 'int32' | 'double';

/** Where a column's value comes from. */
export type ColumnSource =
  /** A field of the record (or of the array element, for child tables), by path. */
  | { readonly kind: 'field'; readonly path: readonly string[] }
  /** The id of the parent record (child tables only). */
  | { readonly kind: 'parent-id' }
  /** The element's index in its array (child tables only). */
  | { readonly kind: 'position' }
  /** Added by the pipeline: `_run_id`, `_synced_at`. */
  | { readonly kind: 'meta' }
  /**
   * Added by the pipeline, per row: whether the version records a deletion (the record came back
   * with `remote_deleted_at` set, or a full sync no longer returned it). Child rows carry their
   * parent's flag.
   */
  | { readonly kind: 'deleted' }
  /**
   * Recorded by the pipeline for an integration (the `integrations` table), from the integration
   * check or a webhook: `from` says where the value comes from.
   */
  | { readonly kind: 'integration'; readonly from: string };

/**
 * Personal data a column holds, for `piiMode` (what each mode stores: `piiCell` in `flatten.ts`).
 * - `name`, `email`, `phone`, `handle`: identifiers of a person, hashed or dropped.
 * - `address`: a street address or a postcode, which locate a person's home.
 * - `text`: free text or free-form data that may name a person in any form (an interview title
 *   "Interview with Leda Watsica", a custom field, a screening answer, a personal meeting link).
 * - `raw`: the ATS's own payload, which repeats all of the above.
 * - `person`: a value that describes one person without naming them (a candidate's employer, job
 *   title, the link to their page in the ATS, a user's id in the ATS, which some ATSs set to the
 *   user's email address). No join needs it.
 * - `category`: a value the analytics group by (a candidate's source, a tag, a rejection reason),
 *   typed by whoever keys it in, so it may be free text naming a person ("Referral from Jane Doe").
 *   Outside `keep` mode it is stored only when it is a label of the integration's own list
 *   ({@link ColumnDef.labels}) or is shared by enough records; anything else is stored as `(other)`.
 * A hash of free text links nothing and still lets a guess be confirmed, so `address`, `text`,
 * `raw` and `person` columns are only ever kept or dropped.
 */
export type PiiKind = 'name' | 'email' | 'phone' | 'handle' | 'address' | 'text' | 'raw' | 'person' | 'category';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly source: ColumnSource;
  /** Set on columns holding personal data (see {@link PiiKind}). */
  readonly pii?: PiiKind;
  /**
   * Set on a column that copies a field of another model's record (the job's name in an
   * application): the model whose own records hold the field. Kombo's `updated_after` does not
   * return the record when only the linked record changed, so an incremental sync leaves such a
   * copy as it was. A linked column does not decide a version (it is left out of the version's
   * hash): the copy is stored with the record's versions and may lag; the views read the field
   * from the linked model's own table.
   */
  readonly linked?: ModelName;
  /** For `category` columns: the model whose `name`s are the integration's own labels for it. */
  readonly labels?: 'tags' | 'rejection_reasons';
  /**
   * Set on a personal column whose writer holds no salt (the integration check and webhooks): the
   * `hash` mode stores null there instead of a hash.
   */
  readonly unhashed?: true;
}

/** A table of the catalog: its name, what a row is, and its columns (partition columns aside). */
export interface CatalogTable {
  readonly name: string;
  /** One line on what a row is, for the README and the Glue table comment. */
  readonly grain: string;
  readonly columns: readonly ColumnDef[];
}

/**
 * Where a table's rows come from: a Kombo model's list endpoint, or (`integrations`) the integration
 * check (`GET /integrations/{id}`) and Kombo's integration webhooks.
 */
export type TableSource = ModelName | 'integrations';

export interface TableDef extends CatalogTable {
  /** The Kombo model (endpoint) the rows come from, or `integrations`. */
  readonly model: TableSource;
  /** For child tables: the array field of the parent record that becomes rows. */
  readonly arrayField?: string;
  readonly columns: readonly ColumnDef[];
  /**
   * Set on the tables analytics reads as current records: what one record is called (`candidate`).
   * Such a table gets a `<table>_latest` view (its records' current versions, deleted ones left
   * out) besides the `<table>_history` view every table gets.
   */
  readonly latest?: { readonly record: string };
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

/** Mark a column as a copy of a field of `model`'s records (see {@link ColumnDef.linked}). */
const linked = (col: ColumnDef, model: ModelName): ColumnDef => ({ ...col, linked: model });
/** Mark a column as a category typed by hand, with the model that lists its labels, if any. */
const category = (col: ColumnDef, labels?: ColumnDef['labels']): ColumnDef => ({ ...col, pii: 'category', ...(labels && { labels }) });

const parentId = (name: string): ColumnDef => ({ name, type: 'string', source: { kind: 'parent-id' } });
const position: ColumnDef = { name: 'position', type: 'int32', source: { kind: 'position' } };

/** Columns every table carries, added by the pipeline. */
export const META_COLUMNS: readonly ColumnDef[] = [
  { name: '_run_id', type: 'string', source: { kind: 'meta' } },
  { name: '_synced_at', type: 'timestamp', source: { kind: 'meta' } },
  { name: '_is_deleted', type: 'boolean', source: { kind: 'deleted' } },
];

const LOCATION_FIELDS = ['city', 'country', 'raw', 'state', 'street_1', 'street_2', 'zip_code'] as const;
/** The parts of a location that place a street address: city, state and country are kept in every mode. */
const ADDRESS_FIELDS: ReadonlySet<string> = new Set(['raw', 'street_1', 'street_2', 'zip_code']);

/** A location object's columns (`location_city`, …), its street address marked as personal data. */
const location = (): ColumnDef[] =>
  nested('location', LOCATION_FIELDS).map((c, i) => (ADDRESS_FIELDS.has(LOCATION_FIELDS[i]!) ? pii(c, 'address') : c));

/** An ATS user nested in a record (an interviewer, a hiring team member): id, remote id, name and email. */
const userColumns = (): ColumnDef[] => [
  field('user_id', 'string', ['id']),
  pii(field('remote_id'), 'person'),
  pii(field('first_name'), 'name'),
  pii(field('last_name'), 'name'),
  pii(field('email'), 'email'),
];

/** A column of the `integrations` table that the pipeline records, from `from`. */
const recorded = (name: string, type: ColumnType, from: string): ColumnDef => ({ name, type, source: { kind: 'integration', from } });

/** Path of the endpoint that checks an integration: the source of the `integrations` table. */
export const INTEGRATION_ENDPOINT = '/integrations/{id}';

/**
 * `integrations`: one version per change of an integration, from the planner's check of it and from
 * Kombo's integration webhooks (`shared/pipeline/integrations.ts`). Its personal column, the email
 * of who connected it, is written without the salt: `hash` mode stores null there.
 */
const INTEGRATIONS: TableDef = {
  name: 'integrations',
  model: 'integrations',
  latest: { record: 'integration' },
  grain: 'one row per integration (a customer\'s connection of their ATS to Kombo)',
  columns: [
    field('id'),
    field('tool', 'string', ['tool', 'id']),
    field('category'),
    field('status'),
    field('setup_status'),
    field('end_user_organization_name', 'string', ['end_user', 'organization_name']),
    { ...pii(field('end_user_email', 'string', ['end_user', 'creator_email']), 'email'), unhashed: true },
    recorded('read_models', 'json', 'the ids of `read_models[]` that are available (`is_available`, not opted out by the customer), as a JSON array'),
    field('created_at', 'timestamp'),
    recorded('deleted_at', 'timestamp', 'the `integration-deleted` webhook (`deleted_at`)'),
    recorded('last_synced_at', 'timestamp', "the `sync-finished` webhook of Kombo's latest successful sync with the ATS (`sync_ended_at`)"),
    recorded('last_event', 'string', 'what stored the version: `check` (the planner\'s `GET /integrations/{id}`) or the webhook\'s type'),
  ],
};

/** The `integrations` table's name, and the folder of its files in the warehouse (the functions that record integrations write there alone). */
export const INTEGRATIONS_TABLE_NAME = INTEGRATIONS.name;
export const INTEGRATIONS_PREFIX = `${INTEGRATIONS.name}/`;

const withMeta = (t: TableDef): TableDef => ({ ...t, columns: [...t.columns, ...META_COLUMNS] });

/** Every table of the warehouse, in a stable order. */
export const TABLES: readonly TableDef[] = (
  [
  {
    name: 'candidates',
    model: 'candidates',
    latest: { record: 'candidate' },
    grain: 'one row per candidate',
    columns: [
      field('id'),
      field('remote_id'),
      pii(field('first_name'), 'name'),
      pii(field('last_name'), 'name'),
      pii(field('company'), 'person'),
      pii(field('title'), 'person'),
      field('confidential', 'boolean'),
      category(field('source')),
      ...location(),
      pii(field('custom_fields', 'json'), 'text'),
      pii(field('integration_fields', 'json'), 'text'),
      pii(field('remote_url'), 'person'),
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
    columns: [parentId('candidate_id'), position, field('tag_id', 'string', ['id']), linked(category(field('name'), 'tags'), 'tags'), linked(field('remote_id'), 'tags')],
  },
  {
    name: 'applications',
    model: 'applications',
    latest: { record: 'application' },
    grain: 'one row per application',
    columns: [
      field('id'),
      field('remote_id'),
      field('outcome'),
      category(field('rejection_reason_name'), 'rejection_reasons'),
      field('rejected_at', 'timestamp'),
      field('candidate_id'),
      field('job_id'),
      linked(field('job_name', 'string', ['job', 'name']), 'jobs'),
      linked(field('job_remote_id', 'string', ['job', 'remote_id']), 'jobs'),
      field('current_stage_id'),
      linked(field('current_stage_name', 'string', ['current_stage', 'name']), 'jobs'),
      linked(field('current_stage_remote_id', 'string', ['current_stage', 'remote_id']), 'jobs'),
      linked(field('current_stage_index', 'int32', ['current_stage', 'index']), 'jobs'),
      pii(field('screening_question_answers', 'json'), 'text'),
      pii(field('custom_fields', 'json'), 'text'),
      pii(field('integration_fields', 'json'), 'text'),
      field('remote_url'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'application_interviews',
    model: 'applications',
    grain:
      'one row per interview of an application (applications[].interviews): the interview summary Kombo ' +
      'gives for every ATS, including those without the interviews endpoint',
    arrayField: 'interviews',
    columns: [
      parentId('application_id'),
      position,
      field('interview_id', 'string', ['id']),
      field('remote_id'),
      pii(field('title'), 'text'),
      field('starting_at', 'timestamp'),
      field('ending_at', 'timestamp'),
      ...location(),
      field('canceled', 'boolean'),
    ],
  },
  {
    name: 'application_offers',
    model: 'applications',
    grain: 'one row per offer of an application (applications[].offers)',
    arrayField: 'offers',
    columns: [parentId('application_id'), position, field('offer_id', 'string', ['id']), field('remote_id'), field('status')],
  },
  {
    name: 'interviews',
    model: 'interviews',
    latest: { record: 'interview' },
    grain: 'one row per interview',
    columns: [
      field('id'),
      field('remote_id'),
      pii(field('title'), 'text'),
      field('starting_at', 'timestamp'),
      field('ending_at', 'timestamp'),
      ...location(),
      pii(field('video_conferencing_url'), 'text'),
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
      // Which users interview is the interview's own data; their names and emails are the users'.
      ...userColumns().map((c) => (c.name === 'user_id' ? c : linked(c, 'users'))),
    ],
  },
  {
    name: 'jobs',
    model: 'jobs',
    latest: { record: 'job' },
    grain: 'one row per job',
    columns: [
      field('id'),
      field('remote_id'),
      field('name'),
      field('job_code'),
      pii(field('description'), 'text'),
      field('confidential', 'boolean'),
      field('weekly_hours', 'double'),
      field('employment_type'),
      field('status'),
      field('visibility'),
      field('category'),
      field('department'),
      field('post_url'),
      field('experience_level'),
      field('remote_work_status'),
      field('salary_amount', 'double'),
      field('salary_amount_from', 'double'),
      field('salary_amount_to', 'double'),
      field('salary_currency'),
      field('salary_period'),
      // Where the job is: an office or a city, the employer's address, not a person's. Kept in every mode.
      ...nested('location', LOCATION_FIELDS),
      pii(field('custom_fields', 'json'), 'text'),
      pii(field('integration_fields', 'json'), 'text'),
      field('remote_url'),
      field('opened_at', 'timestamp'),
      field('closed_at', 'timestamp'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      field('contact_id'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'job_stages',
    model: 'jobs',
    grain: "one row per stage of a job (jobs[].stages): `index` is the stage's place in the job's funnel",
    arrayField: 'stages',
    columns: [parentId('job_id'), position, field('stage_id', 'string', ['id']), field('remote_id'), field('name'), field('index', 'int32')],
  },
  {
    name: 'job_hiring_team',
    model: 'jobs',
    grain: 'one row per member of a job\'s hiring team (jobs[].hiring_team), with their roles on the job',
    arrayField: 'hiring_team',
    columns: [
      parentId('job_id'),
      position,
      ...userColumns(),
      field('hiring_team_roles', 'json'),
      field('job_roles', 'json'),
    ],
  },
  {
    name: 'job_screening_questions',
    model: 'jobs',
    grain: 'one row per screening question of a job (jobs[].screening_questions)',
    arrayField: 'screening_questions',
    columns: [
      parentId('job_id'),
      position,
      field('question_id', 'string', ['id']),
      field('remote_id'),
      field('title'),
      pii(field('description'), 'text'),
      field('format', 'json'),
      field('category'),
      field('index', 'int32'),
      field('required', 'boolean'),
      field('precondition_question_id'),
      field('precondition_options', 'json'),
    ],
  },
  {
    name: 'job_postings',
    model: 'jobs',
    grain: 'one row per posting of a job (jobs[].job_postings)',
    arrayField: 'job_postings',
    columns: [
      parentId('job_id'),
      position,
      field('posting_id', 'string', ['id']),
      field('remote_id'),
      field('title'),
      pii(field('description_html'), 'text'),
      field('status'),
      field('visibility'),
      field('url'),
    ],
  },
  {
    name: 'offers',
    model: 'offers',
    latest: { record: 'offer' },
    grain: 'one row per offer',
    columns: [
      field('id'),
      field('remote_id'),
      field('status'),
      field('employment_start_date', 'timestamp'),
      field('application_id'),
      pii(field('custom_fields', 'json'), 'text'),
      pii(field('integration_fields', 'json'), 'text'),
      field('remote_created_at', 'timestamp'),
      field('remote_updated_at', 'timestamp'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'users',
    model: 'users',
    latest: { record: 'user' },
    grain: 'one row per ATS user (recruiters, hiring managers, interviewers)',
    columns: [
      field('id'),
      pii(field('remote_id'), 'person'),
      pii(field('first_name'), 'name'),
      pii(field('last_name'), 'name'),
      pii(field('email'), 'email'),
      field('status'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'user_system_roles',
    model: 'users',
    grain: 'one row per system role of a user (users[].system_roles)',
    arrayField: 'system_roles',
    columns: [parentId('user_id'), position, field('remote_id'), field('remote_label'), field('scope'), field('unified_type')],
  },
  {
    name: 'rejection_reasons',
    model: 'rejection_reasons',
    grain: 'one row per rejection reason',
    columns: [
      field('id'),
      field('remote_id'),
      field('name'),
      pii(field('remote_data', 'json'), 'raw'),
      field('changed_at', 'timestamp'),
      field('remote_deleted_at', 'timestamp'),
    ],
  },
  {
    name: 'application_stages',
    model: 'application_stages',
    grain: 'one row per application stage of the ATS, across jobs',
    columns: [field('id'), field('remote_id'), field('name'), field('changed_at', 'timestamp'), field('remote_deleted_at', 'timestamp')],
  },
  {
    name: 'tags',
    model: 'tags',
    grain: 'one row per tag of the ATS',
    columns: [field('id'), field('remote_id'), field('name'), field('changed_at', 'timestamp'), field('remote_deleted_at', 'timestamp')],
  },
  INTEGRATIONS,
  ] satisfies TableDef[]
).map(withMeta);

/** Where a column's value sits in a Kombo record: `location.city`, `interviews[].title`; undefined for keys and meta columns. */
export function komboPath(table: TableDef, col: ColumnDef): string | undefined {
  if (col.source.kind !== 'field') return undefined;
  return `${table.arrayField === undefined ? '' : `${table.arrayField}[].`}${col.source.path.join('.')}`;
}

/** A field Kombo documents that no column stores, and why. */
export interface UnstoredField {
  readonly model: ModelName;
  /** As {@link komboPath} writes it; the field and everything inside it. */
  readonly path: string;
  readonly reason: string;
}

/**
 * The fields of the models that no table stores. Together with the columns, they account for
 * every field Kombo documents (`test/unit/fields.test.ts` checks that against Kombo's SDK).
 */
export const UNSTORED_FIELDS: readonly UnstoredField[] = [
  {
    model: 'candidates',
    path: 'applications[]',
    reason: 'a summary of the candidate\'s applications: each is a row of `applications` (same `id`, with `candidate_id`), read in full from `GET /ats/applications`',
  },
  {
    model: 'applications',
    path: 'candidate',
    reason: 'repeats the `candidates` row of `candidate_id`, with its email addresses, phone numbers, social media and tags',
  },
  { model: 'applications', path: 'current_stage.id', reason: 'the same value as `current_stage_id`' },
  { model: 'applications', path: 'job.id', reason: 'the same value as `job_id`' },
  {
    model: 'interviews',
    path: 'application',
    reason: 'repeats the `applications` row of `application_id` (its outcome, rejection reason and job) and the `candidates` row of its candidate',
  },
  {
    model: 'offers',
    path: 'application',
    reason: 'repeats the `applications` row of `application_id` (its job) and the `candidates` row of its candidate, with their email addresses',
  },
];

/**
 * `syncs`: one row per stream (integration × model) that completed on a snapshot date, written by
 * the pipeline itself. The views read it for each integration's first and latest sync of a model:
 * a sync that found nothing changed stores no version, so the data tables cannot tell.
 */
export const SYNCS_TABLE: CatalogTable = {
  name: 'syncs',
  grain: 'one row per integration, model and snapshot date whose sync completed',
  columns: [
    { name: 'model', type: 'string', source: { kind: 'meta' } },
    { name: 'run_id', type: 'string', source: { kind: 'meta' } },
    { name: 'mode', type: 'string', source: { kind: 'meta' } },
    { name: 'updated_after', type: 'timestamp', source: { kind: 'meta' } },
    { name: 'started_at', type: 'timestamp', source: { kind: 'meta' } },
    { name: 'valid_from', type: 'timestamp', source: { kind: 'meta' } },
    { name: 'records', type: 'int32', source: { kind: 'meta' } },
    { name: 'versions', type: 'int32', source: { kind: 'meta' } },
    { name: 'deletions', type: 'int32', source: { kind: 'meta' } },
    { name: 'finished_at', type: 'timestamp', source: { kind: 'meta' } },
  ],
};

/** Every table the catalog holds: the data tables, then `syncs`. */
export const CATALOG_TABLES: readonly CatalogTable[] = [...TABLES, SYNCS_TABLE];

/** Partition columns: in the path only, never inside the files. */
export const PARTITION_COLUMNS = [
  { name: 'snapshot_date', type: 'date' },
  { name: 'integration_id', type: 'string' },
] as const;

/** A table whose rows are a Kombo model's records. */
export type ModelTableDef = TableDef & { readonly model: ModelName };

/** The tables one model's records flatten into. */
export function tablesForModel(model: ModelName): readonly ModelTableDef[] {
  return TABLES.filter((t): t is ModelTableDef => t.model === model);
}

/**
 * Whether a child table copies ATS users (`interview_users`, `job_hiring_team`): its `user_id` is
 * the user's own id, not its parent's, so erasing a user reaches these rows too.
 */
export function copiesUsers(table: TableDef): boolean {
  return table.arrayField !== undefined && table.columns.some((c) => c.name === 'user_id' && c.source.kind === 'field');
}

/** The endpoint a table's rows come from. */
export const endpointOf = (table: TableDef): string => (table.model === 'integrations' ? INTEGRATION_ENDPOINT : KOMBO_MODELS[table.model].endpoint);

/** Look a table up by name. */
export function tableByName(name: string): TableDef | undefined {
  return TABLES.find((t) => t.name === name);
}

/** Type guard for model names coming from config or messages. */
export function isModelName(value: string): value is ModelName {
  return (MODELS as readonly string[]).includes(value);
}
