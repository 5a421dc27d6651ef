/**
 * fetcher Lambda: one SQS FIFO record = one chunk of one stream. Fetches pages from the message's
 * cursor, writes one Parquet file per table, then sends the continuation or finishes the stream.
 * Records go through Powertools' FIFO batch processor, so a failed record fails alone (and, with
 * `skipGroupOnError`, only holds back its own stream).
 */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunFatalError, errorMessage } from '../shared/errors.ts';
import { CachedSecret, GlueCatalog, S3Store, SqsQueue, komboClientFromSecret, parseFetcherEnv, parseStreamMessage, retryDelaySeconds } from '../shared/adapters/aws/index.ts';
import type { ChunkResult } from '../shared/pipeline/chunk.ts';
import { describeFailure, processChunk } from '../shared/pipeline/chunk.ts';
import type { StreamMessage } from '../shared/ports.ts';

const env = parseFetcherEnv();
const logger = new Logger();
const metrics = new Metrics();

const sqs = new SQSClient({});
const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const queue = new SqsQueue({ client: sqs, queueUrl: env.fetchQueueUrl });
const catalog = new GlueCatalog({ client: new GlueClient({}), database: env.glueDatabase, bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const apiKey = new CachedSecret(new SecretsManagerClient({}), env.apiKeySecretArn);
// Paced at this function's share of the Kombo budget when the stack sets one (KOMBO_REQUESTS_PER_SECOND).
const kombo = komboClientFromSecret(apiKey, env.komboApiUrl, env.pacing);
const processor = new SqsFifoPartialProcessorAsync();

const OUTCOME_METRIC: Record<Exclude<ChunkResult['outcome'], 'continued'>, string> = {
  done: 'StreamsDone',
  skipped: 'StreamsSkipped',
  failed: 'StreamsFailed',
};

function recordResult(msg: StreamMessage, result: ChunkResult): void {
  const before = msg.totals;
  const after = result.totals;
  const rows = Object.values(after.rows).reduce((n, r) => n + r, 0) - Object.values(before.rows).reduce((n, r) => n + r, 0);
  metrics.addMetric('Chunks', MetricUnit.Count, 1);
  metrics.addMetric('Pages', MetricUnit.Count, after.pages - before.pages);
  metrics.addMetric('Rows', MetricUnit.Count, Math.max(0, rows));
  metrics.addMetric('Retries', MetricUnit.Count, after.retries - before.retries);
  metrics.addMetric('Throttles', MetricUnit.Count, after.throttles - before.throttles);
  const where = { runId: msg.runId, integrationId: msg.integrationId, model: msg.model, chunk: msg.chunk };
  if (result.outcome === 'continued') {
    logger.info('chunk written, continuation sent', { ...where, pages: after.pages - before.pages, rows });
    return;
  }
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  const summary = { ...where, outcome: result.outcome, code: result.code, reason: result.reason, totals: after };
  if (result.outcome === 'failed') logger.error('stream failed', summary);
  else logger.info('stream ended', summary);
}

/** Make the record visible again after a back-off instead of the queue's long visibility timeout. */
async function deferRetry(record: SQSRecord): Promise<void> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  try {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: env.fetchQueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: retryDelaySeconds(receiveCount) }));
  } catch (err) {
    logger.warn('could not shorten the visibility timeout; the retry waits for the queue default', { error: errorMessage(err) });
  }
}

async function recordHandler(record: SQSRecord): Promise<void> {
  let msg: StreamMessage | undefined;
  try {
    msg = parseStreamMessage(record.body);
    // From the cached secret read; a missing salt for "hash" fails the chunk with how to set it.
    const pii = await apiKey.piiOptions(env.piiMode);
    const result = await processChunk({ client: await kombo(), store, queue, catalog, limits: env.chunk, pii }, msg);
    recordResult(msg, result);
  } catch (err) {
    // A rejected key may be corrected in the secret before the retry.
    if (err instanceof RunFatalError) apiKey.invalidate();
    metrics.addMetric('ChunksFailed', MetricUnit.Count, 1);
    logger.error('chunk failed, it will be retried (after maxReceiveCount attempts it moves to the DLQ)', {
      messageId: record.messageId,
      ...(msg && { runId: msg.runId, integrationId: msg.integrationId, model: msg.model, chunk: msg.chunk }),
      receiveCount: record.attributes.ApproximateReceiveCount,
      error: describeFailure(err),
    });
    await deferRetry(record);
    throw err;
  }
}

async function lambdaHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context, skipGroupOnError: true });
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
