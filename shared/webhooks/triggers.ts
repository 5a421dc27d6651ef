/**
 * When webhooks start runs of an integration. The first change of a quiet integration starts a run
 * at once; changes that land during a run wait in the trigger record's `pending` and make exactly
 * one more run after it, of the union of their models; a run never starts while another
 * webhook-triggered run of the integration is in progress, nor sooner than `gapMs` after the
 * previous one started; the streams of a run that ended `STREAM.BUSY` (another run held them) go
 * back to pending. The record changes only by compare-and-swap, so concurrent deliveries agree
 * on who starts a run; the run is started only by the delivery whose claim won.
 */
import type { ObjectStore } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { BUSY_CODE } from '../pipeline/open-stream.ts';
import { readMarker } from '../state/runs.ts';
import type { TriggerRecord, TriggerRun } from '../state/triggers.ts';
import { readTrigger, swapTrigger } from '../state/triggers.ts';
import { unionModels } from './models.ts';

/** The least time between two run starts of one integration, by default. */
export const DEFAULT_GAP_MS = 60_000;
/** A claim that never got its run id (its process died between the two) is given up after this long. */
export const CLAIM_STALE_MS = 15 * 60_000;
/** A wake this long overdue is taken as lost, and another one is scheduled. */
export const WAKE_LOST_MS = 5 * 60_000;

/** How often a run in progress is looked at: the gap, between 1 and 30 seconds. */
export const pollMs = (gapMs: number): number => Math.min(Math.max(gapMs, 1_000), 30_000);

export interface TriggerDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly gapMs: number;
  startRun(req: { readonly integrationId: string; readonly models: ModelName[]; readonly reason: string }): Promise<string>;
  isRunOver(runId: string): Promise<boolean>;
  scheduleWake(integrationId: string, atMs: number): Promise<void>;
}

/** What a trigger did. */
export type TriggerOutcome =
  | { readonly outcome: 'started'; readonly runId: string; readonly models: readonly ModelName[] }
  | { readonly outcome: 'pending'; readonly models: readonly ModelName[]; readonly wakeAt?: string }
  | { readonly outcome: 'running'; readonly runId: string }
  | { readonly outcome: 'idle' };

/** What woke the trigger: changed models, or a wake (with the time it was scheduled for, when known). */
export interface TriggerInput {
  readonly integrationId: string;
  readonly models: readonly ModelName[];
  readonly reason: string;
  readonly wake?: { readonly atMs?: number };
}

/** A run that ended, as seen before the swap: its id and the models to sync again. */
interface EndedRun {
  readonly running: TriggerRun;
  readonly again: readonly ModelName[];
}

/** The decision of one swap: the record to write, the models to start a run of, and a wake to schedule. */
interface Decision {
  readonly next: TriggerRecord;
  readonly start?: readonly ModelName[];
  readonly wakeAtMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const sameRun = (a: TriggerRun | undefined, b: TriggerRun | undefined): boolean => a !== undefined && b !== undefined && a.runId === b.runId && a.startedAt === b.startedAt;

/** Whether a wake for `atMs` must be scheduled, given the one the record holds. */
function wantsWake(rec: TriggerRecord, atMs: number, nowMs: number): boolean {
  if (rec.wakeAt === undefined) return true;
  const held = Date.parse(rec.wakeAt);
  return held + WAKE_LOST_MS < nowMs || atMs < held;
}

/** Schedule a wake for `atMs` into the record, unless one as early is already due. */
function withWake(rec: TriggerRecord, atMs: number, nowMs: number): Decision {
  return wantsWake(rec, atMs, nowMs) ? { next: { ...rec, wakeAt: iso(atMs) }, wakeAtMs: atMs } : { next: rec };
}

/**
 * The pure rule: from the record read, the models added, the run seen ended and whether a due wake
 * is consumed, the record to write and what to do after writing it.
 */
export function decide(current: TriggerRecord, input: { readonly nowMs: number; readonly gapMs: number; readonly add: readonly ModelName[]; readonly ended?: EndedRun; readonly wakeDue: boolean }): Decision {
  let rec: TriggerRecord = { ...current, pending: unionModels(current.pending, input.add) };
  if (input.ended && sameRun(rec.running, input.ended.running)) {
    const { running: _, ...rest } = rec;
    rec = { ...rest, pending: unionModels(rest.pending, input.ended.again) };
  }
  if (input.wakeDue && rec.wakeAt !== undefined) {
    const { wakeAt: _, ...rest } = rec;
    rec = rest;
  }
  const lastStartMs = rec.lastStartAt === undefined ? -Infinity : Date.parse(rec.lastStartAt);
  const dueMs = lastStartMs + input.gapMs;
  if (rec.running) return rec.pending.length === 0 && !input.wakeDue ? { next: rec } : withWake(rec, Math.max(dueMs, input.nowMs + pollMs(input.gapMs)), input.nowMs);
  if (rec.pending.length === 0) return { next: rec };
  if (input.nowMs < dueMs) return withWake(rec, dueMs, input.nowMs);
  const startedAt = iso(input.nowMs);
  const claimed: TriggerRecord = { running: { runId: '', models: rec.pending, startedAt }, pending: [], lastStartAt: startedAt, ...(rec.wakeAt !== undefined && { wakeAt: rec.wakeAt }) };
  // A wake looks at the run once it may be over: it puts streams another run held back to pending.
  return { ...withWake(claimed, input.nowMs + Math.max(input.gapMs, pollMs(input.gapMs)), input.nowMs), start: rec.pending };
}

/** The models of an ended run to sync again: those whose stream another run held (`STREAM.BUSY`); all of a claim that never started. */
async function endedRun(deps: TriggerDeps, integrationId: string, running: TriggerRun): Promise<EndedRun | undefined> {
  if (running.runId === '') {
    return deps.now().getTime() - Date.parse(running.startedAt) > CLAIM_STALE_MS ? { running, again: running.models } : undefined;
  }
  if (!(await deps.isRunOver(running.runId))) return undefined;
  const again: ModelName[] = [];
  for (const model of running.models) {
    const marker = await readMarker(deps.store, { runId: running.runId, integrationId, model });
    if (marker?.code === BUSY_CODE) again.push(model);
  }
  return { running, again };
}

/**
 * Whether a wake consumes the record's scheduled wake: a wake without a time, or the one the record
 * holds once due. An earlier wake for another time (one rescheduled since) consumes nothing.
 */
function wakeDue(rec: TriggerRecord, wake: TriggerInput['wake'], nowMs: number): boolean {
  if (wake === undefined) return false;
  if (wake.atMs === undefined || rec.wakeAt === undefined) return true;
  return Date.parse(rec.wakeAt) === wake.atMs && wake.atMs <= nowMs + 1_000;
}

/** A wake that arrived before its time (a queue caps delays), for the wake the record still waits for. */
const arrivedEarly = (rec: TriggerRecord, wake: TriggerInput['wake'], nowMs: number): wake is { readonly atMs: number } =>
  wake?.atMs !== undefined && rec.wakeAt !== undefined && Date.parse(rec.wakeAt) === wake.atMs && wake.atMs > nowMs + 1_000;

/** Start the run a swap claimed and record its id; on failure give the claim back (its models pending again) and throw. */
async function startClaimed(deps: TriggerDeps, integrationId: string, claim: TriggerRun, reason: string): Promise<string> {
  let runId: string;
  try {
    runId = await deps.startRun({ integrationId, models: [...claim.models], reason });
  } catch (err) {
    await swapTrigger(deps.store, integrationId, (cur) => {
      if (!sameRun(cur.running, claim)) return undefined;
      const { running: _, ...rest } = cur;
      return { ...rest, pending: unionModels(rest.pending, claim.models) };
    });
    throw err;
  }
  await swapTrigger(deps.store, integrationId, (cur) => (sameRun(cur.running, claim) ? { ...cur, running: { ...claim, runId } } : undefined));
  return runId;
}

/** Apply the trigger rules for changed models or a wake of one integration (see the module's comment). */
export async function trigger(deps: TriggerDeps, input: TriggerInput): Promise<TriggerOutcome> {
  const { integrationId } = input;
  const seen = await readTrigger(deps.store, integrationId);
  const ended = seen.running ? await endedRun(deps, integrationId, seen.running) : undefined;
  const nowMs = deps.now().getTime();
  let decision: Decision = { next: seen };
  let early: number | undefined;
  await swapTrigger(deps.store, integrationId, (current) => {
    early = arrivedEarly(current, input.wake, nowMs) ? input.wake!.atMs : undefined;
    decision = decide(current, { nowMs, gapMs: deps.gapMs, add: input.models, ...(ended && { ended }), wakeDue: wakeDue(current, input.wake, nowMs) });
    return JSON.stringify(decision.next) === JSON.stringify(current) ? undefined : decision.next;
  });
  if (early !== undefined) await deps.scheduleWake(integrationId, early);
  const { next, start, wakeAtMs } = decision;
  let outcome: TriggerOutcome = { outcome: 'idle' };
  if (next.running) outcome = { outcome: 'running', runId: next.running.runId };
  if (next.pending.length > 0) outcome = { outcome: 'pending', models: next.pending, ...(next.wakeAt !== undefined && { wakeAt: next.wakeAt }) };
  if (start && next.running) outcome = { outcome: 'started', runId: await startClaimed(deps, integrationId, next.running, input.reason), models: start };
  if (wakeAtMs !== undefined) await deps.scheduleWake(integrationId, wakeAtMs);
  return outcome;
}
