/**
 * A whole run on one machine: the same plan / chunk / finish steps as in Lambda, with the local
 * queue draining messages through `concurrency` workers. A run can be stopped by an abort signal
 * (Ctrl-C): it then abandons its chunks in flight and is marked interrupted, for `retry` to resume.
 */
import { hostname } from 'node:os';
import type { KomboClient } from '../../kombo/client.ts';
import type { Catalog, ObjectStore, StreamMessage } from '../../ports.ts';
import { RunInterruptedError } from '../../errors.ts';
import type { ModelName } from '../../tables.ts';
import { LocalQueue } from './local-queue.ts';
import { ChunkThreads } from './chunk-threads.ts';
import type { PiiMode, PiiOptions } from '../../flatten.ts';
import type { ChunkDeps, ChunkLimits, ChunkResult } from '../../pipeline/chunk.ts';
import { processChunk } from '../../pipeline/chunk.ts';
import { planRun } from '../../pipeline/plan.ts';
import { recordIntegration } from '../../pipeline/integrations.ts';
import type { RetryOptions, RetryPlan } from '../../pipeline/retry.ts';
import { retryFailedStreams } from '../../pipeline/retry.ts';
import { decodeJson, encodeJson } from '../../state/codec.ts';
import { runKeys } from '../../state/keys.ts';
import { markRunInterrupted, readInterrupted, readReport } from '../../state/runs.ts';
import type { RunPlan, RunReport } from '../../state/runs.ts';
import { assertWarehouseSource, recordWarehouseSource } from '../../state/source.ts';
import type { PiiHints } from '../../state/pii.ts';
import { assertWarehousePii, recordWarehousePii } from '../../state/pii.ts';
import type { DataSource } from '../../state/source.ts';

/** The built-in sandbox's integration ids (a port: `shared/` does not know the sandbox). */
export type SandboxIntegrationIds = () => Promise<ReadonlySet<string>>;

export interface LocalRunOptions {
  readonly client: KomboClient;
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly runId: string;
  readonly snapshotDate: string;
  readonly integrationIds: readonly string[];
  readonly models: readonly ModelName[];
  readonly concurrency: number;
  readonly limits?: Partial<ChunkLimits>;
  readonly onPlan?: (plan: RunPlan) => void;
  readonly onPage?: (msg: StreamMessage, records: number) => void;
  readonly onChunk?: (msg: StreamMessage, result: ChunkResult) => void;
  /** What to store in personal-data columns (default: keep). */
  readonly pii?: PiiOptions;
  /**
   * Worker threads that parse, validate and encode pages, so that this thread only waits on Kombo
   * (see `chunk-threads.ts`). 0 (the default) does that work on this thread.
   */
  readonly threads?: number;
  /**
   * Where the data comes from. When set, a warehouse holding the other source's data is refused
   * (a ConfigError before anything is written) and a new warehouse records it.
   */
  readonly source?: DataSource;
  /**
   * The built-in sandbox's integration ids, asked only for a warehouse written before it recorded
   * its source, whose runs then tell (see `warehouse/source.ts`). The caller that can start the
   * sandbox gives them; without them every such run counts as Kombo's.
   */
  readonly sandboxIntegrationIds?: SandboxIntegrationIds;
  /** The built-in sandbox's simulated day it serves (`--as-of`), recorded so that `retry` serves the same. */
  readonly asOf?: string;
  /**
   * Stops the run: no chunk starts after it fires, chunks in flight are abandoned (their writes are
   * refused from then on; chunk writes are idempotent, so a resumed stream simply rewrites them), the
   * run is marked interrupted and a {@link RunInterruptedError} is thrown. The abort's reason names
   * the signal.
   */
  readonly signal?: AbortSignal;
  /** Sync every stream in full (`sync --full`). */
  readonly full?: boolean;
  /** Streams whose last full sync is this many days old sync in full again (default 7). */
  readonly fullEveryDays?: number;
}

/**
 * `_runs/<run_id>/runner.json`, written by a local run (and each retry of it): the process running
 * it, so that a run whose process died without a word (SIGKILL, a crash) can be told from one still
 * running, and the source it fetches from.
 */
export interface LocalRunner {
  readonly source: DataSource;
  /** The built-in sandbox's simulated day, when it served one. */
  readonly asOf?: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /**
   * The personal-data mode the run stores rows with, so that a retry writes the same (absent in
   * runs written before it was recorded). Nothing of a hash salt is kept, not even a fingerprint:
   * a fingerprint lets anyone holding the file test guessed salts offline.
   */
  readonly pii?: { readonly mode: PiiMode };
}

const runnerPii = (pii: PiiOptions | undefined): LocalRunner['pii'] => ({ mode: pii?.mode ?? 'keep' });


/** The run's {@link LocalRunner} record, or undefined for a run without one (an AWS run, an older local run). */
export async function readRunner(store: ObjectStore, runId: string): Promise<LocalRunner | undefined> {
  const body = await store.get(runKeys.runner(runId));
  return body ? decodeJson<LocalRunner>(body) : undefined;
}

async function writeRunner(store: ObjectStore, runId: string, source: DataSource, asOf: string | undefined, pii: PiiOptions | undefined): Promise<void> {
  const runner: LocalRunner = { source, ...(asOf !== undefined && { asOf }), pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), pii: runnerPii(pii) };
  await store.put(runKeys.runner(runId), encodeJson(runner));
}

/** Whether a process of this machine still runs (one of another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run left without a verdict by a process of this machine that is gone (killed outright, crashed)
 * is marked interrupted, so that `retry` resumes it rather than waiting for it forever.
 */
async function markIfOrphaned(store: ObjectStore, runId: string): Promise<void> {
  const runner = await readRunner(store, runId);
  if (runner === undefined || runner.host !== hostname() || runner.pid === process.pid || isRunning(runner.pid)) return;
  if ((await readInterrupted(store, runId)) !== undefined) return;
  await markRunInterrupted(store, runId, `process ${runner.pid} ended without finishing it`);
}

/** No sandbox integration known: every run of a warehouse without a source record counts as Kombo's. */
const NO_SANDBOX_IDS: SandboxIntegrationIds = () => Promise.resolve(new Set());

/** Refuse, before anything is written, a warehouse that holds the other source's data than `opts.source`. */
async function assertRunSource(opts: Pick<LocalRunOptions, 'store' | 'source' | 'sandboxIntegrationIds'>): Promise<void> {
  if (opts.source) await assertWarehouseSource(opts.store, opts.source, opts.store.locate(''), opts.sandboxIntegrationIds ?? NO_SANDBOX_IDS);
}

/** How a refusal of another personal-data mode names the local settings. */
export const LOCAL_PII_HINTS: PiiHints = { mode: '--pii-mode', newWarehouse: '--warehouse DIR' };

/**
 * Plan and run to completion. Throws a RunFatalError (bad API key…) as soon as one occurs, and a
 * ConfigError, before anything is written, for a warehouse of the other source or of another
 * personal-data mode (`state/pii.ts`).
 */
export async function runLocal(opts: LocalRunOptions): Promise<RunReport> {
  await assertRunSource(opts);
  const pii = opts.pii ?? { mode: 'keep' };
  await assertWarehousePii(opts.store, pii, opts.store.locate(''), LOCAL_PII_HINTS);
  if (opts.signal?.aborted) throw new RunInterruptedError(opts.runId, signalName(opts.signal), false);
  const queue = new LocalQueue();
  const plan = await planRun(
    { client: opts.client, store: opts.store, queue, recordIntegration: (u) => recordIntegration({ store: opts.store, catalog: opts.catalog, now: () => new Date(), piiMode: pii.mode }, u) },
    {
      runId: opts.runId,
      snapshotDate: opts.snapshotDate,
      integrationIds: opts.integrationIds,
      models: opts.models,
      ...(opts.full !== undefined && { full: opts.full }),
      ...(opts.fullEveryDays !== undefined && { fullEveryDays: opts.fullEveryDays }),
    },
  );
  await recordWarehousePii(opts.store, pii);
  if (opts.source) {
    await recordWarehouseSource(opts.store, opts.source);
    await writeRunner(opts.store, opts.runId, opts.source, opts.asOf, opts.pii);
  }
  opts.onPlan?.(plan);
  await drainLocal(opts, queue);
  return finishLocal(opts.store, opts.runId, opts.signal);
}

const signalName = (signal: AbortSignal): string => (typeof signal.reason === 'string' ? signal.reason : 'abort');

/**
 * After the drain: the run's report, or, when the signal stopped the drain before the run
 * completed, mark the run interrupted and throw.
 */
async function finishLocal(store: ObjectStore, runId: string, signal: AbortSignal | undefined): Promise<RunReport> {
  if (signal?.aborted && (await markRunInterrupted(store, runId, signalName(signal)))) throw new RunInterruptedError(runId, signalName(signal), true);
  return drainedReport(store, runId);
}

/** The store and catalog as the chunks see them: once the run is stopped, an abandoned chunk may read but no longer write. */
function fenced<T extends object>(target: T, signal: AbortSignal, writes: readonly (keyof T)[]): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function') return value;
      const write = writes.includes(prop as keyof T);
      return (...args: unknown[]) => {
        if (write && signal.aborted) return Promise.reject(new RunInterruptedError('', signalName(signal), true));
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

async function drainLocal(opts: Omit<LocalRunOptions, 'runId' | 'snapshotDate' | 'integrationIds' | 'models'>, queue: LocalQueue): Promise<void> {
  const signal = opts.signal;
  const deps: ChunkDeps = {
    client: opts.client,
    store: signal ? fenced(opts.store, signal, ['put', 'putIfAbsent', 'putIfMatch', 'deleteIfMatch', 'delete']) : opts.store,
    queue,
    catalog: signal ? fenced(opts.catalog, signal, ['registerPartition']) : opts.catalog,
    ...(opts.limits && { limits: opts.limits }),
    ...(opts.onPage && { onPage: opts.onPage }),
    ...(opts.pii && { pii: opts.pii }),
  };
  // Settles when the run is stopped: a chunk in flight is then left behind rather than awaited.
  const stopped = signal && new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  const threads = opts.threads ? new ChunkThreads(opts.threads) : undefined;
  try {
    await queue.drain(async (msg) => {
      // Messages still queued when the run stops are dropped: `retry` resends their streams.
      if (signal?.aborted) return;
      const chunk = processChunk(threads ? { ...deps, work: threads.work } : deps, msg);
      const result = stopped ? await Promise.race([chunk, stopped]) : await chunk;
      if (result) opts.onChunk?.(msg, result);
    }, opts.concurrency);
  } finally {
    await threads?.close();
  }
}

async function drainedReport(store: ObjectStore, runId: string): Promise<RunReport> {
  const report = await readReport(store, runId);
  if (!report) throw new Error(`run ${runId} drained but wrote no report`);
  return report;
}

export type LocalRetryOptions = Omit<LocalRunOptions, 'snapshotDate' | 'integrationIds' | 'models' | 'onPlan' | 'full' | 'fullEveryDays'> &
  RetryOptions & {
    readonly onRetryPlan?: (plan: RetryPlan) => void;
  };

/**
 * Re-run a run's failed streams into the same run and snapshot, and resume the streams of an
 * interrupted run that never ended, then report the run again. `report` is undefined when the run
 * has not completed: streams of other integrations than `integrationIds` were left unended.
 */
export async function retryLocal(opts: LocalRetryOptions): Promise<{ readonly retried: RetryPlan; readonly report: RunReport | undefined }> {
  await assertRunSource(opts);
  await markIfOrphaned(opts.store, opts.runId);
  const queue = new LocalQueue();
  const retried = await retryFailedStreams({ store: opts.store, queue }, opts.runId, opts.integrationIds === undefined ? {} : { integrationIds: opts.integrationIds });
  opts.onRetryPlan?.(retried);
  if (opts.source && retried.streams.length + retried.resumed.length > 0) await writeRunner(opts.store, opts.runId, opts.source, opts.asOf, opts.pii);
  await drainLocal(opts, queue);
  if (retried.leftUnended > 0 && !opts.signal?.aborted) return { retried, report: undefined };
  return { retried, report: await finishLocal(opts.store, opts.runId, opts.signal) };
}
