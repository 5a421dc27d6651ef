/**
 * Lambda figures per handler: bundle size (unzipped, and zipped as the deployment asset is) and
 * cold import time in a fresh Node process. The bundles are built here with esbuild and the options
 * of `infra/constructs/function.ts` (platform node, target node22, ESM, minified, external source
 * map without sources, the `require` banner, AWS SDK bundled), plus a variant with the AWS SDK left
 * to the Lambda runtime, for comparison.
 *
 * Importing a handler runs its module scope only: the environment is parsed and clients are
 * constructed, nothing is sent. The child gets placeholder settings, endpoints on 127.0.0.1 and no
 * credentials source that could reach the network.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { ENV } from '../shared/adapters/aws/env.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The banner of `infra/constructs/function.ts`: ESM bundles get a `require` for CommonJS dependencies. */
const ESM_REQUIRE_SHIM = "import { createRequire as __kombo_createRequire } from 'node:module'; const require = __kombo_createRequire(import.meta.url);";

/** Fresh processes per handler; the median is reported. */
const IMPORT_RUNS = 5;

export type Handler = 'planner' | 'fetcher';
export const HANDLERS: readonly Handler[] = ['planner', 'fetcher'];

/** What was measured for one bundle. */
export interface LambdaFigures {
  readonly handler: Handler;
  /** `bundled`: as deployed (SDK inside the bundle); `sdk-external`: the runtime's SDK v3 instead. */
  readonly sdk: 'bundled' | 'sdk-external';
  readonly codeBytes: number;
  readonly mapBytes: number;
  /** The deployment zip (code and source map), deflate level 9. */
  readonly zipBytes: number;
  readonly importMs: { readonly median: number; readonly min: number; readonly max: number };
}

/** Size of a zip archive holding these files: deflated data plus local and central headers. */
function zipSize(files: readonly string[]): number {
  let size = 22; // end of central directory
  for (const f of files) {
    const name = Buffer.byteLength(basename(f));
    size += 30 + name + deflateRawSync(readFileSync(f), { level: 9 }).length + 46 + name;
  }
  return size;
}

/** Placeholder settings for the handlers' module scope; every endpoint is 127.0.0.1. */
function importEnv(): NodeJS.ProcessEnv {
  const local = 'http://127.0.0.1:9';
  return {
    PATH: process.env.PATH,
    NODE_OPTIONS: '--enable-source-maps',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL: local,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    POWERTOOLS_SERVICE_NAME: 'kombo-etl-bench',
    POWERTOOLS_METRICS_NAMESPACE: 'KomboEtlBench',
    [ENV.warehouseBucket]: 'bench-bucket',
    [ENV.warehousePrefix]: 'warehouse',
    [ENV.fetchQueueUrl]: `${local}/000000000000/bench.fifo`,
    [ENV.apiKeySecretArn]: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bench',
    [ENV.komboApiUrl]: `${local}/v1`,
    [ENV.integrationsPath]: '/bench/integrations',
    [ENV.glueDatabase]: 'bench',
  };
}

/** Milliseconds `import()` of the bundle takes in a fresh Node process. */
async function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: importEnv() });
  return Number(stdout);
}

async function measure(handler: Handler, sdk: LambdaFigures['sdk']): Promise<LambdaFigures> {
  // A self-contained bundle is built outside the project, so that it cannot lean on node_modules;
  // the SDK-external one inside it, where the SDK resolves as the runtime's would.
  const parent = sdk === 'bundled' ? tmpdir() : join(ROOT, 'node_modules', '.cache');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `kombo-lambda-${handler}-`));
  try {
    const outfile = join(dir, 'index.mjs');
    await build({
      entryPoints: [join(ROOT, 'functions', `${handler}.ts`)],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_SHIM },
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: sdk === 'sdk-external' ? ['@aws-sdk/*'] : [],
      logLevel: 'error',
    });
    const runs: number[] = [];
    for (let i = 0; i < IMPORT_RUNS; i++) runs.push(await importMs(outfile));
    runs.sort((a, b) => a - b);
    return {
      handler,
      sdk,
      codeBytes: statSync(outfile).size,
      mapBytes: statSync(`${outfile}.map`).size,
      zipBytes: zipSize([outfile, `${outfile}.map`]),
      importMs: { median: runs[Math.floor(runs.length / 2)]!, min: runs[0]!, max: runs[runs.length - 1]! },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Both handlers, as deployed and with the SDK left to the runtime. */
export async function runLambdaBench(): Promise<LambdaFigures[]> {
  const out: LambdaFigures[] = [];
  for (const handler of HANDLERS) for (const sdk of ['bundled', 'sdk-external'] as const) out.push(await measure(handler, sdk));
  return out;
}
