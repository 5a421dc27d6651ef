/** What the fetcher tells CloudWatch of each chunk: metrics, and one log line per chunk or stream end. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ChunkResult, StreamEnding } from '../../pipeline/chunk.ts';
import { endedStream } from '../../pipeline/chunk.ts';
import type { StreamMessage, StreamTotals } from '../../ports.ts';

const OUTCOME_METRIC: Record<StreamEnding['outcome'], string> = {
  done: 'StreamsDone',
  skipped: 'StreamsSkipped',
  failed: 'StreamsFailed',
};

const rowsOf = (t: StreamTotals): number => Object.values(t.rows).reduce((n, r) => n + r, 0);

/** Count the chunk's pages, rows, retries and throttles, and the stream's end if the chunk ended it. */
export function reportChunk(logger: Logger, metrics: Metrics, msg: StreamMessage, result: ChunkResult): void {
  const before = msg.totals;
  const after = result.totals;
  const rows = rowsOf(after) - rowsOf(before);
  metrics.addMetric('Chunks', MetricUnit.Count, 1);
  metrics.addMetric('Pages', MetricUnit.Count, after.pages - before.pages);
  metrics.addMetric('Rows', MetricUnit.Count, Math.max(0, rows));
  metrics.addMetric('Retries', MetricUnit.Count, after.retries - before.retries);
  metrics.addMetric('Throttles', MetricUnit.Count, after.throttles - before.throttles);
  const where = { runId: msg.runId, integrationId: msg.integrationId, model: msg.model, chunk: msg.chunk };
  if (!endedStream(result)) {
    const said: Record<Exclude<ChunkResult['outcome'], StreamEnding['outcome']>, string> = { continued: 'chunk written, continuation sent', restarted: 'cursor rejected, the stream restarts from its first page', superseded: 'chunk of a replaced chain, nothing done', redelivered: 'stream already ended, nothing done' };
    logger.info(said[result.outcome], { ...where, outcome: result.outcome, pages: after.pages - before.pages, rows });
    return;
  }
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  const summary = { ...where, outcome: result.outcome, ...('code' in result && { code: result.code, reason: result.reason }), totals: after };
  if (result.outcome === 'failed') logger.error('stream failed', summary);
  else logger.info('stream ended', summary);
}
