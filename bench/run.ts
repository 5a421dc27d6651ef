/**
 * `npm run bench`: prints figures, never asserts timings. Sections:
 * - encode: parse + validate + flatten + encode vs the floor, and a 50,000-row chunk's peak RSS.
 */
import { runEncodeBench } from './encode.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

async function encodeSection(): Promise<void> {
  const f = await runEncodeBench();
  console.log('## Encode throughput (200,000 sandbox candidates, median of 3)\n');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| floor: JSON parse + flatten | ${fmt(f.floorRowsPerSec)} rows/s |`);
  console.log(`| end to end: parse + validate + flatten + Parquet encode | ${fmt(f.e2eRowsPerSec)} rows/s |`);
  console.log(`| ratio (target ≥ 40%) | ${(f.ratio * 100).toFixed(1)}% |`);
  console.log(`| Parquet written (all candidate tables) | ${f.parquetMB.toFixed(1)} MB |`);
  console.log(`| peak RSS, one 50,000-row chunk (target < 512 MB) | ${f.chunkPeakRssMB} MB |`);
  console.log();
}

console.log(`# kombo-etl benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}\n`);
await encodeSection();
