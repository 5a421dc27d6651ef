/**
 * The kombo-etl stack: storage, catalog and analytics, pipeline, monitoring, and the outputs a user
 * needs after `cdk deploy` (where the data is, where the key goes, how to start a run).
 */
import type { StackProps } from 'aws-cdk-lib';
import { Aws, CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { s3Uri } from '../shared/adapters/aws/glue-schema.ts';
import { webhookKeys } from '../shared/state/keys.ts';
import type { EtlConfig } from './config.ts';
import { AnalyticsViews } from './constructs/analytics-views.ts';
import { Catalog } from './constructs/catalog.ts';
import { Compaction } from './constructs/compaction.ts';
import { DataKey } from './constructs/data-key.ts';
import { LakeFormationGrants } from './constructs/lake-formation.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Pipeline } from './constructs/pipeline.ts';
import { Report } from './constructs/report.ts';
import { ATHENA_RESULTS_PREFIX, Storage } from './constructs/storage.ts';
import { Webhooks } from './constructs/webhooks.ts';

export interface KomboEtlStackProps extends StackProps {
  readonly config: EtlConfig;
}

/** `KomboEtl` → `kombo_etl` (Glue database names are lower case, no `-`). */
export function glueDatabaseName(stackName: string): string {
  return stackName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/**
 * The AWS CLI gives up reading an answer after 60 s and sends the request again, while planning a
 * large registry takes longer: without this, one command would start two runs.
 */
export const WAIT_FOR_PLANNER = '--cli-read-timeout 0';

/**
 * CloudWatch dashboards are global to the account: the region in the name lets a copy of the stack
 * in another region (Kombo EU and US are separate endpoints) have its own.
 */
export function dashboardName(stackName: string): string {
  return `${stackName}-${Aws.REGION}`;
}

export class KomboEtlStack extends Stack {
  /** Encrypts the warehouse, the query results and the logs; grant it to a new function with `grantDataKey()`. */
  readonly dataKey: DataKey;
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly views: AnalyticsViews;
  readonly pipeline: Pipeline;
  readonly compaction: Compaction;
  readonly monitoring: Monitoring;
  readonly report: Report;
  /** Unless the `webhooks` context key is false. */
  readonly webhooks: Webhooks | undefined;
  /** Only with the `lakeFormation` context key. */
  readonly lakeFormation: LakeFormationGrants | undefined;

  constructor(scope: Construct, id: string, props: KomboEtlStackProps) {
    super(scope, id, {
      description: 'kombo-etl: nightly Kombo ATS snapshots into Parquet on S3, catalogued in Glue, queried with Athena',
      ...props,
    });
    const c = props.config;
    const serviceName = this.stackName;
    const databaseName = glueDatabaseName(this.stackName);

    this.dataKey = new DataKey(this, 'DataKey', { destroyData: c.destroyData });
    this.storage = new Storage(this, 'Storage', { warehousePrefix: c.warehousePrefix, retentionDays: c.retentionDays, destroyData: c.destroyData, encryptionKey: this.dataKey.key });

    this.catalog = new Catalog(this, 'Catalog', {
      databaseName,
      workGroupName: databaseName.replace(/_/g, '-'),
      warehouse: this.storage.warehouse,
      warehousePrefix: c.warehousePrefix,
      athenaResults: this.storage.athenaResults,
      athenaResultsPrefix: ATHENA_RESULTS_PREFIX,
      resultsKey: this.dataKey.key,
      bytesScannedCutoffGb: c.athenaBytesScannedCutoffGb,
    });

    // The funnel views exist right after `cdk deploy`, created after the tables they read.
    this.views = new AnalyticsViews(this, 'AnalyticsViews', { databaseName });
    this.views.node.addDependency(this.catalog);

    this.pipeline = new Pipeline(this, 'Pipeline', {
      warehouse: this.storage.warehouse,
      warehousePrefix: c.warehousePrefix,
      databaseName,
      tableNames: this.catalog.tableNames,
      integrations: c.integrations,
      komboApiUrl: c.komboApiUrl,
      schedule: c.schedule,
      runDeadline: c.runDeadline,
      timezone: c.timezone,
      fetcherMaxConcurrency: c.fetcherMaxConcurrency,
      ...(c.komboRequestsPerSecond !== undefined && { komboRequestsPerSecond: c.komboRequestsPerSecond }),
      piiMode: c.piiMode,
      fullSyncEveryDays: c.fullSyncEveryDays,
      logRetention: c.logRetentionDays,
      serviceName,
      dataKey: this.dataKey,
      destroyData: c.destroyData,
    });

    this.webhooks = c.webhooks
      ? new Webhooks(this, 'Webhooks', {
          warehouse: this.storage.warehouse,
          warehousePrefix: c.warehousePrefix,
          fetchQueue: this.pipeline.queue,
          apiKey: this.pipeline.apiKey,
          komboApiUrl: c.komboApiUrl,
          fullSyncEveryDays: c.fullSyncEveryDays,
          databaseName,
          piiMode: c.piiMode,
          gapSeconds: c.webhookGapSeconds,
          receiverConcurrency: c.webhookReceiverConcurrency,
          logRetention: c.logRetentionDays,
          serviceName,
          dataKey: this.dataKey,
          destroyData: c.destroyData,
        })
      : undefined;

    this.compaction = new Compaction(this, 'Compaction', {
      warehouse: this.storage.warehouse,
      warehousePrefix: c.warehousePrefix,
      databaseName,
      tableNames: this.catalog.tableNames,
      retentionDays: c.retentionDays,
      nightlySchedule: c.schedule,
      timezone: c.timezone,
      logRetention: c.logRetentionDays,
      serviceName,
      dataKey: this.dataKey,
    });

    this.report = new Report(this, 'Report', {
      warehouse: this.storage.warehouse,
      warehousePrefix: c.warehousePrefix,
      athenaResults: this.storage.athenaResults,
      athenaResultsPrefix: this.catalog.resultsPrefix,
      databaseName,
      workGroupName: this.catalog.workGroup.name,
      schedule: c.runDeadline,
      timezone: c.timezone,
      logRetention: c.logRetentionDays,
      serviceName,
      dataKey: this.dataKey,
    });

    this.lakeFormation = c.lakeFormation
      ? new LakeFormationGrants(this, 'LakeFormation', {
          databaseName,
          tableNames: this.catalog.tableNames,
          warehouse: this.storage.warehouse,
          warehousePrefix: c.warehousePrefix,
          writers: [this.pipeline.fetcher.role, this.compaction.compactor.role],
          // The reporter reads the tables through Athena like any other reader.
          readers: [...c.lakeFormationReaders, this.report.reporter.role.roleArn],
          after: [this.catalog, this.views],
        })
      : undefined;
    // Athena reads a registered location with Lake Formation's role: it must decrypt the warehouse.
    if (this.lakeFormation) this.dataKey.allowLakeFormation();

    this.monitoring = new Monitoring(this, 'Monitoring', {
      planner: this.pipeline.planner.function,
      fetcher: this.pipeline.fetcher.function,
      compactor: this.compaction.compactor.function,
      reporter: this.report.reporter.function,
      queue: this.pipeline.queue,
      deadLetterQueue: this.pipeline.deadLetterQueue,
      ...(this.webhooks && { webhooks: { receiver: this.webhooks.receiver.function, dispatcher: this.webhooks.dispatcher.function, deadLetterQueue: this.webhooks.deadLetterQueue } }),
      serviceName,
      ...(c.alarmEmail !== undefined && { alarmEmail: c.alarmEmail }),
      dashboardName: dashboardName(this.stackName),
    });

    this.outputs(c, databaseName);
  }

  private outputs(c: EtlConfig, databaseName: string): void {
    const p = this.pipeline;
    const region = `--region ${Aws.REGION}`;
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('WarehouseBucket', this.storage.warehouse.bucketName, 'Bucket holding the Parquet warehouse');
    out('WarehouseUri', s3Uri(this.storage.warehouse.bucketName, c.warehousePrefix), 'Root of the warehouse (tables and _runs/)');
    out('AthenaResultsBucket', this.storage.athenaResults.bucketName, 'Bucket of Athena query results');
    out('AthenaResultsUri', s3Uri(this.storage.athenaResults.bucketName, this.catalog.resultsPrefix), "Where the workgroup writes query results (its own prefix)");
    out('DataKeyArn', this.dataKey.key.keyArn, 'KMS key encrypting the warehouse, query results and logs: a reader needs kms:Decrypt on it (docs/BI.md)');
    out('ApiKeySecretArn', p.apiKey.secretArn, 'Secrets Manager secret holding the Kombo API key');
    out('SetApiKeyCommand', `aws secretsmanager put-secret-value ${region} --secret-id ${p.apiKey.secretArn} --secret-string "$KOMBO_API_KEY"`, 'Put the Kombo API key into the secret');
    if (p.piiSalt) {
      // A secret of its own, which only the fetcher reads.
      out('SetPiiSaltCommand', `aws secretsmanager put-secret-value ${region} --secret-id ${p.piiSalt.secretArn} --secret-string "$KOMBO_PII_SALT"`, 'Put the PII salt (32+ characters with 10+ different ones, kept unchanged for good) into its secret');
    }
    out('IntegrationRegistryPath', p.registryPath, "SSM path whose parameters seed the integration registry: the stack's integrations context on every run, all of them once on the first run");
    const registry = `s3://${this.storage.warehouse.bucketName}/${c.warehousePrefix}/${webhookKeys.registry()}`;
    out('ListIntegrationsCommand', `aws s3 cp ${region} ${registry} -`, 'Print the integration registry the planner syncs (deleted ones carry deletedAt)');
    const invokePlanner = (payload: string) => `aws lambda invoke ${region} --function-name ${p.planner.function.functionName} --cli-binary-format raw-in-base64-out --payload '${payload}' /dev/stdout`;
    out('AddIntegrationsCommand', invokePlanner(JSON.stringify({ add_integrations: ['greenhouse:AbC123', 'lever:XyZ789'] })), 'Add integrations to the registry by hand (Kombo\'s integration-created webhook adds them by itself); no redeploy needed');
    out('RemoveIntegrationsCommand', invokePlanner(JSON.stringify({ remove_integrations: ['greenhouse:AbC123'] })), 'Mark integrations deleted: no run syncs them again, their data stays');
    out('GlueDatabase', databaseName, 'Glue database with one table per warehouse table');
    out('AthenaWorkGroup', this.catalog.workGroup.name, 'Athena workgroup to query the warehouse with');
    out('PlannerFunction', p.planner.function.functionName, 'Planner Lambda (invoke it to start a run)');
    out('StartRunCommand', `aws lambda invoke ${region} ${WAIT_FOR_PLANNER} --function-name ${p.planner.function.functionName} --cli-binary-format raw-in-base64-out --payload '{}' /dev/stdout`, 'Start a run now; the payload may set snapshot_date, integrations, models, and "full": true to sync every stream in full');
    out('RetryRunCommand', `aws lambda invoke ${region} ${WAIT_FOR_PLANNER} --function-name ${p.planner.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"retry_run_id":"<run_id>"}' /dev/stdout`, 'Send the failed streams of a finished run (id from _runs/) again, into the same run');
    out('FetcherLogGroup', p.fetcher.logGroup.logGroupName, 'Logs of the fetcher (one line per chunk and per stream end)');
    out('FetchQueueUrl', p.queue.queueUrl, 'FIFO queue of stream chunks');
    out('DeadLetterQueueUrl', p.deadLetterQueue.queueUrl, 'Chunks that failed every attempt');
    out('DashboardUrl', `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${dashboardName(this.stackName)}`, 'CloudWatch dashboard');
    out('LatestReportUri', this.report.latestUri, 'The hiring report of the latest night (reports/<date>.html beside it keeps each night\'s); download it with aws s3 cp');
    const w = this.webhooks;
    if (w) {
      out('WebhookUrl', w.url.url, "Paste into Kombo's dashboard (Webhooks) as the endpoint of every event type");
      out('WebhookSecretArn', w.secret.secretArn, 'Secrets Manager secret holding the secret Kombo signs its webhooks with');
      out('SetWebhookSecretCommand', `aws secretsmanager put-secret-value ${region} --secret-id ${w.secret.secretArn} --secret-string "$KOMBO_WEBHOOK_SECRET"`, "Put the webhook signing secret from Kombo's dashboard into its secret");
      out('EventsDeadLetterQueueUrl', w.deadLetterQueue.queueUrl, 'Webhook events that failed every attempt');
    }
    if (this.monitoring.topic) out('AlarmTopicArn', this.monitoring.topic.topicArn, 'SNS topic of the alarms (confirm the e-mail subscription)');
  }
}
