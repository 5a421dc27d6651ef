/**
 * What a chunk is given and what it comes to: its limits and their defaults, its dependencies, the
 * step its fetch leads to, and its outcome.
 */
import type { KomboClient } from '../kombo/client.ts';
import type { FailureLocation, KomboEtlError } from '../errors.ts';
import type { Catalog, ObjectStore, Queue, StreamMessage, StreamTotals } from '../ports.ts';
import type { PiiOptions } from '../flatten.ts';
import type { StreamMarker } from '../state/runs.ts';
import type { ChunkWorkFactory } from './chunk-work.ts';
import type { PriorState } from './commit.ts';
import type { FaultHook } from './faults.ts';

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
  /** Rows per row group of the files (default `STREAM_ROW_GROUP_ROWS` of `parquet-stream.ts`). */
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

/** How a stream ends without making anything visible. */
export interface StreamEnd {
  readonly status: 'skipped' | 'failed';
  readonly code: string;
  readonly reason: string;
  readonly totals: StreamTotals;
  readonly location?: FailureLocation;
}

/**
 * Where a chunk's fetch leads: the next chunk, a restart from the first page (Kombo rejected the
 * cursor), the stream's end without anything made visible (skipped or failed), or its finish.
 */
export type ChunkStep =
  | { readonly kind: 'continue'; readonly cursor: string; readonly totals: StreamTotals }
  | { readonly kind: 'restart'; readonly error: KomboEtlError; readonly totals: StreamTotals }
  | { readonly kind: 'end'; readonly end: StreamEnd }
  | { readonly kind: 'finish'; readonly totals: StreamTotals; readonly before: PriorState };
