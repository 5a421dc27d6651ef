/**
 * {@link Catalog} for local runs: a manifest per partition under `_catalog/`, naming the run folder
 * readers must use. DuckDB views are built from it, so a half-written run stays invisible locally
 * just as it does in Athena.
 */
import type { Catalog, ObjectStore } from '../../ports.ts';
import type { CatalogTable } from '../../tables.ts';
import { hiveEscape } from '../../warehouse/layout.ts';

export const CATALOG_PREFIX = '_catalog/';

export interface PartitionEntry {
  readonly table: string;
  readonly snapshotDate: string;
  readonly integrationId: string;
  /** Key prefix of the run folder holding the partition's files. */
  readonly location: string;
  readonly registeredAt: string;
}

const entryKey = (table: string, snapshotDate: string, integrationId: string): string => `${CATALOG_PREFIX}${table}/${snapshotDate}/${hiveEscape(integrationId)}.json`;

export class LocalCatalog implements Catalog {
  constructor(private readonly store: ObjectStore) {}

  async registerPartition(table: CatalogTable, snapshotDate: string, integrationId: string, runPrefixKey: string): Promise<void> {
    const entry: PartitionEntry = {
      table: table.name,
      snapshotDate,
      integrationId,
      location: runPrefixKey,
      registeredAt: new Date().toISOString(),
    };
    await this.store.put(entryKey(table.name, snapshotDate, integrationId), JSON.stringify(entry));
  }

  async removePartition(table: CatalogTable, snapshotDate: string, integrationId: string): Promise<void> {
    await this.store.delete([entryKey(table.name, snapshotDate, integrationId)]);
  }

  /** Every registered partition of a table. */
  async partitions(tableName: string): Promise<PartitionEntry[]> {
    const keys = await this.store.list(`${CATALOG_PREFIX}${tableName}/`);
    const out: PartitionEntry[] = [];
    for (const key of keys) {
      const body = await this.store.get(key);
      if (body) out.push(JSON.parse(new TextDecoder().decode(body)) as PartitionEntry);
    }
    return out;
  }
}
