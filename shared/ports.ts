/**
 * The small ports the pipeline steps are written against. AWS adapters (S3, SQS, Glue) and local
 * adapters (a folder, an in-process queue, DuckDB) implement them and pass the same contract tests.
 */
import type { CatalogTable, ModelName } from './tables.ts';

/** Object storage rooted at the warehouse: keys are relative (`candidates/snapshot_date=…/…`). */
export interface ObjectStore {
  /** Write (or overwrite) an object. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** Write only if the key does not exist yet. Returns false when it already did (someone else won). */
  putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean>;
  /** Read an object, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Read an object with its version tag (S3's ETag), for a later `putIfMatch` or `deleteIfMatch`. */
  getTagged(key: string): Promise<TaggedObject | undefined>;
  /**
   * Replace an object only if it still is the version `etag` names (compare-and-swap). Returns
   * false when it changed or is gone meanwhile (someone else won).
   */
  putIfMatch(key: string, body: Uint8Array | string, etag: string): Promise<boolean>;
  /** Delete an object only if it still is the version `etag` names. Returns false when it changed or is gone. */
  deleteIfMatch(key: string, etag: string): Promise<boolean>;
  /** All keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  /** Delete keys; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Where a key lives, for catalogs and humans: a local path or an `s3://` URI. */
  locate(key: string): string;
}

/** An object's body and the tag of that version. */
export interface TaggedObject {
  readonly body: Uint8Array;
  readonly etag: string;
}

/** One bounded chunk of one stream's chain. */
export interface StreamMessage {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly integrationId: string;
  readonly model: ModelName;
  /** Kombo's opaque cursor; null for the first page. */
  readonly cursor: string | null;
  /** 0-based; names the chunk's files, so a redelivery rewrites the same objects. */
  readonly chunk: number;
  /** Totals of the chunks before this one. */
  readonly totals: StreamTotals;
  /**
   * How often the stream restarted from its first page because Kombo rejected its cursor (absent:
   * never). A restarted chain keeps counting chunks up, so its files and deduplication ids are new.
   */
  readonly restarts?: number;
  /**
   * The chunk its chain began at: absent (0) for the planner's chain, the first chunk of a chain a
   * retry or a cursor restart began. A message of an older chain than the stream's latest is
   * dropped, so an abandoned chain never writes over the one that replaced it.
   */
  readonly chain?: number;
  /** How the stream fetches, as the planner decided (absent: a full sync started when the chunk runs). */
  readonly sync?: StreamSync;
}

/** A stream's sync: full or incremental, and when it started on the source's clock. */
export interface StreamSync {
  readonly mode: 'full' | 'incremental';
  /** `updated_after` of every page (ISO 8601), for an incremental sync. */
  readonly updatedAfter?: string;
  /** When the sync started on the source's clock (ISO 8601): its versions' `_synced_at`, and the next watermark. */
  readonly startedAt: string;
  /**
   * When a retry fetched the stream again (ISO 8601, our clock), later than `startedAt`: its
   * versions' `_synced_at` then, as they hold what Kombo returned at that time. The watermark stays
   * `startedAt`, the earlier.
   */
  readonly fetchedAt?: string;
}

export interface StreamTotals {
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttles: number;
  /** Rows this sync stored per table: its versions (deletion copies included). */
  readonly rows: Readonly<Record<string, number>>;
  /**
   * Rows of earlier syncs of the date copied, as they were, into this sync's folder per table (a
   * date's partition is the folder of its latest sync): not versions of this sync.
   */
  readonly carried?: Readonly<Record<string, number>>;
  readonly files: number;
  /** Records dropped because an earlier page of the stream had already returned them. */
  readonly duplicates?: number;
  /** Records Kombo returned (repeats left out). */
  readonly records?: number;
  /** Records returned unchanged since their last stored version: they add no row. */
  readonly unchanged?: number;
  /** Versions recording a deletion, among the rows of the model's own table. */
  readonly deletions?: number;
}

export const EMPTY_TOTALS: StreamTotals = { pages: 0, requests: 0, retries: 0, throttles: 0, rows: {}, files: 0 };

/** The fetch queue. */
export interface Queue {
  send(message: StreamMessage): Promise<void>;
  /** Send many at once (a planner's first message of every stream); absent: one `send` after another. */
  sendAll?(messages: readonly StreamMessage[]): Promise<void>;
  /**
   * Make a message whose processing failed visible again after a back-off that grows with its
   * attempts, instead of the queue's own retry delay; absent: the queue's default.
   * @param receipt the queue's handle of the delivery that failed.
   */
  backOff?(receipt: string, attempts: number): Promise<void>;
}

/** Send `messages` with the queue's `sendAll` when it has one (batches), else one after another. */
export async function sendAll(queue: Queue, messages: readonly StreamMessage[]): Promise<void> {
  if (queue.sendAll) await queue.sendAll(messages);
  else for (const m of messages) await queue.send(m);
}

/** The table catalog (Glue in AWS, a manifest read by DuckDB locally). */
export interface Catalog {
  /**
   * Register the partition `(snapshotDate, integrationId)` of a table, or repoint it, at a run's
   * folder. After this call, readers see exactly that run's files for the partition.
   */
  registerPartition(table: CatalogTable, snapshotDate: string, integrationId: string, runPrefixKey: string): Promise<void>;
  /** Remove the partition `(snapshotDate, integrationId)` of a table, if registered (`unsync`). */
  removePartition(table: CatalogTable, snapshotDate: string, integrationId: string): Promise<void>;
}
