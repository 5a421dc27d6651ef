/**
 * Monitoring: alarms for a non-empty DLQ, fetcher, planner, compactor and reporter errors, failed streams and
 * a run not finished by the deadline; an optional SNS topic that e-mails them; a small dashboard.
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './function.ts';

const FIVE_MINUTES = Duration.minutes(5);

export interface MonitoringProps {
  readonly planner: lambda.IFunction;
  readonly fetcher: lambda.IFunction;
  /** The weekly compactor: an error leaves superseded versions and expired deletions past the retention. */
  readonly compactor: lambda.IFunction;
  /** The nightly reporter: an error leaves the report in the bucket as of an earlier night. */
  readonly reporter: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Powertools `service` dimension of the custom metrics. */
  readonly serviceName: string;
  /** Where alarms are e-mailed; no topic is created without it. */
  readonly alarmEmail?: string;
  readonly dashboardName: string;
}

export class Monitoring extends Construct {
  readonly alarms: Record<'deadLetters' | 'fetcherErrors' | 'plannerErrors' | 'compactorErrors' | 'reporterErrors' | 'streamsFailed' | 'runOverdue', cloudwatch.Alarm>;
  readonly topic: sns.Topic | undefined;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // A label turns an alarm's metric into a metric-math query; labels are for the dashboard only.
    const custom = (metricName: string, label?: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: props.serviceName }, statistic: 'Sum', period: FIVE_MINUTES, ...(label !== undefined && { label }) });
    const atLeastOne = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };

    this.alarms = {
      deadLetters: new cloudwatch.Alarm(this, 'DeadLetters', {
        ...atLeastOne,
        alarmDescription: 'A chunk failed every attempt and its message is in the DLQ: its stream stopped. Read the fetcher logs for the message, fix the cause, then redrive the DLQ.',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      }),
      fetcherErrors: new cloudwatch.Alarm(this, 'FetcherErrors', {
        ...atLeastOne,
        alarmDescription: 'The fetcher Lambda failed (a chunk threw, timed out or ran out of memory). The message is retried; see the fetcher logs.',
        metric: props.fetcher.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      }),
      plannerErrors: new cloudwatch.Alarm(this, 'PlannerErrors', {
        ...atLeastOne,
        alarmDescription: 'The planner Lambda failed: no run was started (bad API key, unreadable registry…). See the planner logs.',
        metric: props.planner.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      }),
      compactorErrors: new cloudwatch.Alarm(this, 'CompactorErrors', {
        ...atLeastOne,
        alarmDescription:
          'The compactor Lambda failed: versions and deleted records past the retention stay until a compaction completes (the next one goes on where this one stopped). See the compactor logs; `kombo-etl compact` runs the same step by hand.',
        metric: props.compactor.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      }),
      reporterErrors: new cloudwatch.Alarm(this, 'ReporterErrors', {
        ...atLeastOne,
        alarmDescription:
          'The reporter Lambda failed: reports/latest.html still shows an earlier night. See the reporter logs; `kombo-etl report --athena` draws the same report by hand.',
        metric: props.reporter.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      }),
      streamsFailed: new cloudwatch.Alarm(this, 'StreamsFailed', {
        ...atLeastOne,
        alarmDescription: "A stream failed (integration revoked, inactive, retries exhausted…): nothing of it was stored and its watermark stays; the next sync fetches what changed since its last completed one. The run's report.json names the Kombo error code.",
        metric: custom('StreamsFailed'),
      }),
      runOverdue: new cloudwatch.Alarm(this, 'RunOverdue', {
        ...atLeastOne,
        alarmDescription: 'No run finished by the deadline: the planner did not run, or a stream is stuck. See the planner logs of the deadline check.',
        metric: custom('RunsOverdue'),
      }),
    };

    if (props.alarmEmail !== undefined) {
      this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'kombo-etl alarms', enforceSSL: true });
      // enforceSSL writes a topic policy holding only its Deny, and a topic policy replaces the
      // default one: without this Allow, CloudWatch may not publish and no alarm reaches the inbox.
      const stack = Stack.of(this);
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
          },
        }),
      );
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason: 'The topic carries alarm names and states only, no data; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer key would cost more than the alarms.',
      });
      const action = new SnsAction(this.topic);
      for (const alarm of Object.values(this.alarms)) alarm.addAlarmAction(action);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.days(2) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Runs and streams', left: [custom('RunsStarted', 'runs started'), custom('StreamsDone', 'streams done'), custom('StreamsSkipped', 'streams skipped'), custom('StreamsFailed', 'streams failed')], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Fetched', left: [custom('Pages', 'pages'), custom('Chunks', 'chunks')], right: [custom('Rows', 'rows')], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Kombo retries and throttles', left: [custom('Retries', 'retries'), custom('Throttles', 'throttled (429)'), custom('ChunksFailed', 'failed chunks')], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Fetcher',
        left: [props.fetcher.metricInvocations({ period: FIVE_MINUTES }), props.fetcher.metricErrors({ period: FIVE_MINUTES }), props.fetcher.metricThrottles({ period: FIVE_MINUTES })],
        right: [props.fetcher.metricDuration({ period: FIVE_MINUTES, statistic: 'Maximum' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Fetch queue',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, label: 'waiting' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period: FIVE_MINUTES, label: 'in flight' }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, label: 'DLQ' }),
        ],
        right: [props.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, label: 'oldest message (s)' })],
        width: 12,
      }),
    );
  }
}
