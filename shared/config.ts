/**
 * Configuration values: the defaults and limits shared by the code, the docs and the tests, and the
 * checks of single values. Where a value comes from (a CLI flag, an environment variable, a Lambda's
 * environment) is the caller's business: the checks throw a {@link ConfigError} that says what is
 * wrong with the value, and the caller names where it came from (`cli/config.ts` for the CLI).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { PiiMode } from './flatten.ts';
import { PII_MODES } from './flatten.ts';
import { DEFAULT_FULL_EVERY_DAYS } from './pipeline/plan.ts';
import type { ModelName } from './tables.ts';
import { MODELS, isModelName } from './tables.ts';
import { assertIntegrationId } from './warehouse/layout.ts';

export const DEFAULT_WAREHOUSE = './warehouse';
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 64;
/** Days between full syncs of a stream (`--full-every`, `KOMBO_FULL_SYNC_EVERY_DAYS`): the pipeline's default. */
export { DEFAULT_FULL_EVERY_DAYS };
/** The longest `--full-every` accepted: ten years, i.e. in practice never again after the first. */
export const MAX_FULL_EVERY_DAYS = 3_650;
/** The environment variable of `--full-every`. */
export const FULL_SYNC_EVERY_DAYS_ENV = 'KOMBO_FULL_SYNC_EVERY_DAYS';
/** Shortest salt accepted: a short salt makes hashed emails guessable. */
export const MIN_PII_SALT_LENGTH = 32;
/**
 * Fewest different characters a salt must hold: refuses `aaaa…` and `abab…`, which a dictionary
 * tries first. A random hex string of 32 characters holds about 14.
 */
export const MIN_PII_SALT_DISTINCT = 10;
/** What a salt must be, as errors and the docs say it. */
export const PII_SALT_RULE = `at least ${MIN_PII_SALT_LENGTH} characters, with at least ${MIN_PII_SALT_DISTINCT} different ones (e.g. from \`openssl rand -hex 32\`)`;

/**
 * Chunk worker threads worth starting for `kombo-etl sync`: one per core but one (that core stays
 * with the thread waiting on Kombo), and no more than the streams fetched at once.
 */
export function defaultThreadCount(concurrency: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(concurrency, cores - 1));
}

/** A personal-data mode: one of {@link PII_MODES}. */
export function checkPiiMode(mode: string): PiiMode {
  if (!(PII_MODES as readonly string[]).includes(mode)) throw new ConfigError(`expected ${PII_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  return mode as PiiMode;
}

/** What is wrong with a salt ({@link PII_SALT_RULE}), or undefined when it is fine. Never quotes the salt. */
export function piiSaltProblem(salt: string | undefined): string | undefined {
  if (salt === undefined || salt === '') return 'is missing';
  const length = [...salt].length;
  if (length < MIN_PII_SALT_LENGTH) return `is ${length} characters long`;
  const distinct = new Set(salt).size;
  if (distinct < MIN_PII_SALT_DISTINCT) return `has only ${distinct} different character${distinct === 1 ? '' : 's'}`;
  return undefined;
}

/** The salt of piiMode `hash`, checked against {@link PII_SALT_RULE}. The salt is a secret: never echoed back. */
export function checkPiiSalt(salt: string | undefined): string {
  const problem = piiSaltProblem(salt);
  if (problem !== undefined) throw new ConfigError(`piiMode "hash" needs a secret salt of ${PII_SALT_RULE}; this one ${problem}`);
  return salt as string;
}

/** Days of the full-sync cycle, written as digits: from 1 (every sync full) to {@link MAX_FULL_EVERY_DAYS}. */
export function checkFullEveryDays(raw: string): number {
  const days = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_FULL_EVERY_DAYS) {
    throw new ConfigError(
      `expected a whole number of days from 1 to ${MAX_FULL_EVERY_DAYS} (the days of the full-sync cycle: each integration syncs in full on its own day of it; default ${DEFAULT_FULL_EVERY_DAYS}), got ${JSON.stringify(raw)}`,
    );
  }
  return days;
}

/** A whole number from `min` to `max` (streams at once, worker threads). */
export function checkCount(raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Model names, each one of {@link MODELS}, duplicates dropped, in the order given. */
export function checkModels(names: readonly string[]): ModelName[] {
  const models = [...new Set(names)];
  if (models.length === 0) throw new ConfigError('the list is empty');
  const unknown = models.find((m) => !isModelName(m));
  if (unknown !== undefined) throw new ConfigError(`unknown model ${JSON.stringify(unknown)} (expected ${MODELS.join(', ')})`);
  return models as ModelName[];
}

/** Integration ids, each safe as a partition value, duplicates dropped. */
export function checkIntegrationIds(ids: readonly string[]): string[] {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new ConfigError('the list is empty');
  for (const id of unique) assertIntegrationId(id);
  return unique;
}

/** Hosts an `http://` API URL may name: this machine, where the sandbox and test servers listen. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** Why an API URL is refused, or undefined when it is fine: https, or http to this machine only. */
export function apiUrlProblem(url: string): string | undefined {
  if (!z.url({ protocol: /^https?$/ }).safeParse(url).success) return 'is not an http(s) URL';
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:' || LOOPBACK_HOSTS.includes(hostname)) return undefined;
  return `sends the API key in clear text: use an https:// URL (http:// only for ${LOOPBACK_HOSTS.slice(0, 2).join(' or ')})`;
}

/** Kombo's API URL: https, or http to this machine only (the sandbox, test servers): the key travels with every request. */
export function checkApiUrl(url: string): string {
  const problem = apiUrlProblem(url);
  if (problem !== undefined) throw new ConfigError(`${JSON.stringify(url)} ${problem}`);
  return url;
}
