/**
 * The fault matrix of change capture: several simulated days of the sandbox (its timeline, with a
 * few edits of our own laid over it), synced full and incrementally by the real plan / chunk /
 * finish steps, with crashes at every step boundary (redelivered as SQS would, or lost and then
 * `retry`-ed), redeliveries after a stream completed, records Kombo returns twice or with an old
 * `changed_at`, missed days, and two runs of one integration at once. After each case DuckDB reads
 * back every visible version and compares it, record by record, with the source's true history: the
 * distinct states each record had at each synced day (the hashed columns). 0 versions lost, 0 doubled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxIntegrationData, SandboxTimeline } from '../../sandbox/index.ts';
import { asOfInstant, consecutiveDays, createSandboxTimeline, startSandbox, updatedSince } from '../../sandbox/index.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import type { ModelName } from '../../shared/tables.ts';
import { MODELS } from '../../shared/tables.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { cycleWithoutFullDays } from '../helpers/full-cycle.ts';
import { duck } from '../helpers/duckdb.ts';
import type { Adapters, Emulator, RunCase, SourceEdit, StoredVersions, TimelineSource, VersionComparison } from './harness.ts';
import {
  FifoMemoryQueue,
  SourceHistory,
  VersionTally,
  awsAdapters,
  checkRunState,
  compareVersions,
  drainCase,
  localAdapters,
  readReport,
  retryCase,
  runCase,
  startEmulator,
  storedVersions,
  testClient,
  timelineSource,
} from './harness.ts';
import { FAULT_POINTS } from '../../shared/pipeline/faults.ts';
import type { FaultPoint } from '../../shared/pipeline/faults.ts';
import { markRunInterrupted, readPlan } from '../../shared/state/runs.ts';
import type { RunReport } from '../../shared/state/runs.ts';

type Rec = Record<string, unknown>;

const A = 'greenhouse:RelChangeCaptureA0000000';
const B = 'lever:RelChangeCaptureB0000000';
const INTEGRATIONS = [A, B] as const;
/** Six consecutive days of the simulated company: hires, stage moves, new applications and deletions happen on them. */
const [D1, D2, D3, D4, D5, D6] = consecutiveDays('2025-06-02', 6) as [string, string, string, string, string, string];
/** A full-sync cycle on which none of the days is an integration's own: only the first and the asked syncs are full. */
const CYCLE = cycleWithoutFullDays(INTEGRATIONS, [D1, D2, D3, D4, D5, D6]);

let timeline: SandboxTimeline;
let sandbox: RunningSandbox;
let source: TimelineSource;
let emulator: Emulator | undefined;
let db: Reader;
const tally = new VersionTally();

beforeAll(async () => {
  timeline = createSandboxTimeline({
    seed: 12,
    integrations: [
      { id: A, tool: 'greenhouse', candidates: 70 },
      { id: B, tool: 'lever', candidates: 25 },
    ],
  });
  sandbox = await startSandbox({ port: 0, timeline, asOf: D1 });
  source = timelineSource(sandbox);
  db = await duck();
});
afterAll(async () => {
  console.log(tally.line('change capture fault matrix'));
  db?.close();
  await sandbox?.close();
  await emulator?.close();
});

// ---------------------------------------------------------------------------------------------
// The test's own edits of the company, on top of the timeline's: a root column, a child table only,
// a deletion Kombo flags, and records that vanish outright (only a full sync can tell).

const instant = (date: string, time: string) => `${date}T${time}Z`;
let firstDay: SandboxIntegrationData | undefined;
/** Integration A as of D1: where the edited records are picked. */
const firstDayOfA = (): SandboxIntegrationData => (firstDay ??= timeline.datasetAsOf(D1).integrations.find((i) => i.id === A)!);
/** Candidates of A with at least one application and one email address, sorted by id: the records the edits touch. */
function pickCandidates(n: number): string[] {
  const data = firstDayOfA();
  const picked = data.candidates
    .filter((c) => c['remote_deleted_at'] === null && (c['applications'] as unknown[]).length > 0 && (c['email_addresses'] as unknown[]).length > 0)
    .map((c) => c['id'] as string)
    .sort();
  if (picked.length < n) throw new Error(`only ${picked.length} candidates to edit`);
  return picked.slice(0, n);
}
function pickApplications(n: number): string[] {
  const data = firstDayOfA();
  return data.applications
    .filter((a) => a['remote_deleted_at'] === null)
    .map((a) => a['id'] as string)
    .sort()
    .slice(0, n);
}

/** Set fields and move `changed_at` / `remote_updated_at` to `at`: a change `updated_after` finds. */
const change =
  (at: string, fields: (r: Rec) => Rec) =>
  (r: Rec): Rec => ({ ...r, ...fields(r), changed_at: at, remote_updated_at: at });

/** The edits the multi-day cases run with: a change most days, and two vanishings for the full syncs to find. */
function dailyEdits(): SourceEdit[] {
  const [c1, c2, c3, c4, c5, c6] = pickCandidates(6) as [string, string, string, string, string, string];
  const [a1] = pickApplications(1) as [string];
  return [
    edit(D2, 'candidates', c1, change(instant(D2, '10:00:00.000'), () => ({ title: 'Head of Reliability' }))),
    // Only a child table changes: the candidate's own row stays as it was.
    edit(D2, 'candidates', c2, change(instant(D2, '11:00:00.000'), (r) => ({ email_addresses: [{ email_address: 'moved@example.com', type: 'PRIVATE' }, ...(r['email_addresses'] as Rec[]).slice(1)] }))),
    edit(D3, 'candidates', c3, change(instant(D3, '09:00:00.000'), () => ({ remote_deleted_at: instant(D3, '09:00:00.000') }))),
    edit(D4, 'candidates', c4, () => undefined),
    edit(D4, 'applications', a1, () => undefined),
    edit(D5, 'candidates', c5, change(instant(D5, '08:00:00.000'), () => ({ company: 'Acme Reliability' }))),
    edit(D5, 'candidates', c6, () => undefined),
  ];
}

/** An edit of a record of integration A. */
function edit(from: string, model: SourceEdit['model'], id: string, apply: SourceEdit['apply']): SourceEdit {
  return { from, integrationId: A, model, id, apply };
}

// ---------------------------------------------------------------------------------------------
// Driving a case, day by day

interface Day {
  readonly date: string;
  /** The mode the planner must choose: the history's expectation of which deletions can be seen. */
  readonly mode: 'full' | 'incremental';
  /** Ask for a full sync (`sync --full`). */
  readonly full?: boolean;
  readonly crash?: RunCase['crash'];
  readonly onCrash?: RunCase['onCrash'];
}

interface CaseRun {
  readonly adapters: Adapters;
  readonly history: SourceHistory;
  readonly edits: readonly SourceEdit[];
  faults: number;
  runs: number;
  /** Runs left unfinished by a lost message, then completed by `retry`. */
  retried: number;
}

/** The models most cases run: both have child tables, and their full syncs run to several chunks. */
const TWO_MODELS: readonly ModelName[] = ['candidates', 'applications'];

function startCase(a: Adapters, edits: readonly SourceEdit[], models: readonly ModelName[] = TWO_MODELS): CaseRun {
  return { adapters: a, history: new SourceHistory(INTEGRATIONS, models), edits, faults: 0, runs: 0, retried: 0 };
}

const newRunId = (c: CaseRun, date: string) => `cc-${date.replaceAll('-', '')}-${++c.runs}`;

function runOf(c: CaseRun, date: string, runId: string, extra: Partial<RunCase> = {}): RunCase {
  return { sandbox, adapters: c.adapters, runId, snapshotDate: date, integrationIds: INTEGRATIONS, models: c.history.models, fullEveryDays: CYCLE, ...extra };
}

/**
 * Sync one day: move the source there, run (crashing as told), and when crashed messages were lost
 * mark the run interrupted and `retry` it, as `kombo-etl retry` does. Returns the final report and
 * the crashes injected.
 */
async function syncDay(c: CaseRun, day: Day, runId = newRunId(c, day.date)): Promise<{ report: RunReport; crashes: number }> {
  source.moveTo(day.date, c.edits);
  const rc = runOf(c, day.date, runId, {
    ...(day.full !== undefined && { full: day.full }),
    ...(day.crash && { crash: day.crash }),
    ...(day.onCrash && { onCrash: day.onCrash }),
  });
  const { crashes } = await drainCase(rc);
  c.faults += crashes;
  let report = await readReport(c.adapters.store, runId);
  if (!report) {
    expect(day.onCrash, `run ${runId} did not complete`).toBe('lose');
    expect(await markRunInterrupted(c.adapters.store, runId, 'SIGTERM')).toBe(true);
    // SQS gives up on a message only after its receives have taken longer than the FIFO
    // deduplication window (5 minutes): the retry's sends are never taken for duplicates of it.
    report = (await retryCase(runOf(c, day.date, runId, { adapters: { ...c.adapters, queue: new FifoMemoryQueue() } }))).report;
    c.retried++;
  }
  expect(report.status, JSON.stringify(report.streams.filter((s) => s.status !== 'done'))).toBe('succeeded');
  c.history.observe(sandbox.dataset, day.date, day.mode);
  return { report, crashes };
}

/** Compare the warehouse with the history: 0 lost, 0 doubled, 0 wrong, and (unless told not to) the run state agrees. */
async function expectHistory(c: CaseRun, runState = true): Promise<{ cmp: VersionComparison; stored: StoredVersions }> {
  const stored = await storedVersions(db, c.adapters, INTEGRATIONS, c.history.models);
  const cmp = compareVersions(c.history, stored);
  tally.add(cmp, c.faults, c.history.synced().length);
  expect(cmp.problems).toEqual([]);
  expect({ lost: cmp.lost, doubled: cmp.doubled, wrong: cmp.wrong }).toEqual({ lost: 0, doubled: 0, wrong: 0 });
  if (runState) expect(await checkRunState(db, c.adapters, c.history, stored)).toEqual([]);
  return { cmp, stored };
}

/** The dates and deletion flags of a record's stored versions. */
const versionsOf = (stored: StoredVersions, model: ModelName, id: string, integrationId: string = A): string[] =>
  (stored.versions.get(`${integrationId}/${model}`)?.get(id) ?? []).map((v) => `${v.date}${v.deleted ? ' deleted' : ''}`);

/** Crash once at each of `points` of every chunk (and finish) that reaches it, counting crashes per point in `counts`. */
function crashOnceAt(points: readonly FaultPoint[], counts: Map<FaultPoint, number> = new Map()): RunCase['crash'] {
  const crashed = new Set<string>();
  return (point, msg) => {
    if (!points.includes(point)) return false;
    const k = `${msg.integrationId}/${msg.model}/${msg.chunk}/${point}`;
    if (crashed.has(k)) return false;
    crashed.add(k);
    counts.set(point, (counts.get(point) ?? 0) + 1);
    return true;
  };
}

/** The source's clock when the sync of `date` starts: the sandbox's end of day, to the second of its `Date` header. */
const syncStart = (date: string): number => Math.floor(asOfInstant(date) / 1000) * 1000;

/** `updated_after` the plan of `runId` gave a stream. */
async function updatedAfterOf(c: CaseRun, runId: string, model: ModelName, integrationId: string = A): Promise<string | undefined> {
  const plan = await readPlan(c.adapters.store, runId);
  return plan?.streams.find((s) => s.integrationId === integrationId && s.model === model)?.sync?.updatedAfter;
}

// ---------------------------------------------------------------------------------------------
// Crashes at every step boundary, over six days

/**
 * Six days: the first full sync, incrementals, an asked-for full sync finding records gone (and
 * another one finding the next), each crashing at the boundary once per chunk, the crashed message
 * redelivered or lost and the run retried; then a clean incremental.
 */
function crashWeek(crash: () => RunCase['crash']): Day[] {
  return [
    { date: D1, mode: 'full', crash: crash() },
    { date: D2, mode: 'incremental', crash: crash() },
    { date: D3, mode: 'incremental', crash: crash(), onCrash: 'lose' },
    { date: D4, mode: 'full', full: true, crash: crash(), onCrash: 'lose' },
    { date: D5, mode: 'full', full: true, crash: crash() },
    { date: D6, mode: 'incremental' },
  ];
}

/**
 * Four days on the AWS adapters, crashed messages redelivered only: fauxqs keeps FIFO
 * deduplication ids for 5 real minutes, so a retry right after a lost message would be dropped
 * (SQS gives up on a message only after its receives took longer than that).
 */
function awsDays(crash: () => RunCase['crash']): Day[] {
  return [
    { date: D1, mode: 'full', crash: crash() },
    { date: D2, mode: 'incremental', crash: crash() },
    { date: D4, mode: 'full', full: true, crash: crash() },
    { date: D5, mode: 'incremental' },
  ];
}

/** Boundaries every stream passes, whatever it fetched: the others need several chunks, several tables, or a change. */
const EVERY_STREAM: ReadonlySet<FaultPoint> = new Set(['after-fetch', 'after-all-tables', 'after-versions', 'after-partitions', 'after-commit', 'after-stream-marker', 'after-finish']);

/** Run the days, crashing at `points`; check each boundary was crashed at and the history is exact. Returns what is stored. */
async function crashDays(c: CaseRun, points: readonly FaultPoint[], days: (crash: () => RunCase['crash']) => Day[], runState = true): Promise<StoredVersions> {
  const counts = new Map<FaultPoint, number>();
  for (const day of days(() => crashOnceAt(points, counts))) {
    const { crashes } = await syncDay(c, day);
    if (day.crash && points.some((p) => EVERY_STREAM.has(p))) expect(crashes, `crashes on ${day.date}`).toBeGreaterThanOrEqual(INTEGRATIONS.length * c.history.models.length);
  }
  // Every boundary was met, and crashed at, on some day. Except after-finish once after-stream-marker
  // crashed: the redelivered message finds the stream ended and does nothing.
  for (const p of points) if (!(p === 'after-finish' && points.includes('after-stream-marker'))) expect(counts.get(p) ?? 0, `crashes at ${p}`).toBeGreaterThan(0);
  // A lost message leaves its run unfinished, unless it was lost after its continuation was sent or
  // after the run completed: each day that loses one is then finished by `retry`.
  const losing = days(() => undefined).filter((d) => d.onCrash === 'lose').length;
  if (points.some((p) => EVERY_STREAM.has(p) && p !== 'after-finish')) expect(c.retried).toBe(losing);
  return (await expectHistory(c, runState)).stored;
}

/** The records that vanished from the source are flagged by the first full sync after, not before. */
function expectVanished(stored: StoredVersions, dates: { c4: string; a1?: string; c6?: string }): void {
  const [, , , c4, , c6] = pickCandidates(6);
  expect(versionsOf(stored, 'candidates', c4!)).toEqual([D1, `${dates.c4} deleted`]);
  if (dates.a1) expect(versionsOf(stored, 'applications', pickApplications(1)[0]!)).toEqual([D1, `${dates.a1} deleted`]);
  if (dates.c6) expect(versionsOf(stored, 'candidates', c6!)).toEqual([D1, `${dates.c6} deleted`]);
}

describe('crash at a step boundary, then redelivery or retry, then the next days', () => {
  it.each(FAULT_POINTS)('crash at %s (local adapters)', async (point) => {
    const stored = await crashDays(startCase(localAdapters(), dailyEdits()), [point], crashWeek);
    expectVanished(stored, { c4: D4, a1: D4, c6: D5 });
  });

  it('crash at every boundary, all nine models (local adapters)', async () => {
    const stored = await crashDays(startCase(localAdapters(), dailyEdits(), MODELS), FAULT_POINTS, crashWeek);
    expectVanished(stored, { c4: D4, a1: D4, c6: D5 });
  });

});

describe('crash at every boundary on S3 + SQS FIFO (fauxqs) and a mocked Glue', () => {
  let c: CaseRun;
  let stored: StoredVersions;

  it('loses no version and doubles none', async () => {
    emulator ??= await startEmulator();
    // The edits up to D4 only: no record vanishes before an incremental day here (see below).
    c = startCase(await awsAdapters(emulator), dailyEdits().filter((e) => e.from < D5), ['candidates']);
    stored = await crashDays(c, FAULT_POINTS, awsDays, false);
    expectVanished(stored, { c4: D4 });
  });

  it('commits each day in its planned mode, with the source clock as watermark', async () => {
    const problems = await checkRunState(db, c.adapters, c.history, stored);
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// At-least-once delivery after the stream completed

describe('redelivery of messages after their streams completed', () => {
  it('does nothing, however late', async () => {
    const a = localAdapters();
    const queue = a.queue as FifoMemoryQueue;
    const c = startCase(a, dailyEdits());
    const redeliverAll = async (date: string) => {
      const messages = [...queue.sent];
      for (const m of messages) queue.redeliver(m);
      const { results } = await drainCase(runOf(c, date, 'unused', { noPlan: true }));
      expect(results).toHaveLength(messages.length);
      expect(results.every((r) => r.outcome === 'redelivered')).toBe(true);
      c.faults += messages.length;
    };
    await syncDay(c, { date: D1, mode: 'full' });
    await syncDay(c, { date: D2, mode: 'incremental' });
    await redeliverAll(D2);
    await syncDay(c, { date: D3, mode: 'incremental' });
    await redeliverAll(D3);
    await syncDay(c, { date: D4, mode: 'full', full: true });
    await redeliverAll(D4);
    await syncDay(c, { date: D5, mode: 'incremental' });
    await expectHistory(c);
  });
});

describe('a lost message delivered again while `retry` resumes its stream (a dead-letter queue redriven meanwhile)', () => {
  let c: CaseRun;
  let cmp: VersionComparison;

  it('the run completes', async () => {
    const a = localAdapters();
    c = startCase(a, [], ['candidates']);
    const runId = 'cc-redrive-d1';
    source.moveTo(D1, c.edits);
    let lost = false;
    // The second chunk of A's stream dies after fetching and its message is lost.
    await drainCase(runOf(c, D1, runId, { onCrash: 'lose', crash: (p, m) => (lost ? false : (lost = p === 'after-fetch' && m.integrationId === A && m.chunk === 1)) }));
    expect(lost).toBe(true);
    const lostMessage = (a.queue as FifoMemoryQueue).sent.find((m) => m.integrationId === A && m.chunk === 1)!;
    expect(await markRunInterrupted(a.store, runId, 'SIGTERM')).toBe(true);
    // `retry` resumes the stream from its first page; the lost message comes back during its first chunk.
    const retryQueue = new FifoMemoryQueue();
    let redriven = false;
    const { report } = await retryCase(
      runOf(c, D1, runId, {
        adapters: { ...a, queue: retryQueue },
        faultPoint: (p, m) => {
          if (redriven || p !== 'after-fetch' || m.integrationId !== A) return;
          redriven = true;
          retryQueue.redeliver(lostMessage);
        },
      }),
    );
    expect(redriven).toBe(true);
    expect(report.status).toBe('succeeded');
    c.history.observe(sandbox.dataset, D1, 'full');
    cmp = compareVersions(c.history, await storedVersions(db, c.adapters, INTEGRATIONS, c.history.models));
  });

  it('loses no version', () => {
    console.log(`[reliability] lost message redelivered during retry: ${cmp.lost} lost, ${cmp.doubled} doubled, ${cmp.wrong} wrong`);
    expect(cmp.problems).toEqual([]);
    expect({ lost: cmp.lost, doubled: cmp.doubled, wrong: cmp.wrong }).toEqual({ lost: 0, doubled: 0, wrong: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// What Kombo returns

describe('records Kombo returns again', () => {
  it('a record changed within the overlap before the previous sync started is returned twice and stored once', async () => {
    const [co] = pickCandidates(1) as [string];
    // 5 minutes before the sync of D1 starts: in D1's snapshot, and after D2's updated_after (D1's start less 15 minutes).
    const at = new Date(syncStart(D1) - 5 * 60_000).toISOString();
    const c = startCase(localAdapters(), [edit(D1, 'candidates', co, change(at, () => ({ title: 'Changed just before the sync' })))], ['candidates']);
    await syncDay(c, { date: D1, mode: 'full' });
    const day2 = await syncDay(c, { date: D2, mode: 'incremental' });
    await syncDay(c, { date: D3, mode: 'incremental' });
    // It was returned again on D2, unchanged.
    const after = await updatedAfterOf(c, day2.report.runId, 'candidates');
    const record = sandbox.dataset.integrations.find((i) => i.id === A)!.candidates.find((r) => r['id'] === co)!;
    expect(Date.parse(after!)).toBe(syncStart(D1) - 15 * 60_000);
    expect(updatedSince('candidates', record, Date.parse(after!))).toBe(true);
    expect(day2.report.streams.find((s) => s.integrationId === A)!.totals.unchanged).toBeGreaterThan(0);
    const { stored } = await expectHistory(c);
    expect(versionsOf(stored, 'candidates', co)).toEqual([D1]);
  });

  it('a record whose changed_at is older than the watermark: unchanged adds nothing, changed is stored', async () => {
    const [cu, cc] = pickCandidates(2) as [string, string];
    // Kombo's updated_after also matches a change of nested data (here a candidate's application):
    // the candidate comes back with its own changed_at and remote_updated_at as they were.
    const nestedChange = (r: Rec): Rec => ({ ...r, applications: (r['applications'] as Rec[]).map((app, i) => (i === 0 ? { ...app, changed_at: instant(D2, '12:00:00.000') } : app)) });
    const c = startCase(
      localAdapters(),
      [edit(D2, 'candidates', cu, nestedChange), edit(D2, 'candidates', cc, (r) => ({ ...nestedChange(r), title: 'Changed without a new changed_at' }))],
      ['candidates'],
    );
    await syncDay(c, { date: D1, mode: 'full' });
    const day2 = await syncDay(c, { date: D2, mode: 'incremental' });
    await syncDay(c, { date: D3, mode: 'incremental' });
    const since = Date.parse((await updatedAfterOf(c, day2.report.runId, 'candidates'))!);
    source.moveTo(D2, c.edits);
    for (const id of [cu, cc]) {
      const record = sandbox.dataset.integrations.find((i) => i.id === A)!.candidates.find((r) => r['id'] === id)!;
      expect(Date.parse(record['changed_at'] as string)).toBeLessThan(since);
      expect(Date.parse(record['remote_updated_at'] as string)).toBeLessThan(since);
      expect(updatedSince('candidates', record, since)).toBe(true);
    }
    const { stored } = await expectHistory(c);
    expect(versionsOf(stored, 'candidates', cu)).toEqual([D1]);
    expect(versionsOf(stored, 'candidates', cc)).toEqual([D1, D2]);
  });
});

// ---------------------------------------------------------------------------------------------
// Missed days

describe('a full sync after missed incrementals', () => {
  it('loses nothing, doubles nothing and finds the deletions', async () => {
    const [, , c3, c4, , , c7] = pickCandidates(7) as string[];
    // Changed on a missed day and changed back before the next sync: no version.
    const backAndForth = edit(D3, 'candidates', c7!, (r, date) => (date === D3 ? change(instant(D3, '10:00:00.000'), () => ({ title: 'For one day only' }))(r) : { ...r, changed_at: instant(D4, '10:00:00.000') }));
    const c = startCase(localAdapters(), [...dailyEdits(), backAndForth]);
    await syncDay(c, { date: D1, mode: 'full' });
    const day2 = await syncDay(c, { date: D2, mode: 'incremental' });
    // D3 and D4 are never synced: D5 is incremental from D2's watermark, then D6 is a full sync.
    const day5 = await syncDay(c, { date: D5, mode: 'incremental' });
    expect(await updatedAfterOf(c, day5.report.runId, 'candidates')).toBe(new Date(syncStart(D2) - 15 * 60_000).toISOString());
    expect(day2.report.runId).not.toBe(day5.report.runId);
    await syncDay(c, { date: D6, mode: 'full', full: true });
    const { stored } = await expectHistory(c);
    expect(versionsOf(stored, 'candidates', c3!)).toEqual([D1, `${D5} deleted`]);
    expect(versionsOf(stored, 'candidates', c4!)).toEqual([D1, `${D6} deleted`]);
    expect(versionsOf(stored, 'applications', pickApplications(1)[0]!)).toEqual([D1, `${D6} deleted`]);
    expect(versionsOf(stored, 'candidates', c7!)).toEqual([D1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Two runs of one integration at once

describe('two runs of one integration at once', () => {
  /**
   * Run `holder` until every stream reaches `point` of its first chunk (its lock taken), run
   * `other` meanwhile on its own queue over the same warehouse, then let `holder` finish.
   */
  async function overlapping(c: CaseRun, date: string, point: FaultPoint, holder: string, other: string): Promise<RunReport> {
    source.moveTo(date, c.edits);
    const streams = INTEGRATIONS.length * c.history.models.length;
    const held = new Set<string>();
    let allHeld!: () => void;
    const holding = new Promise<void>((r) => (allHeld = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = drainCase(
      runOf(c, date, holder, {
        faultPoint: async (p, msg) => {
          const k = `${msg.integrationId}/${msg.model}`;
          if (p !== point || held.has(k)) return;
          held.add(k);
          if (held.size === streams) allHeld();
          await gate;
        },
      }),
    );
    await holding;
    const refused = await runCase(runOf(c, date, other, { adapters: { ...c.adapters, queue: new FifoMemoryQueue() } }));
    c.faults += streams;
    release();
    await first;
    expect((await readReport(c.adapters.store, holder))?.status).toBe('succeeded');
    return refused.report;
  }

  it('the second is refused with STREAM.BUSY, retried once the first is done, and nothing is corrupted', async () => {
    const c = startCase(localAdapters(), dailyEdits());
    await syncDay(c, { date: D1, mode: 'full' });

    // D2: the second run starts while the first holds every stream mid-fetch.
    const refused = await overlapping(c, D2, 'after-fetch', 'cc-busy-first-d2', 'cc-busy-second-d2');
    expect(refused.status).toBe('failed');
    for (const s of refused.streams) {
      expect(s.code).toBe('STREAM.BUSY');
      expect(s.reason).toContain('cc-busy-first-d2');
    }
    // Retried once the first has ended: a re-run of D2 that stores the same versions.
    expect((await retryCase(runOf(c, D2, 'cc-busy-second-d2'))).report.status).toBe('succeeded');
    c.history.observe(sandbox.dataset, D2, 'incremental');

    // D3: the second run starts while the first has written its versions, not yet its watermark.
    const refused3 = await overlapping(c, D3, 'after-versions', 'cc-busy-first-d3', 'cc-busy-second-d3');
    expect(refused3.streams.map((s) => s.code)).toEqual(refused3.streams.map(() => 'STREAM.BUSY'));
    c.history.observe(sandbox.dataset, D3, 'incremental');

    // A late run of D2 after D3 committed is refused: versions are stored in date order.
    source.moveTo(D2, c.edits);
    const late = await runCase(runOf(c, D2, 'cc-late-d2'));
    expect(late.report.streams.map((s) => s.code)).toEqual(late.report.streams.map(() => 'STREAM.OUT_OF_ORDER'));

    // D4: two full runs planned at once onto one FIFO queue, whose message group is the stream: their
    // chunks interleave, so the second either finds the stream held (a stream of several chunks) or
    // syncs it again after the first ended (a stream of one).
    source.moveTo(D4, c.edits);
    const client = testClient(sandbox);
    for (const runId of ['cc-fifo-first-d4', 'cc-fifo-second-d4']) {
      await planRun({ client, store: c.adapters.store, queue: c.adapters.queue }, { runId, snapshotDate: D4, integrationIds: INTEGRATIONS, models: c.history.models, full: true });
    }
    await drainCase(runOf(c, D4, 'cc-fifo-first-d4', { noPlan: true }));
    expect((await readReport(c.adapters.store, 'cc-fifo-first-d4'))?.status).toBe('succeeded');
    const second = (await readReport(c.adapters.store, 'cc-fifo-second-d4'))!;
    c.faults += second.streams.length;
    expect(second.streams.filter((s) => s.status !== 'done').map((s) => s.code)).toContain('STREAM.BUSY');
    for (const s of second.streams) expect(s.status === 'done' || s.code === 'STREAM.BUSY', JSON.stringify(s)).toBe(true);
    expect((await retryCase(runOf(c, D4, 'cc-fifo-second-d4'))).report.status).toBe('succeeded');
    c.history.observe(sandbox.dataset, D4, 'full');

    await syncDay(c, { date: D5, mode: 'incremental' });
    await expectHistory(c);
  });
});
