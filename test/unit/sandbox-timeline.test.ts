import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSandbox, SandboxIntegrationData, SandboxTimeline } from '../../sandbox/index.ts';
import {
  SANDBOX_TIMELINE_START,
  asOfInstant,
  consecutiveDays,
  createSandboxTimeline,
  generateDataset,
  startSandbox,
} from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

const SPECS = [
  { id: 'greenhouse:TlUnitAAAAbbbbCCCCddddEE', tool: 'greenhouse', candidates: 300 },
  { id: 'lever:TlUnitFFFFggggHHHHiiiiJJ', tool: 'lever', candidates: 30 },
] as const;
const timeline: SandboxTimeline = createSandboxTimeline({ seed: 5, integrations: SPECS });
const big = SPECS[0].id;
const day = (iso: string): string => iso.slice(0, 10);
const ids = (records: readonly Rec[]): string[] => records.map((r) => String(r.id));
const integrationAt = (date: string, id = big): SandboxIntegrationData => timeline.datasetAsOf(date).integrations.find((i) => i.id === id) as SandboxIntegrationData;

describe('simulated clock: the event log', () => {
  const apps = timeline.applications(big);

  it('is deterministic for a seed and changes with it', () => {
    const again = createSandboxTimeline({ seed: 5, integrations: SPECS });
    const other = createSandboxTimeline({ seed: 6, integrations: SPECS });
    expect(JSON.stringify(again.stageEvents(big))).toBe(JSON.stringify(timeline.stageEvents(big)));
    expect(JSON.stringify(again.datasetAsOf('2025-05-01'))).toBe(JSON.stringify(timeline.datasetAsOf('2025-05-01')));
    expect(JSON.stringify(other.stageEvents(big))).not.toBe(JSON.stringify(timeline.stageEvents(big)));
  });

  it('moves each application to a later calendar day at every step, in stage order', () => {
    for (const a of apps) {
      a.stretches.forEach((s, k) => {
        if (k > 0) expect(day(s.enteredAt) > day((a.stretches[k - 1] as { enteredAt: string }).enteredAt)).toBe(true);
        if (s.leftAt !== null) expect(day(s.leftAt) > day(s.enteredAt)).toBe(true);
        const next = a.stretches[k + 1];
        if (next) {
          expect(s).toMatchObject({ outcome: 'ADVANCED', leftAt: next.enteredAt });
          expect(next.stageIndex).toBeGreaterThan(s.stageIndex);
        }
      });
      expect(a.stretches[0]?.stageIndex).toBe(0);
      expect(a.stretches[0]?.enteredAt).toBe(a.createdAt);
    }
  });

  it('has every kind of story: hires, declines, withdrawals, stalls, skipped stages, deletions', () => {
    const outcomes = new Set(apps.map((a) => a.outcome));
    // Kombo's enum only: a withdrawal is DECLINED, with the reason saying so.
    expect(outcomes).toEqual(new Set(['HIRED', 'DECLINED', null]));
    expect(apps.some((a) => a.outcome === 'DECLINED' && a.rejectionReason === 'Candidate withdrew')).toBe(true);
    expect(apps.some((a) => a.outcome === 'DECLINED' && a.rejectionReason !== 'Candidate withdrew')).toBe(true);
    expect(apps.filter((a) => a.outcome === 'HIRED').length / apps.length).toBeGreaterThan(0.05);
    expect(apps.some((a) => a.outcome === null && a.deletedAt === null && a.stretches.at(-1)?.leftAt === null)).toBe(true);
    expect(apps.some((a) => a.stretches.some((s, k) => k > 0 && s.stageIndex - (a.stretches[k - 1] as { stageIndex: number }).stageIndex === 2))).toBe(true);
    expect(timeline.candidates(big).some((c) => c.deletedAt !== null)).toBe(true);
    expect(apps.some((a) => a.stretches.at(-1)?.outcome === 'DELETED')).toBe(true);
  });

  it('makes offers in the offer stage: drafted, sometimes approved, sent, then accepted by a hire or declined or abandoned', () => {
    const jobs = new Map(timeline.jobs(big).map((j) => [j.id, j]));
    const seen = new Set<string>();
    for (const a of apps) {
      const offerStage = (jobs.get(a.jobId)?.stages.length ?? 0) - 2;
      const stretch = a.stretches.find((s) => s.stageIndex === offerStage);
      if (a.outcome === 'HIRED' && a.deletedAt === null) expect(a.offers).toHaveLength(1);
      for (const o of a.offers) {
        expect(stretch, a.id).toBeDefined();
        const statuses = o.statuses.map((x) => x.status);
        statuses.forEach((st) => seen.add(st));
        expect(statuses[0]).toBe('DRAFT');
        expect(statuses.slice(0, statuses.indexOf('SENT') + 1)).toEqual(statuses.includes('APPROVED') ? ['DRAFT', 'APPROVED', 'SENT'] : statuses.includes('SENT') ? ['DRAFT', 'SENT'] : []);
        // Every status falls inside the offer stage, the closing one when the application closes.
        for (const x of o.statuses) {
          expect(x.at >= (stretch?.enteredAt as string)).toBe(true);
          if (stretch?.leftAt) expect(x.at <= stretch.leftAt).toBe(true);
        }
        const end = o.statuses.at(-1)!;
        if (a.outcome === 'HIRED') expect(end).toEqual({ status: 'ACCEPTED', at: a.closedAt });
        if (a.outcome === 'DECLINED' && a.closedAt === stretch?.leftAt) {
          expect(['DECLINED', 'ABANDONED']).toContain(end.status);
          expect(end.at).toBe(a.closedAt);
          if (end.status === 'DECLINED') expect(['Offer declined', 'Candidate withdrew']).toContain(a.rejectionReason);
        }
      }
    }
    expect([...seen].sort()).toEqual(['ABANDONED', 'ACCEPTED', 'APPROVED', 'DECLINED', 'DRAFT', 'SENT']);
  });

  it('lands every hire in the job’s last stage, right after the stage before it', () => {
    const jobs = new Map(timeline.jobs(big).map((j) => [j.id, j]));
    for (const a of apps.filter((x) => x.outcome === 'HIRED')) {
      const stages = jobs.get(a.jobId)?.stages ?? [];
      expect(a.closedStage?.index).toBe(stages.length - 1);
      expect(a.stretches.at(-1)).toMatchObject({ stageIndex: stages.length - 2, outcome: 'HIRED', leftAt: a.closedAt });
    }
  });

  it('schedules interviews only in interview stages, inside the stretch, and none after a deletion', () => {
    const byApp = new Map(apps.map((a) => [a.id, a]));
    const interviews = timeline.interviews(big);
    expect(interviews.length).toBeGreaterThan(50);
    for (const i of interviews) {
      const app = byApp.get(i.applicationId);
      expect(app).toBeDefined();
      const stretch = app?.stretches.find((s) => s.enteredAt <= i.createdAt && (s.leftAt === null || i.createdAt < s.leftAt));
      expect(stretch, i.id).toBeDefined();
      expect(stretch?.stageName).toMatch(/Screen|Interview|Team Fit|Entretien|面接|Fachgespräch/);
      if (i.stageId !== null) expect(i.stageId).toBe(stretch?.stageId);
      expect(i.startingAt > i.createdAt).toBe(true);
      if (app?.deletedAt) expect(i.deletedAt).toBe(app.deletedAt);
    }
    expect(interviews.some((i) => i.canceled === true)).toBe(true);
    expect(interviews.some((i) => i.canceled === null)).toBe(true);
  });
});

describe('simulated clock: the records as of a day', () => {
  it('is empty before the first day and grows day by day', () => {
    const before = new Date(Date.parse(SANDBOX_TIMELINE_START) - 86_400_000).toISOString().slice(0, 10);
    expect(integrationAt(before).candidates).toEqual([]);
    let previous: SandboxIntegrationData | null = null;
    for (const date of consecutiveDays('2025-04-01', 5)) {
      const now = integrationAt(date);
      if (previous) {
        for (const model of ['candidates', 'applications', 'interviews'] as const) {
          expect(ids(now[model])).toEqual(expect.arrayContaining(ids(previous[model])));
          expect(now[model].length).toBeGreaterThanOrEqual(previous[model].length);
        }
      }
      previous = now;
    }
  });

  it('shows each application in the stage and with the outcome the event log has for that day', () => {
    const date = '2025-05-10';
    const at = asOfInstant(date);
    const data = integrationAt(date);
    const history = new Map(timeline.applications(big).map((a) => [a.id, a]));
    for (const app of data.applications) {
      const h = history.get(String(app.id));
      expect(h).toBeDefined();
      const closed = h?.closedAt !== null && Date.parse(h?.closedAt as string) <= at;
      const stage = closed ? h?.closedStage : [...(h?.stretches ?? [])].reverse().find((s) => Date.parse(s.enteredAt) <= at);
      expect(app.current_stage_id).toBe(closed ? h?.closedStage?.id : (stage as { stageId: string }).stageId);
      expect(app.outcome).toBe(closed ? h?.outcome : 'PENDING');
      expect(app.remote_deleted_at !== null).toBe(h?.deletedAt !== null && Date.parse(h?.deletedAt as string) <= at);
      for (const f of ['changed_at', 'remote_created_at', 'remote_updated_at', 'rejected_at']) {
        if (app[f] !== null) expect(Date.parse(app[f] as string)).toBeLessThanOrEqual(at);
      }
    }
  });

  it('keeps references whole: applications of known candidates, interviews of known applications, deletions cascading', () => {
    const data = integrationAt('2025-06-15');
    const candidates = new Map(data.candidates.map((c) => [String(c.id), c]));
    const applications = new Map(data.applications.map((a) => [String(a.id), a]));
    for (const a of data.applications) {
      const c = candidates.get(String(a.candidate_id));
      expect(c).toBeDefined();
      if (c?.remote_deleted_at !== null) expect(a.remote_deleted_at).not.toBeNull();
      expect(ids(c?.applications as Rec[])).toContain(a.id);
    }
    for (const i of data.interviews) {
      const a = applications.get(String(i.application_id));
      expect(a).toBeDefined();
      // The application's summary of the interview says what the interviews endpoint says that day.
      const summary = (a?.interviews as Rec[]).find((s) => s.id === i.id);
      expect(summary).toStrictEqual(Object.fromEntries(['id', 'remote_id', 'title', 'starting_at', 'ending_at', 'location', 'canceled'].map((f) => [f, i[f]])));
      expect((i.application as Rec).outcome).toBe(a?.outcome);
    }
    for (const model of ['candidates', 'applications', 'interviews'] as const) expect(ids(data[model])).toEqual([...ids(data[model])].sort());
  });

  it('shows each offer in the status it has that day, and moves remote_updated_at (not changed_at) when it changes', () => {
    const history = new Map(timeline.applications(big).map((a) => [a.id, a]));
    let withOffers = 0;
    for (const date of ['2025-04-20', '2025-05-10', '2025-06-15']) {
      const at = asOfInstant(date);
      for (const app of integrationAt(date).applications) {
        const h = history.get(String(app.id))!;
        const expected = h.offers.flatMap((o) => {
          const now = o.statuses.filter((x) => Date.parse(x.at) <= at).at(-1);
          return now === undefined ? [] : [{ id: o.id, remote_id: o.remoteId, status: now.status }];
        });
        expect(app.offers).toEqual(expected);
        if (expected.length > 0) withOffers++;
        const lastOfferChange = h.offers.flatMap((o) => o.statuses.map((x) => x.at)).filter((t) => Date.parse(t) <= at).sort().at(-1);
        const updated = app.remote_updated_at as string | null;
        if (updated !== null) {
          expect(updated >= (app.changed_at as string)).toBe(true);
          if (lastOfferChange !== undefined) expect(updated >= lastOfferChange).toBe(true);
        }
      }
    }
    expect(withOffers).toBeGreaterThan(10);
  });

  it('keeps the edge-case candidates from the first day on', () => {
    const data = integrationAt(SANDBOX_TIMELINE_START);
    const names = data.candidates.map((c) => `${String(c.first_name)} ${String(c.last_name)}`);
    expect(names).toEqual(expect.arrayContaining(['Zoë Müller-Lüdenscheidt', '太郎 山田']));
  });

  it('is what generateDataset({ asOf }) returns', () => {
    expect(JSON.stringify(generateDataset({ seed: 5, integrations: SPECS, asOf: '2025-05-03' }))).toBe(JSON.stringify(timeline.datasetAsOf('2025-05-03')));
  });

  it.each(['2025-02-30', '2025/05/01', 'tomorrow'])('rejects the as-of date %s', (date) => {
    expect(() => timeline.datasetAsOf(date)).toThrow(/as-of date/);
  });
});

describe('simulated clock: a running sandbox', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ timeline, asOf: '2025-05-01' });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  const count = async (model: string): Promise<number> => {
    let n = 0;
    let cursor: string | null = null;
    do {
      const url = new URL(`${sandbox.url}/ats/${model}`);
      url.searchParams.set('page_size', '250');
      url.searchParams.set('include_deleted', 'true');
      if (cursor) url.searchParams.set('cursor', cursor);
      const res = await fetch(url, { headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': big } });
      const body = (await res.json()) as { data: { next: string | null; results: unknown[] } };
      n += body.data.results.length;
      cursor = body.data.next;
    } while (cursor !== null);
    return n;
  };

  it('serves the day it was started on, and the next day after setAsOf', async () => {
    expect(sandbox.asOf).toBe('2025-05-01');
    expect(await count('applications')).toBe(integrationAt('2025-05-01').applications.length);
    sandbox.setAsOf('2025-05-20');
    expect(sandbox.asOf).toBe('2025-05-20');
    expect(await count('applications')).toBe(integrationAt('2025-05-20').applications.length);
    expect(integrationAt('2025-05-20').applications.length).toBeGreaterThan(integrationAt('2025-05-01').applications.length);
    expect(sandbox.dataset.integrations.find((i) => i.id === big)?.applications.length).toBe(integrationAt('2025-05-20').applications.length);
  });

  it('lists under updated_after an application whose offer alone changed that day', async () => {
    // Prepare: an offer status that changed on a day when nothing of the application's own changed
    const history = timeline.applications(big);
    const hit = history
      .flatMap((a) => a.offers.flatMap((o) => o.statuses.slice(1).map((x) => ({ a, at: x.at }))))
      .find(({ a, at }) => day(at) !== day(a.createdAt) && a.stretches.every((s) => day(s.enteredAt) !== day(at)) && (a.closedAt === null || day(a.closedAt) !== day(at)));
    expect(hit).toBeDefined();
    const { a, at } = hit!;
    sandbox.setAsOf(day(at));
    const url = new URL(`${sandbox.url}/ats/applications`);
    url.searchParams.set('ids', a.id);
    url.searchParams.set('updated_after', `${day(at)}T00:00:00.000Z`);
    // Act
    const res = await fetch(url, { headers: { authorization: `Bearer ${sandbox.apiKey}`, 'x-integration-id': big } });
    const body = (await res.json()) as { data: { results: Rec[] } };
    // Assess: found, though its changed_at is older
    expect(ids(body.data.results)).toEqual([a.id]);
    expect(day(body.data.results[0]!.changed_at as string) < day(at)).toBe(true);
  });

  it('refuses to move the clock of a static sandbox', async () => {
    const fixed = await startSandbox({ dataset: generateDataset({ integrations: [] }) });
    try {
      expect(fixed.asOf).toBeNull();
      expect(() => fixed.setAsOf('2025-05-01')).toThrow(/asOf/);
    } finally {
      await fixed.close();
    }
  });
});
