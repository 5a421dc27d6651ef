/**
 * Multi-day warehouses for the analytics tests: the sandbox's simulated clock moved day by day,
 * each day synced by the real pipeline (`runLocal`) into one snapshot of a fresh local warehouse.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxIntegrationSpec, SandboxTimeline } from '../../sandbox/index.ts';
import { createSandboxTimeline, startSandbox } from '../../sandbox/index.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { MODELS } from '../../shared/tables.ts';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';

export interface HistoryWarehouse {
  readonly dir: string;
  readonly timeline: SandboxTimeline;
  /** The snapshot dates synced, ascending. */
  readonly dates: readonly string[];
}

/** Syncs the simulated sandbox once per date (each date a snapshot of that day) into a new warehouse. */
export async function buildHistoryWarehouse(opts: {
  integrations: readonly SandboxIntegrationSpec[];
  dates: readonly string[];
  seed?: number;
  /** Reuse a timeline already built from the same seed and integrations. */
  timeline?: SandboxTimeline;
}): Promise<HistoryWarehouse> {
  const timeline = opts.timeline ?? createSandboxTimeline({ seed: opts.seed ?? 42, integrations: opts.integrations });
  const dir = mkdtempSync(join(tmpdir(), 'kombo-history-'));
  const sandbox = await startSandbox({ timeline, asOf: opts.dates[0] as string });
  try {
    const store = new FolderStore(dir);
    const client = new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    for (const [k, date] of opts.dates.entries()) {
      sandbox.setAsOf(date);
      const report = await runLocal({
        client,
        store,
        catalog: new LocalCatalog(store),
        runId: `20990101T0000${String(k).padStart(2, '0')}Z-aaaaaa`,
        snapshotDate: date,
        integrationIds: timeline.integrationIds,
        models: MODELS,
        concurrency: 4,
      });
      if (report.status !== 'succeeded') throw new Error(`sync of ${date} ended ${report.status}`);
    }
  } finally {
    await sandbox.close();
  }
  return { dir, timeline, dates: [...opts.dates] };
}

/** Rows of a query as objects; BIGINT values (JSON strings) become numbers. */
export async function objects(db: WarehouseDb, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await db.connection.runAndReadAll(sql);
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  return reader.getRowsJson().map((row) =>
    Object.fromEntries(names.map((n, i) => [n, types[i] === 'BIGINT' && row[i] !== null ? Number(row[i]) : row[i]])),
  );
}
