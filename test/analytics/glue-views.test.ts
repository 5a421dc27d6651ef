/**
 * The views as Athena sees them: Glue `VIRTUAL_VIEW` tables in Presto-view encoding, rendered by
 * `shared/adapters/aws/glue-views.ts` and created by the `AnalyticsViews` CDK construct.
 */
import type { TableInput } from '@aws-sdk/client-glue';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AnalyticsViews } from '../../infra/constructs/analytics-views.ts';
import { ATHENA_CATALOG, DEFAULT_VIEW_OWNER, decodePrestoViewText, glueViewTableInput, viewComment } from '../../shared/adapters/aws/glue-views.ts';
import { HIVE_VIEW_TYPES, VIEWS } from '../../shared/analytics/views.ts';

const DATABASE = 'kombo_warehouse';

/**
 * How Trino's Glue metastore decides that a Glue table is a view (Athena engine v3 is Trino):
 * `GlueConverter.fromGlueTable` puts the table's `Description`, when set, over its `comment`
 * parameter, and `ViewReaderUtil.isTrinoView` wants type `VIRTUAL_VIEW` and comment `Presto View`.
 */
function trinoSeesAView(input: TableInput): boolean {
  const comment = input.Description ?? input.Parameters?.['comment'];
  return input.TableType === 'VIRTUAL_VIEW' && comment === 'Presto View';
}

describe.each(VIEWS.map((v) => [v.name, v] as const))('Glue view %s', (name, view) => {
  const input = glueViewTableInput(view, DATABASE);

  it('has exactly the shape of a Presto view: VIRTUAL_VIEW, presto_view and comment parameters, no Description', () => {
    expect(Object.keys(input).sort()).toEqual(['Name', 'Parameters', 'PartitionKeys', 'StorageDescriptor', 'TableType', 'ViewExpandedText', 'ViewOriginalText']);
    expect(input).not.toHaveProperty('Description');
    expect(input).toMatchObject({ Name: name, TableType: 'VIRTUAL_VIEW', ViewExpandedText: '/* Presto View */', PartitionKeys: [] });
    expect(input.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
  });

  it('is recognised as a view by Trino over Glue', () => {
    expect(trinoSeesAView(input)).toBe(true);
  });

  it('carries its SQL, catalog, database and declared columns, base64-encoded', () => {
    expect(input.ViewOriginalText).toMatch(/^\/\* Presto View: [A-Za-z0-9+/]+=*\s\*\/$/);
    expect(decodePrestoViewText(input.ViewOriginalText as string)).toEqual({
      originalSql: view.sql,
      catalog: ATHENA_CATALOG,
      schema: DATABASE,
      columns: view.columns.map((c) => ({ name: c.name, type: c.type })),
      comment: viewComment(view),
      owner: DEFAULT_VIEW_OWNER,
      runAsInvoker: false,
    });
  });

  it('lists the same columns with Hive types in its storage descriptor', () => {
    expect(input.StorageDescriptor?.Columns).toEqual(view.columns.map((c) => ({ Name: c.name, Type: HIVE_VIEW_TYPES[c.type] })));
    for (const c of input.StorageDescriptor?.Columns ?? []) expect(c.Type).toMatch(/^(string|bigint|int|double|date|timestamp|boolean)$/);
  });
});

describe('AnalyticsViews construct', () => {
  const app = new App();
  const stack = new Stack(app, 'ViewsTest');
  const views = new AnalyticsViews(stack, 'Views', { databaseName: DATABASE });
  const template = Template.fromStack(stack);

  it('creates one Glue table per view, in the given database', () => {
    template.resourceCountIs('AWS::Glue::Table', VIEWS.length);
    expect(views.viewNames).toEqual(VIEWS.map((v) => v.name));
  });

  it.each(VIEWS.map((v) => [v.name, v] as const))('creates %s with its encoded definition and columns', (name, view) => {
    const tables = template.findResources('AWS::Glue::Table', { Properties: { TableInput: { Name: name } } });
    const [table] = Object.values(tables) as { Properties: { DatabaseName: string; TableInput: Record<string, unknown> } }[];
    expect(table?.Properties.DatabaseName).toBe(DATABASE);
    const tableInput = table?.Properties.TableInput as { TableType: string; Parameters: Record<string, string>; ViewOriginalText: string; StorageDescriptor: { Columns: { Name: string; Type: string }[] } };
    expect(tableInput.TableType).toBe('VIRTUAL_VIEW');
    expect(tableInput).not.toHaveProperty('Description');
    expect(tableInput.Parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(decodePrestoViewText(tableInput.ViewOriginalText).originalSql).toBe(view.sql);
    expect(tableInput.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(view.columns.map((c) => c.name));
  });

  it('creates the views in dependency order', () => {
    const tables = template.findResources('AWS::Glue::Table');
    const idOf = (name: string) => Object.entries(tables).find(([, t]) => (t as { Properties: { TableInput: { Name: string } } }).Properties.TableInput.Name === name)?.[0];
    VIEWS.slice(1).forEach((v, k) => {
      const deps = (tables[idOf(v.name) as string] as { DependsOn?: string[] }).DependsOn ?? [];
      expect(deps).toContain(idOf((VIEWS[k] as { name: string }).name));
    });
  });
});
