/**
 * Records erased on request, remembered so that no sync stores them again. Kombo keeps serving a
 * deleted record, with its data, for 14 days, and a record still in the ATS comes back whenever it
 * changes there: whichever order an operator deletes and erases in, a sync drops what it finds here.
 *
 * `_state/_erased.json.gz` holds one hash per erased record and integration (SHA-256 of both), never
 * the ids: enough to recognise a record a sync fetches, not to list who was erased.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ObjectStore } from '../ports.ts';
import { stateKeys } from './keys.ts';

/** The hash remembered for record (or user) `id` of `integrationId`. */
export function erasureHash(integrationId: string, id: string): string {
  return createHash('sha256').update(`${integrationId}\n${id}`).digest('base64url').slice(0, 22);
}

/** Every erasure hash remembered, sorted; empty when nothing was ever erased. */
export async function readErased(store: ObjectStore): Promise<string[]> {
  const body = await store.get(stateKeys.erased());
  return body === undefined ? [] : (JSON.parse(gunzipSync(body).toString('utf8')) as { hashes: string[] }).hashes;
}

/** Remember `ids` as erased in each of `integrationIds` (before any of their rows go). */
export async function rememberErased(store: ObjectStore, integrationIds: readonly string[], ids: readonly string[]): Promise<void> {
  const hashes = new Set(await readErased(store));
  const before = hashes.size;
  for (const integrationId of integrationIds) for (const id of ids) hashes.add(erasureHash(integrationId, id));
  if (hashes.size === before) return;
  await store.put(stateKeys.erased(), gzipSync(Buffer.from(JSON.stringify({ hashes: [...hashes].sort() }), 'utf8')));
}
