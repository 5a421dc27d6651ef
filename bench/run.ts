/**
 * `npm run bench`: prints figures as Markdown, never asserts timings. Sections (all by default, or
 * name some: `npm run bench -- scale lambda`):
 * - encode: parse + validate + flatten + encode vs the floor, and a 50,000-row chunk's peak RSS.
 * - scale: whole runs against the rate-limited, slow sandbox, compared with their bound.
 * - lambda: bundle sizes and cold import time of each handler.
 * - history: 30 simulated nights of one integration, incremental syncs and versions, against targets
 *   for requests, rows stored and the bytes `hiring_funnel` reads (`bench/history.ts`).
 * - completion: the GETs, LISTs and PUTs on `_runs/` of a run's streams ending, at 90 and 9,000
 *   streams (`bench/completion.ts`).
 * - freshness: a stage move in the sandbox, through its signed webhook, the receiver, dispatch and an
 *   incremental sync, until `applications_latest` shows it; requests per model against their bound
 *   (`bench/webhook-freshness.ts`).
 * - throughput: 1,000 `data-changed` events for 100 integrations in a simulated minute through
 *   `dispatchEvent`: changes covered, runs never overlapping, the gap kept (`bench/webhook-throughput.ts`).
 * - files: 50 syncs of one integration in a day, then the consolidation (`kombo-etl compact`): files
 *   per table of the day before and after, and the bytes `hiring_funnel` reads against the same
 *   history synced once a day (`bench/intraday-files.ts`).
 * - chain (only when named): scenario 2 with the candidates stream alone, a single chain.
 */
import { cpus } from 'node:os';
import { runCompletion } from './completion.ts';
import { runEncodeBench } from './encode.ts';
import { printHistory, runHistory } from './history.ts';
import { runLambdaBench } from './lambda.ts';
import { printIntradayFiles, runIntradayFiles } from './intraday-files.ts';
import { printFreshness, runFreshness } from './webhook-freshness.ts';
import { printThroughput, runThroughput } from './webhook-throughput.ts';
import type { ScenarioResult } from './scale.ts';
import { SCENARIOS, fileTargetMet, runScenario } from './scale.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;

async function encodeSection(): Promise<void> {
  const f = await runEncodeBench();
  console.log('## Encode throughput (200,000 sandbox candidates, median of 3)\n');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| floor: JSON parse + flatten | ${fmt(f.floorRowsPerSec)} rows/s |`);
  console.log(`| end to end: parse + validate + flatten + Parquet encode | ${fmt(f.e2eRowsPerSec)} rows/s |`);
  console.log(`| ratio (target ≥ 40%) | ${(f.ratio * 100).toFixed(1)}% |`);
  console.log(`| Parquet written (all candidate tables) | ${f.parquetMB.toFixed(1)} MB |`);
  console.log(`| sandbox data: ${fmt(f.rows)} candidates generated and serialised as pages | ${f.generateSeconds.toFixed(1)} s |`);
  console.log(`| peak RSS, one full chunk of ${fmt(f.chunk.rows)} candidates with default limits, fresh process (target < 512 MB) | ${f.chunk.rssMB} MB |`);
  console.log();
}

/** `KOMBO_BENCH_SCENARIOS=2` (or `1,3`) runs only those scenarios; all by default. */
function chosenScenarios(): typeof SCENARIOS {
  const asked = process.env['KOMBO_BENCH_SCENARIOS'];
  if (asked === undefined || asked.trim() === '') return SCENARIOS;
  const numbers = asked.split(',').map((n) => Number(n.trim()));
  const bad = numbers.filter((n) => !Number.isInteger(n) || n < 1 || n > SCENARIOS.length);
  if (bad.length > 0) throw new Error(`KOMBO_BENCH_SCENARIOS=${asked}: choose numbers from 1 to ${SCENARIOS.length}, separated by commas`);
  return numbers.map((n) => SCENARIOS[n - 1]!);
}

const ratio = (r: ScenarioResult) => r.wallMs / r.boundMs;
const rate429 = (r: ScenarioResult) => (r.requests === 0 ? 0 : r.throttles / r.requests);

async function scaleSection(): Promise<void> {
  const results: ScenarioResult[] = [];
  for (const s of chosenScenarios()) results.push(await runScenario(s));

  console.log('## Scale: whole runs against the sandbox (runLocal, real client, HTTP on 127.0.0.1)\n');
  console.log('bound = max(longest stream’s pages × latency, total pages / rate limit, total pages × latency / concurrency)\n');
  console.log('| scenario | integrations × candidates | latency | rate limit | concurrency | wall | bound | ratio | requests | 429s | 429 rate | files | median rows/file | peak RSS |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const s = r.scenario;
    const models = s.models === undefined ? '' : ` (${s.models.join(', ')})`;
    const limit = s.rateLimit ? `${s.rateLimit.requests} per ${s.rateLimit.windowSeconds} s` : 'none';
    console.log(
      `| ${s.name} | ${s.integrations} × ${fmt(s.candidates)}${models} | ${s.latencyMs} ms ± ${s.jitterMs / 2} | ${limit} | ${s.concurrency} | ${sec(r.wallMs)} | ${sec(r.boundMs)} (${r.boundTerm}) | ${ratio(r).toFixed(2)}× | ${fmt(r.requests)} | ${fmt(r.throttles)} | ${(rate429(r) * 100).toFixed(2)}% | ${fmt(r.files)} | ${fmt(r.medianRowsPerFile)} | ${Math.round(r.peakRssMB)} MB |`,
    );
  }
  console.log();
  for (const r of results) {
    const notes = [
      `${fmt(r.pages)} pages + ${fmt(r.requests - r.pages - r.throttles)} integration checks`,
      `pages by model: ${Object.entries(r.pagesByModel).map(([m, n]) => `${m} ${fmt(n)}`).join(', ')}`,
      `the last stream to end (${r.lastStream.stream}, ${fmt(r.lastStream.pages)} pages) ended at ${sec(r.lastStream.ms)}`,
      `requests waited ${sec(r.pacedMs)} in all for their turn (pacing)`,
      `the sandbox answered ${fmt(r.served429)} × 429`,
      `RSS at start ${Math.round(r.startRssMB)} MB (Node + tsx)`,
      r.status === 'succeeded' ? '' : `run status: ${r.status}`,
    ].filter((n) => n !== '');
    console.log(`- ${r.scenario.name}: ${notes.join('; ')}.`);
  }
  console.log('\n### Files per table\n');
  console.log('| scenario | table | streams | files | rows | Parquet | bytes/row | median rows/file | smallest file | target: median ≥ 50,000 or whole stream |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const t of r.tables) {
      console.log(
        `| ${r.scenario.name} | ${t.table} | ${t.streams} | ${t.files} | ${fmt(t.rows)} | ${mb(t.bytes)} | ${(t.bytes / t.rows).toFixed(0)} | ${fmt(t.medianRows)} | ${fmt(t.minRows)} | ${fileTargetMet(t) ? 'met' : 'missed'} |`,
      );
    }
  }
  const byScenario = (i: number) => results.find((r) => r.scenario === SCENARIOS[i]);
  const longChain = byScenario(1);
  const applications = longChain?.tables.find((t) => t.table === 'applications');
  if (longChain && applications) {
    // What a query scans per row for each column: the input of docs/SCALE.md's Athena estimate.
    console.log(`\n### Column sizes: applications, ${longChain.scenario.name} (compressed bytes per row)\n`);
    const cols = Object.entries(applications.columnBytes).sort((a, b) => b[1] - a[1]);
    console.log('| column | bytes/row |');
    console.log('|---|---|');
    for (const [c, b] of cols) console.log(`| ${c} | ${(b / applications.rows).toFixed(2)} |`);
  }
  const [s1, s2] = [byScenario(0), byScenario(1)];
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  console.log('\n### Targets\n');
  if (s1) console.log(`- Scenario 1 within 1.25× of its bound with < 2% 429s: ${ratio(s1).toFixed(2)}×, ${(rate429(s1) * 100).toFixed(2)}% — ${verdict(ratio(s1) <= 1.25 && rate429(s1) < 0.02)}.`);
  if (s2) console.log(`- Scenario 2 within 1.1× of its bound: ${ratio(s2).toFixed(2)}× — ${verdict(ratio(s2) <= 1.1)}.`);
  const tables = [s1, s2].flatMap((r) => r?.tables ?? []);
  console.log(`- Median rows per file ≥ 50,000 or the whole stream, every table of scenarios 1–2: ${verdict(tables.length > 0 && tables.every(fileTargetMet))}.`);
  console.log();
}

/** Scenario 2 as one chain in the strict sense: the candidates stream alone, nothing beside it. */
async function chainSection(): Promise<void> {
  const base = SCENARIOS[1]!;
  const r = await runScenario({ ...base, name: `${base.name}, candidates only`, models: ['candidates'] });
  console.log('## One chain alone: scenario 2, candidates stream only\n');
  console.log('| scenario | pages | wall | bound | ratio | files | median rows/file | peak RSS |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(`| ${r.scenario.name} | ${fmt(r.pages)} | ${sec(r.wallMs)} | ${sec(r.boundMs)} (${r.boundTerm}) | ${ratio(r).toFixed(2)}× | ${fmt(r.files)} | ${fmt(r.medianRowsPerFile)} | ${Math.round(r.peakRssMB)} MB |`);
  console.log();
}

async function lambdaSection(): Promise<void> {
  const figures = await runLambdaBench();
  console.log('## Lambda handlers: bundle and cold import\n');
  console.log('esbuild with the options of `infra/constructs/function.ts`; import timed in a fresh `node --enable-source-maps` process, median of 5.\n');
  console.log('| handler | AWS SDK | code | source map | zip (code + map) | cold import (median, min–max) |');
  console.log('|---|---|---|---|---|---|');
  for (const f of figures) {
    const sdk = f.sdk === 'bundled' ? 'bundled (as deployed)' : 'left to the runtime';
    console.log(`| ${f.handler} | ${sdk} | ${mb(f.codeBytes)} | ${mb(f.mapBytes)} | ${mb(f.zipBytes)} | ${Math.round(f.importMs.median)} ms (${Math.round(f.importMs.min)}–${Math.round(f.importMs.max)}) |`);
  }
  const fetcher = figures.find((f) => f.handler === 'fetcher' && f.sdk === 'bundled');
  if (fetcher) {
    const ok = fetcher.zipBytes < 3 * 2 ** 20 && fetcher.importMs.median < 400;
    console.log(`\nTarget, fetcher as deployed: zip < 3 MB and cold import < 400 ms — ${ok ? 'met' : 'missed'}.`);
  }
  console.log();
}

async function historySection(): Promise<void> {
  printHistory(await runHistory());
}

async function completionSection(): Promise<void> {
  console.log('## Run completion: requests on `_runs/` as streams end (in-memory store, a LIST per 1,000 keys)\n');
  console.log('| streams | GETs | LISTs | PUTs | GETs per stream | completed once |');
  console.log('|---|---|---|---|---|---|');
  for (const integrations of [10, 1000]) {
    const f = await runCompletion(integrations);
    console.log(`| ${fmt(f.streams)} | ${fmt(f.gets)} | ${fmt(f.lists)} | ${fmt(f.puts)} | ${(f.gets / f.streams).toFixed(2)} | ${f.completed ? 'yes' : 'no'} |`);
  }
  console.log();
}

async function filesSection(): Promise<void> {
  printIntradayFiles(await runIntradayFiles());
}

async function freshnessSection(): Promise<void> {
  printFreshness(await runFreshness());
}

async function throughputSection(): Promise<void> {
  printThroughput(await runThroughput());
}

const SECTIONS = {
  encode: encodeSection,
  completion: completionSection,
  scale: scaleSection,
  lambda: lambdaSection,
  history: historySection,
  freshness: freshnessSection,
  throughput: throughputSection,
  files: filesSection,
  chain: chainSection,
} as const;
type Section = keyof typeof SECTIONS;
const DEFAULT_SECTIONS: readonly Section[] = ['encode', 'scale', 'lambda', 'history', 'completion', 'freshness', 'throughput', 'files'];
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in SECTIONS));
if (unknown.length > 0) throw new Error(`unknown bench section(s) ${unknown.join(', ')}: choose from ${Object.keys(SECTIONS).join(', ')}`);
const chosen = asked.length > 0 ? (asked as Section[]) : DEFAULT_SECTIONS;

const started = performance.now();
console.log(`# kombo-etl benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}\n`);
for (const name of chosen) await SECTIONS[name]();
console.log(`_Bench time: ${sec(performance.now() - started)}._`);
