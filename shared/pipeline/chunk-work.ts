/**
 * The CPU side of a chunk: parse and validate each page, drop records already seen in the stream,
 * flatten the rest into the model's tables and encode them into Parquet a row group at a time.
 * `processChunk` keeps the rest (requests, limits, state, writes).
 *
 * {@link InlineChunkWork} does it on the calling thread, as a Lambda fetcher does (one chunk per
 * process). The local runner can hand it to worker threads instead (`adapters/local/chunk-threads.ts`),
 * so that one thread only waits on Kombo: with many streams in one process, a page's parsing or a
 * row group's encoding would otherwise hold back every other stream's next request.
 */
import type { FailureLocation } from '../errors.ts';
import type { PiiOptions } from '../flatten.ts';
import { createBuffers, flattenInto } from '../flatten.ts';
import type { Page, RawPage } from '../kombo/client.ts';
import { readPage } from '../kombo/client.ts';
import { ParquetFileBuilder } from '../parquet-stream.ts';
import type { ModelName } from '../tables.ts';

/** What a chunk's work needs to start. Plain data, so that it can cross to a worker thread. */
export interface ChunkWorkInit {
  readonly model: ModelName;
  readonly runId: string;
  /** `_synced_at` of every row, epoch milliseconds. */
  readonly syncedAt: number;
  /** Ids the stream returned in earlier chunks: a repeated record keeps its first copy. */
  readonly seen: readonly string[];
  readonly rowGroupRows: number;
  readonly pii?: PiiOptions;
}

/** What one page added. */
export interface PageOutcome {
  readonly next: string | null;
  /** Records on the page, repeated ones included. */
  readonly records: number;
  /** Ids of the records kept (seen for the first time), in page order. */
  readonly fresh: readonly string[];
  /** Rows per table of the model (in `tablesForModel` order) after this page. */
  readonly tableRows: readonly number[];
}

/** One chunk's parsing, flattening and encoding. */
export interface ChunkWork {
  /** Take one page: a raw answer (parsed and validated here) or a page a client already read. */
  page(input: RawPage | Page, loc: FailureLocation): Promise<PageOutcome>;
  /** The finished Parquet file of every table, in `tablesForModel` order; undefined for a table without rows. */
  finish(): Promise<(Uint8Array | undefined)[]>;
  /** Let go of whatever the work holds (after finish, or when the chunk gives up). */
  close(): void;
}

export type ChunkWorkFactory = (init: ChunkWorkInit) => ChunkWork;

const isRaw = (input: RawPage | Page): input is RawPage => typeof (input as RawPage).text === 'string';

/** The synchronous core, shared by {@link InlineChunkWork} and the worker threads. */
export class ChunkWorkCore {
  private readonly seen: Set<string>;
  private readonly buffers;
  private readonly files: ParquetFileBuilder[];

  constructor(private readonly init: ChunkWorkInit) {
    this.seen = new Set(init.seen);
    this.buffers = createBuffers(init.model);
    this.files = this.buffers.map((b) => new ParquetFileBuilder(b.table, { runId: init.runId, syncedAt: init.syncedAt }));
  }

  page(input: RawPage | Page, loc: FailureLocation): PageOutcome {
    const page = isRaw(input) ? readPage(input, this.init.model, loc) : input;
    const fresh = page.records.filter((r) => {
      const id = r['id'] as string;
      if (this.seen.has(id)) return false;
      this.seen.add(id);
      return true;
    });
    flattenInto(this.buffers, fresh, this.init.pii);
    this.buffers.forEach((b, i) => {
      if (b.rowCount >= this.init.rowGroupRows) this.files[i]!.append(b);
    });
    return { next: page.next, records: page.records.length, fresh: fresh.map((r) => r['id'] as string), tableRows: this.tableRows() };
  }

  tableRows(): number[] {
    return this.buffers.map((b, i) => this.files[i]!.rows + b.rowCount);
  }

  finish(): (Uint8Array | undefined)[] {
    const rows = this.tableRows();
    return this.buffers.map((b, i) => (rows[i]! > 0 ? this.files[i]!.finish(b) : undefined));
  }
}

/** The work done on the calling thread. */
export class InlineChunkWork implements ChunkWork {
  private readonly core: ChunkWorkCore;

  constructor(init: ChunkWorkInit) {
    this.core = new ChunkWorkCore(init);
  }

  page(input: RawPage | Page, loc: FailureLocation): Promise<PageOutcome> {
    try {
      return Promise.resolve(this.core.page(input, loc));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  finish(): Promise<(Uint8Array | undefined)[]> {
    return Promise.resolve(this.core.finish());
  }

  close(): void {}
}

export const inlineChunkWork: ChunkWorkFactory = (init) => new InlineChunkWork(init);
