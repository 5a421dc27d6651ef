import { describe, expect, it } from 'vitest';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { versionTime } from '../../shared/pipeline/versions.ts';
import { tempDirs } from '../helpers/temp.ts';
import { versionHash } from '../../shared/pipeline/chunk-work.ts';
import { WATERMARK_OVERLAP_MS, decideMode, fullSyncDay } from '../../shared/pipeline/plan.ts';
import { stateKeys } from '../../shared/state/keys.ts';
import { LOCK_STALE_MS, releaseLock, takeLock } from '../../shared/state/lock.ts';
import { commitStream, priorIndex, readStreamState, unreadIndexFiles, writeCommit, writeIndexFile } from '../../shared/state/streams.ts';
import type { StreamCommit, StreamState } from '../../shared/state/streams.ts';

const tmp = tempDirs('kombo-versions-');
const ID = 'greenhouse:AbC123';

const commit = (snapshotDate: string, mode: StreamCommit['mode'], startedAt = `${snapshotDate}T02:00:00.000Z`): StreamCommit => ({
  snapshotDate,
  runId: `run-${snapshotDate}`,
  mode,
  startedAt,
  updatedAfter: null,
  records: 0,
  versions: 0,
  deletions: 0,
  index: stateKeys.index(ID, 'applications', snapshotDate, `run-${snapshotDate}`),
});
const state = (...commits: StreamCommit[]): StreamState => ({ integrationId: ID, model: 'applications', commits });

describe('full or incremental', () => {
  it('syncs in full without an earlier sync, when asked, and when the last full sync is 7 days old', () => {
    expect(decideMode(state(), '2025-06-01', {})).toEqual({ mode: 'full', why: 'first sync' });
    // A second sync of the first day builds on the first: incremental from its start.
    expect(decideMode(state(commit('2025-06-01', 'full')), '2025-06-01', {}).mode).toBe('incremental');
    expect(decideMode(state(commit('2025-06-01', 'full')), '2025-06-02', { full: true })).toEqual({ mode: 'full', why: 'asked' });
    const week = state(commit('2025-06-01', 'full'), commit('2025-06-05', 'incremental'));
    expect(decideMode(week, '2025-06-07', {}).mode).toBe('incremental');
    expect(decideMode(week, '2025-06-08', {})).toEqual({ mode: 'full', why: 'last full sync 7 days before' });
    expect(decideMode(week, '2025-06-03', { fullEveryDays: 2 }).mode).toBe('full');
  });

  it("spreads the periodic full syncs of a fleet over the cycle, each integration on its own day, never more than a cycle apart", () => {
    const every = 7;
    const days = Array.from({ length: 60 }, (_, i) => new Date(Date.parse('2025-06-01T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10));
    const ids = Array.from({ length: 1_000 }, (_, i) => `greenhouse:Fleet${String(i).padStart(19, '0')}`);
    const fullsPerNight = days.map(() => 0);
    for (const id of ids) {
      // Every integration's first sync falls on the same night, as when a fleet is deployed.
      const commits: StreamCommit[] = [];
      const s: StreamState = { integrationId: id, model: 'applications', commits };
      const fullDays: number[] = [];
      days.forEach((date, i) => {
        const { mode } = decideMode(s, date, {});
        if (mode === 'full') {
          fullDays.push(i);
          fullsPerNight[i]!++;
        }
        commits.push(commit(date, mode));
      });
      const gaps = fullDays.slice(1).map((d, k) => d - fullDays[k]!);
      expect(Math.max(...gaps), id).toBeLessThanOrEqual(every);
      // After the first sync, every full sync is on the integration's day, a cycle after the one before.
      expect(gaps.slice(1).every((g) => g === every), `${id}: ${fullDays.join(',')}`).toBe(true);
      const day = fullSyncDay(id, every);
      expect(fullDays.slice(1).every((i) => Math.round(Date.parse(`${days[i]}T00:00:00Z`) / 86_400_000) % every === day)).toBe(true);
    }
    expect(fullsPerNight[0]).toBe(ids.length);
    // From the second week on, each night syncs about a seventh of the fleet in full, never all of it.
    const later = fullsPerNight.slice(every);
    expect(Math.max(...later)).toBeLessThan((1.3 * ids.length) / every);
    expect(Math.min(...later)).toBeGreaterThan((0.7 * ids.length) / every);
  });

  it('starts an incremental sync at the start of the last sync before the date, less the overlap', () => {
    const s = state(commit('2025-06-01', 'full', '2025-06-01T23:59:59.000Z'), commit('2025-06-02', 'incremental', '2025-06-02T23:59:59.000Z'));
    expect(decideMode(s, '2025-06-03', {})).toEqual({ mode: 'incremental', updatedAfter: new Date(Date.parse('2025-06-02T23:59:59.000Z') - WATERMARK_OVERLAP_MS).toISOString() });
    // Another sync of 06-02 starts from the latest commit, of the same date.
    expect(decideMode(s, '2025-06-02', {}).updatedAfter).toBe('2025-06-02T23:44:59.000Z');
  });

  it("syncs in full once on the integration's day of the cycle: a later sync of that day is incremental", () => {
    const every = 7;
    const day = Array.from({ length: 7 }, (_, i) => new Date(Date.parse('2025-06-02T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10)).find((d) => Math.round(Date.parse(`${d}T00:00:00Z`) / 86_400_000) % every === fullSyncDay(ID, every))!;
    const first = commit('2025-06-01', 'full', '2025-06-01T02:00:00.000Z');
    expect(decideMode(state(first), day, {}).mode).toBe('full');
    const morning = commit(day, 'full', `${day}T02:00:00.000Z`);
    expect(decideMode(state(first, morning), day, {})).toEqual({ mode: 'incremental', updatedAfter: new Date(Date.parse(`${day}T02:00:00.000Z`) - WATERMARK_OVERLAP_MS).toISOString() });
  });
});

describe('the index of what is stored before a date', () => {
  it('folds the latest full sync before the date with the incremental ones after it', async () => {
    const store = new FolderStore(tmp());
    const c1 = commit('2025-06-01', 'full');
    const c2 = commit('2025-06-02', 'incremental');
    const c3 = commit('2025-06-03', 'full');
    const c4 = commit('2025-06-04', 'incremental');
    await writeIndexFile(store, c1.index, [['a', { h: 'a1', d: false, v: '2025-06-01' }], ['b', { h: 'b1', d: false, v: '2025-06-01' }]]);
    await writeIndexFile(store, c2.index, [['a', { h: 'a2', d: false, v: '2025-06-02' }], ['c', { h: 'c1', d: false, v: '2025-06-02' }]]);
    await writeIndexFile(store, c3.index, [['a', { h: 'a2', d: false, v: '2025-06-02' }], ['b', { h: 'b1', d: true, v: '2025-06-03' }], ['c', { h: 'c1', d: false, v: '2025-06-02' }]]);
    await writeIndexFile(store, c4.index, [['c', { h: 'c2', d: false, v: '2025-06-04' }]]);
    const s = state(c1, c2, c3, c4);
    expect(Object.fromEntries(await priorIndex(store, s, '2025-06-03'))).toEqual({
      a: { h: 'a2', d: false, v: '2025-06-02' },
      b: { h: 'b1', d: false, v: '2025-06-01' },
      c: { h: 'c1', d: false, v: '2025-06-02' },
    });
    expect(Object.fromEntries(await priorIndex(store, s, '2025-06-05'))).toEqual({
      a: { h: 'a2', d: false, v: '2025-06-02' },
      b: { h: 'b1', d: true, v: '2025-06-03' },
      c: { h: 'c2', d: false, v: '2025-06-04' },
    });
    expect((await priorIndex(store, s, '2025-06-01')).size).toBe(0);
  });

  it('a commit adds to the ones of its date, replaces its own run\'s, and keeps them in date and start order', async () => {
    const store = new FolderStore(tmp());
    let s = await writeCommit(store, state(), commit('2025-06-02', 'full'));
    s = await writeCommit(store, s, commit('2025-06-01', 'full'));
    s = await writeCommit(store, s, { ...commit('2025-06-02', 'incremental', '2025-06-02T09:00:00.000Z'), runId: 'again' });
    s = await writeCommit(store, s, { ...commit('2025-06-02', 'incremental', '2025-06-02T05:00:00.000Z'), runId: 'between' });
    // A retry of a run (or its finish done again) replaces its own commit.
    s = await writeCommit(store, s, { ...commit('2025-06-02', 'incremental', '2025-06-02T09:00:00.000Z'), runId: 'again', versions: 3 });
    expect(s.commits.map((c) => `${c.snapshotDate}:${c.runId}`)).toEqual(['2025-06-01:run-2025-06-01', '2025-06-02:run-2025-06-02', '2025-06-02:between', '2025-06-02:again']);
    expect(s.commits.at(-1)!.versions).toBe(3);
    expect(await readStreamState(store, { integrationId: ID, model: 'applications' })).toEqual(s);
  });
});

describe('several syncs of a date', () => {
  it("the index a sync builds on holds the date's commits by other runs, never its own", async () => {
    const store = new FolderStore(tmp());
    const c1 = commit('2025-06-01', 'full');
    const c2 = { ...commit('2025-06-02', 'incremental', '2025-06-02T08:00:00.000Z'), runId: 'morning', index: stateKeys.index(ID, 'applications', '2025-06-02', 'morning') };
    const c3 = { ...commit('2025-06-02', 'incremental', '2025-06-02T14:00:00.000Z'), runId: 'afternoon', index: stateKeys.index(ID, 'applications', '2025-06-02', 'afternoon') };
    await writeIndexFile(store, c1.index, [['a', { h: 'a1', d: false, v: '2025-06-01' }], ['b', { h: 'b1', d: false, v: '2025-06-01' }]]);
    await writeIndexFile(store, c2.index, [['a', { h: 'a2', d: false, v: '2025-06-02' }]]);
    await writeIndexFile(store, c3.index, [['a', { h: 'a3', d: false, v: '2025-06-02' }], ['b', { h: 'b2', d: false, v: '2025-06-02' }]]);
    const s = state(c1, c2, c3);
    const hashes = async (runId: string) => Object.fromEntries([...(await priorIndex(store, s, '2025-06-02', { runId }))].map(([id, e]) => [id, e.h]));
    expect(await hashes('evening')).toEqual({ a: 'a3', b: 'b2' });
    // The afternoon run done again builds on the morning's commit, not on itself.
    expect(await hashes('afternoon')).toEqual({ a: 'a2', b: 'b1' });
    expect(Object.fromEntries([...(await priorIndex(store, s, '2025-06-02'))].map(([id, e]) => [id, e.h]))).toEqual({ a: 'a1', b: 'b1' });
  });

  it('commits keep every index file a sync of the latest commit\'s run or a new run reads, with several commits a day', async () => {
    const store = new FolderStore(tmp());
    const plan: [string, string, StreamCommit['mode']][] = [
      ['2025-06-01', '02', 'full'], ['2025-06-01', '12', 'incremental'],
      ['2025-06-02', '02', 'full'], ['2025-06-02', '12', 'incremental'], ['2025-06-02', '18', 'full'], ['2025-06-02', '20', 'incremental'],
    ];
    let s = state();
    for (const [date, hour, mode] of plan) {
      const runId = `r${date.slice(-2)}h${hour}`;
      const c: StreamCommit = { ...commit(date, mode, `${date}T${hour}:00:00.000Z`), runId, index: stateKeys.index(ID, 'applications', date, runId) };
      await writeIndexFile(store, c.index, [[runId, { h: runId, d: false, v: date }]]);
      await commitStream(store, s, c);
      s = await readStreamState(store, { integrationId: ID, model: 'applications' });
      // A new run and the latest commit's run done again both find every file they fold.
      await priorIndex(store, s, date, { runId: 'new-run' });
      await priorIndex(store, s, date, { runId });
    }
    const left = (await store.list('_state/')).filter((k) => k.includes('/index/')).map((k) => k.replace(/^.*\/index\/\d{4}-\d\d-\d\d-(.*)\.json\.gz$/, '$1')).sort();
    // 06-02 18h is full and not the latest: nothing before it is read again.
    expect(left).toEqual(['r02h18', 'r02h20']);
    expect(s.commits).toHaveLength(6);
  });
});

describe('index files kept', () => {
  it('commits delete the index files no sync of a later date, nor a re-run of the latest, reads again', async () => {
    const store = new FolderStore(tmp());
    const days = ['01', '02', '03', '04', '05', '06', '07', '08'].map((d) => `2025-06-${d}`);
    const modes: StreamCommit['mode'][] = ['full', 'incremental', 'full', 'incremental', 'incremental', 'full', 'incremental', 'incremental'];
    let s = state();
    const kept: string[][] = [];
    for (const [i, date] of days.entries()) {
      const c = commit(date, modes[i]!);
      await writeIndexFile(store, c.index, [[`r${i}`, { h: `h${i}`, d: false, v: date }]]);
      await commitStream(store, s, c);
      s = await readStreamState(store, { integrationId: ID, model: 'applications' });
      kept.push((await store.list(`_state/`)).filter((k) => k.includes('/index/')).map((k) => k.replace(/^.*\/index\/(\d{4}-\d\d-(\d\d)).*$/, '$2')));
      // Whatever was deleted, a re-run of the latest date and a sync of the next day still find their index.
      await priorIndex(store, s, date);
      await priorIndex(store, s, '2025-06-09');
    }
    expect(s.commits).toHaveLength(8);
    expect(kept).toEqual([
      ['01'],
      ['01', '02'],
      ['01', '02', '03'],
      // 06-03 is full and no longer the latest: nothing before it is read again.
      ['03', '04'],
      ['03', '04', '05'],
      ['03', '04', '05', '06'],
      ['06', '07'],
      ['06', '07', '08'],
    ]);
    expect(unreadIndexFiles(s)).toEqual(s.commits.slice(0, 5).map((c) => c.index));
  });
});

describe('the stream lock', () => {
  const lock = (runId: string, lockedAt = '2025-06-02T02:00:00.000Z') => ({ runId, snapshotDate: '2025-06-02', lockedAt });

  it('one run at a time: the holder again, then another only once the holder is over or stale', async () => {
    const store = new FolderStore(tmp());
    const never = async () => false;
    expect(await takeLock(store, { integrationId: ID, model: 'applications' }, lock('r1'), never)).toEqual({ taken: true });
    expect(await takeLock(store, { integrationId: ID, model: 'applications' }, lock('r1'), never)).toEqual({ taken: true });
    expect(await takeLock(store, { integrationId: ID, model: 'applications' }, lock('r2'), never)).toEqual({ taken: false, holder: lock('r1') });
    expect(await takeLock(store, { integrationId: ID, model: 'applications' }, lock('r2'), async (h) => h.runId === 'r1')).toEqual({ taken: true });
    const later = new Date(Date.parse('2025-06-02T02:00:00.000Z') + LOCK_STALE_MS + 1).toISOString();
    expect(await takeLock(store, { integrationId: ID, model: 'applications' }, lock('r3', later), never)).toEqual({ taken: true });
    await releaseLock(store, { integrationId: ID, model: 'applications' }, 'r2');
    expect(await store.get(stateKeys.lock(ID, 'applications'))).toBeDefined();
    await releaseLock(store, { integrationId: ID, model: 'applications' }, 'r3');
    expect(await store.get(stateKeys.lock(ID, 'applications'))).toBeUndefined();
  });
});

describe('versions', () => {
  it('hash the stored cells: equal cells hash alike, any change (order of child rows included) does not', () => {
    const rows = [[0, 'a', 1, null], [1, 'x@example.com', 0]];
    expect(versionHash(rows)).toBe(versionHash(rows.map((r) => [...r])));
    expect(versionHash([[0, 'a', 1, null], [1, 'y@example.com', 0]])).not.toBe(versionHash(rows));
    expect(versionHash([rows[1]!, rows[0]!])).not.toBe(versionHash(rows));
    expect(versionHash([[0, 'a', 1, 'null']])).not.toBe(versionHash([[0, 'a', 1, null]]));
  });

  it('are valid from the start of their fetch, never before their snapshot date', () => {
    expect(versionTime({ startedAt: '2025-06-02T02:00:00.000Z' }, '2025-06-02')).toBe(Date.parse('2025-06-02T02:00:00.000Z'));
    expect(versionTime({ startedAt: '2025-06-01T23:59:00.000Z' }, '2025-06-02')).toBe(Date.parse('2025-06-02T00:00:00.000Z'));
    // A backfill of an earlier date stores today's records: they are dated when fetched.
    expect(versionTime({ startedAt: '2026-11-30T10:00:00.000Z' }, '2025-06-02')).toBe(Date.parse('2026-11-30T10:00:00.000Z'));
    // A retried stream: when the retry fetched it.
    expect(versionTime({ startedAt: '2025-06-02T02:00:00.000Z', fetchedAt: '2025-06-05T09:00:00.000Z' }, '2025-06-02')).toBe(Date.parse('2025-06-05T09:00:00.000Z'));
  });
});
