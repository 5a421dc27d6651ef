/** CDK context parsing: defaults, values as `-c key=value` strings or JSON, and errors naming the key. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF_GB,
  DEFAULT_FETCHER_MAX_CONCURRENCY,
  DEFAULT_FULL_SYNC_EVERY_DAYS,
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_RUN_DEADLINE,
  DEFAULT_SCHEDULE,
  DEFAULT_STACK_NAME,
  DEFAULT_TIMEZONE,
  DEFAULT_WEBHOOK_GAP_SECONDS,
  DEFAULT_WEBHOOK_RECEIVER_CONCURRENCY,
  CONTEXT_KEYS,
  KOMBO_REQUESTS_PER_SECOND_RANGE,
  assertKnownContextKeys,
  parseConfig,
  parseContext,
} from '../../infra/config.ts';
import { CONFIG_ERROR_EXIT } from '../../infra/app.ts';
import { tempDirs } from '../helpers/temp.ts';
import { glueDatabaseName } from '../../infra/stack.ts';
import { KOMBO_EU_URL, KOMBO_US_URL } from '../../shared/kombo/client.ts';

const from = (ctx: Record<string, unknown>) => parseConfig((k) => ctx[k]);

describe('parseConfig', () => {
  it('uses the named defaults when no context is given: nightly 02:00 UTC, EU endpoint, data retained', () => {
    expect(from({})).toEqual({
      stackName: DEFAULT_STACK_NAME,
      integrations: [],
      schedule: DEFAULT_SCHEDULE,
      timezone: DEFAULT_TIMEZONE,
      runDeadline: DEFAULT_RUN_DEADLINE,
      fetcherMaxConcurrency: DEFAULT_FETCHER_MAX_CONCURRENCY,
      komboRequestsPerSecond: undefined,
      retentionDays: DEFAULT_RETENTION_DAYS,
      komboRegion: 'eu',
      komboApiUrl: KOMBO_EU_URL,
      alarmEmail: undefined,
      destroyData: false,
      athenaBytesScannedCutoffGb: DEFAULT_ATHENA_BYTES_SCANNED_CUTOFF_GB,
      warehousePrefix: 'warehouse',
      logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
      piiMode: 'keep',
      fullSyncEveryDays: DEFAULT_FULL_SYNC_EVERY_DAYS,
      lakeFormation: false,
      lakeFormationReaders: [],
      webhooks: true,
      webhookGapSeconds: DEFAULT_WEBHOOK_GAP_SECONDS,
      webhookReceiverConcurrency: DEFAULT_WEBHOOK_RECEIVER_CONCURRENCY,
    });
    expect(DEFAULT_WEBHOOK_GAP_SECONDS).toBe(60);
    expect(DEFAULT_FULL_SYNC_EVERY_DAYS).toBe(7);
    expect(DEFAULT_SCHEDULE).toBe('cron(0 2 * * ? *)');
    expect(DEFAULT_TIMEZONE).toBe('UTC');
    // Unset: no budget of our own, the clients pace by Kombo's headers as before.
    expect(from({}).komboRequestsPerSecond).toBeUndefined();
  });

  it('turns webhooks off with -c webhooks=false, and reads the gap (0–900 s) and the receiver\'s reserved concurrency (0: none)', () => {
    expect(from({ webhooks: 'false' }).webhooks).toBe(false);
    expect(from({ webhooks: false }).webhooks).toBe(false);
    expect(from({ webhookGapSeconds: '0', webhookReceiverConcurrency: '0' })).toMatchObject({ webhookGapSeconds: 0, webhookReceiverConcurrency: 0 });
    expect(from({ webhookGapSeconds: 900 }).webhookGapSeconds).toBe(900);
  });

  it('reads komboRequestsPerSecond from -c komboRequestsPerSecond=2.5 or a cdk.json number, within 0.1..10000', () => {
    expect(from({ komboRequestsPerSecond: '2.5' }).komboRequestsPerSecond).toBe(2.5);
    expect(from({ komboRequestsPerSecond: ' 40 ' }).komboRequestsPerSecond).toBe(40);
    expect(from({ komboRequestsPerSecond: 50 }).komboRequestsPerSecond).toBe(50);
    expect(KOMBO_REQUESTS_PER_SECOND_RANGE).toEqual([0.1, 10_000]);
    expect(from({ komboRequestsPerSecond: '0.1' }).komboRequestsPerSecond).toBe(0.1);
    expect(from({ komboRequestsPerSecond: 10_000 }).komboRequestsPerSecond).toBe(10_000);
  });

  it('reads command-line strings: -c integrations=a,b -c fetcherMaxConcurrency=8 -c destroyData=true -c komboRegion=US', () => {
    const c = from({ integrations: 'greenhouse:AbC123, lever:XyZ789,greenhouse:AbC123', fetcherMaxConcurrency: '8', destroyData: 'true', komboRegion: 'US', retentionDays: '0' });
    expect(c.integrations).toEqual(['greenhouse:AbC123', 'lever:XyZ789']);
    expect(c.fetcherMaxConcurrency).toBe(8);
    expect(c.destroyData).toBe(true);
    expect(c.komboApiUrl).toBe(KOMBO_US_URL);
    expect(c.retentionDays).toBe(0);
  });

  it('reads fullSyncEveryDays from -c fullSyncEveryDays=14 or a cdk.json number, from 1 day', () => {
    expect(from({ fullSyncEveryDays: '14' }).fullSyncEveryDays).toBe(14);
    expect(from({ fullSyncEveryDays: ' 1 ' }).fullSyncEveryDays).toBe(1);
    expect(from({ fullSyncEveryDays: 30 }).fullSyncEveryDays).toBe(30);
  });

  it('reads piiMode: keep, hash or drop, from -c piiMode=Hash or cdk.json', () => {
    expect(from({ piiMode: 'Hash' }).piiMode).toBe('hash');
    expect(from({ piiMode: 'drop' }).piiMode).toBe('drop');
  });

  it('reads JSON values from cdk.json, including a JSON list in a string', () => {
    expect(from({ integrations: '["workday:HWUTwvyx2wLoSUHphiWVrp28"]' }).integrations).toEqual(['workday:HWUTwvyx2wLoSUHphiWVrp28']);
    expect(from({ integrations: ['workday:HWUTwvyx2wLoSUHphiWVrp28'], destroyData: false, timezone: 'Europe/Berlin' })).toMatchObject({ timezone: 'Europe/Berlin', destroyData: false });
  });

  it.each([
    [{ fetcherMaxConcurrency: '1' }, /"fetcherMaxConcurrency"/],
    [{ fetcherMaxConcurrency: 'lots' }, /"fetcherMaxConcurrency"/],
    [{ schedule: '0 2 * * *' }, /"schedule": expected an EventBridge cron expression/],
    [{ schedule: 'cron(0 2 * * * *)' }, /"schedule": day-of-month or day-of-week must be "\?"/],
    [{ timezone: 'Mars/Olympus' }, /"timezone": expected an IANA time zone/],
    [{ integrations: 'greenhouse:ok1,../../etc' }, /"integrations": invalid integration id/],
    [{ komboRegion: 'apac' }, /"komboRegion"/],
    [{ alarmEmail: 'not-an-email' }, /"alarmEmail"/],
    [{ destroyData: 'yes' }, /"destroyData"/],
    [{ logRetentionDays: 42 }, /"logRetentionDays": one of 1, 3, 5/],
    [{ warehousePrefix: '/data/' }, /"warehousePrefix"/],
    [{ piiMode: 'mask' }, /CDK context "piiMode": expected one of keep, hash, drop \(got "mask"\)/],
    [{ piiMode: true }, /CDK context "piiMode"/],
    [{ komboRequestsPerSecond: '0' }, /CDK context "komboRequestsPerSecond": .*>=0\.1 \(got "0"\)/],
    [{ komboRequestsPerSecond: -5 }, /CDK context "komboRequestsPerSecond": .*>=0\.1 \(got -5\)/],
    [{ komboRequestsPerSecond: '0.05' }, /CDK context "komboRequestsPerSecond": .*>=0\.1/],
    [{ komboRequestsPerSecond: 10_001 }, /CDK context "komboRequestsPerSecond": .*<=10000/],
    [{ komboRequestsPerSecond: 'fast' }, /CDK context "komboRequestsPerSecond": .*expected number.*\(got "fast"\)/],
    [{ komboRequestsPerSecond: '' }, /CDK context "komboRequestsPerSecond": .*expected number/],
    [{ komboRequestsPerSecond: 'Infinity' }, /CDK context "komboRequestsPerSecond"/],
    [{ komboRequestsPerSecond: true }, /CDK context "komboRequestsPerSecond"/],
    [{ fullSyncEveryDays: '0' }, /^CDK context "fullSyncEveryDays": .*>=1 \(got "0"\)$/],
    [{ fullSyncEveryDays: 1.5 }, /^CDK context "fullSyncEveryDays": .*expected int.*\(got 1\.5\)$/],
    [{ fullSyncEveryDays: 'weekly' }, /^CDK context "fullSyncEveryDays": .*\(got "weekly"\)$/],
    [{ fullSyncEveryDays: 3651 }, /^CDK context "fullSyncEveryDays": .*<=3650 \(got 3651\)$/],
    [{ fullSyncEveryDays: true }, /^CDK context "fullSyncEveryDays"/],
    [{ webhooks: 'off' }, /^CDK context "webhooks"/],
    [{ webhookGapSeconds: '901' }, /^CDK context "webhookGapSeconds": .*<=900/],
    [{ webhookGapSeconds: '-1' }, /^CDK context "webhookGapSeconds": .*>=0/],
    [{ webhookReceiverConcurrency: '101' }, /^CDK context "webhookReceiverConcurrency": .*<=100/],
  ])('rejects %o, naming the context key', (ctx, message) => {
    expect(() => from(ctx)).toThrow(message);
  });
});

/** Context keys the CDK CLI itself passes, feature flags of cdk.json, and context lookups' cache keys. */
const CDK_OWN_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
  '@aws-cdk/core:failSynthOnValidationErrors': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
  'acknowledged-issue-numbers': [34892],
  'cdk-telemetry': false,
};

describe('unknown context keys', () => {
  it('rejects a misspelled key (-c fetcherConcurrency=8), listing the known keys', () => {
    expect(() => parseContext({ fetcherConcurrency: '8' })).toThrow(
      `unknown CDK context key "fetcherConcurrency"; known keys: ${CONTEXT_KEYS.join(', ')}`,
    );
    expect(() => assertKnownContextKeys(['stackname', 'piiMode', 'retentiondays'])).toThrow(/^unknown CDK context keys "retentiondays", "stackname"; known keys: stackName, /);
  });

  it("leaves the CDK's own keys to the CDK and reads every known key", () => {
    const every = { stackName: 'KomboEtl-Staging', fetcherMaxConcurrency: '8', piiMode: 'drop', integrations: 'greenhouse:AbC123' };
    expect(parseContext({ ...CDK_OWN_CONTEXT, ...every })).toMatchObject({ stackName: 'KomboEtl-Staging', fetcherMaxConcurrency: 8, piiMode: 'drop' });
    expect(() => assertKnownContextKeys([...CONTEXT_KEYS, ...Object.keys(CDK_OWN_CONTEXT)])).not.toThrow();
  });
});

describe('the CDK app entry (what `npx cdk synth -c …` runs) on a configuration error', () => {
  const ROOT = resolve(import.meta.dirname, '../..');
  const outdir = tempDirs('kombo-cdk-config-');
  /** Run `infra/app.ts` as the CDK CLI does: context in CDK_CONTEXT_JSON, the output folder in CDK_OUTDIR. */
  const runApp = (context: Record<string, unknown>) =>
    new Promise<{ code: number; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'infra/app.ts'],
        { cwd: ROOT, env: { PATH: process.env['PATH'], HOME: process.env['HOME'], CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_OWN_CONTEXT, ...context }), CDK_OUTDIR: outdir() }, timeout: 120_000 },
        (err, _stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
      );
    });

  it.each([
    [{ fetcherConcurrency: '8' }, /^error: unknown CDK context key "fetcherConcurrency"; known keys: stackName, .*fetcherMaxConcurrency/],
    [{ fetcherMaxConcurrency: '1' }, /^error: CDK context "fetcherMaxConcurrency": .*>=2 \(got "1"\)$/],
  ])('%o: one line, no stack trace, exit 2', async (context, message) => {
    const r = await runApp(context);
    expect(r.code, r.stderr).toBe(CONFIG_ERROR_EXIT);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });
});

describe('glueDatabaseName', () => {
  it.each([
    ['KomboEtl', 'kombo_etl'],
    ['KomboEtl-Staging', 'kombo_etl_staging'],
    ['acme2Kombo', 'acme2_kombo'],
  ])('%s → %s', (stack, db) => expect(glueDatabaseName(stack)).toBe(db));
});
