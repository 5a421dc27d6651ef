/**
 * Step 2: process one chunk of a stream. Fetch pages from the message's cursor until the chunk's
 * row or time budget, flatten, write one Parquet file per table under deterministic keys, then send
 * the continuation or finish the stream.
 */
import type { KomboClient } from '../kombo/client.ts';
import type { Catalog, ObjectStore, Queue, StreamMessage, StreamTotals } from '../ports.ts';
import { KomboEtlError, RunFatalError, errorMessage } from '../errors.ts';
import { createBuffers, flattenInto } from '../flatten.ts';
import { encodeParquet } from '../parquet.ts';
import { dataFileKey } from '../warehouse/layout.ts';
import { endStream, finishStream } from './finish.ts';

/** Root records per chunk: files of tens of thousands of rows, well inside Lambda's memory. */
export const DEFAULT_CHUNK_ROWS = 50_000;
/** Wall-clock budget per chunk: far from a Lambda timeout. */
export const DEFAULT_CHUNK_MILLIS = 8 * 60_000;

export interface ChunkLimits {
  readonly maxRows: number;
  readonly maxMillis: number;
  readonly pageSize?: number;
}

export interface ChunkDeps {
  readonly client: Pick<KomboClient, 'listPage' | 'stats'>;
  readonly store: ObjectStore;
  readonly queue: Queue;
  readonly catalog: Catalog;
  readonly limits?: Partial<ChunkLimits>;
  readonly now?: () => Date;
  /** Told after every page, for progress bars and metrics. */
  readonly onPage?: (msg: StreamMessage, records: number) => void;
}

/** What a chunk ended in. */
export type ChunkOutcome = 'continued' | 'done' | 'skipped' | 'failed';

export interface ChunkResult {
  readonly outcome: ChunkOutcome;
  readonly totals: StreamTotals;
  readonly code?: string;
  readonly reason?: string;
}

function addTotals(a: StreamTotals, b: StreamTotals): StreamTotals {
  const rows: Record<string, number> = { ...a.rows };
  for (const [t, n] of Object.entries(b.rows)) rows[t] = (rows[t] ?? 0) + n;
  return {
    pages: a.pages + b.pages,
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    throttles: a.throttles + b.throttles,
    files: a.files + b.files,
    rows,
  };
}

/**
 * Process one chunk. Never throws for a problem of this stream (it ends the stream with a marker
 * instead); throws {@link RunFatalError} for problems that must stop the run, and store/queue errors
 * so that the message is retried.
 */
export async function processChunk(deps: ChunkDeps, msg: StreamMessage): Promise<ChunkResult> {
  const now = deps.now ?? (() => new Date());
  const maxRows = deps.limits?.maxRows ?? DEFAULT_CHUNK_ROWS;
  const maxMillis = deps.limits?.maxMillis ?? DEFAULT_CHUNK_MILLIS;
  const started = Date.now();
  const statsBefore = { ...deps.client.stats };
  const buffers = createBuffers(msg.model);
  let cursor = msg.cursor;
  let pages = 0;
  let records = 0;

  const chunkTotals = (files: number): StreamTotals => ({
    pages,
    requests: deps.client.stats.requests - statsBefore.requests,
    retries: deps.client.stats.retries - statsBefore.retries,
    throttles: deps.client.stats.throttles - statsBefore.throttles,
    files,
    rows: Object.fromEntries(buffers.map((b) => [b.table.name, b.rowCount])),
  });

  try {
    do {
      const page = await deps.client.listPage(msg.integrationId, msg.model, {
        cursor,
        ...(deps.limits?.pageSize !== undefined && { pageSize: deps.limits.pageSize }),
      });
      flattenInto(buffers, page.records);
      pages++;
      records += page.records.length;
      cursor = page.next;
      deps.onPage?.(msg, page.records.length);
    } while (cursor !== null && records < maxRows && Date.now() - started < maxMillis);
  } catch (err) {
    if (err instanceof RunFatalError || !(err instanceof KomboEtlError)) throw err;
    const status = err.kind === 'skippable' ? 'skipped' : 'failed';
    const totals = addTotals(msg.totals, { ...chunkTotals(0), rows: {} });
    await endStream(deps, msg, status, err.code, err.message, totals);
    return { outcome: status, totals, code: err.code, reason: err.message };
  }

  const syncedAt = now().getTime();
  let files = 0;
  for (const buf of buffers) {
    if (buf.rowCount === 0) continue;
    const key = dataFileKey(buf.table.name, msg.snapshotDate, msg.integrationId, msg.runId, msg.chunk);
    await deps.store.put(key, encodeParquet(buf, { runId: msg.runId, syncedAt }));
    files++;
  }
  const totals = addTotals(msg.totals, chunkTotals(files));

  if (cursor !== null) {
    await deps.queue.send({ ...msg, cursor, chunk: msg.chunk + 1, totals });
    return { outcome: 'continued', totals };
  }
  await finishStream(deps, msg, totals);
  return { outcome: 'done', totals };
}

/** For callers that must describe an unexpected error without leaking anything sensitive. */
export function describeFailure(err: unknown): string {
  return err instanceof KomboEtlError ? `${err.code}: ${err.message}` : errorMessage(err);
}
