/**
 * Lake Formation, for accounts where it governs the Glue catalog (the `lakeFormation` context key).
 * There, IAM alone no longer lets a role add a partition or a BI user read a table: each needs Lake
 * Formation permissions too. This construct registers the warehouse location (so that Athena reads
 * it with credentials Lake Formation vends, and grants decide who may), and grants:
 * - the pipeline roles that register partitions (fetcher, compactor): DESCRIBE on the database,
 *   ALTER, INSERT and DESCRIBE on each catalog table by name, and data location access on the
 *   warehouse, which a partition pointing into a registered location needs;
 * - each reader: DESCRIBE on the database, SELECT and DESCRIBE on every table and view in it.
 * The deploy role itself must be a Lake Formation administrator: it creates the database, registers
 * the location and makes these grants (DEPLOY.md says how to check and set it).
 */
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IDependable } from 'constructs';
import { Construct } from 'constructs';

/** What the roles that register partitions need on each catalog table. */
export const WRITER_TABLE_PERMISSIONS = ['ALTER', 'INSERT', 'DESCRIBE'] as const;
/** What a reader gets on every table and view of the database. */
export const READER_TABLE_PERMISSIONS = ['SELECT', 'DESCRIBE'] as const;

export interface LakeFormationGrantsProps {
  readonly databaseName: string;
  /** The catalog tables the writers register partitions of. */
  readonly tableNames: readonly string[];
  readonly warehouse: IBucket;
  readonly warehousePrefix: string;
  /** Roles that create and update partitions. */
  readonly writers: readonly iam.IRole[];
  /** IAM role or user ARNs granted SELECT and DESCRIBE on every table and view. */
  readonly readers: readonly string[];
  /** What must exist before a grant can name it: the database, its tables and views. */
  readonly after: readonly IDependable[];
}

export class LakeFormationGrants extends Construct {
  readonly location: lakeformation.CfnResource;
  readonly grants: readonly lakeformation.CfnPrincipalPermissions[];

  constructor(scope: Construct, id: string, props: LakeFormationGrantsProps) {
    super(scope, id);
    const catalog = Stack.of(this).account;
    // Registered with Lake Formation's service-linked role, which it creates on first use.
    this.location = new lakeformation.CfnResource(this, 'WarehouseLocation', {
      resourceArn: props.warehouse.arnForObjects(props.warehousePrefix),
      useServiceLinkedRole: true,
    });
    const grants: lakeformation.CfnPrincipalPermissions[] = [];
    const grant = (id: string, principal: string, resource: lakeformation.CfnPrincipalPermissions.ResourceProperty, permissions: readonly string[]) => {
      const g = new lakeformation.CfnPrincipalPermissions(this, id, {
        catalog,
        principal: { dataLakePrincipalIdentifier: principal },
        resource,
        permissions: [...permissions],
        permissionsWithGrantOption: [],
      });
      for (const d of props.after) g.node.addDependency(d);
      grants.push(g);
      return g;
    };
    const database = { database: { catalogId: catalog, name: props.databaseName } };
    props.writers.forEach((role, i) => {
      grant(`Writer${i}Database`, role.roleArn, database, ['DESCRIBE']);
      for (const table of props.tableNames) {
        grant(`Writer${i}Table-${table}`, role.roleArn, { table: { catalogId: catalog, databaseName: props.databaseName, name: table } }, WRITER_TABLE_PERMISSIONS);
      }
      grant(`Writer${i}Location`, role.roleArn, { dataLocation: { catalogId: catalog, resourceArn: this.location.resourceArn } }, ['DATA_LOCATION_ACCESS']).addDependency(this.location);
    });
    props.readers.forEach((arn, i) => {
      grant(`Reader${i}Database`, arn, database, ['DESCRIBE']);
      grant(`Reader${i}Tables`, arn, { table: { catalogId: catalog, databaseName: props.databaseName, tableWildcard: {} } }, READER_TABLE_PERMISSIONS);
    });
    this.grants = grants;
  }
}
