import { describe, expect, it } from 'vitest';
import { parseRetryConfig, parseSyncConfig } from '../../cli/config.ts';
import type { SyncInput } from '../../cli/config.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_FULL_EVERY_DAYS, DEFAULT_WAREHOUSE, MAX_FULL_EVERY_DAYS, defaultThreadCount } from '../../shared/config.ts';
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
      models: ['candidates', 'applications', 'interviews', 'jobs', 'offers', 'users', 'rejection_reasons', 'application_stages', 'tags'],
      concurrency: DEFAULT_CONCURRENCY,
    });
  });

  it('takes any of the models, in the order given', () => {
    expect(parseSyncConfig({ models: 'tags,jobs,rejection_reasons,jobs' }, {}, now).models).toEqual(['tags', 'jobs', 'rejection_reasons']);
  });

  it('falls back to the environment, flags win', () => {
    const env = { KOMBO_API_URL: 'http://127.0.0.1:1/v1', KOMBO_API_KEY: 'k', KOMBO_INTEGRATION_IDS: 'lever:A1, lever:B2' };
    expect(parseSyncConfig({}, env, now)).toMatchObject({ apiUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', integrationIds: ['lever:A1', 'lever:B2'] });
    expect(parseSyncConfig({ integrations: 'ashby:Z9' }, env, now).integrationIds).toEqual(['ashby:Z9']);
  });

  it.each([
    [{ snapshotDate: '2026-02-30' }, /--snapshot-date/],
    [{ models: 'candidates,offer' }, /--models: unknown model "offer" \(expected candidates, applications, interviews, jobs, offers, users, rejection_reasons, application_stages, tags\)/],
    [{ models: 'jobs,rejection-reasons' }, /--models: unknown model "rejection-reasons"/],
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

describe('choosing between Kombo and the built-in sandbox', () => {
  it('takes the sandbox when nothing Kombo-related is set, or when --sandbox says so', () => {
    expect(parseSyncConfig({}, {}, now)).toMatchObject({ source: 'sandbox', apiKey: undefined, integrationIds: undefined });
    expect(parseSyncConfig({ sandbox: true, integrations: 'lever:A1' }, {}, now)).toMatchObject({ source: 'sandbox', integrationIds: ['lever:A1'] });
    // --as-of only exists for the sandbox: it chooses it as explicitly as --sandbox does.
    expect(parseSyncConfig({ asOf: '2025-06-01', integrations: 'lever:A1' }, {}, now)).toMatchObject({ source: 'sandbox', integrationIds: ['lever:A1'] });
  });

  it('with --sandbox, ignores the Kombo settings of the environment', () => {
    const env = { KOMBO_API_KEY: 'k', KOMBO_API_URL: 'http://127.0.0.1:1/v1', KOMBO_INTEGRATION_IDS: 'lever:A1' };
    expect(parseSyncConfig({ sandbox: true }, env, now)).toMatchObject({ source: 'sandbox', apiKey: undefined, integrationIds: undefined });
  });

  it('takes Kombo with a key', () => {
    expect(parseSyncConfig({ apiKey: 'k', integrations: 'lever:A1' }, {}, now)).toMatchObject({ source: 'kombo', apiKey: 'k' });
  });

  it.each([
    ['--api-url', { apiUrl: 'http://127.0.0.1:1/v1' }, {}],
    ['--integrations', { integrations: 'lever:A1' }, {}],
    ['KOMBO_API_URL', {}, { KOMBO_API_URL: 'http://127.0.0.1:1/v1' }],
    ['KOMBO_INTEGRATION_IDS', {}, { KOMBO_INTEGRATION_IDS: 'lever:A1' }],
    ['--api-url and --integrations', { apiUrl: 'http://127.0.0.1:1/v1', integrations: 'lever:A1' }, {}],
  ])('rejects %s without an API key, naming the missing key', (given, input, env) => {
    const parse = () => parseSyncConfig(input, env, now);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/KOMBO_API_KEY/);
    expect(parse).toThrow(/--api-key/);
    expect(parse).toThrow(given);
  });

  it.each([
    ['alone', {}],
    ['with KOMBO_INTEGRATION_IDS', { KOMBO_INTEGRATION_IDS: 'lever:A1' }],
    ['of blanks', { KOMBO_API_KEY: '  ' }],
  ])('counts an empty KOMBO_API_KEY as missing (%s)', (_what, env) => {
    const parse = () => parseSyncConfig({}, { KOMBO_API_KEY: '', ...env }, now);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/KOMBO_API_KEY is empty/);
  });

  it('counts an empty --api-key as missing', () => {
    expect(() => parseSyncConfig({ apiKey: '', integrations: 'lever:A1' }, {}, now)).toThrow(/--api-key is empty/);
  });

  it.each([
    [{ sandbox: true, apiKey: 'k' }, /--sandbox.*--api-key/],
    [{ sandbox: true, apiUrl: 'http://127.0.0.1:1/v1' }, /--sandbox.*--api-url/],
  ])('rejects --sandbox together with Kombo flags: %j', (input, message) => {
    expect(() => parseSyncConfig(input, {}, now)).toThrow(message);
  });
});

describe('the snapshot date', () => {
  it('takes today and earlier days', () => {
    expect(parseSyncConfig({ snapshotDate: '2026-11-23' }, {}, now).snapshotDate).toBe('2026-11-23');
    expect(parseSyncConfig({ snapshotDate: '2020-01-01' }, {}, now).snapshotDate).toBe('2020-01-01');
  });

  it.each([
    [{ snapshotDate: '2026-11-24' }, '2026-11-24'],
    [{ snapshotDate: '2099-01-01' }, '2099-01-01'],
    [{ asOf: '2026-12-01' }, '2026-12-01'],
  ])('rejects a day after today (UTC) unless --allow-future-date: %j', (input: SyncInput, date) => {
    expect(() => parseSyncConfig(input, {}, now)).toThrow(ConfigError);
    expect(() => parseSyncConfig(input, {}, now)).toThrow(/after today \(2026-11-23, UTC\).*--allow-future-date/);
    expect(parseSyncConfig({ ...input, allowFutureDate: true }, {}, now).snapshotDate).toBe(date);
  });

  it('judges "today" in UTC', () => {
    // 23:30 in New York on the 23rd is already the 24th in UTC.
    expect(parseSyncConfig({ snapshotDate: '2026-11-24' }, {}, new Date('2026-11-23T23:30:00-05:00')).snapshotDate).toBe('2026-11-24');
  });
});

describe('full and incremental syncs: --full, --full-every, KOMBO_FULL_SYNC_EVERY_DAYS', () => {
  it('syncs by each stream\'s state unless --full, with a full sync every 7 days by default', () => {
    // Act
    const c = parseSyncConfig({}, {}, now);
    // Assess
    expect(DEFAULT_FULL_EVERY_DAYS).toBe(7);
    expect(c).toMatchObject({ full: false, fullEveryDays: DEFAULT_FULL_EVERY_DAYS });
    expect(parseSyncConfig({ full: true }, {}, now).full).toBe(true);
  });

  it.each([
    [{ fullEvery: '1' }, {}, 1],
    [{ fullEvery: ' 30 ' }, {}, 30],
    [{ fullEvery: String(MAX_FULL_EVERY_DAYS) }, {}, MAX_FULL_EVERY_DAYS],
    [{}, { KOMBO_FULL_SYNC_EVERY_DAYS: '14' }, 14],
    [{}, { KOMBO_FULL_SYNC_EVERY_DAYS: '' }, DEFAULT_FULL_EVERY_DAYS],
    [{ fullEvery: '3' }, { KOMBO_FULL_SYNC_EVERY_DAYS: '14' }, 3],
  ])('takes whole days from 1: %j %j gives %i, the flag before the environment', (input: SyncInput, env, days) => {
    expect(parseSyncConfig(input, env, now).fullEveryDays).toBe(days);
  });

  it.each([
    [{ fullEvery: '0' }, {}, /^--full-every: expected a whole number of days from 1 to 3650 .*got "0"$/],
    [{ fullEvery: '-7' }, {}, /^--full-every: .*got "-7"$/],
    [{ fullEvery: '1.5' }, {}, /^--full-every: .*got "1\.5"$/],
    [{ fullEvery: 'weekly' }, {}, /^--full-every: .*got "weekly"$/],
    [{ fullEvery: '' }, {}, /^--full-every: .*got ""$/],
    [{ fullEvery: '1e3' }, {}, /^--full-every: .*got "1e3"$/],
    [{ fullEvery: '3651' }, {}, /^--full-every: .*got "3651"$/],
    [{}, { KOMBO_FULL_SYNC_EVERY_DAYS: '0' }, /^KOMBO_FULL_SYNC_EVERY_DAYS: expected a whole number of days from 1 .*got "0"$/],
    [{}, { KOMBO_FULL_SYNC_EVERY_DAYS: 'seven' }, /^KOMBO_FULL_SYNC_EVERY_DAYS: .*got "seven"$/],
  ])('rejects %j %j with a ConfigError naming the option', (input: SyncInput, env, message) => {
    expect(() => parseSyncConfig(input, env, now)).toThrow(ConfigError);
    expect(() => parseSyncConfig(input, env, now)).toThrow(message);
  });
});

describe('parseRetryConfig', () => {
  it('takes integrations from the flag or KOMBO_INTEGRATION_IDS, as sync does, but does not need them', () => {
    expect(parseRetryConfig({ apiKey: 'k' }, {})).toMatchObject({ source: 'kombo', integrationIds: undefined });
    expect(parseRetryConfig({ apiKey: 'k', integrations: 'lever:A1' }, {}).integrationIds).toEqual(['lever:A1']);
    expect(parseRetryConfig({}, { KOMBO_API_KEY: 'k', KOMBO_INTEGRATION_IDS: 'lever:A1,lever:B2' }).integrationIds).toEqual(['lever:A1', 'lever:B2']);
  });

  it.each([
    [{ integrations: 'lever:A1' }, {}, /KOMBO_API_KEY/],
    [{}, { KOMBO_INTEGRATION_IDS: 'lever:A1' }, /KOMBO_API_KEY/],
    [{}, { KOMBO_API_KEY: '' }, /KOMBO_API_KEY is empty/],
    [{ apiUrl: 'http://127.0.0.1:1/v1' }, {}, /KOMBO_API_KEY/],
  ])('rejects Kombo settings without a key, as sync does: %j %j', (input, env, message) => {
    expect(() => parseRetryConfig(input, env)).toThrow(ConfigError);
    expect(() => parseRetryConfig(input, env)).toThrow(message);
  });

  it('takes the sandbox when nothing Kombo-related is set, or with --sandbox', () => {
    expect(parseRetryConfig({}, {}).source).toBe('sandbox');
    expect(parseRetryConfig({ sandbox: true }, { KOMBO_API_KEY: 'k' }).source).toBe('sandbox');
  });
});
