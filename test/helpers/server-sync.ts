/**
 * A local warehouse synced against a Kombo-compatible test server, one date (and run) at a time,
 * with no day a full-sync day of the integration: only first syncs and asked ones are full.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { ModelName } from '../../shared/tables.ts';
import { cycleWithoutFullDays } from './full-cycle.ts';
import { objects } from './history.ts';
import type { KomboServer } from './kombo-server.ts';

export interface ServerSyncOptions {
  readonly apiKey: string;
  readonly integrationId: string;
  readonly models: readonly ModelName[];
  /** Every date the test syncs: none of them is made a full-sync day. */
  readonly dates: readonly string[];
  /** Names the temp folder (`kombo-<label>-`) and the run ids (`<date>T060000Z-<label><n>`). */
  readonly label: string;
}

/** A fresh warehouse folder (the caller removes it) and a sync of one date into it. */
export function serverSync(server: KomboServer, o: ServerSyncOptions) {
  const dir = mkdtempSync(join(tmpdir(), `kombo-${o.label}-`));
  const store = new FolderStore(dir);
  const client = new KomboClient({ baseUrl: server.url, apiKey: o.apiKey });
  const cycle = cycleWithoutFullDays([o.integrationId], o.dates);
  let n = 0;
  const sync = (date: string, opts: { readonly full?: boolean } = {}) =>
    runLocal({
      client,
      store,
      catalog: new LocalCatalog(store),
      runId: `${date.replaceAll('-', '')}T060000Z-${o.label}${String(++n).padStart(2, '0')}`,
      snapshotDate: date,
      integrationIds: [o.integrationId],
      models: o.models,
      concurrency: 1,
      limits: { pageSize: 2 },
      fullEveryDays: cycle,
      ...(opts.full === true && { full: true }),
    });
  return { dir, store, sync };
}

/** Rows of `sql` over the warehouse at `dir`, the database closed again. */
export async function queryWarehouse(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await openWarehouse(dir);
  try {
    return await objects(db, sql);
  } finally {
    db.close();
  }
}
