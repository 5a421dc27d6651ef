/**
 * `kombo-etl compact`: consolidate the partitions of dates that are over into one file per 50,000
 * rows, apply the retention to a local warehouse of versions (see `shared/pipeline/compact.ts`), and
 * erase named records on request. Prints what it removed and rewrote.
 */
import { resolve } from 'node:path';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { ConfigError } from '../../shared/errors.ts';
import type { CompactionReport } from '../../shared/pipeline/compact.ts';
import { compactWarehouse, newCompactionRunId } from '../../shared/pipeline/compact.ts';
import { keepsEveryVersion, parseRetentionDays } from '../../shared/retention.ts';
import { assertIntegrationId, assertSnapshotDate, todayUtc } from '../../shared/warehouse/layout.ts';
import { formatTable } from '../output.ts';
import { assertReadableWarehouse, assertWritableWarehouse } from '../warehouse.ts';
import { EXIT } from './sync.ts';

/** The options as commander gives them. */
export interface CompactInput {
  readonly warehouse: string;
  readonly retentionDays?: string;
  readonly integrations?: string;
  readonly erase?: string;
  readonly today?: string;
}

/** `kombo-etl compact`, validated. */
export interface CompactConfig {
  readonly warehouse: string;
  readonly retentionDays: number;
  readonly integrationIds?: readonly string[];
  readonly erase?: readonly string[];
  readonly today: string;
}

/** Kombo's record ids: letters, digits, `_` and `-`. */
const RECORD_ID = /^[A-Za-z0-9_-]{1,128}$/;

const list = (raw: string | undefined): string[] | undefined => {
  const items = raw?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items === undefined || items.length === 0 ? undefined : [...new Set(items)];
};

/** Check the options; throws a {@link ConfigError} that says what to give instead. */
export function parseCompactConfig(input: CompactInput, now: Date = new Date()): CompactConfig {
  const retentionDays = parseRetentionDays(input.retentionDays, '--retention-days');
  const integrationIds = list(input.integrations)?.map(assertIntegrationId);
  const erase = list(input.erase);
  const bad = erase?.find((id) => !RECORD_ID.test(id));
  if (bad !== undefined) throw new ConfigError(`--erase: ${JSON.stringify(bad)} is not a Kombo record id (letters, digits, "_" and "-"); give ids separated by commas`);
  const today = input.today === undefined ? todayUtc(now) : assertSnapshotDate(input.today);
  return { warehouse: input.warehouse, retentionDays, today, ...(integrationIds && { integrationIds }), ...(erase && { erase }) };
}

/** What a compaction removed, as printed. */
export function formatCompaction(report: CompactionReport): string {
  const lines = [
    keepsEveryVersion(report.retentionDays)
      ? `compaction ${report.runId}: every version kept (--retention-days 0): only the records erased were removed`
      : `compaction ${report.runId}: ${report.retentionDays} days of history kept whole; versions stored before ${report.cutoff} compacted`,
  ];
  const rowsOf = (s: CompactionReport['streams'][number]) => Object.values(s.rowsRemoved).reduce((a, b) => a + b, 0);
  const changed = report.streams.filter((s) => s.status === 'compacted' && (rowsOf(s) > 0 || s.commitsTrimmed > 0 || s.indexFilesRemoved > 0));
  if (changed.length > 0) {
    lines.push(
      formatTable(
        ['integration', 'model', 'rows removed', 'superseded versions', 'records purged', 'partitions rewritten', 'emptied', 'commits trimmed'],
        changed.map((s) => [s.integrationId, s.model, rowsOf(s), s.versionsRemoved, s.recordsPurged, s.partitionsRewritten, s.partitionsEmptied, s.commitsTrimmed]),
      ),
    );
  }
  const sum = (f: (s: CompactionReport['streams'][number]) => number) => report.streams.reduce((n, s) => n + f(s), 0);
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  lines.push(
    `removed ${plural(sum(rowsOf), 'row')} (${plural(sum((s) => s.versionsRemoved), 'superseded version')}, ${plural(sum((s) => s.recordsPurged), 'record')} purged), ` +
      `rewrote ${plural(sum((s) => s.partitionsRewritten), 'partition')} (${sum((s) => s.partitionsEmptied)} left empty), ` +
      `removed ${plural(sum((s) => s.indexFilesRemoved), 'index file')} of change capture state and ${plural(report.runsRemoved.length, 'run folder')} (_runs/)`,
  );
  const consolidated = sum((s) => s.partitionsConsolidated);
  if (consolidated > 0) {
    lines.push(`consolidated ${plural(consolidated, 'partition')} of dates before ${report.today}: ${plural(sum((s) => s.filesBefore), 'file')} into ${sum((s) => s.filesAfter)}`);
  }
  const compacted = report.streams.filter((s) => s.status === 'compacted').length;
  lines.push(`${plural(compacted, 'stream')} compacted, ${changed.length} of them changed`);
  for (const s of report.streams.filter((x) => x.status === 'busy')) {
    lines.push(`${s.integrationId} ${s.model}: not compacted, run ${s.holder ?? '?'} is syncing it; compact again once it has ended`);
  }
  return `${lines.join('\n')}\n`;
}

/** Run the compaction; exit 1 when a stream was busy (the others are compacted). */
export async function compactCommand(config: CompactConfig, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  await assertReadableWarehouse(config.warehouse);
  await assertWritableWarehouse(config.warehouse);
  const store = new FolderStore(resolve(config.warehouse));
  const report = await compactWarehouse(
    { store, catalog: new LocalCatalog(store) },
    {
      runId: newCompactionRunId(),
      today: config.today,
      retentionDays: config.retentionDays,
      ...(config.integrationIds && { integrationIds: config.integrationIds }),
      ...(config.erase && { erase: config.erase }),
    },
  );
  out.write(formatCompaction(report));
  return report.streams.some((s) => s.status === 'busy') ? EXIT.streamsFailed : EXIT.ok;
}
