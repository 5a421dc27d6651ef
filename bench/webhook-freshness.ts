/**
 * Webhook freshness, locally end to end: the sandbox (one integration, the simulated company) is
 * synced in full at the end of a day; then its clock moves on within the next day, an application
 * changes stage, and the sandbox posts its signed `data-changed` webhook to a receiver on
 * 127.0.0.1 (`receiveWebhook`), whose queue feeds `dispatchEvent`, whose `startRun` runs the local
 * pipeline (`runLocal`) for the changed models into a local warehouse. Printed: the seconds from
 * the clock move until DuckDB's `applications_latest` shows the new stage, and the requests per
 * model against their bound: (pages of the records changed since the last sync + 1) for a changed
 * model, none for one that did not change.
 *
 * Run alone with `npm run bench -- freshness`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSandbox, SandboxModel } from '../sandbox/index.ts';
import { DEFAULT_SANDBOX_INTEGRATIONS, SANDBOX_MODELS, asOfInstant, createSandboxTimeline, startSandbox, updatedSince } from '../sandbox/index.ts';
import { openWarehouse } from '../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../shared/adapters/local/local-run.ts';
import { KomboClient, MAX_PAGE_SIZE } from '../shared/kombo/client.ts';
import { WATERMARK_OVERLAP_MS } from '../shared/pipeline/plan.ts';
import type { ModelName } from '../shared/tables.ts';
import { MODELS } from '../shared/tables.ts';
import { newRunId } from '../shared/warehouse/layout.ts';
import { receiveWebhook } from '../shared/webhooks/receiver.ts';
import type { KomboWebhookEvent } from '../shared/webhooks/schemas.ts';
import type { DispatchDeps, DispatchEvent } from '../shared/webhooks/dispatch.ts';
import { dispatchEvent } from '../shared/webhooks/dispatch.ts';
import { incrementalDay, nextDay } from './days.ts';

/** The scenario: one integration of the simulated company, synced at the end of a day, moved on to 15:00 of the next. */
export const FRESHNESS = {
  integration: DEFAULT_SANDBOX_INTEGRATIONS[0]!,
  /** The first candidate for the day synced in full; moved on a day when the next is the integration's weekly full day. */
  earliestDay: '2025-06-06',
  moveAt: 'T15:00:00Z',
  secret: 'bench-webhook-secret',
  gapMs: 60_000,
} as const;

export interface ModelRequests {
  readonly model: SandboxModel;
  /** Named in the webhook's `changed_models`. */
  readonly announced: boolean;
  /** Records (deleted ones included) changed since the last sync started. */
  readonly changed: number;
  /** Requests made for the model's list endpoint. */
  readonly requests: number;
  /** pages of the changed records + 1 when changed, else 0. */
  readonly bound: number;
}

export interface FreshnessFigures {
  readonly seconds: number;
  readonly applicationId: string;
  readonly stage: string;
  readonly runs: number;
  readonly models: readonly ModelRequests[];
  /** `GET /integrations/{id}` requests of the triggered runs. */
  readonly checks: number;
  readonly webhooks: { delivered: number; failed: number };
}

const SPEC = FRESHNESS;
const FIRST_DAY = incrementalDay(SPEC.integration.id, SPEC.earliestDay);
const MOVE_TO = `${nextDay(FIRST_DAY)}${SPEC.moveAt}`;

/** Runs the scenario, or says why it could not measure. */
export async function runFreshness(): Promise<FreshnessFigures | string> {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-bench-freshness-'));
  const queue: KomboWebhookEvent[] = [];
  let wakeQueue: (() => void) | null = null;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
      void receiveWebhook(
        { headers, body: Buffer.concat(chunks) },
        {
          secret: () => Promise.resolve(SPEC.secret),
          enqueue: (e) => {
            queue.push(e);
            wakeQueue?.();
            return Promise.resolve();
          },
          log: () => undefined,
        },
      ).then((r) => res.writeHead(r.status).end(r.body));
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const timeline = createSandboxTimeline({ integrations: [SPEC.integration] });
  const sandbox = await startSandbox({
    timeline,
    asOf: FIRST_DAY,
    webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: SPEC.secret },
  });
  try {
    return await measure(sandbox, dir, queue, (f) => (wakeQueue = f));
  } finally {
    await sandbox.close();
    receiver.closeAllConnections();
    await new Promise<void>((done) => receiver.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(
  sandbox: RunningSandbox,
  dir: string,
  queue: KomboWebhookEvent[],
  onEnqueue: (f: () => void) => void,
): Promise<FreshnessFigures | string> {
  const store = new FolderStore(dir);
  const catalog = new LocalCatalog(store);
  const client = new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
  const integrationId = SPEC.integration.id;
  const sync = (models: readonly ModelName[]) =>
    runLocal({ client, store, catalog, runId: newRunId(), snapshotDate: sandbox.asOf as string, integrationIds: [integrationId], models, concurrency: 4 });
  await sync(MODELS);

  // The stage of each application before the move, to find one that moved.
  const data = sandbox.dataset.integrations[0]!;
  const stageBefore = new Map(data.applications.map((a) => [String(a.id), String(a.current_stage_id)]));
  const requestsBefore = { ...sandbox.stats.byPath };
  const runs = new Map<string, Promise<unknown>>();
  const over = new Set<string>();
  const deps: DispatchDeps = {
    store,
    now: () => new Date(),
    gapMs: SPEC.gapMs,
    startRun: ({ models }) => {
      const runId = newRunId();
      runs.set(runId, sync(models).finally(() => over.add(runId)));
      return Promise.resolve(runId);
    },
    isRunOver: (runId) => Promise.resolve(over.has(runId)),
    scheduleWake: (id, atMs) => {
      setTimeout(() => void dispatchEvent({ type: 'wake', integrationId: id, atMs }, deps), Math.max(0, atMs - Date.now())).unref();
      return Promise.resolve();
    },
  };
  const drained = new Promise<void>((resolve) => {
    const drain = (): void => {
      for (const event of queue.splice(0)) void dispatchEvent(event satisfies DispatchEvent, deps).then(() => resolve());
    };
    onEnqueue(drain);
  });

  const started = performance.now();
  sandbox.setClock(MOVE_TO);
  const moved = data.applications.find((a) => stageBefore.has(String(a.id)) && stageBefore.get(String(a.id)) !== String(a.current_stage_id));
  if (moved === undefined) return `not available: no application changed stage between ${FIRST_DAY} and ${MOVE_TO} in the sandbox`;
  await Promise.race([drained, new Promise((r) => setTimeout(r, 30_000))]);
  let seconds = Number.NaN;
  const deadline = started + 60_000;
  while (performance.now() < deadline) {
    await Promise.all([...runs.values()]);
    if (await shows(dir, String(moved.id), String(moved.current_stage_id))) {
      seconds = (performance.now() - started) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await sandbox.webhooksSettled();

  // The incremental sync asks for what changed since the last sync started, less the watermark overlap.
  const sinceMs = asOfInstant(FIRST_DAY) - WATERMARK_OVERLAP_MS;
  const announced = new Set(
    sandbox.webhooks!.events.flatMap((e) => (e.type === 'data-changed' ? ((e.data.changed_models as { name: string }[]) ?? []).map((m) => m.name) : [])),
  );
  const delta = (path: string): number => (sandbox.stats.byPath[path] ?? 0) - (requestsBefore[path] ?? 0);
  const models = SANDBOX_MODELS.map((model): ModelRequests => {
    const records = model === 'candidates' || model === 'applications' || model === 'interviews' ? data[model] : (data.funnel?.[model] ?? []);
    const changed = records.filter((r) => updatedSince(model, r, sinceMs)).length;
    return {
      model,
      announced: announced.has(`ats_${model}`),
      changed,
      requests: delta(`/v1/ats/${model.replaceAll('_', '-')}`),
      bound: changed === 0 ? 0 : Math.ceil(changed / MAX_PAGE_SIZE) + 1,
    };
  });
  return {
    seconds,
    applicationId: String(moved.id),
    stage: String((moved.current_stage as { name?: string } | null)?.name ?? moved.current_stage_id),
    runs: runs.size,
    models,
    checks: delta(`/v1/integrations/${encodeURIComponent(integrationId)}`),
    webhooks: { delivered: sandbox.webhooks!.delivered, failed: sandbox.webhooks!.failed },
  };
}

/** Whether `applications_latest` shows the application in the stage. */
async function shows(dir: string, applicationId: string, stageId: string): Promise<boolean> {
  const db = await openWarehouse(dir);
  try {
    const r = await db.query(`SELECT current_stage_id FROM applications_latest WHERE id = '${applicationId.replaceAll("'", "''")}'`);
    return r.rows.some((row) => String(row[0]) === stageId);
  } finally {
    db.close();
  }
}

/** Prints the figures as Markdown. */
export function printFreshness(f: FreshnessFigures | string): void {
  console.log(`## Webhook freshness, locally end to end: sandbox clock move → signed data-changed → receiveWebhook → dispatchEvent → runLocal → applications_latest\n`);
  if (typeof f === 'string') {
    console.log(`${f}\n`);
    return;
  }
  const within = Number.isFinite(f.seconds) && f.seconds <= 10;
  console.log(
    `Application ${f.applicationId} moved to "${f.stage}" at ${MOVE_TO} (simulated); applications_latest showed it after **${Number.isFinite(f.seconds) ? f.seconds.toFixed(1) : 'never (60 s)'} s** (target ≤ 10 s: ${within ? 'met' : 'missed'}), through ${f.runs} triggered run(s); webhooks delivered ${f.webhooks.delivered}, failed ${f.webhooks.failed}.\n`,
  );
  console.log('| model | named in data-changed | records changed since the last sync | requests | bound (pages + 1, or 0) | within |');
  console.log('|---|---|---|---|---|---|');
  for (const m of f.models) console.log(`| ${m.model} | ${m.announced ? 'yes' : 'no'} | ${m.changed} | ${m.requests} | ${m.bound} | ${m.requests <= m.bound ? 'yes' : 'no'} |`);
  console.log(`\nPlus ${f.checks} integration check(s) (\`GET /integrations/{id}\`) by the triggered run(s).\n`);
}
