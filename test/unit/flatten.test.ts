import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePage } from '../../shared/kombo/client.ts';
import { createBuffers, flattenInto, hashPii, piiTreatment } from '../../shared/flatten.ts';
import type { PiiOptions, TableBuffer } from '../../shared/flatten.ts';
import type { ModelName } from '../../shared/tables.ts';
import { TABLES } from '../../shared/tables.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

/** Rows of one buffer as objects, for readable assertions. */
function rows(buf: TableBuffer): Record<string, unknown>[] {
  const cols = buf.table.columns.filter((c) => c.source.kind !== 'meta');
  // `_is_deleted` is checked on its own below; the payload tests compare Kombo's fields.
  return Array.from({ length: buf.rowCount }, (_, r) =>
    Object.fromEntries(cols.flatMap((c, i) => (c.source.kind === 'deleted' ? [] : [[c.name, buf.columns[i]![r]]]))),
  );
}

/** The `_is_deleted` flags of a buffer's rows. */
function deletedFlags(buf: TableBuffer): unknown[] {
  const i = buf.table.columns.filter((c) => c.source.kind !== 'meta').findIndex((c) => c.source.kind === 'deleted');
  return buf.columns[i]!.slice(0, buf.rowCount);
}

function flattenFixture(model: ModelName, file: string, pii?: PiiOptions) {
  const page = parsePage(fixture(file), model, { integrationId: 'lever:X', model });
  const buffers = createBuffers(model);
  flattenInto(buffers, page.records, pii);
  return Object.fromEntries(buffers.map((b) => [b.table.name, rows(b)]));
}

describe('flattening Kombo documented payloads', () => {
  it('flags a record returned with remote_deleted_at as deleted, and its child rows with it', () => {
    const page = parsePage(fixture('candidates-page.json'), 'candidates', { integrationId: 'lever:X', model: 'candidates' });
    const live = page.records[0]!;
    const gone = { ...live, id: 'deletedCandidate0000000000', remote_deleted_at: '2024-05-01T00:00:00.000Z' };
    const buffers = createBuffers('candidates');
    flattenInto(buffers, [live, gone]);
    const [candidates, emails] = buffers;
    expect(deletedFlags(candidates!)).toEqual([false, true]);
    expect(emails!.rowCount).toBeGreaterThanOrEqual(2);
    expect(deletedFlags(emails!)).toEqual([...Array<boolean>(emails!.rowCount / 2).fill(false), ...Array<boolean>(emails!.rowCount / 2).fill(true)]);
  });

  it('candidates: nested objects joined with _, arrays into child tables, free-form as JSON text', () => {
    const t = flattenFixture('candidates', 'candidates-page.json');
    expect(t['candidates']).toHaveLength(1);
    expect(t['candidates']![0]).toMatchObject({
      id: '26vafvWSRmbhNcxJYqjCzuJg',
      first_name: 'John',
      confidential: false,
      location_city: 'Berlin',
      location_street_1: 'Lohmühlenstraße 65',
      location_street_2: null,
      custom_fields: '{}',
      integration_fields: '[]',
      remote_data: null,
      remote_created_at: Date.parse('2022-04-02T00:00:00.000Z'),
      remote_deleted_at: null,
    });
    expect(t['candidate_email_addresses']).toEqual([
      { candidate_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, email_address: 'john.doe@example.com', type: 'PRIVATE' },
    ]);
    expect(t['candidate_phone_numbers']).toEqual([{ candidate_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, phone_number: '+1-541-754-3010', type: 'HOME' }]);
    expect(t['candidate_social_media']![0]).toMatchObject({ link: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', type: 'YOUTUBE', username: null });
    expect(t['candidate_tags']).toEqual([{ candidate_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, tag_id: '26vafvWSRmbhNcxJYqjCzuJg', name: 'High Potential', remote_id: '32' }]);
  });

  it('applications: job and current stage flattened', () => {
    const t = flattenFixture('applications', 'applications-page.json');
    expect(t['applications']![0]).toMatchObject({
      id: '26vafvWSRmbhNcxJYqjCzuJg',
      outcome: 'HIRED',
      candidate_id: 'H77fDF8uvEzGNPRubiz5DvQ7',
      job_id: 'H5daSm8e85Dmvmne3wLeCPhX',
      job_name: 'Backend Engineer',
      job_remote_id: '32',
      current_stage_id: '5J7L4b48wBfffYwek9Az9pkM',
      current_stage_name: 'Initial Screening',
      current_stage_index: null,
    });
  });

  it('interviews: location flattened, users into interview_users', () => {
    const t = flattenFixture('interviews', 'interviews-page.json');
    expect(t['interviews']![0]).toMatchObject({ application_id: 'H77fDF8uvEzGNPRubiz5DvQ7', stage_id: 'H5daSm8e85Dmvmne3wLeCPhX', canceled: false, location_country: 'DE' });
    expect(t['interview_users']).toEqual([
      { interview_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, user_id: '26vafvWSRmbhNcxJYqjCzuJg', remote_id: '32', first_name: 'John', last_name: 'Doe', email: 'john.doe@kombo.dev' },
    ]);
  });

  it('applications: offers into application_offers, nested interviews into application_interviews with their location', () => {
    const t = flattenFixture('applications', 'kombo-server/applications-1.json');
    expect(t['application_offers']!.map((r) => [r['application_id'], r['position'], r['status']])).toEqual([
      ['26vafvWSRmbhNcxJYqjCzuJg', 0, 'DRAFT'],
      ['26vafvWSRmbhNcxJYqjCzuJg', 1, 'APPROVED'],
      ['26vafvWSRmbhNcxJYqjCzuJg', 2, 'SENT'],
      ['Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', 0, 'ACCEPTED'],
      ['Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', 1, 'DECLINED'],
      ['Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', 2, 'ABANDONED'],
      ['Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3', 3, null],
    ]);
    expect(t['application_interviews']![1]).toEqual({
      application_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 1, interview_id: 'Pq4Wn8Ds2Kx6Mv1Tz9Hb3Rc7', remote_id: null, title: null,
      starting_at: Date.parse('2023-06-27T07:15:30.123Z'), ending_at: null,
      location_city: null, location_country: null, location_raw: null, location_state: null, location_street_1: null, location_street_2: null, location_zip_code: null,
      canceled: true,
    });
    expect(t['application_interviews']![2]).toMatchObject({ interview_id: 'Ht7Vx3Lq8Wm2Rk6Pd9Ns4Bc1', location_city: 'Oslo', location_street_1: null, canceled: null });
  });

  it('jobs: fractional hours and salaries as numbers, location joined with _, custom and integration fields as JSON text', () => {
    const t = flattenFixture('jobs', 'kombo-server/jobs-1.json');
    expect(t['jobs']).toHaveLength(2);
    expect(t['jobs']![0]).toMatchObject({
      id: '26vafvWSRmbhNcxJYqjCzuJg',
      weekly_hours: 37.5,
      salary_amount: 4200,
      salary_amount_from: 3900.25,
      status: 'OPEN',
      location_city: 'Berlin',
      location_street_2: null,
      custom_fields: '{"cost_center":"R&D-7","headcount":2}',
      opened_at: Date.parse('2022-08-07T14:01:29.196Z'),
      closed_at: null,
    });
    // Fields a record leaves out (employment_type, location, integration_fields…) are null, not an error.
    expect(t['jobs']![1]).toMatchObject({ id: 'Hm3Kx8Wq2Lt6Rv9Pd4Ns7Bc1', weekly_hours: null, employment_type: null, location_city: null, integration_fields: null });
  });

  it('jobs: stages with their funnel index, hiring team with roles as JSON arrays, screening questions and postings', () => {
    const t = flattenFixture('jobs', 'kombo-server/jobs-1.json');
    expect(t['job_stages']!.map((r) => [r['job_id'], r['position'], r['stage_id'], r['name'], r['index']])).toEqual([
      ['26vafvWSRmbhNcxJYqjCzuJg', 0, 'Stg0Lq2Wm8Rt4Xk1Pv6Nd3Hs', 'Initial Screening', 0],
      ['26vafvWSRmbhNcxJYqjCzuJg', 1, 'Stg1Mx7Tb3Wq9Lr2Kd5Vn8Jc', 'Technical Interview', 1],
      ['26vafvWSRmbhNcxJYqjCzuJg', 2, 'Stg2Hp4Rz6Xm1Ws8Qt3Lb9Kd', 'Offer', 2],
      ['26vafvWSRmbhNcxJYqjCzuJg', 3, 'Stg3Vc9Nk2Jd7Ht4Ms1Pw6Rx', 'Talent pool', null],
    ]);
    expect(t['job_hiring_team']![0]).toEqual({
      job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', remote_id: 'u-10', first_name: 'Leda', last_name: 'Watsica',
      email: 'leda.watsica@example.com', hiring_team_roles: '["HIRING_MANAGER","INTERVIEWER"]',
      job_roles: '[{"remote_id":"hm","remote_label":"Hiring Manager","scope":"JOB","unified_type":"HIRING_MANAGER"}]',
    });
    expect(t['job_hiring_team']![1]).toMatchObject({ email: null, hiring_team_roles: '[]', job_roles: '[]' });
    expect(t['job_screening_questions']!.map((r) => [r['question_id'], r['format'], r['index'], r['required'], r['precondition_options']])).toEqual([
      ['Sq1Wn4Kt8Rm2Xv6Lp9Hd3Bc7', '{"display_type":"SINGLE_LINE","max_length":null,"type":"TEXT"}', 0, true, null],
      ['Sq2Hb7Mz3Qt9Wk1Rn5Xd8Lv4', expect.stringContaining('"type":"SINGLE_SELECT"'), null, false, '[true]'],
    ]);
    expect(t['job_postings']).toEqual([
      {
        job_id: '26vafvWSRmbhNcxJYqjCzuJg', position: 0, posting_id: 'Pst1Rx6Kq2Wm9Tb4Lz7Nd3Hc', remote_id: 'post-77', title: 'Backend Engineer (m/w/d)',
        description_html: '<h1>Backend Engineer</h1><p>Berlin, hybrid</p>', status: 'ACTIVE', visibility: 'PUBLIC', url: 'https://jobs.example.com/post/159829112',
      },
    ]);
  });

  it('offers: status, start date and application id; the nested application is not a column', () => {
    const t = flattenFixture('offers', 'kombo-server/offers-1.json');
    expect(t['offers']!.map((r) => [r['id'], r['status'], r['employment_start_date'], r['application_id']])).toEqual([
      ['Ofr1Dq7Lm2Xp9Sv4Kt8Wb3Ny', 'DRAFT', null, '26vafvWSRmbhNcxJYqjCzuJg'],
      ['Ofr4Zs1Kv6Lt3Xq8Md2Wp7Hn', 'ACCEPTED', Date.parse('2023-09-01T00:00:00.000Z'), 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3'],
      ['Ofr5Xb8Nm3Rq6Kd1Vt4Lw9Js', 'DECLINED', Date.parse('2023-10-14T22:00:00.000Z'), null],
      ['Ofr7Qd5Js8Vn2Lx6Tb3Mk9Wr', null, null, 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3'],
    ]);
    expect(t['offers']![1]).toMatchObject({ custom_fields: '{"signing_bonus":2500.5,"relocation":true}', remote_data: '{"offer":{"version":3}}' });
    expect(Object.keys(t['offers']![1]!)).not.toContain('application');
  });

  it('users: names, email and status; system roles into user_system_roles', () => {
    const t = flattenFixture('users', 'kombo-server/users-1.json');
    expect(t['users']!.map((r) => [r['id'], r['first_name'], r['email'], r['status']])).toEqual([
      ['Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', 'Leda', 'leda.watsica@example.com', 'ACTIVE'],
      ['Usr2Pz7Tc3Mw1Jk5Qr9Ld6Vn', 'Ørjan', null, 'INACTIVE'],
      ['Usr3Wm6Lt2Xq8Rk4Pd1Nv7Hc', null, null, null],
    ]);
    expect(t['user_system_roles']).toEqual([
      { user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', position: 0, remote_id: 'admin', remote_label: 'Site Admin', scope: 'SYSTEM', unified_type: 'ADMIN' },
      { user_id: 'Usr1Kd4Wq8Lm2Rt6Xv9Nb3Hs', position: 1, remote_id: null, remote_label: 'Onboarding Owner', scope: 'SYSTEM', unified_type: null },
      { user_id: 'Usr3Wm6Lt2Xq8Rk4Pd1Nv7Hc', position: 0, remote_id: 'rec', remote_label: null, scope: null, unified_type: 'RECRUITER' },
    ]);
  });

  it.each([
    ['rejection_reasons', 'kombo-server/rejection-reasons-1.json', ['76bab8LKuFtqpZ89mofCPMHX', '6', 'Not a fit']],
    ['application_stages', 'kombo-server/application-stages-1.json', ['Stg0Lq2Wm8Rt4Xk1Pv6Nd3Hs', 's-1', 'Initial Screening']],
    ['tags', 'kombo-server/tags-1.json', ['26vafvWSRmbhNcxJYqjCzuJg', '32', 'High Potential']],
  ] as const)('%s: id, remote id, name, change times', (model, file, first) => {
    const t = flattenFixture(model, file);
    expect(Object.keys(t)).toEqual([model]);
    const [row] = t[model]!;
    expect([row!['id'], row!['remote_id'], row!['name']]).toEqual(first);
    expect(row!['changed_at']).toBe(Date.parse('2022-08-07T14:01:29.196Z'));
    expect(t[model]!.at(-1)!['remote_deleted_at'] ?? 'not deleted').toBe(model === 'tags' ? 'not deleted' : Date.parse(model === 'rejection_reasons' ? '2023-02-02T00:00:00.000Z' : '2022-09-01T00:00:00.000Z'));
  });

  it('rejects a job whose weekly hours are not a number', () => {
    const page = JSON.parse(JSON.stringify(fixture('kombo-server/jobs-1.json'))) as { data: { results: Record<string, unknown>[] } };
    page.data.results[0]!['weekly_hours'] = '37,5';
    expect(() => parsePage(page, 'jobs', { integrationId: 'lever:X', model: 'jobs' })).toThrow(/weekly_hours/);
  });

  it('rejects a page whose nested interview has a timestamp that is not one', () => {
    const page = JSON.parse(JSON.stringify(fixture('kombo-server/applications-1.json'))) as { data: { results: { interviews: Record<string, unknown>[] }[] } };
    page.data.results[0]!.interviews[0]!['starting_at'] = 'next Tuesday';
    expect(() => parsePage(page, 'applications', { integrationId: 'lever:X', model: 'applications' })).toThrow(/interviews\.0\.starting_at/);
  });

  it('keeps empty strings empty, nulls null and positions in order', () => {
    const b = createBuffers('candidates');
    flattenInto(b, [{ id: 'c1', company: '', title: null, email_addresses: [{ email_address: 'a@x' }, { email_address: 'b@x', type: 'WORK' }] }]);
    const t = Object.fromEntries(b.map((x) => [x.table.name, rows(x)]));
    expect(t['candidates']![0]).toMatchObject({ company: '', title: null, confidential: null });
    expect(t['candidate_email_addresses']!.map((r) => [r['position'], r['email_address'], r['type']])).toEqual([
      [0, 'a@x', null],
      [1, 'b@x', 'WORK'],
    ]);
  });
});

describe('table contract', () => {
  it('every table carries _run_id, _synced_at and _is_deleted, and column names are unique', () => {
    for (const t of TABLES) {
      const names = t.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names.slice(-3)).toEqual(['_run_id', '_synced_at', '_is_deleted']);
    }
  });

  it('never drops a column or changes its type: Parquet files of earlier snapshots must still read', () => {
    // test/fixtures/table-contract.json is the published contract: add new columns to it, never edit one.
    const published = fixture('table-contract.json') as Record<string, Record<string, string>>;
    const current = Object.fromEntries(TABLES.map((t) => [t.name, Object.fromEntries(t.columns.map((c) => [c.name, c.type]))]));
    for (const [table, columns] of Object.entries(published)) expect(current[table], table).toMatchObject(columns);
    expect(current).toEqual(published);
  });

  it('declares the tables of the design, no more', () => {
    expect(TABLES.map((t) => t.name).sort()).toEqual(
      [
        'application_interviews', 'application_offers', 'application_stages', 'applications', 'candidate_email_addresses',
        'candidate_phone_numbers', 'candidate_social_media', 'candidate_tags', 'candidates', 'integrations', 'interview_users', 'interviews',
        'job_hiring_team', 'job_postings', 'job_screening_questions', 'job_stages', 'jobs', 'offers', 'rejection_reasons', 'tags',
        'user_system_roles', 'users',
      ],
    );
  });
});

describe('personal data per --pii-mode', () => {
  const SALT = 'a-salt-of-sixteen-or-more';

  it.each([
    ['name', 'keep', 'kept'], ['name', 'hash', 'hashed'], ['name', 'drop', 'null'],
    ['email', 'hash', 'hashed'], ['phone', 'hash', 'hashed'], ['handle', 'hash', 'hashed'],
    ['address', 'keep', 'kept'], ['address', 'hash', 'null'], ['address', 'drop', 'null'],
    ['text', 'keep', 'kept'], ['text', 'hash', 'null'], ['text', 'drop', 'null'],
    ['raw', 'hash', 'null'], [undefined, 'drop', 'kept'],
    ['person', 'keep', 'kept'], ['person', 'hash', 'null'], ['person', 'drop', 'null'],
    ['category', 'keep', 'kept'], ['category', 'hash', 'category'], ['category', 'drop', 'category'],
  ] as const)('%s in %s mode: %s', (kind, mode, want) => {
    expect(piiTreatment(kind, mode)).toBe(want);
  });

  it.each(['hash', 'drop'] as const)('%s: names hashed or null; titles, employers, links, street addresses and free-form fields null; the rest kept', (mode) => {
    const pii: PiiOptions = mode === 'hash' ? { mode, salt: SALT } : { mode };
    const c = flattenFixture('candidates', 'kombo-server/candidates-1.json', pii)['candidates']![0]!;
    expect(c).toMatchObject({
      first_name: mode === 'hash' ? hashPii('name', 'John', SALT) : null,
      location_city: 'Berlin', location_country: 'DE', location_street_1: null, location_zip_code: null, location_raw: null,
      custom_fields: null, integration_fields: null, remote_data: null,
      company: null, title: null, remote_url: null,
    });
    const a = flattenFixture('applications', 'kombo-server/applications-1.json', pii);
    expect(a['applications']![0]).toMatchObject({ screening_question_answers: null, custom_fields: null, outcome: 'HIRED', remote_url: 'https://app.greenhouse.io/applications/32' });
    expect(a['application_interviews']!.map((r) => [r['title'], r['location_street_1'], r['location_city']])).toEqual([
      [null, null, 'Berlin'],
      [null, null, null],
      [null, null, 'Oslo'],
    ]);
    expect(a['application_offers']![0]).toMatchObject({ offer_id: 'Ofr1Dq7Lm2Xp9Sv4Kt8Wb3Ny', status: 'DRAFT' });
    const i = flattenFixture('interviews', 'kombo-server/interviews-1.json', pii);
    expect(i['interviews']![0]).toMatchObject({ title: null, location_zip_code: null, video_conferencing_url: null, location_city: 'Berlin', canceled: false });
  });

  it.each(['hash', 'drop'] as const)('%s: user and hiring team names and emails hashed or null, their remote ids null; job descriptions and free-form fields null; the rest kept, the job\'s address too', (mode) => {
    const pii: PiiOptions = mode === 'hash' ? { mode, salt: SALT } : { mode };
    const hashed = (kind: 'name' | 'email', value: string) => (mode === 'hash' ? hashPii(kind, value, SALT) : null);
    const u = flattenFixture('users', 'kombo-server/users-1.json', pii);
    expect(u['users']![0]).toMatchObject({
      first_name: hashed('name', 'Leda'), last_name: hashed('name', 'Watsica'), email: hashed('email', 'leda.watsica@example.com'),
      status: 'ACTIVE', remote_id: null,
    });
    const j = flattenFixture('jobs', 'kombo-server/jobs-1.json', pii);
    // The same person hashes alike as a user and as a hiring team member, so the two still join.
    expect(j['job_hiring_team']![0]).toMatchObject({ first_name: u['users']![0]!['first_name'], email: u['users']![0]!['email'], remote_id: null, hiring_team_roles: '["HIRING_MANAGER","INTERVIEWER"]' });
    expect(j['jobs']![0]).toMatchObject({
      description: null, custom_fields: null, integration_fields: null, remote_data: null,
      name: 'Backend Engineer', department: 'Engineering', weekly_hours: 37.5,
      // A job's location is the employer's address, kept in every mode.
      location_city: 'Berlin', location_raw: 'Berlin, Germany', location_street_1: 'Lohmühlenstraße 65', location_zip_code: '12435',
    });
    expect(j['job_postings']![0]).toMatchObject({ description_html: null, title: 'Backend Engineer (m/w/d)' });
    const o = flattenFixture('offers', 'kombo-server/offers-1.json', pii);
    expect(o['offers']![1]).toMatchObject({ custom_fields: null, remote_data: null, status: 'ACCEPTED', application_id: 'Bv6Jt2Wq9Lm4Xs8Pk1Rd5Nc3' });
  });
});
