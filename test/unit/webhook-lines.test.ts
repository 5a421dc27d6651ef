/** The lines `kombo-etl webhooks` prints per event and per sync. */
import { describe, expect, it } from 'vitest';
import { eventLine, syncLine } from '../../cli/commands/webhooks.ts';
import type { StreamMarker } from '../../shared/state/runs.ts';
import { EMPTY_TOTALS } from '../../shared/ports.ts';

const marker = (m: Partial<StreamMarker> & Pick<StreamMarker, 'model' | 'status'>): StreamMarker => ({ runId: 'r1', integrationId: 'lever:a1', totals: EMPTY_TOTALS, finishedAt: '2026-12-07T10:00:00.000Z', ...m });

describe('webhooks output', () => {
  it('names an event, its integration and the models it touches', () => {
    const line = eventLine({ id: 'e1', type: 'data-changed', data: { integration_id: 'lever:a1', changed_models: [{ name: 'ats_interviews' }, { name: 'hris_employees' }] } });
    expect(line).toBe('event e1 data-changed lever:a1 models=applications,interviews');
  });

  it('counts the versions of the models synced, and tells streams another run held from failures', () => {
    const report = {
      runId: 'r1',
      snapshotDate: '2026-12-07',
      status: 'failed' as const,
      finishedAt: '2026-12-07T10:00:00.000Z',
      streams: [
        marker({ model: 'candidates', status: 'done', totals: { ...EMPTY_TOTALS, rows: { candidates: 3, candidate_email_addresses: 5 } } }),
        marker({ model: 'applications', status: 'failed', code: 'STREAM.BUSY' }),
      ],
    };
    expect(syncLine('r1', 'lever:a1', ['candidates', 'applications'], 12, report)).toBe('sync r1 lever:a1 candidates,applications done in 12 ms: 3 versions (applications held by another run: synced again after it)');
    const failed = { ...report, streams: [...report.streams, marker({ model: 'jobs', status: 'failed', code: 'PLATFORM.RATE_LIMITED' })] };
    expect(syncLine('r1', 'lever:a1', ['candidates', 'applications', 'jobs'], 12, failed)).toBe('sync r1 lever:a1 candidates,applications,jobs failed in 12 ms: jobs PLATFORM.RATE_LIMITED (applications held by another run: synced again after it)');
  });
});
