/**
 * What a failed stream reports, against the sandbox on 127.0.0.1 with its fault switches: the
 * requests, retries and throttles it really cost (in `report.json` and the CLI's final table),
 * error pages summarised instead of pasted, and a log line while requests back off.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { runLocal } from '../../shared/adapters/local/local-run.ts';
import type { RetryEvent } from '../../shared/kombo/client.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import type { RunReport } from '../../shared/state/runs.ts';

const A = `workable:StatsA${'0'.repeat(18)}`;
const B = `lever:StatsB${'0'.repeat(18)}`;
const dataset = () =>
  generateDataset({
    seed: 3,
    integrations: [
      { id: A, tool: 'workable', candidates: 5 },
      { id: B, tool: 'lever', candidates: 5 },
    ],
  });
const tempDir = tempDirs('kombo-stats-');

describe('a stream that gives up on 5xx answers', () => {
  // Seeds of the sandbox's fault PRNG for which, with 3 attempts per request, the last answer is
  // a load balancer's HTML 502 page: for seed 18 on the integration check, for seed 17 on the
  // stream's first page (the check passed on its second attempt).
  it.each([
    [18, 'checking the integration: gave up after 3 attempts: HTTP 502: an HTML page "502 Bad Gateway"'],
    [17, `gave up after 3 attempts: HTTP 502: an HTML page "502 Bad Gateway" (integration ${A}, model candidates, cursor (first page))`],
  ])('seed %i: counts the 3 requests and 2 retries, and names the 502 page by its title', async (seed, reason) => {
    // Prepare
    const sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { seed, rate5xx: 0.75 } });
    const retries: RetryEvent[] = [];
    try {
      const store = new FolderStore(tempDir());
      const client = new KomboClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, retry: { maxAttempts: 3, baseDelayMs: 1 }, onRetry: (e) => retries.push(e) });
      // Act
      const report = await runLocal({
        client,
        store,
        catalog: new LocalCatalog(store),
        runId: `stats-${seed}`,
        source: 'kombo',
        snapshotDate: '2026-11-20',
        integrationIds: [A],
        models: ['candidates'],
        concurrency: 1,
      });
      // Assess
      const [stream] = report.streams;
      expect(stream).toMatchObject({ status: 'failed', code: 'HTTP.502', reason });
      expect(stream?.totals).toMatchObject({ pages: 0, requests: 3, retries: 2, throttles: 0 });
      const written = readFileSync(join(store.root, '_runs', `stats-${seed}`, 'report.json'), 'utf8');
      expect(JSON.parse(written)).toMatchObject({ streams: [{ totals: { requests: 3, retries: 2 } }] });
      expect(written).not.toMatch(/<|html>|Bad Gateway<\/title>/i);
      // Every backoff was told as it started, the last failure included in the reason.
      expect(retries.map((r) => r.attempt)).toEqual(seed === 17 ? [1, 1, 2] : [1, 2]);
    } finally {
      await sandbox.close();
    }
  });
});

describe('kombo-etl sync in a 429 loop (every request refused, Retry-After: 0)', () => {
  let sandbox: RunningSandbox;
  let warehouse: string;
  let result: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, dataset: dataset(), faults: { rate429: 1, retryAfterSeconds: 0 } });
    warehouse = tempDir();
    result = await runCli(['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', `${A},${B}`, '--models', 'candidates,applications', '--warehouse', warehouse]);
  }, 120_000);
  afterAll(async () => {
    await sandbox?.close();
  });

  it('exits 1 with every stream failed after 8 attempts of its integration check', () => {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(`failed: ${A} candidates: checking the integration: gave up after 8 attempts: HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED`);
  });

  it('records the 8 requests, 7 retries and 8 throttles of each stream in report.json', () => {
    const [runId] = readdirSync(join(warehouse, '_runs'));
    const report = JSON.parse(readFileSync(join(warehouse, '_runs', runId!, 'report.json'), 'utf8')) as RunReport;
    expect(report.streams).toHaveLength(4);
    for (const s of report.streams) expect(s.totals, `${s.integrationId} ${s.model}`).toMatchObject({ pages: 0, requests: 8, retries: 7, throttles: 8 });
    // Each integration's check is what the sandbox served: 2 × 8 requests.
    expect(sandbox.stats.requests).toBe(16);
  });

  it('shows them in the final table', () => {
    const header = result.stdout.split('\n').find((l) => l.startsWith('integration'));
    expect(header?.split(/\s{2,}/)).toEqual(['integration', 'model', 'status', 'mode', 'updated after', 'records', 'versions', 'deletions', 'rows (all tables)', 'pages', 'requests', 'retries', 'throttles', 'error code']);
    const rows = result.stdout.split('\n').filter((l) => l.startsWith(`${A} `) || l.startsWith(`${B} `));
    expect(rows).toHaveLength(4);
    // Ended by the plan: no mode, nothing fetched or stored.
    for (const row of rows) expect(row.split(/\s+/).slice(2)).toEqual(['failed', '0', '0', '0', '0', '0', '8', '7', '8', 'PLATFORM.RATE_LIMIT_EXCEEDED']);
  });

  it('logged the backoff while it happened (plain lines on a non-terminal stderr)', () => {
    for (const id of [A, B]) {
      expect(result.stderr).toMatch(
        new RegExp(`^\\S+Z ${id} \\(integration check\\): HTTP 429 PLATFORM.RATE_LIMIT_EXCEEDED: .*; attempt 1 of 8 failed, next in 0\\.0 s; Kombo's rate limit: every request waits$`, 'm'),
      );
    }
  });
});
