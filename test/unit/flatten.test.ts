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
  return Array.from({ length: buf.rowCount }, (_, r) => Object.fromEntries(cols.map((c, i) => [c.name, buf.columns[i]![r]])));
}

function flattenFixture(model: ModelName, file: string, pii?: PiiOptions) {
  const page = parsePage(fixture(file), model, { integrationId: 'lever:X', model });
  const buffers = createBuffers(model);
  flattenInto(buffers, page.records, pii);
  return Object.fromEntries(buffers.map((b) => [b.table.name, rows(b)]));
}

describe('flattening Kombo documented payloads', () => {
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
  it('every table carries _run_id and _synced_at, and column names are unique', () => {
    for (const t of TABLES) {
      const names = t.columns.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names.slice(-2)).toEqual(['_run_id', '_synced_at']);
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
        'application_interviews', 'application_offers', 'applications', 'candidate_email_addresses', 'candidate_phone_numbers',
        'candidate_social_media', 'candidate_tags', 'candidates', 'interview_users', 'interviews',
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
  ] as const)('%s in %s mode: %s', (kind, mode, want) => {
    expect(piiTreatment(kind, mode)).toBe(want);
  });

  it.each(['hash', 'drop'] as const)('%s: names hashed or null; titles, street addresses and free-form fields null; the rest kept', (mode) => {
    const pii: PiiOptions = mode === 'hash' ? { mode, salt: SALT } : { mode };
    const c = flattenFixture('candidates', 'kombo-server/candidates-1.json', pii)['candidates']![0]!;
    expect(c).toMatchObject({
      first_name: mode === 'hash' ? hashPii('name', 'John', SALT) : null,
      location_city: 'Berlin', location_country: 'DE', location_street_1: null, location_zip_code: null, location_raw: null,
      custom_fields: null, integration_fields: null, remote_data: null,
      company: 'Acme, Inc.', remote_url: 'https://app.greenhouse.io/people/32',
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
});
