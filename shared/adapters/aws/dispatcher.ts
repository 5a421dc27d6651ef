/**
 * The dispatcher Lambda's work, so that its handler is wiring: what `dispatchEvent` needs on AWS.
 * A triggered sync is a run planned for one integration and the changed models (today's UTC date,
 * a new run id) whose streams go to the fetch queue like the nightly run's; a wake-up is a delayed
 * message on the events queue; a run is over once its completion marker is written.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { RunFatalError } from '../../errors.ts';
import type { KomboClient } from '../../kombo/client.ts';
import type { PlanDeps } from '../../pipeline/plan.ts';
import { planRun } from '../../pipeline/plan.ts';
import type { ObjectStore, Queue } from '../../ports.ts';
import { runCompleted } from '../../state/runs.ts';
import { newRunId, todayUtc } from '../../warehouse/layout.ts';
import type { DispatchDeps } from '../../webhooks/dispatch.ts';
import type { EventsQueue } from './webhooks.ts';

/** What the dispatcher works with: built once per container by the handler. */
export interface DispatcherContext {
  readonly store: ObjectStore;
  readonly fetchQueue: Queue;
  readonly events: EventsQueue;
  /** The Kombo client, with the API key as the secret holds it now. */
  readonly kombo: () => Promise<KomboClient>;
  /** Forget the cached API key: Kombo rejected it, and the secret may have been fixed by the next event. */
  readonly forgetApiKey: () => void;
  readonly fullEveryDays: number;
  readonly gapMs: number;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Record an integration's check and its webhooks in the `integrations` table; absent: not recorded. */
  readonly recordIntegration?: PlanDeps['recordIntegration'];
}

/** The ports of `dispatchEvent`, on S3 and SQS. */
export function dispatchDeps(c: DispatcherContext): DispatchDeps {
  return {
    store: c.store,
    now: c.now,
    gapMs: c.gapMs,
    startRun: (req) => startRun(c, req),
    isRunOver: (runId) => runCompleted(c.store, runId),
    scheduleWake: (integrationId, atMs) => c.events.scheduleWake(integrationId, atMs),
    ...(c.recordIntegration && { recordIntegration: c.recordIntegration }),
  };
}

async function startRun(c: DispatcherContext, req: Parameters<DispatchDeps['startRun']>[0]): Promise<string> {
  const at = c.now();
  const runId = newRunId(at);
  const request = { runId, snapshotDate: todayUtc(at), integrationIds: [req.integrationId], models: req.models, fullEveryDays: c.fullEveryDays };
  let plan;
  try {
    plan = await planRun({ client: await c.kombo(), store: c.store, queue: c.fetchQueue, now: c.now, ...(c.recordIntegration && { recordIntegration: c.recordIntegration }) }, request);
  } catch (err) {
    // A rejected key may have been fixed in the secret by the time the event is retried.
    if (err instanceof RunFatalError) c.forgetApiKey();
    throw err;
  }
  const pending = plan.streams.filter((s) => s.status === 'pending').length;
  c.metrics.addMetric('WebhookRunsStarted', MetricUnit.Count, 1);
  c.logger.info('sync started', { runId, snapshotDate: request.snapshotDate, integrationId: req.integrationId, models: req.models, reason: req.reason, streams: plan.streams.length, pending });
  return runId;
}
