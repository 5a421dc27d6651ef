/**
 * Change capture state, kept under `_state/<integration>/<model>/`, one folder per stream
 * (integration × model):
 *
 * - `stream.json`: the stream's commits, one per completed sync (several a snapshot date when the
 *   stream syncs several times a day), ordered by snapshot date then start: its run, mode, the
 *   time its fetch started on the source's clock (the next watermark) and the index file of what
 *   it stored. Written last, after the partitions are registered, so a crash can never move the
 *   watermark past data that is not stored.
 * - `index/<date>-<run>.json.gz`: what a commit stored, per record id: the hash of its stored
 *   columns, whether the version records a deletion, and the snapshot date of that version. After a
 *   full sync it holds every record known (a checkpoint); after an incremental one, only the
 *   records it stored a version of. Once no sync can read a file again ({@link unreadIndexFiles}),
 *   the commit that made it so deletes it.
 *
 * The index a sync compares against folds the latest checkpoint with every commit after it, of
 * earlier dates and of its own date, but never the sync's own commit (a retry or a finish done
 * again of a run that already committed builds on what the others stored, not on itself).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ObjectStore } from '../ports.ts';
import type { ModelName } from '../tables.ts';
import { MODELS, isModelName } from '../tables.ts';
import { hiveUnescape } from '../warehouse/layout.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { STATE_PREFIX, stateKeys, streamOfStateKey } from './keys.ts';
import type { StreamId } from './ref.ts';

/** How a stream fetches: every record, or those changed since its watermark. */
export type SyncMode = 'full' | 'incremental';

/** One completed, visible sync of a stream. */
export interface StreamCommit {
  readonly snapshotDate: string;
  readonly runId: string;
  readonly mode: SyncMode;
  /** When the fetch started, on the source's clock (ISO 8601): the watermark of the next sync. */
  readonly startedAt: string;
  /** `updated_after` sent (ISO 8601); null on a full sync. */
  readonly updatedAfter: string | null;
  /** Records Kombo returned. */
  readonly records: number;
  /** Versions stored (rows of the model's own table), deletions included. */
  readonly versions: number;
  readonly deletions: number;
  /** Key of the commit's index file. */
  readonly index: string;
  /**
   * Written by releases that kept one commit a date: the commit of the date this one replaced.
   * Read only to remove its index file with the commit.
   */
  readonly rerunOf?: { readonly runId: string; readonly mode: SyncMode; readonly index: string };
}

/** `stream.json`. */
export interface StreamState {
  readonly integrationId: string;
  readonly model: ModelName;
  /** Ascending by snapshot date, then by `startedAt`: one per completed sync. */
  readonly commits: readonly StreamCommit[];
}

/** What the index knows of one record: hash of its stored columns, deleted or not, date of its last version. */
export interface IndexEntry {
  readonly h: string;
  readonly d: boolean;
  readonly v: string;
}

export type RecordIndex = Map<string, IndexEntry>;

/** The index file's body: `[id, hash, deleted (0/1), version date]` per record. */
type IndexRow = readonly [string, string, 0 | 1, string];

/** The stream's state, or an empty one for a stream never synced. */
export async function readStreamState(store: ObjectStore, s: StreamId): Promise<StreamState> {
  const body = await store.get(stateKeys.stream(s.integrationId, s.model));
  return body ? decodeJson<StreamState>(body) : { integrationId: s.integrationId, model: s.model, commits: [] };
}

/** Every stream with change capture state, by integration then model order. */
export async function listStreams(store: ObjectStore): Promise<StreamId[]> {
  const streams: StreamId[] = [];
  for (const key of await store.list(STATE_PREFIX)) {
    const s = streamOfStateKey(key);
    if (s === undefined || !isModelName(s.model)) continue;
    streams.push({ integrationId: hiveUnescape(s.escapedIntegrationId), model: s.model });
  }
  return streams.sort((a, b) => a.integrationId.localeCompare(b.integrationId) || MODELS.indexOf(a.model) - MODELS.indexOf(b.model));
}

/**
 * The commits a sync of `snapshotDate` builds on: those of earlier dates and, with `runId`, those
 * of the date itself by other runs (a sync of the date adds to what they stored).
 */
export function commitsBefore(state: StreamState, snapshotDate: string, runId?: string): StreamCommit[] {
  return state.commits.filter((c) => c.snapshotDate < snapshotDate || (runId !== undefined && c.snapshotDate === snapshotDate && c.runId !== runId));
}

/** Commit order: by snapshot date, then by the start of the sync. */
export const commitOrder = (a: Pick<StreamCommit, 'snapshotDate' | 'startedAt'>, b: Pick<StreamCommit, 'snapshotDate' | 'startedAt'>): number =>
  a.snapshotDate.localeCompare(b.snapshotDate) || Date.parse(a.startedAt) - Date.parse(b.startedAt);

/** An index file a commit names is gone: the stream's change capture state is damaged. */
export class MissingIndexError extends Error {
  constructor(readonly key: string) {
    super(`change capture state is missing ${key}`);
    this.name = 'MissingIndexError';
  }
}

/**
 * The run whose folder the partitions of `snapshotDate` read: that of the date's latest commit,
 * which holds its own versions and every earlier sync's of the date (see `carry-over.ts`).
 */
export function committedRun(state: StreamState, snapshotDate: string): string | undefined {
  return state.commits.findLast((c) => c.snapshotDate === snapshotDate)?.runId;
}

/** Read one index file. */
async function readIndexFile(store: ObjectStore, key: string): Promise<IndexRow[]> {
  const body = await store.get(key);
  if (!body) throw new MissingIndexError(key);
  return JSON.parse(gunzipSync(body).toString('utf8')) as IndexRow[];
}

/** The index a commit stored (its file names it). */
export async function readIndex(store: ObjectStore, key: string): Promise<RecordIndex> {
  return new Map((await readIndexFile(store, key)).map(([id, h, d, v]) => [id, { h, d: d === 1, v }]));
}

/**
 * The index of every record as stored before `snapshotDate` ({@link commitsBefore}; with `runId`,
 * also as the date's commits by other runs stored it): the latest full commit among them, then the
 * commits after it, in order. When one of their files is gone it throws {@link MissingIndexError},
 * or, with `ifMissing: 'empty'` (a full sync, which rebuilds the index from what it fetches),
 * answers an empty index: a partial one would compare records with versions that are not their
 * latest.
 */
export async function priorIndex(store: ObjectStore, state: StreamState, snapshotDate: string, opts: { readonly ifMissing?: 'throw' | 'empty'; readonly runId?: string } = {}): Promise<RecordIndex> {
  const before = commitsBefore(state, snapshotDate, opts.runId);
  let start = before.length - 1;
  while (start >= 0 && before[start]!.mode !== 'full') start--;
  const index: RecordIndex = new Map();
  try {
    for (const commit of before.slice(Math.max(0, start))) {
      for (const [id, h, d, v] of await readIndexFile(store, commit.index)) index.set(id, { h, d: d === 1, v });
    }
  } catch (err) {
    if (err instanceof MissingIndexError && opts.ifMissing === 'empty') return new Map();
    throw err;
  }
  return index;
}

/** Write an index file: the whole index after a full sync, or a sync's own changes. */
export async function writeIndexFile(store: ObjectStore, key: string, entries: Iterable<readonly [string, IndexEntry]>): Promise<void> {
  const rows: IndexRow[] = [];
  for (const [id, e] of entries) rows.push([id, e.h, e.d ? 1 : 0, e.v]);
  await store.put(key, gzipSync(Buffer.from(JSON.stringify(rows), 'utf8')));
}

/** The stream's index files, named by a commit or not. */
export const listIndexFiles = (store: ObjectStore, s: StreamId): Promise<string[]> => store.list(stateKeys.indexPrefix(s.integrationId, s.model));

/** Write the stream's commits as they are (compaction trims them). */
export async function writeStreamState(store: ObjectStore, state: StreamState): Promise<void> {
  await store.put(stateKeys.stream(state.integrationId, state.model), encodeJson(state));
}

/**
 * Record a commit: replaces the commit of the same run and date (a retry or a finish done again),
 * keeps the others, in {@link commitOrder}. The caller writes it after the sync's partitions are
 * visible.
 */
export async function writeCommit(store: ObjectStore, state: StreamState, commit: StreamCommit): Promise<StreamState> {
  const commits = [...state.commits.filter((c) => c.snapshotDate !== commit.snapshotDate || c.runId !== commit.runId), commit].sort(commitOrder);
  const next: StreamState = { integrationId: state.integrationId, model: state.model, commits };
  await writeStreamState(store, next);
  return next;
}

/**
 * Index files no sync or compaction reads again: those of the commits before the latest full commit
 * that precedes the stream's latest commit. A sync by a new run folds the latest full commit and the
 * commits after it; one by the run of the latest commit (a finish done again, a resume) folds the
 * same without its own commit; a sync started before the latest commit is refused (superseded), so
 * no other commit is ever left out of a fold. Compaction reads the index after the latest commit.
 * The commits themselves stay listed: their dates, modes and watermarks are the stream's history.
 */
export function unreadIndexFiles(state: StreamState): string[] {
  const from = state.commits.findLastIndex((c, i) => c.mode === 'full' && i < state.commits.length - 1);
  return from <= 0 ? [] : state.commits.slice(0, from).map((c) => c.index);
}

/**
 * Commit: the stream's new watermark. Afterwards go the index files this commit made unread
 * ({@link unreadIndexFiles}): a stream keeps the indexes of about two full-sync cycles, not of its
 * whole history. Files a crash left between the commit and the deletion go when compaction trims
 * their commits.
 */
export async function commitStream(store: ObjectStore, state: StreamState, commit: StreamCommit): Promise<void> {
  const next = await writeCommit(store, state, commit);
  const unreadBefore = new Set(unreadIndexFiles(state));
  const stale = unreadIndexFiles(next).filter((k) => !unreadBefore.has(k));
  if (stale.length > 0) await store.delete(stale);
}

/**
 * Undo the stream's commits of its latest date (`unsync`): the stream's state without them, and
 * their index files gone. The commit before them is the stream's latest again, with its watermark.
 */
export async function removeLatestDate(store: ObjectStore, state: StreamState): Promise<StreamState> {
  const last = state.commits.at(-1);
  if (last === undefined) return state;
  const gone = state.commits.filter((c) => c.snapshotDate === last.snapshotDate);
  const next: StreamState = { integrationId: state.integrationId, model: state.model, commits: state.commits.filter((c) => c.snapshotDate !== last.snapshotDate) };
  await writeStreamState(store, next);
  await store.delete(gone.flatMap((c) => [c.index, ...(c.rerunOf ? [c.rerunOf.index] : [])]));
  return next;
}
