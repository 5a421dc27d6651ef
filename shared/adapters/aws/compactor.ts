/**
 * The compactor Lambda's work, so that its handler is wiring: what it is invoked with, the
 * compaction under the invocation's deadline, and what it reports (metrics, logs). The retention
 * comes from the environment and means what it means everywhere (`shared/retention.ts`).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CompactDeps, CompactionReport } from '../../pipeline/compact.ts';
import { compactWarehouse, newCompactionRunId } from '../../pipeline/compact.ts';
import type { UnsyncReport } from '../../pipeline/unsync.ts';
import { unsyncDate } from '../../pipeline/unsync.ts';
import { assertIntegrationId, assertSnapshotDate, todayUtc } from '../../warehouse/layout.ts';

/** Stop taking streams when less than this is left of the invocation: one stream's rewrite fits in it. */
export const STOP_BEFORE_TIMEOUT_MS = 4 * 60_000;

/** A scheduled event carries nothing the compactor reads; a manual one may name records to erase. */
const EVENT = z
  .object({
    erase: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected Kombo record ids')).optional(),
    integrations: z.array(z.string()).optional(),
    unsync_date: z.string().optional(),
  })
  .loose();

/** What a compactor invocation asks for. */
export interface CompactorEvent {
  /** Record ids whose every version goes. */
  readonly erase?: readonly string[];
  /** Only these integrations' streams (default: every stream). */
  readonly integrationIds?: readonly string[];
  /** Undo the sync of this date instead of compacting (see `pipeline/unsync.ts`). */
  readonly unsyncDate?: string;
}

/**
 * Parse a compactor invocation: `{}` (the schedule's), `{"erase": […], "integrations": […]}`, or
 * `{"unsync_date": "YYYY-MM-DD", "integrations": […]}`. Throws a ConfigError that says what is accepted.
 */
export function parseCompactorEvent(event: unknown): CompactorEvent {
  const parsed = EVENT.safeParse(event ?? {});
  const expected = 'expected {}, {"erase": ["<record id>", …], "integrations": ["<tool>:<id>", …]} or {"unsync_date": "YYYY-MM-DD"}';
  if (!parsed.success) throw new ConfigError(`event: ${parsed.error.issues[0]?.message ?? 'invalid'}; ${expected}`);
  const { erase, unsync_date: unsync } = parsed.data;
  if (unsync !== undefined && erase !== undefined) throw new ConfigError(`event: "unsync_date" and "erase" are separate invocations; ${expected}`);
  if (unsync !== undefined) assertSnapshotDate(unsync);
  const integrationIds = parsed.data.integrations?.map(assertIntegrationId);
  return { ...(integrationIds && { integrationIds }), ...(erase && { erase }), ...(unsync !== undefined && { unsyncDate: unsync }) };
}

export interface CompactorDeps extends CompactDeps {
  /** Days of history kept whole, as the environment gives it. */
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Compact the warehouse as one invocation may: from the stream the last one stopped at, stopping
 * {@link STOP_BEFORE_TIMEOUT_MS} before the invocation ends (`remainingMs`), leaving `_runs/` to the
 * bucket's lifecycle rule. Reports it as metrics and logs.
 */
export async function compactInvocation(deps: CompactorDeps, event: CompactorEvent, remainingMs: () => number): Promise<CompactionReport | UnsyncReport> {
  if (event.unsyncDate !== undefined) {
    const undone = await unsyncDate(deps, event.unsyncDate, event.integrationIds === undefined ? {} : { integrationIds: event.integrationIds });
    deps.logger.info('sync of a date undone', { snapshotDate: undone.snapshotDate, streams: undone.streams });
    return undone;
  }
  const report = await compactWarehouse(deps, {
    runId: newCompactionRunId(),
    today: todayUtc(),
    retentionDays: deps.retentionDays,
    ...event,
    // S3 lifecycle expires `_runs/` by age: listing every run here would be slow.
    removeRuns: false,
    resume: true,
    shouldStop: () => remainingMs() < STOP_BEFORE_TIMEOUT_MS,
  });
  reportCompaction(deps, report);
  return report;
}

function reportCompaction({ logger, metrics }: Pick<CompactorDeps, 'logger' | 'metrics'>, report: CompactionReport): void {
  const total = (f: (s: CompactionReport['streams'][number]) => number) => report.streams.reduce((n, s) => n + f(s), 0);
  const rows = total((s) => Object.values(s.rowsRemoved).reduce((a, b) => a + b, 0));
  const busy = report.streams.filter((s) => s.status === 'busy');
  metrics.addMetric('CompactedStreams', MetricUnit.Count, report.streams.length - busy.length);
  metrics.addMetric('CompactionRowsRemoved', MetricUnit.Count, rows);
  metrics.addMetric('CompactionStreamsBusy', MetricUnit.Count, busy.length);
  metrics.addMetric('PartitionsConsolidated', MetricUnit.Count, total((s) => s.partitionsConsolidated));
  if (busy.length > 0) logger.warn('streams being synced were not compacted', { busy: busy.map((s) => ({ integrationId: s.integrationId, model: s.model, holder: s.holder })) });
  if (report.notReached > 0) logger.warn('compaction stopped before its timeout; the next one goes on from there', { notReached: report.notReached });
  logger.info('compaction done', {
    runId: report.runId,
    cutoff: report.cutoff,
    rowsRemoved: rows,
    versionsRemoved: total((s) => s.versionsRemoved),
    recordsPurged: total((s) => s.recordsPurged),
    partitionsRewritten: total((s) => s.partitionsRewritten),
    partitionsConsolidated: total((s) => s.partitionsConsolidated),
    filesConsolidated: { before: total((s) => s.filesBefore), after: total((s) => s.filesAfter) },
  });
}
