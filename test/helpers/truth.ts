/**
 * Expected warehouse rows computed straight from the sandbox's ground truth (the raw API records),
 * written out by hand per table: independent of the pipeline's own flattening code.
 */
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

export const EXPECTED: Record<string, { model: 'candidates' | 'applications' | 'interviews'; key: string[]; rows: (r: Rec) => Row[] }> = {
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
};

/** Columns of each expected table that hold JSON text in the warehouse. */
export const JSON_COLUMNS = new Set(['custom_fields', 'integration_fields', 'remote_data', 'screening_question_answers']);
/** Columns that hold timestamps. */
export const TIMESTAMP_COLUMNS = new Set(['remote_created_at', 'remote_updated_at', 'changed_at', 'remote_deleted_at', 'rejected_at', 'starting_at', 'ending_at']);

/** A stable sort key for a row. */
export const rowKey = (row: Row, key: readonly string[]) => key.map((k) => String(row[k]).padStart(12, '0')).join('|');
