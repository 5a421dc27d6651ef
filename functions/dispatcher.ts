/**
 * dispatcher Lambda: records of the standard SQS events queue (Kombo's events the receiver
 * verified, and the dispatcher's own delayed wake-ups), through Powertools' batch processor so that
 * a failed record fails alone and is retried (then the DLQ). Each record goes to `dispatchEvent`,
 * which starts a sync of the changed models, queues them behind a running one, or keeps the
 * registry (`shared/adapters/aws/dispatcher.ts` plans the runs).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CachedSecret, EventsQueue, S3Store, SqsQueue, integrationRecorder, komboClientFromSecret, parseDispatcherEnv, parseQueuedEvent } from '../shared/adapters/aws/index.ts';
import { dispatchDeps } from '../shared/adapters/aws/dispatcher.ts';
import { errorMessage } from '../shared/errors.ts';
import { dispatchEvent } from '../shared/webhooks/dispatch.ts';
import { DEFAULT_GAP_MS } from '../shared/webhooks/triggers.ts';

const env = parseDispatcherEnv(DEFAULT_GAP_MS / 1000);
const logger = new Logger();
const metrics = new Metrics();

const sqs = new SQSClient({});
const apiKey = new CachedSecret(new SecretsManagerClient({}), env.apiKeySecretArn);
const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const deps = dispatchDeps({
  store,
  fetchQueue: new SqsQueue({ client: sqs, queueUrl: env.fetchQueueUrl }),
  events: new EventsQueue(sqs, env.eventsQueueUrl),
  kombo: komboClientFromSecret(apiKey, env.komboApiUrl, env.pacing),
  forgetApiKey: () => apiKey.invalidate(),
  fullEveryDays: env.fullEveryDays,
  gapMs: env.gapMs,
  now: () => new Date(),
  logger,
  metrics,
  ...integrationRecorder(env, store, () => new GlueClient({})),
});
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  try {
    const event = parseQueuedEvent(record.body);
    const result = await dispatchEvent(event, deps);
    logger.info('event dispatched', { messageId: record.messageId, type: event.type, result });
  } catch (err) {
    metrics.addMetric('WebhookEventsFailed', MetricUnit.Count, 1);
    logger.error('event failed, it will be retried (after maxReceiveCount attempts it moves to the DLQ)', { messageId: record.messageId, receiveCount: record.attributes.ApproximateReceiveCount, error: errorMessage(err) });
    throw err;
  }
}

const lambdaHandler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => processPartialResponse(event, recordHandler, processor, { context });

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
