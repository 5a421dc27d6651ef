import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuffers, flattenInto } from '../../shared/flatten.ts';
import { encodeParquet } from '../../shared/parquet.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';

const ROCKET = '🚀 Growth Hacker';
const FULLWIDTH = 'Ｇｒｏｗｔｈ Hacker';
const N = 30_000;

describe('Parquet files, read back by DuckDB', () => {
  let db: Reader;
  let file: string;
  let allNullFile: string;

  beforeAll(async () => {
    const records = Array.from({ length: N }, (_, i) => ({
      id: `c${String(i).padStart(6, '0')}`,
      // Emoji (4-byte UTF-8, a surrogate pair in UTF-16) next to fullwidth letters (3-byte UTF-8,
      // above the surrogates in UTF-16): UTF-16 ordered statistics get these two backwards.
      title: [ROCKET, FULLWIDTH, 'Engineer', 'Ärztin'][i % 4],
      confidential: i % 3 === 0 ? null : i % 3 === 1,
      remote_created_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
      custom_fields: { level: { n: i, tags: ['a', null] } },
    }));
    const buffers = createBuffers('candidates');
    flattenInto(buffers, records);
    const dir = mkdtempSync(join(tmpdir(), 'kombo-parquet-'));
    file = join(dir, 'candidates.parquet');
    writeFileSync(file, encodeParquet(buffers[0]!, { runId: 'run-a', syncedAt: Date.UTC(2026, 10, 23) }));
    const empty = createBuffers('candidates');
    flattenInto(empty, [{ id: 'only' }]);
    allNullFile = join(dir, 'nulls.parquet');
    writeFileSync(allNullFile, encodeParquet(empty[0]!, { runId: 'run-a', syncedAt: 0 }));
    db = await duck();
  });
  afterAll(() => db.close());

  it.each([ROCKET, FULLWIDTH])('an equality filter on %s finds every matching row (byte-order statistics)', async (title) => {
    const rows = await db.all(`SELECT count(*)::INT AS n FROM '${file}' WHERE title = '${title}'`);
    expect(rows[0]!['n']).toBe(N / 4);
  });

  it('string statistics are in byte order (the emoji is the maximum, not the fullwidth letters)', async () => {
    const rows = await db.all(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${file}') WHERE path_in_schema = 'title'`);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      // Max may be truncated (and rounded up), so compare its start.
      expect(String(r['hi']).startsWith('🚀')).toBe(true);
      expect(r['lo']).toBe('Engineer');
    }
  });

  it('writes contract types: INT64 TIMESTAMP(MILLIS, UTC), BOOLEAN, INT32, UTF-8; never INT96', async () => {
    for (const f of [file, allNullFile]) {
      const schema = await db.all(`SELECT name, type, logical_type FROM parquet_schema('${f}') WHERE name IN ('remote_created_at', '_synced_at', 'confidential', 'title', 'custom_fields')`);
      const byName = Object.fromEntries(schema.map((r) => [r['name'], r]));
      expect(byName['remote_created_at']).toMatchObject({ type: 'INT64' });
      expect(String(byName['remote_created_at']!['logical_type'])).toMatch(/isAdjustedToUTC=1.*MILLIS/);
      expect(byName['_synced_at']).toMatchObject({ type: 'INT64' });
      expect(byName['confidential']).toMatchObject({ type: 'BOOLEAN' });
      expect(byName['title']).toMatchObject({ type: 'BYTE_ARRAY' });
      expect(schema.some((r) => r['type'] === 'INT96')).toBe(false);
    }
  });

  it('round-trips values: timestamps, booleans, nulls and JSON text', async () => {
    const rows = await db.all(
      `SELECT id, epoch_ms(remote_created_at)::DOUBLE AS ts, confidential, json_extract(custom_fields::JSON, '$.level.n')::INT AS n, _run_id FROM '${file}' WHERE id IN ('c000000', 'c000001') ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 'c000000', ts: Date.UTC(2024, 0, 1), confidential: null, n: 0, _run_id: 'run-a' },
      { id: 'c000001', ts: Date.UTC(2024, 0, 1) + 60_000, confidential: true, n: 1, _run_id: 'run-a' },
    ]);
  });
});
