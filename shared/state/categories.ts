/**
 * The category values a stream's syncs found shared by enough records (`categories.ts`), so that a
 * later night that fetches fewer of their records (an incremental sync fetches the changed ones)
 * still stores them as they are. `_state/<integration>/<model>/categories.json` holds only such
 * values, never one that fewer records carried: those are what must not be stored.
 */
import type { SharedCategories, SharedValue } from '../categories.ts';
import type { ObjectStore } from '../ports.ts';
import { decodeJson, encodeJson } from './codec.ts';
import { stateKeys } from './keys.ts';

interface Stream {
  readonly integrationId: string;
  readonly model: string;
}

/** The shared values remembered for the stream, by column (`table.column`); empty before any. */
export async function readSharedCategories(store: ObjectStore, s: Stream): Promise<SharedCategories> {
  const body = await store.get(stateKeys.categories(s.integrationId, s.model));
  return body === undefined ? {} : decodeJson<{ columns: SharedCategories }>(body).columns;
}

/** Remember `fresh` besides `known` (what {@link readSharedCategories} gave). The stream's lock makes this the only writer. */
export async function rememberSharedCategories(store: ObjectStore, s: Stream, known: SharedCategories, fresh: readonly SharedValue[]): Promise<void> {
  const columns = new Map(Object.entries(known).map(([k, v]) => [k, new Set(v)]));
  let added = 0;
  for (const [column, value] of fresh) {
    const values = columns.get(column) ?? new Set<string>();
    if (!values.has(value)) added++;
    columns.set(column, values.add(value));
  }
  if (added === 0) return;
  const sorted = Object.fromEntries([...columns].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, [...v].sort()]));
  await store.put(stateKeys.categories(s.integrationId, s.model), encodeJson({ columns: sorted }));
}
