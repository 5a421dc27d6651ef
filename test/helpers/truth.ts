/**
 * Expected warehouse rows computed straight from the sandbox's ground truth (the raw API records),
 * written out by hand per table: independent of the pipeline's own flattening code.
 */
import type { SandboxIntegrationData, SandboxModel } from '../../sandbox/index.ts';
import { modelRecords } from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;
type Row = Record<string, unknown>;

const ts = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : null);
const json = (v: unknown) => (v === undefined || v === null ? null : v);
const s = (v: unknown) => (v === undefined ? null : v);
const obj = (v: unknown): Rec => (v && typeof v === 'object' ? (v as Rec) : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);
const loc = (r: Rec) => {
  const l = obj(r['location']);
  return {
    location_city: s(l['city']),
    location_country: s(l['country']),
    location_raw: s(l['raw']),
    location_state: s(l['state']),
    location_street_1: s(l['street_1']),
    location_street_2: s(l['street_2']),
    location_zip_code: s(l['zip_code']),
  };
};

/** The id, remote id, name and change times every named list (reasons, stages, tags) has. */
const named = (r: Rec): Row => ({ id: r['id'], remote_id: s(r['remote_id']), name: s(r['name']), changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']) });

/**
 * The records of a model an integration serves, as a sync stores them: none when the sandbox
 * answers that the integration does not offer the model (the stream is skipped).
 */
export function servedRecords(data: SandboxIntegrationData, model: SandboxModel): Rec[] {
  return data.unavailableModels?.includes(model) === true ? [] : modelRecords(data, model);
}

export const EXPECTED: Record<string, { model: SandboxModel; key: string[]; rows: (r: Rec) => Row[] }> = {
  candidates: {
    model: 'candidates',
    key: ['id'],
    rows: (r) => [
      {
        id: r['id'], remote_id: s(r['remote_id']), first_name: s(r['first_name']), last_name: s(r['last_name']),
        company: s(r['company']), title: s(r['title']), confidential: s(r['confidential']), source: s(r['source']),
        ...loc(r),
        custom_fields: json(r['custom_fields']), integration_fields: json(r['integration_fields']), remote_url: s(r['remote_url']), remote_data: json(r['remote_data']),
        remote_created_at: ts(r['remote_created_at']), remote_updated_at: ts(r['remote_updated_at']),
        changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
      },
    ],
  },
  candidate_email_addresses: {
    model: 'candidates',
    key: ['candidate_id', 'position'],
    rows: (r) => arr(r['email_addresses']).map((e, i) => ({ candidate_id: r['id'], position: i, email_address: s(e['email_address']), type: s(e['type']) })),
  },
  candidate_phone_numbers: {
    model: 'candidates',
    key: ['candidate_id', 'position'],
    rows: (r) => arr(r['phone_numbers']).map((e, i) => ({ candidate_id: r['id'], position: i, phone_number: s(e['phone_number']), type: s(e['type']) })),
  },
  candidate_social_media: {
    model: 'candidates',
    key: ['candidate_id', 'position'],
    rows: (r) => arr(r['social_media']).map((e, i) => ({ candidate_id: r['id'], position: i, link: s(e['link']), type: s(e['type']), username: s(e['username']) })),
  },
  candidate_tags: {
    model: 'candidates',
    key: ['candidate_id', 'position'],
    rows: (r) => arr(r['tags']).map((e, i) => ({ candidate_id: r['id'], position: i, tag_id: s(e['id']), name: s(e['name']), remote_id: s(e['remote_id']) })),
  },
  applications: {
    model: 'applications',
    key: ['id'],
    rows: (r) => {
      const job = obj(r['job']);
      const stage = obj(r['current_stage']);
      return [
        {
          id: r['id'], remote_id: s(r['remote_id']), outcome: s(r['outcome']), rejection_reason_name: s(r['rejection_reason_name']),
          rejected_at: ts(r['rejected_at']), candidate_id: s(r['candidate_id']), job_id: s(r['job_id']),
          job_name: s(job['name']), job_remote_id: s(job['remote_id']), current_stage_id: s(r['current_stage_id']),
          current_stage_name: s(stage['name']), current_stage_remote_id: s(stage['remote_id']), current_stage_index: s(stage['index']),
          screening_question_answers: json(r['screening_question_answers']), custom_fields: json(r['custom_fields']),
          integration_fields: json(r['integration_fields']), remote_url: s(r['remote_url']),
          remote_created_at: ts(r['remote_created_at']), remote_updated_at: ts(r['remote_updated_at']), remote_data: json(r['remote_data']),
          changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
        },
      ];
    },
  },
  application_interviews: {
    model: 'applications',
    key: ['application_id', 'position'],
    rows: (r) =>
      arr(r['interviews']).map((iv, i) => ({
        application_id: r['id'], position: i, interview_id: s(iv['id']), remote_id: s(iv['remote_id']), title: s(iv['title']),
        starting_at: ts(iv['starting_at']), ending_at: ts(iv['ending_at']), ...loc(iv), canceled: s(iv['canceled']),
      })),
  },
  application_offers: {
    model: 'applications',
    key: ['application_id', 'position'],
    rows: (r) => arr(r['offers']).map((o, i) => ({ application_id: r['id'], position: i, offer_id: s(o['id']), remote_id: s(o['remote_id']), status: s(o['status']) })),
  },
  interviews: {
    model: 'interviews',
    key: ['id'],
    rows: (r) => [
      {
        id: r['id'], remote_id: s(r['remote_id']), title: s(r['title']), starting_at: ts(r['starting_at']), ending_at: ts(r['ending_at']),
        ...loc(r),
        video_conferencing_url: s(r['video_conferencing_url']), application_id: s(r['application_id']), stage_id: s(r['stage_id']),
        canceled: s(r['canceled']), remote_created_at: ts(r['remote_created_at']), remote_updated_at: ts(r['remote_updated_at']),
        remote_data: json(r['remote_data']), changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
      },
    ],
  },
  interview_users: {
    model: 'interviews',
    key: ['interview_id', 'position'],
    rows: (r) => arr(r['users']).map((u, i) => ({ interview_id: r['id'], position: i, user_id: s(u['id']), remote_id: s(u['remote_id']), first_name: s(u['first_name']), last_name: s(u['last_name']), email: s(u['email']) })),
  },
  jobs: {
    model: 'jobs',
    key: ['id'],
    rows: (r) => [
      {
        id: r['id'], remote_id: s(r['remote_id']), name: s(r['name']), job_code: s(r['job_code']), description: s(r['description']),
        confidential: s(r['confidential']), weekly_hours: s(r['weekly_hours']), employment_type: s(r['employment_type']), status: s(r['status']),
        visibility: s(r['visibility']), category: s(r['category']), department: s(r['department']), post_url: s(r['post_url']),
        experience_level: s(r['experience_level']), remote_work_status: s(r['remote_work_status']), salary_amount: s(r['salary_amount']),
        salary_amount_from: s(r['salary_amount_from']), salary_amount_to: s(r['salary_amount_to']), salary_currency: s(r['salary_currency']),
        salary_period: s(r['salary_period']), ...loc(r),
        custom_fields: json(r['custom_fields']), integration_fields: json(r['integration_fields']), remote_url: s(r['remote_url']),
        opened_at: ts(r['opened_at']), closed_at: ts(r['closed_at']), remote_created_at: ts(r['remote_created_at']), remote_updated_at: ts(r['remote_updated_at']),
        contact_id: s(r['contact_id']), remote_data: json(r['remote_data']), changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
      },
    ],
  },
  job_stages: {
    model: 'jobs',
    key: ['job_id', 'position'],
    rows: (r) => arr(r['stages']).map((st, i) => ({ job_id: r['id'], position: i, stage_id: s(st['id']), remote_id: s(st['remote_id']), name: s(st['name']), index: s(st['index']) })),
  },
  job_hiring_team: {
    model: 'jobs',
    key: ['job_id', 'position'],
    rows: (r) =>
      arr(r['hiring_team']).map((m, i) => ({
        job_id: r['id'], position: i, user_id: s(m['id']), remote_id: s(m['remote_id']), first_name: s(m['first_name']), last_name: s(m['last_name']),
        email: s(m['email']), hiring_team_roles: json(m['hiring_team_roles']), job_roles: json(m['job_roles']),
      })),
  },
  job_screening_questions: {
    model: 'jobs',
    key: ['job_id', 'position'],
    rows: (r) =>
      arr(r['screening_questions']).map((q, i) => ({
        job_id: r['id'], position: i, question_id: s(q['id']), remote_id: s(q['remote_id']), title: s(q['title']), description: s(q['description']),
        format: json(q['format']), category: s(q['category']), index: s(q['index']), required: s(q['required']),
        precondition_question_id: s(q['precondition_question_id']), precondition_options: json(q['precondition_options']),
      })),
  },
  job_postings: {
    model: 'jobs',
    key: ['job_id', 'position'],
    rows: (r) =>
      arr(r['job_postings']).map((p, i) => ({
        job_id: r['id'], position: i, posting_id: s(p['id']), remote_id: s(p['remote_id']), title: s(p['title']), description_html: s(p['description_html']),
        status: s(p['status']), visibility: s(p['visibility']), url: s(p['url']),
      })),
  },
  offers: {
    model: 'offers',
    key: ['id'],
    rows: (r) => [
      {
        id: r['id'], remote_id: s(r['remote_id']), status: s(r['status']), employment_start_date: ts(r['employment_start_date']), application_id: s(r['application_id']),
        custom_fields: json(r['custom_fields']), integration_fields: json(r['integration_fields']),
        remote_created_at: ts(r['remote_created_at']), remote_updated_at: ts(r['remote_updated_at']), remote_data: json(r['remote_data']),
        changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
      },
    ],
  },
  users: {
    model: 'users',
    key: ['id'],
    rows: (r) => [
      {
        id: r['id'], remote_id: s(r['remote_id']), first_name: s(r['first_name']), last_name: s(r['last_name']), email: s(r['email']), status: s(r['status']),
        remote_data: json(r['remote_data']), changed_at: ts(r['changed_at']), remote_deleted_at: ts(r['remote_deleted_at']),
      },
    ],
  },
  user_system_roles: {
    model: 'users',
    key: ['user_id', 'position'],
    rows: (r) =>
      arr(r['system_roles']).map((role, i) => ({
        user_id: r['id'], position: i, remote_id: s(role['remote_id']), remote_label: s(role['remote_label']), scope: s(role['scope']), unified_type: s(role['unified_type']),
      })),
  },
  rejection_reasons: { model: 'rejection_reasons', key: ['id'], rows: (r) => [{ ...named(r), remote_data: json(r['remote_data']) }] },
  application_stages: { model: 'application_stages', key: ['id'], rows: (r) => [named(r)] },
  tags: { model: 'tags', key: ['id'], rows: (r) => [named(r)] },
};

/** Columns of each expected table that hold JSON text in the warehouse. */
export const JSON_COLUMNS = new Set([
  'custom_fields', 'integration_fields', 'remote_data', 'screening_question_answers', 'hiring_team_roles', 'job_roles', 'format', 'precondition_options',
]);
/** Columns that hold timestamps. */
export const TIMESTAMP_COLUMNS = new Set([
  'remote_created_at', 'remote_updated_at', 'changed_at', 'remote_deleted_at', 'rejected_at', 'starting_at', 'ending_at', 'opened_at', 'closed_at',
  'employment_start_date',
]);

/** A stable sort key for a row. */
export const rowKey = (row: Row, key: readonly string[]) => key.map((k) => String(row[k]).padStart(12, '0')).join('|');
