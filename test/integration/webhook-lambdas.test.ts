/**
 * The webhook Lambdas as AWS runs them, on 127.0.0.1 only: the receiver handler gets Function URL
 * events and puts verified events on a standard SQS queue of fauxqs; the dispatcher handler gets
 * the SQS records Lambda's event source builds from that queue, and plans runs whose streams land
 * on the FIFO fetch queue, with run and trigger state in fauxqs's S3. fauxqs ignores S3's
 * conditional-write headers, which the trigger records, the registry and the event ids rely on: a
 * small proxy in front of it answers `If-None-Match`/`If-Match` as S3 does (412), one request per
 * key at a time. Secrets Manager is mocked at the SDK level; Kombo is the sandbox.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Message } from '@aws-sdk/client-sqs';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, LambdaFunctionURLEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningSandbox } from '../../sandbox/index.ts';
import { generateDataset, startSandbox } from '../../sandbox/index.ts';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';
import { WEBHOOK_SECRET_PLACEHOLDER, WEBHOOK_SECRET_TTL_MS, WebhookSecret, parseQueuedEvent, rawRequest, wakeDelaySeconds } from '../../shared/adapters/aws/webhooks.ts';
import { parseStreamMessage } from '../../shared/adapters/aws/sqs-queue.ts';
import { runKeys } from '../../shared/state/keys.ts';
import { readPlan } from '../../shared/state/runs.ts';
import { readTrigger } from '../../shared/state/triggers.ts';
import { activeIntegrations, readRegistry } from '../../shared/state/registry.ts';
import { todayUtc } from '../../shared/warehouse/layout.ts';
import { signKomboBody } from '../../shared/webhooks/signature.ts';
import { startFauxqs } from '../helpers/fauxqs.ts';
import type { FauxqsServer } from '../helpers/fauxqs.ts';
import { lambdaContext, sqsRecordOf } from '../helpers/lambda-events.ts';

const REGION = 'eu-west-1';
const BUCKET = 'kombo-webhooks';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const WEBHOOK_SECRET = `whsec-${randomUUID()}`;
const API_KEY = `kombo-webhooks-${randomUUID()}`;
const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo-webhook';
const API_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo-api-key';
const GREENHOUSE = 'greenhouse:Wh00kAbC123dEf456gHi789j';
const LEVER = 'lever:Wh00kXyZ789aBc123dEf456g';

/** The receiver answers with a status, headers and a body (never a bare string). */
type UrlHandler = (event: LambdaFunctionURLEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let emulator: FauxqsServer;
let s3Proxy: { url: string; server: Server };
let sandbox: RunningSandbox;
let s3: S3Client;
let sqs: SQSClient;
let secrets: AwsClientStub<SecretsManagerClient>;
let eventsUrl: string;
let fetchUrl: string;
let store: S3Store;
let receiver: UrlHandler;
let dispatcher: SqsHandler;
const stdout: string[] = [];

const bodyOf = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** fauxqs's S3 behind S3's conditional writes: a PUT or DELETE whose `If-None-Match: *` or `If-Match` does not hold answers 412. */
async function conditionalS3(upstream: string): Promise<{ url: string; server: Server }> {
  const busy = new Map<string, Promise<void>>();
  const server = createServer((req, res) => {
    const key = (req.url ?? '').split('?')[0]!;
    const previous = busy.get(key) ?? Promise.resolve();
    const turn = previous.then(async () => {
      const body = await bodyOf(req);
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      if ((req.method === 'PUT' || req.method === 'DELETE') && (ifNoneMatch !== undefined || ifMatch !== undefined)) {
        const head = await fetch(`${upstream}${key}`, { method: 'HEAD' });
        const failed = (ifNoneMatch === '*' && head.ok) || (ifMatch !== undefined && (!head.ok || head.headers.get('etag') !== ifMatch));
        if (failed) {
          res.writeHead(412, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>');
          return;
        }
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'connection', 'if-none-match', 'if-match'].includes(k)) as [string, string][]);
      const answer = await fetch(`${upstream}${req.url ?? ''}`, { method: req.method!, headers, ...(body.length > 0 && { body }) });
      res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    busy.set(key, turn.catch(() => undefined));
    turn.catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/** A Function URL request as Lambda hands it to the handler. */
function urlEvent(body: string, headers: Record<string, string>, isBase64Encoded = false): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'url-id',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'kombo' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded,
  };
}

/** POST `payload` signed with `secret` (Lambda lower-cases header names). */
const post = (payload: unknown, secret = WEBHOOK_SECRET) => {
  const body = JSON.stringify(payload);
  return receiver(urlEvent(body, { 'x-kombo-signature': signKomboBody(new TextEncoder().encode(body), secret) }), lambdaContext('receiver', REGION));
};

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const got: Message[] = [];
  for (;;) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
    if (!res.Messages?.length) return got;
    for (const m of res.Messages) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

/** Hand the events queue's messages to the dispatcher as one batch, as Lambda's event source does. */
async function dispatch(messages: readonly Message[]): Promise<SQSBatchResponse> {
  const arn = `arn:aws:sqs:${REGION}:000000000000:events`;
  return dispatcher({ Records: messages.map((m) => sqsRecordOf(m, arn, REGION)) }, lambdaContext('dispatcher', REGION));
}

const visible = async (queueUrl: string) =>
  Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'] }))).Attributes?.['ApproximateNumberOfMessages'] ?? 0);

const metricLines = (name: string) => stdout.filter((l) => l.includes('"_aws"') && l.includes(`"${name}"`));

const dataChanged = (id: string, integrationId: string, models: string[]) => ({ id, type: 'data-changed', data: { integration_id: integrationId, integration_tool: integrationId.split(':')[0], changed_models: models.map((name) => ({ name })) } });

beforeAll(async () => {
  emulator = await startFauxqs(REGION);
  s3Proxy = await conditionalS3(emulator.url);
  s3 = new S3Client({ endpoint: s3Proxy.url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  sqs = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  eventsUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'events' }))).QueueUrl!;
  fetchUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'fetch.fifo', Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  store = new S3Store({ client: s3, bucket: BUCKET, prefix: 'warehouse' });
  sandbox = await startSandbox({
    port: 0,
    apiKey: API_KEY,
    dataset: generateDataset({ seed: 11, integrations: [{ id: GREENHOUSE, tool: 'greenhouse', candidates: 12 }, { id: LEVER, tool: 'lever', candidates: 5 }] }),
  });

  // S3 and SQS go to fauxqs, anything else to a closed port (Secrets Manager is mocked before it sends).
  const env: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_S3: s3Proxy.url,
    AWS_ENDPOINT_URL_SQS: emulator.url,
    [ENV.warehouseBucket]: BUCKET,
    [ENV.warehousePrefix]: 'warehouse',
    [ENV.fetchQueueUrl]: fetchUrl,
    [ENV.eventsQueueUrl]: eventsUrl,
    [ENV.apiKeySecretArn]: API_KEY_ARN,
    [ENV.webhookSecretArn]: WEBHOOK_SECRET_ARN,
    [ENV.komboApiUrl]: sandbox.url,
    // No gap: a run may start as soon as the previous one is over.
    [ENV.webhookGapSeconds]: '0',
    POWERTOOLS_SERVICE_NAME: 'kombo-etl-test',
    POWERTOOLS_METRICS_NAMESPACE: 'KomboEtlTest',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ARN }).resolves({ SecretString: WEBHOOK_SECRET });
  secrets.on(GetSecretValueCommand, { SecretId: API_KEY_ARN }).resolves({ SecretString: API_KEY });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    return true;
  });
  ({ handler: receiver } = (await import('../../functions/receiver.ts')) as unknown as { handler: UrlHandler });
  ({ handler: dispatcher } = (await import('../../functions/dispatcher.ts')) as unknown as { handler: SqsHandler });
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  secrets?.restore();
  vi.unstubAllEnvs();
  s3?.destroy();
  sqs?.destroy();
  await sandbox?.close();
  await new Promise((done) => s3Proxy?.server.close(done));
  await emulator?.close();
});

describe('receiver → events queue → dispatcher → a planned run on the fetch queue', () => {
  let runId: string;

  it('answers a signed data-changed event with 202 and queues it, nothing else', async () => {
    const res = await post(dataChanged('evt-e2e-1', GREENHOUSE, ['ats_candidates', 'ats_interviews', 'ats_some_model_not_stored']));
    expect(res).toMatchObject({ statusCode: 202, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(res.body as string)).toEqual({ accepted: 'evt-e2e-1' });
    expect(await visible(eventsUrl)).toBe(1);
    expect(await visible(fetchUrl)).toBe(0);
  });

  it('dispatches it into a run of the touched models of that integration, for today, with its streams on the fetch queue', async () => {
    const events = await receiveAll(eventsUrl);
    expect(events).toHaveLength(1);
    expect(await dispatch(events)).toEqual({ batchItemFailures: [] });
    const streams = (await receiveAll(fetchUrl)).map((m) => parseStreamMessage(m.Body!));
    // ats_candidates → candidates; ats_interviews → interviews and the applications that nest them.
    expect(streams.map((s) => s.model).sort()).toEqual(['applications', 'candidates', 'interviews']);
    expect(new Set(streams.map((s) => s.integrationId))).toEqual(new Set([GREENHOUSE]));
    runId = streams[0]!.runId;
    expect(new Set(streams.map((s) => s.runId)).size).toBe(1);
    const plan = (await readPlan(store, runId))!;
    expect(plan.snapshotDate).toBe(todayUtc());
    expect(plan.streams.map((s) => [s.integrationId, s.model, s.status])).toEqual([
      [GREENHOUSE, 'candidates', 'pending'],
      [GREENHOUSE, 'applications', 'pending'],
      [GREENHOUSE, 'interviews', 'pending'],
    ]);
    expect((await readTrigger(store, GREENHOUSE)).running?.runId).toBe(runId);
    expect(stdout.some((l) => l.includes('"sync started"') && l.includes(runId))).toBe(true);
  });

  it('does nothing more for the same event delivered again (same id)', async () => {
    await post(dataChanged('evt-e2e-1', GREENHOUSE, ['ats_candidates']));
    const again = await receiveAll(eventsUrl);
    expect(await dispatch(again)).toEqual({ batchItemFailures: [] });
    expect(await receiveAll(fetchUrl)).toEqual([]);
    expect(stdout.some((l) => l.includes('"duplicate"'))).toBe(true);
  });

  it('holds a change that arrives during the run, with a wake-up on the events queue, and starts exactly one more run once the run is over', async () => {
    await post(dataChanged('evt-e2e-2', GREENHOUSE, ['ats_jobs']));
    await post(dataChanged('evt-e2e-3', GREENHOUSE, ['ats_offers']));
    expect(await dispatch(await receiveAll(eventsUrl))).toEqual({ batchItemFailures: [] });
    expect(await receiveAll(fetchUrl)).toEqual([]);
    expect((await readTrigger(store, GREENHOUSE)).pending).toEqual(['applications', 'jobs', 'offers']);

    // The run ends (its completion marker), and the wake the dispatcher scheduled comes due.
    await store.put(runKeys.success(runId), JSON.stringify({ runId }));
    let wakes: Message[] = [];
    for (let i = 0; i < 40 && wakes.length === 0; i++) {
      wakes = (await receiveAll(eventsUrl)).filter((m) => parseQueuedEvent(m.Body!).type === 'wake');
      if (wakes.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(wakes.length).toBeGreaterThanOrEqual(1);
    expect(await dispatch(wakes)).toEqual({ batchItemFailures: [] });
    const next = (await receiveAll(fetchUrl)).map((m) => parseStreamMessage(m.Body!));
    expect(next.map((s) => s.model).sort()).toEqual(['applications', 'jobs', 'offers']);
    expect(next[0]!.runId).not.toBe(runId);
  }, 30_000);

  it('adds a created integration to the registry and starts its first run of every model', async () => {
    await post({ id: 'evt-created-1', type: 'integration-created', data: { id: LEVER, tool: 'lever', category: 'ATS' } });
    expect(await dispatch(await receiveAll(eventsUrl))).toEqual({ batchItemFailures: [] });
    expect(activeIntegrations(await readRegistry(store))).toContain(LEVER);
    const streams = (await receiveAll(fetchUrl)).map((m) => parseStreamMessage(m.Body!));
    expect(new Set(streams.map((s) => s.integrationId))).toEqual(new Set([LEVER]));
    expect(streams.length).toBeGreaterThanOrEqual(5);
  });
});

describe('the S3 in front of the handlers', () => {
  it('refuses a conditional write whose condition does not hold, as S3 does', async () => {
    expect(await store.putIfAbsent('t/once.json', '1')).toBe(true);
    expect(await store.putIfAbsent('t/once.json', '2')).toBe(false);
    const tagged = (await store.getTagged('t/once.json'))!;
    expect(await store.putIfMatch('t/once.json', '3', tagged.etag)).toBe(true);
    expect(await store.putIfMatch('t/once.json', '4', tagged.etag)).toBe(false);
    expect(new TextDecoder().decode(await store.get('t/once.json'))).toBe('3');
  });
});

describe('the receiver refuses', () => {
  it.each([
    ['a signature made with another secret', (body: string) => ({ 'x-kombo-signature': signKomboBody(new TextEncoder().encode(body), 'not-the-secret-0123456789') })],
    ['no signature', () => ({})],
    ['a signature of another body', () => ({ 'x-kombo-signature': signKomboBody(new TextEncoder().encode('{}'), WEBHOOK_SECRET) })],
  ])('%s with 401, queues nothing and counts it in WebhookSignatureFailures', async (_name, headers) => {
    const before = metricLines('WebhookSignatureFailures').length;
    const body = JSON.stringify(dataChanged(`evt-bad-${randomUUID()}`, GREENHOUSE, ['ats_candidates']));
    const res = await receiver(urlEvent(body, headers(body)), lambdaContext('receiver', REGION));
    expect(res.statusCode).toBe(401);
    expect(await visible(eventsUrl)).toBe(0);
    expect(metricLines('WebhookSignatureFailures').length).toBe(before + 1);
  });

  it('a body over 1 MB with 413, before reading the signature', async () => {
    const res = await receiver(urlEvent('x'.repeat(1_048_577), {}), lambdaContext('receiver', REGION));
    expect(res.statusCode).toBe(413);
    expect(await visible(eventsUrl)).toBe(0);
  });

  it('nothing signed correctly: an unknown event type is answered 200 and ignored', async () => {
    const res = await post({ id: 'evt-unknown', type: 'hris-employee-changed', data: {} });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ ignored: 'hris-employee-changed' });
    expect(await visible(eventsUrl)).toBe(0);
  });
});

describe('the receiver reads the raw body', () => {
  it('base64-decodes a body the Function URL passed encoded, so that the signature of the bytes Kombo sent holds', async () => {
    const body = JSON.stringify(dataChanged('evt-b64', GREENHOUSE, ['ats_candidates']));
    const bytes = new TextEncoder().encode(body);
    const res = await receiver(urlEvent(Buffer.from(bytes).toString('base64'), { 'x-kombo-signature': signKomboBody(bytes, WEBHOOK_SECRET) }, true), lambdaContext('receiver', REGION));
    expect(res.statusCode).toBe(202);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: eventsUrl }));
    expect(new TextDecoder().decode(rawRequest({ body: Buffer.from('é€').toString('base64'), isBase64Encoded: true }).body)).toBe('é€');
    expect(new TextDecoder().decode(rawRequest({ body: 'é€' }).body)).toBe('é€');
  });
});

describe('the dispatcher', () => {
  it('fails only the record it cannot read (partial batch response), and counts it in WebhookEventsFailed', async () => {
    const arn = `arn:aws:sqs:${REGION}:000000000000:events`;
    const good = { MessageId: 'm-good', ReceiptHandle: 'r1', Body: JSON.stringify(dataChanged('evt-other', GREENHOUSE, ['ats_not_stored'])), MD5OfBody: 'x' };
    const bad = { MessageId: 'm-bad', ReceiptHandle: 'r2', Body: '{"type":"wake"}', MD5OfBody: 'x' };
    const before = metricLines('WebhookEventsFailed').length;
    const res = await dispatcher({ Records: [good, bad].map((m) => sqsRecordOf(m, arn, REGION)) }, lambdaContext('dispatcher', REGION));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    expect(metricLines('WebhookEventsFailed').length).toBe(before + 1);
  });
});

describe('events queue messages', () => {
  it('delay a wake-up by the seconds until it is due, rounded up, between 0 and 15 minutes', () => {
    expect(wakeDelaySeconds(10_500, 10_000)).toBe(1);
    expect(wakeDelaySeconds(9_000, 10_000)).toBe(0);
    expect(wakeDelaySeconds(10_000 + 3_600_000, 10_000)).toBe(900);
  });

  it('parse as a Kombo event or a wake-up, and refuse anything else with what is wrong', () => {
    expect(parseQueuedEvent(JSON.stringify({ type: 'wake', integrationId: GREENHOUSE, atMs: 5 }))).toEqual({ type: 'wake', integrationId: GREENHOUSE, atMs: 5 });
    expect(parseQueuedEvent(JSON.stringify(dataChanged('e', GREENHOUSE, ['ats_jobs']))).type).toBe('data-changed');
    expect(() => parseQueuedEvent('not json')).toThrow(/not JSON/);
    expect(() => parseQueuedEvent(JSON.stringify({ type: 'wake', integrationId: 'no-colon' }))).toThrow();
    expect(() => parseQueuedEvent(JSON.stringify({ id: 'x', type: 'something-else', data: {} }))).toThrow(/type something-else/);
  });
});

describe('the webhook secret', () => {
  it('not set yet (the placeholder) fails the request with the command that sets it, and is read again on the next one', async () => {
    const client = new SecretsManagerClient({ region: REGION });
    const cached = new WebhookSecret(client, 'arn:placeholder');
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:placeholder' }).resolvesOnce({ SecretString: WEBHOOK_SECRET_PLACEHOLDER }).resolves({ SecretString: 'set-now' });
    await expect(cached.value()).rejects.toThrow(/aws secretsmanager put-secret-value --secret-id arn:placeholder/);
    expect(await cached.value()).toBe('set-now');
    expect(await cached.value()).toBe('set-now');
    expect(secrets.commandCalls(GetSecretValueCommand, { SecretId: 'arn:placeholder' })).toHaveLength(2);
  });

  it('is read once per five minutes, so that a rotated secret takes effect within them', async () => {
    let now = 1_000_000;
    const cached = new WebhookSecret(new SecretsManagerClient({ region: REGION }), 'arn:rotated', () => now);
    secrets.on(GetSecretValueCommand, { SecretId: 'arn:rotated' }).resolvesOnce({ SecretString: 'old-secret' }).resolves({ SecretString: 'new-secret' });
    expect(await cached.value()).toBe('old-secret');
    now += WEBHOOK_SECRET_TTL_MS - 1;
    expect(await cached.value()).toBe('old-secret');
    now += 1;
    expect(await cached.value()).toBe('new-secret');
    expect(secrets.commandCalls(GetSecretValueCommand, { SecretId: 'arn:rotated' })).toHaveLength(2);
  });
});
