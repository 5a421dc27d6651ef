/**
 * Change capture state, kept in the warehouse under `_state/<integration>/<model>/`, one folder per
 * stream (integration × model):
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
 * - `lock.json`: the run syncing the stream, so that two runs never sync one stream at once.
 *
 * The index of the records "before date D" (what a sync of D compares against) folds the latest
 * checkpoint before D with the incremental commits after it, so a re-run of D never compares
 * against its own earlier run.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ObjectStore } from '../ports.ts';
import type { Cell } from '../flatten.ts';
import type { ModelName } from '../tables.ts';
import { assertIntegrationId, assertNameSegment, assertRunId, assertSnapshotDate, hiveEscape } from '../warehouse/layout.ts';
import { decodeJson, encodeJson } from './state.ts';

/** How a stream fetches: every record, or those changed since its watermark. */
export type SyncMode = 'full' | 'incremental';

/** Days between full syncs of a stream, unless configured otherwise. */
export const DEFAULT_FULL_EVERY_DAYS = 7;

/**
 * How far before the watermark an incremental fetch starts. Kombo does not say whether
 * `updated_after` is inclusive, and a record may be stamped `changed_at` a little before it becomes
 * visible to a fetch: records changed in this margin are fetched twice, and the hash comparison
 * stores them once.
 */
export const WATERMARK_OVERLAP_MS = 15 * 60_000;

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

/** `_state/<integration>/<model>/`. */
export function streamStatePrefix(integrationId: string, model: string): string {
  return `_state/${hiveEscape(assertIntegrationId(integrationId))}/${assertNameSegment(model)}/`;
}

export const stateKeys = {
  stream: (integrationId: string, model: string) => `${streamStatePrefix(integrationId, model)}stream.json`,
  lock: (integrationId: string, model: string) => `${streamStatePrefix(integrationId, model)}lock.json`,
  index: (integrationId: string, model: string, snapshotDate: string, runId: string) =>
    `${streamStatePrefix(integrationId, model)}index/${assertSnapshotDate(snapshotDate)}-${assertRunId(runId)}.json.gz`,
};

/** The stream's state, or an empty one for a stream never synced. */
export async function readStreamState(store: ObjectStore, integrationId: string, model: ModelName): Promise<StreamState> {
  const body = await store.get(stateKeys.stream(integrationId, model));
  return body ? decodeJson<StreamState>(body) : { integrationId, model, commits: [] };
}

/** The commits before `snapshotDate`: what a sync of that date builds on. */
export function commitsBefore(state: StreamState, snapshotDate: string): StreamCommit[] {
  return state.commits.filter((c) => c.snapshotDate < snapshotDate);
}

/** What the planner decided for one stream. */
export interface StreamModeDecision {
  readonly mode: SyncMode;
  /** `updated_after` to send (ISO 8601), for an incremental stream. */
  readonly updatedAfter?: string;
  /** Why a full sync: `first sync`, `asked`, `last full sync N days ago`. */
  readonly why?: string;
}

const DAY_MS = 86_400_000;
/** Days since 1970-01-01 of a snapshot date. */
const dayNumber = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const daysBetween = (from: string, to: string): number => dayNumber(to) - dayNumber(from);

/**
 * The day of the full-sync cycle that is an integration's own: its streams' periodic full syncs
 * fall on the snapshot dates whose day number (days since 1970-01-01) modulo `every` is this. A
 * hash of the integration id, so that a fleet's full syncs spread evenly over the cycle instead of
 * all falling on the night a week after the first sync.
 */
export function fullSyncDay(integrationId: string, every: number): number {
  return createHash('sha256').update(integrationId).digest().readUInt32BE(0) % every;
}

/** Whether `snapshotDate` is the integration's own day of the full-sync cycle. */
export const isFullSyncDay = (integrationId: string, snapshotDate: string, every: number): boolean =>
  dayNumber(snapshotDate) % every === fullSyncDay(integrationId, every);

/**
 * Full or incremental, for a sync of `snapshotDate`: full when the stream has no commit before that
 * date, when asked, on the integration's own day of the `fullEveryDays` cycle ({@link fullSyncDay}),
 * and when its last full sync before the date is `fullEveryDays` days old or more (its own day was
 * missed); incremental otherwise, from the watermark (the start of the last commit) less the
 * overlap. A stream so syncs in full every `fullEveryDays` days on its integration's day, and once
 * more between its first sync and that day.
 */
export function decideMode(
  state: StreamState,
  snapshotDate: string,
  opts: { readonly full?: boolean; readonly fullEveryDays?: number },
): StreamModeDecision {
  const before = commitsBefore(state, snapshotDate);
  const last = before.at(-1);
  if (last === undefined) return { mode: 'full', why: 'first sync' };
  if (opts.full === true) return { mode: 'full', why: 'asked' };
  const lastFull = before.filter((c) => c.mode === 'full').at(-1);
  const every = opts.fullEveryDays ?? DEFAULT_FULL_EVERY_DAYS;
  if (lastFull === undefined) return { mode: 'full', why: 'no full sync yet' };
  const age = daysBetween(lastFull.snapshotDate, snapshotDate);
  if (age >= every) return { mode: 'full', why: `last full sync ${age} days before` };
  if (isFullSyncDay(state.integrationId, snapshotDate, every)) return { mode: 'full', why: `the integration's day of the ${every}-day cycle` };
  return { mode: 'incremental', updatedAfter: new Date(Date.parse(last.startedAt) - WATERMARK_OVERLAP_MS).toISOString() };
}

/** Read one index file. */
async function readIndexFile(store: ObjectStore, key: string): Promise<IndexRow[]> {
  const body = await store.get(key);
  if (!body) throw new Error(`change capture state is missing ${key}: run the stream with --full to rebuild it`);
  return JSON.parse(gunzipSync(body).toString('utf8')) as IndexRow[];
}

/**
 * The index of every record as stored before `snapshotDate`: the latest full commit before it,
 * then the incremental commits after that one, in date order.
 */
export async function priorIndex(store: ObjectStore, state: StreamState, snapshotDate: string): Promise<RecordIndex> {
  const before = commitsBefore(state, snapshotDate);
  let start = before.length - 1;
  while (start >= 0 && before[start]!.mode !== 'full') start--;
  const index: RecordIndex = new Map();
  for (const commit of before.slice(Math.max(0, start))) {
    for (const [id, h, d, v] of await readIndexFile(store, commit.index)) index.set(id, { h, d: d === 1, v });
  }
  return index;
}

/** Write an index file: the whole index after a full sync, or a sync's own changes. */
export async function writeIndexFile(store: ObjectStore, key: string, entries: Iterable<readonly [string, IndexEntry]>): Promise<void> {
  const rows: IndexRow[] = [];
  for (const [id, e] of entries) rows.push([id, e.h, e.d ? 1 : 0, e.v]);
  await store.put(key, gzipSync(Buffer.from(JSON.stringify(rows), 'utf8')));
}

/**
 * Record a commit: replaces the commit of the same date (a re-run), keeps the others. The caller
 * writes it after the sync's partitions are visible.
 */
export async function writeCommit(store: ObjectStore, state: StreamState, commit: StreamCommit): Promise<StreamState> {
  const commits = [...state.commits.filter((c) => c.snapshotDate !== commit.snapshotDate), commit].sort((a, b) => a.snapshotDate.localeCompare(b.snapshotDate));
  const next: StreamState = { integrationId: state.integrationId, model: state.model, commits };
  await store.put(stateKeys.stream(state.integrationId, state.model), encodeJson(next));
  return next;
}

/**
 * Index files no sync or compaction reads again: those of the commits before the latest full commit
 * dated before the stream's latest commit. A sync of a later date folds the latest full commit and
 * the commits after it; a re-run of the latest date (the only earlier date a sync may take) folds the
 * full commit before it and those after; compaction reads the index after the latest commit. The
 * commits themselves stay listed: their dates, modes and watermarks are the stream's history.
 */
export function unreadIndexFiles(state: StreamState): string[] {
  const last = state.commits.at(-1);
  if (last === undefined) return [];
  const from = state.commits.findLastIndex((c) => c.mode === 'full' && c.snapshotDate < last.snapshotDate);
  return from <= 0 ? [] : state.commits.slice(0, from).map((c) => c.index);
}

/**
 * Columns a version's hash leaves out: the pipeline's own, the raw payload (Kombo does not move
 * `changed_at` when only `remote_data` changes, so an incremental fetch would never see such a
 * change and a full one would: leaving it out keeps both alike) and `changed_at` itself (it moves
 * with any change of the rest).
 */
export const UNHASHED_COLUMNS: ReadonlySet<string> = new Set(['_run_id', '_synced_at', '_is_deleted', 'remote_data', 'changed_at']);

/** A short, stable hash of a record's stored cells (its own row and its child rows, in order). */
export function versionHash(cells: readonly (readonly Cell[])[]): string {
  const hash = createHash('sha256');
  for (const row of cells) hash.update(JSON.stringify(row)).update('\n');
  return hash.digest('base64url').slice(0, 22);
}

/** `lock.json`: the run syncing a stream. */
export interface StreamLock {
  readonly runId: string;
  readonly snapshotDate: string;
  readonly lockedAt: string;
}

/**
 * A lock older than this is taken over: longer than any run (a chain of chunks of 8 minutes each,
 * for the largest ATS), so only a run that died without a word leaves one this old.
 */
export const LOCK_STALE_MS = 24 * 3_600_000;

/** The outcome of taking a stream's lock. */
export type LockOutcome = { readonly taken: true } | { readonly taken: false; readonly holder: StreamLock };

/**
 * Take the stream's lock for `runId`. It is this run's already (a retry, a redelivery), free, or
 * taken over when `isOver(holder)` says the run holding it has ended or it is stale.
 */
export async function takeLock(
  store: ObjectStore,
  integrationId: string,
  model: ModelName,
  lock: StreamLock,
  isOver: (holder: StreamLock) => Promise<boolean>,
): Promise<LockOutcome> {
  const key = stateKeys.lock(integrationId, model);
  if (await store.putIfAbsent(key, encodeJson(lock))) return { taken: true };
  const body = await store.get(key);
  if (!body) return (await store.putIfAbsent(key, encodeJson(lock))) ? { taken: true } : takeLock(store, integrationId, model, lock, isOver);
  const holder = decodeJson<StreamLock>(body);
  if (holder.runId === lock.runId) return { taken: true };
  const stale = Date.parse(lock.lockedAt) - Date.parse(holder.lockedAt) > LOCK_STALE_MS;
  if (stale || (await isOver(holder))) {
    await store.put(key, encodeJson(lock));
    return { taken: true };
  }
  return { taken: false, holder };
}

/** Release the stream's lock if `runId` holds it. */
export async function releaseLock(store: ObjectStore, integrationId: string, model: ModelName, runId: string): Promise<void> {
  const key = stateKeys.lock(integrationId, model);
  const body = await store.get(key);
  if (body && decodeJson<StreamLock>(body).runId === runId) await store.delete([key]);
}

/**
 * `_synced_at` of the versions a sync stores: when its fetch started, kept within its snapshot date
 * (a backfill of an earlier date, or a sync started a little before midnight of its date).
 */
export function versionTime(startedAt: string, snapshotDate: string): number {
  const dayStart = Date.parse(`${snapshotDate}T00:00:00.000Z`);
  return Math.min(Math.max(Date.parse(startedAt), dayStart), dayStart + DAY_MS - 1);
}

/** The code of a stream refused because its warehouse already holds a later date: versions are stored in date order. */
export const OUT_OF_ORDER_CODE = 'STREAM.OUT_OF_ORDER';

/** Why a stream cannot sync `date`, when it already has a sync of `latest`. */
export function outOfOrderReason(date: string, latest: string): string {
  return `this stream already has a sync of ${latest}, after ${date}: versions are stored in date order, so sync ${latest} or a later date`;
}
