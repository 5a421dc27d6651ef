/**
 * Monitoring: alarms for a non-empty DLQ, fetcher, planner, compactor and reporter errors, failed streams,
 * a run not finished by the deadline and an integration not synced for more than a day; with webhooks,
 * signature failures, receiver and dispatcher errors and the events DLQ; an optional SNS topic that
 * e-mails them; a small dashboard.
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
import { STALE_AFTER_HOURS } from '../../shared/adapters/aws/planner.ts';
import { METRICS_NAMESPACE } from './function.ts';

const FIVE_MINUTES = Duration.minutes(5);

/** Requests with a bad or missing signature in five minutes before the alarm fires: a few are Internet noise, more are an attack or a wrong secret. */
export const SIGNATURE_FAILURES_THRESHOLD = 10;
/** An integration whose latest successful sync is older than this many hours at the run deadline raises `IntegrationNotSynced`. */
export const MAX_HOURS_SINCE_SYNC = STALE_AFTER_HOURS;

/** The webhook functions and their DLQ, to watch. */
export interface WebhookMonitoringProps {
  readonly receiver: lambda.IFunction;
  readonly dispatcher: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface MonitoringProps {
  readonly planner: lambda.IFunction;
  readonly fetcher: lambda.IFunction;
  /** The weekly compactor: an error leaves superseded versions and expired deletions past the retention. */
  readonly compactor: lambda.IFunction;
  /** The nightly reporter: an error leaves the report in the bucket as of an earlier night. */
  readonly reporter: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Only when the stack receives webhooks. */
  readonly webhooks?: WebhookMonitoringProps;
  /** Powertools `service` dimension of the custom metrics. */
  readonly serviceName: string;
  /** Where alarms are e-mailed; no topic is created without it. */
  readonly alarmEmail?: string;
  readonly dashboardName: string;
}

export class Monitoring extends Construct {
  readonly alarms: Record<'deadLetters' | 'fetcherErrors' | 'plannerErrors' | 'compactorErrors' | 'reporterErrors' | 'streamsFailed' | 'runOverdue' | 'integrationNotSynced', cloudwatch.Alarm>;
  /** Only when the stack receives webhooks. */
  readonly webhookAlarms: Record<'signatureFailures' | 'receiverErrors' | 'dispatcherErrors' | 'eventDeadLetters', cloudwatch.Alarm> | undefined;
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
      integrationNotSynced: new cloudwatch.Alarm(this, 'IntegrationNotSynced', {
        threshold: MAX_HOURS_SINCE_SYNC,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `An integration of the registry has had no successful sync for more than ${MAX_HOURS_SINCE_SYNC} hours at the run deadline. The planner's deadline log line names it; its streams' report.json says why (revoked, inactive, failing).`,
        metric: custom('HoursSinceLastSync').with({ statistic: 'Maximum' }),
      }),
    };
    this.webhookAlarms = props.webhooks && this.webhookAlarmsOf(props.webhooks, custom, atLeastOne);

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
      for (const alarm of [...Object.values(this.alarms), ...Object.values(this.webhookAlarms ?? {})]) alarm.addAlarmAction(action);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.days(2) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...Object.values(this.alarms), ...Object.values(this.webhookAlarms ?? {})], width: 24, height: 3 }),
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
    const syncAge = new cloudwatch.GraphWidget({ title: 'Hours since the last successful sync (largest, at the deadline)', left: [custom('HoursSinceLastSync', 'hours').with({ statistic: 'Maximum', period: Duration.hours(1) })], width: 12 });
    const webhooks = props.webhooks;
    this.dashboard.addWidgets(
      syncAge,
      ...(webhooks
        ? [
            new cloudwatch.GraphWidget({
              title: 'Webhooks',
              left: [custom('WebhookEventsAccepted', 'events accepted'), custom('WebhookRunsStarted', 'syncs started'), custom('WebhookEventsFailed', 'events failed'), custom('WebhookSignatureFailures', 'bad signatures')],
              right: [webhooks.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, label: 'events DLQ' })],
              width: 12,
            }),
          ]
        : []),
    );
  }
  private webhookAlarmsOf(w: WebhookMonitoringProps, custom: (name: string) => cloudwatch.Metric, atLeastOne: Pick<cloudwatch.AlarmProps, 'threshold' | 'evaluationPeriods' | 'comparisonOperator' | 'treatMissingData'>): NonNullable<Monitoring['webhookAlarms']> {
    // A failed record of a batch does not fail the invocation: the dispatcher counts it itself.
    const dispatcherFailures = new cloudwatch.MathExpression({
      expression: 'FILL(errors, 0) + FILL(failed, 0)',
      usingMetrics: { errors: w.dispatcher.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), failed: custom('WebhookEventsFailed') },
      period: FIVE_MINUTES,
    });
    return {
      signatureFailures: new cloudwatch.Alarm(this, 'WebhookSignatureFailures', {
        ...atLeastOne,
        threshold: SIGNATURE_FAILURES_THRESHOLD,
        alarmDescription: `${SIGNATURE_FAILURES_THRESHOLD} or more webhook requests in five minutes had a bad or missing signature: the secret in Secrets Manager differs from Kombo's (after a rotation?), or someone is probing the URL. Nothing was queued for them.`,
        metric: custom('WebhookSignatureFailures'),
      }),
      receiverErrors: new cloudwatch.Alarm(this, 'ReceiverErrors', {
        ...atLeastOne,
        alarmDescription: 'The webhook receiver failed (secret not set or unreadable, queue unavailable, timeout): Kombo got an error and delivers the event again. See the receiver logs.',
        metric: w.receiver.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      }),
      dispatcherErrors: new cloudwatch.Alarm(this, 'DispatcherErrors', {
        ...atLeastOne,
        alarmDescription: 'A webhook event failed in the dispatcher (it is retried, then goes to the events DLQ); the nightly run still syncs the integration. See the dispatcher logs.',
        metric: dispatcherFailures,
      }),
      eventDeadLetters: new cloudwatch.Alarm(this, 'EventDeadLetters', {
        ...atLeastOne,
        alarmDescription: 'A webhook event failed every attempt and is in the events DLQ. Read the dispatcher logs for its message id, fix the cause, then redrive the DLQ.',
        metric: w.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      }),
    };
  }
}
