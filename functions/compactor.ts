/**
 * compactor Lambda: invoked weekly by its schedule, or by hand with `{"erase": ["<record id>", …]}`
 * (and optionally `"integrations"`), or with `{"unsync_date": "YYYY-MM-DD"}` to undo the sync of a
 * date (a future date synced by mistake: `shared/pipeline/unsync.ts`). Applies the retention to the warehouse of versions (see
 * `shared/pipeline/compact.ts` and `shared/retention.ts`): superseded versions and records deleted
 * before the cutoff go, a current version always stays; a retention of 0 keeps every version and
 * only erases. First it consolidates the partitions of dates that are over (today UTC) into one
 * file per 50,000 rows (`shared/pipeline/consolidate.ts`). Stops between streams before its timeout; the next invocation goes on from there.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { GlueCatalog, S3Store } from '../shared/adapters/aws/index.ts';
import { compactInvocation, parseCompactorEvent } from '../shared/adapters/aws/compactor.ts';
import type { CompactorDeps } from '../shared/adapters/aws/compactor.ts';
import { parseCompactorEnv } from '../shared/adapters/aws/compactor-env.ts';
import type { CompactionReport } from '../shared/pipeline/compact.ts';
import type { UnsyncReport } from '../shared/pipeline/unsync.ts';

const env = parseCompactorEnv();
const logger = new Logger();
const metrics = new Metrics();

const deps: CompactorDeps = {
  store: new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix }),
  catalog: new GlueCatalog({ client: new GlueClient({}), database: env.glueDatabase, bucket: env.warehouse.bucket, prefix: env.warehouse.prefix }),
  retentionDays: env.retentionDays,
  logger,
  metrics,
};

async function lambdaHandler(event: unknown, context: Context): Promise<CompactionReport | UnsyncReport> {
  return compactInvocation(deps, parseCompactorEvent(event), () => context.getRemainingTimeInMillis());
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
