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
  it('syncs 14 simulated days, one snapshot each', async () => {
    expect(demo.code, demo.stderr).toBe(0);
    const snapshots = await objects(db, 'SELECT integration_id, count(DISTINCT snapshot_date) AS n, CAST(min(snapshot_date) AS VARCHAR) AS first FROM applications GROUP BY ALL');
    expect(snapshots.length).toBeGreaterThan(1);
    for (const s of snapshots) expect(s).toMatchObject({ n: 14, first: '2025-06-01' });
    expect(demo.stdout.match(/^ {2}2025-06-\d\d {2}succeeded/gm)).toHaveLength(14);
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

  it('renders every chart: a funnel and days-in-stage per job, time to hire, interviewer load, sources', async () => {
    const jobs = await objects(db, 'SELECT count(DISTINCT integration_id || job_id) AS n FROM hiring_funnel');
    const counts = await page.evaluate(() =>
      Object.fromEntries(['funnel', 'days-in-stage', 'time-to-hire', 'interviewer-load', 'sources'].map((c) => [c, document.querySelectorAll(`svg[data-chart="${c}"]`).length])),
    );
    expect(counts).toEqual({ funnel: jobs[0]?.n, 'days-in-stage': jobs[0]?.n, 'time-to-hire': 1, 'interviewer-load': 1, sources: 1 });
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

  it('shows as many hires as time_to_hire holds', async () => {
    const hires = await objects(db, 'SELECT count(*) AS n FROM time_to_hire');
    expect(await page.locator('[data-kpi="hires"]').textContent()).toBe(String(hires[0]?.n));
    expect(await page.locator('table[data-table="time-to-hire"] tbody tr').count()).toBe(hires[0]?.n);
    const binned = await page.evaluate(() => [...document.querySelectorAll('svg[data-chart="time-to-hire"] g[data-count]')].reduce((n, g) => n + Number(g.getAttribute('data-count')), 0));
    expect(binned).toBe(hires[0]?.n);
  });

  it('is readable: a screenshot under test/artifacts/', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'report.png');
    await page.screenshot({ path, fullPage: false });
    await page.locator('#interviewer-load').screenshot({ path: join(ARTIFACTS, 'report-interviewer-load.png') });
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
  });
});
