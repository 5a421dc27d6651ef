/** `kombo-etl sync`: one run into a local warehouse, against Kombo or the built-in sandbox. */
import type { SyncConfig } from '../config.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { errorMessagesFor } from '../../shared/kombo/error-text.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { LOCAL_PII_HINTS, runLocal } from '../../shared/adapters/local/local-run.ts';
import { assertWarehousePii } from '../../shared/state/pii.ts';
import { newRunId } from '../../shared/warehouse/layout.ts';
import { ConfigError, RunFatalError, RunInterruptedError } from '../../shared/errors.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import type { ReportFormat } from '../output.ts';
import { createProgress, formatReport, formatReportJson } from '../output.ts';
import { EXIT_INTERRUPTED, listenForInterrupts, resumeCommand } from '../interrupt.ts';
import { assertLocalWarehouseSource, assertWritableWarehouse, sandboxIntegrationIds } from '../warehouse.ts';
import type { RunReport } from '../../shared/state/runs.ts';

/**
 * Exit codes: 0 complete (or skipped as not available), 1 some stream failed, 2 bad usage or config,
 * 130 stopped by Ctrl-C or SIGTERM (the run is marked interrupted; `retry` resumes it).
 */
export const EXIT = { ok: 0, streamsFailed: 1, usage: 2, interrupted: EXIT_INTERRUPTED } as const;

export interface SyncOutcome {
  readonly exitCode: number;
  readonly report?: RunReport;
}

/**
 * Print a run's final report: the table and where the warehouse is, or (`--format json`) one JSON
 * document holding both, so that stdout parses as JSON.
 */
export function writeReport(out: NodeJS.WritableStream, report: RunReport, warehouse: string, format: ReportFormat): void {
  out.write(format === 'json' ? `${formatReportJson(report, warehouse)}\n` : `${formatReport(report)}\nwarehouse: ${warehouse}\n`);
}

/** Run a sync and print its report. Never prints the API key. */
export async function syncCommand(config: SyncConfig, out: NodeJS.WritableStream = process.stdout, format: ReportFormat = 'table'): Promise<SyncOutcome> {
  // Before the sandbox or a request: a warehouse that cannot be written is a configuration error.
  await assertWritableWarehouse(config.warehouse);
  const store = new FolderStore(config.warehouse);
  // Kombo rows never go into a sandbox warehouse, nor sandbox rows into a Kombo one.
  await assertLocalWarehouseSource(store, config.source, store.root);
  // Nor does a sync change the personal-data mode of the rows stored before it (checked again by runLocal).
  await assertWarehousePii(store, config.pii, store.root, LOCAL_PII_HINTS);
  let sandbox: RunningSandbox | undefined;
  let apiUrl = config.apiUrl;
  let apiKey = config.apiKey;
  let integrationIds = config.integrationIds;
  if (apiKey === undefined) {
    // Loaded on demand: the sandbox's data generator is not needed for real syncs.
    const { DEFAULT_SANDBOX_INTEGRATIONS, startSandbox } = await import('../../sandbox/index.ts');
    const offered = DEFAULT_SANDBOX_INTEGRATIONS.map((i) => i.id);
    const unknown = integrationIds?.filter((id) => !offered.includes(id)) ?? [];
    if (unknown.length > 0) throw new ConfigError(`--integrations: the built-in sandbox has no integration ${unknown.join(', ')}; it has ${offered.join(', ')}`);
    sandbox = await startSandbox(config.asOf === undefined ? {} : { asOf: config.asOf });
    apiUrl = sandbox.url;
    apiKey = sandbox.apiKey;
    const known = sandbox.dataset.integrations.map((i) => i.id);
    integrationIds ??= known;
    // With --format json, stdout holds the report alone.
    (format === 'json' ? process.stderr : out).write(`syncing the built-in Kombo sandbox at ${sandbox.url} (${integrationIds.length} integration${integrationIds.length === 1 ? '' : 's'}${config.asOf === undefined ? '' : `, simulated date ${config.asOf}`})\n`);
  }
  const progress = createProgress();
  let planned = false;
  const runId = newRunId();
  const resume = resumeCommand(runId, store.root, config.source, config.apiUrlGiven ? config.apiUrl : undefined);
  const interrupts = listenForInterrupts(() => ({ warehouseRoot: store.root, runId, resume }));
  try {
    const report = await runLocal({
      client: new KomboClient({ baseUrl: apiUrl, apiKey, errorMessages: errorMessagesFor(config.pii.mode), onRetry: (e) => progress.retry(e), onHold: (e) => progress.hold(e) }),
      store,
      catalog: new LocalCatalog(store),
      runId,
      source: config.source,
      sandboxIntegrationIds,
      ...(config.asOf !== undefined && { asOf: config.asOf }),
      signal: interrupts.signal,
      snapshotDate: config.snapshotDate,
      integrationIds: integrationIds ?? [],
      models: config.models,
      concurrency: config.concurrency,
      threads: config.threads,
      pii: config.pii,
      full: config.full,
      fullEveryDays: config.fullEveryDays,
      onPlan: (p) => {
        planned = true;
        progress.plan(p);
      },
      onPage: (m, n) => progress.page(m, n),
      onChunk: (m, r) => progress.chunk(m, r),
    });
    progress.stop();
    writeReport(out, report, store.root, format);
    return { exitCode: report.status === 'succeeded' ? EXIT.ok : EXIT.streamsFailed, report };
  } catch (err) {
    progress.stop();
    if (err instanceof RunFatalError) {
      process.stderr.write(`error: run stopped: ${err.code}: ${err.message}\n` + hintFor(err.code));
      return { exitCode: planned ? EXIT.streamsFailed : EXIT.usage };
    }
    if (err instanceof RunInterruptedError) exitInterrupted(err, resume, config.source);
    throw err;
  } finally {
    interrupts.dispose();
    await sandbox?.close();
  }
}

/**
 * Say how the run stopped and how to resume it, then exit at once: abandoned chunks may still be
 * waiting on Kombo, and must not keep the process (or Kombo) busy once the run's state is saved.
 */
export function exitInterrupted(err: RunInterruptedError, resume: string, source: 'kombo' | 'sandbox'): never {
  const key = source === 'kombo' ? ' (with the same API key: KOMBO_API_KEY or --api-key)' : '';
  process.stderr.write(err.planned ? `${err.signal}: run ${err.runId} stopped and is marked interrupted. Resume it with: ${resume}${key}\n` : `${err.signal}: stopped before the run was planned; nothing was written\n`);
  process.exit(EXIT.interrupted);
}

function hintFor(code: string): string {
  if (code === 'PLATFORM.AUTHENTICATION_INVALID') return 'check the API key (--api-key / KOMBO_API_KEY); nothing was written\n';
  if (code === 'PLATFORM.IP_NOT_WHITELISTED') return "allow this machine's IP address in Kombo's dashboard\n";
  return '';
}
