/**
 * planner Lambda: invoked nightly by the schedule, at the deadline by the deadline schedule, or by
 * hand with `{snapshot_date?, integrations?, models?, full?}` or `{retry_run_id}`. Plans a run (checks
 * every integration, decides each stream's full or incremental sync, writes the plan, sends one
 * message per stream), checks that a run finished in time, or sends the failed streams of a finished
 * run again (see `shared/adapters/aws/planner.ts`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { CachedSecret, S3Store, SqsQueue, integrationRecorder, komboClientFromSecret, parsePlannerEnv, parsePlannerEvent } from '../shared/adapters/aws/index.ts';
import type { PlannerDeps, PlannerResult } from '../shared/adapters/aws/planner.ts';
import { runPlanner } from '../shared/adapters/aws/planner.ts';

const env = parsePlannerEnv();
const logger = new Logger();
const metrics = new Metrics();

// Clients live as long as the container: connections and the cached API key are reused.
const apiKey = new CachedSecret(new SecretsManagerClient({}), env.apiKeySecretArn);
const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const deps: PlannerDeps = {
  store,
  queue: new SqsQueue({ client: new SQSClient({}), queueUrl: env.fetchQueueUrl }),
  // Paced at this function's share of the Kombo budget when the stack sets one (KOMBO_REQUESTS_PER_SECOND).
  // Errors tell Kombo's code, title and log URL, never its message, which may name a person.
  kombo: komboClientFromSecret(apiKey, env.komboApiUrl, env.pacing),
  forgetApiKey: () => apiKey.invalidate(),
  registry: { ssm: new SSMClient({}), path: env.integrationsPath, configParts: env.registryConfigParts },
  fullEveryDays: env.fullEveryDays,
  logger,
  metrics,
  ...integrationRecorder(env, store, () => new GlueClient({})),
};

async function lambdaHandler(event: unknown, _context: Context): Promise<PlannerResult> {
  return runPlanner(deps, parsePlannerEvent(event, new Date()));
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
