/**
 * What a first real deploy relies on, read from synthesized templates (bundling skipped, cdk-nag
 * on): alarms CloudWatch may publish, redeploys after a rollback or `cdk destroy`, a second region,
 * one planner run per night, reads of missing keys, daylight-saving gaps, and Lake Formation.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.ts';
import { parseConfig } from '../../infra/config.ts';
import { READER_TABLE_PERMISSIONS, WRITER_TABLE_PERMISSIONS } from '../../infra/constructs/lake-formation.ts';
import { skippedTimes } from '../../infra/dst-gap.ts';
import { ConfigError } from '../../shared/errors.ts';
import { CATALOG_TABLES } from '../../shared/tables.ts';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; DeletionPolicy?: string; DependsOn?: string[] };

const READERS = ['arn:aws:iam::123456789012:role/bi-analysts', 'arn:aws:iam::123456789012:user/looker'];

function synth(context: Json) {
  const outdir = mkdtempSync(join(tmpdir(), 'kombo-cdk-first-'));
  const { app, stack } = createApp({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Json);
  const resources = template.toJSON()['Resources'] as Record<string, Resource>;
  const nag = (JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[] }).pluginReports.find(
    (p) => p.pluginName === 'AwsSolutions',
  );
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const fn = (verb: string) => ofType('AWS::Lambda::Function').find(([, r]) => String(r.Properties['Description']).startsWith(verb))![0];
  const role = (verb: string) => (resources[fn(verb)]!.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return { stack, template, resources, nag, ofType, fn, role, outputs: template.toJSON()['Outputs'] as Record<string, { Value: unknown }> };
}

// One template with the options a first deploy in Europe would use, one with Lake Formation.
const europe = synth({ alarmEmail: 'data-team@example.com', integrations: ['greenhouse:AbC123'], schedule: 'cron(30 2 * * ? *)', timezone: 'Europe/Berlin' });
const governed = synth({ lakeFormation: 'true', lakeFormationReaders: READERS.join(',') });

describe.each([
  ['the alarm e-mail template', europe],
  ['the Lake Formation template', governed],
])('%s', (_name, t) => {
  it('passes cdk-nag with no unacknowledged finding', () => {
    expect(t.nag?.conclusion).toBe('success');
    expect(t.nag?.violations).toEqual([]);
  });
});

describe('alarms reach the inbox', () => {
  it('lets CloudWatch alarms of this account publish to the TLS-only topic', () => {
    const [[topicId]] = europe.ofType('AWS::SNS::Topic') as [[string, Resource]];
    const policies = europe.ofType('AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(1);
    const doc = policies[0]![1].Properties['PolicyDocument'] as { Statement: Json[] };
    expect(doc.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    );
    expect(JSON.stringify(doc.Statement)).toContain(':alarm:*');
    // The TLS-only Deny stays.
    expect(doc.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });
});

describe('a redeploy after a failed deploy or cdk destroy', () => {
  it('deletes the seeded registry parts with the stack, and keeps buckets and secret on deletion but not on a failed creation', () => {
    const parts = europe.ofType('AWS::SSM::Parameter');
    expect(parts.length).toBeGreaterThan(0);
    for (const [id, p] of parts) expect(p.DeletionPolicy, id).toBe('Delete');
    for (const [id, r] of [...europe.ofType('AWS::S3::Bucket'), ...europe.ofType('AWS::SecretsManager::Secret')]) expect(r.DeletionPolicy, id).toBe('RetainExceptOnCreate');
  });
});

describe('a second region', () => {
  it('names the dashboard after the stack and its region, and the dashboard URL follows', () => {
    const [[, dashboard]] = europe.ofType('AWS::CloudWatch::Dashboard') as [[string, Resource]];
    expect(dashboard.Properties['DashboardName']).toEqual({ 'Fn::Join': ['', ['KomboEtl-', { Ref: 'AWS::Region' }]] });
    expect(JSON.stringify(europe.outputs['DashboardUrl']!.Value)).toContain('#dashboards/dashboard/KomboEtl-');
  });
});

describe('one run per night', () => {
  it("turns off Lambda's own retries of the planner's asynchronous invocations", () => {
    europe.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: europe.fn('Plans') }, MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
    expect(europe.ofType('AWS::Lambda::EventInvokeConfig')).toHaveLength(1);
  });

  it('gives invoke commands that wait for the planner instead of sending the invocation again after 60 s', () => {
    for (const key of ['StartRunCommand', 'RetryRunCommand']) expect(JSON.stringify(europe.outputs[key]!.Value), key).toContain('--cli-read-timeout 0');
  });
});

describe('the run deadline', () => {
  it('names the nightly schedule in the deadline check, so that only its run counts as the night\'s', () => {
    const [nightlyId] = europe.ofType('AWS::Scheduler::Schedule').find(([, r]) => JSON.stringify(r.Properties).includes('Scheduled Event'))!;
    const [, deadline] = europe.ofType('AWS::Scheduler::Schedule').find(([, r]) => JSON.stringify(r.Properties).includes('Run Deadline'))!;
    const parts = ((deadline.Properties['Target'] as Json)['Input'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const at = parts.findIndex((p) => JSON.stringify(p) === JSON.stringify({ 'Fn::GetAtt': [nightlyId, 'Arn'] }));
    expect(at).toBeGreaterThan(0);
    expect(String(parts[at - 1])).toMatch(/"nightly_schedule":"$/);
  });
});

describe('reads of keys that do not exist yet', () => {
  it.each(['Plans', 'Fetches', 'Applies the retention'])('lets the %s function list the warehouse bucket without a prefix condition, so a missing key answers 404', (verb) => {
    const roleId = europe.role(verb);
    const statements = europe.ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties['Roles']).includes(roleId))
      .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: { Action: unknown; Condition?: unknown }[] }).Statement);
    const list = statements.filter((s) => JSON.stringify(s.Action).includes('s3:ListBucket'));
    expect(list).toHaveLength(1);
    expect(list[0]!.Condition).toBeUndefined();
  });
});

describe('daylight saving time', () => {
  it.each([
    ['cron(30 2 * * ? *)', 'Europe/Berlin', 2026, ['2026-03-29 02:30']],
    ['cron(0,59 2 * * ? *)', 'Europe/Berlin', 2027, ['2027-03-28 02:00', '2027-03-28 02:59']],
    ['cron(15 2 * * ? *)', 'America/New_York', 2026, ['2026-03-08 02:15']],
    ['cron(30 2 * * ? *)', 'Australia/Sydney', 2026, ['2026-10-04 02:30']],
    ['cron(0 3 * * ? *)', 'Europe/Berlin', 2026, []],
    ['cron(0 1 * * ? *)', 'Europe/Berlin', 2026, []],
    ['cron(30 2 * * ? *)', 'UTC', 2026, []],
    ['cron(0/30 2 * * ? *)', 'Europe/Berlin', 2026, []],
  ])('%s in %s, %i: skips %j', (cron, tz, year, expected) => {
    expect(skippedTimes(cron, tz, year)).toEqual(expected);
  });

  it('warns at synth when the nightly time falls into the spring gap, and not otherwise', () => {
    Annotations.fromStack(europe.stack).hasWarning('*', Match.stringLikeRegexp('schedule cron\\(30 2 \\* \\* \\? \\*\\) in Europe/Berlin: the clocks skip 20\\d\\d-03-\\d\\d 02:30'));
    expect(Annotations.fromStack(governed.stack).findWarning('*', Match.stringLikeRegexp('the clocks skip'))).toEqual([]);
  });
});

describe('Lake Formation', () => {
  const grants = (t: typeof europe) => t.ofType('AWS::LakeFormation::PrincipalPermissions').map(([, r]) => r);
  const to = (t: typeof europe, principal: unknown) => grants(t).filter((g) => JSON.stringify((g.Properties['Principal'] as Json)['DataLakePrincipalIdentifier']) === JSON.stringify(principal));

  it('is off by default: no Lake Formation resource', () => {
    expect(europe.ofType('AWS::LakeFormation::PrincipalPermissions')).toEqual([]);
    expect(europe.ofType('AWS::LakeFormation::Resource')).toEqual([]);
  });

  it('registers the warehouse location with the service-linked role', () => {
    const [[, location]] = governed.ofType('AWS::LakeFormation::Resource') as [[string, Resource]];
    expect(location.Properties['UseServiceLinkedRole']).toBe(true);
    expect(JSON.stringify(location.Properties['ResourceArn'])).toContain('/warehouse');
    // One grant per catalog table and writer role still leaves room under CloudFormation's 500 resources.
    expect(Object.keys(governed.resources).length).toBeLessThan(400);
  });

  it("lets Lake Formation's service-linked role decrypt the warehouse it vends to Athena, by a condition (the role may not exist yet), only with Lake Formation on", () => {
    const keyPolicy = (t: typeof europe) => (t.ofType('AWS::KMS::Key')[0]![1].Properties['KeyPolicy'] as { Statement: Json[] }).Statement;
    const lf = keyPolicy(governed).filter((x) => x['Sid'] === 'LakeFormationDataAccess');
    expect(lf).toHaveLength(1);
    expect(lf[0]).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'] });
    const condition = lf[0]!['Condition'] as { StringEquals: Json; ArnEquals: Json };
    expect(condition.StringEquals['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(JSON.stringify(condition.ArnEquals['aws:PrincipalArn'])).toContain(':role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess');
    expect(keyPolicy(europe).filter((x) => x['Sid'] === 'LakeFormationDataAccess')).toEqual([]);
  });

  it.each(['Fetches', 'Applies the retention'])('grants the %s role what registering partitions needs: the database, each catalog table by name, the data location', (verb) => {
    const mine = to(governed, getAtt(governed.role(verb)));
    const resources = mine.map((g) => g.Properties['Resource'] as Json);
    expect(mine.find((g) => 'Database' in (g.Properties['Resource'] as Json))?.Properties['Permissions']).toEqual(['DESCRIBE']);
    const tables = mine.filter((g) => 'Table' in (g.Properties['Resource'] as Json));
    expect(tables.map((g) => ((g.Properties['Resource'] as Json)['Table'] as Json)['Name']).sort()).toEqual(CATALOG_TABLES.map((t) => t.name).sort());
    for (const g of tables) expect(g.Properties['Permissions']).toEqual([...WRITER_TABLE_PERMISSIONS]);
    expect(resources.filter((r) => 'DataLocation' in r)).toHaveLength(1);
    expect(mine.find((g) => 'DataLocation' in (g.Properties['Resource'] as Json))?.Properties['Permissions']).toEqual(['DATA_LOCATION_ACCESS']);
    for (const g of mine) expect(g.Properties['PermissionsWithGrantOption']).toEqual([]);
  });

  it('grants each reader SELECT and DESCRIBE on every table and view, and DESCRIBE on the database', () => {
    for (const arn of READERS) {
      const mine = to(governed, arn);
      expect(mine).toHaveLength(2);
      const tables = mine.find((g) => 'Table' in (g.Properties['Resource'] as Json))!;
      expect(tables.Properties['Resource']).toEqual({ Table: { CatalogId: { Ref: 'AWS::AccountId' }, DatabaseName: 'kombo_etl', TableWildcard: {} } });
      expect(tables.Properties['Permissions']).toEqual([...READER_TABLE_PERMISSIONS]);
    }
    expect(to(governed, getAtt(governed.role('Plans')))).toEqual([]);
  });

  it('grants only once the tables and views it names exist', () => {
    const views = governed.ofType('AWS::Glue::Table').filter(([, r]) => (r.Properties['TableInput'] as Json)['TableType'] === 'VIRTUAL_VIEW');
    const lastView = views.at(-1)![0];
    expect(grants(governed).length).toBeGreaterThan(0);
    for (const g of grants(governed)) expect(g.DependsOn).toContain(lastView);
  });

  it.each([
    [{ lakeFormationReaders: READERS[0] }, /lakeFormationReaders.*lakeFormation=true/],
    [{ lakeFormation: 'true', lakeFormationReaders: 'bi-analysts' }, /CDK context "lakeFormationReaders": expected IAM role or user ARNs/],
  ])('refuses readers without Lake Formation or that are not IAM ARNs: %j', (context, error) => {
    expect(() => parseConfig((k) => (context as Json)[k])).toThrow(ConfigError);
    expect(() => parseConfig((k) => (context as Json)[k])).toThrow(error);
  });
});

function getAtt(id: string) {
  return { 'Fn::GetAtt': [id, 'Arn'] };
}
