import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { LocalQueue } from '../../shared/adapters/local/local-queue.ts';
import type { ListOptions, Page } from '../../shared/kombo/client.ts';
import { peekNext } from '../../shared/kombo/client.ts';
import type { ChunkLimits } from '../../shared/pipeline/chunk.ts';
import { processChunk } from '../../shared/pipeline/chunk.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import type { StreamMessage } from '../../shared/ports.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { dataFileKey } from '../../shared/warehouse/layout.ts';
import { tempDirs } from '../helpers/temp.ts';

const tempDir = tempDirs('kombo-sizing-');

const INTEGRATION = 'lever:AbC123';
const DATE = '2026-11-23';

interface FakeOptions {
  /** Every `phoneEvery`-th candidate has a phone number (default: every one). */
  readonly phoneEvery?: number;
  /** Characters each page is said to weigh. */
  readonly bytes?: number;
  /** Like the real client, tell the next cursor before the page is returned (optionally a wrong one). */
  readonly readAhead?: boolean;
  readonly wrongGuessAt?: number;
  /** On this page, tell the cursor twice, as when an answer breaks off after its head and is retried. */
  readonly retellAt?: number;
}

/** A Kombo client stand-in serving `pages` pages of `perPage` candidates; records who asked for what. */
function fakeClient(pages: number, perPage: number, o: FakeOptions = {}) {
  const stats = { requests: 0, retries: 0, throttles: 0 };
  const asked: (string | null)[] = [];
  return {
    stats,
    asked,
    async listPage(_id: string, _model: string, opts: ListOptions = {}): Promise<Page> {
      stats.requests++;
      asked.push(opts.cursor ?? null);
      const n = opts.cursor ? Number(opts.cursor) : 0;
      if (Number.isNaN(n)) return { records: [], next: null };
      const next = n + 1 < pages ? String(n + 1) : null;
      await new Promise((resolve) => setImmediate(resolve));
      if (o.readAhead && next !== null) opts.onNext?.(n === o.wrongGuessAt ? 'not-a-page' : next);
      await new Promise((resolve) => setImmediate(resolve));
      if (o.readAhead && next !== null && n === o.retellAt) opts.onNext?.(next);
      const records = Array.from({ length: perPage }, (_, i) => {
        const k = n * perPage + i;
        return { id: `c${String(k).padStart(5, '0')}`, phone_numbers: k % (o.phoneEvery ?? 1) === 0 ? [{ phone_number: `+49 ${k}`, type: 'MOBILE' }] : [] };
      });
      return { records, next, ...(o.bytes !== undefined && { bytes: o.bytes }) };
    },
    async getIntegration(id: string) {
      return { id, status: 'ACTIVE', read_models: [] };
    },
  };
}

async function setup(runId: string) {
  const store = new FolderStore(tempDir());
  const queue = new LocalQueue();
  await planRun({ client: fakeClient(1, 1), store, queue }, { runId, snapshotDate: DATE, integrationIds: [INTEGRATION], models: ['candidates'] });
  const sent: StreamMessage[] = [];
  return { store, catalog: new LocalCatalog(store), queue: { send: async (m: StreamMessage) => void sent.push(m) }, sent };
}

const first = (runId: string): StreamMessage => ({ runId, snapshotDate: DATE, integrationId: INTEGRATION, model: 'candidates', cursor: null, chunk: 0, totals: EMPTY_TOTALS });

async function readFile(store: FolderStore, table: string, runId: string, chunk: number) {
  const bytes = await store.get(dataFileKey(table, DATE, INTEGRATION, runId, chunk));
  if (!bytes) throw new Error(`no file for ${table} chunk ${chunk}`);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { metadata: parquetMetadata(file), rows: (await parquetReadObjects({ file })) as Record<string, unknown>[] };
}

describe('chunk sizing', () => {
  it('keeps fetching until every table it has rows for holds the target, the sparse child table included', async () => {
    // Prepare: one candidate in four has a phone number; no candidate has tags or social media
    const env = await setup('s1');
    const client = fakeClient(20, 10, { phoneEvery: 4 });
    const limits: Partial<ChunkLimits> = { fileRows: 10, minFileRows: 10 };
    // Act
    const r = await processChunk({ ...env, client, limits }, first('s1'));
    // Assess: 10 candidates would fill the candidates file, but the phone numbers need 40
    expect(r.outcome).toBe('continued');
    expect(r.totals.rows['candidate_phone_numbers']).toBeGreaterThanOrEqual(10);
    expect(r.totals.rows['candidates']).toBeGreaterThanOrEqual(40);
    // …and the page that filled the files brings at most one more page along
    expect(r.totals.pages).toBeLessThanOrEqual(5);
    expect(r.totals.rows['candidate_tags']).toBe(0);
  });

  it('ends a chunk at its byte cap even when the files are not full', async () => {
    const env = await setup('s2');
    const client = fakeClient(20, 10, { bytes: 1_000 });
    const r = await processChunk({ ...env, client, limits: { fileRows: 1_000, maxBytes: 3_000 } }, first('s2'));
    expect(r.outcome).toBe('continued');
    expect(r.totals.pages).toBe(3);
    expect(env.sent[0]).toMatchObject({ cursor: '3', chunk: 1 });
  });

  it('writes row groups while fetching, and the file holds every row in order', async () => {
    const env = await setup('s3');
    const r = await processChunk({ ...env, client: fakeClient(5, 10), limits: { rowGroupRows: 15 } }, first('s3'));
    expect(r.outcome).toBe('done');
    const { metadata, rows } = await readFile(env.store, 'candidates', 's3', 0);
    expect(Number(metadata.num_rows)).toBe(50);
    expect(metadata.row_groups.length).toBeGreaterThan(1);
    expect(rows.map((x) => x['id'])).toEqual(Array.from({ length: 50 }, (_, k) => `c${String(k).padStart(5, '0')}`));
    expect(rows.every((x) => x['_run_id'] === 's3')).toBe(true);
  });
});

describe('reading ahead', () => {
  it('asks for the next page on the cursor the client reads ahead, and wastes no request', async () => {
    const env = await setup('a1');
    const client = fakeClient(6, 10, { readAhead: true });
    const r = await processChunk({ ...env, client }, first('a1'));
    expect(r.outcome).toBe('done');
    expect(r.totals.rows['candidates']).toBe(60);
    expect(client.asked).toEqual([null, '1', '2', '3', '4', '5']);
  });

  it('drops a wrong guess and asks for the right page: every record once', async () => {
    const env = await setup('a2');
    const client = fakeClient(6, 10, { readAhead: true, wrongGuessAt: 2 });
    const r = await processChunk({ ...env, client }, first('a2'));
    expect(r.outcome).toBe('done');
    expect(r.totals.rows['candidates']).toBe(60);
    expect(client.asked.filter((c) => c !== 'not-a-page')).toEqual([null, '1', '2', '3', '4', '5']);
    const { rows } = await readFile(env.store, 'candidates', 'a2', 0);
    expect(new Set(rows.map((x) => x['id'])).size).toBe(60);
  });

  it('asks once for a page whose cursor it is told twice (a retried answer), and follows a corrected one', async () => {
    // Prepare: page 2's cursor is told twice; page 3's is first wrong, then right (the retry)
    const env = await setup('a4');
    const client = fakeClient(6, 10, { readAhead: true, retellAt: 2 });
    const r = await processChunk({ ...env, client }, first('a4'));
    const corrected = fakeClient(6, 10, { readAhead: true, wrongGuessAt: 3, retellAt: 3 });
    const env2 = await setup('a5');
    const r2 = await processChunk({ ...env2, client: corrected }, first('a5'));
    // Assess: no page asked for twice, every record once
    expect(r.totals.rows['candidates']).toBe(60);
    expect(client.asked).toEqual([null, '1', '2', '3', '4', '5']);
    expect(r2.totals.rows['candidates']).toBe(60);
    expect(corrected.asked.filter((c) => c !== 'not-a-page')).toEqual([null, '1', '2', '3', '4', '5']);
  });

  it('does not read ahead past the chunk it is filling', async () => {
    const env = await setup('a3');
    const client = fakeClient(6, 10, { readAhead: true });
    const r = await processChunk({ ...env, client, limits: { maxRows: 30, pageSize: 10 } }, first('a3'));
    expect(r.outcome).toBe('continued');
    expect(r.totals.rows['candidates']).toBe(30);
    expect(client.asked).toEqual([null, '1', '2']);
  });
});

describe('peekNext', () => {
  it.each([
    ['{"status":"success","data":{"next":"abc","results":[]}}', 'abc'],
    ['{ "status": "success", "data": { "next": null, "results": [] } }', null],
    ['{"status":"success","data":{"next":"a\\"b","results":[]}}', 'a"b'],
    ['{"status":"success","data":{"results":[{"next":"x"}],"next":"abc"}}', undefined],
    ['{"status":"error","error":{}}', undefined],
    ['not json', undefined],
  ])('reads %s as %s', (body, expected) => {
    expect(peekNext(body)).toBe(expected);
  });
});
