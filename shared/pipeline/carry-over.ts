/**
 * A re-run of a date keeps what an earlier run of that date stored. Its partitions replace the
 * earlier run's, so the earlier run's versions of the date that the re-run does not replace (records
 * it found unchanged since, or did not fetch at all, deletion copies included) are copied into the
 * re-run's folder, as they were: same columns, same `_synced_at`. A record the re-run stored a
 * version of keeps the re-run's version alone (the later run wins).
 */
import { encodeParquet } from '../parquet.ts';
import type { ObjectStore } from '../ports.ts';
import type { TableDef } from '../tables.ts';
import { tablesForModel } from '../tables.ts';
import { dataFileKey } from '../warehouse/layout.ts';
import type { DatedStreamRef } from '../state/ref.ts';
import type { Row } from './partition-rows.ts';
import { parquetCell, readPartition, recordKeyColumn } from './partition-rows.ts';

/** What was carried over from the earlier run of the date. */
export interface CarriedOver {
  /** Versions (rows of the model's own table), and how many of them record a deletion (counted from the index). */
  readonly versions: number;
  readonly deletions: number;
  /** Rows per table, and files written (none when a finish done again finds the earlier run's files gone). */
  readonly rows: Readonly<Record<string, number>>;
  readonly files: number;
}

export const NOTHING_CARRIED: CarriedOver = { versions: 0, deletions: 0, rows: {}, files: 0 };

/** Rows by their `_synced_at`: a file holds one value of it. */
function bySyncedAt(rows: readonly Row[]): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const r of rows) {
    const at = Number(parquetCell(r['_synced_at']));
    const group = groups.get(at);
    if (group === undefined) groups.set(at, [r]);
    else group.push(r);
  }
  return groups;
}

/** Write rows of one table into the run's folder, from chunk number `chunk` on; returns the files written. */
async function writeRows(store: ObjectStore, msg: DatedStreamRef, table: TableDef, rows: readonly Row[], chunk: number): Promise<number> {
  const dataCols = table.columns.filter((c) => c.source.kind !== 'meta');
  let files = 0;
  for (const [syncedAt, group] of bySyncedAt(rows)) {
    const columns = dataCols.map((c) => group.map((r) => parquetCell(r[c.name])));
    const body = encodeParquet({ table, columns, rowCount: group.length }, { runId: msg.runId, syncedAt });
    await store.put(dataFileKey(table.name, msg.snapshotDate, msg.integrationId, msg.runId, chunk + files), body);
    files++;
  }
  return files;
}

/**
 * Copy the rows `earlierRunId` stored on the date for records not in `replaced` into this run's
 * folder, numbered from `chunk` on. Deterministic: a finish done again writes the same files.
 */
export async function carryOver(store: ObjectStore, msg: DatedStreamRef, earlierRunId: string, replaced: ReadonlySet<string>, chunk: number): Promise<Pick<CarriedOver, 'rows' | 'files'>> {
  const rows: Record<string, number> = {};
  let files = 0;
  for (const table of tablesForModel(msg.model)) {
    const key = recordKeyColumn(table);
    const kept = (await readPartition(store, table, msg.snapshotDate, msg.integrationId, earlierRunId)).rows.filter((r) => !replaced.has(String(r[key])));
    if (kept.length === 0) continue;
    files += await writeRows(store, msg, table, kept, chunk);
    rows[table.name] = kept.length;
  }
  return { rows, files };
}
