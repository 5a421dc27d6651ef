/**
 * Files of many syncs a day: one integration of the simulated company synced in full at the end of
 * a day, then 50 times through the next day (the sandbox's clock moved every 28.8 minutes, each
 * sync incremental, all of the same snapshot date), then the day's consolidation
 * (`kombo-etl compact --today <the day after>`). Printed: the Parquet files per table of that
 * integration and date before and after, and the Athena-style bytes `hiring_funnel` reads (the
 * column chunks of the columns DuckDB's plan of the view projects, plus each file's footer),
 * against the same history synced once a day (a second warehouse, synced at the end of each day).
 *
 * Run alone with `npm run bench -- files`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import type { RunningSandbox } from '../sandbox/index.ts';
import { DEFAULT_SANDBOX_INTEGRATIONS, asOfInstant, createSandboxTimeline, startSandbox } from '../sandbox/index.ts';
import { openWarehouse } from '../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../shared/adapters/local/local-run.ts';
import { KomboClient } from '../shared/kombo/client.ts';
import { CATALOG_TABLES, MODELS, TABLES } from '../shared/tables.ts';
import { newRunId } from '../shared/warehouse/layout.ts';
import { planScans, registeredFiles } from './history.ts';
import { incrementalDay, nextDay } from './days.ts';

/** The scenario. */
export const INTRADAY = {
  integration: DEFAULT_SANDBOX_INTEGRATIONS[0]!,
  earliestDay: '2025-06-06',
  syncs: 50,
  /** Rows per consolidated file at most. */
  rowsPerFile: 50_000,
} as const;

/** Files and rows of one table, for one date of the integration. */
export interface TableDate {
  readonly files: number;
  readonly rows: number;
}

export interface FilesFigures {
  readonly day: string;
  /** Per table: the day's files after 50 syncs, after the consolidation, and in the warehouse synced once a day. */
  readonly tables: readonly { table: string; many: TableDate; consolidated: TableDate; daily: TableDate }[];
  /** Distinct runs whose versions the day's `applications` partition holds after the 50 syncs. */
  readonly runsInDay: number;
  /** Bytes `hiring_funnel` reads per table it scans: after 50 syncs, after the consolidation, and synced once a day. */
  readonly funnelBytes: { many: Record<string, number>; consolidated: Record<string, number>; daily: Record<string, number> };
  readonly compactExit: number;
  readonly compactOutput: string;
  readonly syncSeconds: number;
}

const BIN = fileURLToPath(new URL('../bin/kombo-etl.js', import.meta.url));

/** Runs the scenario. */
export async function runIntradayFiles(): Promise<FilesFigures> {
  const spec = INTRADAY;
  const first = incrementalDay(spec.integration.id, spec.earliestDay);
  const day = nextDay(first);
  const many = mkdtempSync(join(tmpdir(), 'kombo-bench-files-many-'));
  const daily = mkdtempSync(join(tmpdir(), 'kombo-bench-files-daily-'));
  const sandbox = await startSandbox({ timeline: createSandboxTimeline({ integrations: [spec.integration] }), asOf: first });
  try {
    await sync(sandbox, many);
    await sync(sandbox, daily);
    const started = performance.now();
    const start = asOfInstant(first) + 1;
    for (let k = 1; k <= spec.syncs; k++) {
      sandbox.setClock(new Date(start + Math.round((k * 86_400_000) / spec.syncs) - (k === spec.syncs ? 1 : 0)).toISOString());
      await sync(sandbox, many);
    }
    const syncSeconds = (performance.now() - started) / 1000;
    await sync(sandbox, daily);
    const before = await readBack(many, day);
    const runsInDay = await distinctRuns(many, day);
    const compact = await run(['compact', '--warehouse', many, '--retention-days', '0', '--today', nextDay(day)]);
    const after = await readBack(many, day);
    const once = await readBack(daily, day);
    return {
      day,
      tables: CATALOG_TABLES.map((t) => ({
        table: t.name,
        many: before.files[t.name] ?? { files: 0, rows: 0 },
        consolidated: after.files[t.name] ?? { files: 0, rows: 0 },
        daily: once.files[t.name] ?? { files: 0, rows: 0 },
      })).filter((t) => t.many.files + t.daily.files > 0),
      runsInDay,
      funnelBytes: { many: before.funnelBytes, consolidated: after.funnelBytes, daily: once.funnelBytes },
      compactExit: compact.code,
      compactOutput: compact.output,
      syncSeconds,
    };
  } finally {
    await sandbox.close();
    rmSync(many, { recursive: true, force: true });
    rmSync(daily, { recursive: true, force: true });
  }
}

async function sync(sandbox: RunningSandbox, dir: string): Promise<void> {
  const store = new FolderStore(dir);
  const report = await runLocal({
    client: new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey }),
    store,
    catalog: new LocalCatalog(store),
    runId: newRunId(),
    snapshotDate: sandbox.asOf as string,
    integrationIds: [INTRADAY.integration.id],
    models: MODELS,
    concurrency: 4,
  });
  if (report.status !== 'succeeded') throw new Error(`a sync of ${sandbox.asOf} ended ${report.status}`);
}

function run(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

async function distinctRuns(dir: string, day: string): Promise<number> {
  const db = await openWarehouse(dir);
  try {
    const { rows } = await db.query(`SELECT count(DISTINCT _run_id) FROM applications WHERE snapshot_date = DATE '${day}'`);
    return Number(rows[0]?.[0] ?? 0);
  } finally {
    db.close();
  }
}

/** Files and rows per table for `day`, and the bytes `hiring_funnel` reads over the whole warehouse. */
async function readBack(dir: string, day: string): Promise<{ files: Record<string, TableDate>; funnelBytes: Record<string, number> }> {
  const files: Record<string, TableDate> = {};
  const columnBytes: Record<string, Record<string, number>> = {};
  const footerBytes: Record<string, number> = {};
  for (const t of CATALOG_TABLES) {
    for (const { path, date } of await registeredFiles(dir, t.name)) {
      const bytes = readFileSync(path);
      const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      if (date === day) {
        const f = (files[t.name] ??= { files: 0, rows: 0 });
        files[t.name] = { files: f.files + 1, rows: f.rows + Number(meta.num_rows) };
      }
      // Every file read costs its footer (and the 8 bytes of length and magic around it).
      footerBytes[t.name] = (footerBytes[t.name] ?? 0) + meta.metadata_length + 8;
      const cols = (columnBytes[t.name] ??= {});
      for (const group of meta.row_groups) {
        for (const chunk of group.columns) {
          const name = chunk.meta_data?.path_in_schema[0] ?? '?';
          cols[name] = (cols[name] ?? 0) + Number(chunk.meta_data?.total_compressed_size ?? 0);
        }
      }
    }
  }
  const db = await openWarehouse(dir);
  try {
    const scans = await planScans(db, 'hiring_funnel');
    const funnelBytes: Record<string, number> = {};
    for (const scan of scans) {
      funnelBytes[scan.table] = (funnelBytes[scan.table] ?? 0) + (footerBytes[scan.table] ?? 0);
      for (const c of scan.columns) funnelBytes[scan.table] = (funnelBytes[scan.table] ?? 0) + (columnBytes[scan.table]?.[c] ?? 0);
    }
    return { files, funnelBytes };
  } finally {
    db.close();
  }
}

/** Prints the figures as Markdown. */
export function printIntradayFiles(f: FilesFigures): void {
  const s = INTRADAY;
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} kB`;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  console.log(`## Files of ${s.syncs} syncs in a day: one integration (${fmt(s.integration.candidates)} candidates over its timeline), ${f.day}, before and after the consolidation\n`);
  console.log(`${s.syncs} incremental syncs of the day took ${f.syncSeconds.toFixed(1)} s; the day's applications partition holds versions of ${f.runsInDay} run(s).\n`);
  if (f.runsInDay <= 1) {
    console.log('Several syncs a day, each with its own versions: not available in this checkout (a later sync of the day carries the earlier rows into its own run and keeps one version per record); the figures below are what the checkout does today.\n');
  }
  // The data tables' files are what the consolidation rewrites; `syncs` keeps a row per sync.
  const dataTables = new Set(TABLES.map((t) => t.name));
  const consolidated = f.tables.filter((t) => dataTables.has(t.table)).every((t) => t.consolidated.files <= Math.max(1, Math.ceil(t.consolidated.rows / s.rowsPerFile)));
  if (f.compactExit !== 0) console.log(`The consolidation (\`kombo-etl compact\`) failed with exit ${f.compactExit}: ${f.compactOutput.split('\n')[0] ?? ''}\n`);
  else if (!consolidated) console.log(`Consolidation of a day that is over: not available in this checkout (\`kombo-etl compact\` left more than one file per ${fmt(s.rowsPerFile)} rows).\n`);
  console.log(`| table | files after ${s.syncs} syncs | rows | files after consolidation | rows | files, synced once a day | rows |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const t of f.tables) console.log(`| ${t.table} | ${t.many.files} | ${fmt(t.many.rows)} | ${t.consolidated.files} | ${fmt(t.consolidated.rows)} | ${t.daily.files} | ${fmt(t.daily.rows)} |`);
  const total = (pick: (t: FilesFigures['tables'][number]) => TableDate): number => f.tables.reduce((n, t) => n + pick(t).files, 0);
  console.log(`| all tables | ${total((t) => t.many)} | | ${total((t) => t.consolidated)} | | ${total((t) => t.daily)} | |`);
  const sum = (bytes: Record<string, number>): number => Object.values(bytes).reduce((n, b) => n + b, 0);
  const [many, consolidatedBytes, daily] = [sum(f.funnelBytes.many), sum(f.funnelBytes.consolidated), sum(f.funnelBytes.daily)];
  console.log(
    `\nBytes \`hiring_funnel\` reads (projected column chunks + footers, whole warehouse): after ${s.syncs} syncs ${kb(many)}, after the consolidation ${kb(consolidatedBytes)}, synced once a day ${kb(daily)} (consolidated ÷ once a day: ${(consolidatedBytes / daily).toFixed(2)}×).\n`,
  );
  console.log('| table scanned | after the syncs | after the consolidation | synced once a day |');
  console.log('|---|---|---|---|');
  for (const table of Object.keys(f.funnelBytes.daily).sort()) {
    console.log(`| ${table} | ${kb(f.funnelBytes.many[table] ?? 0)} | ${kb(f.funnelBytes.consolidated[table] ?? 0)} | ${kb(f.funnelBytes.daily[table] ?? 0)} |`);
  }
  console.log();
}
