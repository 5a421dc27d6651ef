/**
 * Opening a stream for one chunk: everything the chunk needs to know before its first page, read
 * once. Whether the stream already ended (a redelivery) or the message's chain was replaced (a
 * retry or a restart); on the first chunk of a chain, the stream's lock and the rule that dates
 * are synced in order; then the stream's commits, the index of what is stored before the snapshot
 * date, and the ids the chain's earlier chunks kept.
 */
import type { ObjectStore, StreamMessage, StreamSync } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { chunkOfKey, runPrefix } from '../warehouse/layout.ts';
import { chunkListKeys, currentChain, idsUpTo } from '../state/chunks.ts';
import type { StreamLock } from '../state/lock.ts';
import { takeLock } from '../state/lock.ts';
import type { StreamMarker } from '../state/runs.ts';
import { completeRunIfLast, readMarker, runHasLetGo } from '../state/runs.ts';
import type { RecordIndex, StreamState } from '../state/streams.ts';
import { priorIndex, readStreamState } from '../state/streams.ts';
import { OUT_OF_ORDER_CODE, outOfOrderReason, syncOf } from './versions.ts';

/** Another run holds the stream and has not ended it. */
export const BUSY_CODE = 'STREAM.BUSY';

/** An open stream: what the chunk compares against and builds on. */
export interface StreamSession {
  readonly msg: StreamMessage;
  readonly sync: StreamSync;
  readonly state: StreamState;
  /** What is stored of each record before the snapshot date. */
  readonly prior: RecordIndex;
  /** Ids the chain's earlier chunks kept: a repeated record keeps its first copy. */
  readonly seen: ReadonlySet<string>;
}

/** What opening a stream found. */
export type StreamOpening =
  | { readonly kind: 'open'; readonly session: StreamSession }
  /** The stream already ended: the message is a redelivery, or a late duplicate. */
  | { readonly kind: 'ended'; readonly marker: StreamMarker }
  /** A retry or a restart replaced the message's chain: the new chain does its work. */
  | { readonly kind: 'superseded' }
  /** The stream may not sync now: another run holds it, or a later date is stored. */
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string };

export interface SessionDeps {
  readonly store: ObjectStore;
  readonly now?: () => Date;
}

/** This run's data files and lists of the stream written by chunks before `beforeChunk`. */
async function ownKeysBefore(store: ObjectStore, msg: StreamMessage, beforeChunk: number): Promise<string[]> {
  const keys: string[] = [];
  for (const table of tablesForModel(msg.model)) keys.push(...(await store.list(runPrefix(table.name, msg.snapshotDate, msg.integrationId, msg.runId))));
  keys.push(...(await chunkListKeys(store, msg)));
  return keys.filter((k) => chunkOfKey(k) < beforeChunk);
}

/** Take the stream's lock; the reason it is refused when another run holds it and has not let go. */
async function lockStream(store: ObjectStore, msg: StreamMessage, now: () => Date): Promise<string | undefined> {
  const lock: StreamLock = { runId: msg.runId, snapshotDate: msg.snapshotDate, lockedAt: now().toISOString() };
  const taken = await takeLock(store, msg, lock, (holder) => runHasLetGo(store, holder.runId, msg));
  if (taken.taken) return undefined;
  return `run ${taken.holder.runId} (snapshot ${taken.holder.snapshotDate}) is syncing this stream and has not finished it: this run did not sync it; retry this run once that one has ended`;
}

/** Open the stream for the message's chunk. */
export async function openStream(deps: SessionDeps, msg: StreamMessage): Promise<StreamOpening> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const marker = await readMarker(store, msg);
  if (marker) {
    // The run may still lack its completion marker if the first delivery died just before it.
    await completeRunIfLast(store, msg.runId, now);
    return { kind: 'ended', marker };
  }
  if ((msg.chain ?? 0) < (await currentChain(store, msg))) return { kind: 'superseded' };
  const first = msg.cursor === null;
  // The first chunk of a restarted chain: whatever the abandoned chain wrote must go, even files a
  // late redelivery of it may have added after the restart was sent.
  if (first && msg.chunk > 0) await store.delete(await ownKeysBefore(store, msg, msg.chunk));
  // The first chunk of a chain takes the stream's lock: one run at a time per stream, so that two
  // runs never compare against, or commit, the same state at once.
  const busy = first ? await lockStream(store, msg, now) : undefined;
  if (busy !== undefined) return { kind: 'refused', code: BUSY_CODE, reason: busy };
  const state = await readStreamState(store, msg);
  const latest = state.commits.at(-1);
  if (first && latest !== undefined && latest.snapshotDate > msg.snapshotDate) {
    return { kind: 'refused', code: OUT_OF_ORDER_CODE, reason: outOfOrderReason(msg.snapshotDate, latest.snapshotDate) };
  }
  const prior = await priorIndex(store, state, msg.snapshotDate);
  const seen = await idsUpTo(store, msg, msg.chunk - 1);
  return { kind: 'open', session: { msg, sync: syncOf(msg, now), state, prior, seen } };
}
