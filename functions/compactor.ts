/**
 * compactor Lambda: invoked weekly by its schedule, or by hand with `{"erase": ["<record id>", …]}`
 * (and optionally `"integrations"`). Applies the retention to the warehouse of versions (see
 * `shared/pipeline/compact.ts`): superseded versions and records deleted before the cutoff go, a
 * current version always stays. Stops between streams before its timeout; the next invocation goes
 * on from there.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { GlueCatalog, S3Store } from '../shared/adapters/aws/index.ts';
import { parseCompactorEnv } from '../shared/adapters/aws/compactor-env.ts';
import { ConfigError } from '../shared/errors.ts';
import type { CompactionReport } from '../shared/pipeline/compact.ts';
import { compactWarehouse, newCompactionRunId } from '../shared/pipeline/compact.ts';
import { assertIntegrationId, todayUtc } from '../shared/warehouse/layout.ts';

const env = parseCompactorEnv();
const logger = new Logger();
const metrics = new Metrics();

const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const catalog = new GlueCatalog({ client: new GlueClient({}), database: env.glueDatabase, bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });

/** Stop taking streams when less than this is left of the invocation: one stream's rewrite fits in it. */
export const STOP_BEFORE_TIMEOUT_MS = 4 * 60_000;

/** A scheduled event carries nothing the compactor reads; a manual one may name records to erase. */
const EVENT = z
  .object({
    erase: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected Kombo record ids')).optional(),
    integrations: z.array(z.string()).optional(),
  })
  .loose();

async function lambdaHandler(event: unknown, context: Context): Promise<CompactionReport> {
  const parsed = EVENT.safeParse(event ?? {});
  if (!parsed.success) throw new ConfigError(`event: ${parsed.error.issues[0]?.message ?? 'invalid'}; expected {} or {"erase": ["<record id>", …], "integrations": ["<tool>:<id>", …]}`);
  const integrationIds = parsed.data.integrations?.map(assertIntegrationId);
  const report = await compactWarehouse(
    { store, catalog },
    {
      runId: newCompactionRunId(),
      today: todayUtc(),
      retentionDays: env.retentionDays,
      ...(integrationIds && { integrationIds }),
      ...(parsed.data.erase && { erase: parsed.data.erase }),
      // S3 lifecycle expires `_runs/` by age: listing every run here would be slow.
      removeRuns: false,
      resume: true,
      shouldStop: () => context.getRemainingTimeInMillis() < STOP_BEFORE_TIMEOUT_MS,
    },
  );
  const total = (f: (s: CompactionReport['streams'][number]) => number) => report.streams.reduce((n, s) => n + f(s), 0);
  const rows = total((s) => Object.values(s.rowsRemoved).reduce((a, b) => a + b, 0));
  metrics.addMetric('CompactedStreams', MetricUnit.Count, report.streams.filter((s) => s.status === 'compacted').length);
  metrics.addMetric('CompactionRowsRemoved', MetricUnit.Count, rows);
  metrics.addMetric('CompactionStreamsBusy', MetricUnit.Count, report.streams.filter((s) => s.status === 'busy').length);
  const busy = report.streams.filter((s) => s.status === 'busy').map((s) => ({ integrationId: s.integrationId, model: s.model, holder: s.holder }));
  if (busy.length > 0) logger.warn('streams being synced were not compacted', { busy });
  if (report.notReached > 0) logger.warn('compaction stopped before its timeout; the next one goes on from there', { notReached: report.notReached });
  logger.info('compaction done', {
    runId: report.runId,
    cutoff: report.cutoff,
    rowsRemoved: rows,
    versionsRemoved: total((s) => s.versionsRemoved),
    recordsPurged: total((s) => s.recordsPurged),
    partitionsRewritten: total((s) => s.partitionsRewritten),
  });
  return report;
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
