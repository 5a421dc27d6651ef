/**
 * Opening a stream for one chunk: everything the chunk needs to know before its first page, read
 * once. Whether the stream already ended (a redelivery) or the message's chain was replaced (a
 * retry or a restart); on the first chunk of a chain, the stream's lock and the rule that dates
 * are synced in order (and a sync never stores versions older than a stored sync's); then the
 * stream's commits, the index of what is stored before this sync (earlier dates and the date's
 * syncs by other runs: a sync of the date adds to them), and the ids the chain's
 * earlier chunks kept.
 */
import type { ObjectStore, StreamMessage, StreamSync } from '../ports.ts';
import { currentChain, idsUpTo, streamRunKeys } from '../state/chunks.ts';
import type { StreamLock } from '../state/lock.ts';
import { takeLock } from '../state/lock.ts';
import type { StreamMarker } from '../state/runs.ts';
import { completeRunIfLast, readMarker, runHasLetGo } from '../state/runs.ts';
import type { RecordIndex, StreamState } from '../state/streams.ts';
import { MissingIndexError, priorIndex, readStreamState } from '../state/streams.ts';
import { readErased } from '../state/erased.ts';
import type { StoredLayout } from '../state/layouts.ts';
import { readLayouts } from '../state/layouts.ts';
import type { ChunkStep } from './chunk-types.ts';
import { OUT_OF_ORDER_CODE, SUPERSEDED_CODE, outOfOrderReason, supersededReason, syncOf, versionTime } from './versions.ts';

/** Another run holds the stream and has not ended it. */
export const BUSY_CODE = 'STREAM.BUSY';
/** An index file the stream's commits name is gone: only a full sync can go on from there. */
export const INDEX_MISSING_CODE = 'STATE.INDEX_MISSING';

const indexMissingReason = (key: string): string =>
  `change capture state is missing ${key}, so this sync cannot tell what changed: sync the stream again in full (kombo-etl sync --full, or the event {"full": true}), which rebuilds its state from what Kombo returns`;

/** An open stream: what the chunk compares against and builds on. */
export interface OpenedStream {
  readonly msg: StreamMessage;
  readonly sync: StreamSync;
  /** `_synced_at` of the versions this sync stores. */
  readonly syncedAt: number;
  readonly state: StreamState;
  /** What is stored of each record before the snapshot date, and by an earlier run of the date. */
  readonly prior: RecordIndex;
  /** Ids the chain's earlier chunks kept: a repeated record keeps its first copy. */
  readonly seen: ReadonlySet<string>;
  /** Hashes of the records erased on request (`state/erased.ts`): never stored again. */
  readonly erased: readonly string[];
  /** The hash layouts the stream's index was written under (`state/layouts.ts`). */
  readonly layouts: readonly StoredLayout[];
}

/** What opening a stream found. */
export type StreamOpening =
  | { readonly kind: 'open'; readonly stream: OpenedStream }
  /** The stream already ended: the message is a redelivery, or a late duplicate. */
  | { readonly kind: 'ended'; readonly marker: StreamMarker }
  /** A retry or a restart replaced the message's chain: the new chain does its work. */
  | { readonly kind: 'superseded' }
  /**
   * The stream may not sync now: another run holds it, or a later date is stored (it ends failed),
   * or a sync started later already committed (it ends skipped).
   */
  | { readonly kind: 'refused'; readonly step: Extract<ChunkStep, { readonly kind: 'end' }> };

export interface OpenDeps {
  readonly store: ObjectStore;
  readonly now?: () => Date;
}

/** Open the stream for the message's chunk. */
export async function openStream(deps: OpenDeps, msg: StreamMessage): Promise<StreamOpening> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const marker = await readMarker(store, msg);
  if (marker) {
    // The run may still lack its completion marker if the first delivery died just before it.
    await completeRunIfLast(store, msg.runId, now, msg);
    return { kind: 'ended', marker };
  }
  if ((msg.chain ?? 0) < (await currentChain(store, msg))) return { kind: 'superseded' };
  const first = msg.cursor === null;
  // The first chunk of a restarted chain: whatever the abandoned chain wrote must go, even files a
  // late redelivery of it may have added after the restart was sent.
  if (first && msg.chunk > 0) await store.delete(await streamRunKeys(store, msg, msg.chunk));
  const seen = await idsUpTo(store, msg, msg.chunk - 1);
  const refuse = (code: string, reason: string, status: 'failed' | 'skipped' = 'failed'): StreamOpening => ({ kind: 'refused', step: { kind: 'end', end: { status, code, reason, totals: msg.totals } } });
  // The first chunk of a chain takes the stream's lock: one run at a time per stream, so that two
  // runs never compare against, or commit, the same state at once.
  const lock: StreamLock = { runId: msg.runId, snapshotDate: msg.snapshotDate, lockedAt: now().toISOString() };
  const taken = first ? await takeLock(store, msg, lock, (holder) => runHasLetGo(store, holder.runId, msg)) : { taken: true as const };
  if (!taken.taken) {
    return refuse(BUSY_CODE, `run ${taken.holder.runId} (snapshot ${taken.holder.snapshotDate}) is syncing this stream and has not finished it: this run did not sync it; retry this run once that one has ended`);
  }
  const state = await readStreamState(store, msg);
  const latest = state.commits.at(-1);
  if (first && latest !== undefined && latest.snapshotDate > msg.snapshotDate) return refuse(OUT_OF_ORDER_CODE, outOfOrderReason(msg.snapshotDate, latest.snapshotDate));
  const sync = syncOf(msg, now);
  if (first && latest !== undefined && Date.parse(sync.startedAt) < Date.parse(latest.startedAt)) return refuse(SUPERSEDED_CODE, supersededReason(latest.startedAt), 'skipped');
  let prior: RecordIndex;
  try {
    prior = await priorIndex(store, state, msg.snapshotDate, { ifMissing: sync.mode === 'full' ? 'empty' : 'throw', runId: msg.runId });
  } catch (err) {
    if (err instanceof MissingIndexError) return refuse(INDEX_MISSING_CODE, indexMissingReason(err.key));
    throw err;
  }
  const erased = await readErased(store);
  const layouts = await readLayouts(store, msg);
  return { kind: 'open', stream: { msg, sync, syncedAt: versionTime(sync, msg.snapshotDate), state, prior, seen, erased, layouts } };
}
