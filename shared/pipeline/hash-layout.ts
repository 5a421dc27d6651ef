/**
 * Which columns decide a version: a record's hash layout. A layout is the ordered list of the
 * columns, table by table, whose values make a record's version hash, for one model and PII mode,
 * with a short id. The index stores each hash as `<layout id>:<hash>`; an untagged hash is of the
 * {@link LEGACY_LAYOUTS}, the columns every release before layouts hashed.
 *
 * A release that adds a column, or leaves one out of the hash (a {@link ColumnDef.linked} copy),
 * changes the layout, and with it every hash: compared as they are, every record would look
 * changed and get a version at its next fetch. So when a stored hash is of another layout, the
 * fetched record is hashed again under that layout's columns; if that matches, the record's stored
 * values did not change: no version, and the index takes the hash under the current layout.
 */
import { createHash } from 'node:crypto';
import type { Cell, PiiMode, PiiOptions } from '../flatten.ts';
import { DEFAULT_PII_MODE, createBuffers, flattenInto } from '../flatten.ts';
import type { ColumnDef, ModelName, TableDef } from '../tables.ts';
import { tablesForModel } from '../tables.ts';
import type { StoredLayout } from '../state/layouts.ts';

export type HashLayout = StoredLayout;

/**
 * Columns a version's hash leaves out: the pipeline's own, the raw payload (Kombo does not move
 * `changed_at` when only `remote_data` changes, so an incremental fetch would never see such a
 * change and a full one would: leaving it out keeps both alike) and `changed_at` itself (it moves
 * with any change of the rest).
 */
export const UNHASHED_COLUMNS: ReadonlySet<string> = new Set(['_run_id', '_synced_at', '_is_deleted', 'remote_data', 'changed_at']);

/** Whether a column decides a version: stored from the record, not in {@link UNHASHED_COLUMNS}, not a linked copy. */
export const decidesVersion = (c: ColumnDef): boolean => c.source.kind !== 'meta' && c.source.kind !== 'deleted' && !UNHASHED_COLUMNS.has(c.name) && c.linked === undefined;

/** The columns of `table` that decide a version, in table order. */
export const hashedColumns = (table: TableDef): ColumnDef[] => table.columns.filter(decidesVersion);

/** The layout of this release for `model` and a PII mode. */
export function currentLayout(model: ModelName, piiMode: PiiMode = DEFAULT_PII_MODE): HashLayout {
  const tables = tablesForModel(model).map((t): [string, string[]] => [t.name, hashedColumns(t).map((c) => c.name)]);
  const id = `h${createHash('sha256').update(JSON.stringify({ model, piiMode, tables })).digest('base64url').slice(0, 10)}`;
  return { id, tables };
}

/** The layout id a stored hash was made under (`''`: the legacy layout). */
export const layoutIdOf = (stored: string): string => {
  const colon = stored.indexOf(':');
  return colon < 0 ? '' : stored.slice(0, colon);
};

/** A hash as the index stores it: tagged with its layout's id, unless legacy. */
export const taggedHash = (layout: Pick<HashLayout, 'id'>, hash: string): string => (layout.id === '' ? hash : `${layout.id}:${hash}`);

/** A short, stable hash of a record's stored cells (its own row and its child rows, in order). */
export function versionHash(cells: readonly (readonly Cell[])[]): string {
  const hash = createHash('sha256');
  for (const row of cells) hash.update(JSON.stringify(row)).update('\n');
  return hash.digest('base64url').slice(0, 22);
}

/**
 * The columns every release before hash layouts hashed, frozen: every stored column of each table
 * of the model but the unhashed ones, linked copies included. Never edit it: hashes stored
 * untagged were made under exactly these columns.
 */
const LEGACY_COLUMNS: Readonly<Record<ModelName, readonly (readonly [string, readonly string[]])[]>> = {
  candidates: [
    ['candidates', ['id', 'remote_id', 'first_name', 'last_name', 'company', 'title', 'confidential', 'source', 'location_city', 'location_country', 'location_raw', 'location_state', 'location_street_1', 'location_street_2', 'location_zip_code', 'custom_fields', 'integration_fields', 'remote_url', 'remote_created_at', 'remote_updated_at', 'remote_deleted_at']],
    ['candidate_email_addresses', ['candidate_id', 'position', 'email_address', 'type']],
    ['candidate_phone_numbers', ['candidate_id', 'position', 'phone_number', 'type']],
    ['candidate_social_media', ['candidate_id', 'position', 'link', 'type', 'username']],
    ['candidate_tags', ['candidate_id', 'position', 'tag_id', 'name', 'remote_id']],
  ],
  applications: [
    ['applications', ['id', 'remote_id', 'outcome', 'rejection_reason_name', 'rejected_at', 'candidate_id', 'job_id', 'job_name', 'job_remote_id', 'current_stage_id', 'current_stage_name', 'current_stage_remote_id', 'current_stage_index', 'screening_question_answers', 'custom_fields', 'integration_fields', 'remote_url', 'remote_created_at', 'remote_updated_at', 'remote_deleted_at']],
    ['application_interviews', ['application_id', 'position', 'interview_id', 'remote_id', 'title', 'starting_at', 'ending_at', 'location_city', 'location_country', 'location_raw', 'location_state', 'location_street_1', 'location_street_2', 'location_zip_code', 'canceled']],
    ['application_offers', ['application_id', 'position', 'offer_id', 'remote_id', 'status']],
  ],
  interviews: [
    ['interviews', ['id', 'remote_id', 'title', 'starting_at', 'ending_at', 'location_city', 'location_country', 'location_raw', 'location_state', 'location_street_1', 'location_street_2', 'location_zip_code', 'video_conferencing_url', 'application_id', 'stage_id', 'canceled', 'remote_created_at', 'remote_updated_at', 'remote_deleted_at']],
    ['interview_users', ['interview_id', 'position', 'user_id', 'remote_id', 'first_name', 'last_name', 'email']],
  ],
  jobs: [
    ['jobs', ['id', 'remote_id', 'name', 'job_code', 'description', 'confidential', 'weekly_hours', 'employment_type', 'status', 'visibility', 'category', 'department', 'post_url', 'experience_level', 'remote_work_status', 'salary_amount', 'salary_amount_from', 'salary_amount_to', 'salary_currency', 'salary_period', 'location_city', 'location_country', 'location_raw', 'location_state', 'location_street_1', 'location_street_2', 'location_zip_code', 'custom_fields', 'integration_fields', 'remote_url', 'opened_at', 'closed_at', 'remote_created_at', 'remote_updated_at', 'contact_id', 'remote_deleted_at']],
    ['job_stages', ['job_id', 'position', 'stage_id', 'remote_id', 'name', 'index']],
    ['job_hiring_team', ['job_id', 'position', 'user_id', 'remote_id', 'first_name', 'last_name', 'email', 'hiring_team_roles', 'job_roles']],
    ['job_screening_questions', ['job_id', 'position', 'question_id', 'remote_id', 'title', 'description', 'format', 'category', 'index', 'required', 'precondition_question_id', 'precondition_options']],
    ['job_postings', ['job_id', 'position', 'posting_id', 'remote_id', 'title', 'description_html', 'status', 'visibility', 'url']],
  ],
  offers: [
    ['offers', ['id', 'remote_id', 'status', 'employment_start_date', 'application_id', 'custom_fields', 'integration_fields', 'remote_created_at', 'remote_updated_at', 'remote_deleted_at']],
  ],
  users: [
    ['users', ['id', 'remote_id', 'first_name', 'last_name', 'email', 'status', 'remote_deleted_at']],
    ['user_system_roles', ['user_id', 'position', 'remote_id', 'remote_label', 'scope', 'unified_type']],
  ],
  rejection_reasons: [
    ['rejection_reasons', ['id', 'remote_id', 'name', 'remote_deleted_at']],
  ],
  application_stages: [
    ['application_stages', ['id', 'remote_id', 'name', 'remote_deleted_at']],
  ],
  tags: [
    ['tags', ['id', 'remote_id', 'name', 'remote_deleted_at']],
  ],
};

/** The legacy layout of each model (id `''`). */
export const legacyLayout = (model: ModelName): HashLayout => ({ id: '', tables: LEGACY_COLUMNS[model].map(([t, cols]): [string, string[]] => [t, [...cols]]) });

/** Where a layout's cells sit in the buffers a record was flattened into: per layout table, its buffer and column indexes. */
export type LayoutPlan = readonly (readonly [buffer: number, columns: readonly number[]])[];

/**
 * How to read `layout`'s cells from buffers of `tables` (data columns in table order, meta columns
 * left out); undefined when a table or column of the layout is no longer stored.
 */
export function planLayout(layout: HashLayout, tables: readonly TableDef[]): LayoutPlan | undefined {
  const plan: (readonly [number, number[]])[] = [];
  for (const [name, cols] of layout.tables) {
    const b = tables.findIndex((t) => t.name === name);
    if (b < 0) return undefined;
    const data = tables[b]!.columns.filter((c) => c.source.kind !== 'meta').map((c) => c.name);
    const idx = cols.map((c) => data.indexOf(c));
    if (idx.some((i) => i < 0)) return undefined;
    plan.push([b, idx]);
  }
  return plan;
}

/** The hash of one record's rows (rows `from[b]` on of each buffer) under a layout's plan. */
export function planHash(plan: LayoutPlan, buffers: readonly { readonly columns: readonly (readonly Cell[])[]; readonly rowCount: number }[], from: readonly number[]): string {
  const cells: Cell[][] = [];
  plan.forEach(([b, cols], t) => {
    const buf = buffers[b]!;
    for (let r = from[b]!; r < buf.rowCount; r++) cells.push([t, ...cols.map((c) => buf.columns[c]![r]!)] as Cell[]);
  });
  return versionHash(cells);
}

/** One record's hash under `layout`, tagged as the index stores it; undefined when a column of the layout is no longer stored. */
export function hashRecord(model: ModelName, layout: HashLayout, record: Record<string, unknown>, pii?: PiiOptions): string | undefined {
  const buffers = createBuffers(model);
  const plan = planLayout(layout, buffers.map((b) => b.table));
  if (plan === undefined) return undefined;
  flattenInto(buffers, [record], pii);
  return taggedHash(layout, planHash(plan, buffers, buffers.map(() => 0)));
}
