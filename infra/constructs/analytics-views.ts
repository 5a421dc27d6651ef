/**
 * The analytics views (`shared/analytics/views.ts`) as Athena views in the Glue database, so they
 * exist right after `cdk deploy`: one `AWS::Glue::Table` of type `VIRTUAL_VIEW` per view, encoded
 * by `shared/adapters/aws/glue-views.ts`. The views read the contract's tables, so add a dependency on
 * the construct that creates the database and tables (`views.node.addDependency(catalog)`).
 */
import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { DEFAULT_VIEW_OWNER, glueViewTableInput } from '../../shared/adapters/aws/glue-views.ts';
import type { ViewDef } from '../../shared/analytics/views.ts';
import { VIEWS } from '../../shared/analytics/views.ts';

export interface AnalyticsViewsProps {
  /** The Glue database holding the warehouse tables; the views are created in it. */
  readonly databaseName: string;
  /** The views to create. @default VIEWS (all of them, in dependency order) */
  readonly views?: readonly ViewDef[];
  /** Owner recorded in each view definition. @default DEFAULT_VIEW_OWNER */
  readonly owner?: string;
}

/** One Glue `VIRTUAL_VIEW` table per analytics view. */
export class AnalyticsViews extends Construct {
  /** View names, in creation order. */
  readonly viewNames: readonly string[];
  readonly tables: readonly glue.CfnTable[];

  constructor(scope: Construct, id: string, props: AnalyticsViewsProps) {
    super(scope, id);
    const views = props.views ?? VIEWS;
    const owner = props.owner ?? DEFAULT_VIEW_OWNER;
    const tables: glue.CfnTable[] = [];
    for (const view of views) {
      const input = glueViewTableInput(view, props.databaseName, owner);
      const table = new glue.CfnTable(this, `View-${view.name}`, {
        catalogId: Stack.of(this).account,
        databaseName: props.databaseName,
        tableInput: {
          name: input.Name,
          tableType: input.TableType,
          parameters: input.Parameters,
          viewOriginalText: input.ViewOriginalText,
          viewExpandedText: input.ViewExpandedText,
          partitionKeys: [],
          storageDescriptor: {
            columns: (input.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name as string, type: c.Type })),
            serdeInfo: {},
          },
        },
      });
      // A view is only valid once the views it reads exist: create them in order.
      const previous = tables[tables.length - 1];
      if (previous) table.addResourceDependency(previous);
      tables.push(table);
    }
    this.tables = tables;
    this.viewNames = views.map((v) => v.name);
  }
}
