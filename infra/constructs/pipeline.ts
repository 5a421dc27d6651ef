/**
 * Pipeline: the nightly and deadline schedules, the planner and fetcher Lambdas, the FIFO fetch
 * queue with its DLQ, the Kombo API key secret and the integration registry (SSM parameters under
 * one path).
 */
import { Annotations, Duration, RemovalPolicy, SecretValue, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { RUN_DEADLINE, SCHEDULED_RUN, scheduleEventInput } from '../../shared/adapters/aws/events.ts';
import { REGISTRY_PART_MAX_CHARS, registryPartName, splitRegistry } from '../../shared/adapters/aws/registry.ts';
import { API_KEY_PLACEHOLDER, PII_SALT_PLACEHOLDER } from '../../shared/adapters/aws/secret.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import { DEFAULT_CHUNK_MILLIS } from '../../shared/pipeline/chunk.ts';
import { skippedTimes } from '../dst-gap.ts';
import { KomboFunction, schedulerRole } from './function.ts';
import type { DataKey } from './data-key.ts';
import { DEFAULT_FULL_EVERY_DAYS } from '../../shared/pipeline/plan.ts';
import { RUNS_PREFIX, STATE_PREFIX } from '../../shared/state/keys.ts';
import { INTEGRATIONS_PREFIX, INTEGRATIONS_TABLE_NAME } from '../../shared/tables.ts';

/** The planner checks every integration (with retries) and sends one message per stream. */
export const PLANNER_TIMEOUT = Duration.minutes(5);
/** One chunk per invocation: the chunk budget plus room for the last page, the Parquet encoding and the upload. */
export const FETCHER_TIMEOUT = Duration.minutes(12);
/** How long one chunk may keep fetching before it hands over to a continuation message. */
export const CHUNK_BUDGET_MILLIS = DEFAULT_CHUNK_MILLIS;
/** Time left after the chunk budget for the last page (retries included), encoding and upload. */
const CHUNK_HEADROOM_MILLIS = 4 * 60_000;
/** Lambda's guidance for SQS event sources: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Attempts of a chunk before its message moves to the DLQ. */
export const MAX_RECEIVE_COUNT = 5;
/** One message per invocation: a chunk can use most of the function timeout. */
export const FETCHER_BATCH_SIZE = 1;
export const FETCHER_MEMORY_MB = 2048;
export const PLANNER_MEMORY_MB = 512;
/** Lambda's own retries of an asynchronous planner invocation (its default is 2). */
export const PLANNER_ASYNC_RETRY_ATTEMPTS = 0;

/**
 * One fetcher's share of a Kombo budget of `requestsPerSecond` for the whole deployment: each of
 * at most `fetcherMaxConcurrency` fetchers handles one chunk at a time, so it gets an equal part.
 * Rounded down to a millionth, so that the shares never add up to more than the budget (and the
 * variable stays a plain decimal).
 */
export function fetcherRequestShare(requestsPerSecond: number, fetcherMaxConcurrency: number): number {
  const share = Math.floor((requestsPerSecond / fetcherMaxConcurrency) * 1e6) / 1e6;
  if (!(share > 0)) throw new Error(`a Kombo budget of ${requestsPerSecond} requests per second is too small to share among ${fetcherMaxConcurrency} fetchers`);
  return share;
}

/**
 * Warn at synth when a schedule's time falls into a daylight-saving gap of its time zone this year
 * or next: EventBridge Scheduler skips it, so that night has no run (or no deadline check).
 */
export function warnOfSkippedTimes(scope: Construct, crons: Readonly<Record<string, string>>, timezone: string): void {
  const year = new Date().getUTCFullYear();
  for (const [key, cron] of Object.entries(crons)) {
    const skipped = [...skippedTimes(cron, timezone, year), ...skippedTimes(cron, timezone, year + 1)];
    if (skipped.length === 0) continue;
    Annotations.of(scope).addWarningV2(
      `kombo-etl:${key}-skipped`,
      `${key} ${cron} in ${timezone}: the clocks skip ${skipped.join(', ')}, and EventBridge Scheduler skips the invocation then; choose a time outside the hour the clocks go forward`,
    );
  }
}

export interface PipelineProps {
  readonly warehouse: IBucket;
  readonly warehousePrefix: string;
  readonly databaseName: string;
  readonly tableNames: readonly string[];
  /** Seeds the registry: split into as many parameters under {@link Pipeline.registryPath} as needed. */
  readonly integrations: readonly string[];
  readonly komboApiUrl: string;
  /** EventBridge Scheduler cron of the nightly run, in `timezone`. */
  readonly schedule: string;
  /** Cron of the deadline check, in `timezone`. */
  readonly runDeadline: string;
  readonly timezone: string;
  readonly fetcherMaxConcurrency: number;
  /**
   * Kombo requests per second for the whole deployment: the planner (which runs before the
   * fetchers start) gets all of it, each fetcher {@link fetcherRequestShare}.
   * @default undefined: paced by Kombo's `ratelimit-*` headers and 429s only
   */
  readonly komboRequestsPerSecond?: number;
  /** Personal-data columns, set on the fetcher; `hash` reads its salt from {@link Pipeline.piiSalt}, which only the fetcher may read. */
  readonly piiMode: PiiMode;
  /**
   * Days between full syncs of a stream, set on the planner.
   * @default DEFAULT_FULL_EVERY_DAYS (7)
   */
  readonly fullSyncEveryDays?: number;
  readonly logRetention: logs.RetentionDays;
  readonly serviceName: string;
  /** Encrypts the warehouse and the functions' logs. */
  readonly dataKey: DataKey;
  /** Delete the secret with the stack (the registry parameters are deleted with it always). @default false */
  readonly destroyData?: boolean;
}

export class Pipeline extends Construct {
  readonly planner: KomboFunction;
  readonly fetcher: KomboFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly apiKey: secretsmanager.Secret;
  /** The `hash` salt, alone in a secret the fetcher reads and the planner cannot; only with piiMode hash. */
  readonly piiSalt: secretsmanager.Secret | undefined;
  /** SSM path of the integration registry, `/<stackName>/integrations`: every parameter directly under it is read. */
  readonly registryPath: string;
  /** The parameters seeded from the `integrations` context: `<registryPath>/part-001`, `part-002`, … */
  readonly registryParts: readonly ssm.StringParameter[];
  readonly nightly: scheduler.Schedule;
  readonly deadline: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Kept when the stack is deleted, but not when its creation rolls back: a failed first deploy
    // leaves nothing behind that the next one would trip over.
    const removalPolicy = props.destroyData === true ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    if (CHUNK_BUDGET_MILLIS + CHUNK_HEADROOM_MILLIS > FETCHER_TIMEOUT.toMilliseconds()) {
      throw new Error(`the chunk budget (${CHUNK_BUDGET_MILLIS} ms) leaves too little of the fetcher timeout (${FETCHER_TIMEOUT.toHumanString()})`);
    }

    this.apiKey = new secretsmanager.Secret(this, 'KomboApiKey', {
      description: `Kombo API key used by ${stack.stackName}. Replace the placeholder: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <key>`,
      // A placeholder, not a secret: the real key is put in by hand and survives redeploys (the template value never changes).
      secretStringValue: SecretValue.unsafePlainText(API_KEY_PLACEHOLDER),
      removalPolicy,
    });
    Validations.of(this.apiKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: "Kombo API keys are issued in Kombo's dashboard; there is no API a rotation Lambda could call to mint a new one.",
    });

    // Not in the API key secret: the planner reads that one, and must not be able to read the salt.
    this.piiSalt =
      props.piiMode === 'hash'
        ? new secretsmanager.Secret(this, 'PiiSalt', {
            description: `Salt of the personal-data hashes of ${stack.stackName} (piiMode hash), read by the fetcher only. Replace the placeholder: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <salt>`,
            // A placeholder, as for the API key: the salt is put in by hand and survives redeploys.
            secretStringValue: SecretValue.unsafePlainText(PII_SALT_PLACEHOLDER),
            removalPolicy,
          })
        : undefined;
    if (this.piiSalt) {
      Validations.of(this.piiSalt).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'The salt must stay the same for the hashes of one person to match across nights; a rotated salt would break every join over hashed columns.',
      });
    }

    // A standard parameter holds 4 KB (about 100 ids), so the registry is every parameter under a
    // path; the context list is seeded into as many parts as it needs.
    this.registryPath = `/${stack.stackName}/integrations`;
    this.registryParts = splitRegistry(props.integrations).map((value, i) => {
      const part = new ssm.StringParameter(this, `IntegrationRegistryPart${String(i + 1).padStart(3, '0')}`, {
        parameterName: registryPartName(this.registryPath, i),
        description: `JSON list of Kombo integration ids synced nightly (at most ${REGISTRY_PART_MAX_CHARS} characters); the registry is every parameter under ${this.registryPath}. Edit it or add a part; no redeploy needed.`,
        stringValue: value,
        tier: ssm.ParameterTier.STANDARD,
      });
      // Deleted with the stack whatever destroyData says: a kept part has a fixed name, and the next
      // deploy (after a rollback or `cdk destroy`) would fail creating it. The context seeds it again.
      part.applyRemovalPolicy(RemovalPolicy.DESTROY);
      return part;
    });

    this.deadLetterQueue = new sqs.Queue(this, 'FetchDlq', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'FetchQueue', {
      fifo: true,
      // Deduplication ids are explicit (run/stream/chunk); content-based ones would drop a legitimate resend.
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(FETCHER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const common = { logRetention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY, serviceName: props.serviceName, dataKey: props.dataKey };
    this.planner = new KomboFunction(this, 'Planner', {
      ...common,
      name: 'planner',
      description: 'Plans a kombo-etl run (or checks the run deadline): checks integrations, writes the plan, sends one message per stream.',
      timeout: PLANNER_TIMEOUT,
      memorySize: PLANNER_MEMORY_MB,
    })
      // Run state, stream state and the `integrations` table its checks record: no other table data.
      .bindWarehouse(props.warehouse, props.warehousePrefix, [RUNS_PREFIX, STATE_PREFIX, INTEGRATIONS_PREFIX])
      .bindCatalog(props.databaseName, [INTEGRATIONS_TABLE_NAME])
      .bindPiiMode(props.piiMode)
      .bindFetchQueue(this.queue)
      .bindKombo(this.apiKey, props.komboApiUrl)
      .bindRegistry(this.registryPath)
      .bindRegistryConfigParts(this.registryParts.length)
      .bindFullSyncEveryDays(props.fullSyncEveryDays ?? DEFAULT_FULL_EVERY_DAYS);
    if (props.komboRequestsPerSecond !== undefined) this.planner.bindKomboRequestBudget(props.komboRequestsPerSecond);
    // Schedules invoke the planner asynchronously; Lambda would retry a failed or timed-out invocation
    // twice. A repeat of a planned night is harmless (its run id is derived from the schedule), but a
    // planner that failed says why in PlannerErrors, and a run started by hand takes its place.
    this.planner.function.configureAsyncInvoke({ retryAttempts: PLANNER_ASYNC_RETRY_ATTEMPTS });

    this.fetcher = new KomboFunction(this, 'Fetcher', {
      ...common,
      name: 'fetcher',
      description: 'Fetches one chunk of one kombo-etl stream into Parquet, then continues or finishes the stream.',
      timeout: FETCHER_TIMEOUT,
      memorySize: FETCHER_MEMORY_MB,
    })
      .bindWarehouse(props.warehouse, props.warehousePrefix)
      .bindFetchQueue(this.queue)
      .bindKombo(this.apiKey, props.komboApiUrl)
      .bindCatalog(props.databaseName, props.tableNames)
      .bindChunkBudget(CHUNK_BUDGET_MILLIS)
      .bindPiiMode(props.piiMode);
    if (this.piiSalt) this.fetcher.bindPiiSalt(this.piiSalt);
    if (props.komboRequestsPerSecond !== undefined) {
      this.fetcher.bindKomboRequestBudget(fetcherRequestShare(props.komboRequestsPerSecond, props.fetcherMaxConcurrency));
    }
    this.fetcher.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: FETCHER_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: props.fetcherMaxConcurrency,
      }),
    );

    // One role for both schedules, allowed to invoke the planner and nothing else.
    const scheduleRole = schedulerRole(this, this.planner, 'planner');

    const timeZone = TimeZone.of(props.timezone);
    const input = (detailType: typeof SCHEDULED_RUN | typeof RUN_DEADLINE, detail?: Record<string, string>) =>
      scheduler.ScheduleTargetInput.fromObject(
        scheduleEventInput(detailType, {
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
          scheduleArn: scheduler.ContextAttribute.scheduleArn,
          account: stack.account,
          region: stack.region,
        }, detail),
      );
    this.nightly = new scheduler.Schedule(this, 'NightlyRun', {
      description: 'Starts the nightly kombo-etl run.',
      schedule: scheduler.ScheduleExpression.expression(props.schedule, timeZone),
      target: new LambdaInvoke(this.planner.function, { role: scheduleRole, input: input(SCHEDULED_RUN), retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
    warnOfSkippedTimes(this, { schedule: props.schedule, runDeadline: props.runDeadline }, props.timezone);
    this.deadline = new scheduler.Schedule(this, 'RunDeadline', {
      // Names the nightly schedule: only its run counts as the night's, not one started by hand.
      description: 'Checks that the nightly kombo-etl run finished; the RunOverdue alarm fires if not.',
      schedule: scheduler.ScheduleExpression.expression(props.runDeadline, timeZone),
      target: new LambdaInvoke(this.planner.function, { role: scheduleRole, input: input(RUN_DEADLINE, { nightly_schedule: this.nightly.scheduleArn }), retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
  }
}
