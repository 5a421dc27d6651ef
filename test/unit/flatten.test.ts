import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePage } from '../../shared/kombo/client.ts';
import { createBuffers, flattenInto } from '../../shared/flatten.ts';
import type { TableBuffer } from '../../shared/flatten.ts';
import type { ModelName } from '../../shared/tables.ts';
import { TABLES } from '../../shared/tables.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

/** Rows of one buffer as objects, for readable assertions. */
function rows(buf: TableBuffer): Record<string, unknown>[] {
  const cols = buf.table.columns.filter((c) => c.source.kind !== 'meta');
  return Array.from({ length: buf.rowCount }, (_, r) => Object.fromEntries(cols.map((c, i) => [c.name, buf.columns[i]![r]])));
}

function flattenFixture(model: ModelName, file: string) {
  const page = parsePage(fixture(file), model, { integrationId: 'lever:X', model });
  const buffers = createBuffers(model);
  flattenInto(buffers, page.records);
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

  it('declares the tables of the design, no more', () => {
    expect(TABLES.map((t) => t.name).sort()).toEqual(
      ['applications', 'candidate_email_addresses', 'candidate_phone_numbers', 'candidate_social_media', 'candidate_tags', 'candidates', 'interview_users', 'interviews'],
    );
  });
});
