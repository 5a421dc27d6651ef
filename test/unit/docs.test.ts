import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columnReference } from '../../shared/docs.ts';
import { TABLES } from '../../shared/tables.ts';

describe('README column reference', () => {
  it('is the one generated from shared/tables.ts (run `npm run docs` after changing a table)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(columnReference().trim());
  });

  it('lists every column of every table', () => {
    const ref = columnReference();
    for (const t of TABLES) for (const c of t.columns) expect(ref).toContain(`| \`${c.name}\` |`);
  });
});
