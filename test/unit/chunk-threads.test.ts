import { afterAll, describe, expect, it } from 'vitest';
import { ChunkThreads } from '../../shared/adapters/local/chunk-threads.ts';
import { DataError } from '../../shared/errors.ts';
import type { RawPage } from '../../shared/kombo/client.ts';
import type { ChunkWork, ChunkWorkInit } from '../../shared/pipeline/chunk-work.ts';
import { inlineChunkWork } from '../../shared/pipeline/chunk-work.ts';

const threads = new ChunkThreads(2);
afterAll(() => threads.close());

const candidate = (id: string) => ({
  id,
  first_name: `Ada ${id}`,
  remote_created_at: '2024-01-01T00:00:00.000Z',
  email_addresses: [{ email_address: `${id}@example.com`, type: 'PERSONAL' }],
});
const raw = (ids: string[], next: string | null): RawPage => {
  const text = JSON.stringify({ status: 'success', data: { next, results: ids.map(candidate) } });
  return { status: 200, text, bytes: text.length };
};
const init: ChunkWorkInit = { model: 'candidates', runId: 'run-1', syncedAt: Date.parse('2026-11-23T02:00:00Z'), seen: ['c0'], rowGroupRows: 2, prior: [] };
const loc = (cursor: string | null) => ({ integrationId: 'lever:Abc', model: 'candidates' as const, cursor });

async function feed(work: ChunkWork) {
  const outcomes = [await work.page(raw(['c0', 'c1', 'c2'], 'p2'), loc(null)), await work.page(raw(['c2', 'c3'], null), loc('p2'))];
  const files = await work.finish();
  work.close();
  return { outcomes, files };
}

describe('chunk worker threads', () => {
  it('parse, deduplicate, flatten and encode exactly as the work on the main thread does', async () => {
    // Act
    const [inThread, inline] = await Promise.all([feed(threads.work(init)), feed(inlineChunkWork(init))]);
    // Assess: c0 was seen in an earlier chunk and c2 repeats; candidates and their emails have files
    expect(inThread.outcomes).toEqual(inline.outcomes);
    expect(inThread.outcomes.map((o) => o.fresh)).toEqual([['c1', 'c2'], ['c3']]);
    expect(inThread.outcomes[1]!.tableRows.filter((n) => n > 0)).toEqual([3, 3]);
    const bytes = (files: (Uint8Array | undefined)[]) => files.map((f) => f && Buffer.from(f).toString('base64'));
    expect(bytes(inThread.files)).toEqual(bytes(inline.files));
    expect(inThread.files.filter((f) => f !== undefined)).toHaveLength(2);
  });

  it('sends a bad page back as the DataError the main thread would raise, naming the record', async () => {
    const work = threads.work(init);
    const bad = JSON.stringify({ status: 'success', data: { next: null, results: [{ ...candidate('c9'), remote_created_at: 'yesterday' }] } });
    const err = await work.page({ status: 200, text: bad, bytes: bad.length }, loc('p7')).catch((e: unknown) => e);
    work.close();
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ code: 'DATA.INVALID_RECORD', location: { integrationId: 'lever:Abc', model: 'candidates', cursor: 'p7', recordId: 'c9' } });
    const notJson = await threads.work(init).page({ status: 200, text: '<html>', bytes: 6 }, loc(null)).catch((e: unknown) => e);
    expect(notJson).toMatchObject({ code: 'DATA.MALFORMED_JSON' });
  });

  it('keeps chunks apart: two chunks on the same threads do not share their seen ids', async () => {
    const a = threads.work({ ...init, seen: [] });
    const b = threads.work({ ...init, seen: [] });
    const [ra, rb] = await Promise.all([a.page(raw(['x1'], null), loc(null)), b.page(raw(['x1'], null), loc(null))]);
    a.close();
    b.close();
    expect([ra.fresh, rb.fresh]).toEqual([['x1'], ['x1']]);
  });
});
