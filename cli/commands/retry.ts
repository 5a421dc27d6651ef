/** `kombo-etl retry --run-id ID`: re-run only a finished run's failed streams, into the same snapshot. */
import type { SyncConfig } from '../../shared/config.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { retryLocal } from '../../shared/adapters/local/local-run.ts';
import { assertRunId } from '../../shared/warehouse/layout.ts';
import { RunFatalError } from '../../shared/errors.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { formatReport } from '../output.ts';
import type { SyncOutcome } from './sync.ts';
import { EXIT } from './sync.ts';

/** Retry a run and print what was retried and the run's new report. Never prints the API key. */
export async function retryCommand(runId: string, config: SyncConfig, out: NodeJS.WritableStream = process.stdout): Promise<SyncOutcome> {
  assertRunId(runId);
  let sandbox: RunningSandbox | undefined;
  let apiUrl = config.apiUrl;
  let apiKey = config.apiKey;
  if (apiKey === undefined) {
    const { startSandbox } = await import('../../sandbox/index.ts');
    sandbox = await startSandbox();
    apiUrl = sandbox.url;
    apiKey = sandbox.apiKey;
    out.write(`no API key: retrying against the built-in Kombo sandbox at ${sandbox.url}\n`);
  }
  try {
    const store = new FolderStore(config.warehouse);
    const { retried, report } = await retryLocal({
      client: new KomboClient({ baseUrl: apiUrl, apiKey }),
      store,
      catalog: new LocalCatalog(store),
      runId,
      concurrency: config.concurrency,
      threads: config.threads,
      pii: config.pii,
    });
    if (retried.streams.length === 0) out.write(`run ${runId} has no failed stream: nothing to retry\n`);
    for (const s of retried.streams) out.write(`retried ${s.integrationId} ${s.model} (was: ${s.code ?? 'failed'})\n`);
    out.write(`${formatReport(report)}\nwarehouse: ${store.root}\n`);
    return { exitCode: report.status === 'succeeded' ? EXIT.ok : EXIT.streamsFailed, report };
  } catch (err) {
    if (err instanceof RunFatalError) {
      process.stderr.write(`error: retry stopped: ${err.code}: ${err.message}\n`);
      return { exitCode: EXIT.streamsFailed };
    }
    throw err;
  } finally {
    await sandbox?.close();
  }
}
