import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.ts';
import type { PiiOptions } from '../../shared/flatten.ts';
import { encodeJson } from '../../shared/state/codec.ts';
import { runKeys, stateKeys } from '../../shared/state/keys.ts';
import { assertWarehousePii, holdWarehousePii, readWarehousePii } from '../../shared/state/pii.ts';
import { MemoryStore } from '../helpers/memory-store.ts';

const HINTS = { mode: '--pii-mode', newWarehouse: '--warehouse DIR' };
const SALT = '9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c';
const keep: PiiOptions = { mode: 'keep' };
const drop: PiiOptions = { mode: 'drop' };
const hash: PiiOptions = { mode: 'hash', salt: SALT };

/** A warehouse whose runs were written before the mode was recorded; `runner` as a local run wrote it, if any. */
async function olderWarehouse(runner?: object): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.put(runKeys.plan('20250601T020000Z-aaaaaa'), encodeJson({ runId: '20250601T020000Z-aaaaaa', streams: [] }));
  await store.put(stateKeys.stream('greenhouse:OlderRun0000000000000000', 'candidates'), encodeJson({ integrationId: 'greenhouse:OlderRun0000000000000000', model: 'candidates' }));
  if (runner) await store.put(runKeys.runner('20250601T020000Z-aaaaaa'), encodeJson(runner));
  return store;
}

const refusal = async (run: Promise<unknown>): Promise<string> => {
  const err = await run.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
};

describe('the warehouse personal-data mode, recorded and held', () => {
  it('is recorded by the first sync (mode and hash scheme, never the salt), and the same mode passes again', async () => {
    const store = new MemoryStore();
    await holdWarehousePii(store, hash, 'w', HINTS);
    const body = new TextDecoder().decode(await store.get(stateKeys.pii()));
    expect(JSON.parse(body)).toMatchObject({ mode: 'hash', hashScheme: 'hmac-sha256' });
    expect(body).not.toContain(SALT.slice(0, 8));
    await expect(holdWarehousePii(store, hash, 'w', HINTS)).resolves.toBeUndefined();
  });

  it.each([
    [keep, drop],
    [drop, keep],
    [keep, hash],
    [hash, drop],
  ])('refuses %j after %j, saying what to do, and leaves the record as it was', async (first, then) => {
    const store = new MemoryStore();
    await holdWarehousePii(store, first, 'w', HINTS);
    const before = await store.get(stateKeys.pii());
    const message = await refusal(holdWarehousePii(store, then, 'w', HINTS));
    expect(message).toBe(
      `warehouse w stores personal data with --pii-mode ${first.mode}, and this sync asks for ${then.mode}: a change would reach only the records a sync fetches and leave the others as stored, so nothing was written; sync with --pii-mode ${first.mode}, or sync with --pii-mode ${then.mode} into a new warehouse (--warehouse DIR)`,
    );
    expect(await store.get(stateKeys.pii())).toEqual(before);
  });

  it('infers an older local warehouse\'s mode from its latest run, and refuses hash there: its hashes are the earlier scheme', async () => {
    const store = await olderWarehouse({ source: 'sandbox', pii: { mode: 'hash', saltFingerprint: 'cd07016ac7742a97' } });
    expect(await readWarehousePii(store)).toEqual({ mode: 'hash', hashScheme: 'salted-sha256', how: 'inferred' });
    expect(await refusal(assertWarehousePii(store, hash, 'w', HINTS))).toBe(
      'warehouse w holds personal data hashed with salted SHA-256 (as its latest run says), and this version hashes with HMAC-SHA256: the two never match, so nothing was written; sync with --pii-mode hash into a new warehouse (--warehouse DIR)',
    );
    expect(await refusal(assertWarehousePii(store, keep, 'w', HINTS))).toMatch(/stores personal data with --pii-mode hash \(as its latest run says\), and this sync asks for keep/);
  });

  it('takes keep and drop on a warehouse whose runs never said their mode (AWS), but not hash', async () => {
    const store = await olderWarehouse();
    await expect(holdWarehousePii(store, drop, 'w', HINTS)).resolves.toBeUndefined();
    const aws = await olderWarehouse();
    expect(await refusal(holdWarehousePii(aws, hash, 's3://b/w', HINTS))).toMatch(/^warehouse s3:\/\/b\/w holds runs that did not record their personal-data mode/);
    expect(await aws.get(stateKeys.pii())).toBeUndefined();
  });

  it("counts a warehouse whose only run is planned but stored nothing yet (AWS's first night) as new: hash is taken and recorded", async () => {
    const store = new MemoryStore();
    await store.put(runKeys.plan('20250601T020000Z-aaaaaa'), encodeJson({ runId: '20250601T020000Z-aaaaaa', streams: [] }));
    expect(await readWarehousePii(store)).toBeUndefined();
    await holdWarehousePii(store, hash, 's3://b/w', HINTS);
    expect(await readWarehousePii(store)).toEqual({ mode: 'hash', hashScheme: 'hmac-sha256', how: 'recorded' });
  });

  it("still counts it as new once the planner recorded its check of an integration (the integrations table's record)", async () => {
    const store = new MemoryStore();
    await store.put(runKeys.plan('20250601T020000Z-aaaaaa'), encodeJson({ runId: '20250601T020000Z-aaaaaa', streams: [] }));
    await store.put(stateKeys.integration('greenhouse:FirstNight000000000000000'), encodeJson({ hash: 'h', row: {}, syncedAt: 0, snapshotDate: '2025-06-01', partitions: {} }));
    expect(await readWarehousePii(store)).toBeUndefined();
    await holdWarehousePii(store, hash, 's3://b/w', HINTS);
    expect(await readWarehousePii(store)).toEqual({ mode: 'hash', hashScheme: 'hmac-sha256', how: 'recorded' });
  });
});
