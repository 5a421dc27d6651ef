/**
 * The stream lock under contention: many runs taking over one stale holder at once, and a release
 * racing a takeover. On three stores: the local folder, S3Store against S3's conditional semantics
 * (an SDK-level fake that honours `If-None-Match` and `If-Match` as S3 does: fauxqs ignores them),
 * and the requests S3Store sends for each conditional operation.
 */
import { createHash } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { DeleteObjectCommandInput, DeleteObjectsCommandInput, PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import type { ObjectStore } from '../../shared/ports.ts';
import { stateKeys } from '../../shared/state/keys.ts';
import type { StreamLock } from '../../shared/state/lock.ts';
import { LOCK_STALE_MS, releaseLock, takeLock } from '../../shared/state/lock.ts';
import { tempDirs } from '../helpers/temp.ts';

const STREAM = { integrationId: 'greenhouse:lock', model: 'applications' as const };
const KEY = stateKeys.lock(STREAM.integrationId, STREAM.model);
const NOW = Date.parse('2026-11-20T02:00:00Z');
const CONTENDERS = 20;

const lockOf = (runId: string, at = NOW): StreamLock => ({ runId, snapshotDate: '2026-11-20', lockedAt: new Date(at).toISOString() });
const holderOf = async (store: ObjectStore): Promise<string | undefined> => {
  const body = await store.get(KEY);
  return body === undefined ? undefined : (JSON.parse(Buffer.from(body).toString('utf8')) as StreamLock).runId;
};

const s3Error = (status: number, name: string) => new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

/** An S3 bucket in memory, with S3's conditional writes; every request yields first so that calls interleave. */
function fakeS3(mock: AwsClientStub<S3Client>): Map<string, { body: Uint8Array; etag: string }> {
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  const etag = (body: Uint8Array) => `"${createHash('md5').update(body).digest('hex')}"`;
  mock.reset();
  mock.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    await tick();
    const current = objects.get(input.Key!);
    if (input.IfNoneMatch === '*' && current) throw s3Error(412, 'PreconditionFailed');
    if (input.IfMatch !== undefined && !current) throw s3Error(404, 'NoSuchKey');
    if (input.IfMatch !== undefined && current!.etag !== input.IfMatch) throw s3Error(412, 'PreconditionFailed');
    const body = typeof input.Body === 'string' ? Buffer.from(input.Body) : (input.Body as Uint8Array);
    objects.set(input.Key!, { body, etag: etag(body) });
    return { ETag: etag(body) };
  });
  mock.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    await tick();
    const current = objects.get(input.Key);
    if (!current) throw s3Error(404, 'NoSuchKey');
    return { ETag: current.etag, Body: { transformToByteArray: () => Promise.resolve(current.body) } };
  });
  mock.on(DeleteObjectCommand).callsFake(async (input: DeleteObjectCommandInput) => {
    await tick();
    const current = objects.get(input.Key!);
    if (input.IfMatch !== undefined && !current) throw s3Error(404, 'NoSuchKey');
    if (input.IfMatch !== undefined && current!.etag !== input.IfMatch) throw s3Error(412, 'PreconditionFailed');
    objects.delete(input.Key!);
    return {};
  });
  mock.on(DeleteObjectsCommand).callsFake((input: DeleteObjectsCommandInput) => {
    for (const o of input.Delete!.Objects!) objects.delete(o.Key!);
    return {};
  });
  return objects;
}

const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, endpoint: 'http://127.0.0.1:9' });
let mock: AwsClientStub<S3Client>;
beforeAll(() => {
  mock = mockClient(client);
});
afterAll(() => mock.restore());

const tempDir = tempDirs('kombo-etl-lock-');
const stores: [string, () => ObjectStore][] = [
  ['the folder store', () => new FolderStore(tempDir())],
  ['S3Store with S3 conditional writes', () => (fakeS3(mock), new S3Store({ client, bucket: 'b', prefix: 'w' }))],
];

describe.each(stores)('the stream lock on %s', (_name, makeStore) => {
  let store: ObjectStore;
  beforeEach(() => {
    store = makeStore();
  });

  it(`lets exactly one of ${CONTENDERS} runs take over a stale holder at once`, async () => {
    await store.put(KEY, JSON.stringify(lockOf('stale', NOW - LOCK_STALE_MS - 1)));
    const runs = Array.from({ length: CONTENDERS }, (_, i) => `run-${String(i).padStart(2, '0')}`);
    const outcomes = await Promise.all(runs.map((r) => takeLock(store, STREAM, lockOf(r), () => Promise.resolve(false))));
    const winners = runs.filter((_, i) => outcomes[i]!.taken);
    expect(winners).toHaveLength(1);
    expect(await holderOf(store)).toBe(winners[0]);
    for (const o of outcomes) if (!o.taken) expect(o.holder.runId).toBe(winners[0]);
  });

  it(`lets exactly one of ${CONTENDERS} runs take over a holder that ended, and one create a free lock`, async () => {
    await store.put(KEY, JSON.stringify(lockOf('ended')));
    const ended = (holder: StreamLock) => Promise.resolve(holder.runId === 'ended');
    const over = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => takeLock(store, STREAM, lockOf(`a-${i}`), ended)));
    expect(over.filter((o) => o.taken)).toHaveLength(1);
    await store.delete([KEY]);
    const free = await Promise.all(Array.from({ length: CONTENDERS }, (_, i) => takeLock(store, STREAM, lockOf(`b-${i}`), ended)));
    expect(free.filter((o) => o.taken)).toHaveLength(1);
  });

  it('releases only its own lock: a takeover between its read and its delete stays', async () => {
    await store.put(KEY, JSON.stringify(lockOf('old')));
    // The old run reads its own lock; a new run takes it over before the old one deletes it.
    const racing: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      get: async (key: string) => {
        const body = await store.get(key);
        await store.put(KEY, JSON.stringify(lockOf('new')));
        return body;
      },
      getTagged: async (key: string) => {
        const tagged = await store.getTagged(key);
        await store.put(KEY, JSON.stringify(lockOf('new')));
        return tagged;
      },
    });
    await releaseLock(racing, STREAM, 'old');
    expect(await holderOf(store)).toBe('new');
    await releaseLock(store, STREAM, 'new');
    expect(await holderOf(store)).toBeUndefined();
  });
});

describe('S3Store conditional requests (SDK-level mock)', () => {
  const store = new S3Store({ client, bucket: 'b', prefix: 'w' });

  it('reads the ETag, swaps with If-Match and answers false on 412 or a missing key', async () => {
    mock.reset().on(GetObjectCommand).resolves({ ETag: '"e1"', Body: { transformToByteArray: () => Promise.resolve(Buffer.from('{}')) } } as never);
    expect((await store.getTagged('_state/x/lock.json'))?.etag).toBe('"e1"');
    mock.on(PutObjectCommand).resolvesOnce({}).rejectsOnce(s3Error(412, 'PreconditionFailed')).rejectsOnce(s3Error(404, 'NoSuchKey'));
    expect(await store.putIfMatch('_state/x/lock.json', '{}', '"e1"')).toBe(true);
    expect(mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'b', Key: 'w/_state/x/lock.json', IfMatch: '"e1"' });
    expect(await store.putIfMatch('_state/x/lock.json', '{}', '"e1"')).toBe(false);
    expect(await store.putIfMatch('_state/x/lock.json', '{}', '"e1"')).toBe(false);
  });

  it('deletes with If-Match, answers false on 412, and rethrows anything else', async () => {
    mock.reset().on(DeleteObjectCommand).resolvesOnce({}).rejectsOnce(s3Error(412, 'PreconditionFailed')).rejectsOnce(s3Error(404, 'NoSuchBucket'));
    expect(await store.deleteIfMatch('_state/x/lock.json', '"e2"')).toBe(true);
    expect(mock.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'b', Key: 'w/_state/x/lock.json', IfMatch: '"e2"' });
    expect(await store.deleteIfMatch('_state/x/lock.json', '"e2"')).toBe(false);
    await expect(store.deleteIfMatch('_state/x/lock.json', '"e2"')).rejects.toThrow(/NoSuchBucket/);
  });
});
