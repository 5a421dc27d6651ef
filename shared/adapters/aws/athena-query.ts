/**
 * The report's queries through Athena: start the query in a workgroup, wait for it, read every page
 * of its result, and give each row as an object typed by the result's column types (Athena returns
 * every value as text). The workgroup says where results go; the database is the one holding the
 * warehouse's tables and views.
 */
import type { AthenaClient, ColumnInfo, Row } from '@aws-sdk/client-athena';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { ReportQuery, ReportRow } from '../../analytics/report-data.ts';

/** Where and how the queries run. */
export interface AthenaQueryOptions {
  readonly client: AthenaClient;
  readonly workGroup: string;
  readonly database: string;
  /** Pause between two looks at a running query. @default ATHENA_POLL_MILLIS */
  readonly pollMillis?: number;
  /** Give up on a query still running after this long. @default ATHENA_MAX_WAIT_MILLIS */
  readonly maxWaitMillis?: number;
  /** Injected by tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const ATHENA_POLL_MILLIS = 1_000;
export const ATHENA_MAX_WAIT_MILLIS = 5 * 60_000;

/** A query that did not succeed: its state and Athena's reason. */
export class AthenaQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AthenaQueryError';
  }
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'double', 'float', 'real', 'decimal']);

/** One text value of Athena's result as the type its column declares; a missing value is SQL null. */
export function athenaValue(text: string | undefined, column: ColumnInfo | undefined): unknown {
  if (text === undefined) return null;
  const type = (column?.Type ?? 'varchar').toLowerCase();
  if (NUMERIC.has(type)) return Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

async function waitFor(options: AthenaQueryOptions, id: string): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const poll = options.pollMillis ?? ATHENA_POLL_MILLIS;
  for (let waited = 0; ; waited += poll) {
    const { QueryExecution: q } = await options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = q?.Status?.State;
    if (state === 'SUCCEEDED') return;
    if (state === 'FAILED' || state === 'CANCELLED') throw new AthenaQueryError(`Athena query ${id} ${state.toLowerCase()}: ${q?.Status?.StateChangeReason ?? 'no reason given'}`);
    if (waited >= (options.maxWaitMillis ?? ATHENA_MAX_WAIT_MILLIS)) throw new AthenaQueryError(`Athena query ${id} still ${String(state).toLowerCase()} after ${waited} ms`);
    await sleep(poll);
  }
}

async function readAll(options: AthenaQueryOptions, id: string): Promise<ReportRow[]> {
  const out: ReportRow[] = [];
  let columns: ColumnInfo[] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await options.client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
    if (first) columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    // A SELECT's first row is its header.
    const rows: Row[] = (page.ResultSet?.Rows ?? []).slice(first ? 1 : 0);
    for (const row of rows) out.push(Object.fromEntries(columns.map((c, i) => [c.Name ?? String(i), athenaValue(row.Data?.[i]?.VarCharValue, c)])));
    token = page.NextToken;
    first = false;
  } while (token !== undefined);
  return out;
}

/** The report's {@link ReportQuery} over Athena. */
export function athenaQuery(options: AthenaQueryOptions): ReportQuery {
  return async (sql) => {
    const started = await options.client.send(
      new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: options.workGroup, QueryExecutionContext: { Database: options.database } }),
    );
    const id = started.QueryExecutionId;
    if (id === undefined) throw new AthenaQueryError('Athena started no query: no QueryExecutionId in its answer');
    await waitFor(options, id);
    return readAll(options, id);
  };
}
