/**
 * What a stream's chunks leave in its run's folder for the chunks after them and for its finish:
 * the chain the stream is on (`chains/`), the ids each chunk kept (`ids/`) and the versions each
 * stored (`versions/`), all keyed by chunk number.
 */
import type { ObjectStore } from '../ports.ts';
import { tablesForModel } from '../tables.ts';
import { chunkOfKey, runPrefix } from '../warehouse/layout.ts';
import { runKeys } from './keys.ts';
import type { DatedStreamRef, StreamRef } from './ref.ts';

/** `[record id, version hash, deleted]` of one version a chunk stored. */
export type VersionEntry = readonly [string, string, boolean];

/**
 * What a chunk's version list holds: its versions, then, flagged `1`, the index entries of records
 * that stored no version but whose hash is now of another hash layout.
 */
type ListedEntry = readonly [string, string, boolean] | readonly [string, string, boolean, 1];

/** Record that the stream's chain now begins at `chain`: messages of older chains are dropped from then on. */
export async function startChain(store: ObjectStore, s: StreamRef, chain: number): Promise<void> {
  await store.put(runKeys.chain(s), JSON.stringify({ chain }));
}

/** The chunk the stream's latest chain began at (0 when no chain was recorded). */
export async function currentChain(store: ObjectStore, s: StreamRef): Promise<number> {
  const body = await store.get(runKeys.chain(s));
  return body ? (JSON.parse(new TextDecoder().decode(body)) as { chain: number }).chain : 0;
}

/** Write what one chunk kept and stored, and the index entries it re-hashed without a version. */
export async function writeChunkLists(store: ObjectStore, s: StreamRef, chunk: number, kept: readonly string[], stored: readonly VersionEntry[], rehashed: readonly VersionEntry[] = []): Promise<void> {
  await store.put(runKeys.ids(s, chunk), kept.join('\n'));
  const listed: ListedEntry[] = [...stored, ...rehashed.map((e): ListedEntry => [...e, 1])];
  await store.put(runKeys.versions(s, chunk), JSON.stringify(listed));
}

/** The bodies of the lists under `prefix` written by chunks up to `lastChunk`, in chunk order. */
async function readLists(store: ObjectStore, prefix: string, lastChunk: number): Promise<string[]> {
  const bodies: string[] = [];
  for (const key of await store.list(prefix)) {
    if (!(chunkOfKey(key) <= lastChunk)) continue;
    const body = await store.get(key);
    if (body) bodies.push(new TextDecoder().decode(body));
  }
  return bodies;
}

/** The ids kept by the stream's chunks up to `lastChunk`. */
export async function idsUpTo(store: ObjectStore, s: StreamRef, lastChunk: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const body of await readLists(store, runKeys.idsPrefix(s), lastChunk)) {
    for (const id of body.split('\n')) if (id !== '') ids.add(id);
  }
  return ids;
}

/** The versions stored by the stream's chunks up to `lastChunk`, and the entries they re-hashed without a version. */
export async function versionsUpTo(store: ObjectStore, s: StreamRef, lastChunk: number): Promise<{ readonly stored: VersionEntry[]; readonly rehashed: VersionEntry[] }> {
  const listed = (await readLists(store, runKeys.versionsPrefix(s), lastChunk)).flatMap((b) => JSON.parse(b) as ListedEntry[]);
  const entry = (e: ListedEntry): VersionEntry => [e[0], e[1], e[2]];
  return { stored: listed.filter((e) => e.length === 3).map(entry), rehashed: listed.filter((e) => e.length === 4).map(entry) };
}

/** The keys of the stream's id and version lists. */
export async function chunkListKeys(store: ObjectStore, s: StreamRef): Promise<string[]> {
  return [...(await store.list(runKeys.idsPrefix(s))), ...(await store.list(runKeys.versionsPrefix(s)))];
}

/**
 * Every key this run wrote for a stream: its data files in each table's run folder, and its id and
 * version lists; only those of chunks before `beforeChunk` when given.
 */
export async function streamRunKeys(store: ObjectStore, s: DatedStreamRef, beforeChunk = Number.POSITIVE_INFINITY): Promise<string[]> {
  const keys: string[] = [];
  for (const table of tablesForModel(s.model)) keys.push(...(await store.list(runPrefix(table.name, s.snapshotDate, s.integrationId, s.runId))));
  keys.push(...(await chunkListKeys(store, s)));
  return keys.filter((k) => chunkOfKey(k) < beforeChunk);
}
