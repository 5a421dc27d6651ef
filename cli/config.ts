/**
 * The options of `sync` and `retry`, read once at start-up: CLI flags first, then the environment
 * (`KOMBO_API_URL`, `KOMBO_API_KEY`, `KOMBO_INTEGRATION_IDS`, `KOMBO_PII_MODE`, `KOMBO_PII_SALT`,
 * `KOMBO_FULL_SYNC_EVERY_DAYS`). The two secrets, the API key and the hash salt, can also be read
 * from a file (`--api-key-file`, `KOMBO_API_KEY_FILE`, `--pii-salt-file`, `KOMBO_PII_SALT_FILE`).
 * Each value is checked by `shared/config.ts`; an error names the option or variable at fault.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../shared/errors.ts';
import { errnoCode } from '../shared/adapters/local/folder-store.ts';
import { KOMBO_EU_URL } from '../shared/kombo/client.ts';
import type { ModelName } from '../shared/tables.ts';
import type { PiiOptions } from '../shared/flatten.ts';
import { DEFAULT_PII_MODE } from '../shared/flatten.ts';
import { MODELS } from '../shared/tables.ts';
import { assertSnapshotDate, todayUtc } from '../shared/warehouse/layout.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_FULL_EVERY_DAYS,
  DEFAULT_WAREHOUSE,
  FULL_SYNC_EVERY_DAYS_ENV,
  MAX_CONCURRENCY,
  checkApiUrl,
  checkCount,
  checkFullEveryDays,
  checkIntegrationIds,
  checkModels,
  checkPiiMode,
  checkPiiSalt,
  defaultThreadCount,
} from '../shared/config.ts';
import type { DataSource } from '../shared/state/source.ts';

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
  /** `--api-key-file`: a file holding the API key (kept out of `ps` and shell history). */
  readonly apiKeyFile?: string;
  /** `--pii-salt-file`: a file holding the hash salt. */
  readonly piiSaltFile?: string;
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

/** What `kombo-etl retry` reads: the source as for sync, but integrations are optional (the run's plan has them). */
export type RetryConfig = SourceConfig &
  Pick<SyncConfig, 'warehouse' | 'concurrency' | 'threads' | 'pii'> & {
    /** Whether `--pii-mode` / `KOMBO_PII_MODE` was set: otherwise the retry takes the run's own mode. */
    readonly piiModeGiven: boolean;
  };

/** Check a value with `check`, naming where it came from in the error. */
function named<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof Error) throw new ConfigError(`${name}: ${err.message}`);
    throw err;
  }
}

/**
 * `--pii-mode` / `KOMBO_PII_MODE`, and for `hash` its salt, from the first of `--pii-salt`,
 * `--pii-salt-file`, `KOMBO_PII_SALT`, `KOMBO_PII_SALT_FILE` that is set; the salt must pass
 * `checkPiiSalt` (32 characters or more, enough of them different).
 */
export function parsePiiOptions(input: Pick<SyncInput, 'piiMode' | 'piiSalt' | 'piiSaltFile'>, env: NodeJS.ProcessEnv = process.env): PiiOptions {
  const mode = named('--pii-mode / KOMBO_PII_MODE', () => checkPiiMode(input.piiMode?.trim() || env['KOMBO_PII_MODE']?.trim() || DEFAULT_PII_MODE));
  if (mode !== 'hash') return { mode };
  const salt = secretValue({ flag: input.piiSalt, fileFlag: input.piiSaltFile, fileFlagName: '--pii-salt-file', env, variable: 'KOMBO_PII_SALT' });
  return { mode, salt: named('the salt (KOMBO_PII_SALT, KOMBO_PII_SALT_FILE or --pii-salt-file)', () => checkPiiSalt(salt)) };
}

/** A secret's places, in the order read: its flag, a file named by flag, its variable, a file named by `<variable>_FILE`. */
interface SecretSources {
  readonly flag: string | undefined;
  readonly fileFlag: string | undefined;
  readonly fileFlagName: string;
  readonly env: NodeJS.ProcessEnv;
  readonly variable: string;
}

/** The secret from the first of its places that is set; undefined when none is. */
function secretValue(from: SecretSources): string | undefined {
  if (from.flag !== undefined) return from.flag.trim();
  if (from.fileFlag !== undefined) return readSecretFile(from.fileFlagName, from.fileFlag);
  const value = from.env[from.variable];
  if (value !== undefined && value.trim() !== '') return value.trim();
  const file = nonEmpty(from.env[`${from.variable}_FILE`]);
  return file === undefined ? value : readSecretFile(`${from.variable}_FILE`, file);
}

/**
 * A secret from a file: its text without surrounding white space (the line break an editor or
 * `echo` adds). A file that cannot be read, or is empty, is a ConfigError naming the option and path.
 */
export function readSecretFile(option: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'no such file' : errnoCode(err) === 'EISDIR' ? 'is a folder' : errnoCode(err) === 'EACCES' ? 'no permission to read it' : 'cannot be read';
    throw new ConfigError(`${option} ${path}: ${why}; give the file that holds the secret`);
  }
  if (text.trim() === '') throw new ConfigError(`${option} ${path}: the file is empty; write the secret into it`);
  return text.trim();
}

/**
 * What to warn about: a secret given as a flag can be read by any user of the machine (`ps`) and
 * stays in the shell's history. The flags still work, for scripts written before the files.
 */
export function secretFlagWarnings(input: Pick<SyncInput, 'apiKey' | 'piiSalt'>): string[] {
  const warn = (flag: string, variable: string, fileFlag: string) =>
    `warning: ${flag} shows the secret to every user of this machine (ps) and keeps it in the shell's history; set ${variable} or ${variable}_FILE, or pass ${fileFlag}, instead`;
  return [
    ...(input.apiKey !== undefined ? [warn('--api-key', 'KOMBO_API_KEY', '--api-key-file')] : []),
    ...(input.piiSalt !== undefined ? [warn('--pii-salt', 'KOMBO_PII_SALT', '--pii-salt-file')] : []),
  ];
}

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
function parseSource(given: SyncInput, givenEnv: NodeJS.ProcessEnv, requireIntegrations: boolean): SourceConfig {
  const chosen = given.sandbox === true || nonEmpty(given.asOf) !== undefined;
  if (chosen && given.apiKeyFile !== undefined) throw new ConfigError(`${given.sandbox === true ? '--sandbox' : '--as-of'} takes no --api-key-file: leave it out, or sync Kombo without it`);
  const { input, env } = chosen ? { input: given, env: givenEnv } : withKeyFile(given, givenEnv);
  return parseSourceSettings(input, env, requireIntegrations);
}

/**
 * The API key read from its file (`--api-key-file`, else `KOMBO_API_KEY_FILE`) into `--api-key` /
 * `KOMBO_API_KEY`, where those are not set themselves.
 */
function withKeyFile(input: SyncInput, env: NodeJS.ProcessEnv): { input: SyncInput; env: NodeJS.ProcessEnv } {
  if (input.apiKey === undefined && input.apiKeyFile !== undefined) return { input: { ...input, apiKey: readSecretFile('--api-key-file', input.apiKeyFile) }, env };
  const file = nonEmpty(env['KOMBO_API_KEY_FILE']);
  if (input.apiKey === undefined && nonEmpty(env['KOMBO_API_KEY']) === undefined && file !== undefined) return { input, env: { ...env, KOMBO_API_KEY: readSecretFile('KOMBO_API_KEY_FILE', file) } };
  return { input, env };
}

function parseSourceSettings(input: SyncInput, env: NodeJS.ProcessEnv, requireIntegrations: boolean): SourceConfig {
  // Given at all, even empty: `KOMBO_API_KEY=` in a cron job means a key was meant and is missing.
  const given = KOMBO_SETTINGS.filter((s) => input[s.key] !== undefined || env[s.env] !== undefined);
  const value = (s: (typeof KOMBO_SETTINGS)[number]) => nonEmpty(input[s.key] ?? env[s.env]);
  const nameOf = (s: (typeof KOMBO_SETTINGS)[number]) => (input[s.key] !== undefined ? s.flag : s.env);
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
    const emptyKey = given.includes(keySetting) ? `${nameOf(keySetting)} is empty` : `no API key, but ${listed(given.map(nameOf))} ${given.length > 1 ? 'are' : 'is'} set`;
    throw new ConfigError(`${emptyKey}: set KOMBO_API_KEY or KOMBO_API_KEY_FILE (or pass --api-key-file) to sync Kombo (pass --sandbox, and no Kombo settings, for the built-in sandbox)`);
  }

  const apiUrlRaw = value(KOMBO_SETTINGS[0]);
  const apiUrl = apiUrlRaw ?? KOMBO_EU_URL;
  named('--api-url / KOMBO_API_URL', () => checkApiUrl(apiUrl));

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
  return raw === undefined ? undefined : named('--integrations / KOMBO_INTEGRATION_IDS', () => checkIntegrationIds(splitList(raw)));
}

/** `--snapshot-date` (default: `--as-of`, else today, UTC); a date after today only with `--allow-future-date`. */
function parseSnapshotDate(input: SyncInput, asOf: string | undefined, now: Date): string {
  // Syncing the simulated sandbox day by day: the snapshot is the simulated day unless told otherwise.
  const snapshotDate = named('--snapshot-date', () => assertSnapshotDate(input.snapshotDate ?? asOf ?? todayUtc(now)));
  // Snapshot dates go forward per stream: after a sync of a future date, every sync of an earlier
  // one (today's included) is refused until that date comes or its sync is undone (`unsync`).
  if (snapshotDate > todayUtc(now) && input.allowFutureDate !== true) {
    const flag = input.snapshotDate === undefined ? '--as-of' : '--snapshot-date';
    throw new ConfigError(
      `${flag}: ${snapshotDate} is after today (${todayUtc(now)}, UTC): once synced, every sync of an earlier date is refused (STREAM.OUT_OF_ORDER) until kombo-etl unsync --snapshot-date ${snapshotDate} undoes it; pass --allow-future-date to write it anyway`,
    );
  }
  return snapshotDate;
}

/** Build the sync config from flags, falling back to `KOMBO_API_URL`, `KOMBO_API_KEY`, `KOMBO_INTEGRATION_IDS`. */
export function parseSyncConfig(input: SyncInput, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): SyncConfig {
  const source = parseSource(input, env, true);
  const asOf = nonEmpty(input.asOf);
  if (asOf !== undefined) named('--as-of', () => assertSnapshotDate(asOf));
  const snapshotDate = parseSnapshotDate(input, asOf, now);
  const models = input.models === undefined ? [...MODELS] : named('--models', () => checkModels(splitList(input.models ?? '')));
  return {
    ...source,
    warehouse: input.warehouse ?? DEFAULT_WAREHOUSE,
    snapshotDate,
    models,
    ...parseWorkers(input),
    pii: parsePiiOptions(input, env),
    ...(asOf !== undefined && { asOf }),
    full: input.full === true,
    fullEveryDays: parseFullEveryDays(input.fullEvery, env),
  };
}

/**
 * `--full-every DAYS` / `KOMBO_FULL_SYNC_EVERY_DAYS`: a whole number of days from 1 (every sync
 * full) to `MAX_FULL_EVERY_DAYS`; default {@link DEFAULT_FULL_EVERY_DAYS}. The flag wins.
 */
export function parseFullEveryDays(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromFlag = flag !== undefined;
  const raw = fromFlag ? flag : env[FULL_SYNC_EVERY_DAYS_ENV];
  // Unset, or set empty in the environment (a cron job's `VAR=`): the default.
  if (raw === undefined || (!fromFlag && raw.trim() === '')) return DEFAULT_FULL_EVERY_DAYS;
  return named(fromFlag ? '--full-every' : FULL_SYNC_EVERY_DAYS_ENV, () => checkFullEveryDays(raw));
}

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
  const concurrency = input.concurrency === undefined ? DEFAULT_CONCURRENCY : named('--concurrency', () => checkCount(input.concurrency ?? '', 1, MAX_CONCURRENCY));
  const threads = input.threads === undefined ? defaultThreadCount(concurrency) : named('--threads', () => checkCount(input.threads ?? '', 0, MAX_CONCURRENCY));
  return { concurrency, threads };
}
