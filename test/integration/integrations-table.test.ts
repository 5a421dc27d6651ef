/**
 * The `integrations` table: the planner's check of each integration and Kombo's integration
 * webhooks store a version per change, several a day each in its own run folder, read back by
 * DuckDB through the catalog, with `integrations_history` and `integrations_latest`.
 */
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { LocalQueue } from '../../shared/adapters/local/local-queue.ts';
import { openWarehouse } from '../../shared/adapters/local/duckdb.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import type { IntegrationInfo } from '../../shared/kombo/schemas.ts';
import type { IntegrationDeps, IntegrationUpdate } from '../../shared/pipeline/integrations.ts';
import { recordIntegration } from '../../shared/pipeline/integrations.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import { STATE_PREFIX } from '../../shared/state/keys.ts';
import { tempDirs } from '../helpers/temp.ts';

const GREENHOUSE = 'greenhouse:8d1hZUzp3kZB7RTGKkDZMbWq';
const LEVER = 'lever:4hNwQe8ZkPa2XtJ6mDvR9bLy';
const DAY = '2026-11-23';

/** `GET /integrations/{id}` as Kombo's spec gives it, with the status asked for. */
const info = (id: string, status = 'ACTIVE'): IntegrationInfo => ({
  id,
  tool: { id: id.split(':')[0]!, label: 'Tool' },
  category: 'ATS',
  status,
  setup_status: 'COMPLETED',
  created_at: '2026-01-15T09:30:00.000Z',
  end_user: { organization_name: `Org of ${id}`, creator_email: 'it@acme.example' },
  read_models: [
    { id: 'ats_candidates', is_available: true, opted_out_by_customer: false },
    { id: 'ats_offers', is_available: false, opted_out_by_customer: false },
    { id: 'ats_applications', is_available: true, opted_out_by_customer: false },
  ],
});

describe('the integrations table', () => {
  const tmp = tempDirs('kombo-integrations-');

  function warehouse(piiMode: PiiMode = 'keep') {
    const dir = tmp();
    const store = new FolderStore(dir);
    const deps: IntegrationDeps = { store, catalog: new LocalCatalog(store), now: () => new Date(), piiMode };
    const record = (u: IntegrationUpdate) => recordIntegration(deps, u);
    /** Plan a run at `time` whose check of each integration returns `status`. */
    const plan = async (time: string, status = 'ACTIVE') => {
      const client = { getIntegration: (id: string) => Promise.resolve({ ...info(id, status), sourceTime: time }) };
      const runId = `${time.slice(0, 10).replaceAll('-', '')}T020000Z-a1b2c3`;
      await planRun({ client, store, queue: new LocalQueue(), now: () => new Date(time), recordIntegration: record }, { runId, snapshotDate: time.slice(0, 10), integrationIds: [GREENHOUSE, LEVER], models: ['candidates'] });
    };
    /** Query the warehouse with DuckDB, through the catalog and the views. */
    const query = async (sql: string) => {
      const db = await openWarehouse(dir);
      try {
        return (await db.query(sql)).rows;
      } finally {
        db.close();
      }
    };
    const files = async () => (await store.list('integrations/')).filter((k) => k.endsWith('.parquet'));
    return { store, record, plan, query, files };
  }

  it("the planner's check writes one row per integration, read by DuckDB in the table and integrations_latest", async () => {
    const w = warehouse();
    await w.plan(`${DAY}T02:00:05.000Z`);
    expect(await w.query('SELECT id, tool, category, status, setup_status, end_user_organization_name, end_user_email, read_models, CAST(created_at AS VARCHAR), last_event, snapshot_date::VARCHAR, integration_id FROM integrations ORDER BY id')).toEqual([
      [GREENHOUSE, 'greenhouse', 'ATS', 'ACTIVE', 'COMPLETED', `Org of ${GREENHOUSE}`, 'it@acme.example', '["ats_applications","ats_candidates"]', '2026-01-15 09:30:00+00', 'check', DAY, GREENHOUSE],
      [LEVER, 'lever', 'ATS', 'ACTIVE', 'COMPLETED', `Org of ${LEVER}`, 'it@acme.example', '["ats_applications","ats_candidates"]', '2026-01-15 09:30:00+00', 'check', DAY, LEVER],
    ]);
    // The version names the run whose check stored it.
    expect(await w.query('SELECT DISTINCT _run_id FROM integrations')).toEqual([['20261123T020000Z-a1b2c3']]);
    expect(await w.query('SELECT integration_id, end_user_organization_name FROM integrations_latest ORDER BY 1')).toEqual([
      [GREENHOUSE, `Org of ${GREENHOUSE}`],
      [LEVER, `Org of ${LEVER}`],
    ]);
  });

  it('a second check that finds nothing changed writes nothing; a status change writes a second version', async () => {
    const w = warehouse();
    await w.plan(`${DAY}T02:00:05.000Z`);
    const before = await w.files();
    await w.plan('2026-11-24T02:00:05.000Z');
    expect(await w.files()).toEqual(before);
    expect(await w.query('SELECT count(*)::INTEGER FROM integrations')).toEqual([[2]]);

    await w.plan('2026-11-25T02:00:05.000Z', 'INVALID');
    expect(await w.query(`SELECT status, snapshot_date::VARCHAR, _is_current FROM integrations_history WHERE integration_id = '${LEVER}' ORDER BY _valid_from`)).toEqual([
      ['ACTIVE', DAY, false],
      ['INVALID', '2026-11-25', true],
    ]);
    expect(await w.query(`SELECT status FROM integrations_latest WHERE id = '${LEVER}'`)).toEqual([['INVALID']]);
  });

  it('several changes a day: each a version, each stored in a new run folder holding the earlier ones, the partition pointing at it', async () => {
    const w = warehouse();
    await w.plan(`${DAY}T02:00:05.000Z`);
    const event = (type: string, data: Record<string, unknown>, at: string) => w.record({ integrationId: LEVER, at: new Date(at), event: { type, data } });
    await event('integration-state-changed', { integration_id: LEVER, integration_tool: 'lever', state: 'INVALID', setup_status: 'COMPLETED' }, `${DAY}T09:00:00.000Z`);
    await event('sync-finished', { integration_id: LEVER, sync_state: 'SUCCEEDED', sync_ended_at: `${DAY}T11:58:00.000Z` }, `${DAY}T12:00:00.000Z`);
    expect(await w.query(`SELECT status, CAST(last_synced_at AS VARCHAR), last_event, CAST(_synced_at AS VARCHAR) FROM integrations_history WHERE id = '${LEVER}' ORDER BY _synced_at`)).toEqual([
      ['ACTIVE', null, 'check', `${DAY} 02:00:05+00`],
      ['INVALID', null, 'integration-state-changed', `${DAY} 09:00:00+00`],
      ['INVALID', `${DAY} 11:58:00+00`, 'sync-finished', `${DAY} 12:00:00+00`],
    ]);
    const folders = new Set((await w.files()).filter((k) => k.includes('integration_id=lever')).map((k) => k.split('/')[3]));
    expect(folders.size).toBe(1);
    // The carried versions keep the run that stored them.
    expect(await w.query(`SELECT count(DISTINCT _run_id)::INTEGER FROM integrations WHERE id = '${LEVER}'`)).toEqual([[3]]);
  });

  it('integration-deleted sets deleted_at on a version that is not a deletion: the integration stays in integrations_latest', async () => {
    const w = warehouse();
    await w.plan(`${DAY}T02:00:05.000Z`);
    const deletedAt = `${DAY}T15:00:00.000Z`;
    const outcome = await w.record({ integrationId: GREENHOUSE, at: new Date(`${DAY}T15:00:01.000Z`), event: { type: 'integration-deleted', data: { id: GREENHOUSE, tool: 'greenhouse', category: 'ATS', end_user: { organization_name: 'Acme', creator_email: null }, deleted_at: deletedAt } } });
    expect(outcome.stored).toBe(true);
    // The latest version by `_synced_at` (both versions share the date).
    expect(await w.query(`SELECT CAST(deleted_at AS VARCHAR), end_user_organization_name, end_user_email, last_event, _is_deleted FROM integrations WHERE id = '${GREENHOUSE}' ORDER BY _synced_at DESC LIMIT 1`)).toEqual([[`${DAY} 15:00:00+00`, 'Acme', null, 'integration-deleted', false]]);
  });

  it('two updates racing are both kept: the loser of the swap reads the winner\'s version and stores its own over it', async () => {
    const w = warehouse();
    await w.plan(`${DAY}T02:00:05.000Z`);
    const at = new Date(`${DAY}T10:00:00.000Z`);
    const outcomes = await Promise.all([
      w.record({ integrationId: LEVER, at, event: { type: 'integration-state-changed', data: { state: 'INACTIVE', setup_status: 'INCOMPLETE' } } }),
      w.record({ integrationId: LEVER, at, event: { type: 'sync-finished', data: { sync_state: 'SUCCEEDED', sync_ended_at: `${DAY}T09:59:00.000Z` } } }),
    ]);
    expect(outcomes.map((o) => o.stored)).toEqual([true, true]);
    expect(await w.query(`SELECT count(*)::INTEGER, count(DISTINCT _synced_at)::INTEGER FROM integrations_history WHERE id = '${LEVER}'`)).toEqual([[3, 3]]);
    expect(await w.query(`SELECT status, setup_status, CAST(last_synced_at AS VARCHAR) FROM integrations WHERE id = '${LEVER}' ORDER BY _synced_at DESC LIMIT 1`)).toEqual([['INACTIVE', 'INCOMPLETE', `${DAY} 09:59:00+00`]]);
  });

  it('integration-created records a new integration before any check; a failed Kombo sync leaves last_synced_at as it was', async () => {
    const w = warehouse();
    const at = (t: string) => new Date(`${DAY}T${t}.000Z`);
    await w.record({ integrationId: LEVER, at: at('08:00:00'), event: { type: 'integration-created', data: { id: LEVER, tool: 'lever', category: 'ATS', end_user: { organization_name: 'Acme', creator_email: 'it@acme.example', origin_id: null } } } });
    await w.record({ integrationId: LEVER, at: at('09:00:00'), event: { type: 'sync-finished', data: { sync_state: 'SUCCEEDED', sync_ended_at: `${DAY}T08:59:00.000Z` } } });
    const failed = await w.record({ integrationId: LEVER, at: at('10:00:00'), event: { type: 'sync-finished', data: { sync_state: 'FAILED', sync_ended_at: `${DAY}T09:59:00.000Z` } } });
    expect(failed.stored).toBe(false);
    expect(await w.query('SELECT id, tool, category, status, end_user_organization_name, end_user_email, CAST(last_synced_at AS VARCHAR), last_event FROM integrations ORDER BY _synced_at DESC LIMIT 1')).toEqual([
      [LEVER, 'lever', 'ATS', null, 'Acme', 'it@acme.example', `${DAY} 08:59:00+00`, 'sync-finished'],
    ]);
  });

  it.each(['hash', 'drop'] as const)('--pii-mode %s stores no email of who connected the integration, in the table or its record', async (mode) => {
    const w = warehouse(mode);
    await w.plan(`${DAY}T02:00:05.000Z`);
    expect(await w.query('SELECT DISTINCT end_user_email, end_user_organization_name IS NOT NULL FROM integrations')).toEqual([[null, true]]);
    const state = await w.store.list(STATE_PREFIX);
    const bodies = await Promise.all(state.map(async (k) => new TextDecoder().decode(await w.store.get(k))));
    expect(bodies.join('\n')).not.toContain('it@acme.example');
  });
});
