/**
 * Category columns (`pii: 'category'` in `tables.ts`: a candidate's source, a tag's name, a
 * rejection reason) outside `keep` mode. Such a value is typed by hand in the ATS, so it may be a
 * label the analytics group by ("LinkedIn") or free text naming a person ("Referral from Jane Doe").
 * It is stored when it is a label of the integration's own list (the `name`s of its `tags` or
 * `rejection_reasons`), or when at least {@link MIN_CATEGORY_RECORDS} distinct records of the
 * stream carry it (values compared with spaces trimmed from both ends, as the views group them);
 * anything else is stored as {@link OTHER_CATEGORY}.
 *
 * Records are counted as the chunk flattens them, and a row group's values are decided when it is
 * written (every {@link STREAM_ROW_GROUP_ROWS} rows and at the chunk's end): a value reaching the
 * count only after a row group was written is `(other)` in that row group's rows. Only the records
 * the sync fetches are counted (on an incremental night, those that changed), besides the values
 * earlier syncs of the stream found shared ({@link SharedCategories}).
 */
import type { Cell, TableBuffer } from './flatten.ts';
import type { PiiMode } from './flatten.ts';
import type { ColumnDef } from './tables.ts';

/** What a category value that is neither a label nor shared by enough records is stored as. */
export const OTHER_CATEGORY = '(other)';
/** Distinct records that must carry a value (not a label) for it to be stored as it is. */
export const MIN_CATEGORY_RECORDS = 5;

/** The integration's own labels, by the model that lists them. Plain data, to cross to a worker thread. */
export type CategoryLabels = Partial<Record<NonNullable<ColumnDef['labels']>, readonly string[]>>;

/**
 * Values earlier syncs of the stream found shared by enough records, by column (`table.column`):
 * kept as they are on a night that fetches fewer of their records (`state/categories.ts`).
 */
export type SharedCategories = Readonly<Record<string, readonly string[]>>;

/** A value that reached the count, and its column (`table.column`). */
export type SharedValue = readonly [column: string, value: string];

/** One category column of one buffer: its labels and the records each other value was seen in. */
interface Tracked {
  /** `table.column`. */
  readonly key: string;
  readonly buffer: number;
  readonly column: number;
  readonly labels: ReadonlySet<string>;
  /** The ids of the records carrying the value, until there are enough (then `true`). */
  readonly seen: Map<string, Set<string> | true>;
}

/** Whether a mode stores category values only when they are labels or shared (every mode but `keep`). */
export const filtersCategories = (mode: PiiMode | undefined): boolean => mode !== undefined && mode !== 'keep';

/** Counts category values per record and rewrites the rows of a row group before it is written. */
export class CategoryFilter {
  private readonly tracked: Tracked[] = [];
  /** Values that reached the count since {@link takeShared} was last called. */
  private fresh: SharedValue[] = [];

  constructor(buffers: readonly TableBuffer[], labels: CategoryLabels, mode: PiiMode | undefined, known: SharedCategories = {}) {
    if (!filtersCategories(mode)) return;
    buffers.forEach((b, buffer) => {
      b.table.columns
        .filter((c) => c.source.kind !== 'meta')
        .forEach((c, column) => {
          if (c.pii !== 'category') return;
          const key = `${b.table.name}.${c.name}`;
          const seen = new Map<string, Set<string> | true>((known[key] ?? []).map((v) => [v, true]));
          this.tracked.push({ key, buffer, column, labels: new Set((c.labels === undefined ? [] : (labels[c.labels] ?? [])).map((l) => l.trim())), seen });
        });
    });
  }

  /** The values that reached the count since the last call (none that earlier syncs found shared). */
  takeShared(): SharedValue[] {
    const fresh = this.fresh;
    this.fresh = [];
    return fresh;
  }

  /** Count the values of one record's rows: those added to each buffer since `before`. */
  count(buffers: readonly TableBuffer[], before: readonly number[], recordId: string): void {
    for (const t of this.tracked) {
      const buf = buffers[t.buffer]!;
      const cells = buf.columns[t.column]!;
      for (let r = before[t.buffer]!; r < buf.rowCount; r++) {
        const value = typeof cells[r] === 'string' ? (cells[r] as string).trim() : undefined;
        if (value === undefined || t.labels.has(value)) continue;
        const ids = t.seen.get(value) ?? new Set<string>();
        if (ids === true) continue;
        ids.add(recordId);
        const shared = ids.size >= MIN_CATEGORY_RECORDS;
        t.seen.set(value, shared ? true : ids);
        if (shared) this.fresh.push([t.key, value]);
      }
    }
  }

  /** Replace, in a buffer about to be written, every value that is neither a label nor shared enough. */
  apply(buffers: readonly TableBuffer[], buffer: number): void {
    for (const t of this.tracked) {
      if (t.buffer !== buffer) continue;
      const cells: Cell[] = buffers[buffer]!.columns[t.column]!;
      for (let r = 0; r < cells.length; r++) {
        const value = cells[r];
        if (typeof value !== 'string') continue;
        const key = value.trim();
        if (!t.labels.has(key) && t.seen.get(key) !== true) cells[r] = OTHER_CATEGORY;
      }
    }
  }
}
