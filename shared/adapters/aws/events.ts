/**
 * What the planner Lambda is invoked with, defined once for the handler and the CDK schedules:
 * - the nightly schedule: an EventBridge event envelope, `detail-type` {@link SCHEDULED_RUN}, whose
 *   `time` is the scheduled time (the snapshot date defaults to its UTC date);
 * - the deadline schedule: the same envelope with `detail-type` {@link RUN_DEADLINE}: check that a
 *   run finished;
 * - a manual invocation: `{snapshot_date?, integrations?, models?, full?}` (also accepted as the
 *   `detail` of an EventBridge event, e.g. from `aws events put-events`); `"full": true` syncs every
 *   stream in full;
 * - a retry, the same ways: `{retry_run_id}` sends the failed streams of that finished run again;
 * - a registry edit, the same ways: `{add_integrations?, remove_integrations?}` adds integrations to
 *   the warehouse's registry, or marks them deleted (their data stays).
 */
import { z } from 'zod';
import { ConfigError, errorMessage } from '../../errors.ts';
import type { PlanRequest } from '../../pipeline/plan.ts';
import type { ModelName } from '../../tables.ts';
import { MODELS } from '../../tables.ts';
import { assertIntegrationId, assertRunId, assertSnapshotDate, todayUtc } from '../../warehouse/layout.ts';

/** `detail-type` of the nightly schedule's event (EventBridge's own name for scheduled events). */
export const SCHEDULED_RUN = 'Scheduled Event';
/** `detail-type` of the deadline check's event. */
export const RUN_DEADLINE = 'Run Deadline';
/** `source` of the events our schedules send. */
export const SCHEDULE_SOURCE = 'kombo-etl.scheduler';

/** The values EventBridge Scheduler fills into a schedule's input (its context attributes). */
export interface ScheduleContext {
  readonly scheduledTime: string;
  readonly executionId: string;
  readonly scheduleArn: string;
  readonly account: string;
  readonly region: string;
}

/**
 * The input of a schedule: an EventBridge event envelope, so the planner reads schedule invocations
 * and EventBridge rule invocations alike.
 */
export function scheduleEventInput(detailType: typeof SCHEDULED_RUN | typeof RUN_DEADLINE, ctx: ScheduleContext, detail: Record<string, string> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: ctx.executionId,
    'detail-type': detailType,
    source: SCHEDULE_SOURCE,
    account: ctx.account,
    time: ctx.scheduledTime,
    region: ctx.region,
    resources: [ctx.scheduleArn],
    detail,
  };
}

/** A run to plan; unset fields take their defaults (the registry, every model, the event's UTC date). */
export interface PlanRequestEvent {
  readonly kind: 'plan';
  /** The scheduled time, or now for a manual run. */
  readonly at: Date;
  readonly snapshotDate?: string;
  readonly integrations?: readonly string[];
  readonly models?: readonly ModelName[];
  /** `"full": true`: sync every stream in full, whatever its state; unset, each stream by its state. */
  readonly full?: boolean;
  /** The schedule of ours that invoked the planner for `at`: every invocation of that night is one run. */
  readonly scheduleArn?: string;
}

/** A deadline check at `at`: did a run started in the day before finish? */
export interface DeadlineCheckEvent {
  readonly kind: 'deadline';
  readonly at: Date;
  /** The nightly schedule whose run must have finished (the deadline schedule's `detail.nightly_schedule`); absent: any run. */
  readonly nightlyScheduleArn?: string;
}

/** Send the failed streams of a finished run again, into the same run (`{"retry_run_id": …}`). */
export interface RetryRunEvent {
  readonly kind: 'retry';
  readonly runId: string;
}

/** Add integrations to the registry, or mark them deleted (`{"add_integrations": […], "remove_integrations": […]}`). */
export interface RegistryEditEvent {
  readonly kind: 'registry';
  readonly at: Date;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

export type PlannerEvent = PlanRequestEvent | DeadlineCheckEvent | RetryRunEvent | RegistryEditEvent;

const check = (assert: (v: string) => unknown) => (v: string, ctx: z.RefinementCtx) => {
  try {
    assert(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) });
  }
};

const OVERRIDE = z.strictObject({
  snapshot_date: z.string().superRefine(check(assertSnapshotDate)).optional(),
  integrations: z.array(z.string().superRefine(check(assertIntegrationId))).min(1, 'must not be empty').optional(),
  models: z.array(z.enum(MODELS)).min(1, 'must not be empty').optional(),
  retry_run_id: z.string().superRefine(check(assertRunId)).optional(),
  allow_future_date: z.boolean().optional(),
  full: z.boolean({ error: 'must be true or false (true: sync every stream in full)' }).optional(),
  add_integrations: z.array(z.string().superRefine(check(assertIntegrationId))).min(1, 'must not be empty').optional(),
  remove_integrations: z.array(z.string().superRefine(check(assertIntegrationId))).min(1, 'must not be empty').optional(),
});

const ACCEPTED = `{"snapshot_date": "YYYY-MM-DD", "allow_future_date": true, "integrations": ["tool:id", …], "models": [${MODELS.map((m) => `"${m}"`).join(', ')}], "full": true}, or {"retry_run_id": "<run id>"} alone, or {"add_integrations": ["tool:id", …], "remove_integrations": ["tool:id", …]}`;

const ENVELOPE = z.looseObject({
  'detail-type': z.string(),
  time: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time'),
  detail: z.unknown().optional(),
  source: z.unknown().optional(),
  resources: z.unknown().optional(),
});

function parseOverride(value: unknown, where: string): z.output<typeof OVERRIDE> {
  const parsed = OVERRIDE.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const keys = issue?.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
  throw new ConfigError(
    `invalid planner ${where}: ${field === '' ? '' : `${field}: `}${issue?.message ?? 'invalid'}${keys} (accepted: ${ACCEPTED})`,
  );
}

/** A retry re-runs the failed streams of its run as planned: no override can go with it; a registry edit plans nothing. */
function toRequest(at: Date, o: z.output<typeof OVERRIDE>, where: string): PlanRequestEvent | RetryRunEvent | RegistryEditEvent {
  if (o.add_integrations !== undefined || o.remove_integrations !== undefined) return toRegistryEdit(at, o, where);
  if (o.retry_run_id === undefined) return toPlan(at, o, where);
  const others = Object.keys(o).filter((k) => k !== 'retry_run_id');
  if (others.length > 0) {
    throw new ConfigError(
      `invalid planner ${where}: retry_run_id cannot be combined with ${others.join(', ')}: a retry re-runs the run's failed streams with its own snapshot date, integrations, models and sync modes (accepted: ${ACCEPTED})`,
    );
  }
  return { kind: 'retry', runId: o.retry_run_id };
}

function toRegistryEdit(at: Date, o: z.output<typeof OVERRIDE>, where: string): RegistryEditEvent {
  const others = Object.keys(o).filter((k) => k !== 'add_integrations' && k !== 'remove_integrations');
  if (others.length > 0) throw new ConfigError(`invalid planner ${where}: add_integrations and remove_integrations edit the registry and plan no run; they cannot be combined with ${others.join(', ')} (accepted: ${ACCEPTED})`);
  const add = [...new Set(o.add_integrations ?? [])];
  const remove = [...new Set(o.remove_integrations ?? [])];
  const both = add.filter((id) => remove.includes(id));
  if (both.length > 0) throw new ConfigError(`invalid planner ${where}: ${both.join(', ')} is both in add_integrations and in remove_integrations`);
  return { kind: 'registry', at, add, remove };
}

/** Parse any planner invocation. Throws a ConfigError that says what is accepted. */
export function parsePlannerEvent(event: unknown, now: Date): PlannerEvent {
  const isEnvelope = event !== null && typeof event === 'object' && 'detail-type' in event;
  if (isEnvelope) {
    const env = ENVELOPE.safeParse(event);
    if (!env.success) throw new ConfigError(`invalid EventBridge event: ${env.error.issues[0]?.path.join('.')} ${env.error.issues[0]?.message}`);
    const at = new Date(env.data.time);
    if (env.data['detail-type'] === RUN_DEADLINE) {
      const nightly = (env.data.detail as { nightly_schedule?: unknown } | undefined)?.nightly_schedule;
      return { kind: 'deadline', at, ...(typeof nightly === 'string' && nightly.startsWith('arn:') && { nightlyScheduleArn: nightly }) };
    }
    const req = toRequest(at, parseOverride(env.data.detail, 'event detail'), 'event detail');
    const scheduleArn = ourSchedule(env.data);
    return req.kind === 'plan' && scheduleArn !== undefined ? { ...req, scheduleArn } : req;
  }
  return toRequest(now, parseOverride(event, 'input'), 'input');
}

/** The schedule ARN of a nightly event our schedule sent (`resources[0]`), else undefined. */
function ourSchedule(event: z.output<typeof ENVELOPE>): string | undefined {
  if (event.source !== SCHEDULE_SOURCE || event['detail-type'] !== SCHEDULED_RUN || !Array.isArray(event.resources)) return undefined;
  const [arn] = event.resources as unknown[];
  return typeof arn === 'string' && arn.startsWith('arn:') ? arn : undefined;
}

function toPlan(at: Date, o: z.output<typeof OVERRIDE>, where: string): PlanRequestEvent {
  // Snapshot dates go forward per stream: after a sync of a future date, every sync of an earlier
  // one is refused until that date comes or its sync is undone (the compactor's `unsync_date`).
  if (o.snapshot_date !== undefined && o.snapshot_date > todayUtc(at) && o.allow_future_date !== true) {
    throw new ConfigError(
      `invalid planner ${where}: snapshot_date ${o.snapshot_date} is after today (${todayUtc(at)}, UTC): once synced, every sync of an earlier date is refused (STREAM.OUT_OF_ORDER) until the compactor event {"unsync_date": "${o.snapshot_date}"} undoes it; add "allow_future_date": true to write it anyway`,
    );
  }
  return {
    kind: 'plan',
    at,
    ...(o.snapshot_date !== undefined && { snapshotDate: o.snapshot_date }),
    ...(o.integrations !== undefined && { integrations: [...new Set(o.integrations)] }),
    ...(o.models !== undefined && { models: [...new Set(o.models)] }),
    ...(o.full !== undefined && { full: o.full }),
  };
}

/**
 * What the planner asks `planRun` for: the event's choices over the defaults (the event's UTC date,
 * every model), the registry's integrations, and the deployment's days between full syncs.
 */
export function toPlanRequest(req: PlanRequestEvent, runId: string, integrationIds: readonly string[], fullEveryDays: number): PlanRequest {
  return {
    runId,
    snapshotDate: req.snapshotDate ?? todayUtc(req.at),
    integrationIds,
    models: req.models ?? MODELS,
    fullEveryDays,
    ...(req.full !== undefined && { full: req.full }),
  };
}
