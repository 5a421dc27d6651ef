/**
 * Scale benchmark: whole runs through `runLocal` with the real client, against the sandbox over
 * HTTP on 127.0.0.1 with per-request latency and a rate limit, into a temporary FolderStore, each
 * compared with the bound a perfect pipeline could reach:
 *
 *   bound = max(longest stream's pages × latency, total pages / rate limit, total pages × latency / concurrency)
 *
 * Every scenario runs in two fresh processes: the sandbox (its data is generated there and freed
 * when it exits) and the pipeline (so that its peak RSS is its own). Row counts per file are read
 * back from the Parquet footers, not taken from the pipeline's report.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import type { SandboxRateLimit } from '../sandbox/index.ts';
import { MAX_PAGE_SIZE } from '../shared/kombo/client.ts';
import { DEFAULT_CHUNK_ROWS, endedStream } from '../shared/pipeline/chunk.ts';
import type { ModelName } from '../shared/tables.ts';
import { MODELS } from '../shared/tables.ts';

/** One benchmark scenario. */
export interface Scenario {
  readonly name: string;
  readonly integrations: number;
  /** Candidates per integration (applications, interviews and offers follow from it). */
  readonly candidates: number;
  /** Mean latency per request; the sandbox draws it uniformly in ± `jitterMs` / 2. */
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly rateLimit?: SandboxRateLimit;
  readonly concurrency: number;
  /** Models synced (default all of {@link MODELS}). */
  readonly models?: readonly ModelName[];
}

/** The three scale scenarios. Scenario 2's budget is there but cannot bind: it is latency-bound. */
export const SCENARIOS: readonly Scenario[] = [
  { name: '1. many mid-size', integrations: 10, candidates: 20_000, latencyMs: 100, jitterMs: 20, rateLimit: { requests: 10, windowSeconds: 1 }, concurrency: 10 },
  { name: '2. one long chain', integrations: 1, candidates: 200_000, latencyMs: 100, jitterMs: 20, rateLimit: { requests: 100, windowSeconds: 1 }, concurrency: 10 },
  { name: '3. many small', integrations: 50, candidates: 500, latencyMs: 100, jitterMs: 20, rateLimit: { requests: 20, windowSeconds: 1 }, concurrency: 10 },
];

/** Records per model of each integration, as the sandbox generated them. */
type Counts = Record<string, Record<ModelName, number>>;

/** What the bench measured for one scenario. */
export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly status: string;
  readonly wallMs: number;
  readonly boundMs: number;
  readonly boundTerm: 'latency' | 'rate' | 'concurrency';
  readonly pages: number;
  /** Pages of each model's streams, all integrations together. */
  readonly pagesByModel: Readonly<Partial<Record<ModelName, number>>>;
  readonly requests: number;
  readonly throttles: number;
  /** 429s as the sandbox counted them (budget and injected), a cross-check of `throttles`. */
  readonly served429: number;
  readonly files: number;
  readonly medianRowsPerFile: number;
  readonly tables: readonly TableFiles[];
  readonly peakRssMB: number;
  readonly startRssMB: number;
  readonly pacedMs: number;
  /** When each stream ended, ms after the run started. */
  readonly streamMs: Record<string, number>;
  /** The stream that ended last: its pages, and when it ended. */
  readonly lastStream: { readonly stream: string; readonly pages: number; readonly ms: number };
}

/** Files of one table in one scenario. */
export interface TableFiles {
  readonly table: string;
  /** Streams (integrations) that wrote this table. */
  readonly streams: number;
  readonly files: number;
  readonly medianRows: number;
  readonly minRows: number;
  readonly rows: number;
  /** Parquet bytes of all its files. */
  readonly bytes: number;
  /** Compressed bytes of each column, all files together (what a query reading that column scans). */
  readonly columnBytes: Readonly<Record<string, number>>;
  /** Files below {@link DEFAULT_CHUNK_ROWS} rows that are not their stream's only file (a stream's last chunk is one). */
  readonly shortFiles: number;
}

/** The file-size target for a table: median ≥ {@link DEFAULT_CHUNK_ROWS} rows, or every stream in one file. */
export const fileTargetMet = (t: TableFiles): boolean => t.medianRows >= DEFAULT_CHUNK_ROWS || t.files === t.streams;

const INTEGRATION_ID_CHARS = 24;
const TOOLS = ['greenhouse', 'lever', 'workable', 'personio', 'teamtailor'] as const;

/** Kombo-shaped ids: `<tool>:<24 alphanumerics>`. */
export function scenarioIntegrations(s: Scenario): { id: string; tool: string; candidates: number }[] {
  return Array.from({ length: s.integrations }, (_, i) => {
    const tool = TOOLS[i % TOOLS.length]!;
    const id = `${tool}:${`Bench${String(i).padStart(4, '0')}`.padEnd(INTEGRATION_ID_CHARS, 'x')}`;
    return { id, tool, candidates: s.candidates };
  });
}

/** Pages a stream of `records` needs (an empty stream still costs one). */
export const pagesOf = (records: number): number => Math.max(1, Math.ceil(records / MAX_PAGE_SIZE));

/**
 * The bound a run cannot beat: max(longest stream's pages × latency, total pages / rate, total pages ×
 * latency / concurrency), in ms, with the term that decides it.
 */
export function boundOf(s: Scenario, streamPages: readonly number[]): { ms: number; term: ScenarioResult['boundTerm']; pages: number } {
  const total = streamPages.reduce((a, b) => a + b, 0);
  const longest = Math.max(0, ...streamPages);
  const perSecond = s.rateLimit ? s.rateLimit.requests / s.rateLimit.windowSeconds : Number.POSITIVE_INFINITY;
  const terms: [ScenarioResult['boundTerm'], number][] = [
    ['latency', longest * s.latencyMs],
    ['rate', (total / perSecond) * 1000],
    ['concurrency', (total * s.latencyMs) / s.concurrency],
  ];
  const [term, ms] = terms.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { ms, term, pages: total };
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Every file under `dir`, depth first. */
export function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Rows of every data file, per table and stream, from the Parquet footers. */
function filesOf(root: string): { tables: TableFiles[]; rows: number[] } {
  const byTable = new Map<string, Map<string, number[]>>();
  const bytesOf = new Map<string, number>();
  const columnsOf = new Map<string, Record<string, number>>();
  for (const path of walk(root)) {
    if (!path.endsWith('.parquet')) continue;
    const [table, , integration] = relative(root, path).split(sep);
    if (table === undefined || table.startsWith('_') || integration === undefined) continue;
    const bytes = readFileSync(path);
    bytesOf.set(table, (bytesOf.get(table) ?? 0) + bytes.byteLength);
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const rows = Number(metadata.num_rows);
    const columns = columnsOf.get(table) ?? {};
    columnsOf.set(table, columns);
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        const name = chunk.meta_data?.path_in_schema.join('.') ?? '?';
        columns[name] = (columns[name] ?? 0) + Number(chunk.meta_data?.total_compressed_size ?? 0);
      }
    }
    const streams = byTable.get(table) ?? new Map<string, number[]>();
    byTable.set(table, streams);
    streams.set(integration, [...(streams.get(integration) ?? []), rows]);
  }
  const tables = [...byTable].sort(([a], [b]) => a.localeCompare(b)).map(([table, streams]) => {
    const all = [...streams.values()].flat();
    const short = [...streams.values()].reduce((n, files) => n + (files.length === 1 ? 0 : files.filter((r) => r < DEFAULT_CHUNK_ROWS).length), 0);
    return {
      table,
      streams: streams.size,
      files: all.length,
      medianRows: median(all),
      minRows: Math.min(...all),
      rows: all.reduce((a, b) => a + b, 0),
      bytes: bytesOf.get(table) ?? 0,
      columnBytes: columnsOf.get(table) ?? {},
      shortFiles: short,
    };
  });
  return { tables, rows: [...byTable.values()].flatMap((streams) => [...streams.values()].flat()) };
}

/** Spawn this file in a child mode; lines of its stdout come back one at a time. */
function child(args: readonly string[]): { proc: ChildProcess; lines: AsyncIterator<string> } {
  // KOMBO_BENCH_PROFILE_DIR=<dir>: CPU profiles of both processes, to find where a scenario's time goes.
  // KOMBO_BENCH_NODE_ARGS="--flag …": Node options for both (to try V8 settings).
  const profile = process.env.KOMBO_BENCH_PROFILE_DIR;
  const nodeArgs = [...(process.env.KOMBO_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])];
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, lines };
}

/** The next line of a child's stdout that holds a JSON object, parsed. */
export async function nextJson<T>(lines: AsyncIterator<string>, what: string): Promise<T> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${what} exited without answering`);
    if (value.startsWith('{')) return JSON.parse(value) as T;
  }
}

/** Resolves with the exit code once the child process has exited. */
export const exited = (proc: ChildProcess): Promise<number | null> =>
  proc.exitCode !== null ? Promise.resolve(proc.exitCode) : new Promise((resolve) => proc.once('exit', (code) => resolve(code)));

interface SandboxReady {
  url: string;
  apiKey: string;
  counts: Counts;
}
interface SandboxDone {
  requests: number;
  served429: number;
}
interface PipelineDone {
  status: string;
  wallMs: number;
  requests: number;
  throttles: number;
  pacedMs: number;
  startRssMB: number;
  peakRssMB: number;
  /** When each stream ended, ms after the run started. */
  streamMs: Record<string, number>;
}

/** Run one scenario: sandbox process, pipeline process, read the files back, clean up. */
export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kombo-scale-'));
  const sandbox = child(['--sandbox', JSON.stringify(s)]);
  try {
    const ready = await nextJson<SandboxReady>(sandbox.lines, 'the sandbox process');
    const models = s.models ?? MODELS;
    const pipeline = child(['--pipeline', JSON.stringify({ url: ready.url, apiKey: ready.apiKey, dir, concurrency: s.concurrency, integrationIds: Object.keys(ready.counts), models })]);
    const done = await nextJson<PipelineDone>(pipeline.lines, 'the pipeline process');
    await exited(pipeline.proc);
    sandbox.proc.stdin!.end('stats\n');
    const served = await nextJson<SandboxDone>(sandbox.lines, 'the sandbox process');
    const streamPages = Object.values(ready.counts).flatMap((c) => models.map((m) => pagesOf(c[m])));
    const bound = boundOf(s, streamPages);
    const pagesByModel = Object.fromEntries(models.map((m) => [m, Object.values(ready.counts).reduce((n, c) => n + pagesOf(c[m]), 0)]));
    const { tables, rows: fileRows } = filesOf(dir);
    const [lastName, lastMs] = Object.entries(done.streamMs).reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
    const [lastIntegration = '', lastModel = 'candidates'] = lastName.split('/') as [string, ModelName];
    const lastStream = { stream: lastName, pages: pagesOf(ready.counts[lastIntegration]?.[lastModel] ?? 0), ms: lastMs };
    return {
      scenario: s,
      status: done.status,
      wallMs: done.wallMs,
      boundMs: bound.ms,
      boundTerm: bound.term,
      pages: bound.pages,
      pagesByModel,
      requests: done.requests,
      throttles: done.throttles,
      served429: served.served429,
      files: fileRows.length,
      medianRowsPerFile: median(fileRows),
      tables,
      peakRssMB: done.peakRssMB,
      startRssMB: done.startRssMB,
      pacedMs: done.pacedMs,
      streamMs: done.streamMs,
      lastStream,
    };
  } finally {
    if (sandbox.proc.exitCode === null) sandbox.proc.kill();
    await exited(sandbox.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Child modes

async function sandboxMode(s: Scenario): Promise<void> {
  const { generateDataset, modelRecords, startSandbox } = await import('../sandbox/index.ts');
  const dataset = generateDataset({ seed: 6, integrations: scenarioIntegrations(s) });
  const counts: Counts = {};
  // The records each endpoint serves (the funnel models live under `funnel`); an empty stream still costs one page.
  for (const i of dataset.integrations) counts[i.id] = Object.fromEntries(MODELS.map((m) => [m, modelRecords(i, m).length])) as Record<ModelName, number>;
  const sandbox = await startSandbox({
    port: 0,
    dataset,
    faults: { latencyMs: s.latencyMs - s.jitterMs / 2, latencyJitterMs: s.jitterMs, ...(s.rateLimit && { rateLimit: s.rateLimit }) },
  });
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, apiKey: sandbox.apiKey, counts } satisfies SandboxReady)}\n`);
  // Wait for the parent to ask for the figures (or to go away).
  for await (const line of createInterface({ input: process.stdin })) if (line === 'stats') break;
  const served = sandbox.stats.rateLimited + sandbox.stats.faults['429'];
  process.stdout.write(`${JSON.stringify({ requests: sandbox.stats.requests, served429: served } satisfies SandboxDone)}\n`);
  await sandbox.close();
}

async function pipelineMode(args: { url: string; apiKey: string; dir: string; concurrency: number; integrationIds: string[]; models: ModelName[] }): Promise<void> {
  const { KomboClient } = await import('../shared/kombo/client.ts');
  const { FolderStore } = await import('../shared/adapters/local/folder-store.ts');
  const { LocalCatalog } = await import('../shared/adapters/local/local-catalog.ts');
  const { runLocal } = await import('../shared/adapters/local/local-run.ts');
  const { defaultThreadCount } = await import('../shared/config.ts');
  const startRssMB = process.memoryUsage().rss / 2 ** 20;
  const client = new KomboClient({ baseUrl: args.url, apiKey: args.apiKey });
  const store = new FolderStore(args.dir);
  const t0 = performance.now();
  const streamMs: Record<string, number> = {};
  const report = await runLocal({
    client,
    store,
    catalog: new LocalCatalog(store),
    runId: 'bench-scale',
    snapshotDate: '2026-01-01',
    integrationIds: args.integrationIds,
    models: args.models,
    concurrency: args.concurrency,
    // KOMBO_BENCH_THREADS=0 does the pages' work on the main thread, for comparison.
    threads: process.env['KOMBO_BENCH_THREADS'] === undefined ? defaultThreadCount(args.concurrency) : Number(process.env['KOMBO_BENCH_THREADS']),
    onChunk: (msg, result) => {
      if (endedStream(result)) streamMs[`${msg.integrationId}/${msg.model}`] = Math.round(performance.now() - t0);
    },
  });
  const wallMs = performance.now() - t0;
  const done: PipelineDone = {
    status: report.status,
    wallMs,
    requests: client.stats.requests,
    throttles: client.stats.throttles,
    pacedMs: client.pacing.stats.waitedMs,
    startRssMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    streamMs,
  };
  process.stdout.write(`${JSON.stringify(done)}\n`);
}

// Child modes only when this file is the process's entry point, not when another bench imports it.
const mode = process.argv[1] === fileURLToPath(import.meta.url) ? process.argv[2] : undefined;
if (mode === '--sandbox') await sandboxMode(JSON.parse(process.argv[3]!) as Scenario);
else if (mode === '--pipeline') await pipelineMode(JSON.parse(process.argv[3]!) as Parameters<typeof pipelineMode>[0]);
