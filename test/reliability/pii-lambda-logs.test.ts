/**
 * The Lambdas' side of personal data outside names and emails: the real planner and fetcher
 * handlers sync the Kombo-compatible server that plants personal data everywhere
 * (`test/helpers/pii-dataset.ts`, one model answering a 403 whose message names a candidate), with
 * S3 and SQS on fauxqs at 127.0.0.1 and Glue, SSM and Secrets Manager mocked at the SDK level, as
 * `test/integration/aws-adapters.test.ts` runs them end to end. In `drop` and `hash` mode (the salt
 * in a secret of its own) no planted value shows in any line the handlers write to stdout or stderr
 * (CloudWatch) or in any object under the run state, and the run completes with the refused stream
 * failed by Kombo's code and title. `keep` mode is the control: the same scan finds the planted
 * values there.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { CreatePartitionCommand, GlueClient, UpdatePartitionCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Message } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import { decodeJson } from '../../shared/state/codec.ts';
import { RUNS_PREFIX, STATE_PREFIX, runKeys, stateKeys } from '../../shared/state/keys.ts';
import type { RunReport } from '../../shared/state/runs.ts';
import { lambdaContext, nightlyEventOf, sqsRecordOf } from '../helpers/lambda-events.ts';
import { startFauxqs } from '../helpers/fauxqs.ts';
import type { FauxqsServer } from '../helpers/fauxqs.ts';
import type { KomboServer } from '../helpers/kombo-server.ts';
import { startKomboServer } from '../helpers/kombo-server.ts';
import { PLANTED, piiDataset } from '../helpers/pii-dataset.ts';

const REGION = 'eu-west-1';
const BUCKET = 'kombo-warehouse';
const ID = 'greenhouse:PiiLambda7Lm2Wp9Rt4Kd000';
const KEY = `kombo-test-key-${randomUUID()}`;
const DATE = '2026-11-22';
const KEY_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo-api-key';
const SALT_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo-pii-salt';
const SALT = 'salt-from-its-own-secret-0123456789abcdef';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

type Planner = (event: unknown, context: Context) => Promise<unknown>;
type Fetcher = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const context = (name: string): Context => lambdaContext(name, REGION);
const sqsRecord = (m: Message, queueArn: string): SQSRecord => sqsRecordOf(m, queueArn, REGION);
const nightlyEvent = () => nightlyEventOf(DATE, REGION);

const textOf = (bytes: Uint8Array): string => (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');

/** Every planted value found, as `needle in where`. */
const leaks = (texts: readonly (readonly [string, string])[]): string[] =>
  texts.flatMap(([where, text]) => PLANTED.filter((needle) => text.includes(needle)).map((needle) => `${needle} in ${where}`));

describe('the Lambdas log no personal data (planner and fetcher on the PII server, S3 + SQS on fauxqs)', () => {
  let emulator: FauxqsServer;
  let s3: S3Client;
  let sqs: SQSClient;
  let server: KomboServer;
  const mocks: { restore(): void }[] = [];

  beforeAll(async () => {
    emulator = await startFauxqs(REGION);
    expect(new URL(emulator.url).hostname).toBe('127.0.0.1');
    s3 = new S3Client({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
    sqs = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const { records, failures } = piiDataset();
    server = await startKomboServer({ integrationId: ID, apiKey: KEY, clock: '2026-11-22T05:00:00.000Z', records, failures });

    // Everything the handlers resolve goes to 127.0.0.1: S3 and SQS to fauxqs, anything else to a
    // closed port (Glue, SSM and Secrets Manager are mocked at the SDK level before they send).
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_S3: emulator.url,
      AWS_ENDPOINT_URL_SQS: emulator.url,
      [ENV.warehouseBucket]: BUCKET,
      [ENV.apiKeySecretArn]: KEY_SECRET,
      [ENV.komboApiUrl]: server.url,
      [ENV.integrationsPath]: '/kombo-etl/integrations',
      [ENV.glueDatabase]: 'kombo_etl',
      [ENV.chunkMaxRows]: '3',
      [ENV.pageSize]: '2',
      POWERTOOLS_SERVICE_NAME: 'kombo-etl-test',
      POWERTOOLS_METRICS_NAMESPACE: 'KomboEtlTest',
      // Every line the handlers can write, debug included.
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);

    const glue = mockClient(GlueClient);
    const ssm = mockClient(SSMClient);
    const secrets = mockClient(SecretsManagerClient);
    mocks.push(glue, ssm, secrets);
    ssm.on(GetParametersByPathCommand, { Path: '/kombo-etl/integrations' }).resolves({
      Parameters: [{ Name: '/kombo-etl/integrations/part-001', Type: 'String', Value: JSON.stringify([ID]) }],
    });
    secrets.on(GetSecretValueCommand, { SecretId: KEY_SECRET }).resolves({ SecretString: KEY });
    secrets.on(GetSecretValueCommand, { SecretId: SALT_SECRET }).resolves({ SecretString: SALT });
    glue.on(CreatePartitionCommand).resolves({});
    glue.on(UpdatePartitionCommand).resolves({});
  }, 60_000);

  afterAll(async () => {
    for (const m of mocks) m.restore();
    vi.unstubAllEnvs();
    s3?.destroy();
    sqs?.destroy();
    await server?.close();
    await emulator?.close();
  });

  /**
   * A fresh container of each handler in `mode`, on a warehouse prefix and queue of its own: plan
   * the night, deliver every message until the queue is empty, and gather every line written to
   * stdout or stderr and every object of the run state.
   */
  async function runNight(mode: PiiMode) {
    const queueName = `pii-${mode}.fifo`;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: 'true', VisibilityTimeout: '120' } }))).QueueUrl!;
    const queueArn = `arn:aws:sqs:${REGION}:000000000000:${queueName}`;
    vi.stubEnv(ENV.warehousePrefix, `pii-${mode}`);
    vi.stubEnv(ENV.fetchQueueUrl, queueUrl);
    vi.stubEnv(ENV.piiMode, mode);
    vi.stubEnv(ENV.piiSaltSecretArn, mode === 'hash' ? SALT_SECRET : undefined);

    const lines: string[] = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      lines.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    let runId: string;
    let deliveries = 0;
    try {
      vi.resetModules();
      const { handler: planner } = (await import('../../functions/planner.ts')) as unknown as { handler: Planner };
      const { handler: fetcher } = (await import('../../functions/fetcher.ts')) as unknown as { handler: Fetcher };
      ({ runId } = (await planner(nightlyEvent(), context('planner'))) as { runId: string });
      for (let idle = 0; idle < 3; ) {
        const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], VisibilityTimeout: 120 }))).Messages ?? [];
        if (got.length === 0) {
          idle++;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        idle = 0;
        for (const m of got) {
          deliveries++;
          // A batch whose every record failed throws, as in Lambda; the message is retried.
          const failed = await fetcher({ Records: [sqsRecord(m, queueArn)] }, context('fetcher')).then(
            (res) => res.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId),
            () => true,
          );
          if (failed) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
          else await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
        if (deliveries > 500) throw new Error(`the queue did not drain: ${lines.filter((l) => l.includes('"level":"ERROR"')).slice(0, 2).join('')}`);
      }
    } finally {
      out.mockRestore();
      err.mockRestore();
    }

    const store = new S3Store({ client: s3, bucket: BUCKET, prefix: `pii-${mode}` });
    const keys = await store.list('');
    const state = keys.filter((k) => k.startsWith(RUNS_PREFIX) || k.startsWith(STATE_PREFIX));
    const texts: [string, string][] = lines.map((line, i) => [`log line ${i}`, line]);
    for (const k of state) texts.push([k, textOf((await store.get(k))!)]);
    const report = decodeJson<RunReport>((await store.get(runKeys.report(runId)))!);
    const recorded = decodeJson<{ mode: PiiMode }>((await store.get(stateKeys.pii()))!).mode;
    return { lines, keys, state, texts, report, recorded };
  }

  it.each(['drop', 'hash'] as const)('%s: no planted value in any log line or run state object, and the run completed', async (mode) => {
    const r = await runNight(mode);
    expect(r.recorded).toBe(mode);
    expect(r.lines.length).toBeGreaterThan(20);
    expect(r.keys.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThan(5);
    expect(r.state.some((k) => k.startsWith(RUNS_PREFIX))).toBe(true);
    expect(r.state.some((k) => k.startsWith(STATE_PREFIX))).toBe(true);
    expect(leaks(r.texts)).toEqual([]);
    expect(r.texts.filter(([, text]) => text.includes(SALT)).map(([where]) => where)).toEqual([]);

    // The run completed: every stream ended, the refused one failed by Kombo's code and title.
    const offers = r.report.streams.find((s) => s.model === 'offers');
    expect(offers).toMatchObject({ status: 'failed', code: 'INTEGRATION.PERMISSION_MISSING' });
    expect(offers?.reason).toContain('Missing permission');
    expect(r.report.streams.filter((s) => s.model !== 'offers' && s.status !== 'done' && s.status !== 'skipped')).toEqual([]);
    expect(r.report.streams.filter((s) => s.status === 'done').length).toBeGreaterThan(5);
    // The failure is logged too, by Kombo's code and title.
    const failure = r.lines.find((l) => l.includes('"model":"offers"') && l.includes('"level":"ERROR"'));
    expect(failure).toContain('INTEGRATION.PERMISSION_MISSING: Missing permission (log: https://app.kombo.dev/logs/req-4711)');
  }, 120_000);

  it('keep: the control, where the same scan finds the planted values in the logs and the run state', async () => {
    const r = await runNight('keep');
    expect(r.recorded).toBe('keep');
    const found = leaks(r.texts);
    expect(found.some((l) => l.startsWith('Jane Doe in log line'))).toBe(true);
    expect(found.some((l) => l.startsWith('jane.private in _runs/'))).toBe(true);
  }, 120_000);
});
