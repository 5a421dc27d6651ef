/**
 * History benchmark: 30 simulated days of one integration synced night by night through `runLocal`
 * (FolderStore + LocalCatalog, the real client over HTTP on 127.0.0.1), against the sandbox's
 * simulated clock (`startSandbox({ timeline, asOf })`, moved on with `setAsOf`), whose `Date` header
 * is the simulated day. The first night syncs in full, the others fetch what changed since the
 * night before, and the integration's own day of the 7-day cycle syncs in full again (the default
 * of the planner: its first such day falls within a week of the first night, then every 7th night).
 *
 * The window starts on 2025-06-06, when about 2 % of the simulated company's records change a day:
 * new candidates and their applications, stage moves, closed applications, offers, interviews, a
 * few deletions. The sandbox process counts the true changes itself: a record is changed on a day
 * when it is new, gone, or differs from the day before in a field the warehouse stores (anything
 * but `changed_at`, `remote_data` and the nested copies of other records that no table keeps).
 *
 * Three processes, as in `scale.ts`: the sandbox, the pipeline (one long-lived process for all the
 * nights, so the client's pacing carries over as it would in a nightly job) and this one, which
 * moves the clock, starts each night and reads the warehouse back afterwards: rows of the tables
 * from the Parquet footers, and the bytes `hiring_funnel` reads from the column chunks of the
 * columns DuckDB's plan of the view projects.
 *
 * Run alone with `npm run bench -- history` or `npx tsx bench/history.ts`.
 * `KOMBO_BENCH_HISTORY_CANDIDATES` and `KOMBO_BENCH_HISTORY_DAYS` change the size.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import type { ModelName } from '../shared/tables.ts';
import { CATALOG_TABLES, MODELS, TABLES, UNSTORED_FIELDS } from '../shared/tables.ts';
import type { WarehouseDb } from '../shared/adapters/local/duckdb.ts';
import { exited, nextJson, walk } from './scale.ts';

/** The history scenario. */
export interface HistoryScenario {
  /** Candidates the sandbox's integration gets over its whole timeline (a little over half of them exist on the first day). */
  readonly candidates: number;
  /** First simulated day (`YYYY-MM-DD`). */
  readonly firstDay: string;
  readonly days: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly concurrency: number;
}

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${raw}: give a whole number of at least 1`);
  return n;
};

/** 1 integration, about 5,000 candidates on the first day, 30 nights from 2025-06-06. */
export function historyScenario(): HistoryScenario {
  return {
    candidates: envNumber('KOMBO_BENCH_HISTORY_CANDIDATES', 9_300),
    firstDay: '2025-06-06',
    days: envNumber('KOMBO_BENCH_HISTORY_DAYS', 30),
    latencyMs: 100,
    jitterMs: 20,
    concurrency: 10,
  };
}

const INTEGRATION_ID = `greenhouse:${'History0'.padEnd(24, 'x')}`;

/** The table of each model's own records (the root of its child tables). */
const ROOT_TABLE: Readonly<Record<ModelName, string>> = Object.fromEntries(
  MODELS.map((m) => [m, TABLES.find((t) => t.model === m && t.arrayField === undefined)!.name]),
) as Record<ModelName, string>;

type PerModel = Record<ModelName, number>;

/** What the sandbox served on one simulated day, and how it differs from the day before. */
interface SandboxDay {
  date: string;
  /** Records each endpoint serves (deleted ones included, as `include_deleted=true` lists them). */
  records: PerModel;
  /** Records new, gone, or different since the day before (all of them on the first day). */
  changes: PerModel;
  added: number;
  deleted: number;
  /** Requests the sandbox has received so far. */
  requests: number;
}

/** One night of the pipeline, as its process measured it. */
interface PipelineNight {
  date: string;
  status: string;
  wallMs: number;
  /** Requests the client sent (pages, retries and the integration check). */
  requests: number;
  pages: number;
  modes: Record<string, number>;
  /** Records Kombo returned, per model. */
  records: PerModel;
  /** Root rows stored (versions, deletion copies included), per model. */
  versions: PerModel;
  deletions: number;
}

/** One night, both sides. */
export interface NightResult extends PipelineNight {
  /** 'full' when every stream synced in full, 'incremental' when every one fetched changes only. */
  readonly kind: 'full' | 'incremental' | 'mixed';
  /** Requests the sandbox received during the night. */
  readonly served: number;
  readonly truth: SandboxDay;
}

/** Parquet of one table: rows and compressed bytes per column, all registered files, and of the first date alone. */
interface TableParquet {
  rows: number;
  files: number;
  bytes: number;
  columnBytes: Record<string, number>;
  firstDateColumnBytes: Record<string, number>;
  firstDateRows: number;
  firstDateBytes: number;
}

/** What the bench measured. */
export interface HistoryResult {
  readonly scenario: HistoryScenario;
  readonly nights: readonly NightResult[];
  readonly tables: Readonly<Record<string, TableParquet>>;
  /** Columns of each table the plan of `hiring_funnel` reads. */
  readonly funnelColumns: Readonly<Record<string, readonly string[]>>;
  /** Compressed bytes of those columns, all registered files of those tables. */
  readonly funnelBytes: number;
  readonly funnelBytesByTable: Readonly<Record<string, number>>;
  /** The same `applications` columns in the first night's partition: one full snapshot. */
  readonly snapshotBytes: number;
  /** Table scans in the plan of `hiring_funnel`, per table (DuckDB; Athena inlines differently). */
  readonly funnelScans: Readonly<Record<string, number>>;
  /** Files and bytes under each top-level folder of the warehouse (tables, `_state`, `_runs`, `_catalog`). */
  readonly folders: Readonly<Record<string, { files: number; bytes: number }>>;
  /** `SELECT count(*) FROM hiring_funnel` after the last night. */
  readonly funnelQueryMs: number;
  readonly funnelRows: number;
}

// ---------------------------------------------------------------------------------------------
// Reading the warehouse back

/** Parquet files of every registered partition of `table`, with their snapshot dates. */
export async function registeredFiles(dir: string, table: string): Promise<{ path: string; date: string }[]> {
  const { FolderStore } = await import('../shared/adapters/local/folder-store.ts');
  const { LocalCatalog } = await import('../shared/adapters/local/local-catalog.ts');
  const store = new FolderStore(dir);
  const out: { path: string; date: string }[] = [];
  for (const p of await new LocalCatalog(store).partitions(table)) {
    for (const key of await store.list(p.location)) if (key.endsWith('.parquet')) out.push({ path: store.locate(key), date: p.snapshotDate });
  }
  return out;
}

async function tableParquet(dir: string, table: string, firstDate: string): Promise<TableParquet> {
  const t: TableParquet = { rows: 0, files: 0, bytes: 0, columnBytes: {}, firstDateColumnBytes: {}, firstDateRows: 0, firstDateBytes: 0 };
  for (const { path, date } of await registeredFiles(dir, table)) {
    const bytes = readFileSync(path);
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    t.files += 1;
    t.bytes += bytes.byteLength;
    t.rows += Number(metadata.num_rows);
    if (date === firstDate) {
      t.firstDateRows += Number(metadata.num_rows);
      t.firstDateBytes += bytes.byteLength;
    }
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        // A nested column (a list) is several leaf chunks: all of them count for the top-level column.
        const name = chunk.meta_data?.path_in_schema[0] ?? '?';
        const size = Number(chunk.meta_data?.total_compressed_size ?? 0);
        t.columnBytes[name] = (t.columnBytes[name] ?? 0) + size;
        if (date === firstDate) t.firstDateColumnBytes[name] = (t.firstDateColumnBytes[name] ?? 0) + size;
      }
    }
  }
  return t;
}

/** One table scan of a query plan: the table and the columns it reads. */
export interface PlanScan {
  readonly table: string;
  readonly columns: readonly string[];
}

interface PlanNode {
  name: string;
  children?: PlanNode[];
  extra_info?: Record<string, unknown>;
}

/**
 * The table scans of `SELECT * FROM <view>` in DuckDB's physical plan (`EXPLAIN (FORMAT JSON)`), with
 * the columns each projects. The plan is made over copies of the tables in a schema of their own,
 * with the analytics views over them: over the warehouse's own views every table is a
 * `read_parquet` that the plan does not name. (Copies with their rows: over empty tables the
 * optimiser drops scans whose joins it knows to be empty.) DuckDB computes a CTE used twice once
 * (Athena inlines it at each use), so the scans are the distinct reads, not Athena's count.
 */
export async function planScans(db: WarehouseDb, view: string): Promise<PlanScan[]> {
  const { analyticsViewStatements } = await import('../shared/adapters/local/duckdb.ts');
  await db.connection.run('CREATE SCHEMA IF NOT EXISTS bench_plan');
  for (const t of CATALOG_TABLES) await db.connection.run(`CREATE OR REPLACE TABLE bench_plan."${t.name}" AS SELECT * FROM main."${t.name}"`);
  await db.connection.run('USE bench_plan');
  try {
    for (const statement of analyticsViewStatements()) await db.connection.run(statement);
    const { rows } = await db.query(`EXPLAIN (FORMAT JSON) SELECT * FROM "${view}"`);
    const scans: PlanScan[] = [];
    const visit = (node: PlanNode): void => {
      const table = node.extra_info?.['Table'];
      if (typeof table === 'string') {
        const projections = node.extra_info?.['Projections'];
        scans.push({ table: table.split('.').pop()!, columns: [projections ?? []].flat().map(String) });
      }
      for (const c of node.children ?? []) visit(c);
    };
    for (const node of JSON.parse(String(rows[0]![1])) as PlanNode[]) visit(node);
    return scans;
  } finally {
    await db.connection.run('USE main');
  }
}

// ---------------------------------------------------------------------------------------------
// The run

function child(args: readonly string[]): { proc: ChildProcess; lines: AsyncIterator<string>; send: (line: string) => void } {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, lines, send: (line) => proc.stdin!.write(`${line}\n`) };
}

const sum = (xs: Iterable<number>): number => {
  let n = 0;
  for (const x of xs) n += x;
  return n;
};

/** Run the scenario: every night, then read the warehouse back. */
export async function runHistory(s: HistoryScenario = historyScenario()): Promise<HistoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-history-'));
  const sandbox = child(['--sandbox', JSON.stringify(s)]);
  let pipeline: ReturnType<typeof child> | undefined;
  try {
    const ready = await nextJson<{ url: string; apiKey: string; dates: string[] }>(sandbox.lines, 'the sandbox process');
    pipeline = child(['--pipeline', JSON.stringify({ url: ready.url, apiKey: ready.apiKey, dir, concurrency: s.concurrency })]);
    const nights: NightResult[] = [];
    let served = (await askSandbox(sandbox, 'count')).requests;
    for (const date of ready.dates) {
      const truth = await askSandbox(sandbox, `day ${date}`);
      pipeline.send(JSON.stringify({ date }));
      const night = await nextJson<PipelineNight>(pipeline.lines, 'the pipeline process');
      const after = (await askSandbox(sandbox, 'count')).requests;
      const modes = Object.keys(night.modes);
      const kind = modes.length === 1 ? (modes[0] as 'full' | 'incremental') : 'mixed';
      nights.push({ ...night, kind, served: after - served, truth });
      served = after;
      process.stderr.write(`history: ${date} ${kind} ${night.status} ${night.requests} requests ${(night.wallMs / 1000).toFixed(1)} s\n`);
    }
    // End of input ends each child's loop, and with nothing left to read the process exits.
    pipeline.proc.stdin!.end();
    await exited(pipeline.proc);
    sandbox.proc.stdin!.end();
    await exited(sandbox.proc);
    return { scenario: s, nights, ...(await readBack(dir, ready.dates[0]!)) };
  } finally {
    for (const c of [pipeline, sandbox]) {
      if (c && c.proc.exitCode === null) c.proc.kill();
      if (c) await exited(c.proc);
    }
    // KOMBO_BENCH_HISTORY_KEEP=1 leaves the warehouse for a look with DuckDB.
    if (process.env['KOMBO_BENCH_HISTORY_KEEP'] === '1') process.stderr.write(`history: warehouse kept at ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function askSandbox(sandbox: ReturnType<typeof child>, line: string): Promise<SandboxDay> {
  sandbox.send(line);
  return nextJson<SandboxDay>(sandbox.lines, 'the sandbox process');
}

async function readBack(dir: string, firstDate: string): Promise<Omit<HistoryResult, 'scenario' | 'nights'>> {
  const folders: Record<string, { files: number; bytes: number }> = {};
  for (const path of walk(dir)) {
    const top = relative(dir, path).split(sep)[0]!;
    const f = (folders[top] ??= { files: 0, bytes: 0 });
    f.files += 1;
    f.bytes += statSync(path).size;
  }
  const tables: Record<string, TableParquet> = {};
  for (const t of CATALOG_TABLES) tables[t.name] = await tableParquet(dir, t.name, firstDate);
  const { openWarehouse } = await import('../shared/adapters/local/duckdb.ts');
  const db = await openWarehouse(dir);
  try {
    const scans = await planScans(db, 'hiring_funnel');
    const funnelColumns: Record<string, string[]> = {};
    const funnelScans: Record<string, number> = {};
    for (const scan of scans) {
      funnelScans[scan.table] = (funnelScans[scan.table] ?? 0) + 1;
      funnelColumns[scan.table] = [...new Set([...(funnelColumns[scan.table] ?? []), ...scan.columns])].sort();
    }
    const bytesOf = (t: string, cols: readonly string[], first: boolean) => sum(cols.map((c) => (first ? tables[t]?.firstDateColumnBytes[c] : tables[t]?.columnBytes[c]) ?? 0));
    const funnelBytesByTable = Object.fromEntries(Object.entries(funnelColumns).map(([t, cols]) => [t, bytesOf(t, cols, false)]));
    const t0 = performance.now();
    const { rows } = await db.query('SELECT count(*) FROM hiring_funnel');
    const funnelQueryMs = performance.now() - t0;
    return {
      tables,
      funnelColumns,
      funnelBytes: sum(Object.values(funnelBytesByTable)),
      funnelBytesByTable,
      snapshotBytes: bytesOf('applications', funnelColumns['applications'] ?? [], true),
      funnelScans,
      folders,
      funnelQueryMs,
      funnelRows: Number(rows[0]![0]),
    };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Printing

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
const spread = (xs: readonly number[], f: (n: number) => string) =>
  xs.length === 0 ? '–' : `${f(sum(xs) / xs.length)} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

/** The figures as Markdown, with the targets. */
export function printHistory(r: HistoryResult): void {
  const s = r.scenario;
  const first = r.nights[0]!;
  const last = r.nights[r.nights.length - 1]!;
  const full = r.nights.filter((n) => n.kind === 'full');
  const incremental = r.nights.filter((n) => n.kind === 'incremental');
  const records = (n: NightResult) => sum(Object.values(n.truth.records));
  const changes = (n: NightResult) => sum(Object.values(n.truth.changes));
  const versions = (n: NightResult) => sum(Object.values(n.versions));
  const returned = (n: NightResult) => sum(Object.values(n.records));

  console.log(`## History: ${r.nights.length} nights of one integration, versions (runLocal, real client, HTTP on 127.0.0.1)\n`);
  console.log(
    `The sandbox's simulated company from ${first.date} to ${last.date} (${fmt(first.truth.records.candidates)} candidates on the first day, ` +
      `${fmt(last.truth.records.candidates)} on the last; ${fmt(records(first))} records of the nine models on the first day), ` +
      `latency ${s.latencyMs} ms ± ${s.jitterMs / 2}, concurrency ${s.concurrency}, no rate limit. Night 1 syncs in full, the others ` +
      `fetch what changed since the night before, and the integration's own day of the 7-day cycle syncs in full again (the default). A record counts as changed ` +
      `on a day when it is new, gone, or differs from the day before, as the sandbox serves it, in a field the warehouse stores ` +
      `(anything but \`changed_at\`, \`remote_data\` and the nested copies of other records no table keeps).\n`,
  );
  console.log('| night | date | mode | requests | pages | records returned | changed at the source | change rate | versions stored | deletions | wall |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  r.nights.forEach((n, k) => {
    const rate = k === 0 ? '–' : pct(changes(n) / records(r.nights[k - 1]!));
    console.log(
      `| ${k + 1} | ${n.date} | ${n.kind} | ${fmt(n.served)} | ${fmt(n.pages)} | ${fmt(returned(n))} | ${k === 0 ? fmt(changes(n)) + ' (all)' : fmt(changes(n))} | ${rate} | ${fmt(versions(n))} | ${fmt(n.deletions)} | ${sec(n.wallMs)} |`,
    );
  });
  const failed = r.nights.filter((n) => n.status !== 'succeeded');
  const mismatched = r.nights.filter((n) => n.requests !== n.served);
  console.log();
  console.log(`Requests as the sandbox counted them (integration check included)${mismatched.length === 0 ? '; the client counted the same' : `; the client counted otherwise on ${mismatched.length} nights`}.${failed.length === 0 ? '' : ` ${failed.length} nights did not succeed: ${failed.map((n) => `${n.date} ${n.status}`).join(', ')}.`}\n`);

  const rates = r.nights.slice(1).map((n, k) => changes(n) / records(r.nights[k]!));
  const modelRate = (m: ModelName) => sum(r.nights.slice(1).map((n) => n.truth.changes[m])) / sum(r.nights.slice(0, -1).map((n) => n.truth.records[m]));
  console.log(
    `Change rate at the source, days 2–${r.nights.length}: ${spread(rates, pct)} of the records a day; candidates ${pct(modelRate('candidates'))}, ` +
      `applications ${pct(modelRate('applications'))}, interviews ${pct(modelRate('interviews'))}, offers ${pct(modelRate('offers'))}; ` +
      `${fmt(sum(r.nights.slice(1).map((n) => n.truth.added)))} records new and ${fmt(sum(r.nights.slice(1).map((n) => n.truth.deleted)))} deleted over the ${r.nights.length - 1} days.\n`,
  );

  // What an incremental night's pages follow: the records Kombo lists, changed in a stored field or not.
  const listedRate = (m: ModelName) =>
    sum(incremental.map((n) => n.records[m])) / Math.max(1, sum(incremental.map((n) => r.nights[r.nights.indexOf(n) - 1]!.truth.records[m])));
  console.log(
    `Records an incremental night lists, per model, against the records of the night before: ${MODELS.map((m) => `${m} ${pct(listedRate(m))}`).join(', ')}. ` +
      `Kombo's \`updated_after\` also lists a candidate whose applications changed; the warehouse stores a version only when a stored field changed.\n`,
  );

  console.log('| nights | count | requests: mean (min–max) | records returned: mean | versions stored: mean | wall: mean (min–max) |');
  console.log('|---|---|---|---|---|---|');
  const row = (name: string, ns: readonly NightResult[]) =>
    console.log(
      `| ${name} | ${ns.length} | ${spread(ns.map((n) => n.served), fmt)} | ${fmt(sum(ns.map(returned)) / Math.max(1, ns.length))} | ${fmt(sum(ns.map(versions)) / Math.max(1, ns.length))} | ${spread(ns.map((n) => n.wallMs), sec)} |`,
    );
  row('first (full)', [first]);
  row('weekly full', full.slice(1));
  row('incremental', incremental);
  console.log();

  // Rows stored against the versions a perfect change capture stores: the first night's records plus every change since.
  console.log(`### Rows of the models' own tables after ${r.nights.length} nights\n`);
  console.log('| model | table | rows stored | records on night 1 + changes since | ratio | one snapshot per night (old design) | ratio |');
  console.log('|---|---|---|---|---|---|---|');
  let stored = 0;
  let truth = 0;
  let snapshots = 0;
  for (const m of MODELS) {
    const rows = r.tables[ROOT_TABLE[m]]?.rows ?? 0;
    const t = first.truth.records[m] + sum(r.nights.slice(1).map((n) => n.truth.changes[m]));
    const snap = sum(r.nights.map((n) => n.truth.records[m]));
    stored += rows;
    truth += t;
    snapshots += snap;
    console.log(`| ${m} | ${ROOT_TABLE[m]} | ${fmt(rows)} | ${fmt(t)} | ${(rows / t).toFixed(2)}× | ${fmt(snap)} | ${(snap / t).toFixed(1)}× |`);
  }
  console.log(`| all | | ${fmt(stored)} | ${fmt(truth)} | ${(stored / truth).toFixed(2)}× | ${fmt(snapshots)} | ${(snapshots / truth).toFixed(1)}× |`);
  console.log();

  console.log(`### Parquet after ${r.nights.length} nights\n`);
  console.log('| table | files | rows | Parquet | night 1: rows, Parquet, bytes/row | later nights: rows, Parquet, bytes/row |');
  console.log('|---|---|---|---|---|---|');
  const perRow = (bytes: number, rows: number) => (rows === 0 ? '–' : (bytes / rows).toFixed(0));
  for (const [name, t] of Object.entries(r.tables)) {
    if (t.files === 0) continue;
    const [laterRows, laterBytes] = [t.rows - t.firstDateRows, t.bytes - t.firstDateBytes];
    console.log(
      `| ${name} | ${fmt(t.files)} | ${fmt(t.rows)} | ${kb(t.bytes)} | ${fmt(t.firstDateRows)}, ${kb(t.firstDateBytes)}, ${perRow(t.firstDateBytes, t.firstDateRows)} | ${fmt(laterRows)}, ${kb(laterBytes)}, ${perRow(laterBytes, laterRows)} |`,
    );
  }
  console.log();
  console.log(`Warehouse folders: ${Object.entries(r.folders).sort(([a], [b]) => a.localeCompare(b)).map(([f, v]) => `${f} ${fmt(v.files)} files, ${kb(v.bytes)}`).join('; ')}.\n`);

  console.log(`### Bytes \`hiring_funnel\` reads after ${r.nights.length} nights\n`);
  console.log(
    'The compressed column chunks of every column the view reads (from DuckDB\'s plan), of every registered file of the tables ' +
      'it reads, each counted once; against the same columns of the first night\'s `applications` partition (one full snapshot).\n',
  );
  console.log('| table | scans in DuckDB\'s plan | columns read | bytes |');
  console.log('|---|---|---|---|');
  for (const [table, cols] of Object.entries(r.funnelColumns)) {
    console.log(`| ${table} | ${r.funnelScans[table] ?? 0} | ${cols.join(', ')} | ${kb(r.funnelBytesByTable[table] ?? 0)} |`);
  }
  console.log(`| all | | | ${kb(r.funnelBytes)} |`);
  console.log();
  const apps = r.tables['applications'];
  if (apps) {
    // Per-row sizes of the columns the view reads, the input of docs/SCALE.md's Athena estimate.
    const later = apps.rows - apps.firstDateRows;
    console.log(`Column sizes of \`applications\` (the columns the view reads), compressed bytes per row:\n`);
    console.log('| column | night 1 | later nights |');
    console.log('|---|---|---|');
    for (const c of r.funnelColumns['applications'] ?? []) {
      if (apps.columnBytes[c] === undefined) continue;
      const first = apps.firstDateColumnBytes[c] ?? 0;
      console.log(`| ${c} | ${(first / Math.max(1, apps.firstDateRows)).toFixed(2)} | ${((apps.columnBytes[c]! - first) / Math.max(1, later)).toFixed(2)} |`);
    }
    console.log();
  }
  if (apps && apps.firstDateRows > 0 && apps.rows > apps.firstDateRows) {
    const cols = r.funnelColumns['applications'] ?? [];
    const firstBytes = sum(cols.map((c) => apps.firstDateColumnBytes[c] ?? 0));
    const laterBytes = sum(cols.map((c) => apps.columnBytes[c] ?? 0)) - firstBytes;
    const laterRows = apps.rows - apps.firstDateRows;
    console.log(
      `Those columns take ${(firstBytes / apps.firstDateRows).toFixed(1)} B per row in night 1's partition (${fmt(apps.firstDateRows)} rows) and ` +
        `${(laterBytes / laterRows).toFixed(1)} B per row in the ${apps.files - 1} later files (${fmt(laterRows / Math.max(1, apps.files - 1))} rows each on average): ` +
        `the versions are ${(apps.rows / apps.firstDateRows).toFixed(2)}× the rows of one snapshot, ${(r.funnelBytesByTable['applications']! / firstBytes).toFixed(2)}× its bytes.\n`,
    );
  }
  console.log(`\`SELECT count(*) FROM hiring_funnel\` in DuckDB: ${fmt(r.funnelRows)} rows in ${sec(r.funnelQueryMs)}.\n`);

  const fullRequests = first.served;
  const worst = Math.max(0, ...incremental.map((n) => n.served));
  const meanIncremental = sum(incremental.map((n) => n.served)) / Math.max(1, incremental.length);
  const rowRatio = stored / truth;
  const byteRatio = r.funnelBytes / r.snapshotBytes;
  console.log('### Targets\n');
  console.log(`- Requests of an incremental night ≤ 5 % of a full night's (integration check included): at most ${fmt(worst)} against ${fmt(fullRequests)}, ${pct(worst / fullRequests)} (mean ${pct(meanIncremental / fullRequests)}) — ${verdict(incremental.length > 0 && worst <= 0.05 * fullRequests)}.`);
  console.log(`- Rows stored after ${r.nights.length} nights ≤ 1.1 × (records + true changes): ${fmt(stored)} against ${fmt(truth)}, ${rowRatio.toFixed(2)}× (a snapshot a night: ${(snapshots / truth).toFixed(1)}×) — ${verdict(rowRatio <= 1.1)}.`);
  console.log(`- Bytes \`hiring_funnel\` reads after ${r.nights.length} nights ≤ 2 × one full snapshot of \`applications\`: ${kb(r.funnelBytes)} against ${kb(r.snapshotBytes)}, ${byteRatio.toFixed(2)}× — ${verdict(byteRatio <= 2)}.`);
  console.log(`- Wall time per night: full ${spread(full.map((n) => n.wallMs), sec)}, incremental ${spread(incremental.map((n) => n.wallMs), sec)}.`);
  console.log();
}

// ---------------------------------------------------------------------------------------------
// Child modes

/**
 * Top-level fields of each model that the comparison leaves out: `changed_at` and `remote_data`
 * (the pipeline does not compare them either) and the nested copies no table stores (a candidate's
 * application summaries, an application's candidate, …: `UNSTORED_FIELDS`), whose changes are
 * versions of the records they copy.
 */
const IGNORED_FIELDS = new Map<ModelName, ReadonlySet<string>>(
  MODELS.map((m) => {
    const unstored = UNSTORED_FIELDS.filter((f) => f.model === m && !f.path.includes('.')).map((f) => f.path.replace(/\[\]$/, ''));
    return [m, new Set(['changed_at', 'remote_data', ...unstored])];
  }),
);

/** A record's fingerprint: everything the sandbox serves but {@link IGNORED_FIELDS}. */
function fingerprint(model: ModelName, record: Record<string, unknown>): string {
  const ignored = IGNORED_FIELDS.get(model)!;
  const kept = Object.entries(record).filter(([k]) => !ignored.has(k));
  return createHash('sha1').update(JSON.stringify(kept)).digest('base64');
}

async function sandboxMode(s: HistoryScenario): Promise<void> {
  const { consecutiveDays, createSandboxTimeline, modelRecords, startSandbox } = await import('../sandbox/index.ts');
  const timeline = createSandboxTimeline({ seed: 6, integrations: [{ id: INTEGRATION_ID, tool: 'greenhouse', candidates: s.candidates }] });
  const dates = consecutiveDays(s.firstDay, s.days);
  const sandbox = await startSandbox({ port: 0, timeline, asOf: dates[0]!, faults: { latencyMs: s.latencyMs - s.jitterMs / 2, latencyJitterMs: s.jitterMs } });
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, apiKey: sandbox.apiKey, dates })}\n`);
  let previous: Map<ModelName, Map<string, string>> | undefined;
  let previousDeleted = new Set<string>();
  let last: SandboxDay | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'count') {
      process.stdout.write(`${JSON.stringify({ ...last, requests: sandbox.stats.requests })}\n`);
      continue;
    }
    const date = line.slice('day '.length);
    sandbox.setAsOf(date);
    const data = sandbox.dataset.integrations[0]!;
    const current = new Map<ModelName, Map<string, string>>();
    const deletedNow = new Set<string>();
    const records = {} as PerModel;
    const changes = {} as PerModel;
    let added = 0;
    let deleted = 0;
    for (const m of MODELS) {
      const prints = new Map<string, string>();
      for (const r of modelRecords(data, m)) {
        const key = String(r['id']);
        prints.set(key, fingerprint(m, r));
        if (r['remote_deleted_at'] !== null && r['remote_deleted_at'] !== undefined) deletedNow.add(`${m}/${key}`);
      }
      current.set(m, prints);
      records[m] = prints.size;
      const before = previous?.get(m);
      if (before === undefined) {
        changes[m] = prints.size;
        continue;
      }
      let n = 0;
      for (const [key, print] of prints) {
        const was = before.get(key);
        if (was === undefined) added += 1;
        if (was !== print) n += 1;
      }
      for (const key of before.keys()) {
        if (!prints.has(key)) {
          n += 1;
          deleted += 1;
        }
      }
      changes[m] = n;
    }
    if (previous !== undefined) for (const k of deletedNow) if (!previousDeleted.has(k)) deleted += 1;
    previous = current;
    previousDeleted = deletedNow;
    last = { date, records, changes, added, deleted, requests: sandbox.stats.requests };
    process.stdout.write(`${JSON.stringify(last)}\n`);
  }
  await sandbox.close();
}

async function pipelineMode(args: { url: string; apiKey: string; dir: string; concurrency: number }): Promise<void> {
  const { KomboClient } = await import('../shared/kombo/client.ts');
  const { FolderStore } = await import('../shared/adapters/local/folder-store.ts');
  const { LocalCatalog } = await import('../shared/adapters/local/local-catalog.ts');
  const { runLocal } = await import('../shared/adapters/local/local-run.ts');
  const { defaultThreadCount } = await import('../shared/config.ts');
  const client = new KomboClient({ baseUrl: args.url, apiKey: args.apiKey });
  const store = new FolderStore(args.dir);
  for await (const line of createInterface({ input: process.stdin })) {
    const { date } = JSON.parse(line) as { date: string };
    const before = client.stats.requests;
    const t0 = performance.now();
    const report = await runLocal({
      client,
      store,
      catalog: new LocalCatalog(store),
      runId: `bench-history-${date}`,
      snapshotDate: date,
      integrationIds: [INTEGRATION_ID],
      models: MODELS,
      concurrency: args.concurrency,
      threads: defaultThreadCount(args.concurrency),
    });
    const wallMs = performance.now() - t0;
    const modes: Record<string, number> = {};
    const records = {} as PerModel;
    const versions = {} as PerModel;
    for (const m of MODELS) {
      records[m] = 0;
      versions[m] = 0;
    }
    let pages = 0;
    let deletions = 0;
    for (const stream of report.streams) {
      const mode = stream.sync?.mode ?? 'none';
      modes[mode] = (modes[mode] ?? 0) + 1;
      pages += stream.totals.pages;
      records[stream.model] += stream.totals.records ?? 0;
      versions[stream.model] += stream.totals.rows[ROOT_TABLE[stream.model]] ?? 0;
      deletions += stream.totals.deletions ?? 0;
    }
    const night: PipelineNight = { date, status: report.status, wallMs, requests: client.stats.requests - before, pages, modes, records, versions, deletions };
    process.stdout.write(`${JSON.stringify(night)}\n`);
  }
}

// Run directly (`npx tsx bench/history.ts`), the whole scenario; with a child flag, that child.
const entry = process.argv[1] === fileURLToPath(import.meta.url);
const mode = entry ? process.argv[2] : undefined;
if (mode === '--sandbox') await sandboxMode(JSON.parse(process.argv[3]!) as HistoryScenario);
else if (mode === '--pipeline') await pipelineMode(JSON.parse(process.argv[3]!) as Parameters<typeof pipelineMode>[0]);
else if (entry) printHistory(await runHistory());
