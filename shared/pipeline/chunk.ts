/**
 * Step 2: process one chunk of a stream. Fetch pages from the message's cursor (with the stream's
 * `updated_after` on an incremental sync) until the chunk's row or time budget, compare each record
 * with its last stored version, flatten the changed ones, write one Parquet file per table under
 * deterministic keys, then send the continuation or finish the stream.
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
import type { KomboClient, Page, RawPage, RequestTracker } from '../kombo/client.ts';
import { MAX_PAGE_SIZE } from '../kombo/client.ts';
import type { Catalog, ObjectStore, Queue, StreamMessage, StreamTotals } from '../ports.ts';
import { KomboEtlError, RunFatalError, describeLocation, errorMessage } from '../errors.ts';
import type { PiiOptions } from '../flatten.ts';
import { STREAM_ROW_GROUP_ROWS } from '../parquet-stream.ts';
import { tablesForModel } from '../tables.ts';
import { assertIntegrationId, chunkOfKey, dataFileKey, hiveEscape, runKeys, runPrefix } from '../warehouse/layout.ts';
import { completeRunIfLast, endStream, finishStream, readMarker, runHasLetGo } from './finish.ts';
import { streamIdsPrefix, streamVersionsPrefix, syncOf, versionsKey } from './commit.ts';
import type { PriorEntry, VersionEntry } from './chunk-work.ts';
import { OUT_OF_ORDER_CODE, outOfOrderReason, priorIndex, readStreamState, takeLock, versionTime } from './versions.ts';
import type { StreamLock } from './versions.ts';
import type { FaultHook } from './state.ts';
import type { ChunkWork, ChunkWorkFactory } from './chunk-work.ts';
import { inlineChunkWork } from './chunk-work.ts';

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

/** What a chunk ended in. */
export type ChunkOutcome = 'continued' | 'done' | 'skipped' | 'failed';

export interface ChunkResult {
  readonly outcome: ChunkOutcome;
  readonly totals: StreamTotals;
  readonly code?: string;
  readonly reason?: string;
  /** Set when the chunk found the stream already ended (a redelivery) and did nothing. */
  readonly alreadyEnded?: boolean;
  /** Set when the chunk restarted the stream from its first page (cursor rejected). */
  readonly restarted?: boolean;
  /** Set when the message belongs to a chain a retry or a restart replaced: it did nothing. */
  readonly abandoned?: boolean;
}

/** `_runs/<run>/chains/<integration>/<model>.json`: the chunk the stream's latest chain began at. */
export const chainKey = (msg: Pick<StreamMessage, 'runId' | 'integrationId' | 'model'>): string =>
  `${runKeys.prefix(msg.runId)}chains/${hiveEscape(assertIntegrationId(msg.integrationId))}/${msg.model}.json`;

/** Record that the stream's chain now begins at `chain`: messages of older chains are dropped from then on. */
export async function startChain(store: ObjectStore, msg: Pick<StreamMessage, 'runId' | 'integrationId' | 'model'>, chain: number): Promise<void> {
  await store.put(chainKey(msg), JSON.stringify({ chain }));
}

/** Whether a newer chain replaced the message's own. */
async function isAbandoned(store: ObjectStore, msg: StreamMessage): Promise<boolean> {
  const body = await store.get(chainKey(msg));
  if (!body) return false;
  const { chain } = JSON.parse(new TextDecoder().decode(body)) as { chain: number };
  return (msg.chain ?? 0) < chain;
}

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

const idsKey = (msg: StreamMessage, chunk: number) => `${streamIdsPrefix(msg)}part-${String(chunk).padStart(5, '0')}.txt`;

/** Ids kept by the chunks before `chunk`, read from what they wrote. */
async function idsBefore(store: ObjectStore, msg: StreamMessage): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const key of await store.list(streamIdsPrefix(msg))) {
    if (!(chunkOfKey(key) < msg.chunk)) continue;
    const body = await store.get(key);
    if (!body) continue;
    for (const id of new TextDecoder().decode(body).split('\n')) if (id !== '') seen.add(id);
  }
  return seen;
}

/** This run's data files and id lists of the stream, optionally only those of chunks before `beforeChunk`. */
async function ownStreamKeys(store: ObjectStore, msg: StreamMessage, beforeChunk = Number.POSITIVE_INFINITY): Promise<string[]> {
  const keys: string[] = [];
  for (const table of tablesForModel(msg.model)) keys.push(...(await store.list(runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId))));
  keys.push(...(await store.list(streamIdsPrefix(msg))));
  keys.push(...(await store.list(streamVersionsPrefix(msg))));
  return keys.filter((k) => chunkOfKey(k) < beforeChunk);
}

/** A page asked for, and the page its answer's head led the chunk to ask for next. */
interface PageRequest {
  readonly cursor: string | null;
  page: Promise<Page | RawPage>;
  next?: PageRequest;
  /** Set when the chunk will not take the page: it then asks for nothing more. */
  dropped: boolean;
}

/** Give up a request and those it led to: none is awaited, none may end as an unhandled rejection. */
function drop(req: PageRequest | undefined): void {
  for (let r = req; r; r = r.next) {
    r.dropped = true;
    r.page.catch(() => undefined);
  }
}

/**
 * Whether the chunk's files are big enough: the model's own table (the first) holds `target` rows
 * and every other table with rows holds `min`.
 */
function filesFull(rows: readonly number[], target: number, min: number): boolean {
  if ((rows[0] ?? 0) < target) return false;
  return rows.every((n) => n === 0 || n >= min);
}

/** Kombo rejected the cursor of a later page: the filters were fine on page one, so the cursor is at fault. */
function isInvalidCursor(err: unknown, cursor: string | null): err is KomboEtlError {
  return cursor !== null && err instanceof KomboEtlError && err.code === INVALID_CURSOR_CODE;
}

/**
 * Process one chunk. Never throws for a problem of this stream (it ends the stream with a marker
 * instead); throws {@link RunFatalError} for problems that must stop the run, and store/queue errors
 * so that the message is retried.
 */
export async function processChunk(deps: ChunkDeps, msg: StreamMessage): Promise<ChunkResult> {
  const now = deps.now ?? (() => new Date());
  const maxRows = deps.limits?.maxRows ?? DEFAULT_CHUNK_MAX_RECORDS;
  const fileRows = deps.limits?.fileRows ?? DEFAULT_CHUNK_TARGET_ROWS;
  const minFileRows = deps.limits?.minFileRows ?? DEFAULT_CHUNK_ROWS;
  const maxBytes = deps.limits?.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES;
  const maxMillis = deps.limits?.maxMillis ?? DEFAULT_CHUNK_MILLIS;
  const maxStreamRetries = deps.limits?.maxStreamRetries ?? DEFAULT_STREAM_RETRIES;
  const maxRestarts = deps.limits?.maxCursorRestarts ?? DEFAULT_CURSOR_RESTARTS;

  // A redelivery after the stream ended (or a late duplicate): nothing to fetch, nothing to write.
  // The run may still lack its completion marker if the first delivery died just before it.
  const ended = await readMarker(deps.store, msg);
  if (ended) {
    await completeRunIfLast(deps.store, msg.runId, now, msg);
    return { outcome: ended.status, totals: ended.totals, alreadyEnded: true, ...(ended.code !== undefined && { code: ended.code }), ...(ended.reason !== undefined && { reason: ended.reason }) };
  }
  // A message of a chain a retry (or a restart) replaced, delivered late: the new chain does its work.
  if (await isAbandoned(deps.store, msg)) return { outcome: 'continued', totals: msg.totals, abandoned: true };
  // The first chunk of a restarted chain: whatever the abandoned chain wrote must go, even files a
  // late redelivery of it may have added after the restart was sent.
  if (msg.cursor === null && msg.chunk > 0) await deps.store.delete(await ownStreamKeys(deps.store, msg, msg.chunk));

  const sync = syncOf(msg, now);
  // The first chunk of a chain takes the stream's lock: one run at a time per stream, so that two
  // runs never compare against, or commit, the same state at once.
  if (msg.cursor === null) {
    const refused = await holdStream(deps, msg, now);
    if (refused) return refused;
  }
  const state = await readStreamState(deps.store, msg.integrationId, msg.model);
  const latest = state.commits.at(-1);
  if (msg.cursor === null && latest !== undefined && latest.snapshotDate > msg.snapshotDate) {
    return refuseStream(deps, msg, OUT_OF_ORDER_CODE, outOfOrderReason(msg.snapshotDate, latest.snapshotDate));
  }
  const prior = await priorIndex(deps.store, state, msg.snapshotDate);

  const started = Date.now();
  const tracker: RequestTracker = { stats: { requests: 0, retries: 0, throttles: 0 }, retriesLeft: Math.max(0, maxStreamRetries - msg.totals.retries) };
  const tables = tablesForModel(msg.model);
  const kept: string[] = [];
  const stored: VersionEntry[] = [];
  // Files are encoded a row group at a time while pages arrive (see parquet-stream.ts), by the
  // chunk's work: on this thread, or on a worker thread in the local runner.
  const work: ChunkWork = (deps.work ?? inlineChunkWork)({
    model: msg.model,
    runId: msg.runId,
    syncedAt: versionTime(sync.startedAt, msg.snapshotDate),
    seen: [...(await idsBefore(deps.store, msg))],
    prior: Array.from(prior, ([id, e]): PriorEntry => [id, e.h, e.d]),
    rowGroupRows: deps.limits?.rowGroupRows ?? STREAM_ROW_GROUP_ROWS,
    ...(deps.pii && { pii: deps.pii }),
  });
  try {
    return await fetchAndWrite();
  } finally {
    work.close();
  }

  async function fetchAndWrite(): Promise<ChunkResult> {
    /** Rows per table after the last page taken. */
    let rowsSoFar: readonly number[] = tables.map(() => 0);
    const tableRows = (): readonly number[] => rowsSoFar;
    let cursor = msg.cursor;
    let pages = 0;
    let records = 0;
    let bytes = 0;
    /** The largest answer so far: what a page asked for ahead is judged to weigh. */
    let largestPage = 0;
    let duplicates = 0;

    const chunkTotals = (files: number): StreamTotals => ({
      records,
      unchanged: records - stored.length,
      pages,
      requests: tracker.stats.requests,
      retries: tracker.stats.retries,
      throttles: tracker.stats.throttles,
      files,
      rows: Object.fromEntries(tableRows().map((n, i) => [tables[i]!.name, n])),
      duplicates,
    });

    // One request ahead: the next page is asked for as soon as its cursor is known, so that the
    // API's latency hides our own work on this page. The client tells the cursor before it parses
    // and validates the page (`onNext`); when it cannot, the page's `next` is used. A page is asked
    // for only when the chunk will take it, so no request is wasted on a guess that holds; `cursor`
    // is always the cursor of the request awaited next.
    const pageSize = deps.limits?.pageSize ?? MAX_PAGE_SIZE;
    let current: PageRequest | undefined;
    // Raw answers when the client gives them, so that the work parses them (perhaps on another thread).
    const fetchPage = deps.client.fetchPage?.bind(deps.client) ?? deps.client.listPage.bind(deps.client);
    const ask = (from: string | null): PageRequest => {
      const req: PageRequest = { cursor: from, dropped: false } as PageRequest;
      req.page = fetchPage(msg.integrationId, msg.model, {
        cursor: from,
        tracker,
        ...(sync.updatedAfter !== undefined && { updatedAfter: sync.updatedAfter }),
        ...(deps.limits?.pageSize !== undefined && { pageSize: deps.limits.pageSize }),
        onNext: (next) => {
          // Told again when an answer broke off after its head and the request was retried: the
          // page asked for on the first telling stands if the cursor is the same, else it goes.
          if (req.next) {
            if (req.next.cursor === next) return;
            drop(req.next);
            delete req.next;
          }
          // Judged as if this page and those asked for before it were full and new: the chunk then
          // still takes the next page under the exact rule below, so reading ahead wastes nothing.
          let pending = 0;
          for (let r = current; r; r = r.next) {
            pending++;
            if (r === req) break;
          }
          const within = records + pending * pageSize < maxRows && bytes + pending * largestPage < maxBytes && !filesFull(tableRows(), fileRows, minFileRows) && Date.now() - started < maxMillis;
          if (next !== null && within && !req.dropped) req.next = ask(next);
        },
      });
      return req;
    };
    current = ask(cursor);
    try {
      while (current) {
        const answer = await current.page;
        // Parsed, validated, deduplicated (the first copy of a record wins: an earlier chunk's file
        // cannot be rewritten), flattened and encoded by the work, while the next page is on its way.
        const page = await work.page(answer, { integrationId: msg.integrationId, model: msg.model, cursor: current.cursor });
        const guess: PageRequest | undefined = current.next;
        if (guess && guess.cursor !== page.next) drop(guess);
        kept.push(...page.fresh);
        stored.push(...page.versions);
        duplicates += page.records - page.fresh.length;
        pages++;
        records += page.fresh.length;
        bytes += answer.bytes ?? 0;
        largestPage = Math.max(largestPage, answer.bytes ?? 0);
        cursor = page.next;
        // Row targets are judged as they were before this page: the page that fills the files may
        // bring one more page along, which is cheaper than waiting for it in the next chunk.
        const more: boolean = cursor !== null && records < maxRows && bytes < maxBytes && !filesFull(tableRows(), fileRows, minFileRows) && Date.now() - started < maxMillis;
        // A page asked for on a guess that held is taken even if this page filled the chunk.
        current = guess && guess.cursor === cursor ? guess : more ? ask(cursor) : undefined;
        rowsSoFar = page.tableRows;
        deps.onPage?.(msg, page.records);
      }
    } catch (err) {
      // A page asked for ahead must not end as an unhandled rejection.
      drop(current);
      if (isInvalidCursor(err, cursor)) return restartStream(deps, msg, err, addTotals(msg.totals, { ...chunkTotals(0), rows: {} }), maxRestarts);
      if (err instanceof RunFatalError || !(err instanceof KomboEtlError)) throw err;
      const status = err.kind === 'skippable' ? 'skipped' : 'failed';
      const totals = addTotals(msg.totals, { ...chunkTotals(0), rows: {} });
      const where = describeLocation(err.location);
      const reason = where === '' ? err.message : `${err.message} (${where})`;
      await endStream(deps, msg, status, err.code, reason, totals, err.location);
      return { outcome: status, totals, code: err.code, reason };
    }
    await deps.faultPoint?.('after-fetch', msg);

    await deps.store.put(idsKey(msg, msg.chunk), kept.join('\n'));
    await deps.store.put(versionsKey(msg, msg.chunk), JSON.stringify(stored));
    const finished = await work.finish();
    let written = 0;
    const toWrite = tables.flatMap((table, i) => (finished[i] ? [{ table, body: finished[i] }] : []));
    for (const { table, body } of toWrite) {
      const key = dataFileKey(table.name, msg.snapshotDate, msg.integrationId, msg.runId, msg.chunk);
      await deps.store.put(key, body);
      written++;
      if (written === 1 && toWrite.length > 1) await deps.faultPoint?.('after-some-tables', msg);
    }
    await deps.faultPoint?.('after-all-tables', msg);
    const totals = addTotals(msg.totals, chunkTotals(written));

    if (cursor !== null) {
      await deps.queue.send({ ...msg, cursor, chunk: msg.chunk + 1, totals });
      await deps.faultPoint?.('after-continuation', msg);
      return { outcome: 'continued', totals };
    }
    const done = await finishStream(deps, msg, totals, { state, prior });
    await deps.faultPoint?.('after-finish', msg);
    return { outcome: 'done', totals: done };
  }
}

/** Another run holds the stream and has not ended it. */
export const BUSY_CODE = 'STREAM.BUSY';

/** Take the stream's lock; the stream's end when another run holds it and has not let go. */
async function holdStream(deps: ChunkDeps, msg: StreamMessage, now: () => Date): Promise<ChunkResult | undefined> {
  const lock: StreamLock = { runId: msg.runId, snapshotDate: msg.snapshotDate, lockedAt: now().toISOString() };
  const taken = await takeLock(deps.store, msg.integrationId, msg.model, lock, (holder) => runHasLetGo(deps.store, holder.runId, msg));
  if (taken.taken) return undefined;
  const reason = `run ${taken.holder.runId} (snapshot ${taken.holder.snapshotDate}) is syncing this stream and has not finished it: this run did not sync it; retry this run once that one has ended`;
  return refuseStream(deps, msg, BUSY_CODE, reason);
}

/** End the stream failed before it fetched anything. */
async function refuseStream(deps: ChunkDeps, msg: StreamMessage, code: string, reason: string): Promise<ChunkResult> {
  await endStream(deps, msg, 'failed', code, reason, msg.totals);
  return { outcome: 'failed', totals: msg.totals, code, reason };
}

/**
 * Kombo rejected the cursor: drop everything this run wrote for the stream and start again from the
 * first page, as a new chain (chunk numbers keep counting up, so no key or deduplication id is
 * reused). After `maxRestarts` restarts the stream fails with Kombo's code.
 */
async function restartStream(deps: ChunkDeps, msg: StreamMessage, err: KomboEtlError, totals: StreamTotals, maxRestarts: number): Promise<ChunkResult> {
  const restarts = msg.restarts ?? 0;
  if (restarts >= maxRestarts) {
    const reason = `Kombo rejected the stream's cursor ${restarts + 1} times (restarted from the first page ${restarts} times): ${err.message}`;
    await endStream(deps, msg, 'failed', err.code, reason, totals, err.location);
    return { outcome: 'failed', totals, code: err.code, reason };
  }
  await deps.store.delete(await ownStreamKeys(deps.store, msg));
  const fresh: StreamTotals = { ...totals, rows: {}, files: 0, duplicates: 0, records: 0, unchanged: 0 };
  await startChain(deps.store, msg, msg.chunk + 1);
  await deps.queue.send({ ...msg, cursor: null, chunk: msg.chunk + 1, chain: msg.chunk + 1, restarts: restarts + 1, totals: fresh });
  return { outcome: 'continued', totals: fresh, restarted: true, code: err.code, reason: 'cursor rejected: the stream restarts from its first page' };
}

/** For callers that must describe an unexpected error without leaking anything sensitive. */
export function describeFailure(err: unknown): string {
  return err instanceof KomboEtlError ? `${err.code}: ${err.message}` : errorMessage(err);
}
