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

export const DEFAULT_WAREHOUSE = './warehouse';
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 64;

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
}

export interface SyncConfig {
  readonly apiUrl: string;
  /** Undefined means: start the built-in sandbox. */
  readonly apiKey: string | undefined;
  /** Undefined means: every integration the sandbox has (sandbox only). */
  readonly integrationIds: readonly string[] | undefined;
  readonly warehouse: string;
  readonly snapshotDate: string;
  readonly models: readonly ModelName[];
  readonly concurrency: number;
  /**
   * Worker threads that parse, validate and encode pages (0: on the main thread). Default: one per
   * core but one, at most one per stream at once (`defaultThreadCount`).
   */
  readonly threads: number;
  /** True when the API URL came from a flag or the environment rather than the default. */
  readonly apiUrlGiven: boolean;
  /** Personal-data columns: kept (default), hashed with a salt, or dropped. */
  readonly pii: PiiOptions;
  /** Built-in sandbox only: serve its simulated company as of the end of this day (`YYYY-MM-DD`). */
  readonly asOf?: string;
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

/** Build the sync config from flags, falling back to `KOMBO_API_URL`, `KOMBO_API_KEY`, `KOMBO_INTEGRATION_IDS`. */
export function parseSyncConfig(input: SyncInput, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): SyncConfig {
  const pick = (flag: string | undefined, envName: string) => {
    const fromFlag = flag?.trim();
    if (fromFlag) return fromFlag;
    const fromEnv = env[envName]?.trim();
    return fromEnv ? fromEnv : undefined;
  };
  const apiUrlRaw = pick(input.apiUrl, 'KOMBO_API_URL');
  const apiUrl = apiUrlRaw ?? KOMBO_EU_URL;
  const url = z.url({ protocol: /^https?$/ }).safeParse(apiUrl);
  if (!url.success) throw new ConfigError(`--api-url / KOMBO_API_URL: ${JSON.stringify(apiUrl)} is not an http(s) URL`);

  const apiKey = pick(input.apiKey, 'KOMBO_API_KEY');
  const idsRaw = pick(input.integrations, 'KOMBO_INTEGRATION_IDS');
  const integrationIds = idsRaw === undefined ? undefined : [...new Set(splitList(idsRaw))];
  if (integrationIds !== undefined) {
    if (integrationIds.length === 0) throw new ConfigError('--integrations / KOMBO_INTEGRATION_IDS: the list is empty');
    for (const id of integrationIds) {
      try {
        assertIntegrationId(id);
      } catch (err) {
        throw new ConfigError(`--integrations / KOMBO_INTEGRATION_IDS: ${(err as Error).message}`);
      }
    }
  }
  if (apiKey !== undefined && integrationIds === undefined) {
    throw new ConfigError(
      '--integrations / KOMBO_INTEGRATION_IDS is required with an API key: Kombo has no endpoint that lists integrations',
    );
  }

  const asOf = input.asOf?.trim() || undefined;
  if (asOf !== undefined) {
    if (apiKey !== undefined) throw new ConfigError('--as-of: only for the built-in sandbox (no API key); Kombo serves today\'s data');
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

  const models = input.models === undefined ? [...MODELS] : [...new Set(splitList(input.models))];
  if (models.length === 0) throw new ConfigError('--models: the list is empty');
  for (const m of models) {
    if (!isModelName(m)) throw new ConfigError(`--models: unknown model ${JSON.stringify(m)} (expected ${MODELS.join(', ')})`);
  }

  const concurrency = input.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(input.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new ConfigError(`--concurrency: expected an integer from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(input.concurrency)}`);
  }

  const threads = input.threads === undefined ? defaultThreadCount(concurrency) : Number(input.threads);
  if (!Number.isInteger(threads) || threads < 0 || threads > MAX_CONCURRENCY) {
    throw new ConfigError(`--threads: expected an integer from 0 to ${MAX_CONCURRENCY}, got ${JSON.stringify(input.threads)}`);
  }

  return {
    apiUrl,
    apiKey,
    integrationIds,
    warehouse: input.warehouse ?? DEFAULT_WAREHOUSE,
    snapshotDate,
    models: models as ModelName[],
    concurrency,
    threads,
    apiUrlGiven: apiUrlRaw !== undefined,
    pii: parsePiiOptions(input, env),
    ...(asOf !== undefined && { asOf }),
  };
}
