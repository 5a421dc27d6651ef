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
 * Take the stream's lock for `lock.runId`. It is this run's already (a retry, a redelivery), free,
 * or taken over when `isOver(holder)` says the run holding it has ended or it is stale.
 */
export async function takeLock(store: ObjectStore, s: StreamId, lock: StreamLock, isOver: (holder: StreamLock) => Promise<boolean>): Promise<LockOutcome> {
  const key = stateKeys.lock(s.integrationId, s.model);
  if (await store.putIfAbsent(key, encodeJson(lock))) return { taken: true };
  const body = await store.get(key);
  if (!body) return (await store.putIfAbsent(key, encodeJson(lock))) ? { taken: true } : takeLock(store, s, lock, isOver);
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
export async function releaseLock(store: ObjectStore, s: StreamId, runId: string): Promise<void> {
  const key = stateKeys.lock(s.integrationId, s.model);
  const body = await store.get(key);
  if (body && decodeJson<StreamLock>(body).runId === runId) await store.delete([key]);
}
