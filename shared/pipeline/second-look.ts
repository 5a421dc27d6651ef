/**
 * A full sync's second look at the records it did not return. A listing's cursor may shift when a
 * record disappears while the listing is paged (an offset-based cursor then skips the record after
 * it): a live record missing from the listing is no proof that it is gone. Before the stream's
 * finish stores a deletion version for them, the last chunk asks Kombo for exactly those records
 * (its `ids` filter, deleted ones included); what comes back is taken as if the listing had
 * returned it, and only what does not is stored as deleted.
 */
import { RunFatalError } from '../errors.ts';
import type { RequestTracker } from '../kombo/client.ts';
import type { ChunkWork } from './chunk-work.ts';
import type { FetchError, FetchedPages, PageClient } from './fetch.ts';
import type { OpenedStream } from './open-stream.ts';

/** Ids asked for in one request: about 2.5 kB of query for Kombo's 24-character ids. */
export const SECOND_LOOK_IDS = 100;

/** The records stored as current before the date that a full sync's listing did not return. */
export function unreturned(opened: OpenedStream, kept: readonly string[]): string[] {
  if (opened.sync.mode !== 'full') return [];
  const returned = new Set(kept);
  const missing: string[] = [];
  for (const [id, e] of opened.prior) if (!e.d && !opened.seen.has(id) && !returned.has(id)) missing.push(id);
  return missing;
}

/** Kombo's answer to an `ids` filter naming a record it does not have (HTTP 404). */
const NOT_FOUND_CODE = 'PLATFORM.INPUT_INVALID';

/**
 * Ask again for the records the listing of a full sync did not return, into the chunk's work, and
 * add what the answers gave to `fetched`. Called once the listing has ended (no next cursor). Kombo
 * refuses a whole request when one of its ids names no record: the ids are then asked for in
 * halves, down to single ones, and a single id refused so is gone.
 */
export async function lookAgain(
  client: PageClient,
  opened: OpenedStream,
  work: ChunkWork,
  fetched: FetchedPages,
  opts: { readonly tracker: RequestTracker; readonly pageSize?: number },
): Promise<FetchedPages | FetchError> {
  const { msg } = opened;
  const fetchPage = client.fetchPage?.bind(client) ?? client.listPage.bind(client);
  let acc: FetchedPages = fetched;
  const ask = async (ids: readonly string[], cursor: string | null): Promise<void> => {
    const answer = await fetchPage(msg.integrationId, msg.model, { ids, cursor, tracker: opts.tracker, ...(opts.pageSize !== undefined && { pageSize: opts.pageSize }) });
    const page = await work.page(answer, { integrationId: msg.integrationId, model: msg.model, cursor });
    acc = {
      ...acc,
      kept: [...acc.kept, ...page.fresh],
      stored: [...acc.stored, ...page.versions],
      rehashed: [...acc.rehashed, ...page.rehashed],
      ...(page.shared && { shared: [...(acc.shared ?? []), ...page.shared] }),
      pages: acc.pages + 1,
      records: acc.records + page.fresh.length,
      duplicates: acc.duplicates + page.records - page.fresh.length,
      tableRows: page.tableRows,
    };
    if (page.next !== null) await ask(ids, page.next);
  };
  const look = async (ids: readonly string[]): Promise<void> => {
    try {
      await ask(ids, null);
    } catch (err) {
      if (!(err instanceof RunFatalError && err.code === NOT_FOUND_CODE)) throw err;
      if (ids.length === 1) return;
      const half = Math.ceil(ids.length / 2);
      await look(ids.slice(0, half));
      await look(ids.slice(half));
    }
  };
  const missing = unreturned(opened, fetched.kept);
  try {
    for (let i = 0; i < missing.length; i += SECOND_LOOK_IDS) await look(missing.slice(i, i + SECOND_LOOK_IDS));
    return acc;
  } catch (error) {
    return { ...acc, error };
  }
}
