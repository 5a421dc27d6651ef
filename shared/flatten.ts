/**
 * Flattening: validated Kombo records into column buffers, one per table of the contract.
 * Columnar from the start, because that is what the Parquet writer takes and it avoids building
 * one object per row.
 */
import { createHmac } from 'node:crypto';
import type { ColumnDef, ModelName, PiiKind, TableDef } from './tables.ts';
import { tablesForModel } from './tables.ts';

/** A cell value after flattening. Timestamps are epoch milliseconds. */
export type Cell = string | number | boolean | null;

/** Rows of one table, held column by column. Meta columns are filled when the file is written. */
export interface TableBuffer {
  readonly table: TableDef;
  /** One array per non-meta column, in `table.columns` order. */
  readonly columns: Cell[][];
  rowCount: number;
}

type KomboRecord = Record<string, unknown>;

const dataColumns = (t: TableDef): readonly ColumnDef[] => t.columns.filter((c) => c.source.kind !== 'meta');

/** Fresh, empty buffers for every table a model flattens into. */
export function createBuffers(model: ModelName): TableBuffer[] {
  return tablesForModel(model).map((table) => ({
    table,
    columns: dataColumns(table).map(() => []),
    rowCount: 0,
  }));
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** What to store in the columns marked as personal data ({@link ColumnDef.pii}). */
export type PiiMode = 'keep' | 'hash' | 'drop';
export const PII_MODES: readonly PiiMode[] = ['keep', 'hash', 'drop'];
export const DEFAULT_PII_MODE: PiiMode = 'keep';

export interface PiiOptions {
  readonly mode: PiiMode;
  /** Required for `hash`: without a secret salt, a hash of an email address is as good as the address. */
  readonly salt?: string;
}

/** The form hashed, so that the same person hashes alike across integrations and runs. */
function normalisePii(kind: PiiKind, value: string): string {
  if (kind === 'email') return value.trim().toLowerCase();
  if (kind === 'phone') return value.replace(/[^\d+]/g, '');
  return value.trim();
}

/**
 * How `hash` mode hashes, recorded with the warehouse (`shared/state/pii.ts`) so that a warehouse
 * hashed one way is never continued another way. Earlier versions stored `sha256(salt ‖ 0x00 ‖ value)`
 * (`salted-sha256`); a plain hash of a known prefix and a guessable value lets a dictionary test a
 * salt offline, a keyed HMAC is the construction made for a secret key.
 */
export const PII_HASH_SCHEME = 'hmac-sha256';
export type PiiHashScheme = typeof PII_HASH_SCHEME | 'salted-sha256';

/** HMAC-SHA256 keyed by the salt, of the normalised value, as lowercase hex. */
export function hashPii(kind: PiiKind, value: string, salt: string): string {
  return createHmac('sha256', salt).update(normalisePii(kind, value), 'utf8').digest('hex');
}

/**
 * What a mode stores in a column of a kind of personal data. `category`: the value when it is a label
 * or shared by enough records, else `(other)`; flattening keeps it, and the chunk replaces it before
 * its rows are written, once it has counted them (`categories.ts`).
 */
export type PiiTreatment = 'kept' | 'hashed' | 'null' | 'category';

/** Kinds whose hash still identifies the same person across records, integrations and runs. */
const HASHABLE: ReadonlySet<PiiKind> = new Set(['name', 'email', 'phone', 'handle']);

/**
 * What `mode` does with a column holding `kind` (undefined: not personal data, always kept).
 * Free text, addresses and raw payloads are dropped rather than hashed: their hash joins nothing,
 * and a name inside them would otherwise stay.
 */
export function piiTreatment(kind: PiiKind | undefined, mode: PiiMode): PiiTreatment {
  if (kind === undefined || mode === 'keep') return 'kept';
  if (kind === 'category') return 'category';
  return mode === 'hash' && HASHABLE.has(kind) ? 'hashed' : 'null';
}

/** What `mode` stores in a column: {@link piiTreatment}, but null for a hash its writer cannot make ({@link ColumnDef.unhashed}). */
export function columnTreatment(col: Pick<ColumnDef, 'pii' | 'unhashed'>, mode: PiiMode): PiiTreatment {
  const t = piiTreatment(col.pii, mode);
  return t === 'hashed' && col.unhashed === true ? 'null' : t;
}

function protect(cell: Cell, col: ColumnDef, pii: PiiOptions | undefined): Cell {
  if (col.pii === undefined || pii === undefined || cell === null) return cell;
  switch (piiTreatment(col.pii, pii.mode)) {
    case 'kept':
    case 'category':
      return cell;
    case 'null':
      return null;
    case 'hashed':
      return hashPii(col.pii, String(cell), pii.salt ?? '');
  }
}

/** Convert one source value to its cell. Input has passed the page schema, so types are known good. */
function toCell(value: unknown, col: ColumnDef, pii?: PiiOptions): Cell {
  return protect(rawCell(value, col), col, pii);
}

function rawCell(value: unknown, col: ColumnDef): Cell {
  if (value === undefined || value === null) return null;
  switch (col.type) {
    case 'json':
      return JSON.stringify(value);
    case 'timestamp':
      return Date.parse(value as string);
    case 'string':
    case 'boolean':
    case 'int32':
    case 'double':
      return value as Cell;
  }
}

/** Whether a record's version records a deletion: Kombo returned it with `remote_deleted_at` set. */
export function isDeleted(record: KomboRecord): boolean {
  return record['remote_deleted_at'] !== null && record['remote_deleted_at'] !== undefined;
}

/** Append records (already validated) to the buffers of their model. */
export function flattenInto(buffers: readonly TableBuffer[], records: readonly KomboRecord[], pii?: PiiOptions): void {
  if (pii?.mode === 'hash' && !pii.salt) throw new Error('piiMode "hash" needs a salt');
  for (const buf of buffers) {
    const cols = dataColumns(buf.table);
    const arrayField = buf.table.arrayField;
    if (arrayField === undefined) {
      for (const record of records) {
        for (let c = 0; c < cols.length; c++) {
          const col = cols[c]!;
          const src = col.source;
          buf.columns[c]!.push(src.kind === 'field' ? toCell(getPath(record, src.path), col, pii) : src.kind === 'deleted' ? isDeleted(record) : null);
        }
        buf.rowCount++;
      }
      continue;
    }
    for (const record of records) {
      const elements = record[arrayField];
      if (!Array.isArray(elements)) continue;
      const parentId = record['id'] as string;
      const deleted = isDeleted(record);
      for (let i = 0; i < elements.length; i++) {
        const element: unknown = elements[i];
        for (let c = 0; c < cols.length; c++) {
          const col = cols[c]!;
          const src = col.source;
          let cell: Cell;
          if (src.kind === 'parent-id') cell = parentId;
          else if (src.kind === 'position') cell = i;
          else if (src.kind === 'field') cell = toCell(getPath(element, src.path), col, pii);
          else if (src.kind === 'deleted') cell = deleted;
          else cell = null;
          buf.columns[c]!.push(cell);
        }
        buf.rowCount++;
      }
    }
  }
}

/** Empty the buffers in place, after their rows have been written. */
export function resetBuffers(buffers: readonly TableBuffer[]): void {
  for (const buf of buffers) {
    for (const col of buf.columns) col.length = 0;
    buf.rowCount = 0;
  }
}
