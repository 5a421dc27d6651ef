/**
 * Step 2: process one chunk of a stream. Fetch pages from the message's cursor (with the stream's
 * `updated_after` on an incremental sync) until the chunk's row or time budget, compare each record
 * with its last stored version, flatten the changed ones, write one Parquet file per table under
 * deterministic keys, then send the continuation or finish the stream.
 *
 * A chunk reads open → fetch → save → continue or finish: the stream's session is opened once
 * (`session.ts`), its pages fetched into the chunk's work (`fetch-pages.ts`), the chunk's files and
 * lists saved, then the continuation sent or the stream finished (`finish.ts`).
 *
 * What makes it safe under at-least-once delivery and a misbehaving API:
 * - the first chunk of a chain takes the stream's lock, so two runs never sync one stream at once;
 * - a message for a stream that already ended does nothing (but completing the run), nor does a
 *   message of a chain a retry or a restart replaced;
 * - records already returned earlier in the stream (a repeated record, on this page or across a
 *   chunk boundary) are dropped by id: each chunk writes the ids it kept next to the run state, and
 *   the next chunks read them;
 * - a cursor Kombo rejects restarts the stream from its first page, a bounded number of times;
 * - retries are bounded per request (the client) and per stream (here), so a 429 loop ends.
 */
import type { KomboClient, RequestTracker } from '../kombo/client.ts';
import type { Catalog, ObjectStore, Queue, StreamMessage, StreamTotals } from '../ports.ts';
import { KomboEtlError, RunFatalError, describeLocation, errorMessage } from '../errors.ts';
import type { PiiOptions } from '../flatten.ts';
import { STREAM_ROW_GROUP_ROWS } from '../parquet-stream.ts';
import { tablesForModel } from '../tables.ts';
import { dataFileKey, runPrefix } from '../warehouse/layout.ts';
import { chunkListKeys, startChain, writeChunkLists } from '../state/chunks.ts';
import type { StreamMarker } from '../state/runs.ts';
import type { ChunkWorkFactory, PriorEntry } from './chunk-work.ts';
import { inlineChunkWork } from './chunk-work.ts';
import type { FaultHook } from './faults.ts';
import type { FetchBudget, FetchError, FetchedPages } from './fetch-pages.ts';
import { fetchPages } from './fetch-pages.ts';
import type { StreamEnd } from './finish.ts';
import { endStream, finishStream } from './finish.ts';
import type { StreamSession } from './session.ts';
import { openStream } from './session.ts';
import { versionTime } from './versions.ts';

/**
 * Chunk sizing. A chunk keeps fetching until the model's own table holds
 * {@link DEFAULT_CHUNK_TARGET_ROWS} rows and every other table it has rows for holds
 * {@link DEFAULT_CHUNK_ROWS} (so a child table sparser than its parent still gets a big file), or
 * until the stream ends, but never past the caps below. Rows are encoded a row group at a time
 * while the chunk fetches (`parquet-stream.ts`): a chunk holds one row group of buffered rows per
 * table (about three times the JSON they came from) plus its encoded files (about an eighth of
 * that JSON), however many rows it takes.
 *
 * Rows a file should hold at least, unless it holds its whole stream.
 */
export const DEFAULT_CHUNK_ROWS = 50_000;
/**
 * Rows of the model's own table a chunk aims at: twice the minimum, so that a stream of up to
 * 100,000 records lands in one file rather than a full one and a small remainder (Kombo gives no
 * counts to split by).
 */
export const DEFAULT_CHUNK_TARGET_ROWS = 2 * DEFAULT_CHUNK_ROWS;
/**
 * Characters of API answers per chunk at most: with unusually large records (big `remote_data`),
 * this ends the chunk before its encoded files (≈ 30 MB here) and its time grow out of bounds.
 */
export const DEFAULT_CHUNK_MAX_BYTES = 256 * 1024 * 1024;
/** Root records per chunk at most, whatever their size. */
export const DEFAULT_CHUNK_MAX_RECORDS = 200_000;
/** Wall-clock budget per chunk: far from a Lambda timeout. */
export const DEFAULT_CHUNK_MILLIS = 8 * 60_000;
/**
 * Retries one stream may spend over all its chunks. With the client's per-request budget (8
 * attempts) this ends a 429 loop after minutes, not hours, with the stream failed under its code.
 */
export const DEFAULT_STREAM_RETRIES = 200;
/** How often a stream may restart from its first page after Kombo rejected its cursor. */
export const DEFAULT_CURSOR_RESTARTS = 3;
/** Kombo's answer to a cursor it no longer accepts (the same filters were accepted on page one). */
export const INVALID_CURSOR_CODE = 'PLATFORM.INPUT_INVALID';

export interface ChunkLimits {
  /** Root records per chunk at most (default {@link DEFAULT_CHUNK_MAX_RECORDS}). */
  readonly maxRows: number;
  /** Rows the model's own table should reach before the chunk ends (default {@link DEFAULT_CHUNK_TARGET_ROWS}). */
  readonly fileRows: number;
  /** Rows every other table with rows should reach before the chunk ends (default {@link DEFAULT_CHUNK_ROWS}). */
  readonly minFileRows: number;
  /** Characters of API answers per chunk at most (default {@link DEFAULT_CHUNK_MAX_BYTES}). */
  readonly maxBytes: number;
  /** Rows per row group of the files (default {@link STREAM_ROW_GROUP_ROWS}). */
  readonly rowGroupRows: number;
  readonly maxMillis: number;
  readonly pageSize?: number;
  /** Retries per stream, all chunks together (default {@link DEFAULT_STREAM_RETRIES}). */
  readonly maxStreamRetries: number;
  /** Restarts from the first page per stream (default {@link DEFAULT_CURSOR_RESTARTS}). */
  readonly maxCursorRestarts: number;
}

export interface ChunkDeps {
  /** With `fetchPage`, pages are parsed and validated by the chunk's work (possibly on another thread). */
  readonly client: Pick<KomboClient, 'listPage' | 'stats'> & Partial<Pick<KomboClient, 'fetchPage'>>;
  readonly store: ObjectStore;
  readonly queue: Queue;
  readonly catalog: Catalog;
  readonly limits?: Partial<ChunkLimits>;
  readonly now?: () => Date;
  /** Told after every page, for progress bars and metrics. */
  readonly onPage?: (msg: StreamMessage, records: number) => void;
  /** What to store in personal-data columns (default: keep). */
  readonly pii?: PiiOptions;
  /** Crash (or race) injection for tests, at each step boundary. */
  readonly faultPoint?: FaultHook;
  /** Where pages are parsed, flattened and encoded (default: on this thread). */
  readonly work?: ChunkWorkFactory;
}

/**
 * What a chunk ended in: the stream goes on (`continued`), restarted from its first page after Kombo
 * rejected its cursor (`restarted`), ended (`done`, `skipped`, `failed`); or the chunk did nothing
 * because the stream had already ended (`redelivered`) or a retry or restart replaced its chain
 * (`superseded`).
 */
export type ChunkResult =
  | StreamEnding
  | { readonly outcome: 'continued' | 'superseded'; readonly totals: StreamTotals }
  | { readonly outcome: 'restarted'; readonly totals: StreamTotals; readonly code: string; readonly reason: string }
  | { readonly outcome: 'redelivered'; readonly totals: StreamTotals; readonly marker: StreamMarker };

/** How this chunk ended its stream. */
export type StreamEnding =
  | { readonly outcome: 'done'; readonly totals: StreamTotals }
  | { readonly outcome: 'skipped' | 'failed'; readonly totals: StreamTotals; readonly code: string; readonly reason: string };

export type ChunkOutcome = ChunkResult['outcome'];

/** Whether the chunk ended its stream (done, skipped or failed), rather than going on or doing nothing. */
export const endedStream = (r: ChunkResult): r is StreamEnding => r.outcome === 'done' || r.outcome === 'skipped' || r.outcome === 'failed';

function addTotals(a: StreamTotals, b: StreamTotals): StreamTotals {
  const rows: Record<string, number> = { ...a.rows };
  for (const [t, n] of Object.entries(b.rows)) rows[t] = (rows[t] ?? 0) + n;
  return {
    records: (a.records ?? 0) + (b.records ?? 0),
    unchanged: (a.unchanged ?? 0) + (b.unchanged ?? 0),
    pages: a.pages + b.pages,
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    throttles: a.throttles + b.throttles,
    files: a.files + b.files,
    rows,
    duplicates: (a.duplicates ?? 0) + (b.duplicates ?? 0),
  };
}

/** The chunk's own totals: what its pages gave, what its requests cost, the files it wrote. */
function chunkTotals(msg: StreamMessage, fetched: FetchedPages, tracker: RequestTracker, files: number, rows: boolean): StreamTotals {
  const tables = tablesForModel(msg.model);
  return {
    records: fetched.records,
    unchanged: fetched.records - fetched.stored.length,
    pages: fetched.pages,
    requests: tracker.stats.requests,
    retries: tracker.stats.retries,
    throttles: tracker.stats.throttles,
    files,
    rows: rows ? Object.fromEntries(fetched.tableRows.map((n, i) => [tables[i]!.name, n])) : {},
    duplicates: fetched.duplicates,
  };
}

/** Kombo rejected the cursor of a later page: the filters were fine on page one, so the cursor is at fault. */
function isInvalidCursor(err: unknown, cursor: string | null): err is KomboEtlError {
  return cursor !== null && err instanceof KomboEtlError && err.code === INVALID_CURSOR_CODE;
}

/** The chunk's fetch budget, from its limits and the defaults. */
function budgetOf(limits: Partial<ChunkLimits> = {}): FetchBudget {
  return {
    maxRows: limits.maxRows ?? DEFAULT_CHUNK_MAX_RECORDS,
    fileRows: limits.fileRows ?? DEFAULT_CHUNK_TARGET_ROWS,
    minFileRows: limits.minFileRows ?? DEFAULT_CHUNK_ROWS,
    maxBytes: limits.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES,
    maxMillis: limits.maxMillis ?? DEFAULT_CHUNK_MILLIS,
    ...(limits.pageSize !== undefined && { pageSize: limits.pageSize }),
  };
}

/**
 * Process one chunk: open the stream, fetch, save, then continue or finish. Never throws for a
 * problem of this stream (it ends the stream with a marker instead); throws {@link RunFatalError}
 * for problems that must stop the run, and store/queue errors so that the message is retried.
 */
export async function processChunk(deps: ChunkDeps, msg: StreamMessage): Promise<ChunkResult> {
  const opening = await openStream(deps, msg);
  if (opening.kind === 'ended') return { outcome: 'redelivered', totals: opening.marker.totals, marker: opening.marker };
  if (opening.kind === 'superseded') return { outcome: 'superseded', totals: msg.totals };
  if (opening.kind === 'refused') return endChunk(deps, msg, { status: 'failed', code: opening.code, reason: opening.reason, totals: msg.totals });
  const { session } = opening;
  const maxStreamRetries = deps.limits?.maxStreamRetries ?? DEFAULT_STREAM_RETRIES;
  const tracker: RequestTracker = { stats: { requests: 0, retries: 0, throttles: 0 }, retriesLeft: Math.max(0, maxStreamRetries - msg.totals.retries) };
  // Files are encoded a row group at a time while pages arrive (see parquet-stream.ts), by the
  // chunk's work: on this thread, or on a worker thread in the local runner.
  const work = (deps.work ?? inlineChunkWork)({
    model: msg.model,
    runId: msg.runId,
    syncedAt: versionTime(session.sync.startedAt, msg.snapshotDate),
    seen: [...session.seen],
    prior: Array.from(session.prior, ([id, e]): PriorEntry => [id, e.h, e.d]),
    rowGroupRows: deps.limits?.rowGroupRows ?? STREAM_ROW_GROUP_ROWS,
    ...(deps.pii && { pii: deps.pii }),
  });
  try {
    const onPage = deps.onPage && ((records: number) => deps.onPage?.(msg, records));
    const fetched = await fetchPages(deps.client, msg, work, budgetOf(deps.limits), tracker, tablesForModel(msg.model).length, onPage);
    if ('error' in fetched) return await fetchFailed(deps, msg, fetched, tracker);
    await deps.faultPoint?.('after-fetch', msg);
    const files = await saveChunk(deps, msg, fetched, await work.finish());
    return await continueOrFinish(deps, session, fetched.cursor, addTotals(msg.totals, chunkTotals(msg, fetched, tracker, files, true)));
  } finally {
    work.close();
  }
}

/** Write the chunk's id and version lists, then its files (one per table with rows). Returns how many files. */
async function saveChunk(deps: ChunkDeps, msg: StreamMessage, fetched: FetchedPages, encoded: readonly (Uint8Array | undefined)[]): Promise<number> {
  await writeChunkLists(deps.store, msg, msg.chunk, fetched.kept, fetched.stored);
  const toWrite = tablesForModel(msg.model).flatMap((table, i) => (encoded[i] ? [{ table, body: encoded[i] }] : []));
  let written = 0;
  for (const { table, body } of toWrite) {
    await deps.store.put(dataFileKey(table.name, msg.snapshotDate, msg.integrationId, msg.runId, msg.chunk), body);
    written++;
    if (written === 1 && toWrite.length > 1) await deps.faultPoint?.('after-some-tables', msg);
  }
  await deps.faultPoint?.('after-all-tables', msg);
  return written;
}

/** Send the next chunk while the stream has pages left, else finish the stream. */
async function continueOrFinish(deps: ChunkDeps, session: StreamSession, cursor: string | null, totals: StreamTotals): Promise<ChunkResult> {
  const { msg } = session;
  if (cursor !== null) {
    await deps.queue.send({ ...msg, cursor, chunk: msg.chunk + 1, totals });
    await deps.faultPoint?.('after-continuation', msg);
    return { outcome: 'continued', totals };
  }
  const done = await finishStream(deps, msg, totals, session);
  await deps.faultPoint?.('after-finish', msg);
  return { outcome: 'done', totals: done };
}

/** A page failed: restart on a rejected cursor, end the stream on a Kombo error, throw anything else. */
async function fetchFailed(deps: ChunkDeps, msg: StreamMessage, fetched: FetchError, tracker: RequestTracker): Promise<ChunkResult> {
  const err = fetched.error;
  const totals = addTotals(msg.totals, chunkTotals(msg, fetched, tracker, 0, false));
  if (isInvalidCursor(err, fetched.cursor)) return restartStream(deps, msg, err, totals);
  if (err instanceof RunFatalError || !(err instanceof KomboEtlError)) throw err;
  const where = describeLocation(err.location);
  const reason = where === '' ? err.message : `${err.message} (${where})`;
  return endChunk(deps, msg, { status: err.kind === 'skippable' ? 'skipped' : 'failed', code: err.code, reason, totals, ...(err.location && { location: err.location }) });
}

/** End the stream skipped or failed, and say so. */
async function endChunk(deps: ChunkDeps, msg: StreamMessage, end: StreamEnd): Promise<ChunkResult> {
  await endStream(deps, msg, end);
  return { outcome: end.status, totals: end.totals, code: end.code, reason: end.reason };
}

/**
 * Kombo rejected the cursor: drop everything this run wrote for the stream and start again from the
 * first page, as a new chain (chunk numbers keep counting up, so no key or deduplication id is
 * reused). After the limit of restarts the stream fails with Kombo's code.
 */
async function restartStream(deps: ChunkDeps, msg: StreamMessage, err: KomboEtlError, totals: StreamTotals): Promise<ChunkResult> {
  const restarts = msg.restarts ?? 0;
  if (restarts >= (deps.limits?.maxCursorRestarts ?? DEFAULT_CURSOR_RESTARTS)) {
    const reason = `Kombo rejected the stream's cursor ${restarts + 1} times (restarted from the first page ${restarts} times): ${err.message}`;
    return endChunk(deps, msg, { status: 'failed', code: err.code, reason, totals, ...(err.location && { location: err.location }) });
  }
  const own: string[] = [];
  for (const table of tablesForModel(msg.model)) own.push(...(await deps.store.list(runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId))));
  await deps.store.delete([...own, ...(await chunkListKeys(deps.store, msg))]);
  const fresh: StreamTotals = { ...totals, rows: {}, files: 0, duplicates: 0, records: 0, unchanged: 0 };
  await startChain(deps.store, msg, msg.chunk + 1);
  await deps.queue.send({ ...msg, cursor: null, chunk: msg.chunk + 1, chain: msg.chunk + 1, restarts: restarts + 1, totals: fresh });
  return { outcome: 'restarted', totals: fresh, code: err.code, reason: 'cursor rejected: the stream restarts from its first page' };
}

/** For callers that must describe an unexpected error without leaking anything sensitive. */
export function describeFailure(err: unknown): string {
  return err instanceof KomboEtlError ? `${err.code}: ${err.message}` : errorMessage(err);
}
