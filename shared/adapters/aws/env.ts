/**
 * The Lambda environment, parsed once per container with a schema. The variable names are
 * constants shared with the CDK function construct, whose `bind…` helpers set them, so the names
 * in the template and in the handlers cannot drift apart. A missing or malformed variable fails the
 * cold start with the variable's name.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { PiiMode } from '../../flatten.ts';
import { DEFAULT_PII_MODE, PII_MODES } from '../../flatten.ts';
import { MAX_PAGE_SIZE } from '../../kombo/client.ts';
import type { PacingOptions } from '../../kombo/pacing.ts';
import { DEFAULT_FULL_EVERY_DAYS, FULL_SYNC_EVERY_DAYS_ENV, MAX_FULL_EVERY_DAYS, apiUrlProblem } from '../../config.ts';
import { REGISTRY_PATH_PATTERN } from './registry.ts';

/** Environment variable names, set by `infra/constructs/function.ts`. */
export const ENV = {
  warehouseBucket: 'WAREHOUSE_BUCKET',
  warehousePrefix: 'WAREHOUSE_PREFIX',
  fetchQueueUrl: 'FETCH_QUEUE_URL',
  apiKeySecretArn: 'KOMBO_API_KEY_SECRET_ARN',
  komboApiUrl: 'KOMBO_API_URL',
  /** SSM path of the integration registry: every parameter directly under it holds a JSON list of ids. */
  integrationsPath: 'INTEGRATIONS_PATH',
  glueDatabase: 'GLUE_DATABASE',
  chunkMaxRows: 'CHUNK_MAX_ROWS',
  chunkMaxMillis: 'CHUNK_MAX_MILLIS',
  pageSize: 'KOMBO_PAGE_SIZE',
  /** The CLI reads the same name; the salt is not an environment variable here but lives in a secret. */
  piiMode: 'KOMBO_PII_MODE',
  /**
   * The fetcher's: the secret holding the `hash` salt alone, so that a role that reads the API key
   * (the planner) cannot read the salt. Unset: the salt is read from the API key secret's `piiSalt`.
   */
  piiSaltSecretArn: 'KOMBO_PII_SALT_SECRET_ARN',
  /** This function's share of the Kombo budget in requests per second; unset: paced by Kombo's headers only. */
  komboRequestsPerSecond: 'KOMBO_REQUESTS_PER_SECOND',
  /** The planner's: a stream whose last full sync is this many days old syncs in full again (the CLI reads the same name). */
  fullSyncEveryDays: FULL_SYNC_EVERY_DAYS_ENV,
  /** The planner's: how many registry parameters the stack seeded from its `integrations` context (`part-001` …); the others were added by hand. */
  registryConfigParts: 'INTEGRATIONS_CONFIG_PARTS',
  /** The receiver's: the Secrets Manager secret holding Kombo's webhook signing secret. */
  webhookSecretArn: 'KOMBO_WEBHOOK_SECRET_ARN',
  /** The receiver's and the dispatcher's: the standard SQS queue of webhook events (and the dispatcher's wake-ups). */
  eventsQueueUrl: 'EVENTS_QUEUE_URL',
  /** The dispatcher's: the least time between the starts of two webhook-triggered syncs of one integration, in seconds. */
  webhookGapSeconds: 'WEBHOOK_GAP_SECONDS',
} as const;

/** The most Kombo requests per second a function (or the whole deployment) may be given. */
export const MAX_KOMBO_REQUESTS_PER_SECOND = 10_000;

/** Key prefix of the warehouse inside the bucket (no leading or trailing slash). */
export const DEFAULT_WAREHOUSE_PREFIX = 'warehouse';

/** Where the warehouse lives. */
export interface WarehouseEnv {
  readonly bucket: string;
  /** Key prefix inside the bucket, without slashes at either end; may be empty. */
  readonly prefix: string;
}

export interface PlannerEnv {
  readonly warehouse: WarehouseEnv;
  readonly fetchQueueUrl: string;
  readonly apiKeySecretArn: string;
  readonly komboApiUrl: string;
  /** SSM path of the integration registry, e.g. `/KomboEtl/integrations` (no trailing `/`). */
  readonly integrationsPath: string;
  /** The Glue database of the `integrations` table each check is recorded in; undefined: not recorded. */
  readonly glueDatabase?: string;
  /** What to store in the `integrations` table's personal column (`end_user_email`). */
  readonly piiMode: PiiMode;
  /** How the Kombo client paces itself; `{}`: by Kombo's `ratelimit-*` headers only. */
  readonly pacing: PacingOptions;
  /** A stream whose last full sync is this many days old syncs in full again. */
  readonly fullEveryDays: number;
  /** Registry parameters `part-001` … `part-<n>` came from the stack's `integrations` context; 0 when unset. */
  readonly registryConfigParts: number;
}

/** The webhook receiver's environment. */
export interface ReceiverEnv {
  readonly webhookSecretArn: string;
  readonly eventsQueueUrl: string;
}

/** The webhook dispatcher's environment: what it needs to plan a run, and where its wake-ups go. */
export interface DispatcherEnv extends Omit<PlannerEnv, 'integrationsPath' | 'registryConfigParts'> {
  readonly eventsQueueUrl: string;
  /** Least time between the starts of two webhook-triggered syncs of one integration. */
  readonly gapMs: number;
}

/** Longest gap between two webhook-triggered syncs of one integration: the longest SQS delay, so that one wake-up covers it. */
export const MAX_WEBHOOK_GAP_SECONDS = 900;

export interface FetcherEnv {
  readonly warehouse: WarehouseEnv;
  readonly fetchQueueUrl: string;
  readonly apiKeySecretArn: string;
  readonly komboApiUrl: string;
  readonly glueDatabase: string;
  /** Overrides of the chunk budget; the pipeline's defaults apply when unset. */
  readonly chunk: { readonly maxRows?: number; readonly maxMillis?: number; readonly pageSize?: number };
  /** What to store in personal-data columns; `hash` takes its salt from {@link piiSaltSecretArn}. */
  readonly piiMode: PiiMode;
  /** The secret holding the salt; undefined: the API key secret's `piiSalt`. */
  readonly piiSaltSecretArn?: string;
  /** How the Kombo client paces itself; `{}`: by Kombo's `ratelimit-*` headers only. */
  readonly pacing: PacingOptions;
}

const required = z.string({ error: 'is required (the CDK stack sets it)' }).trim().min(1, 'is empty');
const prefix = z
  .string()
  .trim()
  .regex(/^([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/, 'must be a key prefix such as "warehouse" or "data/kombo", without leading or trailing "/"')
  .default(DEFAULT_WAREHOUSE_PREFIX);
const ssmPath = required.regex(REGISTRY_PATH_PATTERN, 'must be an SSM parameter path such as "/KomboEtl/integrations", starting with "/" and not ending with one');
const httpUrl = required.pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }));
/** Kombo's URL carries the API key: https, or http to this machine only (tests). */
const apiUrl = httpUrl.superRefine((url, ctx) => {
  const problem = apiUrlProblem(url);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
const optionalInt = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional();
/** A plain decimal such as "2.5" (what the CDK stack writes), above 0. */
const optionalRate = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'must be a decimal number of requests per second, such as "2.5"')
  .transform(Number)
  .pipe(z.number().gt(0, 'must be above 0').max(MAX_KOMBO_REQUESTS_PER_SECOND, `must be at most ${MAX_KOMBO_REQUESTS_PER_SECOND}`))
  .optional();

const COMMON = {
  [ENV.warehouseBucket]: required,
  [ENV.warehousePrefix]: prefix,
  [ENV.fetchQueueUrl]: httpUrl,
  [ENV.apiKeySecretArn]: required,
  [ENV.komboApiUrl]: apiUrl,
  [ENV.komboRequestsPerSecond]: optionalRate,
};

const PII_MODE = z
  .string()
  .trim()
  .refine((v): v is PiiMode => (PII_MODES as readonly string[]).includes(v), `must be one of ${PII_MODES.join(', ')}`)
  .transform((v) => v as PiiMode)
  .default(DEFAULT_PII_MODE);
/** Where the planner and the dispatcher record integrations (the `integrations` table). */
const RECORDS = { [ENV.glueDatabase]: required.optional(), [ENV.piiMode]: PII_MODE };
const PLANNER = z.object({
  ...COMMON,
  ...RECORDS,
  [ENV.integrationsPath]: ssmPath,
  [ENV.fullSyncEveryDays]: optionalInt(1, MAX_FULL_EVERY_DAYS),
  [ENV.registryConfigParts]: optionalInt(0, 10_000),
});
const RECEIVER = z.object({ [ENV.webhookSecretArn]: required, [ENV.eventsQueueUrl]: httpUrl });
const DISPATCHER = z.object({
  ...COMMON,
  ...RECORDS,
  [ENV.eventsQueueUrl]: httpUrl,
  [ENV.fullSyncEveryDays]: optionalInt(1, MAX_FULL_EVERY_DAYS),
  [ENV.webhookGapSeconds]: optionalInt(0, MAX_WEBHOOK_GAP_SECONDS),
});
const FETCHER = z.object({
  ...COMMON,
  [ENV.glueDatabase]: required,
  [ENV.chunkMaxRows]: optionalInt(1, 10_000_000),
  [ENV.chunkMaxMillis]: optionalInt(1_000, 15 * 60_000),
  [ENV.pageSize]: optionalInt(1, MAX_PAGE_SIZE),
  [ENV.piiMode]: PII_MODE,
  [ENV.piiSaltSecretArn]: required.optional(),
});

/** Parse with a schema whose keys are variable names; the first problem names its variable. */
function parse<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? '(unknown)');
  throw new ConfigError(`environment variable ${name} ${issue?.message ?? 'is invalid'}`);
}

/** The variables both functions read, as their parsed environments hold them. */
function commonEnv(e: z.output<z.ZodObject<typeof COMMON>>): Omit<PlannerEnv, 'integrationsPath' | 'fullEveryDays' | 'registryConfigParts' | 'glueDatabase' | 'piiMode'> {
  const requestsPerSecond = e[ENV.komboRequestsPerSecond];
  return {
    warehouse: { bucket: e[ENV.warehouseBucket], prefix: e[ENV.warehousePrefix] },
    fetchQueueUrl: e[ENV.fetchQueueUrl],
    apiKeySecretArn: e[ENV.apiKeySecretArn],
    komboApiUrl: e[ENV.komboApiUrl],
    pacing: requestsPerSecond === undefined ? {} : { requestsPerSecond },
  };
}

/** The planner's environment. Throws a ConfigError naming the first bad variable. */
export function parsePlannerEnv(env: NodeJS.ProcessEnv = process.env): PlannerEnv {
  const e = parse(PLANNER, env);
  return {
    ...commonEnv(e),
    integrationsPath: e[ENV.integrationsPath],
    ...(e[ENV.glueDatabase] !== undefined && { glueDatabase: e[ENV.glueDatabase] }),
    piiMode: e[ENV.piiMode],
    fullEveryDays: e[ENV.fullSyncEveryDays] ?? DEFAULT_FULL_EVERY_DAYS,
    registryConfigParts: e[ENV.registryConfigParts] ?? 0,
  };
}

/** The webhook receiver's environment. Throws a ConfigError naming the first bad variable. */
export function parseReceiverEnv(env: NodeJS.ProcessEnv = process.env): ReceiverEnv {
  const e = parse(RECEIVER, env);
  return { webhookSecretArn: e[ENV.webhookSecretArn], eventsQueueUrl: e[ENV.eventsQueueUrl] };
}

/**
 * The webhook dispatcher's environment; `defaultGapSeconds` applies when the stack sets no gap.
 * Throws a ConfigError naming the first bad variable.
 */
export function parseDispatcherEnv(defaultGapSeconds: number, env: NodeJS.ProcessEnv = process.env): DispatcherEnv {
  const e = parse(DISPATCHER, env);
  return {
    ...commonEnv(e),
    eventsQueueUrl: e[ENV.eventsQueueUrl],
    ...(e[ENV.glueDatabase] !== undefined && { glueDatabase: e[ENV.glueDatabase] }),
    piiMode: e[ENV.piiMode],
    fullEveryDays: e[ENV.fullSyncEveryDays] ?? DEFAULT_FULL_EVERY_DAYS,
    gapMs: (e[ENV.webhookGapSeconds] ?? defaultGapSeconds) * 1000,
  };
}

/** The fetcher's environment. Throws a ConfigError naming the first bad variable. */
export function parseFetcherEnv(env: NodeJS.ProcessEnv = process.env): FetcherEnv {
  const e = parse(FETCHER, env);
  return {
    ...commonEnv(e),
    glueDatabase: e[ENV.glueDatabase],
    chunk: {
      ...(e[ENV.chunkMaxRows] !== undefined && { maxRows: e[ENV.chunkMaxRows] }),
      ...(e[ENV.chunkMaxMillis] !== undefined && { maxMillis: e[ENV.chunkMaxMillis] }),
      ...(e[ENV.pageSize] !== undefined && { pageSize: e[ENV.pageSize] }),
    },
    piiMode: e[ENV.piiMode],
    ...(e[ENV.piiSaltSecretArn] !== undefined && { piiSaltSecretArn: e[ENV.piiSaltSecretArn] }),
  };
}
