/**
 * {@link Catalog} on the Glue Data Catalog: a finished stream registers its partition, or repoints
 * an existing one (a re-run of the same day), at this run's folder. Athena then reads exactly that
 * folder, so a partition switches from one complete run to the next in a single catalog update.
 */
import type { GlueClient, PartitionInput } from '@aws-sdk/client-glue';
import { AlreadyExistsException, CreatePartitionCommand, DeletePartitionCommand, EntityNotFoundException, UpdatePartitionCommand } from '@aws-sdk/client-glue';
import type { Catalog } from '../../ports.ts';
import type { CatalogTable } from '../../tables.ts';
import { glueStorageDescriptor, s3Uri } from './glue-schema.ts';

export interface GlueCatalogOptions {
  readonly client: GlueClient;
  readonly database: string;
  /** The warehouse bucket and key prefix, to turn run folders into `s3://` locations. */
  readonly bucket: string;
  readonly prefix: string;
}

export class GlueCatalog implements Catalog {
  constructor(private readonly opts: GlueCatalogOptions) {}

  /** The partition input for a run folder: values in partition-key order, storage from the table definition. */
  partitionInput(table: CatalogTable, snapshotDate: string, integrationId: string, runPrefixKey: string): PartitionInput {
    return {
      Values: [snapshotDate, integrationId],
      StorageDescriptor: glueStorageDescriptor(table, s3Uri(this.opts.bucket, this.opts.prefix, runPrefixKey)),
    };
  }

  async registerPartition(table: CatalogTable, snapshotDate: string, integrationId: string, runPrefixKey: string): Promise<void> {
    const input = this.partitionInput(table, snapshotDate, integrationId, runPrefixKey);
    const where = { DatabaseName: this.opts.database, TableName: table.name };
    try {
      await this.opts.client.send(new CreatePartitionCommand({ ...where, PartitionInput: input }));
    } catch (err) {
      if (!(err instanceof AlreadyExistsException)) throw err;
      await this.opts.client.send(new UpdatePartitionCommand({ ...where, PartitionValueList: input.Values, PartitionInput: input }));
    }
  }

  async removePartition(table: CatalogTable, snapshotDate: string, integrationId: string): Promise<void> {
    try {
      await this.opts.client.send(new DeletePartitionCommand({ DatabaseName: this.opts.database, TableName: table.name, PartitionValues: [snapshotDate, integrationId] }));
    } catch (err) {
      if (!(err instanceof EntityNotFoundException)) throw err;
    }
  }
}
