import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columnReference, fieldReference } from '../../shared/docs.ts';
import { TABLES, UNSTORED_FIELDS, komboPath } from '../../shared/tables.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README column reference', () => {
  it('is the one generated from shared/tables.ts (run `npm run docs` after changing a table)', () => {
    expect(read('README.md')).toContain(columnReference().trim());
  });

  it('lists every column of every table', () => {
    const ref = columnReference();
    for (const t of TABLES) for (const c of t.columns) expect(ref).toContain(`| \`${c.name}\` |`);
  });

  it('links the field reference', () => {
    expect(read('README.md')).toContain('(docs/FIELDS.md)');
  });
});

describe('docs/FIELDS.md, the Kombo field reference', () => {
  it('is the one generated from shared/tables.ts (run `npm run docs` after changing a table)', () => {
    expect(read('docs/FIELDS.md')).toBe(fieldReference());
  });

  it('gives every stored field its table, column and type, and every other field its reason', () => {
    const ref = fieldReference();
    for (const t of TABLES) {
      for (const c of t.columns) {
        const path = komboPath(t, c);
        if (path !== undefined) expect(ref).toMatch(new RegExp(`^\\| \`${path.replace(/[.[\]]/g, '\\$&')}\` \\| \`${t.name}\\.${c.name}\` \\| \\S`, 'm'));
      }
    }
    for (const u of UNSTORED_FIELDS) expect(ref).toContain(`| \`${u.path}\` | not stored: ${u.reason} |`);
  });

  it('says which columns may lag after an incremental night: the copies of linked records, and none of the jobs', () => {
    const ref = fieldReference();
    const lagging = ref.split('\n').filter((l) => l.includes('| may lag')).map((l) => /\| `([^`]+)` \|/.exec(l.slice(l.indexOf('|', 1)))?.[1]);
    expect(lagging).toEqual(TABLES.flatMap((t) => t.columns.filter((c) => c.linked !== undefined).map((c) => `${t.name}.${c.name}`)));
    expect(lagging).toEqual(expect.arrayContaining(['applications.job_name', 'applications.current_stage_name', 'candidate_tags.name', 'interview_users.first_name']));
    expect(ref).toMatch(/^\| `stages\[\]\.name` \| `job_stages\.name` \|.*\| current \(listed in full every sync\) \|$/m);
  });

  it('says what each PII mode stores: names hashed or dropped, free text and addresses dropped', () => {
    const ref = fieldReference();
    expect(ref).toContain('| `first_name` | `candidates.first_name` | STRING (UTF-8) | kept | hashed | null |');
    expect(ref).toContain('| `title` | `interviews.title` | STRING (UTF-8) | kept | null | null |');
    expect(ref).toContain('| `interviews[].location.zip_code` | `application_interviews.location_zip_code` | STRING (UTF-8) | kept | null | null |');
    expect(ref).toContain('| `offers[].status` | `application_offers.status` | STRING (UTF-8) | kept | kept | kept |');
  });
});
