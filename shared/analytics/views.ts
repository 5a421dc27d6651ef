/**
 * The analytics views, written once in SQL that both Athena (Trino, engine version 3) and DuckDB
 * accept. DuckDB creates them over a local warehouse (`openWarehouse`), the CDK stack registers
 * them in Glue (`shared/adapters/aws/glue-views.ts`), and `docs/ANALYTICS.md` documents them from these definitions.
 *
 * Dialect rules (checked by `test/analytics/portability.test.ts`, listed in `docs/ANALYTICS.md`):
 * standard `CAST(x AS T)` only; no DuckDB shorthands (`::`, `QUALIFY`, `GROUP BY ALL`, `FILTER`,
 * `ILIKE`, `strftime`, `epoch_ms`, `list_`/`struct_` functions); no `max_by`/`min_by` (DuckDB skips
 * NULL values, Trino returns them); `date_diff` only with a quoted unit, and on DATE values or
 * millisecond-precise timestamps (DuckDB counts boundaries, Trino whole units); every division has
 * a `CAST(… AS DOUBLE)` numerator (Trino divides integers as integers); single quotes for strings,
 * double quotes for identifiers only; `trim` only with its characters given (`trim(x, chars)`: the
 * one-argument forms strip different whitespace); every output column of the aggregate views is CAST to its
 * declared type, so the types Glue records are the types Trino infers.
 */
import type { ColumnType, ModelName, TableDef } from '../tables.ts';
import { PARTITION_COLUMNS, TABLES } from '../tables.ts';

/** Column types of the views, as Athena (Trino) names them. */
export type ViewColumnType = 'varchar' | 'bigint' | 'integer' | 'double' | 'date' | 'timestamp' | 'boolean';

export interface ViewColumn {
  readonly name: string;
  readonly type: ViewColumnType;
  readonly description: string;
}

export interface ViewDef {
  readonly name: string;
  /** What one row is. */
  readonly grain: string;
  /** A paragraph for the docs: how the view is built and what to know before using it. */
  readonly notes: string;
  readonly columns: readonly ViewColumn[];
  /** The SELECT statement, without `CREATE VIEW`; references tables and earlier views unqualified. */
  readonly sql: string;
}

/** Hive type of each view column type, for the Glue storage descriptor. */
export const HIVE_VIEW_TYPES: Record<ViewColumnType, string> = {
  varchar: 'string',
  bigint: 'bigint',
  integer: 'int',
  double: 'double',
  date: 'date',
  timestamp: 'timestamp',
  boolean: 'boolean',
};

/** DuckDB's name for each view column type (what `DESCRIBE` reports). */
export const DUCKDB_VIEW_TYPES: Record<ViewColumnType, string> = {
  varchar: 'VARCHAR',
  bigint: 'BIGINT',
  integer: 'INTEGER',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP WITH TIME ZONE',
  boolean: 'BOOLEAN',
};

const TABLE_TYPES: Record<ColumnType | 'date', ViewColumnType> = {
  string: 'varchar',
  json: 'varchar',
  timestamp: 'timestamp',
  boolean: 'boolean',
  int32: 'integer',
  double: 'double',
  date: 'date',
};

const col = (name: string, type: ViewColumnType, description: string): ViewColumn => ({ name, type, description });

function tableDef(name: string): TableDef {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

/** The meta columns every history view adds after the partition columns, in this order. */
export const HISTORY_COLUMNS: readonly ViewColumn[] = [
  col('_valid_from', 'timestamp', 'when the version became valid: `_synced_at`, the start of the sync that stored it'),
  col('_valid_to', 'timestamp', "`_valid_from` of the record's next version; null while current"),
  col('_is_current', 'boolean', 'no later version of the record is stored'),
  col('_is_deleted', 'boolean', 'the version records a deletion (deleted in the ATS, or no longer returned)'),
];

/**
 * Whether a row of a data table records a deletion: `_is_deleted` as stored, or for a file written
 * before that column existed (read as null), `remote_deleted_at` being set. Never null.
 */
const deletedFlag = (alias: string, table: TableDef): string =>
  table.columns.some((c) => c.name === 'remote_deleted_at')
    ? `coalesce(${alias}."_is_deleted", ${alias}.remote_deleted_at IS NOT NULL)`
    : `coalesce(${alias}."_is_deleted", false)`;

/**
 * The order of a record's versions (of the table aliased `alias`): by snapshot date, then by
 * `_synced_at`, the start of the sync that stored each, since a date may hold the versions of several
 * syncs. `DESC` for the latest first.
 */
const versionOrder = (alias: string, dir: '' | ' DESC' = ''): string => `${alias}.snapshot_date${dir}, ${alias}."_synced_at"${dir}`;

/**
 * Child rows to the parent version they were stored with: `_synced_at` is the parent version's, and
 * null on both sides in files written before a date could hold several versions (null-safe).
 */
const sameVersion = (child: string, parent: string): string => `${child}."_synced_at" IS NOT DISTINCT FROM ${parent}`;

/**
 * First and latest snapshot date whose sync of `model` completed, per integration (a CTE body), and
 * `latest_at`, the start of the latest one (`valid_from`: on the source's clock, as `_synced_at`).
 * From `syncs`, never from the data table: a sync that found nothing changed stores no version.
 */
const syncDates = (model: ModelName): string =>
  `SELECT integration_id, min(snapshot_date) AS first_date, max(snapshot_date) AS latest_date, max(valid_from) AS latest_at
  FROM syncs
  WHERE model = '${model}'
  GROUP BY integration_id`;

/** The column of a child table holding its parent record's id. */
function parentKey(def: TableDef): string {
  const key = def.columns.find((c) => c.source.kind === 'parent-id');
  if (!key) throw new Error(`child table ${def.name} has no parent-id column`);
  return key.name;
}

/** The root table of a child table's model: the records its rows belong to. */
function parentTable(def: TableDef): TableDef {
  const parent = TABLES.find((t) => t.model === def.model && t.arrayField === undefined);
  if (!parent) throw new Error(`no parent table for ${def.name}`);
  return parent;
}

/**
 * `<table>_history`: every stored version of every record, with its validity. A version is valid from
 * `_synced_at` until the next version of the same record (integration and `id`, ordered by snapshot
 * date, then `_synced_at`: a date holds one version per sync that found the record changed). Child
 * rows are stored with every version of their parent and take that version's validity.
 */
function historyView(def: TableDef): ViewDef {
  const own = def.columns.filter((c) => c.name !== '_is_deleted');
  const columns: ViewColumn[] = [
    ...own.map((c) => col(c.name, TABLE_TYPES[c.type], `as in \`${def.name}\``)),
    ...PARTITION_COLUMNS.map((p) => col(p.name, TABLE_TYPES[p.type], p.name === 'snapshot_date' ? 'date of the sync that stored the version' : 'Kombo integration id')),
    ...HISTORY_COLUMNS,
  ];
  const select = [...own, ...PARTITION_COLUMNS].map((c) => `t."${c.name}"`).join(', ');
  if (def.arrayField !== undefined) {
    const parent = parentTable(def);
    return {
      name: `${def.name}_history`,
      grain: `one row per ${def.grain.replace(/^one row per /, '')}, per stored version of its \`${parent.name}\` record`,
      notes:
        `Child rows are stored with every version of their parent record, so \`_valid_from\`, \`_valid_to\`, \`_is_current\` ` +
        `and \`_is_deleted\` are those of the \`${parent.name}_history\` version they belong to (same integration, snapshot date, ` +
        `\`${parentKey(def)}\` and \`_synced_at\`).`,
      columns,
      sql: `SELECT ${select},
  p."_valid_from", p."_valid_to", p."_is_current", p."_is_deleted"
FROM ${def.name} t
JOIN ${parent.name}_history p ON p.integration_id = t.integration_id AND p.snapshot_date = t.snapshot_date AND p.id = t.${parentKey(def)}
  AND ${sameVersion('t', 'p."_valid_from"')}`,
    };
  }
  const next = `OVER (PARTITION BY t.integration_id, t.id ORDER BY ${versionOrder('t')})`;
  return {
    name: `${def.name}_history`,
    grain: `one row per stored version of ${def.grain.replace(/^one row per /, 'each ')}`,
    notes:
      'A version is stored when a sync finds the record changed (or deleted); a record unchanged since its last ' +
      'version adds no row. Several syncs of one day store a version each, so a date may hold several versions of a ' +
      'record: versions are ordered by `snapshot_date`, then `_valid_from`. A version is valid from `_valid_from` until `_valid_to`, the next version\'s ' +
      '`_valid_from`. The state as of a moment T is `WHERE _valid_from <= T AND (_valid_to IS NULL OR _valid_to > T) ' +
      'AND NOT _is_deleted`. `_is_deleted` is the stored flag (`remote_deleted_at` being set, for files written before the flag).',
    columns,
    sql: `SELECT ${select},
  t."_synced_at" AS "_valid_from",
  lead(t."_synced_at") ${next} AS "_valid_to",
  CAST(lead(t.snapshot_date) ${next} IS NULL AS BOOLEAN) AS "_is_current",
  CAST(${deletedFlag('t', def)} AS BOOLEAN) AS "_is_deleted"
FROM ${def.name} t`,
  };
}

/** `<table>_latest`: the current version of every record of every integration, deleted ones left out. */
function latestView(def: TableDef & Required<Pick<TableDef, 'latest'>>): ViewDef {
  const table = def.name;
  const what = def.latest.record;
  const columns: ViewColumn[] = [
    ...def.columns.map((c) => col(c.name, TABLE_TYPES[c.type], `as in \`${table}\``)),
    ...PARTITION_COLUMNS.map((p) => col(p.name, TABLE_TYPES[p.type], p.name === 'snapshot_date' ? 'date of the sync that stored this version (the last one that found the record changed)' : 'Kombo integration id')),
  ];
  const select = columns.map((c) => `t."${c.name}"`).join(', ');
  return {
    name: `${table}_latest`,
    grain: `one row per ${what}: its current version in \`${table}_history\`, deleted ones left out`,
    notes:
      `The current version is the latest one stored (by \`snapshot_date\`, then \`_synced_at\`), whichever sync stored it: \`snapshot_date\` is the date of that ` +
      'sync, not of the latest sync (a record unchanged for weeks keeps an old date). A record whose current version ' +
      'records a deletion (deleted in the ATS, or no longer returned by a full sync) is left out. An integration whose ' +
      'last sync failed shows what its last completed syncs stored.',
    columns,
    sql: `SELECT ${select}
FROM ${table}_history t
WHERE t."_is_current" AND NOT t."_is_deleted"`,
  };
}

/**
 * Code points stripped from both ends of a free-text value before grouping on it: the whitespace and
 * line terminators of ECMAScript (what `String.prototype.trim` strips), so the views, the report and
 * any JavaScript reading the values agree. Tab, line feed, vertical tab, form feed, carriage return,
 * space, U+00A0 (no-break space), U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 and
 * U+FEFF (byte-order mark).
 */
export const TRIM_CODE_POINTS: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680,
  ...Array.from({ length: 0x200a - 0x2000 + 1 }, (_, k) => 0x2000 + k),
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];

/**
 * `trim(x, <characters>)` with the set given explicitly. One-argument `trim` differs between the
 * engines: Trino strips Java whitespace (tab and newline, not U+00A0), DuckDB spaces and U+00A0 (not
 * tab or newline), so the same value would group differently. `chr(n)` is the code point in both.
 */
const trimmed = (expr: string): string => `trim(${expr}, ${TRIM_CODE_POINTS.map((c) => `chr(${c})`).join(' || ')})`;

const APPLICATIONS = tableDef('applications');

/**
 * The organization each integration serves (a CTE body, one row per integration with a row in
 * `integrations`): `end_user_organization_name` of the integration's latest version there (by snapshot
 * date, then `_synced_at`), deleted or not, so a deleted integration's data keeps its name. Views
 * LEFT JOIN it: an integration the table has no row for gets a null name.
 */
const ORGANIZATIONS = `SELECT o.integration_id, o.organization_name
  FROM (
    SELECT i.integration_id, i.end_user_organization_name AS organization_name,
      row_number() OVER (PARTITION BY i.integration_id ORDER BY ${versionOrder('i', ' DESC')}) AS rn
    FROM integrations i
  ) o
  WHERE o.rn = 1`;

/** The `organization_name` column of the views that have one. */
const ORGANIZATION_COLUMN: ViewColumn = col(
  'organization_name',
  'varchar',
  "the end user's organization of the integration: `end_user_organization_name` of its latest version in `integrations`; null when that table has no row for it",
);

/**
 * The name of every job: its latest stored version's, deleted or not (a query). Jobs are listed in
 * full every sync, so this is the name Kombo gives today; the copies a record keeps of a job
 * (`applications.job_name`) may lag (Kombo's `updated_after` does not return an application for a
 * renamed job) and are only read for a job `jobs` does not hold.
 */
const JOB_NAMES = `SELECT jh.integration_id, jh.id AS job_id, jh.name AS job_name, jh.snapshot_date, jh."_valid_from" AS synced_at
  FROM jobs_history jh
  WHERE jh."_is_current"`;

/**
 * The stages each job lists in its latest stored version, deleted or not, in the job's order:
 * `index`, or the stage's place in the list when the ATS gives none (a CTE body; reads the CTE
 * `job_names`). The views name and order stages from here, not from an application's copy.
 */
const JOB_STAGE_NAMES = `SELECT s.integration_id, s.job_id, s.stage_id, min(s.name) AS stage_name, min(coalesce(s."index", s."position")) AS stage_index
  FROM job_stages s
  JOIN job_names j ON j.integration_id = s.integration_id AND j.job_id = s.job_id AND j.snapshot_date = s.snapshot_date AND ${sameVersion('s', 'j.synced_at')}
  WHERE s.stage_id IS NOT NULL
  GROUP BY s.integration_id, s.job_id, s.stage_id`;

/**
 * Every version of every application, in order, with what the next version shows, and its island:
 * consecutive versions in the same state and stage share one (CTE bodies `job_names`,
 * `job_stage_names`, `obs` and `steps`, read from `applications` once). A stretch in a stage is an
 * island of `OPEN` versions with a stage; its last version holds what ended it (`next_…`, null
 * while current). Job and stage names, and stage order, are the job's own ({@link JOB_NAMES},
 * {@link JOB_STAGE_NAMES}); for a job or stage the job does not hold, the copy the application's
 * latest version gave, one name per job and per stage.
 */
const APPLICATION_STEPS = `job_names AS (
  ${JOB_NAMES}
),
job_stage_names AS (
  ${JOB_STAGE_NAMES}
),
obs AS (
  SELECT a.integration_id, a.id AS application_id, a.job_id,
    coalesce(jn.job_name, first_value(a.job_name) OVER (PARTITION BY a.integration_id, a.job_id ORDER BY ${versionOrder('a', ' DESC')}, a.job_name)) AS job_name,
    a.current_stage_id AS stage_id,
    coalesce(js.stage_name, first_value(a.current_stage_name) OVER (PARTITION BY a.integration_id, a.job_id, a.current_stage_id ORDER BY ${versionOrder('a', ' DESC')}, a.current_stage_name)) AS stage_name,
    CASE WHEN js.stage_id IS NOT NULL THEN js.stage_index ELSE a.current_stage_index END AS stage_index,
    a.outcome, a.snapshot_date, a."_synced_at" AS valid_from,
    row_number() OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS version_no,
    CASE WHEN ${deletedFlag('a', APPLICATIONS)} THEN 'DELETED'
      WHEN a.outcome IS NULL OR a.outcome = 'PENDING' THEN 'OPEN'
      ELSE 'CLOSED' END AS state
  FROM applications a
  LEFT JOIN job_names jn ON jn.integration_id = a.integration_id AND jn.job_id = a.job_id
  LEFT JOIN job_stage_names js ON js.integration_id = a.integration_id AND js.job_id = a.job_id AND js.stage_id = a.current_stage_id
),
steps AS (
  SELECT integration_id, application_id, job_id, job_name, stage_id, stage_name, stage_index, outcome, snapshot_date, valid_from, version_no, state,
    lead(snapshot_date) OVER (PARTITION BY integration_id, application_id ORDER BY version_no) AS next_date,
    lead(valid_from) OVER (PARTITION BY integration_id, application_id ORDER BY version_no) AS next_valid_from,
    lead(state) OVER (PARTITION BY integration_id, application_id ORDER BY version_no) AS next_state,
    lead(stage_index) OVER (PARTITION BY integration_id, application_id ORDER BY version_no) AS next_stage_index,
    lead(outcome) OVER (PARTITION BY integration_id, application_id ORDER BY version_no) AS next_outcome,
    version_no - row_number() OVER (PARTITION BY integration_id, application_id, state, stage_id ORDER BY version_no) AS island
  FROM obs
)`;

/** What ended a stretch, from its last version (`e`) in `steps`: null while current. */
const OUTCOME_AFTER = `CASE
    WHEN e.next_date IS NULL THEN NULL
    WHEN e.next_state = 'DELETED' THEN 'DELETED'
    WHEN e.next_state = 'CLOSED' THEN e.next_outcome
    WHEN e.next_stage_index > e.stage_index THEN 'ADVANCED'
    WHEN e.next_stage_index < e.stage_index THEN 'MOVED_BACK'
    ELSE 'MOVED'
  END`;

/**
 * Athena (Trino) plans a CTE or a view again at every reference and bills the bytes of each scan, so
 * this view reads `applications` once: the last version of each island carries the stretch, its
 * start taken with a window over the island rather than by joining the islands back to `steps`.
 */
const APPLICATION_STAGE_HISTORY: ViewDef = {
  name: 'application_stage_history',
  grain: 'one row per application per stretch it spent, open, in one stage',
  notes:
    "Built from each application's consecutive versions in `applications` (ordered by snapshot date, then `_synced_at`) with " +
    'gaps-and-islands. A version is stored only when a sync finds the application changed, so a night without a ' +
    'sync, or without a change, splits nothing: a change shows on the next sync. With several syncs a day, a stage ' +
    'entered and left between two nightly syncs shows when a sync in between saw it; `hours_in_stage` measures such ' +
    'a stretch, `days_in_stage` counts calendar days (0 within a day). A stretch is a run of consecutive ' +
    'versions with outcome `PENDING` (or no outcome) in the same stage; it ends at the next version showing anything ' +
    'else: another stage, a final outcome, or a deletion (deleted in the ATS, or no longer returned). A stretch still ' +
    "open counts its days up to the integration's latest completed `applications` sync (`syncs`). A stretch already " +
    "under way in the integration's first `applications` sync starts on that date: earlier entries are unknown. " +
    'Closed applications (hired, declined) spend no time in a stage: a hire ends the stretch before it with ' +
    "`outcome_after = 'HIRED'`.",
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('application_id', 'varchar', 'the application'),
    col('job_id', 'varchar', 'its job'),
    col('job_name', 'varchar', "job name: the job's latest version in `jobs` (the application's latest copy for a job `jobs` does not hold)"),
    col('stage_id', 'varchar', 'the stage'),
    col('stage_name', 'varchar', "stage name, as the job's latest version lists it (the application's latest copy for a stage the job does not list)"),
    col('stage_index', 'integer', "position of the stage in the job, from 0, as the job's latest version lists it (the application's own for a stage the job does not list)"),
    col('entered_on', 'date', 'snapshot date of the first version showing the application in the stage'),
    col('entered_at', 'timestamp', "that version's `_valid_from`: the start of the sync that saw it"),
    col('left_on', 'date', 'snapshot date of the next version, showing it elsewhere, closed or deleted; null while current'),
    col('left_at', 'timestamp', "that version's `_valid_from`; null while current"),
    col('days_in_stage', 'bigint', "`left_on` − `entered_on`, or the integration's latest `applications` sync − `entered_on` while current"),
    col('hours_in_stage', 'bigint', "whole hours from `entered_at` to `left_at`, or while current to the start of the integration's latest `applications` sync"),
    col('is_current', 'boolean', 'the application is still in this stage, open: no later version'),
    col(
      'outcome_after',
      'varchar',
      "what ended the stretch: `ADVANCED` (a later stage), `MOVED_BACK` (an earlier one), `MOVED` (a stage of unknown order), the final outcome (`HIRED`, `DECLINED`, any other value the ATS sends), `DELETED` (deleted or no longer returned); null while current",
    ),
  ],
  sql: `WITH sync_dates AS (
  ${syncDates('applications')}
),
organizations AS (
  ${ORGANIZATIONS}
),
${APPLICATION_STEPS},
ends AS (
  SELECT integration_id, application_id, job_id, job_name, stage_id, stage_name, stage_index, version_no,
    next_date, next_valid_from, next_state, next_stage_index, next_outcome,
    min(snapshot_date) OVER (PARTITION BY integration_id, application_id, stage_id, island) AS entered_on,
    min(valid_from) OVER (PARTITION BY integration_id, application_id, stage_id, island) AS entered_at,
    max(version_no) OVER (PARTITION BY integration_id, application_id, stage_id, island) AS last_version_no
  FROM steps
  WHERE state = 'OPEN' AND stage_id IS NOT NULL
)
SELECT
  CAST(e.integration_id AS VARCHAR) AS integration_id,
  CAST(o.organization_name AS VARCHAR) AS organization_name,
  CAST(e.application_id AS VARCHAR) AS application_id,
  CAST(e.job_id AS VARCHAR) AS job_id,
  CAST(e.job_name AS VARCHAR) AS job_name,
  CAST(e.stage_id AS VARCHAR) AS stage_id,
  CAST(e.stage_name AS VARCHAR) AS stage_name,
  CAST(e.stage_index AS INTEGER) AS stage_index,
  CAST(e.entered_on AS DATE) AS entered_on,
  e.entered_at AS entered_at,
  CAST(e.next_date AS DATE) AS left_on,
  e.next_valid_from AS left_at,
  CAST(date_diff('day', e.entered_on, coalesce(e.next_date, s.latest_date)) AS BIGINT) AS days_in_stage,
  CAST(floor(CAST(date_diff('millisecond', e.entered_at, coalesce(e.next_valid_from, s.latest_at)) AS DOUBLE) / 3600000) AS BIGINT) AS hours_in_stage,
  CAST(e.next_date IS NULL AS BOOLEAN) AS is_current,
  CAST(${OUTCOME_AFTER} AS VARCHAR) AS outcome_after
FROM ends e
LEFT JOIN sync_dates s ON s.integration_id = e.integration_id
LEFT JOIN organizations o ON o.integration_id = e.integration_id
WHERE e.version_no = e.last_version_no`,
};

/**
 * The current version of every job not deleted (`jobs_latest`), with the job's status, department
 * and location (a CTE body). `snapshot_date` is the version's, where its `job_stages` rows are. The location is city and country, short enough for a
 * report line, or the ATS's own text (`location_raw`) when it gives neither.
 */
const JOB_LIST = `SELECT j.integration_id, j.id AS job_id, j.name AS job_name, j.status AS job_status, j.department,
    coalesce(nullif(concat_ws(', ', j.location_city, j.location_country), ''), nullif(${trimmed('j.location_raw')}, '')) AS location,
    j.opened_at, j.closed_at, j.snapshot_date, j."_synced_at" AS synced_at
  FROM jobs_latest j`;

/**
 * The stages each job of `job_list` lists in its current version, in the job's order: `index`, or the
 * stage's place in the list when the ATS gives no index (a CTE body; reads the CTE `job_list`).
 */
const LISTED_STAGES = `SELECT s.integration_id, s.job_id, s.stage_id, min(s.name) AS stage_name, min(coalesce(s."index", s."position")) AS stage_index
  FROM job_stages s
  JOIN job_list j ON j.integration_id = s.integration_id AND j.job_id = s.job_id AND j.snapshot_date = s.snapshot_date AND ${sameVersion('s', 'j.synced_at')}
  WHERE s.stage_id IS NOT NULL
  GROUP BY s.integration_id, s.job_id, s.stage_id`;

/** Each application's job, from its current version, deleted or not, named as {@link JOB_NAMES} (a CTE body). */
const APPLICATION_JOBS = `SELECT a.integration_id, a.id AS application_id, a.job_id,
    coalesce(jn.job_name, first_value(a.job_name) OVER (PARTITION BY a.integration_id, a.job_id ORDER BY ${versionOrder('a', ' DESC')}, a.job_name)) AS job_name
  FROM applications_history a
  LEFT JOIN (${JOB_NAMES}) jn ON jn.integration_id = a.integration_id AND jn.job_id = a.job_id
  WHERE a."_is_current"`;

/**
 * One pass over `applications` (Trino inlines every reference to a CTE or a view, and Athena bills
 * each scan): every version row gets, by windows, its application's current state, job and outcome,
 * its stretch and the latest name and index of its stage and job; the listed stages are added as rows
 * of their own, and one GROUP BY per stage counts from there. An application reaches every stage up to
 * the furthest it was seen in, so it is counted once, at that stage (`furthest`), and `reached` sums
 * those counts from the last stage back (the stages with the same index together).
 */
const HIRING_FUNNEL: ViewDef = {
  name: 'hiring_funnel',
  grain: 'one row per integration, job and stage (order rows by `stage_index`)',
  notes:
    "The stages are the ones each job lists in its current version (`jobs_latest` and its `job_stages`), in the job's " +
    'order, including stages nobody has reached yet (`reached` 0), and every job there appears, with or without ' +
    'applications. Stages seen on applications but missing from the job\'s list (or of a job `jobs_latest` does not ' +
    'hold, or of an integration whose jobs are not synced) appear too, with `listed_in_job` false, ' +
    'their latest name and the index applications last gave them. Such a stage that no application gave an index ' +
    'has no known place in the job: it is placed after every other stage of the job (`stage_index` one past the ' +
    "job's highest, then in `stage_id` order), counts as `reached` the applications seen in it only, and has no " +
    '`conversion_to_next` (nor is it the next stage of any other). ' +
    'An application **reached** a stage when any of its versions showed it in that stage or a later one of the same ' +
    'job, later by the stage order of this view (the job\'s own index of each stage, whatever index the application ' +
    'carries): an application that jumps over a stage still counts as having passed it, so the funnel never widens. ' +
    'Applications whose current version is a deletion are left out. The median counts stretches ' +
    "with both ends observed: entered after the integration's first `applications` sync and left again (not by deletion).",
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('job_id', 'varchar', 'the job'),
    col('job_name', 'varchar', 'latest job name'),
    col('job_status', 'varchar', "the job's status in its current version (`OPEN`, `CLOSED`, `DRAFT`, `ARCHIVED`); null when `jobs_latest` does not hold the job"),
    col('department', 'varchar', "the job's department"),
    col('location', 'varchar', "the job's city and country (the ATS's location text when it gives neither)"),
    col('stage_id', 'varchar', 'the stage'),
    col('stage_name', 'varchar', 'latest stage name'),
    col('stage_index', 'integer', "position of the stage in the job: the job's `index` of the stage (its place in the list when the ATS gives none), or for a stage the job does not list the index applications last gave it; a stage of unknown place (no index anywhere) comes after every other stage of the job"),
    col('listed_in_job', 'boolean', "the job's current version lists the stage; false for a stage seen only on applications"),
    col('reached', 'bigint', 'applications that ever reached the stage (or a later one); for a stage of unknown place, the applications seen in it'),
    col('currently_in', 'bigint', 'applications open in the stage in their current version'),
    col('conversion_to_next', 'double', '`reached` of the next stage ÷ `reached` of this one; null for the last stage, for a stage nobody reached and for a stage of unknown place'),
    col('hired', 'bigint', 'applications among `reached` whose latest outcome is `HIRED`'),
    col('median_days_in_stage', 'double', 'median `days_in_stage` of completed stretches in the stage; null when none'),
  ],
  sql: `WITH sync_dates AS (
  ${syncDates('applications')}
),
job_list AS (
  ${JOB_LIST}
),
listed AS (
  ${LISTED_STAGES}
),
organizations AS (
  ${ORGANIZATIONS}
),
${APPLICATION_STEPS},
versions AS (
  SELECT t.integration_id, t.application_id, t.job_id, t.job_name, t.stage_id, t.stage_name, t.stage_index, t.snapshot_date,
    t.valid_from, t.version_no, t.state, t.next_date, t.next_state, t.next_stage_index, t.next_outcome, f.first_date,
    max(CASE WHEN t.next_date IS NULL THEN t.state END) OVER (PARTITION BY t.integration_id, t.application_id) AS current_state,
    max(CASE WHEN t.next_date IS NULL THEN t.job_id END) OVER (PARTITION BY t.integration_id, t.application_id) AS current_job_id,
    max(CASE WHEN t.next_date IS NULL THEN t.outcome END) OVER (PARTITION BY t.integration_id, t.application_id) AS current_outcome,
    min(t.snapshot_date) OVER (PARTITION BY t.integration_id, t.application_id, t.state, t.stage_id, t.island) AS entered_on,
    max(t.version_no) OVER (PARTITION BY t.integration_id, t.application_id, t.state, t.stage_id, t.island) AS last_version_no,
    max(t.snapshot_date) OVER (PARTITION BY t.integration_id, t.job_id, t.stage_id) AS stage_seen_on,
    first_value(t.stage_index) OVER (PARTITION BY t.integration_id, t.job_id, t.stage_id
      ORDER BY CASE WHEN t.stage_index IS NULL THEN 1 ELSE 0 END, t.snapshot_date DESC, t.valid_from DESC, t.stage_index) AS latest_index,
    max(t.snapshot_date) OVER (PARTITION BY t.integration_id, t.job_id) AS job_seen_on
  FROM steps t
  LEFT JOIN sync_dates f ON f.integration_id = t.integration_id
),
seen AS (
  SELECT e.integration_id, e.job_id, e.stage_id, e.application_id, e.current_outcome AS outcome,
    min(CASE WHEN e.snapshot_date = e.stage_seen_on THEN e.stage_name END) OVER (PARTITION BY e.integration_id, e.job_id, e.stage_id) AS seen_name,
    e.latest_index AS seen_index,
    min(CASE WHEN e.snapshot_date = e.job_seen_on THEN e.job_name END) OVER (PARTITION BY e.integration_id, e.job_id) AS job_name,
    CASE WHEN e.current_state <> 'DELETED' AND e.state <> 'DELETED' AND e.job_id = e.current_job_id THEN 1 ELSE 0 END AS counted,
    CASE WHEN e.state = 'OPEN' AND e.version_no = e.last_version_no AND e.next_date IS NULL THEN 1 ELSE 0 END AS open_now,
    CASE WHEN e.state = 'OPEN' AND e.version_no = e.last_version_no AND e.next_date IS NOT NULL AND e.entered_on > e.first_date
      AND ${OUTCOME_AFTER} <> 'DELETED' AND e.current_state <> 'DELETED' THEN 1 ELSE 0 END AS completed,
    date_diff('day', e.entered_on, e.next_date) AS days
  FROM versions e
  WHERE e.job_id IS NOT NULL
),
stage_rows AS (
  SELECT integration_id, job_id, stage_id, 1 AS in_list, stage_name AS listed_name, stage_index AS listed_index,
    CAST(NULL AS VARCHAR) AS seen_name, CAST(NULL AS INTEGER) AS seen_index, CAST(NULL AS VARCHAR) AS job_name,
    CAST(NULL AS VARCHAR) AS application_id, CAST(NULL AS VARCHAR) AS outcome, 0 AS counted, 0 AS open_now, 0 AS completed, CAST(NULL AS BIGINT) AS days
  FROM listed
  UNION ALL
  SELECT integration_id, job_id, stage_id, 0, NULL, NULL, seen_name, seen_index, job_name, application_id, outcome, counted, open_now, completed, days
  FROM seen
),
known AS (
  SELECT integration_id, job_id, stage_id, application_id, outcome, counted, open_now, completed, days,
    max(in_list) OVER (PARTITION BY integration_id, job_id, stage_id) AS listed_in_job,
    CASE WHEN max(in_list) OVER (PARTITION BY integration_id, job_id, stage_id) = 1
      THEN max(listed_name) OVER (PARTITION BY integration_id, job_id, stage_id)
      ELSE max(seen_name) OVER (PARTITION BY integration_id, job_id, stage_id) END AS stage_name,
    CASE WHEN max(in_list) OVER (PARTITION BY integration_id, job_id, stage_id) = 1
      THEN max(listed_index) OVER (PARTITION BY integration_id, job_id, stage_id)
      ELSE max(seen_index) OVER (PARTITION BY integration_id, job_id, stage_id) END AS known_index,
    max(job_name) OVER (PARTITION BY integration_id, job_id) AS job_name
  FROM stage_rows
),
placed AS (
  SELECT integration_id, job_id, stage_id, application_id, outcome, counted, open_now, completed, days, listed_in_job, stage_name, known_index, job_name,
    coalesce(known_index,
      coalesce(max(known_index) OVER (PARTITION BY integration_id, job_id), -1)
        + dense_rank() OVER (PARTITION BY integration_id, job_id, known_index ORDER BY stage_id)) AS stage_index
  FROM known
  WHERE stage_id IS NOT NULL
),
ranked AS (
  SELECT integration_id, job_id, stage_id, application_id, outcome, counted, open_now, completed, days, listed_in_job, stage_name, known_index, job_name, stage_index,
    CASE WHEN counted = 1 AND known_index IS NOT NULL
      AND row_number() OVER (PARTITION BY integration_id, application_id, counted, known_index IS NULL ORDER BY stage_index DESC) = 1
      THEN 1 ELSE 0 END AS furthest,
    row_number() OVER (PARTITION BY integration_id, job_id, stage_id, completed ORDER BY days) AS rn,
    count(*) OVER (PARTITION BY integration_id, job_id, stage_id, completed) AS n
  FROM placed
),
stages AS (
  SELECT integration_id, job_id, stage_id, max(stage_name) AS stage_name, max(stage_index) AS stage_index,
    max(listed_in_job) = 1 AS listed_in_job, max(known_index) IS NOT NULL AS has_index, max(job_name) AS job_name,
    sum(furthest) AS furthest,
    sum(CASE WHEN furthest = 1 AND outcome = 'HIRED' THEN 1 ELSE 0 END) AS furthest_hired,
    count(DISTINCT CASE WHEN counted = 1 THEN application_id END) AS seen_in,
    count(DISTINCT CASE WHEN counted = 1 AND outcome = 'HIRED' THEN application_id END) AS seen_in_hired,
    sum(open_now) AS currently_in,
    avg(CASE WHEN completed = 1 AND 2 * rn BETWEEN n AND n + 2 THEN CAST(days AS DOUBLE) END) AS median_days
  FROM ranked
  GROUP BY integration_id, job_id, stage_id
),
reached AS (
  SELECT integration_id, job_id, stage_id, stage_name, stage_index, listed_in_job, has_index, job_name, currently_in, median_days,
    CASE WHEN has_index
      THEN sum(furthest) OVER (PARTITION BY integration_id, job_id, has_index ORDER BY stage_index DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      ELSE seen_in END AS reached,
    CASE WHEN has_index
      THEN sum(furthest_hired) OVER (PARTITION BY integration_id, job_id, has_index ORDER BY stage_index DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
      ELSE seen_in_hired END AS hired
  FROM stages
)
SELECT
  CAST(s.integration_id AS VARCHAR) AS integration_id,
  CAST(o.organization_name AS VARCHAR) AS organization_name,
  CAST(s.job_id AS VARCHAR) AS job_id,
  CAST(coalesce(jl.job_name, s.job_name) AS VARCHAR) AS job_name,
  CAST(jl.job_status AS VARCHAR) AS job_status,
  CAST(jl.department AS VARCHAR) AS department,
  CAST(jl.location AS VARCHAR) AS location,
  CAST(s.stage_id AS VARCHAR) AS stage_id,
  CAST(s.stage_name AS VARCHAR) AS stage_name,
  CAST(s.stage_index AS INTEGER) AS stage_index,
  CAST(s.listed_in_job AS BOOLEAN) AS listed_in_job,
  CAST(s.reached AS BIGINT) AS reached,
  CAST(s.currently_in AS BIGINT) AS currently_in,
  CAST(CASE WHEN s.reached > 0 AND s.has_index
    THEN CAST(lead(s.reached) OVER (PARTITION BY s.integration_id, s.job_id, s.has_index ORDER BY s.stage_index, s.stage_id) AS DOUBLE) / s.reached
  END AS DOUBLE) AS conversion_to_next,
  CAST(s.hired AS BIGINT) AS hired,
  CAST(s.median_days AS DOUBLE) AS median_days_in_stage
FROM reached s
LEFT JOIN job_list jl ON jl.integration_id = s.integration_id AND jl.job_id = s.job_id
LEFT JOIN organizations o ON o.integration_id = s.integration_id`,
};

const TIME_TO_HIRE: ViewDef = {
  name: 'time_to_hire',
  grain: 'one row per application hired (outcome `HIRED` in `applications_latest`)',
  notes:
    "The hire date is the snapshot date of the application's first version with outcome `HIRED`. Applications already " +
    "hired in the integration's first `applications` sync are left out: when they were hired is unknown. With a night " +
    'without a sync, a hire shows on the next sync.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('application_id', 'varchar', 'the hired application'),
    col('candidate_id', 'varchar', 'the candidate'),
    col('job_id', 'varchar', 'the job'),
    col('job_name', 'varchar', "job name: the job's latest version in `jobs` (the application's copy for a job `jobs` does not hold)"),
    col('source', 'varchar', "the candidate's `source` in its current version (null when unknown)"),
    col('applied_on', 'date', 'UTC date of `remote_created_at` (null when the ATS does not say)'),
    col('hired_on', 'date', 'snapshot date of the first version with outcome `HIRED`'),
    col('days_to_hire', 'bigint', '`hired_on` − `applied_on`'),
  ],
  sql: `WITH first_snap AS (
  ${syncDates('applications')}
),
first_hired AS (
  SELECT a.integration_id, a.id, min(a.snapshot_date) AS hired_on
  FROM applications a
  WHERE a.outcome = 'HIRED' AND NOT ${deletedFlag('a', APPLICATIONS)}
  GROUP BY a.integration_id, a.id
)
SELECT
  CAST(a.integration_id AS VARCHAR) AS integration_id,
  CAST(a.id AS VARCHAR) AS application_id,
  CAST(a.candidate_id AS VARCHAR) AS candidate_id,
  CAST(a.job_id AS VARCHAR) AS job_id,
  CAST(coalesce(jn.job_name, a.job_name) AS VARCHAR) AS job_name,
  CAST(c.source AS VARCHAR) AS source,
  CAST(a.remote_created_at AS DATE) AS applied_on,
  CAST(h.hired_on AS DATE) AS hired_on,
  CAST(date_diff('day', CAST(a.remote_created_at AS DATE), h.hired_on) AS BIGINT) AS days_to_hire
FROM applications_latest a
JOIN first_hired h ON h.integration_id = a.integration_id AND h.id = a.id
JOIN first_snap f ON f.integration_id = a.integration_id
LEFT JOIN candidates_latest c ON c.integration_id = a.integration_id AND c.id = a.candidate_id
LEFT JOIN (${JOB_NAMES}) jn ON jn.integration_id = a.integration_id AND jn.job_id = a.job_id
WHERE a.outcome = 'HIRED' AND h.hired_on > f.first_date`,
};

const INTERVIEWER_LOAD: ViewDef = {
  name: 'interviewer_load',
  grain: 'one row per integration, interviewer and ISO week (Monday to Sunday, UTC) with at least one interview',
  notes:
    'From `interviews_latest` (deleted interviews left out) and its `interview_users`; canceled interviews ' +
    '(`canceled = true`) are left out, upcoming ones count. Each interviewer of an interview gets its full duration. ' +
    "The interviewer's name, email and status come from `users_latest` (the ATS's user list), falling back to the " +
    "copy on the interview for a user that list does not hold: the copy may lag, as Kombo's `updated_after` does " +
    'not return an interview for a renamed user.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('user_id', 'varchar', "the interviewer's Kombo user id"),
    col('first_name', 'varchar', "the interviewer's first name in `users` (or else on the interview)"),
    col('last_name', 'varchar', "the interviewer's last name in `users` (or else on the interview)"),
    col('email', 'varchar', "the interviewer's email in `users` (or else on the interview; null when the ATS has none)"),
    col('user_name', 'varchar', "the interviewer's full name in `users`, or else on the interview"),
    col('user_status', 'varchar', "the interviewer's status in `users` (`ACTIVE`, `INACTIVE`); null when the user list does not hold them"),
    col('week_start', 'date', 'Monday of the ISO week of `starting_at` (UTC)'),
    col('iso_week', 'varchar', 'the ISO week, like `2025-W23`'),
    col('interviews', 'bigint', 'interviews that week'),
    col('hours', 'double', 'hours of interviews that week (`ending_at` − `starting_at`)'),
    col('candidates', 'bigint', 'distinct candidates interviewed that week'),
  ],
  sql: `WITH iv AS (
  SELECT i.integration_id, i.id AS interview_id, i.application_id, i.snapshot_date, i."_synced_at" AS synced_at, i.starting_at, i.ending_at,
    CAST(date_trunc('week', CAST(i.starting_at AS DATE)) AS DATE) AS week_start
  FROM interviews_latest i
  WHERE coalesce(i.canceled, false) = false AND i.starting_at IS NOT NULL
),
seats AS (
  SELECT iv.integration_id, u.user_id, u.first_name, u.last_name, u.email, iv.interview_id, iv.week_start, a.candidate_id,
    CASE WHEN iv.ending_at > iv.starting_at
      THEN CAST(date_diff('millisecond', iv.starting_at, iv.ending_at) AS DOUBLE) / 3600000
      ELSE CAST(0 AS DOUBLE) END AS hours
  FROM iv
  JOIN interview_users u ON u.integration_id = iv.integration_id AND u.snapshot_date = iv.snapshot_date AND u.interview_id = iv.interview_id
    AND ${sameVersion('u', 'iv.synced_at')}
  LEFT JOIN applications_latest a ON a.integration_id = iv.integration_id AND a.id = iv.application_id
  WHERE u.user_id IS NOT NULL
),
weekly AS (
  SELECT integration_id, user_id, week_start, min(first_name) AS first_name, min(last_name) AS last_name, min(email) AS email,
    count(DISTINCT interview_id) AS interviews, sum(hours) AS hours, count(DISTINCT candidate_id) AS candidates
  FROM seats
  GROUP BY integration_id, user_id, week_start
)
SELECT
  CAST(l.integration_id AS VARCHAR) AS integration_id,
  CAST(l.user_id AS VARCHAR) AS user_id,
  CAST(CASE WHEN p.id IS NOT NULL THEN p.first_name ELSE l.first_name END AS VARCHAR) AS first_name,
  CAST(CASE WHEN p.id IS NOT NULL THEN p.last_name ELSE l.last_name END AS VARCHAR) AS last_name,
  CAST(CASE WHEN p.id IS NOT NULL THEN p.email ELSE l.email END AS VARCHAR) AS email,
  CAST(coalesce(nullif(concat_ws(' ', p.first_name, p.last_name), ''), nullif(concat_ws(' ', l.first_name, l.last_name), '')) AS VARCHAR) AS user_name,
  CAST(p.status AS VARCHAR) AS user_status,
  CAST(l.week_start AS DATE) AS week_start,
  CAST(CAST(year(l.week_start + INTERVAL '3' DAY) AS VARCHAR) || '-W' || lpad(CAST(week(l.week_start) AS VARCHAR), 2, '0') AS VARCHAR) AS iso_week,
  CAST(l.interviews AS BIGINT) AS interviews,
  CAST(l.hours AS DOUBLE) AS hours,
  CAST(l.candidates AS BIGINT) AS candidates
FROM weekly l
LEFT JOIN users_latest p ON p.integration_id = l.integration_id AND p.id = l.user_id`,
};

const TIME_TO_FILL: ViewDef = {
  name: 'time_to_fill',
  grain: 'one row per job of `jobs_latest` (deleted jobs left out)',
  notes:
    'Days are counted from the UTC date of `opened_at`. The first hire is the first version showing one of the ' +
    "job's applications with outcome `HIRED` (applications whose current version is a deletion left out), the first " +
    'accepted offer the first `offers` version showing an offer of one of its applications `ACCEPTED`, of the offers ' +
    'still `ACCEPTED` in their current version (an offer accepted, then abandoned or declined, does not fill the job, ' +
    'as a hire counts only while the application is still `HIRED`, and as `offer_acceptance` counts it). When that ' +
    "was already so in the integration's first sync of the model, the date is unknown and left null: `hires` " +
    '(or the offer itself) still shows it happened. Days open run to `closed_at`. A job `CLOSED` or `ARCHIVED` ' +
    'without `closed_at` stops counting on the first version of its latest closed stretch (the first showing it ' +
    "closed with no later version showing it otherwise); when that is the integration's first `jobs` sync, when it " +
    'closed is unknown and `days_open` is null. Any other job without `closed_at` counts its days open up to the ' +
    "integration's latest completed `jobs` sync (`syncs`).",
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('job_id', 'varchar', 'the job'),
    col('job_name', 'varchar', 'job name'),
    col('job_status', 'varchar', '`OPEN`, `CLOSED`, `DRAFT` or `ARCHIVED` (or any other value the ATS sends)'),
    col('department', 'varchar', "the job's department"),
    col('location', 'varchar', "the job's city and country (the ATS's location text when it gives neither)"),
    col('opened_on', 'date', 'UTC date of `opened_at`; null when the ATS does not say'),
    col('closed_on', 'date', 'UTC date of `closed_at`; null while open'),
    col('first_hire_on', 'date', 'snapshot date of the first version showing an application of the job hired; null when none, or when the first `applications` sync already showed one'),
    col('days_to_fill', 'bigint', '`first_hire_on` − `opened_on`'),
    col('first_offer_accepted_on', 'date', 'snapshot date of the first version showing an offer of the job accepted, of the offers still accepted in their current version; null when none, or when the first `offers` sync already showed one'),
    col('days_to_accepted_offer', 'bigint', '`first_offer_accepted_on` − `opened_on`'),
    col('days_open', 'bigint', "`closed_on` − `opened_on`; for a job `CLOSED` or `ARCHIVED` without `closed_at`, the first version of its latest closed stretch − `opened_on` (null when that is the integration's first `jobs` sync); for a job not closed, the latest `jobs` sync − `opened_on`"),
    col('hires', 'bigint', 'applications of the job with outcome `HIRED` in `applications_latest`'),
  ],
  sql: `WITH job_list AS (
  ${JOB_LIST}
),
app_first AS (
  ${syncDates('applications')}
),
offer_first AS (
  ${syncDates('offers')}
),
job_first AS (
  ${syncDates('jobs')}
),
last_not_closed AS (
  SELECT j.integration_id, j.id AS job_id, max(j.snapshot_date) AS snapshot_date, max(j."_synced_at") AS synced_at
  FROM jobs j
  WHERE NOT ${deletedFlag('j', tableDef('jobs'))} AND (j.status IS NULL OR j.status NOT IN ('CLOSED', 'ARCHIVED'))
  GROUP BY j.integration_id, j.id
),
closed_since AS (
  SELECT j.integration_id, j.id AS job_id, min(j.snapshot_date) AS closed_on
  FROM jobs j
  LEFT JOIN last_not_closed n ON n.integration_id = j.integration_id AND n.job_id = j.id
  WHERE NOT ${deletedFlag('j', tableDef('jobs'))} AND j.status IN ('CLOSED', 'ARCHIVED') AND (n.snapshot_date IS NULL OR j.snapshot_date > n.snapshot_date OR (j.snapshot_date = n.snapshot_date AND j."_synced_at" > n.synced_at))
  GROUP BY j.integration_id, j.id
),
app_jobs AS (
  ${APPLICATION_JOBS}
),
hired AS (
  SELECT a.integration_id, a.id AS application_id, min(a.snapshot_date) AS hired_on
  FROM applications a
  WHERE a.outcome = 'HIRED' AND NOT ${deletedFlag('a', APPLICATIONS)}
  GROUP BY a.integration_id, a.id
),
job_hires AS (
  SELECT a.integration_id, a.job_id, count(*) AS hires, min(h.hired_on) AS first_hired_on
  FROM applications_latest a
  JOIN hired h ON h.integration_id = a.integration_id AND h.application_id = a.id
  WHERE a.outcome = 'HIRED'
  GROUP BY a.integration_id, a.job_id
),
accepted AS (
  SELECT o.integration_id, o.id, min(o.snapshot_date) AS accepted_on
  FROM offers o
  JOIN offers_latest l ON l.integration_id = o.integration_id AND l.id = o.id
  WHERE o.status = 'ACCEPTED' AND NOT ${deletedFlag('o', tableDef('offers'))} AND l.status = 'ACCEPTED'
  GROUP BY o.integration_id, o.id
),
job_offers AS (
  SELECT j.integration_id, j.job_id, min(c.accepted_on) AS first_accepted_on
  FROM accepted c
  JOIN offers_latest l ON l.integration_id = c.integration_id AND l.id = c.id
  JOIN app_jobs j ON j.integration_id = l.integration_id AND j.application_id = l.application_id
  GROUP BY j.integration_id, j.job_id
),
dated AS (
  SELECT j.integration_id, j.job_id, j.job_name, j.job_status, j.department, j.location, j.snapshot_date,
    CAST(j.opened_at AS DATE) AS opened_on,
    CAST(j.closed_at AS DATE) AS closed_on,
    CASE
      WHEN j.closed_at IS NOT NULL THEN CAST(j.closed_at AS DATE)
      WHEN j.job_status IN ('CLOSED', 'ARCHIVED') THEN CASE WHEN c.closed_on > jf.first_date THEN c.closed_on END
      ELSE jf.latest_date
    END AS open_until,
    CASE WHEN h.first_hired_on > af.first_date THEN h.first_hired_on END AS first_hire_on,
    CASE WHEN o.first_accepted_on > ofs.first_date THEN o.first_accepted_on END AS first_offer_accepted_on,
    coalesce(h.hires, 0) AS hires
  FROM job_list j
  LEFT JOIN job_hires h ON h.integration_id = j.integration_id AND h.job_id = j.job_id
  LEFT JOIN app_first af ON af.integration_id = j.integration_id
  LEFT JOIN job_offers o ON o.integration_id = j.integration_id AND o.job_id = j.job_id
  LEFT JOIN offer_first ofs ON ofs.integration_id = j.integration_id
  LEFT JOIN closed_since c ON c.integration_id = j.integration_id AND c.job_id = j.job_id
  LEFT JOIN job_first jf ON jf.integration_id = j.integration_id
)
SELECT
  CAST(integration_id AS VARCHAR) AS integration_id,
  CAST(job_id AS VARCHAR) AS job_id,
  CAST(job_name AS VARCHAR) AS job_name,
  CAST(job_status AS VARCHAR) AS job_status,
  CAST(department AS VARCHAR) AS department,
  CAST(location AS VARCHAR) AS location,
  CAST(opened_on AS DATE) AS opened_on,
  CAST(closed_on AS DATE) AS closed_on,
  CAST(first_hire_on AS DATE) AS first_hire_on,
  CAST(date_diff('day', opened_on, first_hire_on) AS BIGINT) AS days_to_fill,
  CAST(first_offer_accepted_on AS DATE) AS first_offer_accepted_on,
  CAST(date_diff('day', opened_on, first_offer_accepted_on) AS BIGINT) AS days_to_accepted_offer,
  CAST(date_diff('day', opened_on, open_until) AS BIGINT) AS days_open,
  CAST(hires AS BIGINT) AS hires
FROM dated`,
};

const OFFER_ACCEPTANCE: ViewDef = {
  name: 'offer_acceptance',
  grain: 'one row per integration, job and month in which at least one of its offers was sent (a null month: sent before the first sync)',
  notes:
    "Built from the versions of `offers` (the offers' history); offers whose current version is a deletion are left " +
    'out. An offer was **sent** on the snapshot date of its first version showing it `SENT`, `ACCEPTED` or `DECLINED`, ' +
    'and counts in the month of that date; offers never seen sent (drafts, approved ones, offers abandoned before ' +
    "sending) are not counted. Offers already sent in the integration's first `offers` sync count in a row with a null " +
    '`sent_month`: when they were sent is unknown, what became of them is not (they have no days to decision). ' +
    "The offer's outcome is its status in its current version: an offer counts as accepted only while it is " +
    'still `ACCEPTED`, and one accepted, then changed, counts by what it became. It was **decided** on the first ' +
    'version ever showing that status, even when it changed and came back to it later. An offer set back to `DRAFT` or ' +
    '`APPROVED` after being sent (or showing any other status) counts as `pending`, so `accepted`, `declined`, ' +
    '`abandoned` and `pending` add up to `sent`. ' +
    "Its job is the job of its application; the department is the job's in `jobs_latest`. Offers whose " +
    'application has no job form a row with a null `job_id`, median included.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('job_id', 'varchar', "the job of the offers' applications"),
    col('job_name', 'varchar', 'job name'),
    col('department', 'varchar', "the job's department"),
    col('sent_month', 'date', "first day of the month (UTC) the offers were sent; null for offers already sent in the integration's first `offers` sync"),
    col('sent', 'bigint', 'offers sent that month'),
    col('accepted', 'bigint', 'of those, accepted by now'),
    col('declined', 'bigint', 'declined by the candidate'),
    col('abandoned', 'bigint', 'abandoned (withdrawn by the company) after being sent'),
    col('pending', 'bigint', 'not answered nor abandoned in their current version: still `SENT`, or set back to `DRAFT` or `APPROVED` (or any other status)'),
    col('acceptance_rate', 'double', '`accepted` ÷ (`accepted` + `declined`): the share of candidates who said yes; null when none answered'),
    col('median_days_to_decision', 'double', 'median days from sent to accepted or declined, of the offers answered; null when none, and for offers sent before the first sync'),
  ],
  sql: `WITH first_snap AS (
  ${syncDates('offers')}
),
job_list AS (
  ${JOB_LIST}
),
app_jobs AS (
  ${APPLICATION_JOBS}
),
seen AS (
  SELECT o.integration_id, o.id, o.status, min(o.snapshot_date) AS first_on
  FROM offers o
  WHERE NOT ${deletedFlag('o', tableDef('offers'))}
  GROUP BY o.integration_id, o.id, o.status
),
sent AS (
  SELECT integration_id, id, min(first_on) AS sent_on
  FROM seen
  WHERE status IN ('SENT', 'ACCEPTED', 'DECLINED')
  GROUP BY integration_id, id
),
fates AS (
  SELECT l.integration_id, l.id, j.job_id, j.job_name, l.status,
    CASE WHEN s.sent_on > f.first_date THEN s.sent_on END AS sent_on,
    CASE WHEN l.status IN ('ACCEPTED', 'DECLINED') AND s.sent_on > f.first_date THEN date_diff('day', s.sent_on, d.first_on) END AS days_to_decision
  FROM offers_latest l
  JOIN sent s ON s.integration_id = l.integration_id AND s.id = l.id
  JOIN first_snap f ON f.integration_id = l.integration_id
  LEFT JOIN seen d ON d.integration_id = l.integration_id AND d.id = l.id AND d.status = l.status
  LEFT JOIN app_jobs j ON j.integration_id = l.integration_id AND j.application_id = l.application_id
),
monthly AS (
  SELECT integration_id, job_id, job_name, CAST(date_trunc('month', sent_on) AS DATE) AS sent_month, status, days_to_decision
  FROM fates
),
ranked AS (
  SELECT integration_id, job_id, job_name, sent_month, status, days_to_decision,
    row_number() OVER (PARTITION BY integration_id, job_id, sent_month ORDER BY days_to_decision NULLS LAST) AS rn,
    count(days_to_decision) OVER (PARTITION BY integration_id, job_id, sent_month) AS n
  FROM monthly
),
counts AS (
  SELECT integration_id, job_id, sent_month, min(job_name) AS job_name,
    count(*) AS sent,
    sum(CASE WHEN status = 'ACCEPTED' THEN 1 ELSE 0 END) AS accepted,
    sum(CASE WHEN status = 'DECLINED' THEN 1 ELSE 0 END) AS declined,
    sum(CASE WHEN status = 'ABANDONED' THEN 1 ELSE 0 END) AS abandoned,
    sum(CASE WHEN status IN ('ACCEPTED', 'DECLINED', 'ABANDONED') THEN 0 ELSE 1 END) AS pending,
    avg(CASE WHEN days_to_decision IS NOT NULL AND 2 * rn BETWEEN n AND n + 2 THEN CAST(days_to_decision AS DOUBLE) END) AS median_days
  FROM ranked
  GROUP BY integration_id, job_id, sent_month
)
SELECT
  CAST(c.integration_id AS VARCHAR) AS integration_id,
  CAST(c.job_id AS VARCHAR) AS job_id,
  CAST(coalesce(j.job_name, c.job_name) AS VARCHAR) AS job_name,
  CAST(j.department AS VARCHAR) AS department,
  CAST(c.sent_month AS DATE) AS sent_month,
  CAST(c.sent AS BIGINT) AS sent,
  CAST(c.accepted AS BIGINT) AS accepted,
  CAST(c.declined AS BIGINT) AS declined,
  CAST(c.abandoned AS BIGINT) AS abandoned,
  CAST(c.pending AS BIGINT) AS pending,
  CAST(CASE WHEN c.accepted + c.declined > 0 THEN CAST(c.accepted AS DOUBLE) / (c.accepted + c.declined) END AS DOUBLE) AS acceptance_rate,
  CAST(c.median_days AS DOUBLE) AS median_days_to_decision
FROM counts c
LEFT JOIN job_list j ON j.integration_id = c.integration_id AND j.job_id = c.job_id`,
};

const REJECTION_BREAKDOWN: ViewDef = {
  name: 'rejection_breakdown',
  grain: 'one row per integration, job, rejection reason and the stage applications were declined in',
  notes:
    'Counts the applications of `applications_latest` with outcome `DECLINED` (a withdrawal is `DECLINED` with its ' +
    'own reason, as Kombo reports it). The reason is `rejection_reason_name` in the current version, trimmed like ' +
    "sources; null or blank is `'(none)'`. The stage is the one the application was in, open, when it was declined: " +
    "the stage of its last stretch in `application_stage_history` ended by `outcome_after = 'DECLINED'`, since some " +
    'ATSs move an application to a "Rejected" or "Disqualified" stage as they decline it. An application declined ' +
    "before the integration's first `applications` sync (no open stretch seen) counts in its stage in the first version " +
    'showing it declined. Stage order and names follow `hiring_funnel`.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('job_id', 'varchar', 'the job'),
    col('job_name', 'varchar', 'job name'),
    col('department', 'varchar', "the job's department"),
    col('rejection_reason', 'varchar', "the rejection reason, trimmed; `(none)` when null or blank"),
    col('stage_id', 'varchar', 'the stage the applications were in, open, when declined'),
    col('stage_name', 'varchar', 'its name'),
    col('stage_index', 'integer', 'its position in the job, as in `hiring_funnel`'),
    col('declined', 'bigint', 'applications declined in that stage for that reason'),
    col('share_of_job', 'double', "`declined` ÷ the job's declined applications"),
  ],
  sql: `WITH job_list AS (
  ${JOB_LIST}
),
listed AS (
  ${LISTED_STAGES}
),
declined_versions AS (
  SELECT a.integration_id, a.id, a.job_id, a.current_stage_id, a.current_stage_name, a.current_stage_index,
    row_number() OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS rn
  FROM applications a
  WHERE a.outcome = 'DECLINED' AND NOT ${deletedFlag('a', APPLICATIONS)}
),
declined_from AS (
  SELECT integration_id, application_id, job_id, stage_id, stage_name, stage_index,
    row_number() OVER (PARTITION BY integration_id, application_id ORDER BY entered_on DESC, entered_at DESC) AS rn
  FROM application_stage_history
  WHERE outcome_after = 'DECLINED'
),
declined_in AS (
  SELECT d.integration_id, d.id AS application_id,
    CASE WHEN h.application_id IS NULL THEN d.job_id ELSE h.job_id END AS job_id,
    CASE WHEN h.application_id IS NULL THEN d.current_stage_id ELSE h.stage_id END AS stage_id,
    CASE WHEN h.application_id IS NULL THEN d.current_stage_name ELSE h.stage_name END AS stage_name,
    CASE WHEN h.application_id IS NULL THEN d.current_stage_index ELSE h.stage_index END AS stage_index
  FROM declined_versions d
  LEFT JOIN declined_from h ON h.integration_id = d.integration_id AND h.application_id = d.id AND h.rn = 1
  WHERE d.rn = 1
),
declined AS (
  SELECT a.integration_id, a.id AS application_id, a.job_id, coalesce(jn.job_name, a.job_name) AS job_name,
    coalesce(nullif(${trimmed('a.rejection_reason_name')}, ''), '(none)') AS rejection_reason,
    d.stage_id,
    coalesce(l.stage_name, d.stage_name) AS stage_name,
    coalesce(l.stage_index, d.stage_index) AS stage_index
  FROM applications_latest a
  JOIN declined_in d ON d.integration_id = a.integration_id AND d.application_id = a.id
  LEFT JOIN listed l ON l.integration_id = d.integration_id AND l.job_id = d.job_id AND l.stage_id = d.stage_id
  LEFT JOIN (${JOB_NAMES}) jn ON jn.integration_id = a.integration_id AND jn.job_id = a.job_id
  WHERE a.outcome = 'DECLINED'
),
counts AS (
  SELECT integration_id, job_id, rejection_reason, stage_id, min(job_name) AS job_name, min(stage_name) AS stage_name, min(stage_index) AS stage_index,
    count(*) AS declined
  FROM declined
  GROUP BY integration_id, job_id, rejection_reason, stage_id
)
SELECT
  CAST(c.integration_id AS VARCHAR) AS integration_id,
  CAST(c.job_id AS VARCHAR) AS job_id,
  CAST(coalesce(j.job_name, c.job_name) AS VARCHAR) AS job_name,
  CAST(j.department AS VARCHAR) AS department,
  CAST(c.rejection_reason AS VARCHAR) AS rejection_reason,
  CAST(c.stage_id AS VARCHAR) AS stage_id,
  CAST(c.stage_name AS VARCHAR) AS stage_name,
  CAST(c.stage_index AS INTEGER) AS stage_index,
  CAST(c.declined AS BIGINT) AS declined,
  CAST(CAST(c.declined AS DOUBLE) / sum(c.declined) OVER (PARTITION BY c.integration_id, c.job_id) AS DOUBLE) AS share_of_job
FROM counts c
LEFT JOIN job_list j ON j.integration_id = c.integration_id AND j.job_id = c.job_id`,
};

const SOURCE_EFFECTIVENESS: ViewDef = {
  name: 'source_effectiveness',
  grain: "one row per integration and candidate source (`source`; null or blank is `'(unknown)'`)",
  notes:
    'From the `_latest` views: deleted candidates, applications and interviews are left out, canceled interviews too. ' +
    'Sources are grouped after trimming spaces, tabs, line breaks and no-break spaces from both ends (the same in ' +
    'Athena and DuckDB); case is kept.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('source', 'varchar', "the candidates' source, trimmed; `(unknown)` when null or blank"),
    col('candidates', 'bigint', 'candidates from that source'),
    col('applications', 'bigint', 'their applications'),
    col('interviews', 'bigint', 'interviews of those applications, canceled ones left out'),
    col('hires', 'bigint', 'applications with outcome `HIRED`'),
    col('hire_rate', 'double', '`hires` ÷ `applications`; null without applications'),
  ],
  sql: `WITH c AS (
  SELECT integration_id, id, coalesce(nullif(${trimmed('source')}, ''), '(unknown)') AS source FROM candidates_latest
),
iv AS (
  SELECT integration_id, application_id, count(*) AS n
  FROM interviews_latest
  WHERE coalesce(canceled, false) = false
  GROUP BY integration_id, application_id
),
agg AS (
  SELECT c.integration_id, c.source,
    count(DISTINCT c.id) AS candidates,
    count(DISTINCT a.id) AS applications,
    sum(coalesce(iv.n, 0)) AS interviews,
    count(DISTINCT CASE WHEN a.outcome = 'HIRED' THEN a.id END) AS hires
  FROM c
  LEFT JOIN applications_latest a ON a.integration_id = c.integration_id AND a.candidate_id = c.id
  LEFT JOIN iv ON iv.integration_id = a.integration_id AND iv.application_id = a.id
  GROUP BY c.integration_id, c.source
)
SELECT
  CAST(integration_id AS VARCHAR) AS integration_id,
  CAST(source AS VARCHAR) AS source,
  CAST(candidates AS BIGINT) AS candidates,
  CAST(applications AS BIGINT) AS applications,
  CAST(interviews AS BIGINT) AS interviews,
  CAST(hires AS BIGINT) AS hires,
  CAST(CASE WHEN applications > 0 THEN CAST(hires AS DOUBLE) / applications END AS DOUBLE) AS hire_rate
FROM agg`,
};

/**
 * Kaplan–Meier over the CTE `source` (CTE bodies `km_daily`, `km_risk` and `km_curve`): `source` has
 * one row per subject with the columns `keys`, `duration` (whole units, from 0) and `is_event` (1 when
 * the clock stopped at the event, 0 when censored). Per key and duration: `at_risk` (subjects whose
 * clock reached it), `events`, `censored`, and `share` = 1 − the survival, the product of
 * (1 − events ÷ at_risk) over durations up to it, taken as exp(sum(ln(…))) with a factor of 0 counted
 * apart (ln(0) is undefined). Each column of `sums` is summed per key and duration and carried along.
 */
function kaplanMeier(source: string, keys: readonly string[], sums: readonly string[] = []): string {
  const k = keys.join(', ');
  const summed = sums.map((x) => `, sum(${x}) AS ${x}`).join('');
  const carried = sums.map((x) => `, ${x}`).join('');
  const cumulative = (order: string): string => `OVER (PARTITION BY ${k} ORDER BY duration ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  return `km_daily AS (
  SELECT ${k}, duration, count(*) AS ended, sum(is_event) AS events${summed}
  FROM ${source}
  GROUP BY ${k}, duration
),
km_risk AS (
  SELECT ${k}, duration, ended, events${carried}, sum(ended) ${cumulative('DESC')} AS at_risk
  FROM km_daily
),
km_curve AS (
  SELECT ${k}, duration, at_risk, events, ended - events AS censored${carried},
    sum(CASE WHEN events = at_risk THEN 1 ELSE 0 END) ${cumulative('')} AS zeros,
    sum(CASE WHEN events < at_risk THEN ln(1 - CAST(events AS DOUBLE) / at_risk) ELSE CAST(0 AS DOUBLE) END) ${cumulative('')} AS log_survival
  FROM km_risk
),
km AS (
  SELECT ${k}, duration, at_risk, events, censored${carried},
    CASE WHEN zeros > 0 THEN CAST(1 AS DOUBLE) ELSE 1 - exp(log_survival) END AS share
  FROM km_curve
)`;
}

/**
 * The first duration at which a Kaplan–Meier curve (`km`) reaches a share (an aggregate over `km`
 * rows): null when it never does. A billionth of slack absorbs the rounding of exp(sum(ln(…))).
 */
const kmQuantile = (p: number): string => `min(CASE WHEN share >= ${p} - 0.000000001 THEN duration END)`;

/**
 * Each application's hiring clock (CTE bodies `sync_dates`, `app_versions`, `app_clock` and
 * `clocks`, reading `applications` once). It starts on the UTC date of `remote_created_at` (its
 * earliest, over the versions), or on the first version's snapshot date when the ATS gives none. It
 * stops at the first version showing the application hired when its current version is `HIRED` (the
 * event); else, censored, at the first version showing it closed or deleted when its current version
 * is, or at the integration's latest `applications` sync while it is open. A hire or close already in
 * the integration's first sync stops on the UTC date of that version's `remote_updated_at` (the ATS's
 * last change of the application, at or after it), or on the first sync's date when the ATS gives none.
 */
const HIRE_CLOCKS = `sync_dates AS (
  ${syncDates('applications')}
),
app_versions AS (
  SELECT a.integration_id, a.id, a.job_id, a.outcome, a.snapshot_date, a.remote_created_at, a.remote_updated_at,
    CASE WHEN ${deletedFlag('a', APPLICATIONS)} THEN 'DELETED'
      WHEN a.outcome IS NULL OR a.outcome = 'PENDING' THEN 'OPEN'
      ELSE 'CLOSED' END AS state,
    row_number() OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a', ' DESC')}) AS rn
  FROM applications a
),
app_clock AS (
  SELECT integration_id, id,
    max(CASE WHEN rn = 1 THEN job_id END) AS job_id,
    max(CASE WHEN rn = 1 THEN state END) AS state,
    max(CASE WHEN rn = 1 THEN outcome END) AS outcome,
    min(snapshot_date) AS first_seen,
    CAST(min(remote_created_at) AS DATE) AS applied_on,
    min(CASE WHEN state = 'CLOSED' AND outcome = 'HIRED' THEN snapshot_date END) AS hired_on,
    min(CASE WHEN state <> 'OPEN' THEN snapshot_date END) AS closed_on,
    min(CASE WHEN state = 'CLOSED' AND outcome = 'HIRED' THEN CAST(remote_updated_at AS DATE) END) AS hired_updated_on,
    min(CASE WHEN state <> 'OPEN' THEN CAST(remote_updated_at AS DATE) END) AS closed_updated_on
  FROM app_versions
  GROUP BY integration_id, id
),
clocks AS (
  SELECT a.integration_id, a.id, a.job_id, a.applied_on, a.hired_on, s.first_date,
    CASE WHEN a.state = 'CLOSED' AND a.outcome = 'HIRED' THEN 1 ELSE 0 END AS is_event,
    greatest(date_diff('day', coalesce(a.applied_on, a.first_seen),
      CASE WHEN a.state = 'OPEN' THEN s.latest_date
        WHEN a.state = 'CLOSED' AND a.outcome = 'HIRED' THEN
          CASE WHEN a.hired_on = s.first_date AND a.hired_updated_on < a.hired_on THEN a.hired_updated_on ELSE a.hired_on END
        ELSE CASE WHEN a.closed_on = s.first_date AND a.closed_updated_on < a.closed_on THEN a.closed_updated_on ELSE a.closed_on END
      END), 0) AS duration
  FROM app_clock a
  JOIN sync_dates s ON s.integration_id = a.integration_id
),
both_scopes AS (
  SELECT c.integration_id, CASE WHEN k.all_jobs = 0 THEN c.job_id END AS job_id, k.all_jobs, c.duration, c.is_event,
    CASE WHEN c.is_event = 1 AND c.applied_on IS NOT NULL AND c.hired_on > c.first_date THEN date_diff('day', c.applied_on, c.hired_on) END AS naive_days
  FROM clocks c
  CROSS JOIN (VALUES (0), (1)) AS k (all_jobs)
  WHERE k.all_jobs = 1 OR c.job_id IS NOT NULL
),
scoped AS (
  SELECT integration_id, job_id, all_jobs, duration, is_event,
    CASE WHEN 2 * row_number() OVER (PARTITION BY integration_id, all_jobs, job_id ORDER BY naive_days NULLS LAST)
      BETWEEN count(naive_days) OVER (PARTITION BY integration_id, all_jobs, job_id) AND count(naive_days) OVER (PARTITION BY integration_id, all_jobs, job_id) + 2
      AND naive_days IS NOT NULL THEN naive_days ELSE 0 END AS naive_middle_days,
    CASE WHEN 2 * row_number() OVER (PARTITION BY integration_id, all_jobs, job_id ORDER BY naive_days NULLS LAST)
      BETWEEN count(naive_days) OVER (PARTITION BY integration_id, all_jobs, job_id) AND count(naive_days) OVER (PARTITION BY integration_id, all_jobs, job_id) + 2
      AND naive_days IS NOT NULL THEN 1 ELSE 0 END AS naive_middle
  FROM both_scopes
)`;

const HIRE_CLOCK_NOTES =
  "An application's clock starts on the UTC date of `remote_created_at` (the first version's snapshot date when the " +
  'ATS gives none) and stops at its hire (the first version showing it `HIRED`, when its current version still is), ' +
  'or, censored, at the first version showing it closed otherwise (declined, any other outcome) or deleted, or at ' +
  "the integration's latest `applications` sync while it is still open. A hire or close already in the integration's " +
  "first `applications` sync happened on an unknown day: it stops on the UTC date of that version's `remote_updated_at` " +
  "(the ATS's last change of the application, at or after the hire), or on the first sync's date when the ATS gives " +
  'none: the latest it can have happened. Every application counts twice: ' +
  'in its job, and in the row set with a null `job_id` for all jobs of the integration (applications of no job count ' +
  'there only). Kaplan–Meier: on each day, `at_risk` counts the applications whose clock reached that day (stopped ' +
  'on it or later), and the survival is the product over the days up to it of (1 − `hired` ÷ `at_risk`); an open ' +
  'application counts as "not hired yet after N days" instead of being left out.';

const HIRE_SURVIVAL: ViewDef = {
  name: 'hire_survival',
  grain: 'one row per integration, job (and a row set with a null `job_id` for all jobs of the integration) and day since application on which a clock stopped',
  notes: HIRE_CLOCK_NOTES + ' Days on which no clock stopped have no row: the curve is flat between two rows.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('job_id', 'varchar', 'the job; null for the row set of all jobs of the integration'),
    col('day', 'bigint', 'days since application'),
    col('at_risk', 'bigint', 'applications whose clock reached this day (not hired before it, nor censored)'),
    col('hired', 'bigint', 'of those, hired on this day'),
    col('censored', 'bigint', 'of those, whose clock stopped on this day without a hire: still open at the latest sync, or closed without a hire, or deleted'),
    col('share_hired', 'double', '1 − the Kaplan–Meier survival: the estimated share of applications hired within this many days (non-decreasing, from 0)'),
  ],
  sql: `WITH ${HIRE_CLOCKS},
organizations AS (
  ${ORGANIZATIONS}
),
${kaplanMeier('scoped', ['integration_id', 'all_jobs', 'job_id'])}
SELECT
  CAST(k.integration_id AS VARCHAR) AS integration_id,
  CAST(o.organization_name AS VARCHAR) AS organization_name,
  CAST(k.job_id AS VARCHAR) AS job_id,
  CAST(k.duration AS BIGINT) AS "day",
  CAST(k.at_risk AS BIGINT) AS at_risk,
  CAST(k.events AS BIGINT) AS hired,
  CAST(k.censored AS BIGINT) AS censored,
  CAST(k.share AS DOUBLE) AS share_hired
FROM km k
LEFT JOIN organizations o ON o.integration_id = k.integration_id`,
};

const HIRE_SUMMARY: ViewDef = {
  name: 'hire_summary',
  grain: 'one row per integration and job with applications (and one with a null `job_id` for all jobs of the integration)',
  notes:
    'The Kaplan–Meier median and 75th percentile of days to hire are read off the curve of `hire_survival`: the first ' +
    'day whose `share_hired` reaches 0.5 (0.75); null while the curve has not reached it, as when fewer than half the ' +
    'applications are hired in the time observed. Beside them, `naive_median_days_to_hire` is the median of ' +
    '`time_to_hire.days_to_hire`: hires only, those with a known application date hired after the first sync, which ' +
    'leaves out exactly the slow cases still open. ' + HIRE_CLOCK_NOTES,
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('job_id', 'varchar', 'the job; null for all jobs of the integration'),
    col('applications', 'bigint', 'applications (with a clock: every application stored, deleted ones included, censored at their deletion)'),
    col('hires', 'bigint', 'applications whose current version is `HIRED`'),
    col('median_days_to_hire', 'bigint', 'Kaplan–Meier median days from application to hire; null when the curve never reaches one half'),
    col('p75_days_to_hire', 'bigint', 'Kaplan–Meier 75th percentile of days to hire; null when the curve never reaches three quarters'),
    col('naive_median_days_to_hire', 'double', 'median `days_to_hire` of `time_to_hire` (completed hires only); null without any'),
  ],
  sql: `WITH ${HIRE_CLOCKS},
organizations AS (
  ${ORGANIZATIONS}
),
${kaplanMeier('scoped', ['integration_id', 'all_jobs', 'job_id'], ['naive_middle_days', 'naive_middle'])},
curve AS (
  SELECT integration_id, all_jobs, job_id, sum(events + censored) AS applications, sum(events) AS hires,
    ${kmQuantile(0.5)} AS median_days, ${kmQuantile(0.75)} AS p75_days,
    sum(naive_middle_days) AS naive_middle_days, sum(naive_middle) AS naive_middle
  FROM km
  GROUP BY integration_id, all_jobs, job_id
)
SELECT
  CAST(c.integration_id AS VARCHAR) AS integration_id,
  CAST(o.organization_name AS VARCHAR) AS organization_name,
  CAST(c.job_id AS VARCHAR) AS job_id,
  CAST(c.applications AS BIGINT) AS applications,
  CAST(c.hires AS BIGINT) AS hires,
  CAST(c.median_days AS BIGINT) AS median_days_to_hire,
  CAST(c.p75_days AS BIGINT) AS p75_days_to_hire,
  CAST(CASE WHEN c.naive_middle > 0 THEN CAST(c.naive_middle_days AS DOUBLE) / c.naive_middle END AS DOUBLE) AS naive_median_days_to_hire
FROM curve c
LEFT JOIN organizations o ON o.integration_id = c.integration_id`,
};

const STAGE_SURVIVAL: ViewDef = {
  name: 'stage_survival',
  grain: 'one row per integration, job and stage some application spent an open stretch in',
  notes:
    'From the stretches of `application_stage_history`. A stretch ends (the event) when a later version shows the ' +
    'application elsewhere or closed; a stretch still current, or ended by a deletion, is censored: it counts as "not ' +
    'left yet after N days" instead of being left out, as `hiring_funnel.median_days_in_stage` leaves it out. The median ' +
    'is read off the Kaplan–Meier curve of the stretches (per job and stage, as in `hire_survival`): the first duration ' +
    "whose share of stretches ended reaches one half, null while it has not. A stretch under way in the integration's " +
    'first `applications` sync starts on that date (its entry is unknown), so it counts as shorter than it was. Hours ' +
    "run from the `_valid_from` of the version that showed the application in the stage to that of the version that " +
    "showed it elsewhere (or the integration's latest `applications` sync), in whole hours: finer than days once " +
    'several syncs a day exist. The stage name and index are those of its latest stretch.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('job_id', 'varchar', 'the job'),
    col('stage_id', 'varchar', 'the stage'),
    col('stage_name', 'varchar', 'stage name, of its latest stretch'),
    col('stage_index', 'integer', 'position of the stage in the job, of its latest stretch'),
    col('stretches', 'bigint', 'open stretches spent in the stage'),
    col('left_stage', 'bigint', 'of those, ended by another stage or a final outcome'),
    col('still_in', 'bigint', 'of those, still current (censored)'),
    col('median_days_in_stage', 'bigint', 'Kaplan–Meier median days in the stage; null while fewer than half the stretches are known to have ended by then'),
    col('median_hours_in_stage', 'bigint', 'Kaplan–Meier median whole hours in the stage; null likewise'),
  ],
  sql: `WITH stretches AS (
  SELECT h.integration_id, h.organization_name, h.job_id, h.stage_id, h.is_current, h.days_in_stage, h.hours_in_stage,
    first_value(h.stage_name) OVER (PARTITION BY h.integration_id, h.job_id, h.stage_id ORDER BY h.entered_on DESC, h.application_id) AS stage_name,
    first_value(h.stage_index) OVER (PARTITION BY h.integration_id, h.job_id, h.stage_id ORDER BY h.entered_on DESC, h.application_id) AS stage_index,
    CASE WHEN h.outcome_after IS NOT NULL AND h.outcome_after <> 'DELETED' THEN 1 ELSE 0 END AS is_event
  FROM application_stage_history h
  WHERE h.job_id IS NOT NULL
),
units AS (
  SELECT s.integration_id, s.organization_name, s.job_id, s.stage_id, s.stage_name, s.stage_index, u.in_hours, s.is_event,
    CASE WHEN s.is_current THEN 1 ELSE 0 END AS current_stretch,
    greatest(CASE WHEN u.in_hours = 1 THEN s.hours_in_stage ELSE s.days_in_stage END, 0) AS duration
  FROM stretches s
  CROSS JOIN (VALUES (0), (1)) AS u (in_hours)
),
${kaplanMeier('units', ['integration_id', 'organization_name', 'job_id', 'stage_id', 'stage_name', 'stage_index', 'in_hours'], ['current_stretch'])}
SELECT
  CAST(integration_id AS VARCHAR) AS integration_id,
  CAST(organization_name AS VARCHAR) AS organization_name,
  CAST(job_id AS VARCHAR) AS job_id,
  CAST(stage_id AS VARCHAR) AS stage_id,
  CAST(stage_name AS VARCHAR) AS stage_name,
  CAST(stage_index AS INTEGER) AS stage_index,
  CAST(sum(CASE WHEN in_hours = 0 THEN events + censored ELSE 0 END) AS BIGINT) AS stretches,
  CAST(sum(CASE WHEN in_hours = 0 THEN events ELSE 0 END) AS BIGINT) AS left_stage,
  CAST(sum(CASE WHEN in_hours = 0 THEN current_stretch ELSE 0 END) AS BIGINT) AS still_in,
  CAST(min(CASE WHEN in_hours = 0 AND share >= 0.5 - 0.000000001 THEN duration END) AS BIGINT) AS median_days_in_stage,
  CAST(min(CASE WHEN in_hours = 1 AND share >= 0.5 - 0.000000001 THEN duration END) AS BIGINT) AS median_hours_in_stage
FROM km
GROUP BY integration_id, organization_name, job_id, stage_id, stage_name, stage_index`,
};

const FUNNEL_COHORTS: ViewDef = {
  name: 'funnel_cohorts',
  grain: 'one row per integration, job, cohort month (UTC month of application) and stage of `hiring_funnel`',
  notes:
    "An application's cohort is the UTC month of its `remote_created_at` (of its first version's snapshot date when the " +
    'ATS gives none). It **reached** a stage as in `hiring_funnel`: some version showed it, in its current job, in that ' +
    'stage or a later one by the funnel\'s `stage_index`. Applications whose current version is a deletion, and those of ' +
    'no job, are left out. A cohort is compared with itself only, so a job with many new applicants does not seem to ' +
    'convert worse: read `cohort_age_days` before comparing cohorts, a young cohort has had no time to reach the ' +
    'later stages. Every stage of the job gets a row for every cohort of the job, `reached` 0 included.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    ORGANIZATION_COLUMN,
    col('job_id', 'varchar', 'the job'),
    col('cohort_month', 'date', 'first day of the UTC month the applications were made'),
    col('stage_id', 'varchar', 'the stage'),
    col('stage_name', 'varchar', 'its name, as in `hiring_funnel`'),
    col('stage_index', 'integer', 'its position, as in `hiring_funnel`'),
    col('applications', 'bigint', 'applications of the cohort to the job'),
    col('reached', 'bigint', 'of those, that reached the stage (or a later one)'),
    col('share_reached', 'double', '`reached` ÷ `applications`'),
    col('cohort_age_days', 'bigint', "days from the cohort month's last day to the integration's latest `applications` sync; negative while the month is still running"),
  ],
  sql: `WITH sync_dates AS (
  ${syncDates('applications')}
),
stages AS (
  SELECT integration_id, organization_name, job_id, stage_id, stage_name, stage_index FROM hiring_funnel
),
versions AS (
  SELECT a.integration_id, a.id, a.job_id, a.current_stage_id AS stage_id, a.snapshot_date,
    CASE WHEN ${deletedFlag('a', APPLICATIONS)} THEN 1 ELSE 0 END AS is_deleted,
    row_number() OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a', ' DESC')}) AS rn,
    coalesce(CAST(min(a.remote_created_at) OVER (PARTITION BY a.integration_id, a.id) AS DATE),
      min(a.snapshot_date) OVER (PARTITION BY a.integration_id, a.id)) AS applied_on
  FROM applications a
),
current_versions AS (
  SELECT integration_id, id, job_id, stage_id, is_deleted, rn, applied_on,
    max(CASE WHEN rn = 1 THEN job_id END) OVER (PARTITION BY integration_id, id) AS current_job_id,
    max(CASE WHEN rn = 1 THEN is_deleted END) OVER (PARTITION BY integration_id, id) AS deleted_now
  FROM versions
),
per_stage AS (
  SELECT v.integration_id, s.organization_name, v.id, v.current_job_id AS job_id, v.rn, v.applied_on, s.stage_id, s.stage_name, s.stage_index,
    max(CASE WHEN s.stage_id = v.stage_id AND v.job_id = v.current_job_id AND v.is_deleted = 0 THEN s.stage_index END)
      OVER (PARTITION BY v.integration_id, v.id) AS furthest
  FROM current_versions v
  JOIN stages s ON s.integration_id = v.integration_id AND s.job_id = v.current_job_id
  WHERE v.deleted_now = 0
),
cohorts AS (
  SELECT integration_id, job_id, CAST(date_trunc('month', applied_on) AS DATE) AS cohort_month, stage_id,
    min(organization_name) AS organization_name, min(stage_name) AS stage_name, min(stage_index) AS stage_index,
    count(*) AS applications,
    sum(CASE WHEN furthest >= stage_index THEN 1 ELSE 0 END) AS reached
  FROM per_stage
  WHERE rn = 1
  GROUP BY integration_id, job_id, CAST(date_trunc('month', applied_on) AS DATE), stage_id
)
SELECT
  CAST(c.integration_id AS VARCHAR) AS integration_id,
  CAST(c.organization_name AS VARCHAR) AS organization_name,
  CAST(c.job_id AS VARCHAR) AS job_id,
  CAST(c.cohort_month AS DATE) AS cohort_month,
  CAST(c.stage_id AS VARCHAR) AS stage_id,
  CAST(c.stage_name AS VARCHAR) AS stage_name,
  CAST(c.stage_index AS INTEGER) AS stage_index,
  CAST(c.applications AS BIGINT) AS applications,
  CAST(c.reached AS BIGINT) AS reached,
  CAST(CAST(c.reached AS DOUBLE) / c.applications AS DOUBLE) AS share_reached,
  CAST(date_diff('day', CAST(c.cohort_month + INTERVAL '1' MONTH - INTERVAL '1' DAY AS DATE), s.latest_date) AS BIGINT) AS cohort_age_days
FROM cohorts c
LEFT JOIN sync_dates s ON s.integration_id = c.integration_id`,
};

const INTERVIEWER_OUTCOMES: ViewDef = {
  name: 'interviewer_outcomes',
  grain: 'one row per integration and interviewer with at least one interview held',
  notes:
    'An interview was **held** when `interviews_latest` holds it, not canceled, with a `starting_at`, and it ended ' +
    "(`ending_at`, else `starting_at`) before the day of the integration's latest `interviews` sync. Its stage is the " +
    "interview's `stage_id`, or, when the ATS gives none, the stage the application was in, open, on the interview's " +
    'day (`application_stage_history`). What happened to an application after its latest interview with the ' +
    'interviewer: **advanced** when its current version is `HIRED` or a stretch entered after the interview\'s day is ' +
    'in a later stage than the interview\'s; else **declined** when its current version is `DECLINED`; else ' +
    '**still_open** while it is open. Deleted applications, and those closed otherwise, count in `applications` only. ' +
    "The days to the interview run from the application's latest entry into the interview's stage on or before the " +
    "interview's day; entries under way in the integration's first `applications` sync are unknown and left out of the " +
    'median. Names as in `interviewer_load`.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('user_id', 'varchar', "the interviewer's Kombo user id"),
    col('user_name', 'varchar', "the interviewer's full name in `users`, or else on the interview"),
    col('interviews', 'bigint', 'interviews held'),
    col('applications', 'bigint', 'applications interviewed'),
    col('advanced', 'bigint', 'of those, hired or in a later stage after the interview'),
    col('declined', 'bigint', 'of those, not advanced and declined'),
    col('still_open', 'bigint', 'of those, not advanced and still open'),
    col('advance_rate', 'double', '`advanced` ÷ (`advanced` + `declined`): the share of decided applications that went on; null when none is decided'),
    col('median_days_to_interview', 'double', "median days from the application entering the interview's stage to the interview; null when no entry is known"),
  ],
  sql: `WITH interview_dates AS (
  ${syncDates('interviews')}
),
app_dates AS (
  ${syncDates('applications')}
),
held AS (
  SELECT i.integration_id, i.id AS interview_id, i.application_id, i.stage_id, CAST(i.starting_at AS DATE) AS held_on,
    u.user_id, u.first_name, u.last_name,
    row_number() OVER (PARTITION BY i.integration_id, u.user_id, i.application_id ORDER BY i.starting_at DESC, i.id) AS rn
  FROM interviews_latest i
  JOIN interview_users u ON u.integration_id = i.integration_id AND u.snapshot_date = i.snapshot_date AND u.interview_id = i.id AND ${sameVersion('u', 'i."_synced_at"')}
  JOIN interview_dates d ON d.integration_id = i.integration_id
  WHERE coalesce(i.canceled, false) = false AND i.starting_at IS NOT NULL AND u.user_id IS NOT NULL
    AND CAST(coalesce(i.ending_at, i.starting_at) AS DATE) < d.latest_date
),
placed AS (
  SELECT v.integration_id, v.interview_id, v.application_id, v.user_id, v.rn, v.held_on,
    min(v.first_name) AS first_name, min(v.last_name) AS last_name,
    max(CASE WHEN (v.stage_id IS NOT NULL AND h.stage_id = v.stage_id)
      OR (v.stage_id IS NULL AND h.entered_on <= v.held_on AND (h.left_on IS NULL OR h.left_on > v.held_on)) THEN h.stage_index END) AS stage_index,
    max(CASE WHEN ((v.stage_id IS NOT NULL AND h.stage_id = v.stage_id)
      OR (v.stage_id IS NULL AND (h.left_on IS NULL OR h.left_on > v.held_on))) AND h.entered_on <= v.held_on THEN h.entered_on END) AS entered_on,
    max(CASE WHEN h.entered_on > v.held_on THEN h.stage_index END) AS later_index
  FROM held v
  LEFT JOIN application_stage_history h ON h.integration_id = v.integration_id AND h.application_id = v.application_id
  GROUP BY v.integration_id, v.interview_id, v.application_id, v.user_id, v.rn, v.held_on
),
fates AS (
  SELECT p.integration_id, p.user_id, p.application_id, p.rn, p.first_name, p.last_name,
    CASE WHEN p.entered_on > f.first_date THEN date_diff('day', p.entered_on, p.held_on) END AS days_to_interview,
    CASE
      WHEN a.outcome = 'HIRED' OR p.later_index > p.stage_index THEN 'advanced'
      WHEN a.outcome = 'DECLINED' THEN 'declined'
      WHEN a.id IS NOT NULL AND (a.outcome IS NULL OR a.outcome = 'PENDING') THEN 'still_open'
    END AS fate
  FROM placed p
  LEFT JOIN app_dates f ON f.integration_id = p.integration_id
  LEFT JOIN applications_latest a ON a.integration_id = p.integration_id AND a.id = p.application_id
),
ranked AS (
  SELECT integration_id, user_id, application_id, rn, first_name, last_name, days_to_interview, fate,
    row_number() OVER (PARTITION BY integration_id, user_id ORDER BY days_to_interview NULLS LAST) AS drn,
    count(days_to_interview) OVER (PARTITION BY integration_id, user_id) AS dn
  FROM fates
),
per_user AS (
  SELECT integration_id, user_id, min(first_name) AS first_name, min(last_name) AS last_name,
    count(*) AS interviews,
    sum(CASE WHEN rn = 1 THEN 1 ELSE 0 END) AS applications,
    sum(CASE WHEN rn = 1 AND fate = 'advanced' THEN 1 ELSE 0 END) AS advanced,
    sum(CASE WHEN rn = 1 AND fate = 'declined' THEN 1 ELSE 0 END) AS declined,
    sum(CASE WHEN rn = 1 AND fate = 'still_open' THEN 1 ELSE 0 END) AS still_open,
    avg(CASE WHEN days_to_interview IS NOT NULL AND 2 * drn BETWEEN dn AND dn + 2 THEN CAST(days_to_interview AS DOUBLE) END) AS median_days
  FROM ranked
  GROUP BY integration_id, user_id
)
SELECT
  CAST(l.integration_id AS VARCHAR) AS integration_id,
  CAST(l.user_id AS VARCHAR) AS user_id,
  CAST(coalesce(nullif(concat_ws(' ', p.first_name, p.last_name), ''), nullif(concat_ws(' ', l.first_name, l.last_name), '')) AS VARCHAR) AS user_name,
  CAST(l.interviews AS BIGINT) AS interviews,
  CAST(l.applications AS BIGINT) AS applications,
  CAST(l.advanced AS BIGINT) AS advanced,
  CAST(l.declined AS BIGINT) AS declined,
  CAST(l.still_open AS BIGINT) AS still_open,
  CAST(CASE WHEN l.advanced + l.declined > 0 THEN CAST(l.advanced AS DOUBLE) / (l.advanced + l.declined) END AS DOUBLE) AS advance_rate,
  CAST(l.median_days AS DOUBLE) AS median_days_to_interview
FROM per_user l
LEFT JOIN users_latest p ON p.integration_id = l.integration_id AND p.id = l.user_id`,
};

/** The checks of `data_quality`, in the order the docs list them. */
export const DATA_QUALITY_CHECKS = [
  'skipped_stage',
  'moved_back',
  'declined_without_reason',
  'hired_without_accepted_offer',
  'stale_open_application',
  'duplicate_candidate_email',
  'application_of_unknown_job',
  'found_only_by_full_sync',
] as const;

/** The tables `found_only_by_full_sync` looks at, besides `applications` (read with the other checks). */
const FULL_SYNC_TABLES = ['candidates', 'jobs', 'offers', 'interviews'] as const;

/**
 * Whether the sync of a `sync_steps` row (alias `y`) stored a version (alias `v`, with its `synced_at`):
 * same date (joined apart) and the sync's `valid_from` is the version's `_synced_at`, a date holding
 * the versions of several syncs. Either one null (files and rows written before a date could hold
 * several syncs): the date alone decides.
 */
const storedBy = (v: string, y: string): string => `(${v}.synced_at = ${y}.valid_from OR ${v}.synced_at IS NULL OR ${y}.valid_from IS NULL)`;

/** One row per version of a table for `found_only_by_full_sync` (a SELECT for a UNION ALL). */
const fullSyncVersions = (table: string): string =>
  `SELECT t.integration_id, '${table}' AS model, t.id, t.snapshot_date, t."_synced_at" AS synced_at, CASE WHEN ${deletedFlag('t', tableDef(table))} THEN 1 ELSE 0 END AS is_deleted,
    t.remote_deleted_at, t.changed_at, lag(t.changed_at) OVER (PARTITION BY t.integration_id, t.id ORDER BY ${versionOrder('t')}) AS prev_changed_at
  FROM ${table} t`;

/**
 * Whether a version (alias `v`) was found only by a later full sync: stored by a `full` sync (`y`, its
 * `sync_steps` row) after the model's first sync (`s`, its `sync_dates` row), and either a deletion
 * without `remote_deleted_at` or a change whose `changed_at` is older than the previous sync's start
 * and differs from the previous version's.
 */
const FULL_SYNC_FOUND = (v: string, y: string, s: string): string => `CASE WHEN ${y}.mode = 'full' AND ${v}.snapshot_date > ${s}.first_date AND (
      (${v}.is_deleted = 1 AND ${v}.remote_deleted_at IS NULL)
      OR (${v}.is_deleted = 0 AND ${v}.changed_at < ${y}.prev_started_at AND (${v}.prev_changed_at IS NULL OR ${v}.prev_changed_at <> ${v}.changed_at))
    ) THEN 1 ELSE 0 END`;

const DATA_QUALITY: ViewDef = {
  name: 'data_quality',
  grain: 'one row per integration (every integration with a sync) and check, 0 `records` when the check finds nothing',
  notes:
    'Checks whether the ATS data deserves trust. Each check counts records (applications, candidates, or records of any ' +
    'model for `found_only_by_full_sync`) among the records it looks at. `skipped_stage`: an application moved, between ' +
    "two consecutive versions open in the same job, to a stage more than one step later in the job's current stage list " +
    '(`jobs_latest` and its `job_stages`), past a stage no version showed it in; of the applications with such a move ' +
    'between two listed stages, forward or back. `moved_back`: the same, to an earlier stage. `declined_without_reason`: ' +
    'current version `DECLINED` with no rejection reason (null or blank); of the declined applications. ' +
    '`hired_without_accepted_offer`: current version `HIRED` and no offer of the application `ACCEPTED` in `offers_latest`; ' +
    "of the hired applications, for integrations whose `offers` are synced (others look at none). `stale_open_application`: " +
    "open, and the latest version is 30 days or more older than the integration's latest `applications` sync (a version " +
    "stored in the first sync counts from its `remote_updated_at`, when given); of the open applications. " +
    '`duplicate_candidate_email`: a current candidate sharing an email address with another one, compared after trimming ' +
    'and in lower case (hashes compare as they are stored); of the candidates with an address. ' +
    "`application_of_unknown_job`: current application whose job is null or not in `jobs_latest`; of the applications, " +
    'for integrations whose `jobs` are synced. `found_only_by_full_sync`: a record of `applications`, `candidates`, `jobs`, ' +
    '`offers` or `interviews` with a version stored by a full sync (`syncs.mode`, joined on model and snapshot date) other ' +
    "than the integration's first one, that the incremental syncs could not return: a deletion without `remote_deleted_at` " +
    "(no longer returned), or a change whose `changed_at` is older than the start of the model's previous sync and differs " +
    "from the previous version's (a change of nested data alone leaves `changed_at` and cannot be told); of the records " +
    'stored. Applications and candidates whose current version is a deletion are left out of the other checks.',
  columns: [
    col('integration_id', 'varchar', 'Kombo integration id'),
    col('check_name', 'varchar', `the check: ${DATA_QUALITY_CHECKS.map((c) => `\`${c}\``).join(', ')}`),
    col('records', 'bigint', 'records the check finds'),
    col('share', 'double', '`records` ÷ the records the check looks at; null when it looks at none'),
    col('example_ids', 'varchar', 'up to 5 ids of records found, comma-separated, in id order (`<model>/<id>` for `found_only_by_full_sync`); null when none'),
  ],
  sql: `WITH sync_dates AS (
  SELECT integration_id, model, min(snapshot_date) AS first_date, max(snapshot_date) AS latest_date
  FROM syncs
  GROUP BY integration_id, model
),
sync_steps AS (
  SELECT integration_id, model, snapshot_date, mode,
    valid_from, lag(started_at) OVER (PARTITION BY integration_id, model ORDER BY snapshot_date, started_at) AS prev_started_at
  FROM syncs
),
job_list AS (
  ${JOB_LIST}
),
listed AS (
  ${LISTED_STAGES}
),
ranked_stages AS (
  SELECT integration_id, job_id, stage_id, dense_rank() OVER (PARTITION BY integration_id, job_id ORDER BY stage_index) AS stage_rank
  FROM listed
),
app_versions AS (
  SELECT a.integration_id, a.id, a.job_id, a.current_stage_id AS stage_id, a.outcome, a.rejection_reason_name, a.snapshot_date,
    a."_synced_at" AS synced_at, a.remote_updated_at, a.remote_deleted_at, a.changed_at,
    CASE WHEN ${deletedFlag('a', APPLICATIONS)} THEN 1 ELSE 0 END AS is_deleted,
    lag(a.changed_at) OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS prev_changed_at,
    lead(a.job_id) OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS next_job_id,
    lead(a.current_stage_id) OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS next_stage_id,
    lead(a.outcome) OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS next_outcome,
    lead(CASE WHEN ${deletedFlag('a', APPLICATIONS)} THEN 1 ELSE 0 END) OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a')}) AS next_deleted,
    row_number() OVER (PARTITION BY a.integration_id, a.id ORDER BY ${versionOrder('a', ' DESC')}) AS rn
  FROM applications a
),
accepted AS (
  SELECT DISTINCT integration_id, application_id FROM offers_latest WHERE status = 'ACCEPTED'
),
app_flags AS (
  SELECT v.integration_id, v.id,
    CASE WHEN v.is_deleted = 0 AND v.next_deleted = 0 AND v.next_job_id = v.job_id AND v.next_stage_id <> v.stage_id
      AND (v.outcome IS NULL OR v.outcome = 'PENDING') AND (v.next_outcome IS NULL OR v.next_outcome = 'PENDING')
      AND c.stage_rank IS NOT NULL AND n.stage_rank IS NOT NULL THEN n.stage_rank - c.stage_rank END AS step,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 THEN 1 ELSE 0 END AS is_current,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND v.outcome = 'DECLINED' THEN 1 ELSE 0 END AS declined,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND v.outcome = 'DECLINED' AND nullif(${trimmed('v.rejection_reason_name')}, '') IS NULL THEN 1 ELSE 0 END AS no_reason,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND v.outcome = 'HIRED' AND so.integration_id IS NOT NULL THEN 1 ELSE 0 END AS hired,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND v.outcome = 'HIRED' AND so.integration_id IS NOT NULL AND o.application_id IS NULL THEN 1 ELSE 0 END AS no_offer,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND (v.outcome IS NULL OR v.outcome = 'PENDING') THEN 1 ELSE 0 END AS open_now,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND (v.outcome IS NULL OR v.outcome = 'PENDING')
      AND date_diff('day', CASE WHEN v.snapshot_date = sa.first_date THEN coalesce(CAST(v.remote_updated_at AS DATE), v.snapshot_date) ELSE v.snapshot_date END, sa.latest_date) >= 30
      THEN 1 ELSE 0 END AS stale,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND sj.integration_id IS NOT NULL THEN 1 ELSE 0 END AS job_checked,
    CASE WHEN v.rn = 1 AND v.is_deleted = 0 AND sj.integration_id IS NOT NULL AND j.job_id IS NULL THEN 1 ELSE 0 END AS unknown_job,
    ${FULL_SYNC_FOUND('v', 'y', 'sa')} AS full_sync_only
  FROM app_versions v
  LEFT JOIN ranked_stages c ON c.integration_id = v.integration_id AND c.job_id = v.job_id AND c.stage_id = v.stage_id
  LEFT JOIN ranked_stages n ON n.integration_id = v.integration_id AND n.job_id = v.job_id AND n.stage_id = v.next_stage_id
  LEFT JOIN accepted o ON o.integration_id = v.integration_id AND o.application_id = v.id
  LEFT JOIN sync_dates sa ON sa.integration_id = v.integration_id AND sa.model = 'applications'
  LEFT JOIN sync_dates so ON so.integration_id = v.integration_id AND so.model = 'offers'
  LEFT JOIN sync_dates sj ON sj.integration_id = v.integration_id AND sj.model = 'jobs'
  LEFT JOIN job_list j ON j.integration_id = v.integration_id AND j.job_id = v.job_id
  LEFT JOIN sync_steps y ON y.integration_id = v.integration_id AND y.model = 'applications' AND y.snapshot_date = v.snapshot_date AND ${storedBy('v', 'y')}
),
per_app AS (
  SELECT integration_id, id,
    max(CASE WHEN step IS NOT NULL THEN 1 ELSE 0 END) AS moved,
    max(CASE WHEN step > 1 THEN 1 ELSE 0 END) AS skipped,
    max(CASE WHEN step < 0 THEN 1 ELSE 0 END) AS moved_back,
    max(declined) AS declined, max(no_reason) AS no_reason, max(hired) AS hired, max(no_offer) AS no_offer,
    max(open_now) AS open_now, max(stale) AS stale, max(job_checked) AS job_checked, max(unknown_job) AS unknown_job,
    max(full_sync_only) AS full_sync_only
  FROM app_flags
  GROUP BY integration_id, id
),
app_findings AS (
  SELECT p.integration_id, k.check_name,
    CASE WHEN k.check_name = 'found_only_by_full_sync' THEN 'applications/' || p.id ELSE p.id END AS record_id,
    CASE k.check_name
      WHEN 'skipped_stage' THEN p.moved WHEN 'moved_back' THEN p.moved WHEN 'declined_without_reason' THEN p.declined
      WHEN 'hired_without_accepted_offer' THEN p.hired WHEN 'stale_open_application' THEN p.open_now
      WHEN 'application_of_unknown_job' THEN p.job_checked ELSE 1 END AS looked,
    CASE k.check_name
      WHEN 'skipped_stage' THEN p.skipped WHEN 'moved_back' THEN p.moved_back WHEN 'declined_without_reason' THEN p.no_reason
      WHEN 'hired_without_accepted_offer' THEN p.no_offer WHEN 'stale_open_application' THEN p.stale
      WHEN 'application_of_unknown_job' THEN p.unknown_job ELSE p.full_sync_only END AS found
  FROM per_app p
  CROSS JOIN (VALUES ('skipped_stage'), ('moved_back'), ('declined_without_reason'), ('hired_without_accepted_offer'),
    ('stale_open_application'), ('application_of_unknown_job'), ('found_only_by_full_sync')) AS k (check_name)
),
emails AS (
  SELECT c.integration_id, c.id, lower(${trimmed('e.email_address')}) AS address
  FROM candidates_latest c
  JOIN candidate_email_addresses e ON e.integration_id = c.integration_id AND e.snapshot_date = c.snapshot_date AND e.candidate_id = c.id
    AND ${sameVersion('e', 'c."_synced_at"')}
  WHERE nullif(${trimmed('e.email_address')}, '') IS NOT NULL
  GROUP BY c.integration_id, c.id, lower(${trimmed('e.email_address')})
),
other_versions AS (
  ${FULL_SYNC_TABLES.map(fullSyncVersions).join('\n  UNION ALL\n  ')}
),
findings AS (
  SELECT integration_id, check_name, record_id, found FROM app_findings WHERE looked = 1
  UNION ALL
  SELECT integration_id, 'duplicate_candidate_email', id, CASE WHEN count(*) OVER (PARTITION BY integration_id, address) > 1 THEN 1 ELSE 0 END
  FROM emails
  UNION ALL
  SELECT f.integration_id, 'found_only_by_full_sync', f.model || '/' || f.id, ${FULL_SYNC_FOUND('f', 'y', 's')}
  FROM other_versions f
  LEFT JOIN sync_steps y ON y.integration_id = f.integration_id AND y.model = f.model AND y.snapshot_date = f.snapshot_date AND ${storedBy('f', 'y')}
  LEFT JOIN sync_dates s ON s.integration_id = f.integration_id AND s.model = f.model
),
per_record AS (
  SELECT integration_id, check_name, record_id, max(found) AS found
  FROM findings
  GROUP BY integration_id, check_name, record_id
),
examples AS (
  SELECT integration_id, check_name, record_id, found,
    row_number() OVER (PARTITION BY integration_id, check_name ORDER BY found DESC, record_id) AS rn
  FROM per_record
),
counts AS (
  SELECT integration_id, check_name, count(*) AS looked_at, sum(found) AS found,
    nullif(concat_ws(', ', ${[1, 2, 3, 4, 5].map((k) => `max(CASE WHEN found = 1 AND rn = ${k} THEN record_id END)`).join(', ')}), '') AS example_ids
  FROM examples
  GROUP BY integration_id, check_name
),
checks AS (
  SELECT i.integration_id, c.check_name, c.check_order
  FROM (SELECT DISTINCT integration_id FROM sync_dates) i
  CROSS JOIN (VALUES ${DATA_QUALITY_CHECKS.map((c, k) => `('${c}', ${k + 1})`).join(', ')}) AS c (check_name, check_order)
)
SELECT
  CAST(k.integration_id AS VARCHAR) AS integration_id,
  CAST(k.check_name AS VARCHAR) AS check_name,
  CAST(coalesce(n.found, 0) AS BIGINT) AS records,
  CAST(CASE WHEN n.looked_at > 0 THEN CAST(n.found AS DOUBLE) / n.looked_at END AS DOUBLE) AS share,
  CAST(n.example_ids AS VARCHAR) AS example_ids
FROM checks k
LEFT JOIN counts n ON n.integration_id = k.integration_id AND n.check_name = k.check_name`,
};

/** Every analytics view, in dependency order (a view only references tables and views before it). */
export const VIEWS: readonly ViewDef[] = [
  // Parents come before their child tables in TABLES, so a child's history view follows its parent's.
  ...TABLES.map(historyView),
  // The tables that name their record (`latest` in `tables.ts`) get a `_latest` view.
  ...TABLES.filter(hasLatestView).map(latestView),
  APPLICATION_STAGE_HISTORY,
  HIRING_FUNNEL,
  TIME_TO_HIRE,
  TIME_TO_FILL,
  OFFER_ACCEPTANCE,
  REJECTION_BREAKDOWN,
  INTERVIEWER_LOAD,
  SOURCE_EFFECTIVENESS,
  HIRE_SURVIVAL,
  HIRE_SUMMARY,
  STAGE_SURVIVAL,
  FUNNEL_COHORTS,
  INTERVIEWER_OUTCOMES,
  DATA_QUALITY,
];

/** Whether a table gets a `<table>_latest` view. */
function hasLatestView(def: TableDef): def is TableDef & Required<Pick<TableDef, 'latest'>> {
  return def.latest !== undefined;
}

/** Names of the `<table>_history` views. */
const HISTORY_VIEW_NAMES: ReadonlySet<string> = new Set(TABLES.map((t) => `${t.name}_history`));

/** Look a view up by name. */
export function viewByName(name: string): ViewDef | undefined {
  return VIEWS.find((v) => v.name === name);
}

/** Markdown for `docs/ANALYTICS.md`: one section per view with its grain, notes and columns. */
export function viewReference(): string {
  const parts: string[] = [];
  for (const v of VIEWS) {
    parts.push(`### \`${v.name}\``, '', `Grain: ${v.grain}.`, '', v.notes, '');
    if (v.name.endsWith('_latest')) {
      parts.push(`Columns: every column of \`${v.name.replace(/_latest$/, '')}\`, then \`snapshot_date\` (date: of the sync that stored the version) and \`integration_id\` (varchar).`, '');
      continue;
    }
    if (HISTORY_VIEW_NAMES.has(v.name)) {
      const extra = HISTORY_COLUMNS.map((c) => `\`${c.name}\` (${c.type})`).join(', ');
      parts.push(`Columns: every column of \`${v.name.replace(/_history$/, '')}\` but \`_is_deleted\`, then \`snapshot_date\` (date), \`integration_id\` (varchar), ${extra}.`, '');
      continue;
    }
    parts.push('| column | type | meaning |', '|---|---|---|');
    for (const c of v.columns) parts.push(`| \`${c.name}\` | ${c.type} | ${c.description} |`);
    parts.push('');
  }
  return parts.join('\n');
}
