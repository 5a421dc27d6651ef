import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { LocalQueue } from '../../shared/adapters/local/local-queue.ts';
import { processChunk } from '../../shared/pipeline/chunk.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import type { StreamMessage } from '../../shared/ports.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import type { Page } from '../../shared/kombo/client.ts';
import { IntegrationFatalError, ModelNotAvailableError, RunFatalError } from '../../shared/errors.ts';
import { runKeys } from '../../shared/state/keys.ts';
import { completeRunIfLast, readMarkers } from '../../shared/state/runs.ts';

const INTEGRATION = 'lever:AbC123';
const DATE = '2026-11-23';

/** A Kombo client stand-in serving `pages` pages of `perPage` candidates. */
function fakeClient(pages: number, perPage: number, failAt?: { page: number; error: Error }) {
  const stats = { requests: 0, retries: 0, throttles: 0 };
  return {
    stats,
    async listPage(_id: string, _model: string, opts: { cursor?: string | null } = {}): Promise<Page> {
      stats.requests++;
      const n = opts.cursor ? Number(opts.cursor) : 0;
      if (failAt && n === failAt.page) throw failAt.error;
      const records = Array.from({ length: perPage }, (_, i) => ({ id: `c${n}-${i}`, email_addresses: [{ email_address: `${n}-${i}@x` }] }));
      return { records, next: n + 1 < pages ? String(n + 1) : null };
    },
    async getIntegration(id: string) {
      return { id, status: 'ACTIVE', read_models: [] };
    },
  };
}

function setup() {
  const store = new FolderStore(mkdtempSync(join(tmpdir(), 'kombo-pipe-')));
  return { store, queue: new LocalQueue(), catalog: new LocalCatalog(store) };
}

const first = (runId: string): StreamMessage => ({ runId, snapshotDate: DATE, integrationId: INTEGRATION, model: 'candidates', cursor: null, chunk: 0, totals: EMPTY_TOTALS });

async function plan(env: ReturnType<typeof setup>, runId: string, client = fakeClient(1, 1)) {
  await planRun({ client, store: env.store, queue: env.queue }, { runId, snapshotDate: DATE, integrationIds: [INTEGRATION], models: ['candidates'] });
}

describe('processChunk', () => {
  it('spans many pages per chunk, continues with the next cursor, and finishes the stream', async () => {
    const env = setup();
    await plan(env, 'r1');
    const client = fakeClient(5, 10);
    const sent: StreamMessage[] = [];
    const queue = { send: async (m: StreamMessage) => void sent.push(m) };
    const r1 = await processChunk({ ...env, queue, client, limits: { maxRows: 30 } }, first('r1'));
    expect(r1.outcome).toBe('continued');
    expect(r1.totals.pages).toBe(3);
    expect(sent).toEqual([expect.objectContaining({ cursor: '3', chunk: 1 })]);
    const r2 = await processChunk({ ...env, queue, client, limits: { maxRows: 30 } }, sent[0]!);
    expect(r2.outcome).toBe('done');
    expect(r2.totals.rows).toEqual({ candidates: 50, candidate_email_addresses: 50, candidate_phone_numbers: 0, candidate_social_media: 0, candidate_tags: 0 });
    const keys = await env.store.list('candidates/');
    expect(keys).toEqual([
      `candidates/snapshot_date=${DATE}/integration_id=lever%3AAbC123/run-r1/part-00000.parquet`,
      `candidates/snapshot_date=${DATE}/integration_id=lever%3AAbC123/run-r1/part-00001.parquet`,
    ]);
    expect(await env.store.get(runKeys.success('r1'))).toBeDefined();
  });

  it('rewrites the same keys when a message is delivered twice', async () => {
    const env = setup();
    await plan(env, 'r2');
    const deps = { ...env, client: fakeClient(2, 5), limits: { maxRows: 5 } };
    await processChunk(deps, first('r2'));
    const once = await env.store.list('candidates/');
    await processChunk(deps, first('r2'));
    expect(await env.store.list('candidates/')).toEqual(once);
  });

  it("a newer run replaces the older run's files and catalog entry in the partition", async () => {
    const env = setup();
    for (const runId of ['old', 'new']) {
      await plan(env, runId);
      const r = await processChunk({ ...env, client: fakeClient(1, 3) }, first(runId));
      expect(r.outcome).toBe('done');
    }
    const keys = await env.store.list('candidates/');
    expect(keys.every((k) => k.includes('/run-new/'))).toBe(true);
    expect((await env.catalog.partitions('candidates')).map((p) => p.location)).toEqual([`candidates/snapshot_date=${DATE}/integration_id=lever%3AAbC123/run-new/`]);
  });

  it.each([
    ['skipped', new ModelNotAvailableError('nope', 'INTEGRATION.MODEL_NOT_AVAILABLE')],
    ['failed', new IntegrationFatalError('revoked', 'INTEGRATION.AUTHENTICATION_INVALID')],
  ] as const)('ends the stream as %s with its code, leaving no files behind', async (status, error) => {
    const env = setup();
    await plan(env, 'r3');
    const r0 = await processChunk({ ...env, client: fakeClient(3, 2), limits: { maxRows: 2 } }, first('r3'));
    expect(r0.outcome).toBe('continued');
    const r = await processChunk({ ...env, client: fakeClient(3, 2, { page: 1, error }), limits: { maxRows: 2 } }, { ...first('r3'), cursor: '1', chunk: 1, totals: r0.totals });
    expect(r).toMatchObject({ outcome: status, code: error.code });
    expect(await env.store.list('candidates/')).toEqual([]);
    const [marker] = await readMarkers(env.store, 'r3');
    expect(marker).toMatchObject({ status, code: error.code });
    expect(await env.store.get(status === 'failed' ? runKeys.failed('r3') : runKeys.success('r3'))).toBeDefined();
  });

  it('lets run-fatal errors through to stop the run', async () => {
    const env = setup();
    await plan(env, 'r4');
    const client = fakeClient(1, 1, { page: 0, error: new RunFatalError('bad key', 'PLATFORM.AUTHENTICATION_INVALID') });
    await expect(processChunk({ ...env, client }, first('r4'))).rejects.toBeInstanceOf(RunFatalError);
  });
});

describe('run completion', () => {
  it('exactly one of many concurrent finishers writes the completion marker', async () => {
    const env = setup();
    await plan(env, 'r5');
    await processChunk({ ...env, client: fakeClient(1, 1) }, first('r5'));
    await env.store.delete([runKeys.success('r5'), runKeys.report('r5')]);
    const results = await Promise.all(Array.from({ length: 8 }, () => completeRunIfLast(env.store, 'r5')));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });
});

describe('LocalQueue', () => {
  it('runs at most `concurrency` handlers at once and drains continuations', async () => {
    const q = new LocalQueue();
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) await q.send({ ...first('q'), chunk: i });
    await q.drain(async (m) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(m.chunk);
      if (m.chunk < 3) await q.send({ ...m, chunk: m.chunk + 10 });
      active--;
    }, 2);
    expect(peak).toBe(2);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12]);
  });
});
