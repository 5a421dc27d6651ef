/**
 * What AWS hands the pipeline's Lambda handlers, built for tests that invoke them directly: the
 * invocation context, the record Lambda's SQS event source builds from a received message, and the
 * nightly schedule's event.
 */
import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { Context, EventBridgeEvent, SQSRecord } from 'aws-lambda';
import { SCHEDULED_RUN, SCHEDULE_SOURCE } from '../../shared/adapters/aws/events.ts';

/** The context of one invocation of function `name` in `region`. */
export const lambdaContext = (name: string, region: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${name}`,
  memoryLimitInMB: '2048',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 600_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** The record Lambda's SQS event source builds from a message received from `queueArn`. */
export const sqsRecordOf = (m: Message, queueArn: string, region: string): SQSRecord => {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? '0',
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '0',
      SequenceNumber: a.SequenceNumber,
      MessageGroupId: a.MessageGroupId,
      MessageDeduplicationId: a.MessageDeduplicationId,
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
};

/** The nightly schedule's event for `date`; each delivery has its own id, as Scheduler's retries do. */
export const nightlyEventOf = (date: string, region: string): EventBridgeEvent<typeof SCHEDULED_RUN, Record<string, never>> => ({
  version: '0',
  id: randomUUID(),
  'detail-type': SCHEDULED_RUN,
  source: SCHEDULE_SOURCE,
  account: '123456789012',
  time: `${date}T02:00:00Z`,
  region,
  resources: [`arn:aws:scheduler:${region}:123456789012:schedule/default/KomboEtl-NightlyRun`],
  detail: {},
});
