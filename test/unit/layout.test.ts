import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.ts';
import { assertIntegrationId, assertSnapshotDate, dataFileKey, hiveEscape, hiveUnescape, partitionPrefix } from '../../shared/warehouse/layout.ts';

describe('warehouse layout', () => {
  it('builds the contract path with Hive escaping and a 5-digit chunk', () => {
    expect(dataFileKey('candidates', '2026-11-23', 'greenhouse:AbC123', 'r1', 7)).toBe(
      'candidates/snapshot_date=2026-11-23/integration_id=greenhouse%3AAbC123/run-r1/part-00007.parquet',
    );
  });

  it('round-trips Hive escaping', () => {
    for (const v of ['greenhouse:AbC', 'a/b', 'x=y%z', 'plain']) expect(hiveUnescape(hiveEscape(v))).toBe(v);
    expect(hiveEscape('a:b')).toBe('a%3Ab');
  });

  it.each(['../etc', 'greenhouse/abc', 'greenhouse:..', 'greenhouse:a/b', 'noColon', 'greenhouse:a\u0000b', 'Greenhouse:abc', 'greenhouse:'])(
    'rejects the unsafe integration id %j',
    (id) => {
      expect(() => assertIntegrationId(id)).toThrow(ConfigError);
      expect(() => partitionPrefix('candidates', '2026-01-01', id)).toThrow(ConfigError);
    },
  );

  it.each(['2026-02-30', '2026-1-01', 'today', '2026-13-01'])('rejects the date %j', (d) => {
    expect(() => assertSnapshotDate(d)).toThrow(ConfigError);
  });
});
