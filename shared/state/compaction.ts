/**
 * What compaction keeps of its own under `_state/`: a partition rewrite under way, per stream;
 * what the last compaction kept before its cutoff and the latest date it consolidated, per stream;
 * and where a compaction that stopped early left off.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { stateKeys } from './keys.ts';
import type { StreamId } from './ref.ts';

/** A partition rewrite under way: finished (or undone) by the next compaction of the stream. */
export interface PendingRewrite {
  readonly table: string;
  readonly snapshotDate: string;
  /** The new run folder. */
  readonly prefix: string;
  /** Files of the new run folder (none when no row is left). */
  readonly written: readonly string[];
  /** The files it replaces. */
  readonly obsolete: readonly string[];
}

/** `retained.json.gz`: what the last compaction kept before its cutoff. */
export interface RetainedState {
  readonly cutoff: string;
  /**
   * `[id, snapshot date]` of each record's version kept before the cutoff; for a model with
   * stretches (applications in a stage), also the date of the first version of the stretch that
   * version belongs to (kept too) and what the stretch's versions share.
   */
  readonly retained: readonly (readonly [id: string, date: string, start?: string, stretch?: string])[];
}

export async function readPendingRewrite(store: ObjectStore, s: StreamId): Promise<PendingRewrite | undefined> {
  const body = await store.get(stateKeys.compactionPending(s.integrationId, s.model));
  return body === undefined ? undefined : decodeJson<PendingRewrite>(body);
}

export async function writePendingRewrite(store: ObjectStore, s: StreamId, pending: PendingRewrite): Promise<void> {
  await store.put(stateKeys.compactionPending(s.integrationId, s.model), encodeJson(pending));
}

export async function clearPendingRewrite(store: ObjectStore, s: StreamId): Promise<void> {
  await store.delete([stateKeys.compactionPending(s.integrationId, s.model)]);
}

export async function readRetained(store: ObjectStore, s: StreamId): Promise<RetainedState | undefined> {
  const body = await store.get(stateKeys.compactionRetained(s.integrationId, s.model));
  return body === undefined ? undefined : (JSON.parse(gunzipSync(body).toString('utf8')) as RetainedState);
}

export async function writeRetained(store: ObjectStore, s: StreamId, retained: RetainedState): Promise<void> {
  await store.put(stateKeys.compactionRetained(s.integrationId, s.model), gzipSync(Buffer.from(JSON.stringify(retained), 'utf8')));
}

/**
 * Files a consolidation swapped out of their partition: no reader that resolves the partition now
 * reads them, but a query that resolved it just before the swap may still be reading them. They
 * stay until the next compaction of the stream ({@link takeLeftBehind}).
 */
export async function readLeftBehind(store: ObjectStore, s: StreamId): Promise<string[]> {
  const body = await store.get(stateKeys.compactionLeftBehind(s.integrationId, s.model));
  return body === undefined ? [] : decodeJson<{ keys: string[] }>(body).keys;
}

export async function addLeftBehind(store: ObjectStore, s: StreamId, keys: readonly string[]): Promise<void> {
  const before = await readLeftBehind(store, s);
  await store.put(stateKeys.compactionLeftBehind(s.integrationId, s.model), encodeJson({ keys: [...new Set([...before, ...keys])] }));
}

/** Delete the files an earlier consolidation left behind, then forget them. */
export async function takeLeftBehind(store: ObjectStore, s: StreamId): Promise<number> {
  const keys = await readLeftBehind(store, s);
  if (keys.length === 0) return 0;
  await store.delete(keys);
  await store.delete([stateKeys.compactionLeftBehind(s.integrationId, s.model)]);
  return keys.length;
}

/** The latest date whose partitions compaction consolidated (see `pipeline/consolidate.ts`), if any. */
export async function readConsolidatedThrough(store: ObjectStore, s: StreamId): Promise<string | undefined> {
  const body = await store.get(stateKeys.compactionConsolidated(s.integrationId, s.model));
  return body === undefined ? undefined : decodeJson<{ through: string }>(body).through;
}

export async function writeConsolidatedThrough(store: ObjectStore, s: StreamId, through: string): Promise<void> {
  await store.put(stateKeys.compactionConsolidated(s.integrationId, s.model), encodeJson({ through }));
}

/** The stream (`<integration>/<model>`) a compaction that stopped early goes on from, if any. */
export async function readCompactionCursor(store: ObjectStore): Promise<string | undefined> {
  const body = await store.get(stateKeys.compactionCursor());
  return body === undefined ? undefined : decodeJson<{ next: string }>(body).next;
}

/** Record where to go on from, or (undefined) that the last compaction reached every stream. */
export async function writeCompactionCursor(store: ObjectStore, next: string | undefined): Promise<void> {
  if (next === undefined) await store.delete([stateKeys.compactionCursor()]);
  else await store.put(stateKeys.compactionCursor(), encodeJson({ next }));
}
