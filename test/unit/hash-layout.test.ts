/**
 * Hash layouts (shared/pipeline/hash-layout.ts): a record whose stored hash was made under an
 * earlier layout is compared under that layout's columns, so a release that hashes other columns
 * stores no version for a record whose values did not change.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkWorkInit, PriorEntry } from '../../shared/pipeline/chunk-work.ts';
import { ChunkWorkCore } from '../../shared/pipeline/chunk-work.ts';
import type { HashLayout } from '../../shared/pipeline/hash-layout.ts';
import { currentLayout, hashRecord, layoutIdOf, legacyLayout, planLayout, taggedHash } from '../../shared/pipeline/hash-layout.ts';
import { tablesForModel } from '../../shared/tables.ts';
import type { KomboRecord } from '../helpers/kombo-server.ts';
import { applicationRecord } from '../helpers/kombo-server.ts';

const SCREEN = { id: 'StgScreen', name: 'Screen', index: 1 };
const application = (edit: (r: KomboRecord) => void = () => {}): KomboRecord => {
  const r = applicationRecord({ id: 'app-1', candidateId: 'cand-1', stage: SCREEN, offers: [{ id: 'off-1', status: 'SENT' }], changedAt: '2026-02-20T10:00:00.000Z' });
  edit(r);
  return r;
};
/** The hash the release before hash layouts stored for `application()` (PII kept): untagged, every column but the unhashed ones. */
const LEGACY_HASH = '71ggOhDgvKa_AHZa6k0qdL';

const loc = { integrationId: 'greenhouse:LayoutUnit', model: 'applications' } as never;
const init: ChunkWorkInit = { model: 'applications', runId: 'r', syncedAt: 0, seen: [], rowGroupRows: 10_000, prior: [] };

/** What one chunk makes of `record` against a prior entry. */
function fetchOnce(record: KomboRecord, prior: readonly PriorEntry[], layouts?: readonly HashLayout[]) {
  const core = new ChunkWorkCore({ ...init, prior, ...(layouts && { layouts }) });
  const out = core.page({ records: [record], next: null }, loc);
  return { versions: out.versions.map((v) => v[1]), rehashed: out.rehashed.map((v) => v[1]), rows: core.tableRows()[0] };
}

const current = currentLayout('applications');
const hashNow = fetchOnce(application(), []).versions[0]!;

describe('hash layouts', () => {
  it("tags the index hash with this release's layout; the legacy layout hashes as the release before layouts did", () => {
    expect(layoutIdOf(hashNow)).toBe(current.id);
    expect(layoutIdOf(LEGACY_HASH)).toBe('');
    expect(taggedHash(legacyLayout('applications'), 'x')).toBe('x');
    // A prior hash of the legacy layout is recomputed under its columns: equal, so no version, and re-hashed.
    expect(fetchOnce(application(), [['app-1', LEGACY_HASH, false]])).toEqual({ versions: [], rehashed: [hashNow], rows: 0 });
  });

  it('leaves linked copies out of the current layout, and a change of one alone stores no version', () => {
    const cols = new Map(current.tables);
    expect(cols.get('applications')).not.toContain('job_name');
    expect(cols.get('applications')).toContain('current_stage_id');
    expect(cols.get('applications')).not.toContain('current_stage_name');
    expect(new Map(legacyLayout('applications').tables).get('applications')).toContain('job_name');
    const renamed = application((r) => (r['job'] = { ...(r['job'] as object), name: 'Platform Engineer' }));
    expect(fetchOnce(renamed, [['app-1', hashNow, false]])).toEqual({ versions: [], rehashed: [], rows: 0 });
  });

  it('stores a version when a column either layout hashes changed', () => {
    const moved = application((r) => (r['outcome'] = 'HIRED'));
    expect(fetchOnce(moved, [['app-1', LEGACY_HASH, false]]).versions).toHaveLength(1);
    expect(fetchOnce(moved, [['app-1', hashNow, false]]).versions).toHaveLength(1);
    // A linked copy changed since a legacy hash: the legacy layout covers it, so this once is a version.
    const renamed = application((r) => (r['job'] = { ...(r['job'] as object), name: 'Platform Engineer' }));
    expect(fetchOnce(renamed, [['app-1', LEGACY_HASH, false]]).versions).toEqual([hashNow]);
  });

  it('compares under a stored layout from the index; a layout unknown, or with a column no longer stored, means changed', () => {
    // A later layout with one column less than this release's (as if this release had added `remote_url`).
    const earlier: HashLayout = { id: 'hEarlier0001', tables: current.tables.map(([t, cols]) => [t, cols.filter((c) => c !== 'remote_url')]) };
    const plan = planLayout(earlier, tablesForModel('applications'));
    expect(plan).toBeDefined();
    // Its hash of the same record: the core computes it when told of the layout.
    const withEarlier = new ChunkWorkCore({ ...init, prior: [['app-1', 'hEarlier0001:nothing-matches', false]], layouts: [earlier] });
    expect(withEarlier.page({ records: [application()], next: null }, loc).versions).toHaveLength(1);
    expect(fetchOnce(application(), [['app-1', 'hUnknown0000:abc', false]]).versions).toHaveLength(1);
    const gone: HashLayout = { id: 'hGone0000001', tables: [['applications', ['id', 'a_column_no_longer_stored']]] };
    expect(planLayout(gone, tablesForModel('applications'))).toBeUndefined();
    expect(fetchOnce(application(), [['app-1', 'hGone0000001:abc', false]], [gone]).versions).toHaveLength(1);
  });

  it('a record stored under an earlier layout with one column less, unchanged, is re-hashed, not versioned', () => {
    const earlier: HashLayout = { id: 'hEarlier0001', tables: current.tables.map(([t, cols]) => [t, cols.filter((c) => c !== 'remote_url')]) };
    // What that release stored: the record hashed under its layout.
    const stored = hashRecord('applications', earlier, application())!;
    expect(layoutIdOf(stored)).toBe('hEarlier0001');
    expect(hashRecord('applications', legacyLayout('applications'), application())).toBe(LEGACY_HASH);
    expect(fetchOnce(application(), [['app-1', stored, false]], [earlier])).toEqual({ versions: [], rehashed: [hashNow], rows: 0 });
    // A change of the column the earlier layout did not know is not seen this once; one it knew is.
    expect(fetchOnce(application((r) => (r['remote_url'] = 'https://example.com/a')), [['app-1', stored, false]], [earlier]).versions).toHaveLength(0);
    expect(fetchOnce(application((r) => (r['outcome'] = 'HIRED')), [['app-1', stored, false]], [earlier]).versions).toHaveLength(1);
    // Deleted since: a version whatever the layout.
    expect(fetchOnce(application((r) => (r.remote_deleted_at = '2026-02-21T00:00:00.000Z')), [['app-1', stored, false]], [earlier]).versions).toHaveLength(1);
  });
});
