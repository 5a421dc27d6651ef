/**
 * fetcher Lambda: one SQS FIFO record = one chunk of one stream (`shared/pipeline/chunk.ts`).
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
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RunFatalError, errorMessage } from '../shared/errors.ts';
import { CachedSecret, GlueCatalog, S3Store, SqsQueue, komboClientFromSecret, parseFetcherEnv, parseStreamMessage, reportChunk } from '../shared/adapters/aws/index.ts';
import { errorMessagesFor } from '../shared/kombo/error-text.ts';
import { describeFailure, processChunk } from '../shared/pipeline/chunk.ts';
import { holdWarehousePii } from '../shared/state/pii.ts';
import type { StreamMessage } from '../shared/ports.ts';

const env = parseFetcherEnv();
const logger = new Logger();
const metrics = new Metrics();

const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const queue = new SqsQueue({ client: new SQSClient({}), queueUrl: env.fetchQueueUrl });
const catalog = new GlueCatalog({ client: new GlueClient({}), database: env.glueDatabase, bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const secrets = new SecretsManagerClient({});
const apiKey = new CachedSecret(secrets, env.apiKeySecretArn);
// The stack keeps the hash salt in a secret of its own (the planner reads the API key, never the salt).
const piiSalt = env.piiSaltSecretArn === undefined ? apiKey : new CachedSecret(secrets, env.piiSaltSecretArn, 'piiSalt');
// Paced at this function's share of the Kombo budget when the stack sets one (KOMBO_REQUESTS_PER_SECOND).
// Kombo's error messages may name a candidate: they reach reports and logs only with piiMode keep.
const kombo = komboClientFromSecret(apiKey, env.komboApiUrl, env.pacing, errorMessagesFor(env.piiMode));
const processor = new SqsFifoPartialProcessorAsync();
const AWS_PII_HINTS = { mode: "the stack's piiMode", newWarehouse: "another bucket or the stack's warehousePrefix" } as const;

async function recordHandler(record: SQSRecord): Promise<void> {
  let msg: StreamMessage | undefined;
  try {
    msg = parseStreamMessage(record.body);
    // From the cached secret read; a missing salt for "hash" fails the chunk with how to set it.
    const pii = await piiSalt.piiOptions(env.piiMode);
    // Another mode than the warehouse's (or another hash scheme) fails the chunk before it writes.
    await holdWarehousePii(store, pii, store.locate(''), AWS_PII_HINTS);
    reportChunk(logger, metrics, msg, await processChunk({ client: await kombo(), store, queue, catalog, limits: env.chunk, pii }, msg));
  } catch (err) {
    // A rejected key may be corrected in the secret before the retry.
    if (err instanceof RunFatalError) apiKey.invalidate();
    metrics.addMetric('ChunksFailed', MetricUnit.Count, 1);
    const where = msg && { runId: msg.runId, integrationId: msg.integrationId, model: msg.model, chunk: msg.chunk };
    const attempts = Number(record.attributes.ApproximateReceiveCount) || 1;
    logger.error('chunk failed, it will be retried (after maxReceiveCount attempts it moves to the DLQ)', { messageId: record.messageId, ...where, receiveCount: attempts, error: describeFailure(err) });
    // Visible again after a back-off instead of the queue's long visibility timeout.
    await queue.backOff(record.receiptHandle, attempts).catch((e: unknown) => logger.warn('could not shorten the visibility timeout; the retry waits for the queue default', { error: errorMessage(e) }));
    throw err;
  }
}

const lambdaHandler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => processPartialResponse(event, recordHandler, processor, { context, skipGroupOnError: true });

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
