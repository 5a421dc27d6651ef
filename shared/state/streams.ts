/**
 * Change capture state, kept under `_state/<integration>/<model>/`, one folder per stream
 * (integration × model):
 *
 * - `stream.json`: the stream's commits, one per snapshot date whose sync completed and became
 *   visible: its run, mode, the time its fetch started on the source's clock (the next watermark)
 *   and the index file of what it stored. Written last, after the partitions are registered, so a
 *   crash can never move the watermark past data that is not stored.
 * - `index/<date>-<run>.json.gz`: what a commit stored, per record id: the hash of its stored
 *   columns, whether the version records a deletion, and the snapshot date of that version. After a
 *   full sync it holds every record known (a checkpoint); after an incremental one, only the
 *   records it stored a version of. Once no sync can read a file again ({@link unreadIndexFiles}),
 *   the commit that made it so deletes it.
 *
 * The index of the records "before date D" folds the latest checkpoint before D with the
 * incremental commits after it. A sync of D compares against it and, when an earlier run already
 * committed D, against that run's index too: a re-run of D builds on what the earlier run stored
 * (its versions and deletions), and never loses them.
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
   * On a re-run of the date: the earlier run's commit of it, which this one built on. Its index
   * file stays until the re-run's stream has ended, so that a finish done again after the commit
   * builds on the very same state.
   */
  readonly rerunOf?: EarlierRun;
}

/** What a re-run keeps of the earlier run of its date. */
export interface EarlierRun {
  readonly runId: string;
  readonly mode: SyncMode;
  readonly index: string;
}

/** `stream.json`. */
export interface StreamState {
  readonly integrationId: string;
  readonly model: ModelName;
  /** Ascending by snapshot date, one per date. */
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

/** The commits before `snapshotDate`: what a sync of that date builds on. */
export function commitsBefore(state: StreamState, snapshotDate: string): StreamCommit[] {
  return state.commits.filter((c) => c.snapshotDate < snapshotDate);
}

/**
 * The earlier run's commit of `snapshotDate` that a sync of the date by `runId` builds on and
 * carries over: the date's commit by another run, or, when `runId` already committed the date (its
 * finish done again after the commit), the one that commit built on. Undefined for a first sync of
 * the date.
 */
export function earlierRunOf(state: StreamState, snapshotDate: string, runId: string): EarlierRun | undefined {
  const c = state.commits.find((x) => x.snapshotDate === snapshotDate);
  if (c === undefined) return undefined;
  return c.runId !== runId ? { runId: c.runId, mode: c.mode, index: c.index } : c.rerunOf;
}

/** An index file a commit names is gone: the stream's change capture state is damaged. */
export class MissingIndexError extends Error {
  constructor(readonly key: string) {
    super(`change capture state is missing ${key}`);
    this.name = 'MissingIndexError';
  }
}

/** The run whose commit of `snapshotDate` the stream holds: the run folder its partitions read. */
export function committedRun(state: StreamState, snapshotDate: string): string | undefined {
  return state.commits.find((c) => c.snapshotDate === snapshotDate)?.runId;
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
 * The index of every record as stored before `snapshotDate`: the latest full commit before it,
 * then the incremental commits after that one, in date order; with `rerunBy`, also the commit of
 * the date itself by another run ({@link earlierRunOf}), which a re-run of the date builds on. When
 * one of their files is gone it throws {@link MissingIndexError}, or, with `ifMissing: 'empty'` (a
 * full sync, which rebuilds the index from what it fetches), answers an empty index: a partial one
 * would compare records with versions that are not their latest.
 */
export async function priorIndex(store: ObjectStore, state: StreamState, snapshotDate: string, opts: { readonly ifMissing?: 'throw' | 'empty'; readonly rerunBy?: string } = {}): Promise<RecordIndex> {
  const earlier = opts.rerunBy === undefined ? undefined : earlierRunOf(state, snapshotDate, opts.rerunBy);
  const before: readonly Pick<StreamCommit, 'mode' | 'index'>[] = [...commitsBefore(state, snapshotDate), ...(earlier ? [earlier] : [])];
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
 * Record a commit: replaces the commit of the same date (a re-run), keeps the others. The caller
 * writes it after the sync's partitions are visible.
 */
export async function writeCommit(store: ObjectStore, state: StreamState, commit: StreamCommit): Promise<StreamState> {
  const commits = [...state.commits.filter((c) => c.snapshotDate !== commit.snapshotDate), commit].sort((a, b) => a.snapshotDate.localeCompare(b.snapshotDate));
  const next: StreamState = { integrationId: state.integrationId, model: state.model, commits };
  await writeStreamState(store, next);
  return next;
}

/**
 * Index files no sync or compaction reads again: those of the commits before the latest full commit
 * dated before the stream's latest commit. A sync of a later date folds the latest full commit and
 * the commits after it; a re-run of the latest date (the only earlier date a sync may take) folds the
 * full commit before it, those after and the date's own; compaction reads the index after the latest commit. The
 * commits themselves stay listed: their dates, modes and watermarks are the stream's history.
 */
export function unreadIndexFiles(state: StreamState): string[] {
  const last = state.commits.at(-1);
  if (last === undefined) return [];
  const from = state.commits.findLastIndex((c) => c.mode === 'full' && c.snapshotDate < last.snapshotDate);
  return from <= 0 ? [] : state.commits.slice(0, from).map((c) => c.index);
}

/**
 * Commit: the stream's new watermark. Afterwards go the index files of earlier runs of the same date,
 * and those this commit made unread ({@link unreadIndexFiles}): a stream keeps the indexes of about
 * two full-sync cycles, not of its whole history. Files a crash left between the commit and the
 * deletion go when compaction trims their commits.
 */
export async function commitStream(store: ObjectStore, state: StreamState, commit: StreamCommit): Promise<void> {
  const next = await writeCommit(store, state, commit);
  // The index of the commit a re-run built on stays until its stream has ended (`rerunOf`).
  const replaced = state.commits.find((c) => c.snapshotDate === commit.snapshotDate && c.index !== commit.index && c.index !== commit.rerunOf?.index);
  const unreadBefore = new Set(unreadIndexFiles(state));
  const unread = unreadIndexFiles(next).filter((k) => !unreadBefore.has(k));
  const stale = [...(replaced ? [replaced.index] : []), ...unread];
  if (stale.length > 0) await store.delete(stale);
}

/**
 * Undo the stream's latest commit (`unsync`): the stream's state without it, and its index file
 * gone. The commit before it is the stream's latest again, with its watermark.
 */
export async function removeLatestCommit(store: ObjectStore, state: StreamState): Promise<StreamState> {
  const last = state.commits.at(-1);
  if (last === undefined) return state;
  const next: StreamState = { integrationId: state.integrationId, model: state.model, commits: state.commits.slice(0, -1) };
  await writeStreamState(store, next);
  await store.delete([last.index, ...(last.rerunOf ? [last.rerunOf.index] : [])]);
  return next;
}
