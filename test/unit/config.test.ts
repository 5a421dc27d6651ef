import { describe, expect, it } from 'vitest';
import { DEFAULT_CONCURRENCY, DEFAULT_WAREHOUSE, defaultThreadCount, parseSyncConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { KOMBO_EU_URL } from '../../shared/kombo/client.ts';

const now = new Date('2026-11-23T10:00:00Z');

describe('parseSyncConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseSyncConfig({}, {}, now);
    expect(c).toMatchObject({
      apiUrl: KOMBO_EU_URL,
      apiKey: undefined,
      warehouse: DEFAULT_WAREHOUSE,
      snapshotDate: '2026-11-23',
      models: ['candidates', 'applications', 'interviews'],
      concurrency: DEFAULT_CONCURRENCY,
    });
  });

  it('falls back to the environment, flags win', () => {
    const env = { KOMBO_API_URL: 'http://127.0.0.1:1/v1', KOMBO_API_KEY: 'k', KOMBO_INTEGRATION_IDS: 'lever:A1, lever:B2' };
    expect(parseSyncConfig({}, env, now)).toMatchObject({ apiUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', integrationIds: ['lever:A1', 'lever:B2'] });
    expect(parseSyncConfig({ integrations: 'ashby:Z9' }, env, now).integrationIds).toEqual(['ashby:Z9']);
  });

  it.each([
    [{ snapshotDate: '2026-02-30' }, /--snapshot-date/],
    [{ models: 'candidates,offers' }, /--models: unknown model "offers"/],
    [{ concurrency: '0' }, /--concurrency/],
    [{ threads: '-1' }, /--threads: expected an integer from 0/],
    [{ threads: 'two' }, /--threads/],
    [{ integrations: 'greenhouse:../x' }, /--integrations/],
    [{ apiKey: 'k' }, /KOMBO_INTEGRATION_IDS is required/],
    [{ apiUrl: 'ftp://x' }, /--api-url/],
  ])('rejects %j with a message naming the option', (input, message) => {
    expect(() => parseSyncConfig(input, {}, now)).toThrow(ConfigError);
    expect(() => parseSyncConfig(input, {}, now)).toThrow(message);
  });

  it('takes --threads 0 (work on the main thread) and defaults to one thread per core but one, at most one per stream', () => {
    expect(parseSyncConfig({ threads: '0' }, {}, now).threads).toBe(0);
    expect(defaultThreadCount(10, 8)).toBe(7);
    expect(defaultThreadCount(3, 8)).toBe(3);
    expect(defaultThreadCount(10, 2)).toBe(1);
    expect(defaultThreadCount(10, 1)).toBe(1);
  });
});
