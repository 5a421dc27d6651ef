/**
 * `kombo-etl`: the local runner. Parses options once, maps errors to exit codes:
 * 0 complete, 1 some stream failed (the others are fully written), 2 bad usage or config.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { DEFAULT_CONCURRENCY, DEFAULT_FULL_EVERY_DAYS, DEFAULT_WAREHOUSE, FULL_SYNC_EVERY_DAYS_ENV } from '../shared/config.ts';
import { parseRetryConfig, parseSyncConfig, secretFlagWarnings } from './config.ts';
import type { SyncInput } from './config.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import { MODELS } from '../shared/tables.ts';
import { EXIT, syncCommand } from './commands/sync.ts';
import type { ReportFormat } from './output.ts';
import { REPORT_FORMATS } from './output.ts';
import { queryCommand } from './commands/query.ts';
import type { QueryFormat } from './commands/query.ts';
import { demoCommand } from './commands/demo.ts';
import { sandboxCommand } from './commands/sandbox.ts';
import { retryCommand } from './commands/retry.ts';
import { reportCommand } from './commands/report.ts';
import type { ReportOptions } from './commands/report.ts';
import { exportCommand } from './commands/export.ts';
import type { ExportOptions } from './commands/export.ts';
import { compactCommand, parseCompactConfig } from './commands/compact.ts';
import type { CompactInput } from './commands/compact.ts';
import { unsyncCommand } from './commands/unsync.ts';
import type { UnsyncInput } from './commands/unsync.ts';
import { parseWebhooksConfig, WEBHOOK_SECRET_ENV, webhooksCommand } from './commands/webhooks.ts';
import type { WebhooksInput } from './commands/webhooks.ts';
import { DEFAULT_GAP_MS } from '../shared/webhooks/triggers.ts';

const rate = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};
const asOfDate = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new InvalidArgumentError('expected a date like 2025-06-01');
  }
  return v;
};
const nonNegativeInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

interface ReportCliOptions {
  warehouse: string;
  out?: string;
  asOf?: string;
  athena?: boolean;
  workgroup?: string;
  database?: string;
  region?: string;
}

/** `report`'s flags as {@link ReportOptions}; the Athena ones only with `--athena`. */
function reportOptions(opts: ReportCliOptions): ReportOptions {
  const athenaOnly = (['workgroup', 'database', 'region'] as const).find((k) => opts[k] !== undefined);
  if (opts.athena !== true && athenaOnly !== undefined) throw new ConfigError(`--${athenaOnly} is for --athena: add --athena, or leave it out to read --warehouse`);
  return {
    ...(opts.out !== undefined && { out: opts.out }),
    ...(opts.asOf !== undefined && { asOf: opts.asOf }),
    ...(opts.athena === true && {
      athena: { ...(opts.workgroup !== undefined && { workGroup: opts.workgroup }), ...(opts.database !== undefined && { database: opts.database }), ...(opts.region !== undefined && { region: opts.region }) },
    }),
  };
}

/** The version in package.json, for `kombo-etl --version`. */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * @param warn takes a line for stderr that `main` prints once the command has run (a warning never
 *   turns a one-line configuration error into two lines).
 */
export function buildProgram(setExit: (code: number) => void, warn: (line: string) => void = () => undefined): Command {
  const program = new Command('kombo-etl')
    .description('Kombo ATS snapshots into a partitioned Parquet warehouse')
    .version(VERSION, '--version', 'print the version of kombo-etl')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('sync')
    .description('sync Kombo (or the built-in sandbox: --sandbox, or no Kombo setting at all) into the warehouse')
    .option('--api-url <url>', 'Kombo base URL (env KOMBO_API_URL; default the EU endpoint)')
    .option('--api-key-file <file>', 'a file holding the Kombo API key (env KOMBO_API_KEY, or KOMBO_API_KEY_FILE); required with any other Kombo setting')
    .option('--api-key <key>', 'the key itself: seen by every user (ps) and kept in shell history, so prefer KOMBO_API_KEY or --api-key-file')
    .option('--sandbox', 'sync the built-in sandbox, ignoring KOMBO_* settings of the environment')
    .option('--integrations <ids>', 'comma-separated integration ids (env KOMBO_INTEGRATION_IDS)')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .option('--snapshot-date <YYYY-MM-DD>', 'snapshot date, today or earlier (default: today, UTC; with --as-of: that date)')
    .option('--allow-future-date', 'take a snapshot date after today (UTC), for the simulated clock')
    .option('--models <list>', `comma-separated, any of ${MODELS.join(',')} (default: all)`)
    .option('--concurrency <n>', 'streams fetched at once', String(DEFAULT_CONCURRENCY))
    .option('--threads <n>', 'worker threads that parse and encode pages; 0: on the main thread (default: one per core but one, at most --concurrency)')
    .option('--pii-mode <mode>', 'personal data: keep; hash (names, emails, phones and handles hashed; free text, addresses and raw payloads null); or drop (all null) (env KOMBO_PII_MODE; default keep)')
    .option('--pii-salt-file <file>', 'a file holding the secret salt for --pii-mode hash (env KOMBO_PII_SALT, or KOMBO_PII_SALT_FILE): 32 characters or more, 10 of them different')
    .option('--pii-salt <salt>', 'the salt itself: seen by every user (ps) and kept in shell history, so prefer KOMBO_PII_SALT or --pii-salt-file')
    .option('--as-of <YYYY-MM-DD>', 'built-in sandbox only (implies --sandbox): serve its simulated company as of the end of that day')
    .option('--full', 'sync every stream in full (default: a stream syncs only what changed since its last sync, and in full on its first sync and on its integration\'s own day of the --full-every cycle)')
    .option('--full-every <days>', `days of the full-sync cycle: each integration syncs in full on its own day of it, and a stream whose last full sync is this many days old does too (env ${FULL_SYNC_EVERY_DAYS_ENV}; default ${DEFAULT_FULL_EVERY_DAYS})`)
    .addOption(new Option('--format <format>', 'the final report: an aligned table, or JSON').choices(REPORT_FORMATS).default('table'))
    .action(async (opts: SyncInput & { format: ReportFormat }) => {
      const config = parseSyncConfig(opts);
      secretFlagWarnings(opts).forEach(warn);
      const { exitCode } = await syncCommand(config, process.stdout, opts.format);
      setExit(exitCode);
    });

  program
    .command('retry')
    .description("re-run a finished run's failed streams, or resume an interrupted run, into the same run and snapshot")
    .requiredOption('--run-id <id>', 'the run to retry (see `_runs/` in the warehouse)')
    .option('--api-url <url>', 'Kombo base URL (env KOMBO_API_URL; default the EU endpoint)')
    .option('--api-key-file <file>', 'a file holding the Kombo API key (env KOMBO_API_KEY, or KOMBO_API_KEY_FILE); required with any other Kombo setting')
    .option('--api-key <key>', 'the key itself: seen by every user (ps) and kept in shell history, so prefer KOMBO_API_KEY or --api-key-file')
    .option('--integrations <ids>', "only these integrations' streams (env KOMBO_INTEGRATION_IDS; default: every one of the run)")
    .option('--sandbox', 'retry against the built-in sandbox, ignoring KOMBO_* settings of the environment')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .option('--concurrency <n>', 'streams fetched at once', String(DEFAULT_CONCURRENCY))
    .option('--threads <n>', 'worker threads that parse and encode pages; 0: on the main thread (default: one per core but one, at most --concurrency)')
    .option('--pii-mode <mode>', 'as for sync: use the run\'s mode (env KOMBO_PII_MODE; default keep)')
    .option('--pii-salt-file <file>', 'a file holding the secret salt for --pii-mode hash (env KOMBO_PII_SALT, or KOMBO_PII_SALT_FILE): 32 characters or more, 10 of them different')
    .option('--pii-salt <salt>', 'the salt itself: seen by every user (ps) and kept in shell history, so prefer KOMBO_PII_SALT or --pii-salt-file')
    .addOption(new Option('--format <format>', 'the final report: an aligned table, or JSON').choices(REPORT_FORMATS).default('table'))
    .action(async (opts: SyncInput & { runId: string; format: ReportFormat }) => {
      // The source is chosen as for sync; integrations, when given, narrow the retry.
      const config = parseRetryConfig(opts);
      secretFlagWarnings(opts).forEach(warn);
      const { exitCode } = await retryCommand(opts.runId, config, process.stdout, opts.format);
      setExit(exitCode);
    });

  program
    .command('query')
    .description('run SQL with DuckDB over the warehouse (one view per table, and the analytics views)')
    .argument('<sql>', 'any SQL DuckDB accepts, COPY … TO included')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action(async (sql: string, opts: { warehouse: string; format: QueryFormat }) => {
      await queryCommand(sql, opts.warehouse, opts.format);
    });

  program
    .command('sandbox')
    .description('serve the built-in Kombo sandbox on 127.0.0.1')
    .option('--port <n>', 'port from 0 to 65535 (0: any free port)', '0')
    .option('--seed <n>', 'data seed', nonNegativeInt)
    .option('--rate-429 <p>', 'share of requests answered 429', rate('--rate-429'))
    .option('--retry-after <s>', 'Retry-After seconds on 429', nonNegativeInt)
    .option('--rate-5xx <p>', 'share of requests answered 5xx', rate('--rate-5xx'))
    .option('--rate-reset <p>', 'share of responses cut mid-body', rate('--rate-reset'))
    .option('--latency-ms <n>', 'added latency per request', nonNegativeInt)
    .option('--as-of <YYYY-MM-DD>', 'serve the simulated company as of the end of that day instead of the static dataset', asOfDate)
    .action(async (opts: { port: string; seed?: number; rate429?: number; retryAfter?: number; rate5xx?: number; rateReset?: number; latencyMs?: number; asOf?: string }) => {
      await sandboxCommand(
        opts.port,
        opts.seed,
        {
          ...(opts.rate429 !== undefined && { rate429: opts.rate429 }),
          ...(opts.retryAfter !== undefined && { retryAfterSeconds: opts.retryAfter }),
          ...(opts.rate5xx !== undefined && { rate5xx: opts.rate5xx }),
          ...(opts.rateReset !== undefined && { rateReset: opts.rateReset }),
          ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
        },
        process.stdout,
        { ...(opts.asOf !== undefined && { asOf: opts.asOf }) },
      );
    });

  program
    .command('report')
    .description('write the hiring report: one self-contained HTML file (funnels, days in stage, time to fill, time to hire, offer acceptance, rejection reasons, interviewer load, sources)')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .option('--out <file>', 'where to write it (default: <warehouse>/report.html)')
    .option('--as-of <YYYY-MM-DD>', 'the report as the warehouse knew it at the end of that day, from its history')
    .option('--athena', 'read the views through Athena (the stack on AWS) instead of --warehouse, with the usual AWS credentials; default --out: report.html')
    .option('--workgroup <name>', 'with --athena: the Athena workgroup (stack output AthenaWorkGroup)')
    .option('--database <name>', 'with --athena: the Glue database (stack output GlueDatabase)')
    .option('--region <region>', 'with --athena: the AWS region (default: AWS_REGION or the profile\'s)')
    .action(async (opts: ReportCliOptions) => {
      await reportCommand(opts.warehouse, reportOptions(opts));
    });

  program
    .command('export')
    .description('write the warehouse for BI tools and dbt: a DuckDB database file, a dbt sources.yml')
    .option('--duckdb <file>', 'write a DuckDB database file holding every table and analytics view (materialised)')
    .option('--dbt-sources <file>', 'write a dbt sources.yml of the tables and views, for dbt-athena and dbt-duckdb')
    .option('--warehouse <dir>', 'warehouse folder (for --duckdb)', DEFAULT_WAREHOUSE)
    .action(async (opts: ExportOptions) => {
      await exportCommand(opts);
    });

  program
    .command('compact')
    .description('apply the retention: remove versions superseded, and records deleted, before today less --retention-days (a current version always stays); erase records on request')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .option('--retention-days <n>', 'days of history kept whole (required), e.g. 730; 0 keeps every version (only --erase removes anything)')
    .option('--integrations <ids>', 'comma-separated integration ids (default: every integration of the warehouse)')
    .option('--erase <ids>', 'comma-separated record ids (candidates, applications, …) whose every version goes, current ones included')
    .option('--today <YYYY-MM-DD>', 'count the retention back from this date (default: today, UTC)')
    .action(async (opts: CompactInput) => {
      setExit(await compactCommand(parseCompactConfig(opts)));
    });

  program
    .command('unsync')
    .description("undo the sync of one date: every stream whose latest sync it is goes back to the sync before (its partitions, files, syncs rows and commits of the date removed); the way back from --allow-future-date")
    .option('--snapshot-date <YYYY-MM-DD>', 'the date whose sync to undo (required)')
    .option('--integrations <ids>', 'only these integrations\' streams (default: every stream synced on that date)')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .action(async (opts: UnsyncInput) => {
      await unsyncCommand(opts);
    });

  program
    .command('webhooks')
    .description("receive Kombo's webhooks on 127.0.0.1 and sync the models they say changed into the warehouse, one line per event and per sync (Kombo, or the built-in sandbox when no Kombo setting is given)")
    .option('--port <n>', 'port from 0 to 65535 (0: any free port)', '0')
    .option('--secret <secret>', `the webhook secret Kombo signs with, 16 characters or more (env ${WEBHOOK_SECRET_ENV})`)
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .option('--api-url <url>', 'Kombo base URL (env KOMBO_API_URL; default the EU endpoint)')
    .option('--api-key-file <file>', 'a file holding the Kombo API key (env KOMBO_API_KEY, or KOMBO_API_KEY_FILE)')
    .option('--api-key <key>', 'the key itself: seen by every user (ps) and kept in shell history, so prefer KOMBO_API_KEY or --api-key-file')
    .option('--gap-seconds <n>', 'least time between two syncs of one integration', String(DEFAULT_GAP_MS / 1000))
    .option('--concurrency <n>', 'streams fetched at once', String(DEFAULT_CONCURRENCY))
    .option('--pii-mode <mode>', 'as for sync (env KOMBO_PII_MODE; default keep)')
    .option('--pii-salt-file <file>', 'a file holding the secret salt for --pii-mode hash (env KOMBO_PII_SALT, or KOMBO_PII_SALT_FILE)')
    .action(async (opts: WebhooksInput) => {
      const config = parseWebhooksConfig(opts);
      secretFlagWarnings(opts).forEach(warn);
      setExit(await webhooksCommand(config));
    });

  program
    .command('demo')
    .description('what `npm start` runs: 14 simulated days of the sandbox, one snapshot each, then the funnel and the report')
    .option('--warehouse <dir>', 'warehouse folder', DEFAULT_WAREHOUSE)
    .action(async (opts: { warehouse: string }) => {
      setExit(await demoCommand(opts.warehouse));
    });

  return program;
}

/** Run the CLI with argv; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const warnings: string[] = [];
  const program = buildProgram((c) => (exitCode = c), (line) => warnings.push(line));
  const warn = () => warnings.forEach((line) => process.stderr.write(`${line}\n`));
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    warn();
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    warn();
    return EXIT.streamsFailed;
  }
}
