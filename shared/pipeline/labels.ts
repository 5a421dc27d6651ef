/**
 * The integration's own labels for the category columns of a model's tables (`categories.ts`): the
 * `name`s of its `tags` for `candidate_tags.name`, of its `rejection_reasons` for
 * `applications.rejection_reason_name`. Fetched from Kombo at the start of each chunk that needs
 * them, only outside `keep` mode: the lists are short (a page or two), and reading them from Kombo
 * rather than from the warehouse makes them current even on a first sync, whatever order the
 * streams run in.
 */
import type { CategoryLabels } from '../categories.ts';
import { filtersCategories } from '../categories.ts';
import { KomboEtlError } from '../errors.ts';
import type { PiiMode } from '../flatten.ts';
import type { KomboClient, RequestTracker } from '../kombo/client.ts';
import { MAX_PAGE_SIZE } from '../kombo/client.ts';
import type { ColumnDef, ModelName } from '../tables.ts';
import { tablesForModel } from '../tables.ts';

/** Pages of one label list read at most: a list longer than this is no list of labels. */
const MAX_LABEL_PAGES = 40;

/** The models whose names label the category columns of `model`'s tables. */
export function labelModels(model: ModelName): NonNullable<ColumnDef['labels']>[] {
  const models = tablesForModel(model).flatMap((t) => t.columns.flatMap((c) => (c.pii === 'category' && c.labels !== undefined ? [c.labels] : [])));
  return [...new Set(models)];
}

/**
 * The labels a chunk of `model` needs, read from Kombo (nothing in `keep` mode, where categories are
 * stored as they are). A model the integration does not offer has no labels. Any other failure is
 * thrown: the stream then ends failed, rather than storing every label as `(other)`.
 */
export async function fetchLabels(
  client: Pick<KomboClient, 'listPage'>,
  integrationId: string,
  model: ModelName,
  mode: PiiMode | undefined,
  tracker: RequestTracker,
): Promise<CategoryLabels> {
  if (!filtersCategories(mode)) return {};
  const labels: CategoryLabels = {};
  for (const from of labelModels(model)) {
    const names = new Set<string>();
    let cursor: string | null = null;
    try {
      for (let page = 0; page < MAX_LABEL_PAGES; page++) {
        const answer = await client.listPage(integrationId, from, { cursor, pageSize: MAX_PAGE_SIZE, tracker });
        for (const r of answer.records) if (typeof r['name'] === 'string') names.add(r['name']);
        cursor = answer.next;
        if (cursor === null) break;
      }
    } catch (err) {
      if (!(err instanceof KomboEtlError && err.kind === 'skippable')) throw err;
    }
    labels[from] = [...names];
  }
  return labels;
}
