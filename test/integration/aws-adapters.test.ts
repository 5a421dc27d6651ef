/**
 * The AWS adapters and Lambda handlers, on 127.0.0.1 only:
 * - the S3 object store and the local FolderStore pass the same behaviour tests, the S3 one
 *   against fauxqs (an in-process S3 + SQS emulator);
 * - the SQS FIFO queue against fauxqs; S3 conditional writes, Glue, Secrets Manager and SSM at the
 *   SDK level with aws-sdk-client-mock (fauxqs does not enforce `If-None-Match`);
 * - end to end: a genuine scheduled EventBridge event into the planner handler, then genuine SQS
 *   events into the fetcher handler until the queue is empty, against the Kombo sandbox with faults
 *   switched on; DuckDB reads back every Parquet object and must find exactly the sandbox's rows.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AlreadyExistsException, CreatePartitionCommand, EntityNotFoundException, GlueClient, UpdatePartitionCommand } from '@aws-sdk/client-glue';
import type { CreatePartitionCommandInput } from '@aws-sdk/client-glue';
import { CreateBucketCommand, DeleteObjectsCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Message } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, nightlyEventOf, sqsRecordOf } from '../helpers/lambda-events.ts';
import { startFauxqs } from '../helpers/fauxqs.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningSandbox, SandboxIntegrationData } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { ConfigError } from '../../shared/errors.ts';
import { ENV, parseFetcherEnv, parsePlannerEnv } from '../../shared/adapters/aws/env.ts';
import { RUN_DEADLINE, SCHEDULE_SOURCE, parsePlannerEvent } from '../../shared/adapters/aws/events.ts';
import { REGISTRY_PART_MAX_CHARS, parseRegistry, readIntegrationRegistry, registryPartName, splitRegistry } from '../../shared/adapters/aws/registry.ts';
import { GlueCatalog } from '../../shared/adapters/aws/glue-catalog.ts';
import { API_KEY_PLACEHOLDER, CachedSecret, PII_SALT_PLACEHOLDER, komboClientFromSecret } from '../../shared/adapters/aws/secret.ts';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';
import { SqsQueue, deduplicationId, messageGroupId, parseStreamMessage } from '../../shared/adapters/aws/sqs-queue.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { DEFAULT_PACING_UTILISATION } from '../../shared/kombo/pacing.ts';
import type { ObjectStore, StreamMessage } from '../../shared/ports.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';
import { checkRunDeadline } from '../../shared/pipeline/watch.ts';
import { MODELS, TABLES, tableByName } from '../../shared/tables.ts';
import { partitionPrefix, runPrefix } from '../../shared/warehouse/layout.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { duck } from '../helpers/duckdb.ts';
import { EXPECTED, JSON_COLUMNS, rowKey, servedRecords } from '../helpers/truth.ts';
import { decodeJson } from '../../shared/state/codec.ts';
import { runKeys, stateKeys } from '../../shared/state/keys.ts';
import type { RunReport } from '../../shared/state/runs.ts';

const REGION = 'eu-west-1';
const BUCKET = 'kombo-warehouse';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// fauxqs, in process, on 127.0.0.1 only

interface Emulator {
  readonly url: string;
  close(): Promise<void>;
}

async function startEmulator(): Promise<Emulator> {
  const server = await startFauxqs(REGION);
  expect(new URL(server.url).hostname).toBe('127.0.0.1');
  return server;
}

let emulator: Emulator;
let s3: S3Client;
let sqs: SQSClient;

beforeAll(async () => {
  emulator = await startEmulator();
  s3 = new S3Client({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  sqs = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  await emulator?.close();
});

// ---------------------------------------------------------------------------------------------
// ObjectStore: the same behaviour, on S3 and on a local folder

const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe.each([
  ['S3Store on fauxqs', () => new S3Store({ client: s3, bucket: BUCKET, prefix: `contract-${randomUUID()}`, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB })],
  ['FolderStore', () => new FolderStore(mkdtempSync(join(tmpdir(), 'kombo-store-')))],
] as const)('ObjectStore contract: %s', (_name, makeStore) => {
  let store: ObjectStore;
  beforeAll(() => {
    store = makeStore();
  });

  it('reads back what it wrote, bytes and text, and overwrites', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    await store.put('t/bytes.bin', bytes);
    await store.put('t/text.json', '{"a":"ü 🚀"}');
    expect(new Uint8Array((await store.get('t/bytes.bin'))!)).toEqual(bytes);
    expect(dec(await store.get('t/text.json'))).toBe('{"a":"ü 🚀"}');
    await store.put('t/text.json', 'second');
    expect(dec(await store.get('t/text.json'))).toBe('second');
  });

  it('answers undefined for a missing key', async () => {
    expect(await store.get('t/missing.json')).toBeUndefined();
  });

  it('lists keys under a prefix, relative and sorted, including a partial last segment and Hive-escaped folders', async () => {
    const keys = [
      'l/candidates/snapshot_date=2026-11-20/integration_id=greenhouse%3AAbC/run-r1/part-00001.parquet',
      'l/candidates/snapshot_date=2026-11-20/integration_id=greenhouse%3AAbC/run-r1/part-00000.parquet',
      'l/candidates/snapshot_date=2026-11-21/integration_id=lever%3AXy/run-r2/part-00000.parquet',
      'l/_runs/20261120T020000Z-aaaaaa/plan.json',
      'l/_runs/20261121T020000Z-bbbbbb/plan.json',
      'l2/other.json',
    ];
    for (const k of keys) await store.put(k, k);
    expect(await store.list('l/candidates/snapshot_date=2026-11-20/')).toEqual([keys[1], keys[0]]);
    expect(await store.list('l/_runs/20261121')).toEqual([keys[4]]);
    expect(await store.list('l/')).toEqual([...keys.slice(0, 5)].sort());
    expect(await store.list('nothing-here/')).toEqual([]);
  });

  it('deletes many keys at once (more than one S3 batch), ignoring missing ones', async () => {
    const keys = Array.from({ length: 1_001 }, (_, i) => `d/${String(i).padStart(4, '0')}.json`);
    await Promise.all(keys.map((k) => store.put(k, '1')));
    expect(await store.list('d/')).toHaveLength(1_001);
    await store.delete([...keys, 'd/never-written.json']);
    expect(await store.list('d/')).toEqual([]);
    await store.delete([]);
  });

  it('round-trips a body larger than the multipart threshold', async () => {
    const big = new Uint8Array(11 * MiB);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await store.put('big/file.parquet', big);
    const back = await store.get('big/file.parquet');
    expect(back?.length).toBe(big.length);
    expect(Buffer.from(back!).equals(Buffer.from(big))).toBe(true);
  });

  it('writes a new key with putIfAbsent', async () => {
    expect(await store.putIfAbsent('p/_SUCCESS.json', '{"n":1}')).toBe(true);
    expect(dec(await store.get('p/_SUCCESS.json'))).toBe('{"n":1}');
  });

  it('refuses keys that would leave the warehouse', async () => {
    await expect(store.put('../outside.json', 'x')).rejects.toThrow(/escapes the warehouse/);
  });
});

describe('S3Store specifics', () => {
  it('sends large bodies as a multipart upload (multipart ETag) and small ones as one PUT', async () => {
    const store = new S3Store({ client: s3, bucket: BUCKET, prefix: 'mp', multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    await store.put('big.parquet', new Uint8Array(11 * MiB));
    await store.put('small.json', '{}');
    const etag = async (key: string) => (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `mp/${key}` }))).ETag ?? '';
    expect(await etag('big.parquet')).toMatch(/-3"?$/);
    expect(await etag('small.json')).not.toMatch(/-\d+"?$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp/big.parquet' }));
    expect(head.ContentType).toBe('application/vnd.apache.parquet');
  });

  it('locates keys as s3:// URIs under its prefix, with or without a prefix', () => {
    expect(new S3Store({ client: s3, bucket: 'b', prefix: '/warehouse/' }).locate('_runs/r/plan.json')).toBe('s3://b/warehouse/_runs/r/plan.json');
    expect(new S3Store({ client: s3, bucket: 'b' }).locate('x.json')).toBe('s3://b/x.json');
  });

  describe('putIfAbsent as an S3 conditional write (SDK-level mock)', () => {
    const client = new S3Client({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
    let mock: AwsClientStub<S3Client>;
    beforeAll(() => {
      mock = mockClient(client);
    });
    const store = new S3Store({ client, bucket: 'b', prefix: 'w' });
    const s3Error = (status: number, name: string) => new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
    afterAll(() => mock.restore());

    it("sends If-None-Match: * and answers true when S3 accepts", async () => {
      mock.reset().on(PutObjectCommand).resolves({});
      expect(await store.putIfAbsent('_runs/r/_SUCCESS.json', '{}')).toBe(true);
      expect(mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'b', Key: 'w/_runs/r/_SUCCESS.json', IfNoneMatch: '*' });
    });

    it('answers false on 412 Precondition Failed: another writer won', async () => {
      mock.reset().on(PutObjectCommand).rejects(s3Error(412, 'PreconditionFailed'));
      expect(await store.putIfAbsent('_runs/r/_SUCCESS.json', '{}')).toBe(false);
    });

    it('retries a 409 ConditionalRequestConflict, then reports the outcome', async () => {
      mock.reset().on(PutObjectCommand).rejectsOnce(s3Error(409, 'ConditionalRequestConflict')).rejectsOnce(s3Error(412, 'PreconditionFailed'));
      expect(await store.putIfAbsent('_runs/r/_SUCCESS.json', '{}')).toBe(false);
      expect(mock.commandCalls(PutObjectCommand)).toHaveLength(2);
    });

    it('deletes in DeleteObjects batches of at most 1000 keys, and fails loudly on a per-key error', async () => {
      mock.reset().on(DeleteObjectsCommand).resolves({});
      await store.delete(Array.from({ length: 2_500 }, (_, i) => `k/${i}`));
      const sizes = mock.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.length);
      expect(sizes).toEqual([1000, 1000, 500]);
      expect(mock.commandCalls(DeleteObjectsCommand)[0]!.args[0].input.Delete!.Objects![0]).toEqual({ Key: 'w/k/0' });
      mock.reset().on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'w/k/1', Code: 'AccessDenied', Message: 'denied' }] });
      await expect(store.delete(['k/1'])).rejects.toThrow(/could not delete 1 of 1 objects, e\.g\. w\/k\/1: AccessDenied/);
    });

    it('rethrows anything else', async () => {
      mock.reset().on(PutObjectCommand).rejects(s3Error(403, 'AccessDenied'));
      await expect(store.putIfAbsent('_runs/r/_SUCCESS.json', '{}')).rejects.toThrow(/AccessDenied/);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// SQS FIFO queue

const message = (over: Partial<StreamMessage> = {}): StreamMessage => ({
  runId: '20261120T020000Z-abc123',
  snapshotDate: '2026-11-20',
  integrationId: 'greenhouse:AbC123',
  model: 'candidates',
  cursor: 'opaque==',
  chunk: 3,
  totals: { ...EMPTY_TOTALS, pages: 6, rows: { candidates: 500 } },
  ...over,
});

describe('SqsQueue on a fauxqs FIFO queue', () => {
  let queueUrl: string;
  let queue: SqsQueue;
  beforeAll(async () => {
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'adapter-test.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
    expect(queueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    queue = new SqsQueue({ client: sqs, queueUrl });
  });
  const receiveAll = async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }))).Messages ?? [];

  it('sends the message as JSON, grouped by stream and deduplicated by run/stream/chunk; a second send of the same chunk is dropped', async () => {
    const m = message();
    await queue.send(m);
    await queue.send(m);
    const got = await receiveAll();
    expect(got).toHaveLength(1);
    expect(parseStreamMessage(got[0]!.Body!)).toEqual(m);
    expect(got[0]!.Attributes).toMatchObject({ MessageGroupId: 'greenhouse:AbC123/candidates', MessageDeduplicationId: '20261120T020000Z-abc123/greenhouse:AbC123/candidates/3' });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: got[0]!.ReceiptHandle! }));
  });

  it('sends many messages in batches of at most 10, every one arriving once, grouped by its stream', async () => {
    const models = MODELS.slice(0, 5);
    const many = Array.from({ length: 5 }, (_, i) => `greenhouse:Batch${i}`).flatMap((integrationId) => models.map((model) => message({ integrationId, model, chunk: 0, cursor: null })));
    const spy = vi.spyOn(sqs, 'send');
    await queue.sendAll(many);
    const sends = spy.mock.calls.map(([command]) => command);
    spy.mockRestore();
    expect(sends.every((c) => c instanceof SendMessageBatchCommand)).toBe(true);
    expect(sends).toHaveLength(3);
    const got: Message[] = [];
    for (let round = 0; round < 20 && got.length < many.length; round++) {
      const batch = await receiveAll();
      got.push(...batch);
      for (const m of batch) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
    expect(got.map((m) => parseStreamMessage(m.Body!)).sort((a, b) => messageGroupId(a).localeCompare(messageGroupId(b)))).toEqual(
      [...many].sort((a, b) => messageGroupId(a).localeCompare(messageGroupId(b))),
    );
    expect(new Set(got.map((m) => m.Attributes?.['MessageGroupId'])).size).toBe(many.length);
  });

  it('sends an entry the batch refused again on its own', async () => {
    const client = new SQSClient({ region: REGION, credentials: CREDENTIALS });
    const mock = mockClient(client);
    mock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: '' }], Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError' }] });
    mock.on(SendMessageCommand).resolves({ MessageId: 'b' });
    const two = [message({ chunk: 0 }), message({ model: 'applications', chunk: 0 })];
    await new SqsQueue({ client, queueUrl: 'http://127.0.0.1:9/q.fifo' }).sendAll(two);
    const single = mock.commandCalls(SendMessageCommand);
    expect(single).toHaveLength(1);
    expect(parseStreamMessage(single[0]!.args[0].input.MessageBody!)).toEqual(two[1]);
    mock.restore();
  });

  it('hashes ids SQS would refuse (over 128 characters), stably', () => {
    const long = message({ runId: `r${'x'.repeat(127)}`, integrationId: `tool:${'A'.repeat(120)}` });
    expect(deduplicationId(long)).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(deduplicationId(long)).toBe(deduplicationId({ ...long }));
    expect(deduplicationId(long)).not.toBe(deduplicationId({ ...long, chunk: 4 }));
    expect(messageGroupId(long)).toMatch(/^sha256-/);
    expect(messageGroupId(message())).toBe('greenhouse:AbC123/candidates');
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an unknown model', JSON.stringify({ ...message(), model: 'job_listings' }), /model/],
    ['an unsafe integration id', JSON.stringify({ ...message(), integrationId: '../etc' }), /integrationId/],
    ['a negative chunk', JSON.stringify({ ...message(), chunk: -1 }), /chunk/],
  ])('rejects a message body with %s, naming the field', (_what, body, error) => {
    expect(() => parseStreamMessage(body)).toThrow(error);
  });
});

// ---------------------------------------------------------------------------------------------
// Glue catalog, secret, environment (SDK-level mocks, no network)

describe('GlueCatalog', () => {
  const client = new GlueClient({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
  let mock: AwsClientStub<GlueClient>;
  beforeAll(() => {
    mock = mockClient(client);
  });
  const catalog = new GlueCatalog({ client, database: 'kombo_etl', bucket: 'wh', prefix: 'warehouse' });
  const candidates = tableByName('candidates')!;
  const prefix = runPrefix('candidates', '2026-11-20', 'greenhouse:AbC123', '20261120T020000Z-abc123');
  afterAll(() => mock.restore());

  it("creates the partition at the run's folder, with the table's Parquet storage", async () => {
    mock.reset().on(CreatePartitionCommand).resolves({});
    await catalog.registerPartition(candidates, '2026-11-20', 'greenhouse:AbC123', prefix);
    const input = mock.commandCalls(CreatePartitionCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      DatabaseName: 'kombo_etl',
      TableName: 'candidates',
      PartitionInput: {
        Values: ['2026-11-20', 'greenhouse:AbC123'],
        StorageDescriptor: {
          Location: 's3://wh/warehouse/candidates/snapshot_date=2026-11-20/integration_id=greenhouse%3AAbC123/run-20261120T020000Z-abc123/',
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
    expect(input.PartitionInput?.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(candidates.columns.map((c) => c.name));
    expect(mock.commandCalls(UpdatePartitionCommand)).toHaveLength(0);
  });

  it('repoints an existing partition (a re-run of the day) with UpdatePartition', async () => {
    mock.reset().on(CreatePartitionCommand).rejects(new AlreadyExistsException({ message: 'exists', $metadata: {} })).on(UpdatePartitionCommand).resolves({});
    await catalog.registerPartition(candidates, '2026-11-20', 'greenhouse:AbC123', prefix);
    const update = mock.commandCalls(UpdatePartitionCommand)[0]!.args[0].input;
    expect(update.PartitionValueList).toEqual(['2026-11-20', 'greenhouse:AbC123']);
    expect(update.PartitionInput).toEqual(mock.commandCalls(CreatePartitionCommand)[0]!.args[0].input.PartitionInput);
  });

  it('lets other errors through (e.g. a missing table), so the message is retried', async () => {
    mock.reset().on(CreatePartitionCommand).rejects(new EntityNotFoundException({ message: 'no table', $metadata: {} }));
    await expect(catalog.registerPartition(candidates, '2026-11-20', 'greenhouse:AbC123', prefix)).rejects.toThrow(/no table/);
  });
});

describe('CachedSecret', () => {
  const client = new SecretsManagerClient({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
  let mock: AwsClientStub<SecretsManagerClient>;
  beforeAll(() => {
    mock = mockClient(client);
  });
  afterAll(() => mock.restore());

  it('reads the secret once per container and reuses it; reads again after invalidate()', async () => {
    mock.reset().on(GetSecretValueCommand).resolves({ SecretString: 'key-1' });
    const secret = new CachedSecret(client, 'arn:secret');
    expect(await secret.value()).toBe('key-1');
    expect(await secret.value()).toBe('key-1');
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secret.invalidate();
    expect(await secret.value()).toBe('key-1');
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('accepts {"apiKey": …} JSON and hides the key from inspection', async () => {
    mock.reset().on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey":" key-json "}' });
    const secret = new CachedSecret(client, 'arn:secret');
    expect(await secret.value()).toBe('key-json');
    // Its own fields (the client aside) never show the key, e.g. when a logger prints the object.
    const { inspect } = await import('node:util');
    expect(inspect(secret, { depth: 0 })).not.toContain('key-json');
  });

  it('says how to set the key while the secret still holds the placeholder, and retries the read next time', async () => {
    mock.reset().on(GetSecretValueCommand).resolvesOnce({ SecretString: API_KEY_PLACEHOLDER }).resolves({ SecretString: 'real-key' });
    const secret = new CachedSecret(client, 'arn:aws:secretsmanager:eu-west-1:1:secret:kombo');
    const err = await secret.value().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/aws secretsmanager put-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:1:secret:kombo/);
    expect(await secret.value()).toBe('real-key');
  });

  it('builds one Kombo client per key, paced at the function\'s share of the budget when one is given', async () => {
    mock.reset().on(GetSecretValueCommand).resolvesOnce({ SecretString: 'key-1' }).resolves({ SecretString: 'key-2' });
    const secret = new CachedSecret(client, 'arn:secret');
    const kombo = komboClientFromSecret(secret, 'http://127.0.0.1:9', { requestsPerSecond: 2 });
    const first = await kombo();
    expect(first.pacing.rate()).toBeCloseTo(2 * DEFAULT_PACING_UTILISATION);
    expect(await kombo()).toBe(first);
    // A new key (after a rejection) gets a new client, paced the same.
    secret.invalidate();
    const second = await kombo();
    expect(second).not.toBe(first);
    expect(second.pacing.rate()).toBeCloseTo(2 * DEFAULT_PACING_UTILISATION);
    // Without a budget, no pace until Kombo's headers announce one.
    expect((await komboClientFromSecret(secret, 'http://127.0.0.1:9')()).pacing.rate()).toBeUndefined();
  });

  describe('PII salt (piiMode hash)', () => {
    const SALT = 'pepper-0123456789abcdef-0123456789';

    it('reads the key and the salt from one JSON secret in one read, and hides the salt from inspection', async () => {
      mock.reset().on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKey: 'key-json', piiSalt: ` ${SALT} ` }) });
      const secret = new CachedSecret(client, 'arn:secret');
      expect(await secret.value()).toBe('key-json');
      expect(await secret.piiOptions('hash')).toEqual({ mode: 'hash', salt: SALT });
      expect(await secret.piiOptions('drop')).toEqual({ mode: 'drop' });
      expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      const { inspect } = await import('node:util');
      expect(inspect(secret, { depth: 0 })).not.toContain(SALT);
    });

    it('needs no salt for keep and drop: a plain-text key still works', async () => {
      mock.reset().on(GetSecretValueCommand).resolves({ SecretString: 'plain-key' });
      const secret = new CachedSecret(client, 'arn:secret');
      expect(await secret.piiOptions('keep')).toEqual({ mode: 'keep' });
      expect(await secret.value()).toBe('plain-key');
    });

    it.each([
      ['a plain-text key', 'plain-key', /has no "piiSalt"/],
      ['JSON without piiSalt', '{"apiKey":"k"}', /has no "piiSalt"/],
      ['a salt shorter than 32', '{"apiKey":"k","piiSalt":"short-salt-15ch"}', /"piiSalt" that is 15 characters long/],
      ['a salt of one character repeated', `{"apiKey":"k","piiSalt":"${'a'.repeat(40)}"}`, /"piiSalt" that has only 1 different character:/],
    ])('fails hash with %s, saying how to set it (never echoing the salt), then reads the corrected secret', async (_what, stored, problem) => {
      mock.reset().on(GetSecretValueCommand).resolvesOnce({ SecretString: stored }).resolves({ SecretString: JSON.stringify({ apiKey: 'k', piiSalt: SALT }) });
      const secret = new CachedSecret(client, 'arn:aws:secretsmanager:eu-west-1:1:secret:kombo');
      const err = await secret.piiOptions('hash').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toMatch(problem);
      expect(message).toContain(`aws secretsmanager put-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:1:secret:kombo --secret-string '{"apiKey":"`);
      expect(message).toContain('"piiSalt":"');
      expect(message).toContain('needs a secret salt of at least 32 characters, with at least 10 different ones');
      expect(message).not.toContain('short-salt-15ch');
      expect(message).not.toContain('aaaaaaaa');
      expect(await secret.piiOptions('hash')).toEqual({ mode: 'hash', salt: SALT });
      expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it.each([
      ['the salt as plain text', ` ${SALT} `],
      ['JSON with a piiSalt', JSON.stringify({ piiSalt: SALT })],
    ])('reads a salt secret of its own holding %s, and never asks it for an API key', async (_what, stored) => {
      mock.reset().on(GetSecretValueCommand).resolves({ SecretString: stored });
      const secret = new CachedSecret(client, 'arn:salt', 'piiSalt');
      expect(await secret.piiOptions('hash')).toEqual({ mode: 'hash', salt: SALT });
      expect(await secret.piiOptions('keep')).toEqual({ mode: 'keep' });
      expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it.each([
      ['the placeholder the stack writes', PII_SALT_PLACEHOLDER, /has no "piiSalt"/],
      ['nothing', '  ', /has no "piiSalt"/],
      ['a salt shorter than 32', 'short-salt-15ch', /"piiSalt" that is 15 characters long/],
      ['a salt of too few different characters', 'ab'.repeat(20), /"piiSalt" that has only 2 different characters/],
    ])('fails hash with a salt secret holding %s, saying how to set the salt alone (never echoing it)', async (_what, stored, problem) => {
      mock.reset().on(GetSecretValueCommand).resolvesOnce({ SecretString: stored }).resolves({ SecretString: SALT });
      const secret = new CachedSecret(client, 'arn:salt', 'piiSalt');
      const err = await secret.piiOptions('hash').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toMatch(problem);
      expect(message).toContain("put-secret-value --secret-id arn:salt --secret-string '<the salt>'");
      expect(message).not.toContain('apiKey');
      expect(message).not.toContain('short-salt-15ch');
      expect(message).not.toContain('\n');
      expect(await secret.piiOptions('hash')).toEqual({ mode: 'hash', salt: SALT });
    });

    it('names the salt secret in the fetcher environment when the stack sets one, and leaves it out otherwise', () => {
      const env = { WAREHOUSE_BUCKET: 'b', FETCH_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo', KOMBO_API_KEY_SECRET_ARN: 'arn', KOMBO_API_URL: 'https://api.kombo.dev/v1', GLUE_DATABASE: 'db' };
      expect(parseFetcherEnv({ ...env, [ENV.piiMode]: 'hash', [ENV.piiSaltSecretArn]: 'arn:salt' }).piiSaltSecretArn).toBe('arn:salt');
      expect(parseFetcherEnv(env)).not.toHaveProperty('piiSaltSecretArn');
      expect(() => parseFetcherEnv({ ...env, [ENV.piiSaltSecretArn]: ' ' })).toThrow(/^environment variable KOMBO_PII_SALT_SECRET_ARN is empty/);
    });

    it('treats a JSON secret with a salt but no apiKey as a key not set yet', async () => {
      mock.reset().on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ piiSalt: SALT }) });
      const err = await new CachedSecret(client, 'arn:secret').value().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/is not set yet/);
      expect((err as Error).message).not.toContain(SALT);
    });
  });
});

describe('Lambda environment', () => {
  const full = { WAREHOUSE_BUCKET: 'b', FETCH_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo', KOMBO_API_KEY_SECRET_ARN: 'arn', KOMBO_API_URL: 'https://api.kombo.dev/v1', GLUE_DATABASE: 'db', INTEGRATIONS_PATH: '/p' };

  it('parses what the stack sets, with the warehouse prefix defaulting to "warehouse"', () => {
    expect(parseFetcherEnv({ ...full, CHUNK_MAX_MILLIS: '480000' })).toMatchObject({ warehouse: { bucket: 'b', prefix: 'warehouse' }, glueDatabase: 'db', chunk: { maxMillis: 480_000 } });
    expect(parsePlannerEnv(full).integrationsPath).toBe('/p');
  });

  it('reads the PII mode from KOMBO_PII_MODE, "keep" when unset', () => {
    expect(ENV.piiMode).toBe('KOMBO_PII_MODE');
    expect(parseFetcherEnv(full).piiMode).toBe('keep');
    expect(parseFetcherEnv({ ...full, [ENV.piiMode]: 'hash' }).piiMode).toBe('hash');
    expect(parseFetcherEnv({ ...full, [ENV.piiMode]: ' drop ' }).piiMode).toBe('drop');
  });

  it('reads the Kombo request budget from KOMBO_REQUESTS_PER_SECOND into the client\'s pacing, none when unset', () => {
    expect(ENV.komboRequestsPerSecond).toBe('KOMBO_REQUESTS_PER_SECOND');
    expect(parseFetcherEnv(full).pacing).toEqual({});
    expect(parsePlannerEnv(full).pacing).toEqual({});
    expect(parseFetcherEnv({ ...full, [ENV.komboRequestsPerSecond]: '1.428571' }).pacing).toEqual({ requestsPerSecond: 1.428571 });
    expect(parsePlannerEnv({ ...full, [ENV.komboRequestsPerSecond]: ' 10 ' }).pacing).toEqual({ requestsPerSecond: 10 });
  });

  it.each(['0', '0.0', '-1', 'fast', '1e3', '', '10001'])('fails on KOMBO_REQUESTS_PER_SECOND=%j, naming the variable, in the planner and the fetcher', (value) => {
    const env = { ...full, [ENV.komboRequestsPerSecond]: value };
    expect(() => parseFetcherEnv(env)).toThrow(/^environment variable KOMBO_REQUESTS_PER_SECOND must be /);
    expect(() => parsePlannerEnv(env)).toThrow(/^environment variable KOMBO_REQUESTS_PER_SECOND must be /);
    expect(() => parsePlannerEnv(env)).toThrow(ConfigError);
  });

  it.each([
    [{ ...full, GLUE_DATABASE: undefined }, /environment variable GLUE_DATABASE is required/],
    [{ ...full, KOMBO_API_URL: 'ftp://x' }, /environment variable KOMBO_API_URL must be an http\(s\) URL/],
    [{ ...full, KOMBO_API_URL: 'http://api.kombo.dev/v1' }, /^environment variable KOMBO_API_URL sends the API key in clear text: use an https:\/\/ URL/],
    [{ ...full, KOMBO_PAGE_SIZE: '500' }, /environment variable KOMBO_PAGE_SIZE must be at most 250/],
    [{ ...full, WAREHOUSE_PREFIX: '/w/' }, /environment variable WAREHOUSE_PREFIX must be a key prefix/],
    [{ ...full, KOMBO_PII_MODE: 'mask' }, /environment variable KOMBO_PII_MODE must be one of keep, hash, drop/],
  ])('fails naming the variable: %#', (env, error) => {
    expect(() => parseFetcherEnv(env)).toThrow(error);
  });

  it('takes an http:// Kombo URL only on this machine (a test server), in the planner and the fetcher', () => {
    expect(parsePlannerEnv({ ...full, KOMBO_API_URL: 'http://127.0.0.1:8080/v1' }).komboApiUrl).toBe('http://127.0.0.1:8080/v1');
    expect(() => parsePlannerEnv({ ...full, KOMBO_API_URL: 'http://api.kombo.dev/v1' })).toThrow(ConfigError);
  });

  it.each(['', 'KomboEtl/integrations', '/KomboEtl/integrations/', '/Kombo Etl/integrations', '/KomboEtl//integrations'])('fails on the registry path INTEGRATIONS_PATH=%j, naming the variable', (value) => {
    expect(() => parsePlannerEnv({ ...full, [ENV.integrationsPath]: value })).toThrow(/^environment variable INTEGRATIONS_PATH (must be an SSM parameter path|is empty)/);
  });
});

describe('planner input', () => {
  const now = new Date('2026-11-23T10:00:00Z');

  it('plans with every default for an empty manual invocation (aws lambda invoke --payload {})', () => {
    expect(parsePlannerEvent({}, now)).toEqual({ kind: 'plan', at: now });
  });

  it('takes snapshot_date, integrations and models from a manual invocation, or from an EventBridge event detail', () => {
    const override = { snapshot_date: '2026-11-01', integrations: ['greenhouse:AbC123', 'greenhouse:AbC123'], models: ['candidates'] };
    expect(parsePlannerEvent(override, now)).toEqual({ kind: 'plan', at: now, snapshotDate: '2026-11-01', integrations: ['greenhouse:AbC123'], models: ['candidates'] });
    const event = { 'detail-type': 'Manual Run', source: 'me', time: '2026-11-22T05:00:00Z', detail: { models: ['interviews'] } };
    expect(parsePlannerEvent(event, now)).toEqual({ kind: 'plan', at: new Date('2026-11-22T05:00:00Z'), models: ['interviews'] });
  });

  it.each([
    [{ snapshot_date: '2026-02-30' }, /snapshot_date: invalid snapshot date/],
    [{ integrations: ['../../etc'] }, /integrations\.0: invalid integration id/],
    [{ integrations: [] }, /integrations: must not be empty/],
    [{ models: ['job_listings'] }, /models\.0/],
    [{ snapshotDate: '2026-11-01' }, /snapshotDate.*accepted: \{"snapshot_date"/],
    [{ snapshot_date: '2026-11-24' }, /input: snapshot_date 2026-11-24 is after today \(2026-11-23, UTC\).*"allow_future_date": true/],
    [{ 'detail-type': 'Manual Run', time: '2026-11-22T05:00:00Z', detail: { snapshot_date: '2026-11-23' } }, /event detail: snapshot_date 2026-11-23 is after today \(2026-11-22, UTC\)/],
  ])('rejects %o with a message that says what is accepted', (input, error) => {
    expect(() => parsePlannerEvent(input, now)).toThrow(error);
  });

  it('takes a snapshot date after today only when allow_future_date says so', () => {
    expect(parsePlannerEvent({ snapshot_date: '2026-11-23' }, now)).toEqual({ kind: 'plan', at: now, snapshotDate: '2026-11-23' });
    expect(parsePlannerEvent({ snapshot_date: '2099-01-01', allow_future_date: true }, now)).toEqual({ kind: 'plan', at: now, snapshotDate: '2099-01-01' });
  });

  it('reads {"retry_run_id"} as a retry of that run, from a manual invocation or an EventBridge event detail', () => {
    const runId = '20261123T020000Z-a1b2c3';
    expect(parsePlannerEvent({ retry_run_id: runId }, now)).toEqual({ kind: 'retry', runId });
    const event = { 'detail-type': 'Retry Run', source: 'me', time: '2026-11-22T05:00:00Z', detail: { retry_run_id: runId } };
    expect(parsePlannerEvent(event, now)).toEqual({ kind: 'retry', runId });
  });

  it.each([
    [{ retry_run_id: '../20261123T020000Z' }, /input: retry_run_id: invalid run id/],
    [{ retry_run_id: '' }, /retry_run_id: invalid run id/],
    [{ retry_run_id: 42 }, /retry_run_id/],
    [{ retry_run_id: '20261123T020000Z-a1b2c3', snapshot_date: '2026-11-01' }, /retry_run_id cannot be combined with snapshot_date/],
    [{ retry_run_id: '20261123T020000Z-a1b2c3', models: ['candidates'], integrations: ['greenhouse:AbC123'] }, /retry_run_id cannot be combined with integrations, models|retry_run_id cannot be combined with models, integrations/],
    [{ 'detail-type': 'Retry Run', time: '2026-11-22T05:00:00Z', detail: { retry_run_id: 'x y' } }, /event detail: retry_run_id: invalid run id/],
    [{ 'detail-type': 'Retry Run', time: '2026-11-22T05:00:00Z', detail: { retry_run_id: '20261123T020000Z-a1b2c3', models: ['job_listings'] } }, /models\.0/],
  ])('rejects the retry %o, combined with overrides or with a bad run id', (input, error) => {
    expect(() => parsePlannerEvent(input, now)).toThrow(error);
  });

  it('says in every rejection that retry_run_id is accepted alone', () => {
    expect(() => parsePlannerEvent({ snapshotDate: '2026-11-01' }, now)).toThrow(/or \{"retry_run_id": "<run id>"\} alone/);
  });
});

describe('integration registry', () => {
  it('reads a JSON list of integration ids, dropping repeats', () => {
    expect(parseRegistry('/p', '["greenhouse:AbC123", "lever:XyZ789", "greenhouse:AbC123"]')).toEqual(['greenhouse:AbC123', 'lever:XyZ789']);
    expect(parseRegistry('/p', '[]')).toEqual([]);
  });

  it.each([
    ['greenhouse:AbC123', /SSM parameter \/p must hold a JSON list/],
    ['{"ids": []}', /SSM parameter \/p must hold a JSON list of strings/],
    ['["greenhouse:AbC123", "bad id"]', /SSM parameter \/p: invalid integration id "bad id"/],
  ])('names the parameter when its value %s is wrong', (value, error) => {
    expect(() => parseRegistry('/p', value)).toThrow(error);
  });

  describe('under an SSM path', () => {
    const PATH = '/KomboEtl/integrations';
    const client = new SSMClient({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
    let mock: AwsClientStub<SSMClient>;
    beforeAll(() => {
      mock = mockClient(client);
    });
    afterAll(() => mock.restore());
    const param = (name: string, ids: unknown) => ({ Name: `${PATH}/${name}`, Type: 'String' as const, Value: typeof ids === 'string' ? ids : JSON.stringify(ids) });

    it('is the union of every parameter directly under the path, across pages, in name order, without repeats', async () => {
      // Two pages, the parts out of order: the second page holds part-001.
      mock
        .reset()
        .on(GetParametersByPathCommand, { Path: PATH, NextToken: undefined })
        .resolves({ Parameters: [param('part-003', ['workday:Ccc333', 'lever:Bbb222']), param('part-002', ['lever:Bbb222', 'greenhouse:Aaa111'])], NextToken: 'page-2' })
        .on(GetParametersByPathCommand, { Path: PATH, NextToken: 'page-2' })
        .resolves({ Parameters: [param('part-001', ['greenhouse:Aaa111', 'ashby:Ddd444']), param('extra', ['ashby:Ddd444', 'personio:Eee555'])] });

      expect(await readIntegrationRegistry(client, PATH)).toEqual(['ashby:Ddd444', 'personio:Eee555', 'greenhouse:Aaa111', 'lever:Bbb222', 'workday:Ccc333']);
      // Two calls, not recursive, at the API's largest page; page 2 is only served for its token, so
      // the ids from page 2 prove that the token was followed.
      const calls = mock.commandCalls(GetParametersByPathCommand).map((c) => c.args[0].input);
      expect(calls).toEqual([expect.objectContaining({ Path: PATH, Recursive: false, MaxResults: 10 }), expect.objectContaining({ Path: PATH, Recursive: false, MaxResults: 10 })]);
    });

    it('reads a seeded empty part as an empty registry', async () => {
      mock.reset().on(GetParametersByPathCommand).resolves({ Parameters: [param('part-001', [])] });
      expect(await readIntegrationRegistry(client, PATH)).toEqual([]);
    });

    it.each([
      [['greenhouse:AbC123', 'bad id'], /^SSM parameter \/KomboEtl\/integrations\/part-002: invalid integration id "bad id"/],
      ['greenhouse:AbC123', /^SSM parameter \/KomboEtl\/integrations\/part-002 must hold a JSON list/],
    ])('names the parameter that holds a bad entry: %j', async (value, error) => {
      mock
        .reset()
        .on(GetParametersByPathCommand, { NextToken: undefined })
        .resolves({ Parameters: [param('part-001', ['lever:XyZ789'])], NextToken: 't' })
        .on(GetParametersByPathCommand, { NextToken: 't' })
        .resolves({ Parameters: [param('part-002', value)] });
      const err = await readIntegrationRegistry(client, PATH).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(error);
    });

    it('fails with a ConfigError naming the path, and how to create a part, when the path holds no parameter', async () => {
      mock.reset().on(GetParametersByPathCommand).resolves({ Parameters: [] });
      const err = await readIntegrationRegistry(client, PATH).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^SSM path \/KomboEtl\/integrations holds no parameter/);
      expect((err as Error).message).toContain(`--name ${PATH}/part-001`);
    });
  });

  describe('split into parameters', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `greenhouse:${String(i).padStart(24, 'x')}`);

    it.each([
      [0, 1],
      [2, 1],
      [1000, 10],
    ])('puts %s ids into %s JSON lists of at most 4,096 characters whose concatenation is the list', (n, parts) => {
      const values = splitRegistry(ids(n));
      expect(values).toHaveLength(parts);
      for (const v of values) expect(v.length).toBeLessThanOrEqual(REGISTRY_PART_MAX_CHARS);
      expect(values.flatMap((v) => JSON.parse(v) as string[])).toEqual(ids(n));
    });

    it('fills each list up to the limit exactly', () => {
      // ["a:1","a:2"] is 13 characters; a limit of 13 takes both, 12 only one.
      expect(splitRegistry(['a:1', 'a:2'], 13)).toEqual(['["a:1","a:2"]']);
      expect(splitRegistry(['a:1', 'a:2'], 12)).toEqual(['["a:1"]', '["a:2"]']);
    });

    it('refuses an id that cannot fit into a parameter on its own', () => {
      expect(() => splitRegistry(['greenhouse:AbC123'], 10)).toThrow(/does not fit into one registry parameter of 10 characters/);
    });

    it('names the parts so that their names sort in their order', () => {
      const names = [0, 1, 9, 99, 998].map((i) => registryPartName('/KomboEtl/integrations', i));
      expect(names).toEqual(['/KomboEtl/integrations/part-001', '/KomboEtl/integrations/part-002', '/KomboEtl/integrations/part-010', '/KomboEtl/integrations/part-100', '/KomboEtl/integrations/part-999']);
      expect([...names].reverse().sort()).toEqual(names);
    });
  });
});

describe('run deadline', () => {
  const deadline = new Date('2026-11-21T08:00:00Z');
  let store: FolderStore;
  beforeAll(async () => {
    store = new FolderStore(mkdtempSync(join(tmpdir(), 'kombo-watch-')));
    await store.put('_runs/20261120T020000Z-aaaaaa/plan.json', '{}');
    await store.put('_runs/20261120T020000Z-aaaaaa/_SUCCESS.json', '{}');
    await store.put('_runs/20261121T020000Z-bbbbbb/plan.json', '{}');
  });

  it('is missed when the only run started in the last 24 hours has not finished, even if an older one has', async () => {
    const v = await checkRunDeadline(store, deadline);
    expect(v.status).toBe('missed');
    expect(v.runs).toEqual([{ runId: '20261121T020000Z-bbbbbb', startedAt: new Date('2026-11-21T02:00:00Z'), progress: 'running' }]);
  });

  it('is met once that run has a completion marker, failed or not', async () => {
    await store.put('_runs/20261121T020000Z-bbbbbb/_FAILED.json', '{}');
    expect(await checkRunDeadline(store, deadline)).toMatchObject({ status: 'met', reason: 'run 20261121T020000Z-bbbbbb finished' });
  });

  it('is missed when no run started at all', async () => {
    expect(await checkRunDeadline(store, new Date('2026-11-25T08:00:00Z'))).toMatchObject({ status: 'missed', reason: expect.stringMatching(/^no run started/) });
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: planner → SQS FIFO → fetcher chain → finish, against the sandbox with faults on

describe('planner and fetcher handlers end to end (sandbox with faults, S3 + SQS on fauxqs, Glue mocked)', () => {
  const DATE = '2026-11-20';
  const API_KEY = `kombo-e2e-${randomUUID()}`;
  // The sandbox wants Kombo's `<tool>:<24 alphanumerics>` ids.
  const id24 = (tool: string, name: string) => `${tool}:${name.padEnd(24, '0')}`;
  const [BIG, MID, REVOKED, EMPTY] = [id24('greenhouse', 'E2eBig'), id24('lever', 'E2eMid'), id24('workable', 'E2eRevoked'), id24('teamtailor', 'E2eEmpty')];
  const QUEUE = 'fetch.fifo';
  const queueArn = `arn:aws:sqs:${REGION}:000000000000:${QUEUE}`;

  let sandbox: RunningSandbox;
  let queueUrl: string;
  let db: Reader;
  let planner: (event: unknown, context: Context) => Promise<unknown>;
  let fetcher: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  // Every GlueClient, SSMClient and SecretsManagerClient the handlers create, mocked in beforeAll.
  let glue: AwsClientStub<GlueClient>;
  let ssm: AwsClientStub<SSMClient>;
  let secrets: AwsClientStub<SecretsManagerClient>;
  const stdout: string[] = [];
  let runId: string;
  let warehouse: S3Store;
  let localCopy: string;
  /** Per chunk (`stream/chunk`), how many times the fetcher processed it successfully. */
  const processed = new Map<string, number>();
  /** Per chunk, the body of the message that carried it. */
  const bodies = new Map<string, string>();
  /** Per partition, the data keys of the run folder at the moment it was first registered. */
  const atRegistration = new Map<string, string[]>();
  const registeredFolder = new Map<string, string>();
  const registrations: CreatePartitionCommandInput[] = [];
  let report: RunReport;

  const context = (name: string): Context => lambdaContext(name, REGION);
  const sqsRecord = (m: Message): SQSRecord => sqsRecordOf(m, queueArn, REGION);

  type Hook = (m: StreamMessage, raw: Message) => Promise<'keep' | 'delete'>;

  /** The nightly schedule's event for DATE; each delivery has its own id, as Scheduler's retries do. */
  const nightlyEvent = () => nightlyEventOf(DATE, REGION);

  /**
   * What Lambda's event source does, one message per invocation: receive, invoke, delete what
   * succeeded. A failed message is made visible at once instead of after its back-off.
   */
  async function drain(hook?: Hook): Promise<void> {
    for (let idle = 0; idle < 3; ) {
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], VisibilityTimeout: 120 }))).Messages ?? [];
      if (got.length === 0) {
        idle++;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      idle = 0;
      await Promise.all(
        got.map(async (m) => {
          let failed: boolean;
          try {
            const res = await fetcher({ Records: [sqsRecord(m)] }, context('fetcher'));
            failed = res.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId);
          } catch {
            failed = true;
          }
          if (failed) {
            await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
            return;
          }
          const msg = parseStreamMessage(m.Body!);
          const id = `${msg.integrationId}/${msg.model}/${msg.chunk}`;
          processed.set(id, (processed.get(id) ?? 0) + 1);
          bodies.set(id, m.Body!);
          const next = hook ? await hook(msg, m) : 'delete';
          if (next === 'keep') await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
          else await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }),
      );
    }
  }

  beforeAll(async () => {
    // Everything the handlers resolve goes to 127.0.0.1: S3 and SQS to fauxqs, anything else to a
    // closed port (Glue, SSM and Secrets Manager are mocked at the SDK level before they send).
    vi.stubEnv('AWS_REGION', REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', emulator.url);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', emulator.url);

    sandbox = await startSandbox({
      port: 0,
      apiKey: API_KEY,
      dataset: generateDataset({
        seed: 7,
        integrations: [
          { id: BIG, tool: 'greenhouse', candidates: 260 },
          { id: MID, tool: 'lever', candidates: 70 },
          { id: REVOKED, tool: 'workable', candidates: 20 },
          { id: EMPTY, tool: 'teamtailor', candidates: 0 },
        ],
      }),
      faults: {
        seed: 3,
        rate429: 0.08,
        retryAfterSeconds: 0,
        rate5xx: 0.06,
        rateReset: 0.04,
        modelNotAvailable: [{ integrationId: MID, model: 'interviews' }],
        revokedIntegrations: [REVOKED],
      },
    });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { FifoQueue: 'true', VisibilityTimeout: '120' } }))).QueueUrl!;

    const env: Record<string, string> = {
      [ENV.warehouseBucket]: BUCKET,
      [ENV.warehousePrefix]: 'warehouse',
      [ENV.fetchQueueUrl]: queueUrl,
      [ENV.apiKeySecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo-api-key',
      [ENV.komboApiUrl]: sandbox.url,
      [ENV.integrationsPath]: '/kombo-etl/integrations',
      [ENV.glueDatabase]: 'kombo_etl',
      // Small chunks of small pages: every stream becomes a chain of several chunks.
      [ENV.chunkMaxRows]: '100',
      [ENV.pageSize]: '50',
      POWERTOOLS_SERVICE_NAME: 'kombo-etl-test',
      POWERTOOLS_METRICS_NAMESPACE: 'KomboEtlTest',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);

    glue = mockClient(GlueClient);
    ssm = mockClient(SSMClient);
    secrets = mockClient(SecretsManagerClient);
    // The registry in two parts, as the stack seeds a longer list.
    ssm.on(GetParametersByPathCommand, { Path: '/kombo-etl/integrations' }).resolves({
      Parameters: [
        { Name: '/kombo-etl/integrations/part-001', Type: 'String', Value: JSON.stringify([BIG, MID]) },
        { Name: '/kombo-etl/integrations/part-002', Type: 'String', Value: JSON.stringify([REVOKED, EMPTY]) },
      ],
    });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: API_KEY });
    warehouse = new S3Store({ client: s3, bucket: BUCKET, prefix: 'warehouse' });
    const seen = new Set<string>();
    glue.on(CreatePartitionCommand).callsFake(async (input: CreatePartitionCommandInput) => {
      const [date, integrationId] = input.PartitionInput!.Values!;
      const key = `${input.TableName}|${date}|${integrationId}`;
      if (seen.has(key)) throw new AlreadyExistsException({ message: 'Partition already exists.', $metadata: {} });
      seen.add(key);
      registrations.push(input);
      // The run's folder of the partition, or (the `integrations` table, which the planner's check
      // records before the test knows the run id) the one its version was written in.
      const folder = input.TableName === 'integrations' ? input.PartitionInput!.StorageDescriptor!.Location!.slice(`s3://${BUCKET}/warehouse/`.length) : runPrefix(input.TableName!, date!, integrationId!, runId);
      registeredFolder.set(key, folder);
      atRegistration.set(key, await warehouse.list(folder));
      return {};
    });
    glue.on(UpdatePartitionCommand).resolves({});

    // Capture the handlers' structured logs and metrics (and keep the test output quiet).
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
      return true;
    });

    try {
      ({ handler: planner } = (await import('../../functions/planner.ts')) as unknown as { handler: typeof planner });
      ({ handler: fetcher } = (await import('../../functions/fetcher.ts')) as unknown as { handler: typeof fetcher });

      const planned = (await planner(nightlyEvent(), context('planner'))) as { runId: string; snapshotDate: string; streams: Record<string, number> };
      runId = planned.runId;
      expect(planned.snapshotDate).toBe(DATE);
      // Every model of the four integrations: the revoked one fails whole, MID does not offer interviews.
      expect(planned.streams).toEqual({ pending: 3 * MODELS.length - 1, failed: MODELS.length, skipped: 1 });

      let duplicatedMidChain = false;
      await drain(async (msg, raw) => {
        const stream = `${msg.integrationId}/${msg.model}`;
        // A lost delete: the same message is received and processed a second time.
        if (stream === `${BIG}/candidates` && msg.chunk === 1 && processed.get(`${stream}/1`) === 1) return 'keep';
        // A continuation sent again after SQS's deduplication window: same body, new dedup id.
        if (stream === `${BIG}/applications` && msg.chunk === 1 && !duplicatedMidChain) {
          duplicatedMidChain = true;
          await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: raw.Body!, MessageGroupId: raw.Attributes!.MessageGroupId!, MessageDeduplicationId: `${raw.Attributes!.MessageDeduplicationId!}#late` }));
        }
        return 'delete';
      });
      expect(duplicatedMidChain).toBe(true);

      // The last chunk of a stream, delivered once more after the whole run finished (and after
      // the deduplication window): it finishes the stream a second time.
      const lastInterviews = Math.max(...[...processed.keys()].filter((k) => k.startsWith(`${BIG}/interviews/`)).map((k) => Number(k.split('/').pop())));
      const late = parseStreamMessage(bodies.get(`${BIG}/interviews/${lastInterviews}`)!);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(late), MessageGroupId: messageGroupId(late), MessageDeduplicationId: `${deduplicationId(late)}#after-run` }));
      await drain();

      report = decodeJson<RunReport>((await warehouse.get(runKeys.report(runId)))!);
      localCopy = mkdtempSync(join(tmpdir(), 'kombo-s3-copy-'));
      for (const key of await warehouse.list('')) {
        const target = join(localCopy, key);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, (await warehouse.get(key))!);
      }
    } finally {
      vi.mocked(process.stdout.write).mockRestore();
    }
    db = await duck();
  }, 180_000);

  afterAll(async () => {
    db?.close();
    await sandbox?.close();
    glue?.restore();
    ssm?.restore();
    secrets?.restore();
    vi.unstubAllEnvs();
  });

  const integration = (id: string) => sandbox.dataset.integrations.find((i) => i.id === id)!;
  const parquet = (table: string) => `read_parquet('${localCopy}/${table}/**/*.parquet', hive_partitioning = true, hive_types = {'snapshot_date': DATE, 'integration_id': VARCHAR})`;

  async function warehouseRows(table: string, integrationId: string): Promise<Record<string, unknown>[]> {
    const cols = await db.all(`DESCRIBE SELECT * FROM ${parquet(table)}`);
    const select = cols
      .map((c) => String(c['column_name']))
      .filter((c) => !['_run_id', '_synced_at', '_is_deleted', 'snapshot_date', 'integration_id'].includes(c))
      .map((c) => (String(cols.find((x) => x['column_name'] === c)!['column_type']).startsWith('TIMESTAMP') ? `epoch_ms("${c}")::DOUBLE AS "${c}"` : `"${c}"`))
      .join(', ');
    return db.all(`SELECT ${select} FROM ${parquet(table)} WHERE integration_id = '${integrationId}' AND snapshot_date = DATE '${DATE}'`);
  }

  const normalise = (rows: Record<string, unknown>[], key: string[]) =>
    rows
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, JSON_COLUMNS.has(k) && typeof v === 'string' ? JSON.parse(v) : v])))
      .sort((a, b) => rowKey(a, key).localeCompare(rowKey(b, key)));

  const expectedRows = (data: SandboxIntegrationData, table: string) => servedRecords(data, EXPECTED[table]!.model).flatMap((r) => EXPECTED[table]!.rows(r));

  it('met faults on the way and retried through them', () => {
    expect(sandbox.stats.faults['429']).toBeGreaterThan(0);
    expect(sandbox.stats.faults['5xx'] + sandbox.stats.faults.reset).toBeGreaterThan(0);
  });

  it('ran every stream as a chain of several chunks', () => {
    const chunks = (stream: string) => [...processed.keys()].filter((k) => k.startsWith(`${stream}/`)).length;
    expect(chunks(`${BIG}/candidates`)).toBeGreaterThanOrEqual(3);
    expect(chunks(`${BIG}/applications`)).toBeGreaterThanOrEqual(3);
    expect(chunks(`${MID}/candidates`)).toBeGreaterThanOrEqual(1);
  });

  it('DuckDB reads every Parquet object and finds exactly the sandbox rows, field by field', async () => {
    for (const id of [BIG, MID]) {
      const data = id === MID ? { ...integration(id), interviews: [] } : integration(id);
      for (const table of Object.keys(EXPECTED)) {
        const key = EXPECTED[table]!.key;
        const actual = normalise(await warehouseRows(table, id), key);
        const expected = normalise(expectedRows(data, table), key);
        expect(actual.length, `${id} ${table} row count`).toBe(expected.length);
        expect(actual, `${id} ${table} values`).toEqual(expected);
      }
    }
    const [total] = await db.all(`SELECT count(*)::INT AS n FROM ${parquet('candidates')}`);
    expect(total!['n']).toBe(integration(BIG).candidates.length + integration(MID).candidates.length);
  });

  it('a redelivered message and duplicated continuations add no rows: the same chunk rewrote the same object', async () => {
    expect(processed.get(`${BIG}/candidates/1`)).toBe(2);
    expect(processed.get(`${BIG}/applications/1`)).toBe(2);
    const redone = [...processed.entries()].filter(([k, n]) => k.startsWith(`${BIG}/interviews/`) && n === 2);
    expect(redone).toHaveLength(1);
    // Each duplicate re-sent its continuation with the same deduplication id, which the FIFO queue
    // dropped: apart from the three duplicated chunks, every chunk ran exactly once.
    expect([...processed.values()].filter((n) => n !== 1)).toEqual([2, 2, 2]);
    for (const table of ['candidates', 'applications', 'interviews']) {
      const [r] = await db.all(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS ids, count(DISTINCT _run_id)::INT AS runs FROM ${parquet(table)}`);
      expect(r!['n'], table).toBe(r!['ids']);
      expect(r!['runs'], table).toBe(1);
    }
  });

  it('registers Glue partitions only for streams that finished, at the run folder, once all their chunks were written', async () => {
    // A first sync stores every record: each table with rows gets its partition (a table without a
    // row, like the empty integration's, gets none), and each finished stream its `syncs` row.
    const withRows: string[] = [];
    for (const id of [BIG, MID, EMPTY]) {
      for (const t of TABLES.filter((x) => !(id === MID && x.model === 'interviews'))) {
        if ((await warehouse.list(runPrefix(t.name, DATE, id, runId))).length > 0) withRows.push(`${t.name}|${DATE}|${id}`);
      }
    }
    expect(withRows.filter((k) => k.endsWith(BIG)).length).toBeGreaterThan(10);
    // One `syncs` partition per integration: its first finished stream creates it, the others find it.
    const finished = [BIG, MID, EMPTY].map((id) => `syncs|${DATE}|${id}`);
    // The planner records each integration it checked in `integrations`, dated when it checked (today), the revoked one too.
    const checked = registrations.filter((r) => r.TableName === 'integrations').map((r) => `${r.PartitionInput!.Values![1]}|${r.PartitionInput!.Values![0]}`);
    expect(checked.sort()).toEqual([BIG, MID, EMPTY, REVOKED].map((id) => `${id}|${new Date().toISOString().slice(0, 10)}`).sort());
    const got = registrations.filter((r) => r.TableName !== 'integrations').map((r) => `${r.TableName}|${r.PartitionInput!.Values![0]}|${r.PartitionInput!.Values![1]}`);
    expect(got.sort()).toEqual([...withRows, ...finished].sort());
    for (const r of registrations.filter((x) => x.TableName !== 'integrations')) {
      const [date, id] = r.PartitionInput!.Values!;
      expect(r.DatabaseName).toBe('kombo_etl');
      const at = r.TableName === 'syncs' ? partitionPrefix('syncs', date!, id!) : runPrefix(r.TableName!, date!, id!, runId);
      expect(r.PartitionInput!.StorageDescriptor!.Location).toBe(`s3://${BUCKET}/warehouse/${at}`);
    }
    // The late copy of the last interviews chunk arrived after its stream had ended: it does
    // nothing, so no data partition is touched a second time. The `syncs` partition of an
    // integration is found again by each of its other streams, at the same place.
    const updates = glue.commandCalls(UpdatePartitionCommand).map((c) => c.args[0].input);
    expect(updates.filter((u) => u.TableName !== 'syncs')).toEqual([]);
    for (const u of updates) expect(u.PartitionInput!.StorageDescriptor!.Location).toBe(`s3://${BUCKET}/warehouse/${partitionPrefix('syncs', u.PartitionValueList![0]!, u.PartitionValueList![1]!)}`);
    expect(updates.length).toBe(MODELS.length * 3 - 1 - 3);
  });

  it('no part file of a stream appeared after its partition was registered', async () => {
    for (const [key, keysThen] of atRegistration) {
      const now = await warehouse.list(registeredFolder.get(key)!);
      expect(now, key).toEqual(keysThen);
    }
    expect(atRegistration.get(`candidates|${DATE}|${BIG}`)!.length).toBeGreaterThanOrEqual(3);
  });

  it("writes the run's report: the revoked integration failed, the unavailable model was skipped, the rest done", () => {
    expect(report.runId).toBe(runId);
    expect(report.status).toBe('failed');
    const by = (id: string) => report.streams.filter((s) => s.integrationId === id).map((s) => `${s.model}:${s.status}`).sort();
    expect(by(REVOKED)).toEqual(MODELS.map((m) => `${m}:failed`).sort());
    expect(by(MID)).toEqual(MODELS.map((m) => `${m}:${m === 'interviews' ? 'skipped' : 'done'}`).sort());
    expect(by(BIG)).toEqual(MODELS.map((m) => `${m}:done`).sort());
    expect(report.streams.find((s) => s.integrationId === BIG && s.model === 'candidates')!.totals.rows['candidates']).toBe(integration(BIG).candidates.length);
  });

  it("recorded the warehouse's personal-data mode before the first chunk wrote, which later chunks held to", async () => {
    const body = await warehouse.get(stateKeys.pii());
    expect(body && decodeJson<{ mode: string; hashScheme?: string }>(body)).toMatchObject({ mode: 'keep' });
  });

  it('read the API key once per container, and never wrote it to a log line', () => {
    // Two containers here (the planner module and the fetcher module), one read each.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    const logs = stdout.join('');
    expect(logs).toContain('run planned');
    expect(logs).not.toContain(API_KEY);
  });

  it('emitted metrics for pages, rows, retries and throttles', () => {
    const emf = stdout.filter((l) => l.includes('"_aws"') && l.includes('KomboEtlTest')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const sum = (name: string) => emf.reduce((n, m) => n + [m[name]].flat().reduce((a: number, v) => a + (typeof v === 'number' ? v : 0), 0), 0);
    expect(sum('Pages')).toBeGreaterThan(0);
    expect(sum('Rows')).toBeGreaterThan(integration(BIG).candidates.length);
    expect(sum('Retries')).toBeGreaterThan(0);
    expect(sum('Throttles')).toBeGreaterThan(0);
  });

  it('the deadline check finds the finished run, and reports a missed deadline a day later', async () => {
    const deadline = (time: string) => ({ version: '0', id: randomUUID(), 'detail-type': RUN_DEADLINE, source: SCHEDULE_SOURCE, account: '123456789012', time, region: REGION, resources: [], detail: {} });
    // The nightly run is stamped with its scheduled time, 02:00 on DATE.
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await planner(deadline(`${DATE}T08:00:00Z`), context('planner'))).toMatchObject({ kind: 'deadline', status: 'met' });
      const later = new Date(Date.parse(`${DATE}T08:00:00Z`) + 2 * 86_400_000).toISOString();
      expect(await planner(deadline(later), context('planner'))).toMatchObject({ kind: 'deadline', status: 'missed' });
    } finally {
      vi.mocked(process.stdout.write).mockRestore();
    }
  });

  it('plans a night once: the schedule invoking the planner again for it answers with the same run and sends nothing', async () => {
    const chunksBefore = processed.size;
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const again = (await planner(nightlyEvent(), context('planner'))) as { runId: string; repeated?: boolean };
      expect(again).toMatchObject({ runId, repeated: true });
      await drain();
    } finally {
      vi.mocked(process.stdout.write).mockRestore();
    }
    expect(processed.size).toBe(chunksBefore);
    expect(decodeJson<RunReport>((await warehouse.get(runKeys.report(runId)))!)).toEqual(report);
  });

  it('a {"retry_run_id"} invocation sends the failed streams of the finished run again, and the run completes again', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
      return true;
    });
    try {
      const retried = (await planner({ retry_run_id: runId }, context('planner'))) as { kind: string; runId: string; snapshotDate: string; streams: { integrationId: string; model: string }[] };
      expect(retried).toMatchObject({ kind: 'retry', runId, snapshotDate: DATE });
      expect(retried.streams.map((s) => `${s.integrationId}/${s.model}`).sort()).toEqual(MODELS.map((m) => `${REVOKED}/${m}`).sort());
      // The run's verdict is gone until the retried streams end.
      expect(await warehouse.get(runKeys.failed(runId))).toBeUndefined();
      await drain();
    } finally {
      vi.mocked(process.stdout.write).mockRestore();
    }
    const again = decodeJson<RunReport>((await warehouse.get(runKeys.report(runId)))!);
    expect(again.status).toBe('failed');
    expect(again.streams.filter((s) => s.integrationId === REVOKED).map((s) => s.status)).toEqual(MODELS.map(() => 'failed'));
    const logs = out.join('');
    expect(logs).toContain('retry: failed streams sent again');
    const emf = out.filter((l) => l.includes('"_aws"') && l.includes('StreamsRetried')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.map((m) => m['StreamsRetried'])).toEqual([MODELS.length]);
  });
});
