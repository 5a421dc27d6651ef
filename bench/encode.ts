/**
 * Issue-2 benchmark: parse + validate + flatten + encode throughput on 200,000 sandbox candidates,
 * against the floor (JSON parse + flatten only), and peak RSS of one 50,000-row chunk measured in a
 * fresh process.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateDataset } from '../cli/sandbox/index.ts';
import { createBuffers, flattenInto, resetBuffers } from '../shared/flatten.ts';
import { parsePage } from '../shared/kombo/client.ts';
import { encodeParquet } from '../shared/parquet.ts';
import { DEFAULT_CHUNK_ROWS } from '../shared/pipeline/chunk.ts';

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
  chunkPeakRssMB: number;
}

/** Peak RSS of one process that generates, validates, flattens and encodes a 50,000-row chunk. */
function chunkPeakRss(): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--chunk-rss'], { encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

export function runEncodeBench(rows = 200_000, repeats = 3): EncodeFigures {
  const pages = candidatePages(rows);
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
    chunkPeakRssMB: chunkPeakRss(),
  };
}

if (process.argv.includes('--chunk-rss')) {
  // Child mode: one chunk, then print peak RSS in MB. Pages are built before the baseline is taken
  // so that the figure is the chunk's working set plus the runtime, as in a fetcher.
  const pages = candidatePages(DEFAULT_CHUNK_ROWS);
  endToEnd(pages);
  process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(0)}\n`);
}
