/**
 * The `integrations` table: one version per change of an integration, from the planner's check of
 * it (`GET /integrations/{id}`) and from Kombo's integration webhooks. Like the data tables, a date
 * partition points at one run folder: a new version of a date already stored goes into a new folder
 * with the date's earlier versions carried over (same `_run_id`, same `_synced_at`), the partition is
 * repointed, and the earlier folder deleted. The integration's record (`state/integrations.ts`),
 * changed by compare-and-swap, decides which update stores the next version.
 */
import { createHash } from 'node:crypto';
import type { Cell, PiiMode } from '../flatten.ts';
import { columnTreatment } from '../flatten.ts';
import type { IntegrationInfo } from '../kombo/schemas.ts';
import { encodeParquet } from '../parquet.ts';
import type { Catalog, ObjectStore } from '../ports.ts';
import type { TableDef } from '../tables.ts';
import { TABLES } from '../tables.ts';
import { assertIntegrationId, assertRunId, dataFileKey, newRunId, runPrefix, todayUtc } from '../warehouse/layout.ts';
import type { IntegrationRecord, TaggedIntegrationRecord } from '../state/integrations.ts';
import { readIntegrationRecord, swapIntegrationRecord } from '../state/integrations.ts';
import { readWarehousePii } from '../state/pii.ts';
import type { Row } from './partition-rows.ts';
import { parquetCell, readPartition } from './partition-rows.ts';

/** What happened to an integration: its check, or a webhook about it. */
export interface IntegrationUpdate {
  readonly integrationId: string;
  /** When it happened: the check's start on Kombo's clock, or the webhook's arrival. */
  readonly at: Date;
  /** What `GET /integrations/{id}` returned. */
  readonly info?: IntegrationInfo;
  /** A Kombo webhook about the integration (`integration-created`, `integration-deleted`, …). */
  readonly event?: { readonly type: string; readonly data: Record<string, unknown> };
  /** The run whose check this is: the version's `_run_id` (absent: a run id of its own). */
  readonly runId?: string;
}

export interface IntegrationDeps {
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly now: () => Date;
  /** The warehouse's personal-data mode; absent: as the warehouse records it (null in the email until it does). */
  readonly piiMode?: PiiMode;
}

/** Whether the update stored a version, and where. */
export type IntegrationOutcome = { readonly stored: false } | { readonly stored: true; readonly snapshotDate: string; readonly runId: string };

/** The `integrations` table definition. */
export const INTEGRATIONS_TABLE: TableDef = TABLES.find((t) => t.model === 'integrations')!;

/** What the check or the webhook says of a column; a column it does not name is absent (kept as it was). */
type Fields = Partial<Record<string, Cell>>;

/** Columns that do not decide a version: what stored it, and the pipeline's own. */
const decides = (name: string): boolean => name !== 'last_event' && INTEGRATIONS_TABLE.columns.some((c) => c.name === name && c.source.kind !== 'meta' && c.source.kind !== 'deleted');

const text = (v: unknown): string | null | undefined => (typeof v === 'string' ? v : v === null ? null : undefined);
const time = (v: unknown): number | null | undefined => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  return v === null ? null : undefined;
};
const defined = (f: Record<string, Cell | undefined>): Fields => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Fields;

/** The columns `GET /integrations/{id}` gives. */
function fromInfo(info: IntegrationInfo): Fields {
  const available = info.read_models.filter((m) => m.is_available && m.opted_out_by_customer !== true).map((m) => m.id);
  return defined({
    tool: text(info.tool?.id),
    category: text(info.category),
    status: info.status,
    setup_status: text(info.setup_status),
    end_user_organization_name: text(info.end_user?.organization_name),
    end_user_email: text(info.end_user?.creator_email),
    read_models: JSON.stringify(available.sort()),
    created_at: time(info.created_at),
  });
}

/** The columns a webhook gives, by its type (the SDK's `*webhookpayload.ts`); an unknown type gives none. */
function fromEvent(type: string, d: Record<string, unknown>): Fields {
  const user = (d['end_user'] ?? undefined) as Record<string, unknown> | undefined;
  const endUser = { end_user_organization_name: text(user?.['organization_name']), end_user_email: text(user?.['creator_email']) };
  switch (type) {
    case 'integration-created':
      return defined({ tool: text(d['tool']), category: text(d['category']), ...endUser });
    case 'integration-deleted':
      return defined({ tool: text(d['tool']), category: text(d['category']), ...endUser, deleted_at: time(d['deleted_at']) });
    case 'integration-state-changed':
      return defined({ tool: text(d['integration_tool']), category: text(d['integration_category']), ...endUser, status: text(d['state']), setup_status: text(d['setup_status']) });
    case 'sync-finished':
      return defined({
        tool: text(d['integration_tool']),
        category: text(d['integration_category']),
        ...endUser,
        // Only a sync that succeeded makes the data fresh: a failed one leaves the last success standing.
        ...(d['sync_state'] === 'SUCCEEDED' && { last_synced_at: time(d['sync_ended_at']) }),
      });
    default:
      return {};
  }
}

/** The next version's columns: the current ones, with what the update says over them, personal data as the mode stores it. */
export function nextRow(current: Readonly<Record<string, Cell>> | undefined, u: IntegrationUpdate, mode: PiiMode | undefined): Record<string, Cell> {
  const fields: Fields = { ...(u.info && fromInfo(u.info)), ...(u.event && fromEvent(u.event.type, u.event.data)) };
  // A deletion without its time (the payload's is required, but enums and fields are open) is dated by its arrival.
  if (u.event?.type === 'integration-deleted' && (fields['deleted_at'] ?? null) === null) fields['deleted_at'] = u.at.getTime();
  fields['id'] = u.integrationId;
  fields['last_event'] = u.event?.type ?? 'check';
  const row: Record<string, Cell> = {};
  for (const c of INTEGRATIONS_TABLE.columns) {
    if (c.source.kind === 'meta' || c.source.kind === 'deleted') continue;
    // A column the update does not name keeps its current value.
    const value = c.name in fields ? (fields[c.name] ?? null) : (current?.[c.name] ?? null);
    // Without a salt (and before the warehouse records its mode) a personal value is stored as null.
    row[c.name] = c.pii !== undefined && columnTreatment(c, mode ?? 'drop') !== 'kept' ? null : value;
  }
  return row;
}

/** Hash of the columns that decide a version. */
export const versionHash = (row: Readonly<Record<string, Cell>>): string =>
  createHash('sha256').update(JSON.stringify(Object.keys(row).filter(decides).map((k) => [k, row[k] ?? null]))).digest('hex');

/** Rows by the run and sync that stored them: a file holds one `_run_id` and one `_synced_at`. */
function byVersion(rows: readonly Row[]): Row[][] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${String(r['_run_id'])}\u0000${String(parquetCell(r['_synced_at']))}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

/** Write the date's versions into the run's folder: those carried over, then the new one. Returns the keys written. */
async function writeVersions(store: ObjectStore, integrationId: string, date: string, runId: string, rows: readonly Row[]): Promise<string[]> {
  const columns = INTEGRATIONS_TABLE.columns.filter((c) => c.name !== '_run_id' && c.name !== '_synced_at');
  const keys: string[] = [];
  for (const group of byVersion(rows)) {
    const key = dataFileKey(INTEGRATIONS_TABLE.name, date, integrationId, runId, keys.length);
    const first = group[0]!;
    const meta = { runId: String(first['_run_id']), syncedAt: Number(parquetCell(first['_synced_at'])) };
    const data = columns.map((c) => group.map((r) => (c.source.kind === 'deleted' ? false : parquetCell(r[c.name]))));
    await store.put(key, encodeParquet({ table: INTEGRATIONS_TABLE, columns: data, rowCount: group.length }, meta));
    keys.push(key);
  }
  return keys;
}

/**
 * Point the date's partition at the run folder the record names for it, until a look at the record
 * after a registration finds it unchanged: an update that won its swap earlier but registers later
 * is then set right by the next look, its own or the later update's.
 */
async function publish(deps: IntegrationDeps, integrationId: string, date: string, runId: string): Promise<void> {
  let registered: string | undefined;
  let wanted: string | undefined = runId;
  while (wanted !== undefined && wanted !== registered) {
    await deps.catalog.registerPartition(INTEGRATIONS_TABLE, date, integrationId, runPrefix(INTEGRATIONS_TABLE.name, date, integrationId, wanted));
    registered = wanted;
    wanted = (await readIntegrationRecord(deps.store, integrationId))?.record.partitions[date];
  }
}

/** One attempt: store the version `row` over `current`; false when another update swapped the record first. */
async function attempt(deps: IntegrationDeps, u: IntegrationUpdate, current: TaggedIntegrationRecord | undefined, row: Record<string, Cell>, hash: string): Promise<IntegrationOutcome | false> {
  const id = u.integrationId;
  // Versions stay in a strict time order, also when an update arrives late or two share a moment.
  const syncedAt = Math.max(u.at.getTime(), (current?.record.syncedAt ?? Number.NEGATIVE_INFINITY) + 1);
  const date = todayUtc(new Date(syncedAt));
  const earlier = current?.record.partitions[date];
  const runId = u.runId !== undefined && u.runId !== earlier ? assertRunId(u.runId) : newRunId(deps.now());
  const carried = earlier === undefined ? [] : (await readPartition(deps.store, INTEGRATIONS_TABLE, date, id, earlier)).rows;
  const written = await writeVersions(deps.store, id, date, runId, [...carried, { ...row, _run_id: runId, _synced_at: syncedAt }]);
  const record: IntegrationRecord = { hash, row, syncedAt, snapshotDate: date, partitions: { ...current?.record.partitions, [date]: runId } };
  if (!(await swapIntegrationRecord(deps.store, id, record, current?.etag))) {
    await deps.store.delete(written);
    return false;
  }
  await publish(deps, id, date, runId);
  if (earlier !== undefined) await deps.store.delete(await deps.store.list(runPrefix(INTEGRATIONS_TABLE.name, date, id, earlier)));
  return { stored: true, snapshotDate: date, runId };
}

/**
 * Record what the check or a webhook says of an integration in the `integrations` table: a new
 * version when a column that decides one changed, else nothing. Safe when updates race: each
 * attempt ends with a compare-and-swap of the record, and the loser reads the winner's version and
 * decides again.
 */
export async function recordIntegration(deps: IntegrationDeps, u: IntegrationUpdate): Promise<IntegrationOutcome> {
  assertIntegrationId(u.integrationId);
  const mode = deps.piiMode ?? (await readWarehousePii(deps.store))?.mode;
  for (;;) {
    const current = await readIntegrationRecord(deps.store, u.integrationId);
    const row = nextRow(current?.record.row, u, mode);
    const hash = versionHash(row);
    if (current !== undefined && current.record.hash === hash) return { stored: false };
    const outcome = await attempt(deps, u, current, row, hash);
    if (outcome !== false) return outcome;
  }
}
