/**
 * The planner Lambda's work, so that its handler is wiring: per invocation (see `events.ts`) it
 * plans a run, sends the failed streams of a finished run again, or checks that a run finished by
 * the deadline, and reports each as metrics and logs.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { RunFatalError } from '../../errors.ts';
import type { KomboClient } from '../../kombo/client.ts';
import type { PlanDeps } from '../../pipeline/plan.ts';
import { planRun } from '../../pipeline/plan.ts';
import type { RetryPlan } from '../../pipeline/retry.ts';
import { retryFailedStreams } from '../../pipeline/retry.ts';
import { checkNightlyDeadline } from '../../pipeline/nightly-deadline.ts';
import { runIdOf } from '../../pipeline/scheduled-run.ts';
import type { DeadlineVerdict } from '../../pipeline/watch.ts';
import { checkRunDeadline } from '../../pipeline/watch.ts';
import type { ObjectStore, Queue } from '../../ports.ts';
import type { DeadlineCheckEvent, PlanRequestEvent, PlannerEvent, RegistryEditEvent, RetryRunEvent } from './events.ts';
import { toPlanRequest } from './events.ts';
import { seedRegistryFromSsm } from './registry.ts';
import { syncAges } from './sync-age.ts';
import type { AddOutcome } from '../../state/registry.ts';
import { activeIntegrations, addIntegration, deleteIntegration, readRegistry } from '../../state/registry.ts';
import { runKeys } from '../../state/keys.ts';
import type { RunPlan, StreamStatus } from '../../state/runs.ts';
import { readPlan } from '../../state/runs.ts';

/** What the planner works with: built once per container by the handler. */
export interface PlannerDeps {
  readonly store: ObjectStore;
  readonly queue: Queue;
  /** The Kombo client, with the API key as the secret holds it now. */
  readonly kombo: () => Promise<KomboClient>;
  /** Forget the cached API key: Kombo rejected it, and the secret may have been fixed by the next invocation. */
  readonly forgetApiKey: () => void;
  /**
   * What seeds the warehouse's integration registry: the SSM client, the parameters' path, and how
   * many of them (`part-001` …) the stack wrote from its `integrations` context.
   */
  readonly registry: { readonly ssm: SSMClient; readonly path: string; readonly configParts: number };
  /** Days of the full-sync cycle (`KOMBO_FULL_SYNC_EVERY_DAYS`). */
  readonly fullEveryDays: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Record each integration's check in the `integrations` table (`recordIntegration`, bound to the store and catalog); absent: not recorded. */
  readonly recordIntegration?: PlanDeps['recordIntegration'];
}

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

/** What a retry invocation returns: the streams sent again (none when the run had no failed stream). */
export interface RetryResult extends RetryPlan {
  readonly kind: 'retry';
  /** Where the run's state is written. */
  readonly runState: string;
}

/** What a deadline check returns. */
export type DeadlineResult = { readonly kind: 'deadline' } & DeadlineVerdict;

/** What a registry edit returns: each id and what became of it. */
export interface RegistryEditResult {
  readonly kind: 'registry';
  /** `added`, `present` (there already) or `deleted` (deleted before: a deleted integration is never added again). */
  readonly added: Readonly<Record<string, AddOutcome>>;
  /** `removed`, or `already removed`. */
  readonly removed: Readonly<Record<string, 'removed' | 'already removed'>>;
  /** The integrations the next run syncs. */
  readonly active: readonly string[];
}

export type PlannerResult = PlanResult | RetryResult | DeadlineResult | RegistryEditResult;

/** Do what the invocation asks. */
export async function runPlanner(deps: PlannerDeps, req: PlannerEvent): Promise<PlannerResult> {
  if (req.kind === 'deadline') return checkDeadline(deps, req);
  if (req.kind === 'retry') return retry(deps, req);
  if (req.kind === 'registry') return editRegistry(deps, req);
  return plan(deps, req);
}

/** Add integrations by hand (source `config`), or mark them deleted; a run started later syncs the registry as it is then. */
async function editRegistry(deps: PlannerDeps, req: RegistryEditEvent): Promise<RegistryEditResult> {
  const added: Record<string, AddOutcome> = {};
  for (const id of req.add) added[id] = await addIntegration(deps.store, id, 'config', req.at);
  const removed: Record<string, 'removed' | 'already removed'> = {};
  for (const id of req.remove) removed[id] = (await deleteIntegration(deps.store, id, req.at, 'config')) ? 'removed' : 'already removed';
  const active = activeIntegrations(await readRegistry(deps.store));
  deps.logger.info('registry edited', { added, removed, active: active.length });
  return { kind: 'registry', added, removed, active };
}

async function plan(deps: PlannerDeps, req: PlanRequestEvent): Promise<PlanResult> {
  const { logger, registry } = deps;
  const runIdOfNight = runIdOf(req);
  const planned = await readPlan(deps.store, runIdOfNight);
  if (planned) return repeated(deps, planned);
  const integrationIds = req.integrations ?? activeIntegrations(await seedRegistryFromSsm(deps.store, registry.ssm, registry.path, registry.configParts, req.at));
  if (integrationIds.length === 0) logger.warn('the integration registry is empty: nothing to sync', { path: registry.path });
  const request = toPlanRequest(req, runIdOfNight, integrationIds, deps.fullEveryDays);
  const { runId, snapshotDate } = request;
  let runPlan: RunPlan;
  try {
    runPlan = await planRun({ client: await deps.kombo(), store: deps.store, queue: deps.queue, ...(deps.recordIntegration && { recordIntegration: deps.recordIntegration }) }, request);
  } catch (err) {
    // A rejected key may have been fixed in the secret by the time the invocation is retried.
    if (err instanceof RunFatalError) deps.forgetApiKey();
    throw err;
  }
  const { streams, modes } = countStreams(runPlan);
  for (const s of runPlan.streams.filter((x) => x.status !== 'pending')) {
    logger.warn('stream not fetched', { runId, integrationId: s.integrationId, model: s.model, status: s.status, code: s.code, reason: s.reason });
  }
  const { metrics } = deps;
  metrics.addMetric('RunsStarted', MetricUnit.Count, 1);
  metrics.addMetric('StreamsPlanned', MetricUnit.Count, streams.pending ?? 0);
  metrics.addMetric('StreamsFailed', MetricUnit.Count, streams.failed ?? 0);
  metrics.addMetric('StreamsSkipped', MetricUnit.Count, streams.skipped ?? 0);
  metrics.addMetric('StreamsFull', MetricUnit.Count, modes.full);
  logger.info('run planned', { runId, snapshotDate, integrations: integrationIds.length, streams, modes, fullAsked: req.full === true, fullEveryDays: deps.fullEveryDays });
  return { kind: 'plan', runId, snapshotDate, streams, modes, runState: deps.store.locate(runKeys.prefix(runId)) };
}

/** A plan's streams per status, and per sync mode. */
function countStreams(runPlan: RunPlan): Pick<PlanResult, 'streams' | 'modes'> {
  const streams: Partial<Record<StreamStatus, number>> = {};
  for (const s of runPlan.streams) streams[s.status] = (streams[s.status] ?? 0) + 1;
  const modes = { full: 0, incremental: 0 };
  for (const s of runPlan.streams) if (s.sync !== undefined) modes[s.sync.mode]++;
  return { streams, modes };
}

/** The schedule invoked the planner again for a night it planned: the run goes on, alone. */
function repeated(deps: PlannerDeps, runPlan: RunPlan): PlanResult {
  const { runId, snapshotDate } = runPlan;
  deps.logger.info('run already planned: a repeated invocation of its schedule, nothing sent', { runId, snapshotDate });
  return { kind: 'plan', runId, snapshotDate, ...countStreams(runPlan), runState: deps.store.locate(runKeys.prefix(runId)), repeated: true };
}

async function retry(deps: PlannerDeps, req: RetryRunEvent): Promise<RetryResult> {
  const result = await retryFailedStreams({ store: deps.store, queue: deps.queue }, req.runId);
  deps.metrics.addMetric('StreamsRetried', MetricUnit.Count, result.streams.length);
  const details = { runId: result.runId, snapshotDate: result.snapshotDate, streams: result.streams.map((s) => ({ integrationId: s.integrationId, model: s.model, code: s.code })) };
  if (result.streams.length === 0) deps.logger.info('retry: the run has no failed stream, nothing sent', details);
  else deps.logger.info('retry: failed streams sent again', details);
  return { kind: 'retry', ...result, runState: deps.store.locate(runKeys.prefix(result.runId)) };
}

async function checkDeadline(deps: PlannerDeps, req: DeadlineCheckEvent): Promise<DeadlineResult> {
  const verdict = req.nightlyScheduleArn === undefined ? await checkRunDeadline(deps.store, req.at) : await checkNightlyDeadline(deps.store, req.at, req.nightlyScheduleArn);
  deps.metrics.addMetric('RunsOverdue', MetricUnit.Count, verdict.status === 'missed' ? 1 : 0);
  const details = { deadline: req.at.toISOString(), reason: verdict.reason, runs: verdict.runs };
  if (verdict.status === 'missed') deps.logger.error('no run finished by the deadline', details);
  else deps.logger.info('deadline met', details);
  await reportSyncAges(deps, req.at);
  return { kind: 'deadline', ...verdict };
}

/** Hours an integration may go without a successful sync before the deadline check names it. */
export const STALE_AFTER_HOURS = 24;

/**
 * `HoursSinceLastSync`: the largest age of an active integration's latest successful sync, at the
 * deadline (after the night's run), for the `IntegrationNotSynced` alarm; the stale ones by name.
 */
async function reportSyncAges(deps: PlannerDeps, at: Date): Promise<void> {
  const registry = await readRegistry(deps.store);
  const active = new Set(activeIntegrations(registry));
  const integrations = Object.entries(registry.integrations).filter(([id]) => active.has(id)).map(([id, e]) => ({ id, addedAt: e.addedAt }));
  if (integrations.length === 0) return;
  const ages = await syncAges(deps.store, integrations, at);
  deps.metrics.addMetric('HoursSinceLastSync', MetricUnit.NoUnit, Math.max(...ages.map((a) => a.hours)));
  const stale = ages.filter((a) => a.hours > STALE_AFTER_HOURS);
  if (stale.length > 0) deps.logger.error(`integrations without a successful sync for more than ${STALE_AFTER_HOURS} hours`, { integrations: stale });
}
