/**
 * `_state/<integration>/<model>/lock.json`: the run syncing (or compacting) a stream, so that two
 * runs never compare against, or commit, the same state at once.
 */
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { stateKeys } from './keys.ts';
import type { StreamId } from './ref.ts';

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
 * Take the stream's lock for `lock.runId`. It is this run's already (a retry, a redelivery), free
 * (created with a conditional write), or taken over when `isOver(holder)` says the run holding it
 * has ended or it is stale: a compare-and-swap against the very version read, so that of many runs
 * taking over one holder at once exactly one wins and the others see the winner as the holder.
 */
export async function takeLock(store: ObjectStore, s: StreamId, lock: StreamLock, isOver: (holder: StreamLock) => Promise<boolean>): Promise<LockOutcome> {
  const key = stateKeys.lock(s.integrationId, s.model);
  const body = encodeJson(lock);
  for (;;) {
    if (await store.putIfAbsent(key, body)) return { taken: true };
    const current = await store.getTagged(key);
    if (!current) continue; // let go of meanwhile: try to create it again
    const holder = decodeJson<StreamLock>(current.body);
    if (holder.runId === lock.runId) return { taken: true };
    const stale = Date.parse(lock.lockedAt) - Date.parse(holder.lockedAt) > LOCK_STALE_MS;
    if (!stale && !(await isOver(holder))) return { taken: false, holder };
    if (await store.putIfMatch(key, body, current.etag)) return { taken: true };
    // Another run swapped (or let go) first: look at the new holder.
  }
}

/** Release the stream's lock if `runId` holds it; a lock another run took meanwhile stays. */
export async function releaseLock(store: ObjectStore, s: StreamId, runId: string): Promise<void> {
  const key = stateKeys.lock(s.integrationId, s.model);
  const current = await store.getTagged(key);
  if (current && decodeJson<StreamLock>(current.body).runId === runId) await store.deleteIfMatch(key, current.etag);
}

/** The stream's lock, or undefined when no run holds it. */
export async function readLock(store: ObjectStore, s: StreamId): Promise<StreamLock | undefined> {
  const body = await store.get(stateKeys.lock(s.integrationId, s.model));
  return body ? decodeJson<StreamLock>(body) : undefined;
}
