/**
 * Deployment configuration, read once from CDK context (`cdk.json` or `-c key=value`) and validated
 * with a schema. Every default is a named constant, shared with the docs and the tests. Errors name
 * the context key at fault.
 */
import { z } from 'zod';
import { DEFAULT_CONCURRENCY, DEFAULT_FULL_EVERY_DAYS, MAX_FULL_EVERY_DAYS } from '../shared/config.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import type { PiiMode } from '../shared/flatten.ts';
import { DEFAULT_PII_MODE, PII_MODES } from '../shared/flatten.ts';
import { KOMBO_EU_URL, KOMBO_US_URL } from '../shared/kombo/client.ts';
import { DEFAULT_WAREHOUSE_PREFIX, MAX_KOMBO_REQUESTS_PER_SECOND, MAX_WEBHOOK_GAP_SECONDS } from '../shared/adapters/aws/env.ts';
import { assertIntegrationId } from '../shared/warehouse/layout.ts';
import { DEFAULT_GAP_MS } from '../shared/webhooks/triggers.ts';
import { KEEP_EVERY_VERSION, MAX_RETENTION_DAYS } from '../shared/retention.ts';

/** Kombo's two data regions and their API endpoints. */
export const KOMBO_ENDPOINTS = { eu: KOMBO_EU_URL, us: KOMBO_US_URL } as const;
export type KomboRegion = keyof typeof KOMBO_ENDPOINTS;

export const DEFAULT_STACK_NAME = 'KomboEtl';
/** Nightly at 02:00 in {@link DEFAULT_TIMEZONE}. EventBridge Scheduler cron: minutes hours day-of-month month day-of-week year. */
export const DEFAULT_SCHEDULE = 'cron(0 2 * * ? *)';
export const DEFAULT_TIMEZONE = 'UTC';
/** When the run must have finished (same timezone): six hours after the default start. */
export const DEFAULT_RUN_DEADLINE = 'cron(0 8 * * ? *)';
/** Streams fetched at once, to stay inside Kombo's rate limits (the same default as the CLI's `--concurrency`). */
export const DEFAULT_FETCHER_MAX_CONCURRENCY = DEFAULT_CONCURRENCY;
/** Lambda's SQS event source accepts a maximum concurrency from 2 to 1000. */
export const FETCHER_MAX_CONCURRENCY_RANGE = [2, 1000] as const;
/** Kombo budget of the whole deployment in requests per second, when set (unset: paced by Kombo's `ratelimit-*` headers only). */
export const KOMBO_REQUESTS_PER_SECOND_RANGE = [0.1, MAX_KOMBO_REQUESTS_PER_SECOND] as const;
/** Snapshots older than this many days expire (two years of nightly history); 0 keeps them forever. */
export const DEFAULT_RETENTION_DAYS = 730;
export const DEFAULT_KOMBO_REGION: KomboRegion = 'eu';
/** Athena cancels a query that would scan more than this (GB = 10^9 bytes). */
export const DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF_GB = 100;
/** Athena's smallest allowed cutoff is 10 MB. */
const MIN_CUTOFF_GB = 0.01;
/** Days of the full-sync cycle: each integration syncs in full on its own day of it (the CLI's `--full-every` default). */
export const DEFAULT_FULL_SYNC_EVERY_DAYS = DEFAULT_FULL_EVERY_DAYS;
/** From 1 (every sync full) to ten years. */
export const FULL_SYNC_EVERY_DAYS_RANGE = [1, MAX_FULL_EVERY_DAYS] as const;
/** CloudWatch Logs retention of the functions' logs. */
export const DEFAULT_LOG_RETENTION_DAYS = 90;
/** Kombo's webhooks trigger syncs between the nightly runs unless `webhooks=false`. */
export const DEFAULT_WEBHOOKS = true;
/** Least seconds between the starts of two webhook-triggered syncs of one integration. */
export const DEFAULT_WEBHOOK_GAP_SECONDS = DEFAULT_GAP_MS / 1000;
/** From no gap to 15 minutes: the longest an SQS message can be delayed, so that one wake-up covers the gap. */
export const WEBHOOK_GAP_SECONDS_RANGE = [0, MAX_WEBHOOK_GAP_SECONDS] as const;
/**
 * Receiver instances reserved (and at most running): a burst of requests cannot take the fetchers'
 * concurrency. 0 reserves none: Lambda allows a reservation only while 100 of the account's
 * concurrency stay unreserved, so an account whose quota is below 105 (a new one's 10) needs 0.
 */
export const DEFAULT_WEBHOOK_RECEIVER_CONCURRENCY = 5;
export const WEBHOOK_RECEIVER_CONCURRENCY_RANGE = [0, 100] as const;
/** Values CloudWatch Logs accepts as a retention period. */
export const LOG_RETENTION_VALUES = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export interface EtlConfig {
  readonly stackName: string;
  /** Seeds the integration registry (SSM parameters under one path, edited later without a redeploy). */
  readonly integrations: readonly string[];
  readonly schedule: string;
  readonly timezone: string;
  readonly runDeadline: string;
  readonly fetcherMaxConcurrency: number;
  /**
   * Kombo requests per second the deployment as a whole may send; each fetcher is paced at its
   * share (÷ `fetcherMaxConcurrency`), the planner at all of it. Undefined (default): the clients
   * pace themselves by Kombo's `ratelimit-*` headers and 429s only.
   */
  readonly komboRequestsPerSecond: number | undefined;
  readonly retentionDays: number;
  readonly komboRegion: KomboRegion;
  readonly komboApiUrl: string;
  readonly alarmEmail: string | undefined;
  /** False (default): buckets, secret and registry parameters are retained when the stack is deleted. */
  readonly destroyData: boolean;
  readonly athenaBytesScannedCutoffGb: number;
  readonly warehousePrefix: string;
  readonly logRetentionDays: (typeof LOG_RETENTION_VALUES)[number];
  /** Personal-data columns: keep (default), hash (salt in the API key secret) or drop. */
  readonly piiMode: PiiMode;
  /**
   * A stream whose last full sync is this many days old syncs in full again (finding the records
   * deleted without a trace); between full syncs, each stream fetches only what changed.
   */
  readonly fullSyncEveryDays: number;
  /**
   * The account's Glue catalog is governed by Lake Formation: the stack registers the warehouse
   * location and grants the pipeline roles and {@link lakeFormationReaders} Lake Formation permissions.
   */
  readonly lakeFormation: boolean;
  /** IAM roles and users (ARNs) granted SELECT and DESCRIBE on every table and view; needs {@link lakeFormation}. */
  readonly lakeFormationReaders: readonly string[];
  /** The webhook receiver (Function URL), its secret, the events queue and the dispatcher. */
  readonly webhooks: boolean;
  /** Least seconds between the starts of two webhook-triggered syncs of one integration. */
  readonly webhookGapSeconds: number;
  /** Reserved concurrency of the receiver; 0: none reserved. */
  readonly webhookReceiverConcurrency: number;
}

/** The context keys, as typed on the command line: `npx cdk deploy -c fetcherMaxConcurrency=8`. */
export const CONTEXT_KEYS = [
  'stackName',
  'integrations',
  'schedule',
  'timezone',
  'runDeadline',
  'fetcherMaxConcurrency',
  'komboRequestsPerSecond',
  'retentionDays',
  'komboRegion',
  'alarmEmail',
  'destroyData',
  'athenaBytesScannedCutoffGb',
  'warehousePrefix',
  'logRetentionDays',
  'piiMode',
  'fullSyncEveryDays',
  'lakeFormation',
  'lakeFormationReaders',
  'webhooks',
  'webhookGapSeconds',
  'webhookReceiverConcurrency',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** `-c key=value` gives strings; cdk.json gives JSON values. Accept both. */
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int().min(min).max(max));
const num = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), z.number().min(min).max(max));
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

/** A list as a JSON array, a JSON array in a string, or a comma-separated string. */
const list = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (s.startsWith('[')) {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return v;
    }
  }
  return s === '' ? [] : s.split(',').map((x) => x.trim());
}, z.array(z.string().trim()));

/** EventBridge Scheduler cron: six fields, one of day-of-month and day-of-week is `?`. */
const cron = z
  .string()
  .trim()
  .regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, 'expected an EventBridge cron expression with six fields, e.g. "cron(0 2 * * ? *)"')
  .refine((c) => {
    const f = c.slice(5, -1).split(' ');
    return f[2] === '?' || f[4] === '?';
  }, 'day-of-month or day-of-week must be "?"');

const timezone = z
  .string()
  .trim()
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'expected an IANA time zone such as "UTC" or "Europe/Berlin"');

/** A Lake Formation principal this stack can grant to: an IAM role or user of any partition. */
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

const SCHEMA = z.object({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'letters, digits and "-", starting with a letter')
    .default(DEFAULT_STACK_NAME),
  integrations: list
    .superRefine((ids, ctx) => {
      for (const id of ids) {
        try {
          assertIntegrationId(id);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: errorMessage(err) });
        }
      }
    })
    .default([]),
  schedule: cron.default(DEFAULT_SCHEDULE),
  timezone: timezone.default(DEFAULT_TIMEZONE),
  runDeadline: cron.default(DEFAULT_RUN_DEADLINE),
  fetcherMaxConcurrency: int(...FETCHER_MAX_CONCURRENCY_RANGE).default(DEFAULT_FETCHER_MAX_CONCURRENCY),
  komboRequestsPerSecond: num(...KOMBO_REQUESTS_PER_SECOND_RANGE).optional(),
  retentionDays: int(KEEP_EVERY_VERSION, MAX_RETENTION_DAYS).default(DEFAULT_RETENTION_DAYS),
  komboRegion: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['eu', 'us'])).default(DEFAULT_KOMBO_REGION),
  alarmEmail: z.preprocess((v) => (v === '' ? undefined : v), z.email().optional()),
  destroyData: bool.default(false),
  athenaBytesScannedCutoffGb: num(MIN_CUTOFF_GB, 1_000_000).default(DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF_GB),
  warehousePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'a key prefix such as "warehouse", without leading or trailing "/"')
    .default(DEFAULT_WAREHOUSE_PREFIX),
  logRetentionDays: int(1, 3653)
    .refine((d) => (LOG_RETENTION_VALUES as readonly number[]).includes(d), `one of ${LOG_RETENTION_VALUES.join(', ')}`)
    .default(DEFAULT_LOG_RETENTION_DAYS),
  piiMode: z
    .string()
    .trim()
    .toLowerCase()
    .refine((m) => (PII_MODES as readonly string[]).includes(m), `expected one of ${PII_MODES.join(', ')}`)
    .default(DEFAULT_PII_MODE),
  fullSyncEveryDays: int(...FULL_SYNC_EVERY_DAYS_RANGE).default(DEFAULT_FULL_SYNC_EVERY_DAYS),
  lakeFormation: bool.default(false),
  lakeFormationReaders: list.pipe(z.array(z.string().regex(IAM_PRINCIPAL_ARN, 'expected IAM role or user ARNs such as "arn:aws:iam::123456789012:role/bi-analysts"'))).default([]),
  webhooks: bool.default(DEFAULT_WEBHOOKS),
  webhookGapSeconds: int(...WEBHOOK_GAP_SECONDS_RANGE).default(DEFAULT_WEBHOOK_GAP_SECONDS),
  webhookReceiverConcurrency: int(...WEBHOOK_RECEIVER_CONCURRENCY_RANGE).default(DEFAULT_WEBHOOK_RECEIVER_CONCURRENCY),
});

/**
 * Keys that name a setting of this app: plain identifiers like `fetcherMaxConcurrency`. The CDK's
 * own context keys all carry a separator (`aws:cdk:…`, `@aws-cdk/…` feature flags, `cdk-…`, lookup
 * results such as `availability-zones:account=…`), so they never match and are left to the CDK.
 */
const APP_STYLE_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Reject context keys that look like this app's own but are not one of {@link CONTEXT_KEYS}, so a
 * typo (`-c fetcherConcurrency=8`) fails instead of being ignored. Throws a {@link ConfigError}.
 */
export function assertKnownContextKeys(keys: Iterable<string>): void {
  const known: readonly string[] = CONTEXT_KEYS;
  const unknown = [...keys].filter((k) => APP_STYLE_KEY.test(k) && !known.includes(k)).sort();
  if (unknown.length === 0) return;
  const names = unknown.map((k) => `"${k}"`).join(', ');
  throw new ConfigError(`unknown CDK context key${unknown.length === 1 ? '' : 's'} ${names}; known keys: ${CONTEXT_KEYS.join(', ')}`);
}

/**
 * Read and validate the configuration from the app's whole context (`app.node.getAllContext()`:
 * `cdk.json`, `cdk.context.json` and `-c key=value`), unknown keys of the app's own style included.
 */
export function parseContext(context: Readonly<Record<string, unknown>>): EtlConfig {
  assertKnownContextKeys(Object.keys(context));
  return parseConfig((key) => context[key]);
}

/** Read and validate the configuration; `get` is `(key) => app.node.tryGetContext(key)`. */
export function parseConfig(get: (key: ContextKey) => unknown): EtlConfig {
  const raw = Object.fromEntries(CONTEXT_KEYS.map((k) => [k, get(k)]).filter(([, v]) => v !== undefined && v !== null));
  const parsed = SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '?');
    throw new ConfigError(`CDK context "${key}": ${issue?.message ?? 'invalid'} (got ${JSON.stringify(raw[key])})`);
  }
  const c = parsed.data;
  if (c.lakeFormationReaders.length > 0 && !c.lakeFormation) {
    throw new ConfigError('CDK context "lakeFormationReaders": only granted with Lake Formation; add -c lakeFormation=true, or leave the readers out');
  }
  return {
    ...c,
    integrations: [...new Set(c.integrations)],
    komboApiUrl: KOMBO_ENDPOINTS[c.komboRegion],
    alarmEmail: c.alarmEmail,
    komboRequestsPerSecond: c.komboRequestsPerSecond,
    logRetentionDays: c.logRetentionDays as EtlConfig['logRetentionDays'],
    piiMode: c.piiMode as PiiMode,
  };
}
