/**
 * reporter Lambda: invoked by its schedule after each nightly run (or by hand with `{}`). Draws
 * the hiring report through Athena and writes `reports/latest.html` and `reports/<date>.html` to
 * the bucket (see `shared/adapters/aws/report-publisher.ts`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { athenaQuery } from '../shared/adapters/aws/athena-query.ts';
import type { PublishedReport } from '../shared/adapters/aws/report-publisher.ts';
import { parseReporterEnv, publishReport } from '../shared/adapters/aws/report-publisher.ts';

const env = parseReporterEnv();
const logger = new Logger();
const athena = new AthenaClient({});
const s3 = new S3Client({});

async function lambdaHandler(): Promise<PublishedReport> {
  const published = await publishReport({ query: athenaQuery({ client: athena, workGroup: env.workGroup, database: env.database }), s3, bucket: env.bucket });
  logger.info('report written', { ...published });
  return published;
}

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger, { resetKeys: true }));
