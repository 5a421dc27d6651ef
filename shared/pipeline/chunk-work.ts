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
import type { CategoryLabels, SharedCategories, SharedValue } from '../categories.ts';
import { CategoryFilter } from '../categories.ts';
import type { FailureLocation } from '../errors.ts';
import type { PiiOptions } from '../flatten.ts';
import { createBuffers, flattenInto, isDeleted } from '../flatten.ts';
import type { Page, RawPage } from '../kombo/client.ts';
import { readPage } from '../kombo/client.ts';
import { errorMessagesFor } from '../kombo/error-text.ts';
import { ParquetFileBuilder } from '../parquet-stream.ts';
import type { ModelName } from '../tables.ts';
import { copiesUsers, tablesForModel } from '../tables.ts';
import type { VersionEntry } from '../state/chunks.ts';
import { erasureHash } from '../state/erased.ts';
import type { HashLayout, LayoutPlan } from './hash-layout.ts';
import { currentLayout, layoutIdOf, legacyLayout, planHash, planLayout, taggedHash } from './hash-layout.ts';

export { UNHASHED_COLUMNS, versionHash } from './hash-layout.ts';

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
  /**
   * The integration's own labels of its category columns (tag names, rejection reason names): outside
   * `keep` mode, a category value is stored when it is one of them or shared by enough records.
   */
  readonly labels?: CategoryLabels;
  /** Category values earlier syncs of the stream found shared by enough records. */
  readonly shared?: SharedCategories;
  /**
   * What is stored of each record before this sync: `[id, hash, deleted]`. A record whose hash and
   * deletion flag match adds no row. Empty on a stream's first sync.
   */
  readonly prior: readonly PriorEntry[];
  /**
   * Records erased on request (`state/erased.ts`): such a record is taken as returned but stores
   * nothing, and an erased user is left out of the records that copy users.
   */
  readonly erased?: { readonly integrationId: string; readonly hashes: readonly string[] };
  /**
   * The hash layouts the stream's index was written under (`state/layouts.ts`): a prior hash of
   * another layout than this release's is compared under its own layout's columns. The legacy
   * layout (untagged hashes) is known without it.
   */
  readonly layouts?: readonly HashLayout[];
}

/** A record as last stored: id, hash of its stored columns, whether that version records a deletion. */
export type PriorEntry = readonly [string, string, boolean];

export type { VersionEntry };

/** What one page added. */
export interface PageOutcome {
  readonly next: string | null;
  /** Records on the page, repeated ones included. */
  readonly records: number;
  /** Ids of the records kept (seen for the first time), in page order. */
  readonly fresh: readonly string[];
  /** The records among them that changed since their last stored version: they are written. */
  readonly versions: readonly VersionEntry[];
  /**
   * The records among them whose stored hash is of an earlier hash layout and whose values did not
   * change: no version, their index entry takes the hash under this release's layout.
   */
  readonly rehashed: readonly VersionEntry[];
  /** Rows per table of the model (in `tablesForModel` order) after this page. */
  readonly tableRows: readonly number[];
  /** Category values that reached the count of shared values on this page (`categories.ts`). */
  readonly shared?: readonly SharedValue[];
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
  private readonly prior: Map<string, PriorEntry>;
  /** Where this release's hash layout reads its cells. */
  private readonly layout: HashLayout;
  private readonly plan: LayoutPlan;
  /** Plans of the earlier layouts prior hashes were made under, by id; undefined for one whose columns are no longer all stored. */
  private readonly earlier: Map<string, LayoutPlan | undefined>;
  private readonly erased: ReadonlySet<string>;
  /** The model's array fields that copy users. */
  private readonly userFields: readonly string[];
  private readonly categories: CategoryFilter;

  constructor(private readonly init: ChunkWorkInit) {
    this.seen = new Set(init.seen);
    this.buffers = createBuffers(init.model);
    this.categories = new CategoryFilter(this.buffers, init.labels ?? {}, init.pii?.mode, init.shared);
    this.files = this.buffers.map((b) => new ParquetFileBuilder(b.table, { runId: init.runId, syncedAt: init.syncedAt }));
    this.prior = new Map(init.prior.map((e) => [e[0], e]));
    this.erased = new Set(init.erased?.hashes ?? []);
    this.userFields = this.erased.size === 0 ? [] : tablesForModel(init.model).filter(copiesUsers).map((t) => t.arrayField!);
    const tables = this.buffers.map((b) => b.table);
    this.layout = currentLayout(init.model, init.pii?.mode);
    this.plan = planLayout(this.layout, tables)!;
    this.earlier = new Map([legacyLayout(init.model), ...(init.layouts ?? [])].map((l) => [l.id, planLayout(l, tables)]));
  }

  /**
   * Whether the record flattened into rows `before` on is a new version (`version`), the same as
   * stored (`same`), or the same under the layout its stored hash was made under (`rehash`), and
   * its entry under this release's layout.
   */
  private decide(record: Record<string, unknown>, before: readonly number[]): [VersionEntry, 'version' | 'same' | 'rehash'] {
    const id = record['id'] as string;
    const entry: VersionEntry = [id, taggedHash(this.layout, planHash(this.plan, this.buffers, before)), isDeleted(record)];
    const prior = this.prior.get(id);
    if (prior === undefined || prior[2] !== entry[2]) return [entry, 'version'];
    if (prior[1] === entry[1]) return [entry, 'same'];
    const layoutId = layoutIdOf(prior[1]);
    const plan = layoutId === this.layout.id ? undefined : this.earlier.get(layoutId);
    if (plan === undefined) return [entry, 'version'];
    return [entry, taggedHash({ id: layoutId }, planHash(plan, this.buffers, before)) === prior[1] ? 'rehash' : 'version'];
  }

  page(input: RawPage | Page, loc: FailureLocation): PageOutcome {
    const page = isRaw(input) ? readPage(input, this.init.model, loc, errorMessagesFor(this.init.pii?.mode ?? 'keep')) : input;
    const fresh = page.records.filter((r) => {
      const id = r['id'] as string;
      if (this.seen.has(id)) return false;
      this.seen.add(id);
      return true;
    });
    const versions: VersionEntry[] = [];
    const rehashed: VersionEntry[] = [];
    // One record at a time: its rows are flattened, hashed, and taken back out when they match what
    // is stored already, so an unchanged record adds no row to any table.
    for (const fetched of fresh) {
      const record = this.withoutErased(fetched);
      if (record === undefined) continue;
      const before = this.buffers.map((b) => b.rowCount);
      flattenInto(this.buffers, [record], this.init.pii);
      this.categories.count(this.buffers, before, record['id'] as string);
      const [entry, outcome] = this.decide(record, before);
      if (outcome === 'version') {
        versions.push(entry);
        continue;
      }
      if (outcome === 'rehash') rehashed.push(entry);
      this.buffers.forEach((b, t) => {
        for (const col of b.columns) col.length = before[t]!;
        b.rowCount = before[t]!;
      });
    }
    this.buffers.forEach((b, i) => {
      if (b.rowCount < this.init.rowGroupRows) return;
      this.categories.apply(this.buffers, i);
      this.files[i]!.append(b);
    });
    const shared = this.categories.takeShared();
    return { next: page.next, records: page.records.length, fresh: fresh.map((r) => r['id'] as string), versions, rehashed, tableRows: this.tableRows(), ...(shared.length > 0 && { shared }) };
  }

  private isErased(id: unknown): boolean {
    return typeof id === 'string' && this.erased.has(erasureHash(this.init.erased!.integrationId, id));
  }

  /** Undefined for an erased record; else the record without the erased users it copies. */
  private withoutErased(record: Record<string, unknown>): Record<string, unknown> | undefined {
    if (this.erased.size === 0) return record;
    if (this.isErased(record['id'])) return undefined;
    let kept = record;
    for (const field of this.userFields) {
      const users = record[field];
      if (!Array.isArray(users)) continue;
      const left = users.filter((u: unknown) => !this.isErased((u as Record<string, unknown> | null)?.['id']));
      if (left.length < users.length) kept = { ...kept, [field]: left };
    }
    return kept;
  }

  tableRows(): number[] {
    return this.buffers.map((b, i) => this.files[i]!.rows + b.rowCount);
  }

  finish(): (Uint8Array | undefined)[] {
    const rows = this.tableRows();
    return this.buffers.map((b, i) => {
      if (rows[i]! === 0) return undefined;
      this.categories.apply(this.buffers, i);
      return this.files[i]!.finish(b);
    });
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

