/**
 * `npm start`: two simulated weeks of a hiring team in a few seconds. The built-in sandbox's clock
 * moves one day at a time; each day is synced by the real local pipeline into its own snapshot
 * (`--snapshot-date` = the sandbox's date). The last day arrives as Kombo's webhooks deliver it: the
 * sandbox's clock moves through the day, each move signs a `data-changed` webhook to a local
 * `kombo-etl webhooks` receiver, and each one triggers an incremental sync of the models it names.
 * Then the funnel, time to fill, offers and rejection reasons of the largest job are printed from the
 * analytics views and the HTML report is written next to the data.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { CATALOG_PREFIX, LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import { CATALOG_TABLES, MODELS, TABLES } from '../../shared/tables.ts';
import { newRunId } from '../../shared/warehouse/layout.ts';
import { DEFAULT_CONCURRENCY } from '../../shared/config.ts';
import { formatTable } from '../output.ts';
import { EXIT } from './sync.ts';
import { writeReport } from './report.ts';
import { assertLocalWarehouseSource, assertWritableWarehouse, sandboxIntegrationIds } from '../warehouse.ts';
import { RUNS_PREFIX, SOURCE_KEY, STATE_PREFIX } from '../../shared/state/keys.ts';
import type { RunReport } from '../../shared/state/runs.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { parseWebhooksConfig, webhooksCommand } from './webhooks.ts';

/** Simulated days `npm start` syncs, one snapshot each. */
export const DEMO_DAYS = 14;

/** Times (UTC) of the demo's last day when the sandbox's clock moves, each move announced by webhook. */
export const WEBHOOK_DAY_TIMES = ['08:00:00', '11:00:00', '14:00:00', '17:00:00', '23:59:59'] as const;

/** What the syncs the webhooks of a day triggered did, from the receiver's lines. */
interface WebhookDay {
  readonly syncs: number;
  readonly failed: number;
  readonly versions: number;
}

/** A stream that writes each line of `out`, indented, and counts the receiver's sync lines into `day`. */
function syncLines(out: NodeJS.WritableStream, day: { syncs: number; failed: number; versions: number }): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) {
        if (line.startsWith('sync ')) {
          day.syncs++;
          if (/ failed in \d+ ms/.test(line)) day.failed++;
          day.versions += Number(/: (\d+) versions/.exec(line)?.[1] ?? 0);
        }
        out.write(`      ${line}\n`);
      }
      done();
    },
  });
}

/**
 * The demo's last day, as Kombo's webhooks deliver it: the receiver of `kombo-etl webhooks` listens
 * on 127.0.0.1, the sandbox's clock moves through the day ({@link WEBHOOK_DAY_TIMES}), each move
 * signs a `data-changed` webhook per integration with the models that changed, and each one triggers
 * an incremental sync of those models into the day's snapshot. Every event and sync is printed.
 */
async function webhookDay(sandbox: RunningSandbox, warehouse: string, date: string, out: NodeJS.WritableStream): Promise<WebhookDay> {
  const secret = randomBytes(24).toString('base64url');
  const parsed = parseWebhooksConfig({ secret, warehouse, apiUrl: sandbox.url, apiKey: sandbox.apiKey, gapSeconds: '0' });
  // The warehouse holds the sandbox's data: the triggered syncs are sandbox syncs, as the nightly ones.
  const config = { ...parsed, sync: { ...parsed.sync, source: 'sandbox' as const } };
  const day = { syncs: 0, failed: 0, versions: 0 };
  const stop = new AbortController();
  let ready: (settled: () => Promise<void>, url: string) => void = () => undefined;
  const listening = new Promise<{ settled: () => Promise<void>; url: string }>((resolve) => (ready = (settled, url) => resolve({ settled, url })));
  let url = '';
  const serving = webhooksCommand(config, syncLines(out, day), {
    stop: stop.signal,
    snapshotDate: () => date,
    onListening: (u) => (url = u),
    onSettled: (settled) => ready(settled, url),
  });
  // The receiver may refuse to start (the warehouse, the port): its error ends the demo.
  const receiver = await Promise.race([listening, serving.then((code) => Promise.reject(new Error(`the webhook receiver stopped at once (exit ${code})`)))]);
  sandbox.sendWebhooksTo({ url: receiver.url, secret });
  for (const time of WEBHOOK_DAY_TIMES) {
    out.write(`    ${time.slice(0, 5)}  the sandbox's clock moves; its webhooks:\n`);
    sandbox.setClock(`${date}T${time}Z`);
    await sandbox.webhooksSettled();
    await receiver.settled();
  }
  stop.abort();
  await serving;
  return day;
}

/** CTE body: the job with the most applications (ties: by id). */
const LARGEST_JOB = `SELECT integration_id, job_id FROM hiring_funnel
  ORDER BY reached DESC, stage_index, integration_id, job_id LIMIT 1`;

/** SQL expression: a share as a whole percentage, like `67%`, or empty. */
const percent = (expr: string): string => `CASE WHEN ${expr} IS NULL THEN '' ELSE CAST(round(100 * ${expr}) AS INTEGER) || '%' END`;

/** SQL: the funnel of the largest job, stages in order. */
export const LARGEST_JOB_FUNNEL_SQL = `WITH largest AS (
  ${LARGEST_JOB}
)
SELECT f.job_name, f.stage_index AS "#", f.stage_name AS stage, f.reached, f.currently_in AS "in it now",
  ${percent('f.conversion_to_next')} AS "to next stage",
  f.hired, coalesce(CAST(round(f.median_days_in_stage, 1) AS VARCHAR), '') AS "median days"
FROM hiring_funnel f JOIN largest l USING (integration_id, job_id)
ORDER BY f.stage_index, f.stage_id`;

/** SQL: time to fill of the largest job (one row). */
export const LARGEST_JOB_FILL_SQL = `WITH largest AS (
  ${LARGEST_JOB}
)
SELECT f.job_status AS status, f.department, CAST(f.opened_on AS VARCHAR) AS opened, CAST(f.closed_on AS VARCHAR) AS closed,
  CAST(f.first_hire_on AS VARCHAR) AS "first hire", f.days_to_fill AS "days to fill",
  CAST(f.first_offer_accepted_on AS VARCHAR) AS "first accepted offer", f.days_to_accepted_offer AS "days to accepted offer",
  f.days_open AS "days open", f.hires
FROM time_to_fill f JOIN largest l USING (integration_id, job_id)`;

/** SQL: offers of the largest job per month sent. */
export const LARGEST_JOB_OFFERS_SQL = `WITH largest AS (
  ${LARGEST_JOB}
)
SELECT coalesce(strftime(o.sent_month, '%Y-%m'), 'before the first sync') AS "month sent", o.sent, o.accepted, o.declined, o.abandoned, o.pending AS waiting,
  ${percent('o.acceptance_rate')} AS "acceptance rate", coalesce(CAST(round(o.median_days_to_decision, 1) AS VARCHAR), '') AS "median days to answer"
FROM offer_acceptance o JOIN largest l USING (integration_id, job_id)
ORDER BY o.sent_month`;

/** Rejection rows of the largest job printed by the demo, most frequent first. */
export const DEMO_REJECTION_ROWS = 8;

/** SQL: the most frequent rejection reasons and stages of the largest job. */
export const LARGEST_JOB_REJECTIONS_SQL = `WITH largest AS (
  ${LARGEST_JOB}
)
SELECT r.rejection_reason AS reason, r.stage_name AS "declined in stage", r.declined, ${percent('r.share_of_job')} AS "share of the job's"
FROM rejection_breakdown r JOIN largest l USING (integration_id, job_id)
ORDER BY r.declined DESC, r.rejection_reason, r.stage_index
LIMIT ${DEMO_REJECTION_ROWS}`;

/**
 * SQL: per table, the rows stored over all the days (one per version of a record), the records
 * current now, and the rows a nightly copy of every record would have stored instead (the records
 * current at the end of each synced day, from the history views' validity), read back from the
 * Parquet files.
 */
export function rowCountsSql(): string {
  return `WITH days AS (SELECT DISTINCT integration_id, valid_from AS t FROM syncs)
${TABLES.map(
  (t) => `SELECT '${t.name}' AS "table",
  (SELECT count(*) FROM "${t.name}") AS "rows stored",
  (SELECT count(*) FROM "${t.name}_history" WHERE _is_current AND NOT _is_deleted) AS "current now",
  (SELECT count(*) FROM "${t.name}_history" h JOIN days d ON d.integration_id = h.integration_id AND h._valid_from <= d.t AND (h._valid_to IS NULL OR h._valid_to > d.t) WHERE NOT h._is_deleted) AS "nightly copies would store"`,
).join('\nUNION ALL\n')}
ORDER BY 1`;
}

/**
 * SQL: applications per current stage, deleted ones left out. The stage is named as its job lists
 * it now (the application's own copy may lag a rename), or by that copy for a stage the job does not list.
 */
export const STAGE_COUNTS_SQL = `SELECT coalesce(s.name, a.current_stage_name) AS current_stage, count(*) AS applications
FROM applications_latest a
LEFT JOIN (SELECT js.integration_id, js.job_id, js.stage_id, min(js.name) AS name
  FROM job_stages js JOIN jobs_latest j ON j.integration_id = js.integration_id AND j.id = js.job_id AND j.snapshot_date = js.snapshot_date
  GROUP BY js.integration_id, js.job_id, js.stage_id) s
  ON s.integration_id = a.integration_id AND s.job_id = a.job_id AND s.stage_id = a.current_stage_id
GROUP BY 1 ORDER BY applications DESC, current_stage NULLS LAST`;

/** Records Kombo returned in a run, and the versions it stored (rows of the models' own tables). */
const fetched = (report: RunReport): number => report.streams.reduce((n, s) => n + (s.totals.records ?? 0), 0);
const stored = (report: RunReport): number => report.streams.reduce((n, s) => n + (s.totals.rows[s.model] ?? 0), 0);
/** `full`, `incremental`, or both when the streams of a run differ. */
const modes = (report: RunReport): string => [...new Set(report.streams.flatMap((s) => (s.sync ? [s.sync.mode] : [])))].sort().join('+') || 'none';

/**
 * Removes what an earlier demo (or sandbox sync) wrote into the warehouse: its tables, `syncs`, run
 * and change capture state, local catalog and source record; other files stay. The demo replays the
 * same 14 days, and a stream refuses to sync a date before its last one, so it starts afresh.
 * Called only once the warehouse is known to hold no Kombo data. Resolves to whether there was any.
 */
async function clearEarlierDemo(store: FolderStore): Promise<boolean> {
  const prefixes = [...CATALOG_TABLES.map((t) => `${t.name}/`), RUNS_PREFIX, STATE_PREFIX, CATALOG_PREFIX];
  const keys = (await Promise.all(prefixes.map((p) => store.list(p)))).flat();
  if (keys.length === 0) return false;
  await store.delete([...keys, SOURCE_KEY]);
  return true;
}

/** Runs the demo into `warehouse`; resolves to the exit code (1 when a day's sync was incomplete). */
export async function demoCommand(warehouse: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  await assertWritableWarehouse(warehouse);
  // The demo's made-up company never goes into a warehouse that holds Kombo data.
  await assertLocalWarehouseSource(new FolderStore(warehouse), 'sandbox', warehouse);
  // Loaded on demand, as in `sync`: the data generator is not needed elsewhere.
  const { SANDBOX_DEMO_FIRST_DAY, consecutiveDays, startSandbox } = await import('../../sandbox/index.ts');
  const dates = consecutiveDays(SANDBOX_DEMO_FIRST_DAY, DEMO_DAYS);
  const sandbox = await startSandbox({ asOf: dates[0] as string });
  const store = new FolderStore(warehouse);
  let exitCode: number = EXIT.ok;
  if (await clearEarlierDemo(store)) out.write(`The sandbox data an earlier run left in ${store.root} is replaced.\n`);
  out.write(`Simulating ${DEMO_DAYS} days of hiring (${dates[0]} → ${dates[dates.length - 1]}) in the built-in Kombo sandbox at ${sandbox.url}\n`);
  out.write(`one sync per day into ${store.root}: the first fetches everything, the next ones only what changed (and once a week everything again, on each integration's own day); the last day through webhooks, several syncs in the day\n\n`);
  try {
    const client = new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    const integrationIds = sandbox.dataset.integrations.map((i) => i.id);
    for (const date of dates.slice(0, -1)) {
      sandbox.setAsOf(date);
      const started = performance.now();
      const report = await runLocal({
        source: 'sandbox',
        sandboxIntegrationIds,
        client,
        store,
        catalog: new LocalCatalog(store),
        runId: newRunId(),
        snapshotDate: date,
        integrationIds,
        models: MODELS,
        concurrency: DEFAULT_CONCURRENCY,
      });
      if (report.status !== 'succeeded') exitCode = EXIT.streamsFailed;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      out.write(
        `  ${date}  ${report.status}  ${modes(report).padEnd(16)}  ${fetched(report).toLocaleString('en-US').padStart(6)} records fetched, ${stored(report).toLocaleString('en-US').padStart(6)} versions stored, from ${integrationIds.length} integrations  (${seconds} s)\n`,
      );
    }
    const last = dates[dates.length - 1] as string;
    out.write(`  ${last}  through Kombo's webhooks: the sandbox's clock moves through the day, and each data-changed webhook triggers an incremental sync of the models it names\n`);
    const started = performance.now();
    const day = await webhookDay(sandbox, warehouse, last, out);
    if (day.failed > 0 || day.syncs === 0) exitCode = EXIT.streamsFailed;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    out.write(`  ${last}  ${day.failed === 0 ? 'succeeded' : 'failed   '}  ${'webhooks'.padEnd(16)}  ${String(day.syncs).padStart(6)} syncs triggered,  ${day.versions.toLocaleString('en-US').padStart(6)} versions stored, from ${integrationIds.length} integrations  (${seconds} s)\n`);
  } finally {
    await sandbox.close();
  }

  const db = await openWarehouse(warehouse);
  try {
    const last = dates[dates.length - 1] as string;
    const counts = await db.query(rowCountsSql());
    out.write(`\nRows per table after ${dates.length} days, read back by DuckDB (a record is stored again only when it changed):\n${formatTable(counts.columns, counts.rows)}\n`);
    const stages = await db.query(STAGE_COUNTS_SQL);
    out.write(`\nApplications per current stage on ${last}:\n${formatTable(stages.columns, stages.rows)}\n`);
    const funnel = await db.query(LARGEST_JOB_FUNNEL_SQL);
    const jobName = funnel.rows[0]?.[0];
    if (jobName !== undefined) {
      const job = `"${String(jobName)}"`;
      out.write(`\nHiring funnel of the largest job, ${job} (view hiring_funnel):\n`);
      out.write(`${formatTable(funnel.columns.slice(1), funnel.rows.map((r) => r.slice(1)))}\n`);
      const fill = await db.query(LARGEST_JOB_FILL_SQL);
      out.write(`\nTime to fill of ${job} (view time_to_fill):\n${formatTable(fill.columns, fill.rows)}\n`);
      const row = Object.fromEntries(fill.columns.map((c, i) => [c, fill.rows[0]?.[i]]));
      // A hire the first sync already showed has no date: say so rather than leave a blank unexplained.
      if (row['first hire'] === null && Number(row.hires) > 0) out.write(`(its first hire came before the first sync, ${dates[0]}: its date is unknown)\n`);
      const offers = await db.query(LARGEST_JOB_OFFERS_SQL);
      out.write(
        offers.rows.length === 0
          ? `\nOffers of ${job}: none sent since the first sync (view offer_acceptance).\n`
          : `\nOffers of ${job} by month sent (view offer_acceptance):\n${formatTable(offers.columns, offers.rows)}\n`,
      );
      const rejections = await db.query(LARGEST_JOB_REJECTIONS_SQL);
      out.write(
        rejections.rows.length === 0
          ? `\nRejections of ${job}: none (view rejection_breakdown).\n`
          : `\nMost frequent rejection reasons of ${job} (view rejection_breakdown):\n${formatTable(rejections.columns, rejections.rows)}\n`,
      );
    }
  } finally {
    db.close();
  }
  const path = await writeReport(warehouse);
  out.write(`\nReport: ${path}\n`);
  out.write('\nTry: npx kombo-etl query "select * from application_stage_history limit 10"\n');
  return exitCode;
}
