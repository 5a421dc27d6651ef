/**
 * The fetch of one chunk: pages from the message's cursor until the chunk's row, byte or time
 * budget, each handed to the chunk's work (parsed, compared with its last stored version,
 * flattened and encoded) while the next page is on its way; then the chunk's files and lists are
 * saved, and the step the chunk leads to is named (see `finish.ts`, which takes it).
 *
 * One request ahead: the next page is asked for as soon as its cursor is known, so that the API's
 * latency hides our own work on this page. The client tells the cursor before it parses and
 * validates the page (`onNext`); when it cannot, the page's `next` is used. A page is asked for only
 * when the chunk will take it, so no request is wasted on a guess that holds; `cursor` is always the
 * cursor of the request awaited next.
 */
import { KomboEtlError, RunFatalError, describeLocation } from '../errors.ts';
import type { KomboClient, Page, RawPage, RequestTracker } from '../kombo/client.ts';
import { MAX_PAGE_SIZE } from '../kombo/client.ts';
import { STREAM_ROW_GROUP_ROWS } from '../parquet-stream.ts';
import type { StreamMessage, StreamTotals } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { dataFileKey } from '../warehouse/layout.ts';
import type { VersionEntry } from '../state/chunks.ts';
import { writeChunkLists } from '../state/chunks.ts';
import { saveLayout } from '../state/layouts.ts';
import type { ChunkDeps, ChunkLimits, ChunkStep } from './chunk-types.ts';
import { DEFAULT_CHUNK_MAX_BYTES, DEFAULT_CHUNK_MAX_RECORDS, DEFAULT_CHUNK_MILLIS, DEFAULT_CHUNK_ROWS, DEFAULT_CHUNK_TARGET_ROWS, DEFAULT_STREAM_RETRIES, INVALID_CURSOR_CODE } from './chunk-types.ts';
import type { ChunkWork, PriorEntry } from './chunk-work.ts';
import { inlineChunkWork } from './chunk-work.ts';
import { currentLayout } from './hash-layout.ts';
import type { SharedValue } from '../categories.ts';
import { filtersCategories } from '../categories.ts';
import { readSharedCategories, rememberSharedCategories } from '../state/categories.ts';
import { fetchLabels } from './labels.ts';
import { lookAgain } from './second-look.ts';
import type { OpenedStream } from './open-stream.ts';

/** What bounds a chunk's fetch (see `chunk.ts` for the defaults and why). */
export interface FetchBudget {
  readonly maxRows: number;
  readonly fileRows: number;
  readonly minFileRows: number;
  readonly maxBytes: number;
  readonly maxMillis: number;
  readonly pageSize?: number;
}

export type PageClient = Pick<KomboClient, 'listPage'> & Partial<Pick<KomboClient, 'fetchPage'>>;

/** What the pages of a chunk gave, up to where it stopped. */
export interface FetchedPages {
  /** The cursor of the page after the last one taken; null when the stream has no more. */
  readonly cursor: string | null;
  /** Ids of the records kept (seen for the first time in the stream), in order. */
  readonly kept: readonly string[];
  /** The versions the chunk stores: the kept records that changed. */
  readonly stored: readonly VersionEntry[];
  /** The kept records unchanged under an earlier hash layout: their index entries take this release's hash. */
  readonly rehashed: readonly VersionEntry[];
  readonly pages: number;
  readonly records: number;
  readonly duplicates: number;
  /** Rows per table after the last page taken. */
  readonly tableRows: readonly number[];
  /** Category values that reached the count of shared values in this chunk (`categories.ts`). */
  readonly shared?: readonly SharedValue[];
}

/** The fetch ended on an error: what it had taken until then, and the cursor of the page that failed. */
export interface FetchError extends FetchedPages {
  readonly error: unknown;
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

/** One chunk's pages, fetched and handed to its work. */
class PageFetch {
  private readonly started = Date.now();
  private readonly kept: string[] = [];
  private readonly stored: VersionEntry[] = [];
  private readonly rehashed: VersionEntry[] = [];
  private tableRows: readonly number[];
  private cursor: string | null;
  private current: PageRequest | undefined;
  private pages = 0;
  private records = 0;
  private bytes = 0;
  /** The largest answer so far: what a page asked for ahead is judged to weigh. */
  private largestPage = 0;
  private duplicates = 0;
  private readonly shared: SharedValue[] = [];
  private readonly fetchPage: (...args: Parameters<PageClient['listPage']>) => Promise<Page | RawPage>;

  constructor(
    client: PageClient,
    private readonly msg: StreamMessage,
    private readonly work: ChunkWork,
    private readonly budget: FetchBudget,
    private readonly tracker: RequestTracker,
    tables: number,
    private readonly onPage?: (records: number) => void,
  ) {
    this.tableRows = Array.from({ length: tables }, () => 0);
    this.cursor = msg.cursor;
    // Raw answers when the client gives them, so that the work parses them (perhaps on another thread).
    this.fetchPage = client.fetchPage?.bind(client) ?? client.listPage.bind(client);
  }

  /** Whether `pending` more full pages of the largest size seen would still fit the budget. */
  private within(pending: number): boolean {
    const b = this.budget;
    const pageSize = b.pageSize ?? MAX_PAGE_SIZE;
    return (
      this.records + pending * pageSize < b.maxRows &&
      this.bytes + pending * this.largestPage < b.maxBytes &&
      !filesFull(this.tableRows, b.fileRows, b.minFileRows) &&
      Date.now() - this.started < b.maxMillis
    );
  }

  private ask(from: string | null): PageRequest {
    const req: PageRequest = { cursor: from, dropped: false } as PageRequest;
    req.page = this.fetchPage(this.msg.integrationId, this.msg.model, {
      cursor: from,
      tracker: this.tracker,
      ...(this.msg.sync?.updatedAfter !== undefined && { updatedAfter: this.msg.sync.updatedAfter }),
      ...(this.budget.pageSize !== undefined && { pageSize: this.budget.pageSize }),
      onNext: (next) => this.onNext(req, next),
    });
    return req;
  }

  private onNext(req: PageRequest, next: string | null): void {
    // Told again when an answer broke off after its head and the request was retried: the page
    // asked for on the first telling stands if the cursor is the same, else it goes.
    if (req.next) {
      if (req.next.cursor === next) return;
      drop(req.next);
      delete req.next;
    }
    // Judged as if this page and those asked for before it were full and new: the chunk then still
    // takes the next page under the exact rule in `run`, so reading ahead wastes nothing.
    let pending = 0;
    for (let r = this.current; r; r = r.next) {
      pending++;
      if (r === req) break;
    }
    if (next !== null && this.within(pending) && !req.dropped) req.next = this.ask(next);
  }

  /** Take one page: hand it to the work, count it, and choose the request awaited next. */
  private async take(req: PageRequest): Promise<PageRequest | undefined> {
    const answer = await req.page;
    // Parsed, validated, deduplicated (the first copy of a record wins: an earlier chunk's file
    // cannot be rewritten), flattened and encoded by the work, while the next page is on its way.
    const page = await this.work.page(answer, { integrationId: this.msg.integrationId, model: this.msg.model, cursor: req.cursor });
    const guess = req.next;
    if (guess && guess.cursor !== page.next) drop(guess);
    this.kept.push(...page.fresh);
    this.stored.push(...page.versions);
    this.rehashed.push(...page.rehashed);
    if (page.shared) this.shared.push(...page.shared);
    this.duplicates += page.records - page.fresh.length;
    this.pages++;
    this.records += page.fresh.length;
    this.bytes += answer.bytes ?? 0;
    this.largestPage = Math.max(this.largestPage, answer.bytes ?? 0);
    this.cursor = page.next;
    // Row targets are judged as they were before this page: the page that fills the files may
    // bring one more page along, which is cheaper than waiting for it in the next chunk.
    const more = this.cursor !== null && this.within(0);
    // A page asked for on a guess that held is taken even if this page filled the chunk.
    const next = guess && guess.cursor === this.cursor ? guess : more ? this.ask(this.cursor) : undefined;
    this.tableRows = page.tableRows;
    this.onPage?.(page.records);
    return next;
  }

  private result(): FetchedPages {
    return { cursor: this.cursor, kept: this.kept, stored: this.stored, rehashed: this.rehashed, pages: this.pages, records: this.records, duplicates: this.duplicates, tableRows: this.tableRows, shared: this.shared };
  }

  async run(): Promise<FetchedPages | FetchError> {
    this.current = this.ask(this.cursor);
    try {
      while (this.current) this.current = await this.take(this.current);
      return this.result();
    } catch (error) {
      // A page asked for ahead must not end as an unhandled rejection.
      drop(this.current);
      return { ...this.result(), error };
    }
  }
}

/** Stream totals plus this chunk's: what its pages gave, what its requests cost, the files it wrote. */
function totalsAfter(msg: StreamMessage, fetched: FetchedPages, tracker: RequestTracker, files: number, rows: boolean): StreamTotals {
  const own: Record<string, number> = { ...msg.totals.rows };
  if (rows) tablesForModel(msg.model).forEach((t, i) => (own[t.name] = (own[t.name] ?? 0) + (fetched.tableRows[i] ?? 0)));
  const a = msg.totals;
  return {
    records: (a.records ?? 0) + fetched.records,
    unchanged: (a.unchanged ?? 0) + fetched.records - fetched.stored.length,
    pages: a.pages + fetched.pages,
    requests: a.requests + tracker.stats.requests,
    retries: a.retries + tracker.stats.retries,
    throttles: a.throttles + tracker.stats.throttles,
    files: a.files + files,
    rows: own,
    duplicates: (a.duplicates ?? 0) + fetched.duplicates,
  };
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
 * A page failed: a cursor Kombo rejected on a later page (the filters were fine on page one, so
 * the cursor is at fault) restarts the stream; another Kombo error ends it; anything else, and a
 * problem that must stop the run, is thrown.
 */
function failedStep(msg: StreamMessage, fetched: FetchError, tracker: RequestTracker): ChunkStep {
  const err = fetched.error;
  const totals = totalsAfter(msg, fetched, tracker, 0, false);
  if (fetched.cursor !== null && err instanceof KomboEtlError && err.code === INVALID_CURSOR_CODE) return { kind: 'restart', error: err, totals };
  if (err instanceof RunFatalError || !(err instanceof KomboEtlError)) throw err;
  const where = describeLocation(err.location);
  const reason = where === '' ? err.message : `${err.message} (${where})`;
  return { kind: 'end', end: { status: err.kind === 'skippable' ? 'skipped' : 'failed', code: err.code, reason, totals, ...(err.location && { location: err.location }) } };
}

/** Write the chunk's id and version lists, then its files (one per table with rows). Returns how many files. */
async function saveChunk(deps: ChunkDeps, msg: StreamMessage, fetched: FetchedPages, encoded: readonly (Uint8Array | undefined)[]): Promise<number> {
  await writeChunkLists(deps.store, msg, msg.chunk, fetched.kept, fetched.stored, fetched.rehashed);
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

/**
 * Fetch the chunk's pages into its work, save what they gave, and name the next step: the next
 * chunk, the stream's finish, a restart or its end. Throws for problems that must stop the run and
 * for store errors (the message is then retried).
 */
export async function fetchChunk(deps: ChunkDeps, opened: OpenedStream): Promise<ChunkStep> {
  const { msg } = opened;
  const maxStreamRetries = deps.limits?.maxStreamRetries ?? DEFAULT_STREAM_RETRIES;
  const tracker: RequestTracker = { stats: { requests: 0, retries: 0, throttles: 0 }, retriesLeft: Math.max(0, maxStreamRetries - msg.totals.retries) };
  let labels;
  try {
    labels = await fetchLabels(deps.client, msg.integrationId, msg.model, deps.pii?.mode, tracker);
  } catch (error) {
    return failedStep(msg, { cursor: null, kept: [], stored: [], rehashed: [], pages: 0, records: 0, duplicates: 0, tableRows: [], error }, tracker);
  }
  const shared = filtersCategories(deps.pii?.mode) ? await readSharedCategories(deps.store, msg) : {};
  // Files are encoded a row group at a time while pages arrive (see parquet-stream.ts), by the
  // chunk's work: on this thread, or on a worker thread in the local runner.
  const work = (deps.work ?? inlineChunkWork)({
    model: msg.model,
    runId: msg.runId,
    syncedAt: opened.syncedAt,
    seen: [...opened.seen],
    prior: Array.from(opened.prior, ([id, e]): PriorEntry => [id, e.h, e.d]),
    rowGroupRows: deps.limits?.rowGroupRows ?? STREAM_ROW_GROUP_ROWS,
    ...(deps.pii && { pii: deps.pii }),
    labels,
    shared,
    ...(opened.erased.length > 0 && { erased: { integrationId: msg.integrationId, hashes: opened.erased } }),
    ...(opened.layouts.length > 0 && { layouts: opened.layouts }),
  });
  try {
    const onPage = deps.onPage && ((records: number) => deps.onPage?.(msg, records));
    const listed = await new PageFetch(deps.client, msg, work, budgetOf(deps.limits), tracker, tablesForModel(msg.model).length, onPage).run();
    if ('error' in listed) return failedStep(msg, listed, tracker);
    // The listing's end: a full sync looks again at what it did not return (see second-look.ts).
    const fetched = listed.cursor === null ? await lookAgain(deps.client, opened, work, listed, { tracker, ...(deps.limits?.pageSize !== undefined && { pageSize: deps.limits.pageSize }) }) : listed;
    if ('error' in fetched) return failedStep(msg, fetched, tracker);
    await deps.faultPoint?.('after-fetch', msg);
    // The index this stream commits holds hashes of this release's layout: later releases read its columns here.
    await saveLayout(deps.store, msg, currentLayout(msg.model, deps.pii?.mode), opened.layouts);
    const totals = totalsAfter(msg, fetched, tracker, await saveChunk(deps, msg, fetched, await work.finish()), true);
    if (fetched.shared !== undefined) await rememberSharedCategories(deps.store, msg, shared, fetched.shared);
    return fetched.cursor !== null ? { kind: 'continue', cursor: fetched.cursor, totals } : { kind: 'finish', totals, before: opened };
  } finally {
    work.close();
  }
}
