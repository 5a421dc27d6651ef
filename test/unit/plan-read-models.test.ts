/**
 * The planner skips a model Kombo does not offer for an integration: its read model in
 * `GET /integrations/{id}` is unavailable or opted out. The other models of that integration are
 * still synced, whatever the model.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import type { StreamMessage } from '../../shared/ports.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import type { ModelName } from '../../shared/tables.ts';
import { MODELS } from '../../shared/tables.ts';

const INTEGRATION = 'greenhouse:AbC123';

/** Kombo's read model ids, as `GET /integrations/{id}` names them (Kombo's API reference). */
const READ_MODEL: Record<ModelName, string> = {
  candidates: 'ats_candidates',
  applications: 'ats_applications',
  interviews: 'ats_interviews',
  jobs: 'ats_jobs',
  offers: 'ats_offers',
  users: 'ats_users',
  rejection_reasons: 'ats_rejection_reasons',
  application_stages: 'ats_application_stages',
  tags: 'ats_tags',
};

async function planWith(readModels: { id: string; is_available: boolean; opted_out_by_customer?: boolean }[]) {
  const client = { getIntegration: async (id: string) => ({ id, status: 'ACTIVE', read_models: readModels }) };
  const store = new FolderStore(mkdtempSync(join(tmpdir(), 'kombo-plan-')));
  const sent: StreamMessage[] = [];
  const queue = { send: async (m: StreamMessage) => void sent.push(m) };
  const plan = await planRun({ client, store, queue }, { runId: 'r1', snapshotDate: '2026-11-23', integrationIds: [INTEGRATION], models: MODELS });
  return { plan, sent };
}

describe.each(MODELS)('a sync of every model, where Kombo does not offer %s', (model) => {
  it.each([
    ['is not available', { is_available: false }, 'not available for this integration'],
    ['was opted out by the customer', { is_available: true, opted_out_by_customer: true }, 'opted out by the customer'],
  ] as const)('skips %s when its read model %s, and plans every other model', async (_m, flags, why) => {
    const { plan, sent } = await planWith(MODELS.map((m) => (m === model ? { id: READ_MODEL[m], ...flags } : { id: READ_MODEL[m], is_available: true })));
    expect(plan.streams.find((s) => s.model === model)).toEqual({
      integrationId: INTEGRATION, model, status: 'skipped', code: 'INTEGRATION.MODEL_NOT_AVAILABLE', reason: `${READ_MODEL[model]} is ${why}`,
    });
    expect(plan.streams.filter((s) => s.status === 'pending').map((s) => s.model)).toEqual(MODELS.filter((m) => m !== model));
    expect(sent.map((m) => m.model).sort()).toEqual(MODELS.filter((m) => m !== model).sort());
  });
});
