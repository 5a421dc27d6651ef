import { describe, expect, it } from 'vitest';
import { ChunkWorkCore } from '../../shared/pipeline/chunk-work.ts';
import { erasureHash } from '../../shared/state/erased.ts';
import { tablesForModel } from '../../shared/tables.ts';

const INTEGRATION = 'greenhouse:ErasedUnitAAAA';
const user = (id: string) => ({ id, remote_id: `r-${id}`, first_name: id, last_name: 'Doe', email: `${id}@example.com` });
const interview = (id: string, users: string[]) => ({ id, title: 'Onsite', changed_at: '2026-01-01T00:00:00.000Z', remote_deleted_at: null, users: users.map(user) });

describe('a chunk drops what was erased', () => {
  const loc = { integrationId: INTEGRATION, model: 'interviews' } as never;
  const init = { model: 'interviews' as const, runId: 'r', syncedAt: 0, seen: [], rowGroupRows: 10_000, prior: [] };
  const rowsOf = (core: ChunkWorkCore) => Object.fromEntries(tablesForModel('interviews').map((t, i) => [t.name, core.tableRows()[i]]));

  it('an erased record is taken as returned and stores nothing; an erased user leaves the records that copy users', () => {
    // Prepare
    const core = new ChunkWorkCore({ ...init, erased: { integrationId: INTEGRATION, hashes: [erasureHash(INTEGRATION, 'I2'), erasureHash(INTEGRATION, 'U1')] } });
    // Act
    const out = core.page({ records: [interview('I1', ['U1', 'U2']), interview('I2', ['U2'])], next: null }, loc);
    // Assess
    expect(out.fresh).toEqual(['I1', 'I2']);
    expect(out.versions.map((v) => v[0])).toEqual(['I1']);
    expect(rowsOf(core)).toEqual({ interviews: 1, interview_users: 1 });
  });

  it('an erasure of another integration changes nothing', () => {
    const core = new ChunkWorkCore({ ...init, erased: { integrationId: INTEGRATION, hashes: [erasureHash('lever:Other', 'I2'), erasureHash('lever:Other', 'U1')] } });
    const out = core.page({ records: [interview('I1', ['U1', 'U2']), interview('I2', ['U2'])], next: null }, loc);
    expect(out.versions.map((v) => v[0])).toEqual(['I1', 'I2']);
    expect(rowsOf(core)).toEqual({ interviews: 2, interview_users: 3 });
  });
});
