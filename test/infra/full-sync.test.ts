/**
 * Full syncs in AWS: the CDK context `fullSyncEveryDays` reaches the planner's environment, the
 * planner's event `{"full": true}` is validated like its other fields, and both reach the plan:
 * which streams sync in full and which fetch only what changed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FULL_SYNC_EVERY_DAYS } from '../../infra/config.ts';
import { createApp } from '../../infra/app.ts';
import { ENV, parsePlannerEnv } from '../../shared/adapters/aws/env.ts';
import { SCHEDULED_RUN, parsePlannerEvent, toPlanRequest } from '../../shared/adapters/aws/events.ts';
import type { PlanRequestEvent } from '../../shared/adapters/aws/events.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalQueue } from '../../shared/adapters/local/local-queue.ts';
import { ConfigError } from '../../shared/errors.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import type { IntegrationInfo } from '../../shared/kombo/schemas.ts';
import { MODELS } from '../../shared/tables.ts';
import { tempDirs } from '../helpers/temp.ts';
import { readStreamState, writeCommit } from '../../shared/state/streams.ts';
import type { StreamCommit } from '../../shared/state/streams.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Synthesize the stack (bundling skipped: only the template and cdk-nag's verdict are read). */
function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'kombo-cdk-full-'));
  const { app, stack } = createApp({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  // Throws if any AwsSolutions finding is not acknowledged.
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource> };
  const fn = (verb: 'Plans' | 'Fetches') =>
    Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties['Description']).startsWith(verb))!;
  const variables = (r: Resource) => (r.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
  const nag = (JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[] }).pluginReports.find(
    (p) => p.pluginName === 'AwsSolutions',
  );
  return { planner: variables(fn('Plans')), fetcher: variables(fn('Fetches')), nag };
}

/** The planner's environment as Lambda would hold it: the template's values, its references filled in. */
const plannerEnv = (variables: Record<string, unknown>) =>
  parsePlannerEnv({
    ...Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')),
    [ENV.warehouseBucket]: 'warehouse-bucket',
    [ENV.fetchQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fetch.fifo',
    [ENV.apiKeySecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kombo',
  });

describe('CDK context fullSyncEveryDays → the planner', () => {
  it('sets 7 days on the planner by default, and only on the planner; cdk-nag stays clean', () => {
    // Act
    const { planner, fetcher, nag } = synth({});
    // Assess
    expect(planner[ENV.fullSyncEveryDays]).toBe(String(DEFAULT_FULL_SYNC_EVERY_DAYS));
    expect(plannerEnv(planner).fullEveryDays).toBe(7);
    expect(fetcher).not.toHaveProperty(ENV.fullSyncEveryDays);
    expect(nag).toMatchObject({ conclusion: 'success', violations: [] });
  }, 60_000);

  it('sets -c fullSyncEveryDays=14 as the planner reads it', () => {
    const { planner, nag } = synth({ fullSyncEveryDays: '14' });
    expect(planner[ENV.fullSyncEveryDays]).toBe('14');
    expect(plannerEnv(planner).fullEveryDays).toBe(14);
    expect(nag).toMatchObject({ conclusion: 'success', violations: [] });
  }, 60_000);

  it.each(['0', '1.5', 'weekly', '99999'])('refuses KOMBO_FULL_SYNC_EVERY_DAYS=%s at cold start, naming the variable', (value) => {
    const { planner } = { planner: { [ENV.integrationsPath]: '/KomboEtl/integrations', [ENV.komboApiUrl]: 'https://api.kombo.dev/v1', [ENV.fullSyncEveryDays]: value } };
    expect(() => plannerEnv(planner)).toThrow(ConfigError);
    expect(() => plannerEnv(planner)).toThrow(/^environment variable KOMBO_FULL_SYNC_EVERY_DAYS must be/);
  });
});

describe('the planner event {"full": true}', () => {
  const now = new Date('2026-11-23T10:00:00Z');

  it.each([
    [{ full: true }, true],
    [{ full: false }, false],
    [{ models: ['jobs'], full: true }, true],
  ])('accepts %j', (input, full) => {
    expect(parsePlannerEvent(input, now)).toMatchObject({ kind: 'plan', full });
  });

  it('accepts it as the detail of an EventBridge event, and leaves it unset on the nightly schedule', () => {
    const envelope = (detail: unknown) => ({ 'detail-type': SCHEDULED_RUN, time: '2026-11-24T02:00:00Z', detail });
    expect(parsePlannerEvent(envelope({ full: true }), now)).toMatchObject({ kind: 'plan', full: true });
    expect(parsePlannerEvent(envelope({}), now)).not.toHaveProperty('full');
    expect(parsePlannerEvent({}, now)).toEqual({ kind: 'plan', at: now });
  });

  it.each([
    [{ full: 'true' }, /^invalid planner input: full: must be true or false \(true: sync every stream in full\) \(accepted: .*"full": true\}/],
    [{ full: 1 }, /^invalid planner input: full: must be true or false/],
    [{ full: null }, /^invalid planner input: full: must be true or false/],
    [{ fullSync: true }, /^invalid planner input: .*fullSync \(accepted: .*"full": true\}/],
    [{ retry_run_id: '20261120T020000Z-abcdef', full: true }, /^invalid planner input: retry_run_id cannot be combined with full: a retry re-runs the run's failed streams with its own snapshot date, integrations, models and sync modes/],
  ])('refuses %j with a ConfigError that says what is accepted', (input, message) => {
    expect(() => parsePlannerEvent(input, now)).toThrow(ConfigError);
    expect(() => parsePlannerEvent(input, now)).toThrow(message);
  });
});

describe('what the planner plans from the event and its environment', () => {
  const tmp = tempDirs('kombo-planner-full-');
  const INTEGRATION = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
  const client = {
    getIntegration: (id: string) =>
      Promise.resolve({ id, status: 'ACTIVE', read_models: [], sourceTime: '2026-11-23T02:00:05.000Z' } as unknown as IntegrationInfo & { sourceTime: string }),
  };
  /** A warehouse whose streams last synced in full 10 days before, and incrementally every day since. */
  async function warehouse(): Promise<FolderStore> {
    const store = new FolderStore(tmp());
    for (const model of ['candidates', 'jobs'] as const) {
      let state = await readStreamState(store, { integrationId: INTEGRATION, model: model });
      for (const [snapshotDate, mode] of [['2026-11-13', 'full'], ['2026-11-22', 'incremental']] as const) {
        const commit: StreamCommit = { snapshotDate, runId: `20261113T020000Z-abcde${mode === 'full' ? 'f' : '0'}`, mode, startedAt: `${snapshotDate}T02:00:00.000Z`, updatedAfter: null, records: 1, versions: 1, deletions: 0, index: 'unused' };
        state = await writeCommit(store, state, commit);
      }
    }
    return store;
  }
  const plan = async (event: unknown, fullEveryDays: number) => {
    const req = parsePlannerEvent(event, new Date('2026-11-23T02:00:00Z')) as PlanRequestEvent;
    const request = toPlanRequest(req, '20261123T020000Z-a1b2c3', [INTEGRATION], fullEveryDays);
    return planRun({ client, store: await warehouse(), queue: new LocalQueue() }, { ...request, models: ['candidates', 'jobs'] });
  };

  it('asks for the event date, every model, and the days between full syncs', () => {
    const req = parsePlannerEvent({ full: true }, new Date('2026-11-23T02:00:00Z')) as PlanRequestEvent;
    expect(toPlanRequest(req, '20261123T020000Z-a1b2c3', [INTEGRATION], 14)).toEqual({
      runId: '20261123T020000Z-a1b2c3',
      snapshotDate: '2026-11-23',
      integrationIds: [INTEGRATION],
      models: MODELS,
      fullEveryDays: 14,
      full: true,
    });
  });

  it('fetches what changed since the last sync, less 15 minutes, while the last full sync is younger than fullSyncEveryDays; jobs are listed in full every sync', async () => {
    const result = await plan({}, 14);
    expect(result.streams.map((s) => s.sync)).toEqual([
      { mode: 'incremental', updatedAfter: '2026-11-22T01:45:00.000Z', startedAt: '2026-11-23T02:00:05.000Z' },
      { mode: 'full', startedAt: '2026-11-23T02:00:05.000Z' },
    ]);
    expect(result.streams[1]?.fullBecause).toBe('listed in full every sync');
  });

  it('syncs in full once the last full sync is fullSyncEveryDays old (10 days ≥ 7)', async () => {
    const result = await plan({}, DEFAULT_FULL_SYNC_EVERY_DAYS);
    expect(result.streams.map((s) => s.sync?.mode)).toEqual(['full', 'full']);
    expect(result.streams.map((s) => s.sync?.updatedAfter)).toEqual([undefined, undefined]);
  });

  it('syncs every stream in full when the event says {"full": true}', async () => {
    const result = await plan({ full: true }, 14);
    expect(result.streams.map((s) => [s.sync?.mode, s.fullBecause])).toEqual([
      ['full', 'asked'],
      ['full', 'asked'],
    ]);
  });
});
