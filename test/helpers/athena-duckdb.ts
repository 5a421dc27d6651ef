/**
 * Athena, mocked with aws-sdk-client-mock, answering each query by running its SQL on DuckDB over a
 * local warehouse: values as text, typed by `ColumnInfo`, in pages, a SELECT's header row first, as
 * Athena answers. Each query is RUNNING at the first look and SUCCEEDED at the next.
 */
import type { AthenaClient, ColumnInfo, GetQueryResultsCommandInput, StartQueryExecutionCommandInput } from '@aws-sdk/client-athena';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';

export interface StartedQuery {
  readonly sql: string;
  readonly workGroup: string | undefined;
  readonly database: string | undefined;
}

/** Athena's name for the type of a column, from its values. */
function athenaType(values: readonly unknown[]): string {
  const v = values.find((x) => x !== null && x !== undefined);
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'double';
  return 'varchar';
}

const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Routes the mock's Athena calls to `db`; returns the queries started, in order. */
export function athenaOverDuckDb(mock: AwsClientStub<AthenaClient>, db: WarehouseDb, pageSize = 25): StartedQuery[] {
  const started: StartedQuery[] = [];
  const looks = new Map<string, number>();
  const results = new Map<string, Promise<{ columns: ColumnInfo[]; rows: (string | undefined)[][] }>>();
  mock.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => {
    started.push({ sql: input.QueryString ?? '', workGroup: input.WorkGroup, database: input.QueryExecutionContext?.Database });
    const id = `query-${started.length}`;
    results.set(
      id,
      db.query(input.QueryString ?? '').then((r) => ({
        columns: r.columns.map((name, i) => ({ Name: name, Type: athenaType(r.rows.map((row) => row[i])) })),
        rows: r.rows.map((row) => row.map(text)),
      })),
    );
    return { QueryExecutionId: id };
  });
  mock.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const n = (looks.get(input.QueryExecutionId) ?? 0) + 1;
    looks.set(input.QueryExecutionId, n);
    return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: n === 1 ? 'RUNNING' : 'SUCCEEDED' } } };
  });
  mock.on(GetQueryResultsCommand).callsFake(async (input: GetQueryResultsCommandInput) => {
    const r = await (results.get(input.QueryExecutionId ?? '') as Promise<{ columns: ColumnInfo[]; rows: (string | undefined)[][] }>);
    const header = r.columns.map((c) => c.Name);
    const all = [header, ...r.rows];
    const from = Number(input.NextToken ?? 0);
    const page = all.slice(from, from + pageSize);
    const next = from + pageSize < all.length ? String(from + pageSize) : undefined;
    return {
      ResultSet: { ResultSetMetadata: { ColumnInfo: r.columns }, Rows: page.map((row) => ({ Data: row.map((v) => (v === undefined ? {} : { VarCharValue: v })) })) },
      ...(next !== undefined && { NextToken: next }),
    };
  });
  return started;
}
