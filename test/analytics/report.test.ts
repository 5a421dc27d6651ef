/**
 * `npm start` end to end (the real CLI in a child process: 14 simulated days, the funnel, the
 * report), then the report in a real browser driven by playwright-core: a system Chrome/Chromium,
 * or the one `@sparticuz/chromium` brings with `npm install` (see `test/helpers/browser.ts`). The page
 * must render every chart without a console error or a network request, and show the views' numbers.
 * Without a browser the tests below fail; they never skip.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WarehouseDb } from '../../shared/adapters/local/duckdb.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import { findBrowser } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { objects } from '../helpers/history.ts';

/** The page's DOM as the callbacks given to `page.evaluate` use it (the project compiles without the DOM lib). */
interface DomNode {
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): Iterable<DomNode> & ArrayLike<DomNode>;
  readonly textContent: string | null;
  readonly children: ArrayLike<DomNode>;
}
declare const document: { querySelectorAll(selector: string): Iterable<DomNode> & ArrayLike<DomNode> };

const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

const warehouse = mkdtempSync(join(tmpdir(), 'kombo-demo-'));
let demo: CliResult;
let db: WarehouseDb;

beforeAll(async () => {
  demo = await runCli(['demo', '--warehouse', warehouse]);
  db = await openWarehouse(warehouse);
}, 180_000);

afterAll(() => db?.close());

describe('npm start (kombo-etl demo)', () => {
  it('syncs 14 simulated days, one sync of applications each', async () => {
    expect(demo.code, demo.stderr).toBe(0);
    // A sync that found nothing changed stores no version: `syncs` lists every completed one.
    const snapshots = await objects(
      db,
      "SELECT integration_id, count(DISTINCT snapshot_date) AS n, CAST(min(snapshot_date) AS VARCHAR) AS first FROM syncs WHERE model = 'applications' GROUP BY ALL",
    );
    expect(snapshots.length).toBeGreaterThan(1);
    // The last day is synced only where a webhook said something changed.
    for (const s of snapshots) expect(s).toMatchObject({ n: expect.toBeOneOf([13, 14]), first: '2025-06-01' });
    expect(snapshots.some((s) => s.n === 14)).toBe(true);
    expect(demo.stdout.match(/^ {2}2025-06-\d\d {2}succeeded/gm)).toHaveLength(14);
  });

  it('takes the last day through webhooks: several syncs of applications in the day, each printed', async () => {
    const lastDay = await objects(db, "SELECT integration_id, count(*) AS n FROM syncs WHERE model = 'applications' AND snapshot_date = DATE '2025-06-14' GROUP BY ALL");
    expect(lastDay.length).toBeGreaterThan(0);
    for (const s of lastDay) expect(Number(s.n)).toBeGreaterThan(1);
    const syncs = Number(lastDay.reduce((n, s) => n + Number(s.n), 0));
    // Every sync of applications that day was triggered by a webhook, and printed as it ended.
    const printed = demo.stdout.match(/^ {6}sync \S+ \S+ \S*applications\S* done in \d+ ms: \d+ versions$/gm) ?? [];
    expect(printed).toHaveLength(syncs);
    expect(demo.stdout).toMatch(/^ {2}2025-06-14 {2}succeeded {2}webhooks {10,}\d+ syncs triggered/m);
  });

  it('prints the funnel of the largest job with the view’s numbers', async () => {
    const largest = await objects(
      db,
      `SELECT integration_id, job_id, job_name FROM hiring_funnel ORDER BY reached DESC, stage_index, integration_id, job_id LIMIT 1`,
    );
    const job = largest[0] as { integration_id: string; job_id: string; job_name: string };
    expect(demo.stdout).toContain(`Hiring funnel of the largest job, "${job.job_name}"`);
    const stages = await objects(db, `SELECT stage_name, reached, hired FROM hiring_funnel WHERE job_id = '${job.job_id}' ORDER BY stage_index`);
    const printed = demo.stdout.split('Hiring funnel of the largest job')[1] ?? '';
    for (const s of stages) expect(printed).toMatch(new RegExp(`${String(s.stage_name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${s.reached}\\s`));
  });

  it('prints the time to fill, offers and rejection reasons of the largest job with the views’ numbers', async () => {
    const [job] = await objects(db, 'SELECT integration_id, job_id FROM hiring_funnel ORDER BY reached DESC, stage_index, integration_id, job_id LIMIT 1');
    const where = `integration_id = '${String(job?.integration_id)}' AND job_id = '${String(job?.job_id)}'`;
    const part = (title: string): string => (demo.stdout.split(title)[1] ?? '').split('\n\n')[0] as string;

    const [fill] = await objects(db, `SELECT job_status, CAST(opened_on AS VARCHAR) AS opened_on, days_open, hires FROM time_to_fill WHERE ${where}`);
    expect(fill).toBeDefined();
    expect(part('Time to fill of')).toMatch(new RegExp(`${String(fill?.job_status)}\\s.*${String(fill?.opened_on)}.*\\s${String(fill?.days_open)}\\s+${String(fill?.hires)}\\n`));

    const offers = await objects(db, `SELECT coalesce(strftime(sent_month, '%Y-%m'), 'before the first sync') AS m, sent, accepted, declined FROM offer_acceptance WHERE ${where} ORDER BY sent_month`);
    expect(offers.length).toBeGreaterThan(0);
    for (const o of offers) expect(part('Offers of')).toMatch(new RegExp(`${String(o.m)}\\s+${String(o.sent)}\\s+${String(o.accepted)}\\s+${String(o.declined)}\\s`));

    const [top] = await objects(db, `SELECT rejection_reason, stage_name, declined FROM rejection_breakdown WHERE ${where} ORDER BY declined DESC, rejection_reason, stage_index LIMIT 1`);
    expect(part('Most frequent rejection reasons of')).toMatch(new RegExp(`${String(top?.rejection_reason)}\\s+${String(top?.stage_name)}\\s+${String(top?.declined)}\\s`));
  });

  it('writes ./warehouse/report.html and prints its path', () => {
    const path = join(warehouse, 'report.html');
    expect(demo.stdout).toContain(`Report: ${path}`);
    expect(existsSync(path)).toBe(true);
  });
});

describe('the report in headless Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const blocked: string[] = [];
  const errors: string[] = [];
  const reportPath = () => join(warehouse, 'report.html');

  let noBrowser: unknown;

  beforeAll(async () => {
    try {
      await open();
    } catch (err) {
      noBrowser = err;
    }
  }, 60_000);
  // A failing beforeAll would only mark the tests skipped: without a browser each one fails instead.
  beforeEach(() => {
    if (noBrowser !== undefined) throw noBrowser;
  });

  async function open(): Promise<void> {
    const browser = await findBrowser();
    // A fresh profile (--user-data-dir) each run.
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'kombo-chromium-')), {
      executablePath: browser.executablePath,
      args: [...browser.args],
      ...(browser.env && { env: { ...process.env, ...browser.env } }),
      viewport: { width: 1280, height: 900 },
    });
    // Anything but the file itself is recorded and refused: the page must need no network.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${reportPath()}`, { waitUntil: 'load' });
  }

  afterAll(async () => {
    await context?.close();
  });

  it('loads with no console error and no request but the file itself', () => {
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    expect(requests).toEqual([`file://${reportPath()}`]);
    expect(readFileSync(reportPath(), 'utf8')).not.toMatch(/<script|<link|src=|@import|url\(/i);
    // 14 snapshots: no notice that history is still building up.
    expect(readFileSync(reportPath(), 'utf8')).not.toContain('data-notice="history"');
  });

  it('renders every chart: a funnel and days-in-stage per job, time to fill, time to hire, offers, rejections, interviewer load, sources', async () => {
    const jobs = await objects(db, 'SELECT count(DISTINCT integration_id || job_id) AS n FROM hiring_funnel');
    const charts = ['funnel', 'days-in-stage', 'time-to-fill', 'time-to-hire', 'offer-acceptance', 'rejection-reasons', 'rejection-stages', 'interviewer-load', 'sources'];
    const counts = await page.evaluate((names) => Object.fromEntries(names.map((c) => [c, document.querySelectorAll(`svg[data-chart="${c}"]`).length])), charts);
    expect(counts).toEqual({
      funnel: jobs[0]?.n,
      'days-in-stage': jobs[0]?.n,
      'time-to-fill': 1,
      'time-to-hire': 1,
      'offer-acceptance': 1,
      'rejection-reasons': 1,
      'rejection-stages': 1,
      'interviewer-load': 1,
      sources: 1,
    });
    for (const svg of await page.locator('svg[data-chart]').all()) {
      const box = await svg.boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(20);
      expect(await svg.locator('rect').count()).toBeGreaterThan(0);
    }
    // Bars are drawn: the first funnel's first bar has a real width.
    const firstBar = await page.locator('svg[data-chart="funnel"] rect').first().boundingBox();
    expect(firstBar?.width).toBeGreaterThan(50);
  });

  it('shows the funnel numbers of the hiring_funnel view, in the charts and in the tables', async () => {
    const expected = await objects(db, 'SELECT integration_id, job_id, stage_id, reached FROM hiring_funnel');
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="funnel"]')].flatMap((svg) =>
        [...svg.querySelectorAll('g[data-stage-id]')].map((g) => ({
          integration_id: svg.getAttribute('data-integration-id'),
          job_id: svg.getAttribute('data-job-id'),
          stage_id: g.getAttribute('data-stage-id'),
          reached: Number(g.querySelector('text[data-value]')?.textContent?.replace(/,/g, '')),
        })),
      ),
    );
    const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.stage_id)}`;
    expect(shown.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
    const tableReached = await page.evaluate(() =>
      [...document.querySelectorAll('table[data-table="funnel"] tbody tr')].map((tr) => Number(tr.children[1]?.textContent?.replace(/,/g, ''))),
    );
    expect(tableReached.reduce((a, b) => a + b, 0)).toBe(expected.reduce((a, b) => a + (b.reached as number), 0));
  });

  it('shows each stage’s Kaplan–Meier median of stage_survival in the days-in-stage chart, open stretches counted', async () => {
    const expected = await objects(
      db,
      `SELECT f.integration_id, f.job_id, f.stage_id, CAST(s.median_days_in_stage AS INTEGER) AS median
       FROM hiring_funnel f LEFT JOIN stage_survival s ON s.integration_id = f.integration_id AND s.job_id = f.job_id AND s.stage_id = f.stage_id`,
    );
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="days-in-stage"]')].flatMap((svg) =>
        [...svg.querySelectorAll('g[data-stage-id]')].map((g) => ({
          integration_id: svg.getAttribute('data-integration-id'),
          job_id: svg.getAttribute('data-job-id'),
          stage_id: g.getAttribute('data-stage-id'),
          text: g.querySelector('text[data-value]')?.textContent,
        })),
      ),
    );
    const key = (r: Record<string, unknown>) => `${String(r.integration_id)}|${String(r.job_id)}|${String(r.stage_id)}`;
    const want = expected.map((r) => ({ integration_id: r.integration_id, job_id: r.job_id, stage_id: r.stage_id, text: r.median === null ? '–' : `${String(r.median)} d` }));
    expect(shown.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(want.sort((a, b) => key(a).localeCompare(key(b))));
    // The censored median differs from the completed-only one somewhere, or the chart would not tell anything new.
    const differ = await objects(
      db,
      `SELECT count(*) AS n FROM hiring_funnel f JOIN stage_survival s ON s.integration_id = f.integration_id AND s.job_id = f.job_id AND s.stage_id = f.stage_id
       WHERE s.median_days_in_stage IS DISTINCT FROM f.median_days_in_stage`,
    );
    expect(Number(differ[0]?.n)).toBeGreaterThan(0);
  });

  it('shows as many hires as time_to_hire holds', async () => {
    const hires = await objects(db, 'SELECT count(*) AS n FROM time_to_hire');
    expect(await page.locator('[data-kpi="hires"]').textContent()).toBe(String(hires[0]?.n));
    expect(await page.locator('table[data-table="time-to-hire"] tbody tr').count()).toBe(hires[0]?.n);
    const binned = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="time-to-hire"] g[data-count]')].reduce((n, g) => n + Number(g.getAttribute('data-count')), 0));
    expect(binned).toBe(hires[0]?.n);
  });

  it('shows every job of time_to_fill, with its days, in the chart and the table', async () => {
    const fill = await objects(db, 'SELECT job_id, coalesce(days_to_fill, days_open) AS days FROM time_to_fill WHERE coalesce(days_to_fill, days_open) IS NOT NULL');
    const charted = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="time-to-fill"] g[data-job-id]')].map((g) => ({ job_id: g.getAttribute('data-job-id'), days: Number(g.getAttribute('data-days')) })),
    );
    const key = (r: Record<string, unknown>) => String(r.job_id);
    expect(charted.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(fill.sort((a, b) => key(a).localeCompare(key(b))));
    const all = await objects(db, 'SELECT count(*) AS n, sum(hires) AS hires FROM time_to_fill');
    expect(await page.locator('table[data-table="time-to-fill"] tbody tr').count()).toBe(all[0]?.n);
    const tableHires = await page.evaluate(() => [...document.querySelectorAll('table[data-table="time-to-fill"] tbody tr')].reduce((n, tr) => n + Number(tr.children[11]?.textContent?.replace(/,/g, '')), 0));
    expect(tableHires).toBe(Number(all[0]?.hires));
  });

  it('shows the offers of offer_acceptance: the total sent, each job’s bar and every month in the table', async () => {
    const [total] = await objects(db, 'SELECT sum(sent) AS sent, sum(accepted) AS accepted, sum(declined) AS declined, count(*) AS n FROM offer_acceptance');
    expect(Number(total?.sent)).toBeGreaterThan(0);
    expect(await page.locator('[data-kpi="offers-sent"]').textContent()).toBe(String(total?.sent));
    expect(await page.locator('[data-kpi="offers-declined"]').textContent()).toBe(String(total?.declined));
    const segments = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="offer-acceptance"] rect[data-segment]')].reduce<Record<string, number>>((acc, r) => {
        const k = r.getAttribute('data-segment') as string;
        acc[k] = (acc[k] ?? 0) + Number(r.getAttribute('data-count'));
        return acc;
      }, {}),
    );
    expect(segments.accepted).toBe(Number(total?.accepted));
    expect(segments.declined).toBe(Number(total?.declined));
    expect(await page.locator('table[data-table="offer-acceptance"] tbody tr').count()).toBe(total?.n);
  });

  it('shows the declined applications of rejection_breakdown by reason, by stage and in the table', async () => {
    const reasons = await objects(db, 'SELECT rejection_reason AS reason, sum(declined) AS n FROM rejection_breakdown GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 12');
    const charted = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="rejection-reasons"] g[data-reason]')].map((g) => ({ reason: g.getAttribute('data-reason'), n: Number(g.getAttribute('data-count')) })),
    );
    expect(charted).toEqual(reasons.map((r) => ({ reason: r.reason, n: Number(r.n) })));
    const [total] = await objects(db, 'SELECT sum(declined) AS n FROM rejection_breakdown');
    const tableTotal = await page.evaluate(() => [...document.querySelectorAll('table[data-table="rejection-reasons"] tbody tr')].reduce((n, tr) => n + Number(tr.children[4]?.textContent?.replace(/,/g, '')), 0));
    expect(tableTotal).toBe(Number(total?.n));
    const byStage = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="rejection-stages"] g[data-stage]')].reduce((n, g) => n + Number(g.getAttribute('data-count')), 0));
    expect(byStage).toBeLessThanOrEqual(Number(total?.n));
    expect(byStage).toBeGreaterThan(0);
  });

  it('opens with the overview, before the job cards: open jobs and offer acceptance of the views', async () => {
    const order = await page.evaluate(() => [...document.querySelectorAll('main > section')].map((s) => s.getAttribute('id')));
    expect(order.indexOf('overview')).toBe(0);
    expect(order.indexOf('funnel')).toBeGreaterThan(0);
    const [open] = await objects(db, "SELECT count(*) AS n FROM time_to_fill WHERE job_status = 'OPEN'");
    expect(await page.locator('[data-kpi="overview-open-jobs"]').textContent()).toBe(String(open?.n));
    const [offers] = await objects(db, 'SELECT sum(accepted) AS a, sum(declined) AS d FROM offer_acceptance');
    const rate = Number(offers?.a) / (Number(offers?.a) + Number(offers?.d));
    expect(await page.locator('[data-kpi="overview-offer-acceptance"]').textContent()).toBe(`${(rate * 100).toFixed(0)}%`);
    const [totals] = await objects(db, 'SELECT sum(applications) AS a, sum(hires) AS h FROM hire_summary WHERE job_id IS NULL');
    expect(await page.locator('[data-kpi="overview-applications"]').textContent()).toBe(Number(totals?.a).toLocaleString('en-US'));
    expect(await page.locator('[data-kpi="overview-hires"]').textContent()).toBe(Number(totals?.h).toLocaleString('en-US'));
    const [failing] = await objects(db, 'SELECT count(*) AS n FROM data_quality WHERE records > 0');
    expect(await page.locator('[data-kpi="overview-failing-checks"]').textContent()).toBe(String(failing?.n));
    expect(await page.locator('[data-overview="checks"] a[data-check]').count()).toBe(Number(failing?.n));
  });

  it('draws the time-to-hire curve of hire_survival: a line per integration through every day, the median of hire_summary marked', async () => {
    const days = await objects(db, 'SELECT integration_id, count(*) AS n FROM hire_survival WHERE job_id IS NULL GROUP BY 1 ORDER BY 1');
    expect(days.length).toBeGreaterThan(0);
    const curves = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="hire-curve"] g[data-curve]')].map((g) => ({
        integration_id: g.getAttribute('data-curve'),
        points: Number(g.querySelector('path')?.getAttribute('data-points')),
        drawn: (g.querySelector('path')?.getAttribute('d')?.match(/[ML]\d/g) ?? []).length,
        median: g.querySelector('[data-median-day]')?.getAttribute('data-median-day') ?? null,
      })),
    );
    // From (0, 0), then two points per day a clock stopped: along, then up to that day's share.
    expect(curves.map((c) => ({ integration_id: c.integration_id, points: c.points, drawn: c.drawn }))).toEqual(days.map((d) => ({ integration_id: d.integration_id, points: 1 + 2 * Number(d.n), drawn: 1 + 2 * Number(d.n) })));
    const medians = await objects(db, 'SELECT integration_id, median_days_to_hire AS m FROM hire_summary WHERE job_id IS NULL ORDER BY 1');
    expect(curves.map((c) => c.median)).toEqual(medians.map((m) => (m.m === null ? null : String(m.m))));
    const box = await page.locator('svg[data-chart="hire-curve"] path').first().boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(10);
  });

  it('shows the cohort funnel, interviewer outcomes and "Can you trust these numbers?" from their views', async () => {
    const [jobs] = await objects(db, 'SELECT count(DISTINCT integration_id || job_id) AS n FROM funnel_cohorts');
    expect(await page.locator('table[data-table="funnel-cohorts"]').count()).toBe(Math.min(6, Number(jobs?.n)));
    const cohortCells = await page.locator('table[data-table="funnel-cohorts"] [data-reached]').count();
    expect(cohortCells).toBeGreaterThan(0);

    const [people] = await objects(db, 'SELECT count(*) AS n FROM interviewer_outcomes');
    expect(Number(people?.n)).toBeGreaterThan(0);
    expect(await page.locator('table[data-table="interviewer-outcomes"] tbody tr').count()).toBe(Number(people?.n));
    const top = await objects(db, 'SELECT user_id, advanced, declined FROM interviewer_outcomes ORDER BY interviews DESC, user_id LIMIT 15');
    const charted = await page.evaluate(() =>
      [...document.querySelectorAll('svg[data-chart="interviewer-outcomes"] g[data-user-id]')].map((g) => ({ user_id: g.getAttribute('data-user-id'), advanced: Number(g.getAttribute('data-advanced')), declined: Number(g.getAttribute('data-declined')) })),
    );
    expect(charted).toEqual(top.map((t) => ({ user_id: t.user_id, advanced: Number(t.advanced), declined: Number(t.declined) })));

    expect(await page.locator('#data-quality h2').textContent()).toBe('Can you trust these numbers?');
    const checks = await objects(db, 'SELECT check_name, records FROM data_quality');
    const shown = await page.evaluate(() => [...document.querySelectorAll('table[data-table="data-quality"] [data-check]')].map((c) => ({ check_name: c.getAttribute('data-check'), records: Number(c.getAttribute('data-records')) })));
    const key = (r: Record<string, unknown>) => `${String(r.check_name)}|${String(r.records)}`;
    expect(shown.map(key).sort()).toEqual(checks.map(key).sort());
    expect(shown.length).toBeGreaterThanOrEqual(8);
  });

  it('filters the job cards by integration, department and status, without a script', async () => {
    const cards = page.locator('article[data-card="job"]');
    const all = await cards.count();
    const visible = async (): Promise<number> => (await cards.evaluateAll((els) => els.filter((e) => (e as unknown as { offsetParent: unknown }).offsetParent !== null).length)) as number;
    expect(await visible()).toBe(all);
    const [dept] = await objects(db, 'SELECT department, count(DISTINCT integration_id || job_id) AS n FROM hiring_funnel WHERE department IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1');
    expect(Number(dept?.n)).toBeLessThan(all);
    await page.selectOption('#filter-department', { label: String(dept?.department) });
    expect(await visible()).toBe(Number(dept?.n));
    const [both] = await objects(db, `SELECT count(DISTINCT integration_id || job_id) AS n FROM hiring_funnel WHERE department = '${String(dept?.department)}' AND job_status = 'OPEN'`);
    await page.selectOption('#filter-status', { label: 'open' });
    expect(await visible()).toBe(Number(both?.n));
    await page.selectOption('#filter-department', { label: 'all' });
    await page.selectOption('#filter-status', { label: 'all' });
    expect(await visible()).toBe(all);
  });

  it('is readable: a screenshot under test/artifacts/', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'report.png');
    await page.screenshot({ path, fullPage: false });
    await page.locator('#interviewer-load').screenshot({ path: join(ARTIFACTS, 'report-interviewer-load.png') });
    for (const section of ['overview', 'hire-curve', 'funnel-cohorts', 'interviewer-outcomes', 'data-quality', 'time-to-fill', 'offer-acceptance', 'rejection-reasons']) await page.locator(`#${section}`).screenshot({ path: join(ARTIFACTS, `report-${section}.png`) });
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('npm start a second time, into the same warehouse', () => {
  it('replaces the first demo and prints the same 14 days and rows', async () => {
    const again = await runCli(['demo', '--warehouse', warehouse]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`The sandbox data an earlier run left in ${warehouse} is replaced.`);
    expect(again.stdout.match(/^ {2}2025-06-\d\d {2}succeeded/gm)).toHaveLength(14);
    const rows = (out: string) => out.slice(out.indexOf('Rows per table'), out.indexOf('\n\n', out.indexOf('Rows per table')));
    expect(rows(again.stdout)).toBe(rows(demo.stdout));
    expect(rows(demo.stdout)).toMatch(/^applications +\d+/m);
  }, 180_000);
});
