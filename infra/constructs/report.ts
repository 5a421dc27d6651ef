/**
 * The report step: the reporter Lambda, run on a schedule after each nightly run (at the run
 * deadline, when the night's run should be done), which draws the hiring report through Athena and
 * writes `reports/latest.html` and `reports/<date>.html` to the warehouse bucket. It reads the
 * warehouse and the catalog, writes Athena results in the results bucket, and writes nothing else.
 */
import { Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { ATHENA_WORKGROUP_ENV, LATEST_REPORT_KEY, REPORTS_BUCKET_ENV, REPORTS_PREFIX } from '../../shared/adapters/aws/report-publisher.ts';
import type { DataKey } from './data-key.ts';
import { KomboFunction, schedulerRole } from './function.ts';

/** A dozen Athena queries, one after the other. */
export const REPORTER_TIMEOUT = Duration.minutes(10);
export const REPORTER_MEMORY_MB = 512;

export interface ReportProps {
  readonly warehouse: IBucket;
  readonly warehousePrefix: string;
  readonly athenaResults: IBucket;
  /** Key prefix of query results in the results bucket, ending in `/`. */
  readonly athenaResultsPrefix: string;
  readonly databaseName: string;
  readonly workGroupName: string;
  /** When the report is drawn: the run deadline's cron, in `timezone`. */
  readonly schedule: string;
  readonly timezone: string;
  readonly logRetention: logs.RetentionDays;
  readonly serviceName: string;
  /** Encrypts the warehouse, the query results and the reporter's logs. */
  readonly dataKey: DataKey;
}

export class Report extends Construct {
  readonly reporter: KomboFunction;
  readonly schedule: scheduler.Schedule;
  /** `s3://<bucket>/reports/latest.html`. */
  readonly latestUri: string;

  constructor(scope: Construct, id: string, props: ReportProps) {
    super(scope, id);
    this.reporter = new KomboFunction(this, 'Reporter', {
      name: 'reporter',
      description: 'Draws the kombo-etl hiring report through Athena after the nightly run and writes it to reports/ in the warehouse bucket.',
      timeout: REPORTER_TIMEOUT,
      memorySize: REPORTER_MEMORY_MB,
      logRetention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      serviceName: props.serviceName,
      dataKey: props.dataKey,
    });
    // It reads the warehouse and writes query results and reports, all under the data key.
    this.reporter.grantDataKey();
    const fn = this.reporter.function;
    fn.addEnvironment(REPORTS_BUCKET_ENV, props.warehouse.bucketName);
    fn.addEnvironment(ATHENA_WORKGROUP_ENV, props.workGroupName);
    fn.addEnvironment(ENV.glueDatabase, props.databaseName);
    this.grant(props);
    this.latestUri = `s3://${props.warehouse.bucketName}/${LATEST_REPORT_KEY}`;
    this.schedule = this.nightly(props);
  }

  /** Athena in the workgroup, Glue reads of the database, S3 reads of the warehouse, results and reports written. */
  private grant(props: ReportProps): void {
    const stack = Stack.of(this);
    const role = this.reporter.role;
    const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, ...(resourceName !== undefined && { resourceName }) });
    const statement = (sid: string, actions: string[], resources: string[]) => role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));
    statement('AthenaQueries', ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'], [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName })]);
    // Every table and view of the database, by one pattern: a hundred ARNs would overflow the role's policy.
    statement('GlueReads', ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'], [glue('catalog'), glue('database', props.databaseName), glue('table', `${props.databaseName}/*`)]);
    statement('WarehouseReads', ['s3:GetObject'], [props.warehouse.arnForObjects(`${props.warehousePrefix}/*`)]);
    statement('BucketLists', ['s3:ListBucket', 's3:GetBucketLocation'], [props.warehouse.bucketArn, props.athenaResults.bucketArn]);
    statement('AthenaResults', ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], [props.athenaResults.arnForObjects(`${props.athenaResultsPrefix}*`)]);
    statement('Reports', ['s3:PutObject'], [props.warehouse.arnForObjects(`${REPORTS_PREFIX}*`)]);
    const id = (bucket: IBucket) => stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnBucket)) as string;
    const reasons: [string, string][] = [
      [`Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/${props.databaseName}/*`, 'Athena reads the tables and views of the warehouse database, read only; the database holds nothing else.'],
      [`Resource::<${id(props.warehouse)}.Arn>/${props.warehousePrefix}/*`, 'Athena reads the Parquet files of every partition under the warehouse prefix, read only.'],
      [`Resource::<${id(props.athenaResults)}.Arn>/${props.athenaResultsPrefix}*`, 'Athena writes each query result under a key named after the query id, unknown at deploy time.'],
      [`Resource::<${id(props.warehouse)}.Arn>/${REPORTS_PREFIX}*`, 'The reporter writes reports/latest.html and one dated file per night, put only, under reports/.'],
    ];
    for (const [finding, reason] of reasons) Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`, reason });
  }

  private nightly(props: ReportProps): scheduler.Schedule {
    const role = schedulerRole(this, this.reporter, 'reporter');
    return new scheduler.Schedule(this, 'NightlyReport', {
      description: 'Draws the kombo-etl hiring report after the nightly run.',
      schedule: scheduler.ScheduleExpression.expression(props.schedule, TimeZone.of(props.timezone)),
      target: new LambdaInvoke(this.reporter.function, { role, input: scheduler.ScheduleTargetInput.fromObject({}), retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
  }
}
