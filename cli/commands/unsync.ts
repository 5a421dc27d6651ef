/**
 * `kombo-etl unsync --snapshot-date D`: undo the sync of one date in a local warehouse (see
 * `shared/pipeline/unsync.ts`), the way back from a sync of a future date. Prints what it undid.
 */
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { ConfigError } from '../../shared/errors.ts';
import type { UnsyncReport } from '../../shared/pipeline/unsync.ts';
import { unsyncDate } from '../../shared/pipeline/unsync.ts';
import { assertIntegrationId, assertSnapshotDate } from '../../shared/warehouse/layout.ts';
import { assertReadableWarehouse, assertWritableWarehouse } from '../warehouse.ts';

/** The options as commander gives them. */
export interface UnsyncInput {
  readonly warehouse: string;
  readonly snapshotDate?: string;
  readonly integrations?: string;
}

/** What was undone, one line per stream, then where each stream is now. */
export function formatUnsync(report: UnsyncReport): string {
  const lines = report.streams.map((s) => `  ${s.integrationId} ${s.model}: latest sync now ${s.latest ?? 'none (never synced)'}`);
  const n = report.streams.length;
  return `undid the sync of ${report.snapshotDate} of ${n} stream${n === 1 ? '' : 's'} (partitions, files, syncs rows and commits):\n${lines.join('\n')}\n`;
}

/** Undo the sync of a date and print what was undone. Configuration errors exit 2 with one line, nothing changed. */
export async function unsyncCommand(input: UnsyncInput, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (input.snapshotDate === undefined) throw new ConfigError('--snapshot-date is required: the date whose sync to undo, e.g. --snapshot-date 2026-12-20');
  const date = input.snapshotDate;
  try {
    assertSnapshotDate(date);
  } catch (err) {
    throw new ConfigError(`--snapshot-date: ${(err as Error).message}`);
  }
  const ids = input.integrations?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    ids?.forEach(assertIntegrationId);
  } catch (err) {
    throw new ConfigError(`--integrations: ${(err as Error).message}`);
  }
  await assertReadableWarehouse(input.warehouse);
  await assertWritableWarehouse(input.warehouse);
  const store = new FolderStore(input.warehouse);
  const report = await unsyncDate({ store, catalog: new LocalCatalog(store) }, date, ids === undefined || ids.length === 0 ? {} : { integrationIds: ids });
  out.write(formatUnsync(report));
}
