/**
 * The hash layouts a stream's index was written under (`pipeline/hash-layout.ts`), kept in
 * `_state/<integration>/<model>/layouts.json` by id: a later release that hashes other columns
 * reads here which columns an index hash covered, to tell whether a record changed at all.
 */
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { stateKeys } from './keys.ts';
import type { StreamId } from './ref.ts';

/** A hash layout as stored: its id and, table by table in order, the columns its hashes cover. */
export interface StoredLayout {
  readonly id: string;
  readonly tables: readonly (readonly [string, readonly string[]])[];
}

/** The layouts the stream's hashes were made under; empty before its first commit with one. */
export async function readLayouts(store: ObjectStore, s: StreamId): Promise<StoredLayout[]> {
  const body = await store.get(stateKeys.layouts(s.integrationId, s.model));
  return body === undefined ? [] : Object.values(decodeJson<Record<string, StoredLayout>>(body));
}

/** Add `layout` to the stream's layouts, unless it is there already (written before the commit whose index uses it). */
export async function saveLayout(store: ObjectStore, s: StreamId, layout: StoredLayout, known: readonly StoredLayout[]): Promise<void> {
  if (known.some((l) => l.id === layout.id)) return;
  const all = Object.fromEntries([...known, layout].map((l) => [l.id, { id: l.id, tables: l.tables }]));
  await store.put(stateKeys.layouts(s.integrationId, s.model), encodeJson(all));
}
