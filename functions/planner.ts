/**
 * planner Lambda: invoked nightly by the schedule, at the deadline by the deadline schedule, or by
 * hand with `{snapshot_date?, integrations?, models?, full?}` or `{retry_run_id}`. Plans a run (checks
 * every integration, decides each stream's full or incremental sync, writes the plan, sends one
 * message per stream), checks that a run finished in time, or sends the failed streams of a finished
 * run again.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { RunFatalError } from '../shared/errors.ts';
import type { DeadlineCheckEvent, PlanRequestEvent, RetryRunEvent } from '../shared/adapters/aws/index.ts';
import { CachedSecret, S3Store, SqsQueue, komboClientFromSecret, parsePlannerEnv, parsePlannerEvent, readIntegrationRegistry, toPlanRequest } from '../shared/adapters/aws/index.ts';
import { readPlan } from '../shared/pipeline/finish.ts';
import { planRun } from '../shared/pipeline/plan.ts';
import { checkNightlyDeadline } from '../shared/pipeline/nightly-deadline.ts';
import { runIdOf } from '../shared/pipeline/scheduled-run.ts';
import type { RetryPlan } from '../shared/pipeline/retry.ts';
import { retryFailedStreams } from '../shared/pipeline/retry.ts';
import type { RunPlan, StreamStatus } from '../shared/pipeline/state.ts';
import type { DeadlineVerdict } from '../shared/pipeline/watch.ts';
import { checkRunDeadline } from '../shared/pipeline/watch.ts';
import { runKeys } from '../shared/warehouse/layout.ts';

const env = parsePlannerEnv();
const logger = new Logger();
const metrics = new Metrics();

// Clients live as long as the container: connections and the cached API key are reused.
const store = new S3Store({ client: new S3Client({}), bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
const queue = new SqsQueue({ client: new SQSClient({}), queueUrl: env.fetchQueueUrl });
const ssm = new SSMClient({});
const apiKey = new CachedSecret(new SecretsManagerClient({}), env.apiKeySecretArn);
// Paced at this function's share of the Kombo budget when the stack sets one (KOMBO_REQUESTS_PER_SECOND).
const kombo = komboClientFromSecret(apiKey, env.komboApiUrl, env.pacing);

/** What a planning invocation returns: enough to follow the run. */
export interface PlanResult {
  readonly kind: 'plan';
  readonly runId: string;
  readonly snapshotDate: string;
  readonly streams: Partial<Record<StreamStatus, number>>;
  /** Streams planned per sync mode. */
  readonly modes: { readonly full: number; readonly incremental: number };
  /** Where the run's state is written. */
  readonly runState: string;
  /** A repeated invocation of a schedule's night: the run was planned already, nothing was sent. */
  readonly repeated?: true;
}

async function plan(req: PlanRequestEvent): Promise<PlanResult> {
  const runIdOfNight = runIdOf(req);
  const planned = await readPlan(store, runIdOfNight);
  if (planned) return repeated(planned);
  const integrationIds = req.integrations ?? (await readIntegrationRegistry(ssm, env.integrationsPath));
  if (integrationIds.length === 0) logger.warn('the integration registry is empty: nothing to sync', { path: env.integrationsPath });
  const request = toPlanRequest(req, runIdOfNight, integrationIds, env.fullEveryDays);
  const { runId, snapshotDate } = request;
  let runPlan;
  try {
    runPlan = await planRun({ client: await kombo(), store, queue }, request);
  } catch (err) {
    // A rejected key may have been fixed in the secret by the time the invocation is retried.
    if (err instanceof RunFatalError) apiKey.invalidate();
    throw err;
  }
  const { streams, modes } = countStreams(runPlan);
  for (const s of runPlan.streams.filter((x) => x.status !== 'pending')) {
    logger.warn('stream not fetched', { runId, integrationId: s.integrationId, model: s.model, status: s.status, code: s.code, reason: s.reason });
  }
  metrics.addMetric('RunsStarted', MetricUnit.Count, 1);
  metrics.addMetric('StreamsPlanned', MetricUnit.Count, streams.pending ?? 0);
  metrics.addMetric('StreamsFailed', MetricUnit.Count, streams.failed ?? 0);
  metrics.addMetric('StreamsSkipped', MetricUnit.Count, streams.skipped ?? 0);
  metrics.addMetric('StreamsFull', MetricUnit.Count, modes.full);
  logger.info('run planned', { runId, snapshotDate, integrations: integrationIds.length, streams, modes, fullAsked: req.full === true, fullEveryDays: env.fullEveryDays });
  return { kind: 'plan', runId, snapshotDate, streams, modes, runState: store.locate(runKeys.prefix(runId)) };
}

function countStreams(runPlan: RunPlan): Pick<PlanResult, 'streams' | 'modes'> {
  const streams: Partial<Record<StreamStatus, number>> = {};
  for (const s of runPlan.streams) streams[s.status] = (streams[s.status] ?? 0) + 1;
  const modes = { full: 0, incremental: 0 };
  for (const s of runPlan.streams) if (s.sync !== undefined) modes[s.sync.mode]++;
  return { streams, modes };
}

/** The schedule invoked the planner again for a night it planned: the run goes on, alone. */
function repeated(runPlan: RunPlan): PlanResult {
  const { runId, snapshotDate } = runPlan;
  logger.info('run already planned: a repeated invocation of its schedule, nothing sent', { runId, snapshotDate });
  return { kind: 'plan', runId, snapshotDate, ...countStreams(runPlan), runState: store.locate(runKeys.prefix(runId)), repeated: true };
}

/** What a retry invocation returns: the streams sent again (none when the run had no failed stream). */
export interface RetryResult extends RetryPlan {
  readonly kind: 'retry';
  /** Where the run's state is written. */
  readonly runState: string;
}

async function retry(req: RetryRunEvent): Promise<RetryResult> {
  const result = await retryFailedStreams({ store, queue }, req.runId);
  metrics.addMetric('StreamsRetried', MetricUnit.Count, result.streams.length);
  const details = { runId: result.runId, snapshotDate: result.snapshotDate, streams: result.streams.map((s) => ({ integrationId: s.integrationId, model: s.model, code: s.code })) };
  if (result.streams.length === 0) logger.info('retry: the run has no failed stream, nothing sent', details);
  else logger.info('retry: failed streams sent again', details);
  return { kind: 'retry', ...result, runState: store.locate(runKeys.prefix(result.runId)) };
}

async function checkDeadline(req: DeadlineCheckEvent): Promise<{ kind: 'deadline' } & DeadlineVerdict> {
  const verdict = req.nightlyScheduleArn === undefined ? await checkRunDeadline(store, req.at) : await checkNightlyDeadline(store, req.at, req.nightlyScheduleArn);
  metrics.addMetric('RunsOverdue', MetricUnit.Count, verdict.status === 'missed' ? 1 : 0);
  const details = { deadline: req.at.toISOString(), reason: verdict.reason, runs: verdict.runs };
  if (verdict.status === 'missed') logger.error('no run finished by the deadline', details);
  else logger.info('deadline met', details);
  return { kind: 'deadline', ...verdict };
}

async function lambdaHandler(event: unknown, _context: Context): Promise<PlanResult | RetryResult | ({ kind: 'deadline' } & DeadlineVerdict)> {
  const req = parsePlannerEvent(event, new Date());
  if (req.kind === 'deadline') return checkDeadline(req);
  if (req.kind === 'retry') return retry(req);
  return plan(req);
}

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
