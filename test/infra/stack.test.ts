/**
 * The CDK app, synthesized once with cdk-nag's AwsSolutions checks and non-default context, then
 * asserted on the CloudFormation template: what a deployment would actually create.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import type { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, parseDispatcherEnv, parseFetcherEnv, parsePlannerEnv, parseReceiverEnv } from '../../shared/adapters/aws/env.ts';
import { WEBHOOK_SECRET_PLACEHOLDER } from '../../shared/adapters/aws/webhooks.ts';
import { SIGNATURE_FAILURES_THRESHOLD } from '../../infra/constructs/monitoring.ts';
import { RUN_DEADLINE, SCHEDULED_RUN, parsePlannerEvent } from '../../shared/adapters/aws/events.ts';
import { webhookKeys } from '../../shared/state/keys.ts';
import { KOMBO_US_URL } from '../../shared/kombo/client.ts';
import { VIEWS } from '../../shared/analytics/views.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS } from '../../shared/tables.ts';
import { createApp } from '../../infra/app.ts';
import { fetcherRequestShare } from '../../infra/constructs/pipeline.ts';
import { webhookEventsPrefix } from '../../infra/constructs/storage.ts';
import { KomboFunction } from '../../infra/constructs/function.ts';
import { compactionSchedule } from '../../infra/constructs/compaction.ts';
import { RETENTION_DAYS_ENV, parseCompactorEnv } from '../../shared/adapters/aws/compactor-env.ts';
import { parseReporterEnv } from '../../shared/adapters/aws/report-publisher.ts';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string[] };

/** Every knob away from its default, so each assertion proves the context reached the template. */
const CONTEXT = {
  integrations: ['greenhouse:AbC123', 'lever:XyZ789'],
  schedule: 'cron(30 3 ? * MON-FRI *)',
  timezone: 'Europe/Berlin',
  runDeadline: 'cron(0 9 ? * MON-FRI *)',
  fetcherMaxConcurrency: '7',
  komboRequestsPerSecond: '10',
  retentionDays: 400,
  komboRegion: 'us',
  alarmEmail: 'data-team@example.com',
  athenaBytesScannedCutoffGb: 25,
  logRetentionDays: 30,
  piiMode: 'hash',
  webhookGapSeconds: '90',
  webhookReceiverConcurrency: 3,
};

/** Where the registry lives for the default stack name, written out independently of the code under test. */
const REGISTRY_PATH = '/KomboEtl/integrations';

/** The Glue types the contract promises, written out independently of the code under test. */
const EXPECTED_GLUE_TYPE = { string: 'string', json: 'string', timestamp: 'timestamp', boolean: 'boolean', int32: 'int', double: 'double' } as const;

let template: Template;
let resources: Record<string, Resource>;
let outdir: string;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const one = (type: string, pick: (r: Resource) => boolean = () => true): [string, Resource] => {
  const found = ofType(type).filter(([, r]) => pick(r));
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
};
const FUNCTION_DESCRIPTIONS = { Planner: 'Plans', Fetcher: 'Fetches', Compactor: 'Applies the retention', Reporter: 'hiring report', Receiver: 'Receives Kombo', Dispatcher: 'Dispatches webhook events' } as const;
const fn = (name: keyof typeof FUNCTION_DESCRIPTIONS) => one('AWS::Lambda::Function', (r) => JSON.stringify(r.Properties['Description']).includes(FUNCTION_DESCRIPTIONS[name]));
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });
const variables = (f: Resource) => (f.Properties['Environment'] as { Variables: Json }).Variables;
/** The FIFO fetch queue and its DLQ; the standard events queue and its DLQ. */
const fifo = (r: Resource) => r.Properties['FifoQueue'] === true;
const fetchQueue = () => one('AWS::SQS::Queue', (r) => fifo(r) && r.Properties['RedrivePolicy'] !== undefined);
const fetchDlq = () => one('AWS::SQS::Queue', (r) => fifo(r) && r.Properties['RedrivePolicy'] === undefined);
const eventsQueue = () => one('AWS::SQS::Queue', (r) => !fifo(r) && r.Properties['RedrivePolicy'] !== undefined);
const eventsDlq = () => one('AWS::SQS::Queue', (r) => !fifo(r) && r.Properties['RedrivePolicy'] === undefined);

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'kombo-cdk-'));
  const { app, stack } = createApp({ outdir, context: CONTEXT });
  // Throws if any AwsSolutions finding is not acknowledged.
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Json);
  resources = template.toJSON()['Resources'] as Record<string, Resource>;
}, 120_000);

describe('cdk-nag AwsSolutions', () => {
  it('passes, and every acknowledged finding carries a written reason', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: { ruleName: string; reason?: string }[] }[];
    };
    const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    const acknowledged = nag?.suppressedViolations ?? [];
    expect(acknowledged.length).toBeGreaterThan(0);
    // A sentence, not a placeholder: at least eight words.
    for (const a of acknowledged) expect((a.reason ?? '').trim().split(/\s+/).length, `${a.ruleName}: ${a.reason}`).toBeGreaterThanOrEqual(8);
  });

  it('is really wired in: an insecure bucket fails synth, and destroyData=true adds no finding of its own', () => {
    // Bundling skipped: this synth only checks rules.
    const dir = mkdtempSync(join(tmpdir(), 'kombo-cdk-bad-'));
    const { app, stack } = createApp({ outdir: dir, context: { destroyData: 'true', 'aws:cdk:bundling-stacks': [] } });
    new s3.Bucket(stack, 'Insecure');
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    const report = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const paths = report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)));
    expect(paths).toContain('AwsSolutions-S10 KomboEtl/Insecure/Resource');
    expect(paths.filter((p) => !p.includes('/Insecure/'))).toEqual([]);
  }, 60_000);
});

describe('storage', () => {
  const buckets = () => ofType('AWS::S3::Bucket');
  const warehouse = () => one('AWS::S3::Bucket', (r) => JSON.stringify(r.Properties['LifecycleConfiguration']).includes('ExpireRunState'));

  it('encrypts every bucket, blocks public access, and retains it on stack deletion (not on a failed creation) by default', () => {
    expect(buckets()).toHaveLength(3);
    for (const [id, b] of buckets()) {
      expect(b.Properties['BucketEncryption'], id).toBeDefined();
      expect(b.Properties['PublicAccessBlockConfiguration'], id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(b.DeletionPolicy, id).toBe('RetainExceptOnCreate');
      expect(b.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('encrypts the warehouse and the query results with the data key (SSE-KMS, S3 Bucket Keys), the access logs with S3-managed keys (the only encryption S3 delivers access logs into)', () => {
    const [keyId] = one('AWS::KMS::Key');
    const [logBucketId] = buckets().find(([, b]) => b.Properties['LoggingConfiguration'] === undefined)!;
    for (const [id, b] of buckets().filter(([bid]) => bid !== logBucketId)) {
      expect(b.Properties['BucketEncryption'], id).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(keyId) }, BucketKeyEnabled: true }],
      });
    }
    expect(resources[logBucketId]!.Properties['BucketEncryption']).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
  });

  it('denies plain-HTTP access to every bucket', () => {
    for (const [id] of buckets()) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('logs warehouse and results access to the access-log bucket', () => {
    const logged = buckets().filter(([, b]) => b.Properties['LoggingConfiguration'] !== undefined);
    expect(logged).toHaveLength(2);
    const targets = new Set(logged.map(([, b]) => JSON.stringify((b.Properties['LoggingConfiguration'] as Json)['DestinationBucketName'])));
    expect(targets.size).toBe(1);
    const [logBucketId] = buckets().find(([, b]) => b.Properties['LoggingConfiguration'] === undefined)!;
    expect([...targets][0]).toBe(JSON.stringify({ Ref: logBucketId }));
  });

  it('aborts incomplete multipart uploads after a day, everywhere, and expires run state, never table data, after the configured retention', () => {
    for (const [id, b] of buckets()) {
      const rules = (b.Properties['LifecycleConfiguration'] as { Rules: Json[] }).Rules;
      expect(rules, id).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }));
    }
    const rules = (warehouse()[1].Properties['LifecycleConfiguration'] as { Rules: Json[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Id: 'ExpireRunState', Prefix: 'warehouse/_runs/', ExpirationInDays: CONTEXT.retentionDays, Status: 'Enabled' }));
    // A record unchanged for longer than the retention has its only row in an old partition: no rule may expire tables by age.
    const expiring = rules.filter((r) => r['ExpirationInDays'] !== undefined || r['ExpirationDate'] !== undefined || r['NoncurrentVersionExpiration'] !== undefined);
    expect(expiring.map((r) => r['Prefix'])).toEqual(['warehouse/_runs/', `warehouse/${webhookEventsPrefix()}`]);
  });

  it('forgets the ids of webhook events acted on after 30 days, and nothing else of the state: the folder holds only event ids', () => {
    const rules = (warehouse()[1].Properties['LifecycleConfiguration'] as { Rules: Json[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Id: 'ExpireWebhookEventIds', Prefix: `warehouse/${webhookEventsPrefix()}`, ExpirationInDays: 30, Status: 'Enabled' }));
    expect(webhookKeys.event('evt-1').startsWith(webhookEventsPrefix())).toBe(true);
    for (const other of [webhookKeys.registry(), webhookKeys.trigger('greenhouse:AbC123'), webhookKeys.prefix()]) expect(other.startsWith(webhookEventsPrefix()), other).toBe(false);
  });
});

describe('data key', () => {
  type KeyStatement = { Sid?: string; Effect: string; Principal: Json | string; Action: string | string[]; Condition?: Json };
  const keyStatements = () => ((one('AWS::KMS::Key')[1].Properties['KeyPolicy'] as { Statement: KeyStatement[] }).Statement);

  it('is one customer-managed key with yearly rotation, kept when the stack is deleted or the key replaced', () => {
    const [, key] = one('AWS::KMS::Key');
    expect(key.Properties['EnableKeyRotation']).toBe(true);
    expect(key.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(key.UpdateReplacePolicy).toBe('Retain');
  });

  it('lets CloudWatch Logs of its region use it for this stack\'s log groups only', () => {
    const logs = keyStatements().filter((x) => JSON.stringify(x.Principal).includes('logs.'));
    expect(logs).toHaveLength(1);
    expect(JSON.stringify(logs[0]!.Principal)).toMatch(/logs\.".*AWS::Region.*"\.amazonaws\.com|logs\.\$\{AWS::Region\}\.amazonaws\.com/);
    const arn = (logs[0]!.Condition!['ArnLike'] as Json)['kms:EncryptionContext:aws:logs:arn'] as { 'Fn::Join': [string, unknown[]] };
    expect(arn['Fn::Join'][1].at(-1)).toBe(':log-group:KomboEtl-*');
    // No other service and no one outside the account: the other statement is the account's own.
    const others = keyStatements().filter((x) => x !== logs[0]);
    expect(others).toHaveLength(1);
    expect(JSON.stringify(others[0]!.Principal)).toContain(':root');
  });

  it('encrypts every log group of the stack with it', () => {
    const [keyId] = one('AWS::KMS::Key');
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const [id, g] of groups) expect(g.Properties['KmsKeyId'], id).toEqual(getAtt(keyId));
  });

  it('is granted to every function role that reads or writes the warehouse: GenerateDataKey and Decrypt on this key, nothing more; not to the webhook receiver, which touches no data', () => {
    const [keyId] = one('AWS::KMS::Key');
    for (const [id, f] of ofType('AWS::Lambda::Function')) {
      const role = (f.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(role))
        .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
      const kms = statements.filter((x) => JSON.stringify(x.Action).includes('kms:'));
      if (id === fn('Receiver')[0]) {
        expect(kms, id).toEqual([]);
        continue;
      }
      expect(kms, id).toHaveLength(1);
      expect([kms[0]!.Action].flat().sort(), id).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(kms[0]!.Resource, id).toEqual(getAtt(keyId));
    }
  });
});

describe('a function added to the stack', () => {
  it('gets a log group under the data key by construction, and the key itself with one grantDataKey() call, granted once however often it is called', () => {
    // Bundling skipped: only the template is read.
    const { app, stack } = createApp({ outdir: mkdtempSync(join(tmpdir(), 'kombo-cdk-extra-')), context: { 'aws:cdk:bundling-stacks': [] } });
    const extra = new KomboFunction(stack, 'Extra', { name: 'planner', description: 'An added function', timeout: Duration.minutes(1), logRetention: RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY, serviceName: 'x', dataKey: stack.dataKey });
    extra.grantDataKey().grantDataKey();
    const synthesized = Template.fromJSON(app.synth().getStackByName(stack.stackName).template as Json);
    const keyId = stack.resolve(stack.getLogicalId(stack.dataKey.key.node.defaultChild as CfnKey)) as string;
    const logGroupId = stack.resolve(stack.getLogicalId(extra.logGroup.node.defaultChild as CfnLogGroup)) as string;
    expect(synthesized.toJSON()['Resources'][logGroupId].Properties.KmsKeyId).toEqual(getAtt(keyId));
    const roleId = stack.resolve(stack.getLogicalId(extra.role.node.defaultChild as CfnRole)) as string;
    const policies = Object.values(synthesized.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p['Properties']['Roles']).includes(roleId));
    const kms = policies.flatMap((p) => (p['Properties']['PolicyDocument'] as { Statement: { Action: unknown; Resource: unknown }[] }).Statement).filter((x) => JSON.stringify(x.Action).includes('kms:'));
    expect(kms).toEqual([expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId) })]);
  }, 60_000);
});

describe('pipeline', () => {
  it('runs every function (planner, fetcher, compactor, reporter, webhook receiver and dispatcher) on NODEJS_22_X, arm64, bundled ESM with source maps, logging to a log group with the configured retention', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(6);
    for (const [id, f] of functions) {
      expect(f.Properties['Runtime'], id).toBe('nodejs22.x');
      expect(f.Properties['Architectures'], id).toEqual(['arm64']);
      expect(f.Properties['Handler'], id).toBe('index.handler');
      expect((f.Properties['Environment'] as { Variables: Json }).Variables['NODE_OPTIONS'], id).toBe('--enable-source-maps');
      const logGroup = ((f.Properties['LoggingConfig'] as Json)['LogGroup'] as { Ref: string }).Ref;
      expect(resources[logGroup]?.Properties['RetentionInDays'], id).toBe(CONTEXT.logRetentionDays);
    }
  });

  it('bundles each handler into one ESM file with a source map (from cdk.out)', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'KomboEtl.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string; packaging: string } }> };
    const bundles = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip');
    expect(bundles).toHaveLength(6);
    for (const b of bundles) {
      const code = readFileSync(join(outdir, b.source.path, 'index.mjs'), 'utf8');
      expect(code.startsWith('import')).toBe(true);
      expect(code).toContain('sourceMappingURL=index.mjs.map');
      expect(readFileSync(join(outdir, b.source.path, 'index.mjs.map'), 'utf8').length).toBeGreaterThan(0);
    }
  });

  it('wires each function to its resources through environment variables', () => {
    const env = (name: 'Planner' | 'Fetcher') => (fn(name)[1].Properties['Environment'] as { Variables: Json }).Variables;
    const [queueId] = fetchQueue();
    const [secretId] = one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes('Kombo API key'));
    for (const name of ['Planner', 'Fetcher'] as const) {
      expect(env(name)).toMatchObject({
        [ENV.warehousePrefix]: 'warehouse',
        [ENV.fetchQueueUrl]: { Ref: queueId },
        [ENV.apiKeySecretArn]: { Ref: secretId },
        [ENV.komboApiUrl]: KOMBO_US_URL,
        [ENV.warehouseBucket]: { Ref: expect.stringMatching(/Warehouse/) },
      });
    }
    expect(env('Planner')[ENV.integrationsPath]).toBe(REGISTRY_PATH);
    expect(env('Fetcher')[ENV.integrationsPath]).toBeUndefined();
    expect(env('Fetcher')[ENV.glueDatabase]).toBe('kombo_etl');
    expect(env('Fetcher')[ENV.chunkMaxMillis]).toMatch(/^\d+$/);
    // From context; the salt is not in the template (it lives in a secret of its own, named to the fetcher only).
    const [saltId] = one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes('Salt'));
    expect(env('Fetcher')[ENV.piiMode]).toBe(CONTEXT.piiMode);
    expect(env('Fetcher')[ENV.piiSaltSecretArn]).toEqual({ Ref: saltId });
    // The planner records integrations: it knows the mode (for the email of who connected one), never the salt.
    expect(env('Planner')[ENV.piiMode]).toBe(CONTEXT.piiMode);
    expect(env('Planner')).not.toHaveProperty(ENV.piiSaltSecretArn);
    expect(JSON.stringify(env('Fetcher'))).not.toMatch(/"[^"]*salt[^"]*"\s*:\s*"[^"]/i);
  });

  it('paces the planner at the whole komboRequestsPerSecond and each fetcher at its share (÷ fetcherMaxConcurrency), in values the handlers accept', () => {
    const planner = variables(fn('Planner')[1])[ENV.komboRequestsPerSecond];
    const fetcher = variables(fn('Fetcher')[1])[ENV.komboRequestsPerSecond];
    expect(planner).toBe('10');
    // 10 req/s ÷ 7 fetchers = 1.4285714…, rounded down so that 7 shares stay within the budget.
    expect(fetcher).toBe('1.428571');
    expect(7 * Number(fetcher)).toBeLessThanOrEqual(10);
    const common = { WAREHOUSE_BUCKET: 'b', FETCH_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo', KOMBO_API_KEY_SECRET_ARN: 'arn', KOMBO_API_URL: KOMBO_US_URL };
    expect(parsePlannerEnv({ ...common, [ENV.integrationsPath]: REGISTRY_PATH, [ENV.komboRequestsPerSecond]: planner as string }).pacing).toEqual({ requestsPerSecond: 10 });
    expect(parseFetcherEnv({ ...common, GLUE_DATABASE: 'db', [ENV.komboRequestsPerSecond]: fetcher as string }).pacing).toEqual({ requestsPerSecond: 1.428571 });
  });

  it.each([
    [10, 7, '1.428571'],
    [50, 27, '1.851851'],
    [0.3, 3, '0.099999'],
    [0.1, 1000, '0.0001'],
    [10_000, 2, '5000'],
  ])('shares a budget of %s req/s among %s fetchers as %s req/s each: never more than the budget in all, written as a plain decimal', (budget, fetchers, share) => {
    expect(String(fetcherRequestShare(budget, fetchers))).toBe(share);
    expect(fetchers * Number(share)).toBeLessThanOrEqual(budget);
  });

  it('sets no Kombo request budget on any function when komboRequestsPerSecond is unset (paced by Kombo\'s headers only)', () => {
    // Bundling skipped: only the environment variables are read.
    const { app, stack } = createApp({ outdir: mkdtempSync(join(tmpdir(), 'kombo-cdk-nobudget-')), context: { fetcherMaxConcurrency: '7', 'aws:cdk:bundling-stacks': [] } });
    const plain = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource> };
    // The compactor, the reporter and the webhook receiver never call Kombo.
    const functions = Object.values(plain.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && !/retention|hiring report|Receives/.test(JSON.stringify(r.Properties['Description'])));
    expect(functions).toHaveLength(3);
    for (const f of functions) {
      expect(variables(f)[ENV.komboApiUrl]).toBeDefined();
      expect(variables(f)).not.toHaveProperty(ENV.komboRequestsPerSecond);
    }
  }, 60_000);

  it('feeds the fetcher from a FIFO queue with a FIFO DLQ, a visibility timeout of at least 6x its timeout, and explicit deduplication ids', () => {
    const [dlqId, dlq] = fetchDlq();
    const [, queue] = fetchQueue();
    expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, SqsManagedSseEnabled: true });
    expect(dlq.Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
    expect(queue.Properties['RedrivePolicy']).toEqual({ deadLetterTargetArn: getAtt(dlqId), maxReceiveCount: expect.any(Number) });
    const timeout = fn('Fetcher')[1].Properties['Timeout'] as number;
    expect(queue.Properties['VisibilityTimeout'] as number).toBeGreaterThanOrEqual(6 * timeout);
    expect(timeout).toBeLessThanOrEqual(900);
  });

  it('delivers one message per invocation with partial batch responses, at the configured maximum concurrency', () => {
    const [queueId] = fetchQueue();
    const [fetcherId] = fn('Fetcher');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queueId),
      FunctionName: { Ref: fetcherId },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: Number(CONTEXT.fetcherMaxConcurrency) },
    });
    // The other one feeds the webhook dispatcher from the events queue.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
  });

  /** Fill the Scheduler placeholders the way EventBridge Scheduler does, and parse as the planner would. */
  const scheduleEvent = (r: Resource) => {
    const input = ((r.Properties['Target'] as Json)['Input'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .map((p) => (typeof p === 'string' ? p : '123456789012'))
      .join('')
      .replace('<aws.scheduler.scheduled-time>', '2026-11-24T02:30:00Z')
      .replace('<aws.scheduler.execution-id>', 'exec-1')
      .replace('<aws.scheduler.schedule-arn>', 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x');
    return parsePlannerEvent(JSON.parse(input), new Date(0));
  };

  it('invokes the planner on the configured cron and timezone, with an event the planner reads as a scheduled run', () => {
    const [plannerId] = fn('Planner');
    const [, nightly] = one('AWS::Scheduler::Schedule', (r) => JSON.stringify(r.Properties).includes(SCHEDULED_RUN));
    expect(nightly.Properties).toMatchObject({ ScheduleExpression: CONTEXT.schedule, ScheduleExpressionTimezone: CONTEXT.timezone, State: 'ENABLED', Target: { Arn: getAtt(plannerId) } });
    expect(scheduleEvent(nightly)).toEqual({ kind: 'plan', at: new Date('2026-11-24T02:30:00Z'), scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/x' });
  });

  it('checks the run deadline on its own cron, with an event the planner reads as a deadline check', () => {
    const [, deadline] = one('AWS::Scheduler::Schedule', (r) => JSON.stringify(r.Properties).includes(RUN_DEADLINE));
    expect(deadline.Properties).toMatchObject({ ScheduleExpression: CONTEXT.runDeadline, ScheduleExpressionTimezone: CONTEXT.timezone });
    expect(scheduleEvent(deadline)).toEqual({ kind: 'deadline', at: new Date('2026-11-24T02:30:00Z') });
  });

  it('seeds a short integration list into one registry part under the path, deleted with the stack, and keeps the secret on stack deletion', () => {
    const [, param] = one('AWS::SSM::Parameter');
    expect(param.Properties).toMatchObject({ Name: `${REGISTRY_PATH}/part-001`, Type: 'String', Tier: 'Standard' });
    expect(JSON.parse(param.Properties['Value'] as string)).toEqual(CONTEXT.integrations);
    expect(param.DeletionPolicy).toBe('Delete');
    for (const [id, secret] of ofType('AWS::SecretsManager::Secret')) expect(secret.DeletionPolicy, id).toBe('RetainExceptOnCreate');
  });

  /** Synthesize with `integrations` (bundling skipped, cdk-nag still on) and return the registry parameters in name order. */
  const registryOf = (integrations: readonly string[], extra: Json = {}) => {
    const { app, stack } = createApp({ outdir: mkdtempSync(join(tmpdir(), 'kombo-cdk-registry-')), context: { integrations, ...extra, 'aws:cdk:bundling-stacks': [] } });
    const synthesized = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource> };
    return Object.values(synthesized.Resources)
      .filter((r) => r.Type === 'AWS::SSM::Parameter')
      .sort((a, b) => String(a.Properties['Name']).localeCompare(String(b.Properties['Name'])));
  };

  it('seeds 1,000 integrations of realistic length into several standard parameters of at most 4,096 characters whose union is the list', () => {
    // Kombo ids are "<tool>:<24 characters>": 30 to 40 characters.
    const tools = ['greenhouse', 'lever', 'workday', 'smartrecruiters', 'ashby', 'personio', 'teamtailor', 'bamboohr'];
    const ids = Array.from({ length: 1000 }, (_, i) => `${tools[i % tools.length]}:${createHash('sha256').update(String(i)).digest('base64url').slice(0, 24)}`);
    expect(new Set(ids).size).toBe(1000);
    expect(JSON.stringify(ids).length).toBeGreaterThan(30_000);

    const parts = registryOf(ids);
    expect(parts.length).toBeGreaterThanOrEqual(8);
    expect(parts.map((p) => p.Properties['Name'])).toEqual(parts.map((_, i) => `${REGISTRY_PATH}/part-${String(i + 1).padStart(3, '0')}`));
    for (const p of parts) {
      expect(p.Properties).toMatchObject({ Type: 'String', Tier: 'Standard' });
      expect((p.Properties['Value'] as string).length).toBeLessThanOrEqual(4096);
      expect(p.DeletionPolicy).toBe('Delete');
    }
    // Read in name order, as the planner does: the list itself, in order.
    expect(parts.flatMap((p) => JSON.parse(p.Properties['Value'] as string) as string[])).toEqual(ids);
  }, 60_000);

  it('seeds an empty list as one part holding [], deleted with the stack under destroyData=true', () => {
    const parts = registryOf([], { destroyData: 'true' });
    expect(parts).toHaveLength(1);
    expect(parts[0]!.Properties).toMatchObject({ Name: `${REGISTRY_PATH}/part-001`, Value: '[]' });
    expect(parts[0]!.DeletionPolicy).toBe('Delete');
  }, 60_000);
});

describe('compaction', () => {
  const compactor = () => one('AWS::Lambda::Function', (r) => JSON.stringify(r.Properties['Description']).includes('retention'));

  it('gives the compactor the retention, the warehouse and the Glue database, in values it reads, and nothing of Kombo', () => {
    const env = variables(compactor()[1]);
    expect(env).toMatchObject({ [RETENTION_DAYS_ENV]: String(CONTEXT.retentionDays), [ENV.warehousePrefix]: 'warehouse', [ENV.glueDatabase]: 'kombo_etl' });
    expect(env).not.toHaveProperty(ENV.apiKeySecretArn);
    expect(env).not.toHaveProperty(ENV.komboApiUrl);
    expect(parseCompactorEnv({ ...(env as Record<string, string>), [ENV.warehouseBucket]: 'bucket' }).retentionDays).toBe(CONTEXT.retentionDays);
  });

  it('compacts daily (consolidating the days that are over), twelve hours after the nightly run starts, in its timezone', () => {
    const [compactorId] = compactor();
    const [, daily] = one('AWS::Scheduler::Schedule', (r) => JSON.stringify(r.Properties['Target']).includes(compactorId));
    // The nightly run starts at 03:30 in CONTEXT.
    expect(daily.Properties).toMatchObject({ ScheduleExpression: 'cron(0 15 * * ? *)', ScheduleExpressionTimezone: CONTEXT.timezone, State: 'ENABLED', Target: { Arn: getAtt(compactorId) } });
    expect(compactionSchedule('cron(0 22 * * ? *)')).toBe('cron(0 10 * * ? *)');
    expect(compactionSchedule('cron(0 1,13 * * ? *)')).toBe('cron(0 14 * * ? *)');
  });

  it('lets the compactor repoint and remove (unsync_date) partitions of the catalog tables and touch the warehouse prefix only', () => {
    const role = compactor()[1].Properties['Role'] as { 'Fn::GetAtt': [string, string] };
    const policies = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(role['Fn::GetAtt'][0]));
    const statements = policies.flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Json[] }).Statement);
    const actions = statements.flatMap((x) => (Array.isArray(x['Action']) ? x['Action'] : [x['Action']]) as string[]);
    expect(new Set(actions.filter((a) => !a.startsWith('logs:')))).toEqual(
      new Set(['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListBucket', 'glue:CreatePartition', 'glue:UpdatePartition', 'glue:DeletePartition', 'kms:Decrypt', 'kms:GenerateDataKey']),
    );
    // Objects of the tables' folders, run state and stream state only: not the whole prefix.
    const objects = statements.find((x) => JSON.stringify(x['Action']).includes('s3:PutObject'))!;
    const tails = [objects['Resource']].flat().map((r) => ((r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string));
    expect(tails.sort()).toEqual([...CATALOG_TABLES.map((t) => `/warehouse/${t.name}/*`), '/warehouse/_runs/*', '/warehouse/_state/*'].sort());
  });

  it('keeps every version with retentionDays=0: no lifecycle expiry; the daily compaction still consolidates', () => {
    const { app, stack } = createApp({ outdir: mkdtempSync(join(tmpdir(), 'kombo-cdk-keep-')), context: { retentionDays: '0', 'aws:cdk:bundling-stacks': [] } });
    const plain = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource> };
    const all = Object.values(plain.Resources);
    expect(JSON.stringify(all.filter((r) => r.Type === 'AWS::S3::Bucket'))).not.toContain('ExpireRunState');
    // The nightly run, its deadline check, the nightly report and the daily compaction.
    expect(all.filter((r) => r.Type === 'AWS::Scheduler::Schedule')).toHaveLength(4);
  }, 60_000);
});

describe('least-privilege IAM', () => {
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Json };
  const statements = (roleLogicalIdPart: string): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(roleLogicalIdPart))
      .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

  it('grants no wildcard action and no "*" resource in any of our policies, and attaches no managed policy', () => {
    const all = ofType('AWS::IAM::Policy').flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) {
      for (const a of actions(s)) expect(a, JSON.stringify(s)).not.toMatch(/\*/);
      for (const r of resourcesOf(s)) expect(r, JSON.stringify(s)).not.toBe('*');
    }
    for (const [id, role] of ofType('AWS::IAM::Role')) expect(role.Properties['ManagedPolicyArns'], id).toBeUndefined();
  });

  /** The last literal of each object ARN a statement names: `/warehouse/*`, `/warehouse/_runs/*`. */
  const objectTails = (x: Statement) => resourcesOf(x).map((r) => (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string);

  it.each([
    ['Planner', ['/warehouse/_runs/*', '/warehouse/_state/*', '/warehouse/integrations/*']],
    ['Fetcher', ['/warehouse/*']],
  ])('scopes the %s to objects under %j and to listing the warehouse bucket', (name, tails) => {
    const s = statements(`Pipeline${name}Role`);
    const objects = s.find((x) => actions(x).includes('s3:PutObject'))!;
    expect(actions(objects).sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(objectTails(objects).sort()).toEqual(tails);
    // No other statement reaches objects of the bucket.
    const objectStatements = s.filter((x) => actions(x).some((a) => ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'].includes(a)));
    expect(objectStatements).toHaveLength(1);
    const list = s.find((x) => actions(x).includes('s3:ListBucket'))!;
    // No s3:prefix condition: with one, a read of a missing key answers 403 instead of 404.
    expect(list.Condition).toBeUndefined();
    const s3Actions = s.flatMap(actions).filter((a) => a.startsWith('s3:'));
    expect(new Set(s3Actions)).toEqual(new Set(['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListBucket']));
  });

  it('lets the fetcher create/update partitions of exactly the catalog, the database and its tables, and the planner of the integrations table alone', () => {
    const plannerGlue = statements('PipelinePlannerRole').filter((x) => actions(x).some((a) => a.startsWith('glue:')));
    expect(plannerGlue.flatMap(actions).sort()).toEqual(['glue:CreatePartition', 'glue:UpdatePartition']);
    expect(plannerGlue.flatMap(resourcesOf).map((r) => ((r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string)).sort()).toEqual([':catalog', ':database/kombo_etl', ':table/kombo_etl/integrations']);
    const glue = statements('PipelineFetcherRole').filter((x) => actions(x).some((a) => a.startsWith('glue:')));
    expect(glue).toHaveLength(1);
    expect(actions(glue[0]!).sort()).toEqual(['glue:CreatePartition', 'glue:UpdatePartition']);
    const arns = resourcesOf(glue[0]!).map((r) => ((r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1) as string));
    expect(arns.sort()).toEqual([':catalog', ':database/kombo_etl', ...CATALOG_TABLES.map((t) => `:table/kombo_etl/${t.name}`)].sort());
  });

  it('gives the API key secret to the planner and the fetcher, the salt secret to the fetcher alone, each by its own ARN, and the planner GetParametersByPath on the registry path only', () => {
    const secret = (what: string) => one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes(what))[0];
    const secretsOf = (role: string) => statements(role).filter((x) => actions(x).some((a) => a.startsWith('secretsmanager:'))).flatMap(resourcesOf);
    expect(secretsOf('PipelinePlannerRole')).toEqual([{ Ref: secret('Kombo API key') }]);
    expect(secretsOf('PipelineFetcherRole')).toEqual(expect.arrayContaining([{ Ref: secret('Kombo API key') }, { Ref: secret('Salt') }]));
    expect(secretsOf('PipelineFetcherRole')).toHaveLength(2);
    expect(secretsOf('CompactionCompactorRole')).toEqual([]);
    // No policy of the stack names the salt secret but the fetcher's.
    const naming = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties['PolicyDocument']).includes(secret('Salt')));
    expect(naming.map(([, p]) => JSON.stringify(p.Properties['Roles']))).toEqual([expect.stringContaining('PipelineFetcherRole')]);
    const ssm = statements('PipelinePlannerRole').filter((x) => actions(x).some((a) => a.startsWith('ssm:')));
    expect(ssm).toHaveLength(1);
    expect(ssm[0]!.Effect).toBe('Allow');
    expect(actions(ssm[0]!)).toEqual(['ssm:GetParametersByPath']);
    // GetParametersByPath is authorized against the path in the request: the ARN of the path itself.
    const arns = resourcesOf(ssm[0]!).map((r) => (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]);
    expect(arns).toHaveLength(1);
    expect(arns[0]).toContain(':ssm:');
    expect(arns[0]!.at(-1)).toBe(`:parameter${REGISTRY_PATH}`);
    expect(statements('PipelineFetcherRole').flatMap(actions).filter((a) => a.startsWith('ssm:'))).toEqual([]);
  });
});

describe('catalog and analytics', () => {
  const glueTables = () => ofType('AWS::Glue::Table').map(([, t]) => t.Properties['TableInput'] as Json);
  const tables = () => glueTables().filter((t) => t['TableType'] !== 'VIRTUAL_VIEW');

  it('has one Glue table per table of the contract, in the Glue database', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'kombo_etl' } });
    expect(tables().map((t) => t['Name']).sort()).toEqual(CATALOG_TABLES.map((t) => t.name).sort());
    template.allResourcesProperties('AWS::Glue::Table', { DatabaseName: 'kombo_etl' });
  });

  it('creates every analytics view as an Athena (Presto) view, after the tables it reads', () => {
    const views = glueTables().filter((t) => t['TableType'] === 'VIRTUAL_VIEW');
    expect(views.map((v) => v['Name'])).toEqual(VIEWS.map((v) => v.name));
    for (const v of views) {
      expect(String(v['ViewOriginalText'])).toMatch(/^\/\* Presto View: [A-Za-z0-9+/=]+ \*\/$/);
      expect(v['Parameters']).toMatchObject({ presto_view: 'true' });
    }
    const viewResources = ofType('AWS::Glue::Table').filter(([, t]) => (t.Properties['TableInput'] as Json)['TableType'] === 'VIRTUAL_VIEW');
    const tableIds = ofType('AWS::Glue::Table').filter(([, t]) => (t.Properties['TableInput'] as Json)['TableType'] !== 'VIRTUAL_VIEW').map(([id]) => id);
    const [, first] = viewResources[0]!;
    for (const id of tableIds) expect(first.DependsOn ?? []).toContain(id);
  });

  it.each(CATALOG_TABLES.map((t) => [t.name, t] as const))('%s: columns and types equal shared/tables.ts, partitioned by snapshot_date and integration_id, stored as Parquet', (name, def) => {
    const t = tables().find((x) => x['Name'] === name)!;
    const sd = t['StorageDescriptor'] as Json;
    expect((sd['Columns'] as { Name: string; Type: string }[]).map((c) => [c.Name, c.Type])).toEqual(def.columns.map((c) => [c.name, EXPECTED_GLUE_TYPE[c.type]]));
    expect(t['PartitionKeys']).toEqual(PARTITION_COLUMNS.map((p) => ({ Name: p.name, Type: p.type })));
    expect(t['PartitionKeys']).toEqual([
      { Name: 'snapshot_date', Type: 'date' },
      { Name: 'integration_id', Type: 'string' },
    ]);
    expect(t['TableType']).toBe('EXTERNAL_TABLE');
    expect(sd).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(JSON.stringify(sd['Location'])).toContain(`/warehouse/${name}/`);
  });

  it('has an Athena workgroup that enforces a result location of its own, encrypted with the data key, and the configured bytes-scanned cutoff', () => {
    const [, wg] = one('AWS::Athena::WorkGroup');
    const [resultsId] = one('AWS::S3::Bucket', (r) => JSON.stringify(r.Properties['LifecycleConfiguration']).includes('ExpireQueryResults'));
    expect(wg.Properties['WorkGroupConfiguration']).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: CONTEXT.athenaBytesScannedCutoffGb * 1_000_000_000,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: getAtt(one('AWS::KMS::Key')[0]) } },
    });
    // A prefix of the workgroup's own: s3://<results bucket>/athena-results/<workgroup>/.
    const output = (wg.Properties['WorkGroupConfiguration'] as { ResultConfiguration: Json }).ResultConfiguration['OutputLocation'] as { 'Fn::Join': [string, unknown[]] };
    expect(output['Fn::Join'][1]).toEqual(['s3://', { Ref: resultsId }, `/athena-results/${wg.Properties['Name'] as string}/`]);
    expect(wg.Properties['Name']).toBe('kombo-etl');
  });
});

describe('monitoring', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('alarms on a non-empty DLQ, fetcher, planner, compactor, reporter and receiver errors, failed streams, an overdue run and the events DLQ', () => {
    const [dlqId] = fetchDlq();
    const [eventsDlqId] = eventsDlq();
    const byMetric = (name: string) => alarms().filter((a) => a['MetricName'] === name);
    const dlqAlarm = (id: string) => expect.objectContaining({ Namespace: 'AWS/SQS', Dimensions: [{ Name: 'QueueName', Value: getAtt(id, 'QueueName') }], Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toEqual([dlqAlarm(dlqId), dlqAlarm(eventsDlqId)]);
    const errorTargets = byMetric('Errors').map((a) => JSON.stringify(a['Dimensions']));
    expect(errorTargets.sort()).toEqual([fn('Fetcher')[0], fn('Planner')[0], fn('Compactor')[0], fn('Reporter')[0], fn('Receiver')[0]].map((id) => JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }])).sort());
    for (const name of ['StreamsFailed', 'RunsOverdue']) {
      expect(byMetric(name), name).toEqual([expect.objectContaining({ Namespace: 'KomboEtl', Dimensions: [{ Name: 'service', Value: 'KomboEtl' }], Threshold: 1 })]);
    }
  });

  it('e-mails every alarm through an SNS topic when an alarm e-mail is configured, and has a dashboard', () => {
    const [topicId] = one('AWS::SNS::Topic');
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: CONTEXT.alarmEmail, TopicArn: { Ref: topicId } });
    for (const a of alarms()) expect(a['AlarmActions']).toEqual([{ Ref: topicId }]);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('report', () => {
  const reporter = () => fn('Reporter');
  const policy = (): Json[] => {
    const role = reporter()[1].Properties['Role'] as { 'Fn::GetAtt': [string, string] };
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(role['Fn::GetAtt'][0]))
      .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Json[] }).Statement);
  };

  it('draws the report at the run deadline, after each nightly run, in its timezone', () => {
    const [reporterId] = reporter();
    const [, nightly] = one('AWS::Scheduler::Schedule', (r) => JSON.stringify(r.Properties['Target']).includes(reporterId));
    expect(nightly.Properties).toMatchObject({ ScheduleExpression: CONTEXT.runDeadline, ScheduleExpressionTimezone: CONTEXT.timezone, State: 'ENABLED', Target: { Arn: getAtt(reporterId) } });
  });

  it('gives the reporter the bucket, the workgroup and the database, in values it reads, and nothing of Kombo', () => {
    const env = variables(reporter()[1]) as Record<string, unknown>;
    expect(env).not.toHaveProperty(ENV.apiKeySecretArn);
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : 'resolved-at-deploy']));
    expect(parseReporterEnv(resolved)).toMatchObject({ database: 'kombo_etl', workGroup: 'kombo-etl' });
  });

  it('lets the reporter query Athena in its workgroup, read the catalog and the warehouse, use the data key, and put only under reports/', () => {
    const statements = policy();
    const actions = statements.flatMap((x) => (Array.isArray(x['Action']) ? x['Action'] : [x['Action']]) as string[]).filter((a) => !a.startsWith('logs:'));
    expect(new Set(actions)).toEqual(
      new Set(['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions', 's3:GetObject', 's3:ListBucket', 's3:GetBucketLocation', 's3:PutObject', 's3:AbortMultipartUpload', 'kms:Decrypt', 'kms:GenerateDataKey']),
    );
    // Query results under the workgroup's own prefix only.
    const results = statements.find((x) => JSON.stringify(x['Resource']).includes('athena-results'));
    expect(JSON.stringify(results?.['Resource'])).toContain('/athena-results/kombo-etl/*');
    const warehouseWrites = statements.filter((x) => JSON.stringify(x['Action']).includes('s3:PutObject') && !JSON.stringify(x['Resource']).includes('athena-results'));
    expect(warehouseWrites).toHaveLength(1);
    expect(JSON.stringify(warehouseWrites[0]?.['Resource'])).toMatch(/"\/reports\/\*"/);
    const glue = statements.find((x) => JSON.stringify(x['Action']).includes('glue:GetTable'));
    expect(JSON.stringify(glue?.['Resource'])).toContain(':table/kombo_etl/*');
    expect(JSON.stringify(glue?.['Resource'])).not.toMatch(/:table\/(?!kombo_etl\/)/);
  });

  it('says where the latest report is', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs['LatestReportUri']?.Value)).toMatch(/"s3:\/\/",.*"\/reports\/latest\.html"/);
  });
});

describe('webhooks', () => {
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Json };
  const roleOf = (name: keyof typeof FUNCTION_DESCRIPTIONS) => (fn(name)[1].Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statementsOf = (name: keyof typeof FUNCTION_DESCRIPTIONS): Statement[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(roleOf(name)))
      .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
  const actionsOf = (st: Statement) => [st.Action].flat();
  const resourcesOf = (st: Statement) => [st.Resource].flat();
  /** Each action of a function's policies, with the resources it is granted on. */
  const grants = (name: keyof typeof FUNCTION_DESCRIPTIONS): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const st of statementsOf(name)) for (const a of actionsOf(st)) out[a] = [...(out[a] ?? []), ...resourcesOf(st).map((r) => JSON.stringify(r))].sort();
    return out;
  };
  const webhookSecret = () => one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes('signs the webhooks'));
  const apiKeySecret = () => one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes('Kombo API key'));

  it('puts the receiver behind a Function URL without IAM auth (Kombo signs the body), with a 5 s timeout and the configured reserved concurrency', () => {
    const [receiverId, receiver] = fn('Receiver');
    const [, url] = one('AWS::Lambda::Url');
    expect(url.Properties).toEqual({ AuthType: 'NONE', TargetFunctionArn: getAtt(receiverId) });
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', FunctionName: getAtt(receiverId), Principal: '*', FunctionUrlAuthType: 'NONE' });
    expect(receiver.Properties['Timeout']).toBe(5);
    expect(receiver.Properties['ReservedConcurrentExecutions']).toBe(CONTEXT.webhookReceiverConcurrency);
  });

  it('keeps the signing secret in a secret of its own, a placeholder until set, kept on stack deletion, named only to the receiver', () => {
    const [secretId, secret] = webhookSecret();
    expect(secret.Properties['SecretString']).toBe(WEBHOOK_SECRET_PLACEHOLDER);
    expect(secret.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(variables(fn('Receiver')[1])[ENV.webhookSecretArn]).toEqual({ Ref: secretId });
    const naming = ofType('AWS::IAM::Policy').filter(([, pol]) => JSON.stringify(pol.Properties['PolicyDocument']).includes(secretId));
    expect(naming.map(([, pol]) => JSON.stringify(pol.Properties['Roles']))).toEqual([expect.stringContaining(roleOf('Receiver'))]);
  });

  it('queues events on a standard, encrypted, TLS-only queue with a DLQ after 5 attempts, which feeds the dispatcher in batches with partial failures', () => {
    const [queueId, queue] = eventsQueue();
    const [dlqId, dlq] = eventsDlq();
    expect(queue.Properties).not.toHaveProperty('FifoQueue');
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, RedrivePolicy: { deadLetterTargetArn: getAtt(dlqId), maxReceiveCount: 5 } });
    expect(dlq.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    expect(queue.Properties['VisibilityTimeout'] as number).toBeGreaterThanOrEqual(6 * (fn('Dispatcher')[1].Properties['Timeout'] as number));
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', { Queues: [{ Ref: id }], PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: getAtt(queueId), FunctionName: { Ref: fn('Dispatcher')[0] }, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(variables(fn('Receiver')[1])[ENV.eventsQueueUrl]).toEqual({ Ref: queueId });
    expect(variables(fn('Dispatcher')[1])).toMatchObject({ [ENV.eventsQueueUrl]: { Ref: queueId }, [ENV.fetchQueueUrl]: { Ref: fetchQueue()[0] }, [ENV.webhookGapSeconds]: CONTEXT.webhookGapSeconds });
  });

  it('gives the dispatcher an environment it parses: the warehouse, both queues, Kombo and the gap', () => {
    const env = { ...(variables(fn('Dispatcher')[1]) as Record<string, string>), [ENV.warehouseBucket]: 'b', [ENV.fetchQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo', [ENV.eventsQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/1/events', [ENV.apiKeySecretArn]: 'arn' };
    expect(parseDispatcherEnv(60, env)).toMatchObject({ gapMs: 90_000, komboApiUrl: KOMBO_US_URL, warehouse: { bucket: 'b', prefix: 'warehouse' } });
    const receiverEnv = { ...(variables(fn('Receiver')[1]) as Record<string, string>), [ENV.webhookSecretArn]: 'arn', [ENV.eventsQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/1/events' };
    expect(parseReceiverEnv(receiverEnv)).toEqual({ webhookSecretArn: 'arn', eventsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/events' });
  });

  it('lets the receiver write its logs, read the webhook secret and send to the events queue, and nothing else', () => {
    const [secretId] = webhookSecret();
    const [queueId] = eventsQueue();
    const g = grants('Receiver');
    expect(Object.keys(g).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(g['secretsmanager:GetSecretValue']).toEqual([JSON.stringify({ Ref: secretId })]);
    expect(g['sqs:SendMessage']).toEqual([JSON.stringify(getAtt(queueId))]);
  });

  it('lets the dispatcher read and write run state, state and the integrations table only, send to the fetch queue, send to and consume the events queue, and read the API key, nothing else', () => {
    const [eventsId] = eventsQueue();
    const [fetchId] = fetchQueue();
    const g = grants('Dispatcher');
    expect(Object.keys(g).filter((a) => !a.startsWith('logs:')).sort()).toEqual([
      'glue:CreatePartition', 'glue:UpdatePartition',
      'kms:Decrypt', 'kms:GenerateDataKey',
      's3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject',
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage',
    ]);
    expect(g['secretsmanager:GetSecretValue']).toEqual([JSON.stringify({ Ref: apiKeySecret()[0] })]);
    expect(g['sqs:SendMessage']).toEqual([JSON.stringify(getAtt(eventsId)), JSON.stringify(getAtt(fetchId))].sort());
    expect(g['sqs:ReceiveMessage']).toEqual([JSON.stringify(getAtt(eventsId))]);
    const tails = g['s3:PutObject']!.map((r) => (JSON.parse(r) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1));
    expect(tails.sort()).toEqual(['/warehouse/_runs/*', '/warehouse/_state/*', '/warehouse/integrations/*']);
    expect(g['glue:CreatePartition']!.map((r) => (JSON.parse(r) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1)).sort()).toEqual([':catalog', ':database/kombo_etl', ':table/kombo_etl/integrations']);
    // The fetcher and the planner get nothing of the events queue.
    for (const name of ['Fetcher', 'Planner'] as const) expect(JSON.stringify(statementsOf(name))).not.toContain(eventsId);
  });

  it('alarms on signature failures above the threshold, receiver errors, dispatcher errors (failed records included), the events DLQ, and an integration not synced for more than a day', () => {
    const props = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const custom = (name: string) => props.filter((a) => a['MetricName'] === name);
    expect(custom('WebhookSignatureFailures')).toEqual([expect.objectContaining({ Namespace: 'KomboEtl', Statistic: 'Sum', Threshold: SIGNATURE_FAILURES_THRESHOLD, ComparisonOperator: 'GreaterThanOrEqualToThreshold' })]);
    expect(SIGNATURE_FAILURES_THRESHOLD).toBeGreaterThan(1);
    expect(custom('HoursSinceLastSync')).toEqual([expect.objectContaining({ Namespace: 'KomboEtl', Statistic: 'Maximum', Threshold: 24, ComparisonOperator: 'GreaterThanThreshold' })]);
    const errors = custom('Errors').map((a) => JSON.stringify(a['Dimensions']));
    expect(errors).toContain(JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fn('Receiver')[0] } }]));
    const math = props.filter((a) => a['Metrics'] !== undefined);
    expect(math).toHaveLength(1);
    const text = JSON.stringify(math[0]!['Metrics']);
    expect(text).toContain('"MetricName":"Errors"');
    expect(text).toContain(JSON.stringify({ Name: 'FunctionName', Value: { Ref: fn('Dispatcher')[0] } }));
    expect(text).toContain('"MetricName":"WebhookEventsFailed"');
    expect(math[0]).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('outputs the URL to paste into Kombo, and the command that sets the secret', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(outputs['WebhookUrl']!.Value).toEqual(getAtt(one('AWS::Lambda::Url')[0], 'FunctionUrl'));
    expect(JSON.stringify(outputs['SetWebhookSecretCommand']!.Value)).toContain(JSON.stringify({ Ref: webhookSecret()[0] }));
  });

  it("passes cdk-nag's Function URL auth rule only by the receiver's written reason: Kombo signs the body", () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: { ruleName: string; reason?: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    const url = report.pluginReports.find((r) => r.pluginName === 'FunctionUrl');
    expect(url?.conclusion).toBe('success');
    expect(url?.violations).toEqual([]);
    const acknowledged = url?.suppressedViolations ?? [];
    expect(acknowledged.map((a) => [a.ruleName, a.violatingConstructs.map((c) => c.constructPath)])).toEqual([['FunctionUrl-LambdaFunctionUrlAuth', ['KomboEtl/Webhooks/Receiver/Function/FunctionUrl/Resource']]]);
    expect(acknowledged[0]!.reason).toMatch(/signature/);
  });

  it('builds none of it with webhooks=false: no URL, receiver, dispatcher, events queue or secret, no WebhookUrl; the nightly pipeline stays', () => {
    const { app, stack } = createApp({ outdir: mkdtempSync(join(tmpdir(), 'kombo-cdk-nowebhooks-')), context: { webhooks: 'false', 'aws:cdk:bundling-stacks': [] } });
    const plain = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource>; Outputs: Json };
    const all = Object.values(plain.Resources);
    expect(all.filter((r) => r.Type === 'AWS::Lambda::Url')).toEqual([]);
    expect(all.filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(4);
    expect(all.filter((r) => r.Type === 'AWS::SQS::Queue').every((q) => q.Properties['FifoQueue'] === true)).toBe(true);
    expect(JSON.stringify(all)).not.toContain('signs the webhooks');
    expect(plain.Outputs).not.toHaveProperty('WebhookUrl');
    expect(plain.Outputs).toHaveProperty('StartRunCommand');
  }, 60_000);
});

describe('outputs', () => {
  it('names the bucket, secret, parameter, database and workgroup, and gives the command that starts a run', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    for (const key of ['WarehouseBucket', 'ApiKeySecretArn', 'IntegrationRegistryPath', 'ListIntegrationsCommand', 'AddIntegrationsCommand', 'GlueDatabase', 'AthenaWorkGroup', 'StartRunCommand', 'SetApiKeyCommand', 'AlarmTopicArn']) {
      expect(outputs[key], key).toBeDefined();
    }
    expect(outputs['GlueDatabase']!.Value).toBe('kombo_etl');
    const start = JSON.stringify(outputs['StartRunCommand']!.Value);
    expect(start).toContain('aws lambda invoke');
    expect(start).toContain(JSON.stringify({ Ref: fn('Planner')[0] }));
    // piiMode hash: the key and the salt go into separate secrets, each with its own command.
    expect(JSON.stringify(outputs['SetApiKeyCommand']!.Value)).not.toMatch(/salt/i);
    const salt = JSON.stringify(outputs['SetPiiSaltCommand']!.Value);
    expect(salt).toContain('$KOMBO_PII_SALT');
    expect(salt).toContain(JSON.stringify({ Ref: one('AWS::SecretsManager::Secret', (r) => JSON.stringify(r.Properties['Description']).includes('Salt'))[0] }));
  });

  it('names the registry path that seeds the registry, and prints commands that print the registry and add to or remove from it, with payloads the planner reads as registry edits', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;
    expect(outputs['IntegrationRegistryPath']!.Value).toBe(REGISTRY_PATH);
    const text = (key: string) => ((outputs[key]!.Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]).filter((p) => typeof p === 'string').join('');
    expect(text('ListIntegrationsCommand')).toBe(`aws s3 cp --region  s3:///warehouse/${webhookKeys.registry()} -`);
    const payload = (key: string) => JSON.parse(/--payload '([^']*)'/.exec(text(key))![1]!) as unknown;
    expect(parsePlannerEvent(payload('AddIntegrationsCommand'), new Date(0))).toEqual({ kind: 'registry', at: new Date(0), add: ['greenhouse:AbC123', 'lever:XyZ789'], remove: [] });
    expect(parsePlannerEvent(payload('RemoveIntegrationsCommand'), new Date(0))).toEqual({ kind: 'registry', at: new Date(0), add: [], remove: ['greenhouse:AbC123'] });
    for (const key of ['AddIntegrationsCommand', 'RemoveIntegrationsCommand']) expect(JSON.stringify(outputs[key]!.Value)).toContain(JSON.stringify({ Ref: fn('Planner')[0] }));
    expect(outputs).not.toHaveProperty('IntegrationRegistryParameter');
  });

  it('gives the retry command, whose payload the planner reads as a retry', () => {
    const outputs = template.toJSON()['Outputs'] as Record<string, { Value: { 'Fn::Join': [string, unknown[]] } }>;
    const parts = outputs['RetryRunCommand']!.Value['Fn::Join'][1];
    expect(parts).toContainEqual({ Ref: fn('Planner')[0] });
    const payload = /--payload '([^']*)'/.exec(parts.filter((p) => typeof p === 'string').join(''))![1]!;
    const runId = '20261123T020000Z-a1b2c3';
    expect(parsePlannerEvent(JSON.parse(payload.replace('<run_id>', runId)), new Date())).toEqual({ kind: 'retry', runId });
  });
});
