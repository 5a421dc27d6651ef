/**
 * Configuration, read once at start-up from CLI options with environment fallbacks, validated with a
 * schema. Errors name the option or variable at fault. Defaults are named constants shared with the
 * docs and tests.
 */
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { KOMBO_EU_URL } from './kombo/client.ts';
import type { ModelName } from './tables.ts';
import type { PiiMode, PiiOptions } from './flatten.ts';
import { DEFAULT_PII_MODE, PII_MODES } from './flatten.ts';
import { MODELS, isModelName } from './tables.ts';
import { assertIntegrationId, assertSnapshotDate, todayUtc } from './warehouse/layout.ts';
import { availableParallelism } from 'node:os';
import { DEFAULT_FULL_EVERY_DAYS } from './pipeline/plan.ts';
import type { DataSource } from './state/source.ts';

export const DEFAULT_WAREHOUSE = './warehouse';
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 64;
/** Days between full syncs of a stream (`--full-every`, `KOMBO_FULL_SYNC_EVERY_DAYS`): the pipeline's default. */
export { DEFAULT_FULL_EVERY_DAYS };
/** The longest `--full-every` accepted: ten years, i.e. in practice never again after the first. */
export const MAX_FULL_EVERY_DAYS = 3_650;
/** The environment variable of `--full-every`. */
export const FULL_SYNC_EVERY_DAYS_ENV = 'KOMBO_FULL_SYNC_EVERY_DAYS';

/** Raw inputs: CLI flags (already parsed by the CLI library) and the environment. */
export interface SyncInput {
  readonly apiUrl?: string;
  readonly apiKey?: string;
  readonly integrations?: string;
  readonly warehouse?: string;
  readonly snapshotDate?: string;
  readonly models?: string;
  readonly concurrency?: string;
  readonly threads?: string;
  readonly asOf?: string;
  readonly piiMode?: string;
  readonly piiSalt?: string;
  /** `--sandbox`: sync the built-in sandbox, whatever Kombo settings the environment holds. */
  readonly sandbox?: boolean;
  /** `--allow-future-date`: take a snapshot date after today (UTC), for the simulated clock. */
  readonly allowFutureDate?: boolean;
  /** `--full`: sync every stream in full, whatever its state. */
  readonly full?: boolean;
  /** `--full-every DAYS`: a stream whose last full sync is this many days old syncs in full again. */
  readonly fullEvery?: string;
}

/**
 * Where to fetch from. The built-in sandbox is used only when chosen (`--sandbox`, or `--as-of`,
 * which only the sandbox serves) or when no Kombo setting is given at all: a Kombo setting without
 * a key is a mistake (a secret gone missing), never a reason to sync made-up data.
 */
export interface SourceConfig {
  readonly source: DataSource;
  readonly apiUrl: string;
  /** Set exactly when `source` is `kombo`. */
  readonly apiKey: string | undefined;
  /** Undefined means: every integration (the sandbox's, or for `retry` the run's). */
  readonly integrationIds: readonly string[] | undefined;
  /** True when the API URL came from a flag or the environment rather than the default. */
  readonly apiUrlGiven: boolean;
}

export interface SyncConfig extends SourceConfig {
  readonly warehouse: string;
  readonly snapshotDate: string;
  readonly models: readonly ModelName[];
  readonly concurrency: number;
  /**
   * Worker threads that parse, validate and encode pages (0: on the main thread). Default: one per
   * core but one, at most one per stream at once (`defaultThreadCount`).
   */
  readonly threads: number;
  /** Personal-data columns: kept (default), hashed with a salt, or dropped. */
  readonly pii: PiiOptions;
  /** Built-in sandbox only: serve its simulated company as of the end of this day (`YYYY-MM-DD`). */
  readonly asOf?: string;
  /** Sync every stream in full (`--full`); otherwise each stream is full or incremental by its state. */
  readonly full: boolean;
  /** A stream whose last full sync is this many days before the snapshot date syncs in full again. */
  readonly fullEveryDays: number;
}

/**
 * Chunk worker threads worth starting for `kombo-etl sync`: one per core but one (that core stays
 * with the thread waiting on Kombo), and no more than the streams fetched at once.
 */
export function defaultThreadCount(concurrency: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(concurrency, cores - 1));
}

/** `--pii-mode` / `KOMBO_PII_MODE` and `--pii-salt` / `KOMBO_PII_SALT`: hash needs a salt of 16+ characters. */
export function parsePiiOptions(input: Pick<SyncInput, 'piiMode' | 'piiSalt'>, env: NodeJS.ProcessEnv = process.env): PiiOptions {
  const mode = input.piiMode?.trim() || env['KOMBO_PII_MODE']?.trim() || DEFAULT_PII_MODE;
  if (!(PII_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`--pii-mode / KOMBO_PII_MODE: expected ${PII_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  if (mode !== 'hash') return { mode: mode as PiiMode };
  const salt = input.piiSalt?.trim() || env['KOMBO_PII_SALT']?.trim();
  // The salt is a secret: never echo it back.
  if (salt === undefined || salt.length < MIN_PII_SALT_LENGTH) {
    throw new ConfigError(`--pii-salt / KOMBO_PII_SALT: piiMode "hash" needs a secret salt of at least ${MIN_PII_SALT_LENGTH} characters`);
  }
  return { mode: 'hash', salt };
}

/** Shortest salt accepted: a short salt makes hashed emails guessable. */
export const MIN_PII_SALT_LENGTH = 16;

const splitList = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The Kombo settings: flags first, then `KOMBO_API_URL`, `KOMBO_API_KEY`, `KOMBO_INTEGRATION_IDS`. */
const KOMBO_SETTINGS = [
  { flag: '--api-url', key: 'apiUrl', env: 'KOMBO_API_URL' },
  { flag: '--api-key', key: 'apiKey', env: 'KOMBO_API_KEY' },
  { flag: '--integrations', key: 'integrations', env: 'KOMBO_INTEGRATION_IDS' },
] as const;

/**
 * Decide between Kombo and the built-in sandbox, and read the Kombo settings.
 * @param requireIntegrations with a key, whether integration ids must be given (sync: Kombo has no
 *   endpoint that lists them; retry: the run's plan has them).
 */
function parseSource(input: SyncInput, env: NodeJS.ProcessEnv, requireIntegrations: boolean): SourceConfig {
  // Given at all, even empty: `KOMBO_API_KEY=` in a cron job means a key was meant and is missing.
  const given = KOMBO_SETTINGS.filter((s) => input[s.key] !== undefined || env[s.env] !== undefined);
  const value = (s: (typeof KOMBO_SETTINGS)[number]) => nonEmpty(input[s.key] ?? env[s.env]);
  const named = (s: (typeof KOMBO_SETTINGS)[number]) => (input[s.key] !== undefined ? s.flag : s.env);
  const chosen = input.sandbox === true || nonEmpty(input.asOf) !== undefined;

  if (chosen) {
    const flags = KOMBO_SETTINGS.filter((s) => s.key !== 'integrations' && input[s.key] !== undefined).map((s) => s.flag);
    if (flags.length > 0) {
      const why = input.sandbox === true ? '--sandbox' : '--as-of: only for the built-in sandbox, which';
      throw new ConfigError(`${why} takes no ${flags.join(' or ')}: leave ${flags.length > 1 ? 'them' : 'it'} out, or sync Kombo without ${input.sandbox === true ? '--sandbox' : '--as-of'}`);
    }
    // Chosen explicitly: the environment's Kombo settings are not meant for it; --integrations picks sandbox integrations.
    return { source: 'sandbox', apiUrl: KOMBO_EU_URL, apiKey: undefined, integrationIds: parseIntegrationIds(nonEmpty(input.integrations)), apiUrlGiven: false };
  }

  // Nothing of Kombo's set at all: the built-in sandbox, as a first try on a laptop expects.
  if (given.length === 0) return { source: 'sandbox', apiUrl: KOMBO_EU_URL, apiKey: undefined, integrationIds: undefined, apiUrlGiven: false };
  const keySetting = KOMBO_SETTINGS[1];
  const apiKey = value(keySetting);
  if (apiKey === undefined) {
    const emptyKey = given.includes(keySetting) ? `${named(keySetting)} is empty` : `no API key, but ${listed(given.map(named))} ${given.length > 1 ? 'are' : 'is'} set`;
    throw new ConfigError(`${emptyKey}: set KOMBO_API_KEY or pass --api-key to sync Kombo (pass --sandbox, and no Kombo settings, for the built-in sandbox)`);
  }

  const apiUrlRaw = value(KOMBO_SETTINGS[0]);
  const apiUrl = apiUrlRaw ?? KOMBO_EU_URL;
  const url = z.url({ protocol: /^https?$/ }).safeParse(apiUrl);
  if (!url.success) throw new ConfigError(`--api-url / KOMBO_API_URL: ${JSON.stringify(apiUrl)} is not an http(s) URL`);

  const integrationIds = parseIntegrationIds(value(KOMBO_SETTINGS[2]));
  if (requireIntegrations && integrationIds === undefined) {
    throw new ConfigError(
      '--integrations / KOMBO_INTEGRATION_IDS is required with an API key: Kombo has no endpoint that lists integrations',
    );
  }
  return { source: 'kombo', apiUrl, apiKey, integrationIds, apiUrlGiven: apiUrlRaw !== undefined };
}

/** `a`, `a and b`, `a, b and c`. */
const listed = (items: readonly string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** The trimmed value, or undefined when it is missing or blank. */
const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

function parseIntegrationIds(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const ids = [...new Set(splitList(raw))];
  if (ids.length === 0) throw new ConfigError('--integrations / KOMBO_INTEGRATION_IDS: the list is empty');
  for (const id of ids) {
    try {
      assertIntegrationId(id);
    } catch (err) {
      throw new ConfigError(`--integrations / KOMBO_INTEGRATION_IDS: ${(err as Error).message}`);
    }
  }
  return ids;
}

/** Build the sync config from flags, falling back to `KOMBO_API_URL`, `KOMBO_API_KEY`, `KOMBO_INTEGRATION_IDS`. */
export function parseSyncConfig(input: SyncInput, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): SyncConfig {
  const source = parseSource(input, env, true);

  const asOf = nonEmpty(input.asOf);
  if (asOf !== undefined) {
    try {
      assertSnapshotDate(asOf);
    } catch (err) {
      throw new ConfigError(`--as-of: ${(err as Error).message}`);
    }
  }
  // Syncing the simulated sandbox day by day: the snapshot is the simulated day unless told otherwise.
  const snapshotDate = input.snapshotDate ?? asOf ?? todayUtc(now);
  try {
    assertSnapshotDate(snapshotDate);
  } catch (err) {
    throw new ConfigError(`--snapshot-date: ${(err as Error).message}`);
  }
  // A snapshot after today would be every `_latest` view's latest, hiding the real ones after it.
  if (snapshotDate > todayUtc(now) && input.allowFutureDate !== true) {
    const flag = input.snapshotDate === undefined ? '--as-of' : '--snapshot-date';
    throw new ConfigError(
      `${flag}: ${snapshotDate} is after today (${todayUtc(now)}, UTC) and would hide every real snapshot from the _latest views; pass --allow-future-date to write it anyway`,
    );
  }

  const models = input.models === undefined ? [...MODELS] : [...new Set(splitList(input.models))];
  if (models.length === 0) throw new ConfigError('--models: the list is empty');
  for (const m of models) {
    if (!isModelName(m)) throw new ConfigError(`--models: unknown model ${JSON.stringify(m)} (expected ${MODELS.join(', ')})`);
  }

  return {
    ...source,
    warehouse: input.warehouse ?? DEFAULT_WAREHOUSE,
    snapshotDate,
    models: models as ModelName[],
    ...parseWorkers(input),
    pii: parsePiiOptions(input, env),
    ...(asOf !== undefined && { asOf }),
    full: input.full === true,
    fullEveryDays: parseFullEveryDays(input.fullEvery, env),
  };
}

/**
 * `--full-every DAYS` / `KOMBO_FULL_SYNC_EVERY_DAYS`: a whole number of days from 1 (every sync
 * full) to {@link MAX_FULL_EVERY_DAYS}; default {@link DEFAULT_FULL_EVERY_DAYS}. The flag wins.
 */
export function parseFullEveryDays(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromFlag = flag !== undefined;
  const raw = fromFlag ? flag : env[FULL_SYNC_EVERY_DAYS_ENV];
  // Unset, or set empty in the environment (a cron job's `VAR=`): the default.
  if (raw === undefined || (!fromFlag && raw.trim() === '')) return DEFAULT_FULL_EVERY_DAYS;
  const days = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_FULL_EVERY_DAYS) {
    const name = fromFlag ? '--full-every' : FULL_SYNC_EVERY_DAYS_ENV;
    throw new ConfigError(
      `${name}: expected a whole number of days from 1 to ${MAX_FULL_EVERY_DAYS} (the days of the full-sync cycle: each integration syncs in full on its own day of it; default ${DEFAULT_FULL_EVERY_DAYS}), got ${JSON.stringify(raw)}`,
    );
  }
  return days;
}

/** What `kombo-etl retry` reads: the source as for sync, but integrations are optional (the run's plan has them). */
export type RetryConfig = SourceConfig &
  Pick<SyncConfig, 'warehouse' | 'concurrency' | 'threads' | 'pii'> & {
    /** Whether `--pii-mode` / `KOMBO_PII_MODE` was set: otherwise the retry takes the run's own mode. */
    readonly piiModeGiven: boolean;
  };

/**
 * Build the retry config. The source is decided as for sync; `--integrations` /
 * `KOMBO_INTEGRATION_IDS`, when given, narrow the retry to those integrations' streams.
 */
export function parseRetryConfig(input: Omit<SyncInput, 'snapshotDate' | 'models' | 'asOf' | 'allowFutureDate'>, env: NodeJS.ProcessEnv = process.env): RetryConfig {
  return {
    ...parseSource(input, env, false),
    warehouse: input.warehouse ?? DEFAULT_WAREHOUSE,
    ...parseWorkers(input),
    pii: parsePiiOptions(input, env),
    piiModeGiven: (input.piiMode?.trim() || env['KOMBO_PII_MODE']?.trim() || '') !== '',
  };
}

function parseWorkers(input: Pick<SyncInput, 'concurrency' | 'threads'>): Pick<SyncConfig, 'concurrency' | 'threads'> {
  const concurrency = input.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(input.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new ConfigError(`--concurrency: expected an integer from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(input.concurrency)}`);
  }

  const threads = input.threads === undefined ? defaultThreadCount(concurrency) : Number(input.threads);
  if (!Number.isInteger(threads) || threads < 0 || threads > MAX_CONCURRENCY) {
    throw new ConfigError(`--threads: expected an integer from 0 to ${MAX_CONCURRENCY}, got ${JSON.stringify(input.threads)}`);
  }
  return { concurrency, threads };
}
