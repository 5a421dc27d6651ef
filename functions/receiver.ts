/**
 * receiver Lambda, behind a Function URL (auth NONE: Kombo signs every request, and the handler
 * checks the signature before anything else happens). Calls `receiveWebhook` with the raw body,
 * the webhook secret from Secrets Manager (cached per container) and the events queue; the work
 * itself happens in the dispatcher. A bad or missing signature counts in `WebhookSignatureFailures`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { EventsQueue, WebhookSecret, parseReceiverEnv, rawRequest } from '../shared/adapters/aws/index.ts';
import type { WebhookLogLine } from '../shared/webhooks/receiver.ts';
import { receiveWebhook } from '../shared/webhooks/receiver.ts';

const env = parseReceiverEnv();
const logger = new Logger();
const metrics = new Metrics();

const secret = new WebhookSecret(new SecretsManagerClient({}), env.webhookSecretArn);
const events = new EventsQueue(new SQSClient({}), env.eventsQueueUrl);

function log(line: WebhookLogLine): void {
  if (line.outcome === 'bad-signature') metrics.addMetric('WebhookSignatureFailures', MetricUnit.Count, 1);
  if (line.outcome === 'accepted') metrics.addMetric('WebhookEventsAccepted', MetricUnit.Count, 1);
  if (line.status >= 400) logger.warn('webhook refused', { ...line });
  else logger.info('webhook', { ...line });
}

async function lambdaHandler(event: LambdaFunctionURLEvent, _context: Context): Promise<LambdaFunctionURLResult> {
  const res = await receiveWebhook(rawRequest(event), { secret: () => secret.value(), enqueue: (e) => events.enqueue(e), log });
  return { statusCode: res.status, headers: { 'content-type': 'application/json' }, body: res.body };
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
