/**
 * Webhooks: the receiver Lambda behind a Function URL (Kombo's dashboard posts its webhooks there),
 * the secret Kombo signs them with, a standard SQS events queue with its DLQ, and the dispatcher
 * Lambda that takes the events from the queue and starts syncs of the changed models between the
 * nightly runs (their streams go to the pipeline's fetch queue).
 */
import { Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WEBHOOK_SECRET_PLACEHOLDER } from '../../shared/adapters/aws/webhooks.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import { RUNS_PREFIX, STATE_PREFIX } from '../../shared/state/keys.ts';
import { INTEGRATIONS_PREFIX, INTEGRATIONS_TABLE_NAME } from '../../shared/tables.ts';
import type { DataKey } from './data-key.ts';
import { KomboFunction } from './function.ts';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from './pipeline.ts';

/** Kombo wants an answer within seconds; the receiver verifies, parses and queues, nothing more. */
export const RECEIVER_TIMEOUT = Duration.seconds(5);
export const RECEIVER_MEMORY_MB = 512;
/** The dispatcher may plan a run: one integration check (with Kombo's retries), the plan, the first messages. */
export const DISPATCHER_TIMEOUT = Duration.minutes(2);
export const DISPATCHER_MEMORY_MB = 512;
/** Events per dispatcher invocation: each is a few small reads and compare-and-swap writes. */
export const DISPATCHER_BATCH_SIZE = 10;
/** Dispatchers at once (the least Lambda's SQS event source accepts): triggers are compare-and-swap records, not locks. */
export const DISPATCHER_MAX_CONCURRENCY = 2;

export interface WebhooksProps {
  readonly warehouse: IBucket;
  readonly warehousePrefix: string;
  /** The pipeline's FIFO queue: a triggered sync's streams are fetched like the nightly run's. */
  readonly fetchQueue: IQueue;
  /** The Kombo API key: the dispatcher checks the integration before planning its streams. */
  readonly apiKey: ISecret;
  readonly komboApiUrl: string;
  readonly fullSyncEveryDays: number;
  /** The Glue database holding the `integrations` table the dispatcher records integrations in. */
  readonly databaseName: string;
  /** What the `integrations` table stores in its personal column. */
  readonly piiMode: PiiMode;
  /** Least seconds between the starts of two webhook-triggered syncs of one integration. */
  readonly gapSeconds: number;
  /** Reserved concurrency of the receiver; 0 reserves none. */
  readonly receiverConcurrency: number;
  readonly logRetention: logs.RetentionDays;
  readonly serviceName: string;
  readonly dataKey: DataKey;
  /** Delete the webhook secret with the stack. @default false */
  readonly destroyData?: boolean;
}

export class Webhooks extends Construct {
  readonly receiver: KomboFunction;
  readonly dispatcher: KomboFunction;
  readonly url: lambda.FunctionUrl;
  readonly secret: secretsmanager.Secret;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.secret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: `The secret Kombo signs the webhooks of ${stack.stackName} with (Kombo dashboard → Webhooks). Replace the placeholder: aws secretsmanager put-secret-value --secret-id <arn> --secret-string <secret>`,
      // A placeholder, not a secret: the real one is put in by hand and survives redeploys.
      secretStringValue: SecretValue.unsafePlainText(WEBHOOK_SECRET_PLACEHOLDER),
      removalPolicy: props.destroyData === true ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: "The webhook signing secret comes from Kombo's dashboard; no API could mint a new one. Rotation is a documented manual step (docs/DEPLOY.md: rotate the webhook secret).",
    });

    this.deadLetterQueue = new sqs.Queue(this, 'EventsDlq', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'EventsQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(DISPATCHER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const common = { logRetention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY, serviceName: props.serviceName, dataKey: props.dataKey };
    this.receiver = new KomboFunction(this, 'Receiver', {
      ...common,
      name: 'receiver',
      description: "Receives Kombo's webhooks: checks the signature, queues the event for the dispatcher.",
      timeout: RECEIVER_TIMEOUT,
      memorySize: RECEIVER_MEMORY_MB,
    })
      .bindWebhookSecret(this.secret)
      .bindEventsQueue(this.queue);
    if (props.receiverConcurrency > 0) (this.receiver.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = props.receiverConcurrency;
    // Kombo cannot sign requests with AWS credentials; it signs the body with the shared secret instead.
    this.url = this.receiver.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    Validations.of(this.url).acknowledge({
      id: 'FunctionUrl::FunctionUrl-LambdaFunctionUrlAuth',
      reason: "Kombo posts its webhooks without AWS credentials and cannot sign them with SigV4; every request carries Kombo's HMAC-SHA256 signature of the body, which the receiver verifies in constant time before anything is queued (401 otherwise), and its reserved concurrency caps what a flood can cost.",
    });

    this.dispatcher = new KomboFunction(this, 'Dispatcher', {
      ...common,
      name: 'dispatcher',
      description: 'Dispatches webhook events: starts syncs of the changed models, keeps the integration registry.',
      timeout: DISPATCHER_TIMEOUT,
      memorySize: DISPATCHER_MEMORY_MB,
    })
      // Run state (plans, markers), state (triggers, registry, event ids, stream state) and the
      // `integrations` table its integration webhooks and checks record: no other table data.
      .bindWarehouse(props.warehouse, props.warehousePrefix, [RUNS_PREFIX, STATE_PREFIX, INTEGRATIONS_PREFIX])
      .bindCatalog(props.databaseName, [INTEGRATIONS_TABLE_NAME])
      .bindPiiMode(props.piiMode)
      .bindFetchQueue(props.fetchQueue)
      .bindKombo(props.apiKey, props.komboApiUrl)
      .bindEventsQueue(this.queue)
      .bindFullSyncEveryDays(props.fullSyncEveryDays)
      .bindWebhookGap(props.gapSeconds);
    this.dispatcher.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: DISPATCHER_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: DISPATCHER_MAX_CONCURRENCY }),
    );
  }
}
