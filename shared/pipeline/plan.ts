/**
 * Step 1: plan a run. Check each integration with `GET /integrations/{id}`, record what cannot be
 * synced and why, write the plan, and send one message per stream (integration × model).
 */
import { createHash } from 'node:crypto';
import type { RequestStats, RequestTracker } from '../kombo/client.ts';
import type { IntegrationInfo } from '../kombo/schemas.ts';
import type { ModelName } from '../tables.ts';
import { KOMBO_MODELS } from '../tables.ts';
import type { ObjectStore, Queue, StreamMessage, StreamSync } from '../ports.ts';
import { EMPTY_TOTALS, sendAll } from '../ports.ts';
import { KomboEtlError, RunFatalError } from '../errors.ts';
import { DAY_MS, assertIntegrationId, assertRunId, assertSnapshotDate } from '../warehouse/layout.ts';
import type { PlannedStream, RunPlan } from '../state/runs.ts';
import { completeRunIfLast, writeMarker, writePlan } from '../state/runs.ts';
import type { StreamState, SyncMode } from '../state/streams.ts';
import { readStreamState } from '../state/streams.ts';
import { OUT_OF_ORDER_CODE, outOfOrderReason } from './versions.ts';
import type { IntegrationUpdate } from './integrations.ts';

export interface PlanDeps {
  readonly client: { getIntegration(integrationId: string, tracker?: RequestTracker): Promise<IntegrationInfo & { readonly sourceTime?: string }> };
  readonly store: ObjectStore;
  readonly queue: Queue;
  readonly now?: () => Date;
  /** Record what the check of an integration returned (the `integrations` table: `recordIntegration`); absent: not recorded. */
  readonly recordIntegration?: (u: IntegrationUpdate) => Promise<unknown>;
}

export interface PlanRequest {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly integrationIds: readonly string[];
  readonly models: readonly ModelName[];
  /** Sync every stream in full, whatever its state (`sync --full`, the event's `full`). */
  readonly full?: boolean;
  /** A stream whose last full sync is this many days old or more syncs in full again (default 7). */
  readonly fullEveryDays?: number;
}

/** Integrations checked at once while planning. */
export const PLAN_CONCURRENCY = 8;

/**
 * The source's clock as the integration check saw it: the start of the streams' fetches, which
 * follow the check, and so the next watermark. The earlier of Kombo's own time (its `Date` header)
 * and ours: a clock of ours running ahead then never skips a change, and neither does a `Date`
 * header running ahead (a proxy's, a skewed server's), which a watermark could otherwise place past
 * changes made after the fetch, by more than the overlap ({@link WATERMARK_OVERLAP_MS}) covers.
 */
function sourceTime(info: { readonly sourceTime?: string }, now: () => Date): string {
  const ours = now();
  if (info.sourceTime === undefined) return ours.toISOString();
  return Date.parse(info.sourceTime) <= ours.getTime() ? info.sourceTime : ours.toISOString();
}

/** The streams of one integration, and what checking it cost. */
interface IntegrationPlan {
  readonly streams: PlannedStream[];
  readonly check: RequestStats;
}

/** Decide the streams of one integration from its status and read models. */
async function planIntegration(deps: PlanDeps, integrationId: string, req: PlanRequest): Promise<IntegrationPlan> {
  const tracker: RequestTracker = { stats: { requests: 0, retries: 0, throttles: 0 } };
  const streams = await decide(deps, integrationId, req, tracker);
  return { streams, check: tracker.stats };
}

async function decide(deps: PlanDeps, integrationId: string, req: PlanRequest, tracker: RequestTracker): Promise<PlannedStream[]> {
  const models = req.models;
  const all = (status: PlannedStream['status'], code: string, reason: string) =>
    models.map((model) => ({ integrationId, model, status, code, reason }));
  let info;
  try {
    info = await deps.client.getIntegration(integrationId, tracker);
  } catch (err) {
    if (err instanceof RunFatalError) throw err;
    if (err instanceof KomboEtlError) return all('failed', err.code, `checking the integration: ${err.message}`);
    throw err;
  }
  const startedAt = sourceTime(info, deps.now ?? (() => new Date()));
  // Every check is recorded, an integration that cannot sync too: the table shows which are broken.
  await deps.recordIntegration?.({ integrationId, at: new Date(startedAt), info, runId: req.runId });
  if (info.status !== 'ACTIVE') {
    const code = info.status === 'INACTIVE' ? 'INTEGRATION.INACTIVE' : 'INTEGRATION.AUTHENTICATION_INVALID';
    return all('failed', code, `integration status is ${info.status}: reconnect it in Kombo`);
  }
  return Promise.all(
    models.map(async (model): Promise<PlannedStream> => {
      const rm = info.read_models.find((m) => m.id === KOMBO_MODELS[model].readModel);
      if (rm && (!rm.is_available || rm.opted_out_by_customer === true)) {
        const why = rm.opted_out_by_customer === true ? 'opted out by the customer' : 'not available for this integration';
        return { integrationId, model, status: 'skipped', code: 'INTEGRATION.MODEL_NOT_AVAILABLE', reason: `${KOMBO_MODELS[model].readModel} is ${why}` };
      }
      const state = await readStreamState(deps.store, { integrationId, model });
      const later = state.commits.at(-1);
      if (later !== undefined && later.snapshotDate > req.snapshotDate) {
        return { integrationId, model, status: 'failed', code: OUT_OF_ORDER_CODE, reason: outOfOrderReason(req.snapshotDate, later.snapshotDate) };
      }
      const decision = decideMode(state, req.snapshotDate, { ...(req.full !== undefined && { full: req.full }), ...(req.fullEveryDays !== undefined && { fullEveryDays: req.fullEveryDays }) });
      const sync: StreamSync = { mode: decision.mode, startedAt, ...(decision.updatedAfter !== undefined && { updatedAfter: decision.updatedAfter }) };
      return { integrationId, model, status: 'pending', sync, ...(decision.why !== undefined && { fullBecause: decision.why }) };
    }),
  );
}



/**
 * Plan a run. Throws {@link RunFatalError} (bad API key…) before anything is written; per-integration
 * problems are recorded in the plan and do not stop the others.
 */
export async function planRun(deps: PlanDeps, req: PlanRequest): Promise<RunPlan> {
  const now = deps.now ?? (() => new Date());
  assertRunId(req.runId);
  assertSnapshotDate(req.snapshotDate);
  req.integrationIds.forEach(assertIntegrationId);

  // Checked a few at a time (the client paces them within Kombo's budget): one by one, 1,000
  // integrations at 0.3 s each would take the planner's whole timeout. The plan keeps their order.
  const perIntegration: IntegrationPlan[] = [];
  let next = 0;
  let stopped = false;
  const checker = async (): Promise<void> => {
    while (!stopped && next < req.integrationIds.length) {
      const i = next++;
      try {
        perIntegration[i] = await planIntegration(deps, req.integrationIds[i]!, req);
      } catch (err) {
        stopped = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PLAN_CONCURRENCY, req.integrationIds.length) }, checker));
  const streams: PlannedStream[] = perIntegration.flatMap((p) => p.streams);
  // A stream the check ended (failed, or skipped as not available) carries the check's counts:
  // they are what its outcome cost, e.g. the 8 attempts of a check that gave up.
  const checks = new Map(req.integrationIds.map((id, i) => [id, perIntegration[i]?.check]));

  const plan: RunPlan = { runId: req.runId, snapshotDate: req.snapshotDate, createdAt: now().toISOString(), streams };
  await writePlan(deps.store, plan);

  for (const s of streams) {
    if (s.status === 'pending') continue;
    await writeMarker(deps.store, {
      runId: req.runId,
      integrationId: s.integrationId,
      model: s.model,
      status: s.status,
      ...(s.code !== undefined && { code: s.code }),
      ...(s.reason !== undefined && { reason: s.reason }),
      totals: { ...EMPTY_TOTALS, ...checks.get(s.integrationId) },
      finishedAt: now().toISOString(),
    });
  }
  const first: StreamMessage[] = streams
    .filter((s) => s.status === 'pending')
    .map((s) => ({ runId: req.runId, snapshotDate: req.snapshotDate, integrationId: s.integrationId, model: s.model, cursor: null, chunk: 0, totals: EMPTY_TOTALS, ...(s.sync && { sync: s.sync }) }));
  await sendAll(deps.queue, first);
  // A run with nothing to fetch is complete at once.
  if (!streams.some((s) => s.status === 'pending')) await completeRunIfLast(deps.store, req.runId, now);
  return plan;
}

/** Days between full syncs of a stream, unless configured otherwise. */
export const DEFAULT_FULL_EVERY_DAYS = 7;

/**
 * How far before the watermark an incremental fetch starts. Kombo does not say whether
 * `updated_after` is inclusive, and a record may be stamped `changed_at` a little before it becomes
 * visible to a fetch: records changed in this margin are fetched twice, and the hash comparison
 * stores them once.
 */
export const WATERMARK_OVERLAP_MS = 15 * 60_000;

/** What the planner decided for one stream. */
export interface StreamModeDecision {
  readonly mode: SyncMode;
  /** `updated_after` to send (ISO 8601), for an incremental stream. */
  readonly updatedAfter?: string;
  /** Why a full sync: `first sync`, `asked`, `last full sync N days ago`. */
  readonly why?: string;
}

/** Days since 1970-01-01 of a snapshot date. */
const dayNumber = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const daysBetween = (from: string, to: string): number => dayNumber(to) - dayNumber(from);

/**
 * The day of the full-sync cycle that is an integration's own: its streams' periodic full syncs
 * fall on the snapshot dates whose day number (days since 1970-01-01) modulo `every` is this. A
 * hash of the integration id, so that a fleet's full syncs spread evenly over the cycle instead of
 * all falling on the night a week after the first sync.
 */
export function fullSyncDay(integrationId: string, every: number): number {
  return createHash('sha256').update(integrationId).digest().readUInt32BE(0) % every;
}

/** Whether `snapshotDate` is the integration's own day of the full-sync cycle. */
export const isFullSyncDay = (integrationId: string, snapshotDate: string, every: number): boolean =>
  dayNumber(snapshotDate) % every === fullSyncDay(integrationId, every);

/**
 * Full or incremental, for a sync of `snapshotDate`: full when the stream has no commit of that
 * date or before, when asked, for a model listed in full every sync (`everySync` of `tables.ts`: jobs), on the integration's own day of the `fullEveryDays` cycle ({@link fullSyncDay})
 * unless a full sync of the day is stored already, and when its last full sync is `fullEveryDays`
 * days old or more (its own day was missed); incremental otherwise, from the watermark (the start
 * of the latest commit, of an earlier date or of the same one) less the overlap. A stream so syncs
 * in full every `fullEveryDays` days on its integration's day, and once more between its first
 * sync and that day.
 */
export function decideMode(
  state: StreamState,
  snapshotDate: string,
  opts: { readonly full?: boolean; readonly fullEveryDays?: number },
): StreamModeDecision {
  const before = state.commits.filter((c) => c.snapshotDate <= snapshotDate);
  const last = before.at(-1);
  if (last === undefined) return { mode: 'full', why: 'first sync' };
  if (opts.full === true) return { mode: 'full', why: 'asked' };
  if (KOMBO_MODELS[state.model].everySync === 'full') return { mode: 'full', why: 'listed in full every sync' };
  const lastFull = before.filter((c) => c.mode === 'full').at(-1);
  const every = opts.fullEveryDays ?? DEFAULT_FULL_EVERY_DAYS;
  if (lastFull === undefined) return { mode: 'full', why: 'no full sync yet' };
  const age = daysBetween(lastFull.snapshotDate, snapshotDate);
  if (age >= every) return { mode: 'full', why: `last full sync ${age} days before` };
  if (age > 0 && isFullSyncDay(state.integrationId, snapshotDate, every)) return { mode: 'full', why: `the integration's day of the ${every}-day cycle` };
  return { mode: 'incremental', updatedAfter: new Date(Date.parse(last.startedAt) - WATERMARK_OVERLAP_MS).toISOString() };
}
