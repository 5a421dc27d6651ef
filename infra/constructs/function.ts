/**
 * The one Lambda function construct: NODEJS_22_X on arm64, esbuild bundling to minified ESM with
 * source maps, its own log group with a retention, encrypted with the stack's data key, and a role
 * with no managed policies. A function that reads or writes data under the key (the warehouse,
 * Athena query results) gets it with one call, {@link KomboFunction.grantDataKey}; `bindWarehouse`
 * makes that call itself. The
 * `bind…` methods grant a permission and set the environment variable that names the resource in
 * the same call, with the variable names from `shared/adapters/aws/env.ts`, so the handler and the
 * template cannot disagree.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { REGISTRY_PATH_PATTERN } from '../../shared/adapters/aws/registry.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import type { DataKey } from './data-key.ts';

/** The repository root: esbuild resolves packages from here. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Absolute path of a handler in `functions/`. */
export const handlerEntry = (name: string): string => resolve(PROJECT_ROOT, 'functions', `${name}.ts`);

/** CloudWatch namespace of the pipeline's own metrics (Powertools Metrics). */
export const METRICS_NAMESPACE = 'KomboEtl';

/**
 * ESM bundles cannot `require`; a few dependencies still do (CommonJS inside the AWS SDK's
 * transitive packages). This gives them one.
 */
const ESM_REQUIRE_SHIM = "import { createRequire as __kombo_createRequire } from 'node:module'; const require = __kombo_createRequire(import.meta.url);";

export interface KomboFunctionProps {
  /** Handler file name in `functions/`, without extension: `planner`, `fetcher`. */
  readonly name: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  readonly logRetention: logs.RetentionDays;
  /** Of the log group. */
  readonly removalPolicy: RemovalPolicy;
  /** Powertools' `service` name: the dimension of every custom metric and a key of every log line. */
  readonly serviceName: string;
  /** Encrypts the log group; {@link KomboFunction.grantDataKey} grants it to the role. */
  readonly dataKey: DataKey;
}

/**
 * The role EventBridge Scheduler takes to invoke `target` (the `name` Lambda) from the schedules of
 * `scope`, allowed to invoke that function and nothing else; cdk-nag's finding on the function's
 * `<arn>:*` (its versions and aliases, which CDK's grantInvoke adds) is acknowledged.
 */
export function schedulerRole(scope: Construct, target: KomboFunction, name: string): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'ScheduleRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    description: `EventBridge Scheduler: invokes the ${stack.stackName} ${name}`,
  });
  const targetId = stack.resolve(stack.getLogicalId(target.function.node.defaultChild as lambda.CfnFunction)) as string;
  Validations.of(role).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${targetId}.Arn>:*]`,
    reason: `CDK's grantInvoke also covers the ${name}'s versions and aliases (\`<arn>:*\`); it is still this one function only.`,
  });
  return role;
}

export class KomboFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  private readonly dataKey: DataKey;
  private dataKeyGranted = false;

  constructor(scope: Construct, id: string, props: KomboFunctionProps) {
    super(scope, id);
    this.dataKey = props.dataKey;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy, encryptionKey: props.dataKey.key });
    // A role of our own rather than AWSLambdaBasicExecutionRole: write access to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} Lambda of ${Stack.of(this).stackName}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.name),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // Bundle the AWS SDK too: the versions tested here are the versions that run.
        bundleAwsSDK: true,
        logLevel: LogLevel.ERROR,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Pinned to Node.js 22 (LTS, supported by Lambda into 2027) as the project requires; the bundle targets node22. Moving to a newer runtime is a one-line change here once tested.',
    });
  }

  private env(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  /**
   * Encrypt and decrypt with the stack's data key (`kms:GenerateDataKey`, `kms:Decrypt`): what reading
   * and writing the warehouse or Athena query results needs on top of the S3 permissions. Once per
   * function; later calls change nothing.
   */
  grantDataKey(): this {
    if (!this.dataKeyGranted) this.dataKey.grantUse(this.role);
    this.dataKeyGranted = true;
    return this;
  }

  /**
   * Read, write and delete objects under the warehouse prefix, or only under `areas` of it (key
   * prefixes below the warehouse prefix ending in `/`, such as `_runs/`); list the bucket (so that a
   * missing key reads as 404); use the data key the objects are encrypted with.
   */
  bindWarehouse(bucket: IBucket, prefix: string, areas?: readonly string[]): this {
    this.env(ENV.warehouseBucket, bucket.bucketName);
    this.env(ENV.warehousePrefix, prefix);
    for (const area of areas ?? []) {
      if (!/^[A-Za-z0-9_.=-]+\/$/.test(area)) throw new Error(`a warehouse area is one folder name ending in "/", got ${JSON.stringify(area)}`);
    }
    const patterns = areas === undefined ? [`${prefix}/*`] : areas.map((a) => `${prefix}/${a}*`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WarehouseObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: patterns.map((p) => bucket.arnForObjects(p)),
      }),
    );
    // Not scoped by s3:prefix: S3 answers a read of a missing key with 404 only to a caller that may
    // list the bucket, and with a prefix condition that permission does not apply to a GetObject, so
    // the read gets 403 instead. The pipeline reads missing keys by design: a stream's `_state/`
    // (commits, lock, index) on its first sync, a stream's marker before it ends, a run's plan,
    // completion markers and chain records before they are written. The bucket holds the warehouse.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WarehouseList',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
      }),
    );
    this.grantDataKey();
    // The finding names the bucket by its logical id; derive it so the acknowledgement follows renames.
    const stack = Stack.of(this);
    const bucketId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnBucket)) as string;
    for (const p of patterns) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}]`,
        reason: `Object keys under the warehouse prefix are per run, table and partition, unknown at deploy time; access is limited to "${p.slice(0, -1)}" and to get, put, delete and abort-multipart.`,
      });
    }
    return this;
  }

  /** Send stream messages to the fetch queue. */
  bindFetchQueue(queue: IQueue): this {
    this.env(ENV.fetchQueueUrl, queue.queueUrl);
    queue.grantSendMessages(this.role);
    return this;
  }

  /** Read the Kombo API key secret, and call Kombo at `apiUrl`. */
  bindKombo(secret: ISecret, apiUrl: string): this {
    this.env(ENV.apiKeySecretArn, secret.secretArn);
    this.env(ENV.komboApiUrl, apiUrl);
    secret.grantRead(this.role);
    return this;
  }

  /**
   * Read the integration registry: the parameters directly under the SSM `path` (`/a/b`, no
   * trailing `/`). GetParametersByPath is authorized against the path in the request, not against
   * the parameters it returns, so the grant names the path exactly and no wildcard is needed; the
   * parameters are plain `String`s, so there is no key to decrypt with.
   */
  bindRegistry(path: string): this {
    if (!REGISTRY_PATH_PATTERN.test(path)) throw new Error(`the registry path must look like "/KomboEtl/integrations", got ${JSON.stringify(path)}`);
    this.env(ENV.integrationsPath, path);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IntegrationRegistry',
        actions: ['ssm:GetParametersByPath'],
        resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: path.slice(1) })],
      }),
    );
    return this;
  }

  /**
   * The registry parameters `part-001` … `part-<parts>` hold the stack's `integrations` context: the
   * planner seeds the registry from them as `config`, and from any other parameter as `ssm`.
   */
  bindRegistryConfigParts(parts: number): this {
    this.env(ENV.registryConfigParts, String(parts));
    return this;
  }

  /** Read the secret Kombo signs its webhooks with. */
  bindWebhookSecret(secret: ISecret): this {
    this.env(ENV.webhookSecretArn, secret.secretArn);
    secret.grantRead(this.role);
    return this;
  }

  /** Send to the webhook events queue (the receiver's events, the dispatcher's wake-ups); consuming it is the event source's grant. */
  bindEventsQueue(queue: IQueue): this {
    this.env(ENV.eventsQueueUrl, queue.queueUrl);
    queue.grantSendMessages(this.role);
    return this;
  }

  /** Least seconds between the starts of two webhook-triggered syncs of one integration. */
  bindWebhookGap(seconds: number): this {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`the webhook gap is a whole number of seconds, at least 0, got ${seconds}`);
    this.env(ENV.webhookGapSeconds, String(seconds));
    return this;
  }

  /** Create and update partitions of exactly these tables, and with `remove` delete them (the compactor's `unsync_date`). */
  bindCatalog(databaseName: string, tableNames: readonly string[], opts: { readonly remove?: boolean } = {}): this {
    this.env(ENV.glueDatabase, databaseName);
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, ...(resourceName !== undefined && { resourceName }) });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'GluePartitions',
        actions: ['glue:CreatePartition', 'glue:UpdatePartition', ...(opts.remove === true ? ['glue:DeletePartition'] : [])],
        resources: [arn('catalog'), arn('database', databaseName), ...tableNames.map((t) => arn('table', `${databaseName}/${t}`))],
      }),
    );
    return this;
  }

  /** The chunk budget: how long one message may fetch before it hands over to a continuation. */
  bindChunkBudget(maxMillis: number): this {
    this.env(ENV.chunkMaxMillis, String(maxMillis));
    return this;
  }

  /**
   * Pace this function's Kombo client at `requestsPerSecond`: its share of the deployment's Kombo
   * budget. Kombo's `ratelimit-*` headers and 429 back-off still apply on top.
   */
  bindKomboRequestBudget(requestsPerSecond: number): this {
    if (!(requestsPerSecond > 0)) throw new Error(`a Kombo request budget must be above 0 requests per second, got ${requestsPerSecond}`);
    this.env(ENV.komboRequestsPerSecond, String(requestsPerSecond));
    return this;
  }

  /** Days of the planner's full-sync cycle: each integration syncs in full on its own day of it. */
  bindFullSyncEveryDays(days: number): this {
    if (!Number.isInteger(days) || days < 1) throw new Error(`full syncs must be a whole number of days apart, at least 1, got ${days}`);
    this.env(ENV.fullSyncEveryDays, String(days));
    return this;
  }

  /** What to store in personal-data columns; `hash` reads its salt from the secret of {@link bindPiiSalt}. */
  bindPiiMode(mode: PiiMode): this {
    this.env(ENV.piiMode, mode);
    return this;
  }

  /** Read the secret holding the `hash` salt alone: a secret of its own, so that no other function may read it. */
  bindPiiSalt(secret: ISecret): this {
    this.env(ENV.piiSaltSecretArn, secret.secretArn);
    secret.grantRead(this.role);
    return this;
  }
}
