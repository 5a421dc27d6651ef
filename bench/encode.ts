/**
 * Encode benchmark: parse + validate + flatten + encode throughput on 200,000 sandbox candidates,
 * against the floor (JSON parse + flatten only), and peak RSS of one full chunk (as many rows as a
 * chunk takes by default) measured in a fresh process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateDataset, startSandbox } from '../sandbox/index.ts';
import { FolderStore } from '../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../shared/adapters/local/local-catalog.ts';
import { KomboClient } from '../shared/kombo/client.ts';
import { EMPTY_TOTALS } from '../shared/ports.ts';
import { processChunk } from '../shared/pipeline/chunk.ts';
import { createBuffers, flattenInto, resetBuffers } from '../shared/flatten.ts';
import { parsePage } from '../shared/kombo/client.ts';
import { encodeParquet } from '../shared/parquet.ts';
import { DEFAULT_CHUNK_ROWS, DEFAULT_CHUNK_TARGET_ROWS } from '../shared/pipeline/chunk.ts';

const PAGE = 250;

/** Pages of 250 candidates as the API would send them (JSON text). */
export function candidatePages(count: number, seed = 7): string[] {
  const ds = generateDataset({ seed, integrations: [{ id: 'greenhouse:BenchBenchBenchBench0001', tool: 'greenhouse', candidates: count }] });
  const all = ds.integrations[0]!.candidates;
  const pages: string[] = [];
  for (let i = 0; i < all.length; i += PAGE) {
    const next = i + PAGE < all.length ? `c${i + PAGE}` : null;
    pages.push(JSON.stringify({ status: 'success', data: { next, results: all.slice(i, i + PAGE) } }));
  }
  return pages;
}

/** Floor: what any pipeline must do at least. */
function floor(pages: readonly string[]): number {
  const buffers = createBuffers('candidates');
  const t0 = performance.now();
  for (let i = 0; i < pages.length; i++) {
    const body = JSON.parse(pages[i]!) as { data: { results: Record<string, unknown>[] } };
    flattenInto(buffers, body.data.results);
    if ((i + 1) % (DEFAULT_CHUNK_ROWS / PAGE) === 0) resetBuffers(buffers);
  }
  return performance.now() - t0;
}

/** End to end: parse, validate every page, flatten, encode one Parquet file per table per chunk. */
function endToEnd(pages: readonly string[]): { ms: number; bytes: number } {
  const buffers = createBuffers('candidates');
  let bytes = 0;
  const flush = () => {
    for (const b of buffers) if (b.rowCount > 0) bytes += encodeParquet(b, { runId: 'bench', syncedAt: Date.now() }).length;
    resetBuffers(buffers);
  };
  const t0 = performance.now();
  for (let i = 0; i < pages.length; i++) {
    const page = parsePage(JSON.parse(pages[i]!), 'candidates', { integrationId: 'greenhouse:BenchBenchBenchBench0001', model: 'candidates' });
    flattenInto(buffers, page.records);
    if ((i + 1) % (DEFAULT_CHUNK_ROWS / PAGE) === 0) flush();
  }
  flush();
  return { ms: performance.now() - t0, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface EncodeFigures {
  rows: number;
  floorRowsPerSec: number;
  e2eRowsPerSec: number;
  ratio: number;
  parquetMB: number;
  /** Seconds the sandbox took to generate the candidates and serialise them as pages. */
  generateSeconds: number;
  /** Peak RSS of one full chunk in a fresh process, and the rows that chunk took. */
  chunk: { rssMB: number; rows: number };
}

const BENCH_INTEGRATION = 'greenhouse:BenchBenchBenchBench0001';

/** Candidates of the chunk-memory integration: more than a chunk takes, so that the chunk ends by its own rule. */
const CHUNK_BENCH_CANDIDATES = DEFAULT_CHUNK_TARGET_ROWS + 10_000;

/**
 * Peak RSS of a fresh process that runs one real full chunk, as a fetcher does: pages over HTTP
 * from the sandbox (served by this process), validated, flattened, encoded and written, until the
 * chunk's default limits end it ({@link DEFAULT_CHUNK_TARGET_ROWS} candidates).
 */
async function chunkPeakRss(): Promise<{ rssMB: number; rows: number }> {
  const dataset = generateDataset({ seed: 7, integrations: [{ id: BENCH_INTEGRATION, tool: 'greenhouse', candidates: CHUNK_BENCH_CANDIDATES }] });
  const sandbox = await startSandbox({ port: 0, dataset });
  const dir = mkdtempSync(join(tmpdir(), 'kombo-bench-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--chunk-rss', sandbox.url, sandbox.apiKey, dir]);
    const [rssMB, rows] = stdout.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
    return { rssMB, rows };
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runEncodeBench(rows = 200_000, repeats = 3): Promise<EncodeFigures> {
  const generatedAt = performance.now();
  const pages = candidatePages(rows);
  const generateSeconds = (performance.now() - generatedAt) / 1000;
  const floors: number[] = [];
  const e2es: number[] = [];
  let bytes = 0;
  for (let r = 0; r < repeats; r++) {
    floors.push(floor(pages));
    const e = endToEnd(pages);
    e2es.push(e.ms);
    bytes = e.bytes;
  }
  const floorRate = rows / (median(floors) / 1000);
  const e2eRate = rows / (median(e2es) / 1000);
  return {
    rows,
    floorRowsPerSec: Math.round(floorRate),
    e2eRowsPerSec: Math.round(e2eRate),
    ratio: e2eRate / floorRate,
    parquetMB: bytes / 1e6,
    generateSeconds,
    chunk: await chunkPeakRss(),
  };
}

const childArgs = process.argv.indexOf('--chunk-rss');
if (childArgs >= 0) {
  // Child mode: one chunk through the real chunk step, then print peak RSS in MB.
  const [url, apiKey, dir] = process.argv.slice(childArgs + 1) as [string, string, string];
  const store = new FolderStore(dir);
  const sent: unknown[] = [];
  const result = await processChunk(
    { client: new KomboClient({ baseUrl: url, apiKey }), store, catalog: new LocalCatalog(store), queue: { send: async (m) => void sent.push(m) } },
    { runId: 'bench', snapshotDate: '2026-01-01', integrationId: BENCH_INTEGRATION, model: 'candidates', cursor: null, chunk: 0, totals: EMPTY_TOTALS },
  );
  const rows = result.totals.rows['candidates'] ?? 0;
  if (result.outcome !== 'continued' || rows < DEFAULT_CHUNK_TARGET_ROWS) throw new Error(`the chunk ended ${result.outcome} with ${rows} rows, not full`);
  process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(0)} ${rows}\n`);
}
