/**
 * `kombo-etl retry --run-id ID`: re-run only a finished run's failed streams, into the same
 * snapshot, or resume a run Ctrl-C interrupted.
 */
import type { RetryConfig } from '../config.ts';
import type { PiiOptions } from '../../shared/flatten.ts';
import type { LocalRunner } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { errorMessagesFor } from '../../shared/kombo/error-text.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { readRunner, retryLocal } from '../../shared/adapters/local/local-run.ts';
import { assertRunId } from '../../shared/warehouse/layout.ts';
import { ConfigError, RunFatalError, RunInterruptedError } from '../../shared/errors.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import type { ReportFormat } from '../output.ts';
import { createProgress, printable } from '../output.ts';
import { assertLocalWarehouseSource, assertWritableWarehouse, sandboxIntegrationIds } from '../warehouse.ts';
import type { SyncOutcome } from './sync.ts';
import { EXIT, exitInterrupted, writeReport } from './sync.ts';
import { listenForInterrupts, resumeCommand } from '../interrupt.ts';
import { readPlan } from '../../shared/state/runs.ts';

/** Retry a run and print what was retried and the run's new report. Never prints the API key. */
export async function retryCommand(runId: string, config: RetryConfig, out: NodeJS.WritableStream = process.stdout, format: ReportFormat = 'table'): Promise<SyncOutcome> {
  assertRunId(runId);
  await assertWritableWarehouse(config.warehouse);
  const store = new FolderStore(config.warehouse);
  // Everything that can refuse the retry is checked before the sandbox starts.
  if ((await readPlan(store, runId)) === undefined) throw new ConfigError(`run ${runId} has no plan in warehouse ${store.root}: check --run-id and --warehouse`);
  const runner = await readRunner(store, runId);
  if (runner?.source === 'kombo' && config.source === 'sandbox') {
    throw new ConfigError(`run ${runId} holds data from Kombo: retry it with KOMBO_API_KEY (or --api-key) set, not against the built-in sandbox`);
  }
  await assertLocalWarehouseSource(store, config.source, store.root);
  const pii = retryPii(runId, runner?.pii, config);
  let sandbox: RunningSandbox | undefined;
  let apiUrl = config.apiUrl;
  let apiKey = config.apiKey;
  let asOf: string | undefined;
  if (apiKey === undefined) {
    const { startSandbox } = await import('../../sandbox/index.ts');
    // The simulated day the run was synced from, so that retried streams get the same day's data.
    asOf = (await readRunner(store, runId))?.asOf;
    sandbox = await startSandbox(asOf === undefined ? {} : { asOf });
    apiUrl = sandbox.url;
    apiKey = sandbox.apiKey;
    (format === 'json' ? process.stderr : out).write(`retrying against the built-in Kombo sandbox at ${sandbox.url}${asOf === undefined ? '' : ` (simulated date ${asOf})`}\n`);
  }
  const resume = resumeCommand(runId, store.root, config.source, config.apiUrlGiven ? config.apiUrl : undefined);
  const interrupts = listenForInterrupts(() => ({ warehouseRoot: store.root, runId, resume }));
  const waits = createProgress();
  try {
    const { retried, report } = await retryLocal({
      // No bar for a retry, but its waits are told as they happen (lines on stderr).
      client: new KomboClient({ baseUrl: apiUrl, apiKey, errorMessages: errorMessagesFor(pii.mode), onRetry: (e) => waits.retry(e), onHold: (e) => waits.hold(e) }),
      store,
      catalog: new LocalCatalog(store),
      runId,
      source: config.source,
      sandboxIntegrationIds,
      ...(asOf !== undefined && { asOf }),
      signal: interrupts.signal,
      ...(config.integrationIds !== undefined && { integrationIds: config.integrationIds }),
      concurrency: config.concurrency,
      threads: config.threads,
      pii,
    });
    const of = config.integrationIds === undefined ? '' : ` of ${config.integrationIds.join(', ')}`;
    // With --format json, stdout holds the report alone; what was retried goes to stderr.
    const say = format === 'json' ? process.stderr : out;
    if (retried.streams.length + retried.resumed.length === 0) say.write(`run ${runId} has no failed or unfinished stream${of}: nothing to retry\n`);
    for (const s of retried.streams) say.write(`${printable(`retried ${s.integrationId} ${s.model} (was: ${s.code ?? 'failed'})`)}\n`);
    for (const s of retried.resumed) say.write(`resumed ${s.integrationId} ${s.model} (interrupted)\n`);
    if (report === undefined) {
      say.write(`run ${runId} is still interrupted: ${retried.leftUnended} streams of other integrations never ended. Resume them with: ${resume}\n`);
      return { exitCode: EXIT.streamsFailed };
    }
    writeReport(out, report, store.root, format);
    return { exitCode: report.status === 'succeeded' ? EXIT.ok : EXIT.streamsFailed, report };
  } catch (err) {
    if (err instanceof RunFatalError) {
      process.stderr.write(`error: retry stopped: ${err.code}: ${err.message}\n`);
      return { exitCode: EXIT.streamsFailed };
    }
    if (err instanceof RunInterruptedError) exitInterrupted(err, resume, config.source);
    throw err;
  } finally {
    interrupts.dispose();
    await sandbox?.close();
  }
}

/**
 * The personal-data mode a retry writes with: the run's own, so that resuming a `drop` run never
 * stores what its first attempt left out. A different mode is refused. A hash salt other than the
 * run's cannot be told (nothing of the salt is stored): the retry hashes with the salt it is given.
 */
function retryPii(runId: string, recorded: LocalRunner['pii'], config: RetryConfig): PiiOptions {
  if (recorded === undefined) return config.pii;
  if (config.piiModeGiven && config.pii.mode !== recorded.mode) {
    throw new ConfigError(`run ${runId} stores personal data with --pii-mode ${recorded.mode}: retry it with the same mode, or leave --pii-mode out`);
  }
  if (recorded.mode !== 'hash') return { mode: recorded.mode };
  const salt = config.pii.mode === 'hash' ? config.pii.salt : undefined;
  if (salt === undefined) throw new ConfigError(`run ${runId} hashes personal data: pass its salt with KOMBO_PII_SALT or KOMBO_PII_SALT_FILE (and --pii-mode hash)`);
  return { mode: 'hash', salt };
}
