/**
 * Retention for a warehouse of versions. A record unchanged for two years has its only row in a
 * two-year-old partition, so partitions cannot expire by age: compaction removes what the retention
 * no longer needs and keeps the rest where it is.
 *
 * With a retention of R days, the cutoff is `today − R`. For each stream (integration × model),
 * in every partition dated before the cutoff it keeps, per record, only the version that was
 * current at the cutoff (the latest version before it), and none at all when that version records
 * a deletion. So:
 * - a current version is never removed unless it records a deletion older than the cutoff;
 * - a superseded version goes once a later version before the cutoff replaces it;
 * - a record deleted before the cutoff loses every row (personal data of deleted candidates ends
 *   R days after their deletion version);
 * - any point in time from the cutoff on reads exactly as before (`_history`, `_latest`), and an
 *   application's stretch in a stage under way at the cutoff keeps its first version, so it starts
 *   (or stays of unknown start) as before.
 * Child rows follow their parent's version. `erase` removes every version of the given record ids,
 * whatever their date, and an erased user's copies in other records' child rows.
 *
 * Before the retention, the partitions of dates that are over (before `today`) and hold more than
 * one file per table are consolidated into one file per 50,000 rows (`consolidate.ts`).
 *
 * A partition is rewritten as a new run folder, registered, and only then are the old files
 * deleted, as a sync's partition is; a journal makes a rewrite cut short finish (or vanish) at the
 * next compaction. Partitions are rewritten in date order, children before their parent, so that a
 * compaction cut short anywhere never leaves a record whose latest remaining version is older than
 * before.
 *
 * State per stream, next to the sync's: `retained.json.gz` (the cutoff of the last compaction and,
 * per record, the date of the version it kept before that cutoff), so a compaction reads only the
 * partitions that aged past the cutoff since the last one, and the partitions the retained
 * versions of their records live in. Commits of `stream.json` older than the latest full commit
 * before the cutoff, their index files, and run state (`_runs/`) older than the cutoff go too.
 */
import type { Catalog, ObjectStore } from '../ports.ts';
import type { ModelName, ModelTableDef } from '../tables.ts';
import { copiesUsers, tableByName, tablesForModel } from '../tables.ts';
import { retentionCutoff } from '../retention.ts';
import { DAY_MS, assertIntegrationId, newRunId } from '../warehouse/layout.ts';
import { clearPendingRewrite, readCompactionCursor, readPendingRewrite, readRetained, takeLeftBehind, writeCompactionCursor, writeRetained } from '../state/compaction.ts';
import type { RetainedState } from '../state/compaction.ts';
import { rememberErased } from '../state/erased.ts';
import type { StreamLock } from '../state/lock.ts';
import { releaseLock, takeLock } from '../state/lock.ts';
import { removeRunsBefore, runHasLetGo } from '../state/runs.ts';
import type { RecordIndex, StreamCommit, StreamState } from '../state/streams.ts';
import { committedRun, listIndexFiles, listStreams, priorIndex, readStreamState, writeStreamState } from '../state/streams.ts';
import type { Row } from './partition-rows.ts';
import { COMPACTION_RUN_PREFIX, parquetCell, readPartition, recordKeyColumn } from './partition-rows.ts';
import type { Consolidation } from './consolidate.ts';
import { consolidateStream, swapPartition } from './consolidate.ts';

export { COMPACTION_RUN_PREFIX } from './partition-rows.ts';

/** A compaction run id: `compact-20261123T140000Z-a1b2c3`. */
export function newCompactionRunId(now: Date = new Date()): string {
  return `${COMPACTION_RUN_PREFIX}${newRunId(now)}`;
}

/**
 * A compaction holds a stream for seconds to minutes; a compaction lock older than this belongs
 * to one that died (a Lambda past its timeout), and the next compaction takes it over. Syncs take
 * over any lock after `LOCK_STALE_MS`.
 */
export const COMPACTION_LOCK_STALE_MS = 3_600_000;


export interface CompactRequest {
  /** Names the new run folders of rewritten partitions: see {@link newCompactionRunId}. */
  readonly runId: string;
  /** The date the retention counts back from (`YYYY-MM-DD`). */
  readonly today: string;
  /** Days of history kept whole; 0 keeps every version (see `retention.ts`). */
  readonly retentionDays: number;
  /** Only these integrations' streams (default: every stream the warehouse holds). */
  readonly integrationIds?: readonly string[];
  /** Record ids whose every version goes, whatever its date (an erasure request). */
  readonly erase?: readonly string[];
  /** Remove `_runs/<run>/` folders of runs dated before the cutoff (default true). */
  readonly removeRuns?: boolean;
  /** Asked before each stream: true leaves the streams not reached for the next compaction. */
  readonly shouldStop?: () => boolean;
  /**
   * Start with the stream a compaction stopped at last time (`shouldStop`), and remember where this
   * one stops, so that a compaction too large for one go covers every stream over a few.
   */
  readonly resume?: boolean;
}

export interface CompactDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly now?: () => Date;
}

/** What became of one stream. */
export type StreamCompactionStatus = 'compacted' | 'busy';

export interface StreamCompaction {
  readonly integrationId: string;
  readonly model: ModelName;
  readonly status: StreamCompactionStatus;
  /** The run holding the stream, when busy. */
  readonly holder?: string;
  /** Rows removed per table. */
  readonly rowsRemoved: Readonly<Record<string, number>>;
  /** Superseded versions removed (rows of the model's own table). */
  readonly versionsRemoved: number;
  /** Records whose every version went: deleted before the cutoff, or erased. */
  readonly recordsPurged: number;
  readonly partitionsRewritten: number;
  /** Rewritten partitions left with no row. */
  readonly partitionsEmptied: number;
  readonly commitsTrimmed: number;
  readonly indexFilesRemoved: number;
  /** Partitions of dates that are over rewritten into one file per 50,000 rows (see `consolidate.ts`), and their files before and after. */
  readonly partitionsConsolidated: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
}

const NOT_CONSOLIDATED: Consolidation = { partitionsConsolidated: 0, filesBefore: 0, filesAfter: 0 };

export interface CompactionReport {
  readonly runId: string;
  /** Partitions of dates before this were consolidated. */
  readonly today: string;
  readonly retentionDays: number;
  /** Partitions dated before this were compacted. */
  readonly cutoff: string;
  readonly streams: readonly StreamCompaction[];
  /** `_runs/<run>/` folders removed. */
  readonly runsRemoved: readonly string[];
  /** Streams not reached because `shouldStop` said so. */
  readonly notReached: number;
}

/**
 * Compact every stream (or those of `integrationIds`), then remove old run state. A stream another
 * run is syncing is left alone (`busy`) until the next compaction.
 */
export async function compactWarehouse(deps: CompactDeps, req: CompactRequest): Promise<CompactionReport> {
  const cutoff = retentionCutoff(req.today, req.retentionDays);
  const only = req.integrationIds === undefined ? undefined : new Set(req.integrationIds.map(assertIntegrationId));
  let streams = (await listStreams(deps.store)).filter((s) => only === undefined || only.has(s.integrationId));
  const streamKey = (s: { readonly integrationId: string; readonly model: string }) => `${s.integrationId}/${s.model}`;
  if (req.resume === true) {
    const next = await readCompactionCursor(deps.store);
    const from = next === undefined ? 0 : Math.max(0, streams.findIndex((s) => streamKey(s) >= next));
    streams = [...streams.slice(from), ...streams.slice(0, from)];
  }
  const erase = new Set(req.erase ?? []);
  // Remembered first: a sync that starts from now on drops these records, whatever Kombo still serves.
  if (erase.size > 0) await rememberErased(deps.store, [...new Set([...(only ?? []), ...streams.map((s) => s.integrationId)])], [...erase]);
  const done: StreamCompaction[] = [];
  let notReached = 0;
  for (const { integrationId, model } of streams) {
    if (req.shouldStop?.() === true) {
      notReached = streams.length - done.length;
      break;
    }
    done.push(await compactStream(deps, req.runId, integrationId, model, cutoff, erase, req.today));
  }
  if (req.resume === true) {
    await writeCompactionCursor(deps.store, notReached > 0 ? streamKey(streams[done.length]!) : undefined);
  }
  const runsRemoved = req.removeRuns === false || notReached > 0 ? [] : await removeRunsBefore(deps.store, cutoff);
  return { runId: req.runId, today: req.today, retentionDays: req.retentionDays, cutoff, streams: done, runsRemoved, notReached };
}

/** Whether the run holding a lock has let go of the stream (or died). */
async function holderIsOver(store: ObjectStore, integrationId: string, model: ModelName, holder: StreamLock, now: Date): Promise<boolean> {
  if (holder.runId.startsWith(COMPACTION_RUN_PREFIX)) return now.getTime() - Date.parse(holder.lockedAt) > COMPACTION_LOCK_STALE_MS;
  return runHasLetGo(store, holder.runId, { integrationId, model });
}

/** Compact one stream under its lock. */
export async function compactStream(deps: CompactDeps, runId: string, integrationId: string, model: ModelName, cutoff: string, erase: ReadonlySet<string>, today?: string): Promise<StreamCompaction> {
  const now = deps.now ?? (() => new Date());
  const lock: StreamLock = { runId, snapshotDate: cutoff, lockedAt: now().toISOString() };
  const taken = await takeLock(deps.store, { integrationId, model }, lock, (holder) => holderIsOver(deps.store, integrationId, model, holder, now()));
  const empty = { rowsRemoved: {}, versionsRemoved: 0, recordsPurged: 0, partitionsRewritten: 0, partitionsEmptied: 0, commitsTrimmed: 0, indexFilesRemoved: 0, ...NOT_CONSOLIDATED };
  if (!taken.taken) return { integrationId, model, status: 'busy', holder: taken.holder.runId, ...empty };
  try {
    await finishPendingRewrite(deps, integrationId, model);
    await takeLeftBehind(deps.store, { integrationId, model });
    // Dates that are over first, in folders of their own: the retention then rewrites what it drops from.
    const consolidated = today === undefined ? NOT_CONSOLIDATED : await consolidateStream(deps, `${runId}-whole`, integrationId, model, today);
    return { integrationId, model, status: 'compacted', ...(await compactHeld(deps, runId, integrationId, model, cutoff, erase)), ...consolidated };
  } finally {
    await releaseLock(deps.store, { integrationId, model }, runId);
  }
}

/** A rewrite cut short: roll it forward when its new files are all there, else drop them. */
async function finishPendingRewrite(deps: CompactDeps, integrationId: string, model: ModelName): Promise<void> {
  const p = await readPendingRewrite(deps.store, { integrationId, model });
  if (p === undefined) return;
  const present = await deps.store.list(p.prefix);
  const table = tableByName(p.table);
  if (table !== undefined && p.written.every((k) => present.includes(k))) {
    await deps.catalog.registerPartition(table, p.snapshotDate, integrationId, p.prefix);
    await deps.store.delete(p.obsolete);
  } else {
    await deps.store.delete(present);
  }
  await clearPendingRewrite(deps.store, { integrationId, model });
}

/** A record's version that was current at the cutoff. */
interface AtCutoff {
  readonly date: string;
  readonly deleted: boolean;
  /** Date of the first version of the stretch it belongs to (its own date when it starts one). */
  readonly start: string;
  /** What the versions of its stretch share, for a model with stretches. */
  readonly stretch?: string;
}

/** Whether compaction keeps the version of `date` of a record whose version at the cutoff is `at`. */
const keeps = (at: AtCutoff, date: string): boolean => !at.deleted && (at.date === date || at.start === date);

/**
 * Models whose views read when a stretch of versions began: consecutive versions of an application
 * in the same state and stage are one stretch in a stage, entered on the first one's date
 * (`application_stage_history`, `hiring_funnel`). Compaction keeps the first version of the stretch
 * under way at the cutoff next to the one current then, so that its start, known or unknown (the
 * integration's first sync), reads as before.
 */
const STRETCHES: Partial<Record<ModelName, { readonly columns: readonly string[]; readonly key: (r: Row) => string }>> = {
  applications: {
    columns: ['outcome', 'current_stage_id', 'remote_deleted_at'],
    key: (r) => {
      const deleted = (r['_is_deleted'] as boolean | null) ?? (r['remote_deleted_at'] !== null && r['remote_deleted_at'] !== undefined);
      const state = deleted ? 'DELETED' : r['outcome'] === null || r['outcome'] === undefined || r['outcome'] === 'PENDING' ? 'OPEN' : 'CLOSED';
      return `${state}\u0000${String(r['current_stage_id'] ?? '')}`;
    },
  },
};

/** Rows ordered by `_synced_at` (stable: rows of one sync keep their order). */
const inSyncOrder = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => Number(parquetCell(a['_synced_at'])) - Number(parquetCell(b['_synced_at'])));

/**
 * Per record, its version current at the cutoff: the retained one, unless a partition that aged
 * since holds a later one; and the ids each aged partition holds.
 */
async function versionsAtCutoff(store: ObjectStore, own: ModelTableDef, integrationId: string, state: StreamState, retained: RetainedState['retained'], aged: readonly string[]) {
  const stretch = STRETCHES[own.model];
  const atCutoff = new Map<string, AtCutoff>();
  for (const [id, date, start, key] of retained) atCutoff.set(id, { date, deleted: false, start: start ?? date, ...(key !== undefined && { stretch: key }) });
  const agedIds = new Map<string, string[]>();
  for (const date of aged) {
    const { rows } = await readPartition(store, own, date, integrationId, committedRun(state, date), ['id', '_is_deleted', '_synced_at', ...(stretch?.columns ?? [])]);
    // A date synced several times holds several versions of a record: the latest comes last.
    for (const r of inSyncOrder(rows)) {
      const id = r['id'] as string;
      const key = stretch?.key(r);
      const prev = atCutoff.get(id);
      const start = key !== undefined && prev?.stretch === key ? prev.start : date;
      atCutoff.set(id, { date, deleted: r['_is_deleted'] === true, start, ...(key !== undefined && { stretch: key }) });
    }
    agedIds.set(date, rows.map((r) => r['id'] as string));
  }
  return { atCutoff, agedIds };
}

/** Per date, the ids whose rows there go, and the records whose every version goes. */
async function plannedDrops(store: ObjectStore, own: ModelTableDef, integrationId: string, state: StreamState, retained: RetainedState['retained'], aged: readonly string[], recent: readonly string[], erase: ReadonlySet<string>) {
  const { atCutoff, agedIds } = await versionsAtCutoff(store, own, integrationId, state, retained, aged);
  const drops = new Map<string, Set<string>>();
  const drop = (date: string, id: string) => {
    const ids = drops.get(date) ?? new Set<string>();
    ids.add(id);
    drops.set(date, ids);
  };
  for (const [id, date, start] of retained) {
    const at = atCutoff.get(id)!;
    for (const d of new Set([date, start ?? date])) if (!keeps(at, d) || erase.has(id)) drop(d, id);
  }
  const purged = new Set<string>();
  for (const [date, ids] of agedIds) {
    for (const id of ids) {
      const at = atCutoff.get(id)!;
      if (!keeps(at, date) || erase.has(id)) drop(date, id);
      if ((at.deleted && at.date === date) || erase.has(id)) purged.add(id);
    }
  }
  if (erase.size > 0) {
    for (const date of recent) {
      for (const r of (await readPartition(store, own, date, integrationId, committedRun(state, date), ['id'])).rows) {
        const id = r['id'] as string;
        if (erase.has(id)) {
          drop(date, id);
          purged.add(id);
        }
      }
    }
    for (const [id] of retained) if (erase.has(id)) purged.add(id);
  }
  return { atCutoff, drops, purged };
}

async function compactHeld(deps: CompactDeps, runId: string, integrationId: string, model: ModelName, cutoff: string, erase: ReadonlySet<string>): Promise<Omit<StreamCompaction, 'integrationId' | 'model' | 'status' | keyof Consolidation>> {
  const { store } = deps;
  const [own, ...children] = tablesForModel(model) as [ModelTableDef, ...ModelTableDef[]];
  const state = await readStreamState(store, { integrationId, model });
  const before = await readRetained(store, { integrationId, model });
  const lastCutoff = before?.cutoff ?? '0000-01-01';
  const retained = before?.retained ?? [];
  // Dates that aged past the cutoff since the last compaction: their commits are all still listed
  // (trimming keeps every commit from the latest full one before the last cutoff).
  const commitDates = [...new Set(state.commits.map((c) => c.snapshotDate))].sort();
  const aged = commitDates.filter((d) => d >= lastCutoff && d < cutoff);
  const recent = commitDates.filter((d) => d >= cutoff && d >= lastCutoff);
  const { atCutoff, drops, purged } = await plannedDrops(store, own, integrationId, state, retained, aged, recent, erase);

  // Never a current version that records no deletion, unless erased.
  assertKeepsCurrent(await currentIndex(store, state), drops, erase, `${integrationId} ${model}`);

  // An erased user's copies in other records' child rows, in every partition the stream holds.
  const everyDate = erase.size > 0 ? [...new Set([...commitDates, ...retained.flatMap(([, date, start]) => [date, start ?? date])])] : [];
  const rewritten = await rewriteDrops(deps, runId, integrationId, [...children, own], drops, purged, { users: erase, dates: everyDate }, (date) => committedRun(state, date));

  // What this compaction kept before its cutoff, written before the commits that listed its dates go.
  const kept: RetainedState['retained'][number][] = [];
  for (const [id, at] of atCutoff) if (!at.deleted && !erase.has(id)) kept.push(at.stretch === undefined ? [id, at.date] : [id, at.date, at.start, at.stretch]);
  const newCutoff = cutoff > lastCutoff ? cutoff : lastCutoff;
  await writeRetained(store, { integrationId, model }, { cutoff: newCutoff, retained: kept });

  const { commitsTrimmed, indexFilesRemoved } = await trimCommits(store, state, newCutoff);
  return { ...rewritten, recordsPurged: purged.size, commitsTrimmed, indexFilesRemoved };
}

/** Throws before anything changes when a drop would remove a current version that records no deletion (and is not erased). */
function assertKeepsCurrent(index: RecordIndex, drops: ReadonlyMap<string, ReadonlySet<string>>, erase: ReadonlySet<string>, stream: string): void {
  for (const [date, ids] of drops) {
    for (const id of ids) {
      const e = index.get(id);
      if (e !== undefined && e.v === date && !e.d && !erase.has(id)) throw new Error(`compaction of ${stream} would remove the current version of ${id} (${date}); nothing of this stream was changed past this point`);
    }
  }
}

/** Erased users whose copies go from the child tables that hold users, in every date given. */
interface UserErasure {
  readonly users: ReadonlySet<string>;
  readonly dates: readonly string[];
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Rewrite each date's partitions without the dropped ids (and the erased users' copies), children
 * first (own table last): a compaction cut short between the two leaves no child row without its
 * parent.
 */
async function rewriteDrops(deps: CompactDeps, runId: string, integrationId: string, tables: readonly ModelTableDef[], drops: ReadonlyMap<string, ReadonlySet<string>>, purged: ReadonlySet<string>, erased: UserErasure, committed: (date: string) => string | undefined) {
  const own = tables.at(-1)!;
  const rowsRemoved: Record<string, number> = {};
  let versionsRemoved = 0;
  let partitionsRewritten = 0;
  let partitionsEmptied = 0;
  const userTables = erased.users.size > 0 ? tables.filter(copiesUsers) : [];
  const dates = [...new Set([...drops.keys(), ...(userTables.length > 0 ? erased.dates : [])])].sort();
  for (const date of dates) {
    for (const table of tables) {
      const ids = drops.get(date) ?? NONE;
      const users = userTables.includes(table) ? erased.users : NONE;
      if (ids.size === 0 && users.size === 0) continue;
      const result = await rewritePartition(deps, runId, table, date, integrationId, committed(date), ids, users);
      if (result === undefined) continue;
      rowsRemoved[table.name] = (rowsRemoved[table.name] ?? 0) + result.removed;
      partitionsRewritten++;
      if (result.left === 0) partitionsEmptied++;
      if (table === own) versionsRemoved += result.removedIds.filter((id) => !purged.has(id)).length;
    }
  }
  return { rowsRemoved, versionsRemoved, partitionsRewritten, partitionsEmptied };
}

/** The index after the stream's latest commit: every record's current version. */
async function currentIndex(store: ObjectStore, state: StreamState): Promise<RecordIndex> {
  const last = state.commits.at(-1);
  if (last === undefined) return new Map();
  const dayAfter = new Date(Date.parse(`${last.snapshotDate}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return priorIndex(store, state, dayAfter);
}

/**
 * Rewrite one partition without the rows of `ids` (and the rows copying one of `users`): new run
 * folder, registered, then the old files deleted ({@link swapPartition}). Undefined when the
 * partition holds none of them. Rows keep every column as stored, `_run_id` and `_synced_at` too.
 */
async function rewritePartition(deps: CompactDeps, runId: string, table: ModelTableDef, date: string, integrationId: string, committed: string | undefined, ids: ReadonlySet<string>, users: ReadonlySet<string> = NONE): Promise<{ removed: number; left: number; removedIds: string[] } | undefined> {
  const key = recordKeyColumn(table);
  const { all, rows } = await readPartition(deps.store, table, date, integrationId, committed);
  const goes = (r: Row): boolean => ids.has(r[key] as string) || users.has(r['user_id'] as string);
  const keep = rows.filter((r) => !goes(r));
  if (keep.length === rows.length) return undefined;
  await swapPartition(deps, table, date, integrationId, runId, keep, all);
  const removedIds = [...new Set(rows.filter(goes).map((r) => r[key] as string))];
  return { removed: rows.length - keep.length, left: keep.length, removedIds };
}

/**
 * Drop the commits before the latest full commit dated before the cutoff (every later sync builds
 * on that one or a later one), and every index file no remaining commit names.
 */
async function trimCommits(store: ObjectStore, state: StreamState, cutoff: string): Promise<{ commitsTrimmed: number; indexFilesRemoved: number }> {
  let from = -1;
  state.commits.forEach((c, i) => {
    if (c.mode === 'full' && c.snapshotDate < cutoff) from = i;
  });
  const commits: StreamCommit[] = from > 0 ? state.commits.slice(from) : [...state.commits];
  if (commits.length < state.commits.length) {
    await writeStreamState(store, { ...state, commits });
  }
  const named = new Set(commits.map((c) => c.index));
  const stale = (await listIndexFiles(store, state)).filter((k) => !named.has(k));
  await store.delete(stale);
  return { commitsTrimmed: state.commits.length - commits.length, indexFilesRemoved: stale.length };
}
