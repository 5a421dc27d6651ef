/**
 * What each analytics view must return, computed in TypeScript straight from the sandbox's ground
 * truth (its event log) and the list of snapshot dates synced: never from the warehouse, never by
 * running the views' SQL. The rules are the ones `docs/ANALYTICS.md` states.
 */
import type { SandboxApplicationHistory, SandboxJobHistory, SandboxOfferHistory, SandboxTimeline, SandboxUser } from '../../sandbox/index.ts';
import { asOfInstant, sandboxJobStatusAt } from '../../sandbox/index.ts';

const DAY = 86_400_000;
const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));
const dateOf = (iso: string): string => iso.slice(0, 10);
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / DAY);

/** One application as a snapshot of day `date` shows it (the end of that day). */
export type Observation =
  | { kind: 'absent' }
  | { kind: 'deleted'; stageIndex: number | null; stageId: string | null }
  | { kind: 'closed'; stageIndex: number | null; stageId: string | null; outcome: string }
  | { kind: 'open'; stageIndex: number; stageId: string; stageName: string };

/** The application at the end of `date`, from its history alone. */
export function observe(app: SandboxApplicationHistory, date: string): Observation {
  const at = asOfInstant(date);
  if ((ms(app.createdAt) as number) > at) return { kind: 'absent' };
  let stage: { id: string; index: number; name: string } | null = null;
  for (const s of app.stretches) if ((ms(s.enteredAt) as number) <= at) stage = { id: s.stageId, index: s.stageIndex, name: s.stageName };
  const closedAt = ms(app.closedAt);
  const closed = closedAt !== null && closedAt <= at;
  if (closed && app.closedStage) stage = { id: app.closedStage.id, index: app.closedStage.index, name: app.closedStage.name };
  const deletedAt = ms(app.deletedAt);
  if (deletedAt !== null && deletedAt <= at) return { kind: 'deleted', stageIndex: stage?.index ?? null, stageId: stage?.id ?? null };
  if (closed) return { kind: 'closed', stageIndex: stage?.index ?? null, stageId: stage?.id ?? null, outcome: app.outcome as string };
  if (stage === null) throw new Error(`application ${app.id} has no stage at ${date}`);
  return { kind: 'open', stageIndex: stage.index, stageId: stage.id, stageName: stage.name };
}

export type ExpectedStretch = {
  integration_id: string;
  application_id: string;
  job_id: string;
  stage_id: string;
  stage_index: number;
  entered_on: string;
  left_on: string | null;
  days_in_stage: number;
  is_current: boolean;
  outcome_after: string | null;
};

/** `application_stage_history` of one application over the snapshot dates. */
export function expectedStretches(app: SandboxApplicationHistory, dates: readonly string[]): ExpectedStretch[] {
  const obs = dates.map((d) => observe(app, d));
  const out: ExpectedStretch[] = [];
  let k = 0;
  while (k < obs.length) {
    const o = obs[k] as Observation;
    if (o.kind !== 'open') {
      k++;
      continue;
    }
    let end = k;
    while (end + 1 < obs.length) {
      const n = obs[end + 1] as Observation;
      if (n.kind !== 'open' || n.stageId !== o.stageId) break;
      end++;
    }
    const next = obs[end + 1];
    const leftOn = next === undefined ? null : (dates[end + 1] as string);
    let outcomeAfter: string | null = null;
    if (next !== undefined) {
      if (next.kind === 'absent' || next.kind === 'deleted') outcomeAfter = 'DELETED';
      else if (next.kind === 'closed') outcomeAfter = next.outcome;
      else outcomeAfter = next.stageIndex > o.stageIndex ? 'ADVANCED' : next.stageIndex < o.stageIndex ? 'MOVED_BACK' : 'MOVED';
    }
    const enteredOn = dates[k] as string;
    out.push({
      integration_id: app.integrationId,
      application_id: app.id,
      job_id: app.jobId,
      stage_id: o.stageId,
      stage_index: o.stageIndex,
      entered_on: enteredOn,
      left_on: leftOn,
      days_in_stage: daysBetween(enteredOn, leftOn ?? (dates[dates.length - 1] as string)),
      is_current: leftOn === null,
      outcome_after: outcomeAfter,
    });
    k = end + 1;
  }
  return out;
}

const lastDate = (dates: readonly string[]): string => dates[dates.length - 1] as string;

/** Applications present and not deleted in the last snapshot: what `applications_latest` holds. */
export function latestApplications(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): SandboxApplicationHistory[] {
  const last = lastDate(dates);
  return timeline.applications(integrationId).filter((a) => {
    const o = observe(a, last);
    return o.kind === 'open' || o.kind === 'closed';
  });
}

/** Candidate ids present and not deleted in the last snapshot. */
export function latestCandidateIds(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): string[] {
  const at = asOfInstant(lastDate(dates));
  return timeline
    .candidates(integrationId)
    .filter((c) => (ms(c.createdAt) as number) <= at && !((ms(c.deletedAt) ?? Infinity) <= at))
    .map((c) => c.id);
}

/** Interviews present, not deleted, in the last snapshot; `canceled` as of then. */
export function latestInterviews(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]) {
  const at = asOfInstant(lastDate(dates));
  return timeline
    .interviews(integrationId)
    .filter((i) => (ms(i.createdAt) as number) <= at && !((ms(i.deletedAt) ?? Infinity) <= at))
    .map((i) => ({ ...i, canceledNow: (ms(i.canceledAt) ?? Infinity) <= at ? true : i.canceled === null ? null : false }));
}

export type ExpectedFunnelRow = {
  integration_id: string;
  job_id: string;
  stage_id: string;
  stage_index: number;
  reached: number;
  currently_in: number;
  conversion_to_next: number | null;
  hired: number;
  median_days_in_stage: number | null;
};

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** `hiring_funnel` of one integration. */
export function expectedFunnel(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedFunnelRow[] {
  const apps = timeline.applications(integrationId);
  const jobs = new Map(timeline.jobs(integrationId).map((j) => [j.id, j]));
  const seen = new Map<string, Set<string>>();
  const live: { app: SandboxApplicationHistory; maxIndex: number; outcome: string; stretches: ExpectedStretch[] }[] = [];
  for (const app of apps) {
    const obs = dates.map((d) => observe(app, d));
    for (const o of obs) {
      if (o.kind !== 'absent' && o.stageId !== null) {
        const set = seen.get(app.jobId) ?? new Set<string>();
        set.add(o.stageId);
        seen.set(app.jobId, set);
      }
    }
    const lastSeen = [...obs].reverse().find((o) => o.kind !== 'absent');
    if (lastSeen === undefined || lastSeen.kind === 'deleted') continue;
    const indexes = obs.flatMap((o) => (o.kind === 'open' || o.kind === 'closed') && o.stageIndex !== null ? [o.stageIndex] : []);
    live.push({
      app,
      maxIndex: Math.max(-1, ...indexes),
      outcome: lastSeen.kind === 'closed' ? lastSeen.outcome : 'PENDING',
      stretches: expectedStretches(app, dates),
    });
  }
  const out: ExpectedFunnelRow[] = [];
  for (const [jobId, stageIds] of seen) {
    const job = jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    const stages = job.stages.filter((s) => stageIds.has(s.id)).sort((a, b) => a.index - b.index);
    const ofJob = live.filter((l) => l.app.jobId === jobId);
    const rows = stages.map((stage) => {
      const reached = ofJob.filter((l) => l.maxIndex >= stage.index);
      const completed = ofJob.flatMap((l) =>
        l.stretches.filter((s) => s.stage_id === stage.id && s.left_on !== null && s.entered_on > (dates[0] as string) && s.outcome_after !== 'DELETED'),
      );
      return {
        integration_id: integrationId,
        job_id: jobId,
        stage_id: stage.id,
        stage_index: stage.index,
        reached: reached.length,
        currently_in: ofJob.filter((l) => l.stretches.some((s) => s.stage_id === stage.id && s.is_current)).length,
        conversion_to_next: null as number | null,
        hired: reached.filter((l) => l.outcome === 'HIRED').length,
        median_days_in_stage: median(completed.map((s) => s.days_in_stage)),
      };
    });
    rows.forEach((row, k) => {
      const next = rows[k + 1];
      row.conversion_to_next = next === undefined || row.reached === 0 ? null : next.reached / row.reached;
    });
    out.push(...rows);
  }
  return out;
}

export type ExpectedHire = {
  integration_id: string;
  application_id: string;
  candidate_id: string;
  job_id: string;
  source: string | null;
  applied_on: string | null;
  hired_on: string;
  days_to_hire: number | null;
};

/** `time_to_hire` of one integration. */
export function expectedHires(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedHire[] {
  const sources = new Map(timeline.candidates(integrationId).map((c) => [c.id, c.source]));
  const liveCandidates = new Set(latestCandidateIds(timeline, integrationId, dates));
  const out: ExpectedHire[] = [];
  for (const app of latestApplications(timeline, integrationId, dates)) {
    if (app.outcome !== 'HIRED' || app.closedAt === null || app.closedAt > `${lastDate(dates)}T23:59:59.999Z`) continue;
    const hiredOn = dates.find((d) => d >= dateOf(app.closedAt as string)) as string;
    if (hiredOn === dates[0]) continue;
    const appliedOn = app.remoteCreatedAt === null ? null : dateOf(app.remoteCreatedAt);
    out.push({
      integration_id: integrationId,
      application_id: app.id,
      candidate_id: app.candidateId,
      job_id: app.jobId,
      source: liveCandidates.has(app.candidateId) ? (sources.get(app.candidateId) ?? null) : null,
      applied_on: appliedOn,
      hired_on: hiredOn,
      days_to_hire: appliedOn === null ? null : daysBetween(appliedOn, hiredOn),
    });
  }
  return out;
}

/** Monday (UTC) of the ISO week of an instant. */
export function weekStart(iso: string): string {
  const d = new Date(`${dateOf(iso)}T00:00:00.000Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - back * DAY).toISOString().slice(0, 10);
}

export type ExpectedLoad = {
  integration_id: string;
  user_id: string;
  week_start: string;
  interviews: number;
  hours: number;
  candidates: number;
};

/** `interviewer_load` of one integration. */
export function expectedLoad(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedLoad[] {
  const liveApps = new Set(latestApplications(timeline, integrationId, dates).map((a) => a.id));
  const groups = new Map<string, { interviews: Set<string>; hours: number; candidates: Set<string>; user: string; week: string }>();
  for (const i of latestInterviews(timeline, integrationId, dates)) {
    if (i.canceledNow === true) continue;
    const hours = (Date.parse(i.endingAt) - Date.parse(i.startingAt)) / 3_600_000;
    for (const u of i.users) {
      const week = weekStart(i.startingAt);
      const key = `${u.id}|${week}`;
      const g = groups.get(key) ?? { interviews: new Set<string>(), hours: 0, candidates: new Set<string>(), user: u.id, week };
      g.interviews.add(i.id);
      g.hours += hours;
      if (liveApps.has(i.applicationId)) g.candidates.add(i.candidateId);
      groups.set(key, g);
    }
  }
  return [...groups.values()].map((g) => ({
    integration_id: integrationId,
    user_id: g.user,
    week_start: g.week,
    interviews: g.interviews.size,
    hours: g.hours,
    candidates: g.candidates.size,
  }));
}

export type ExpectedSource = {
  integration_id: string;
  source: string;
  candidates: number;
  applications: number;
  interviews: number;
  hires: number;
  hire_rate: number | null;
};

/** `source_effectiveness` of one integration. */
export function expectedSources(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedSource[] {
  const last = lastDate(dates);
  const liveCandidates = new Set(latestCandidateIds(timeline, integrationId, dates));
  const apps = latestApplications(timeline, integrationId, dates);
  const interviews = latestInterviews(timeline, integrationId, dates).filter((i) => i.canceledNow !== true);
  const groups = new Map<string, ExpectedSource>();
  for (const c of timeline.candidates(integrationId)) {
    if (!liveCandidates.has(c.id)) continue;
    const source = c.source === null || c.source.trim() === '' ? '(unknown)' : c.source.trim();
    const g = groups.get(source) ?? { integration_id: integrationId, source, candidates: 0, applications: 0, interviews: 0, hires: 0, hire_rate: null };
    g.candidates++;
    for (const a of apps.filter((x) => x.candidateId === c.id)) {
      g.applications++;
      g.interviews += interviews.filter((i) => i.applicationId === a.id).length;
      const o = observe(a, last);
      if (o.kind === 'closed' && o.outcome === 'HIRED') g.hires++;
    }
    groups.set(source, g);
  }
  for (const g of groups.values()) g.hire_rate = g.applications === 0 ? null : g.hires / g.applications;
  return [...groups.values()];
}

/** Jobs the `jobs` endpoint lists at the end of the last snapshot day: those created by then. */
export function latestJobs(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): SandboxJobHistory[] {
  const at = asOfInstant(lastDate(dates));
  return timeline.jobHistories(integrationId).filter((j) => (ms(j.createdAt) as number) <= at);
}

/** A job's location as the views give it: city and country, or else the ATS's text. */
export function jobLocation(record: Record<string, unknown> | undefined): string | null {
  const loc = (record?.location ?? null) as Record<string, string | null> | null;
  if (loc === null) return null;
  const parts = [loc.city, loc.country].filter((p): p is string => p !== null && p !== undefined);
  if (parts.length > 0) return parts.join(', ');
  const raw = loc.raw?.trim() ?? '';
  return raw === '' ? null : raw;
}

/** The job records the sandbox serves at the end of the last snapshot day, by id. */
export function servedJobs(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): Map<string, Record<string, unknown>> {
  const data = timeline.datasetAsOf(lastDate(dates)).integrations.find((i) => i.id === integrationId);
  return new Map((data?.funnel?.jobs ?? []).map((j) => [String(j.id), j]));
}

export type ExpectedJobFunnelRow = ExpectedFunnelRow & {
  job_name: string;
  job_status: string | null;
  department: string | null;
  location: string | null;
  listed_in_job: boolean;
};

/**
 * `hiring_funnel` of one integration with the job's own stage list: every stage of every job the
 * last snapshot lists, reached or not, then any stage seen on applications that the list lacks.
 */
export function expectedJobFunnel(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedJobFunnelRow[] {
  const last = lastDate(dates);
  const listed = new Map(latestJobs(timeline, integrationId, dates).map((j) => [j.id, j]));
  const served = servedJobs(timeline, integrationId, dates);
  const allJobs = new Map(timeline.jobs(integrationId).map((j) => [j.id, j]));
  const seenRows = expectedFunnel(timeline, integrationId, dates);
  const apps = timeline.applications(integrationId);
  const live = apps.flatMap((app) => {
    const obs = dates.map((d) => observe(app, d));
    const lastSeen = [...obs].reverse().find((o) => o.kind !== 'absent');
    if (lastSeen === undefined || lastSeen.kind === 'deleted') return [];
    const indexes = obs.flatMap((o) => ((o.kind === 'open' || o.kind === 'closed') && o.stageIndex !== null ? [o.stageIndex] : []));
    return [{ app, maxIndex: Math.max(-1, ...indexes), outcome: lastSeen.kind === 'closed' ? lastSeen.outcome : 'PENDING' }];
  });
  const out: ExpectedJobFunnelRow[] = [];
  for (const jobId of new Set([...listed.keys(), ...seenRows.map((r) => r.job_id)])) {
    const job = listed.get(jobId);
    const seenOfJob = seenRows.filter((r) => r.job_id === jobId);
    const rows: ExpectedFunnelRow[] =
      job === undefined
        ? seenOfJob
        : [...job.stages].sort((a, b) => a.index - b.index).map((stage) => {
            const row = seenOfJob.find((r) => r.stage_id === stage.id);
            if (row) return row;
            const reached = live.filter((l) => l.app.jobId === jobId && l.maxIndex >= stage.index);
            return {
              integration_id: integrationId,
              job_id: jobId,
              stage_id: stage.id,
              stage_index: stage.index,
              reached: reached.length,
              currently_in: 0,
              conversion_to_next: null,
              hired: reached.filter((l) => l.outcome === 'HIRED').length,
              median_days_in_stage: null,
            };
          });
    if (job !== undefined) {
      rows.push(...seenOfJob.filter((r) => !job.stages.some((s) => s.id === r.stage_id)));
      rows.sort((a, b) => a.stage_index - b.stage_index || a.stage_id.localeCompare(b.stage_id));
    }
    rows.forEach((row, k) => {
      const next = rows[k + 1];
      row.conversion_to_next = next === undefined || row.reached === 0 ? null : next.reached / row.reached;
    });
    for (const row of rows) {
      out.push({
        ...row,
        job_name: job?.name ?? (allJobs.get(jobId)?.name as string),
        job_status: job === undefined ? null : sandboxJobStatusAt(job, last),
        department: job?.department ?? null,
        location: job === undefined ? null : jobLocation(served.get(jobId)),
        listed_in_job: job !== undefined && job.stages.some((s) => s.id === row.stage_id),
      });
    }
  }
  return out;
}

/** The first snapshot date on which `test` holds, if any. */
const firstDate = (dates: readonly string[], test: (date: string) => boolean): string | null => dates.find(test) ?? null;

/** An offer's status at the end of `date`; null before it was drafted. */
export function offerStatusOn(offer: SandboxOfferHistory, date: string): string | null {
  const at = asOfInstant(date);
  let status: string | null = null;
  for (const s of offer.statuses) if ((ms(s.at) as number) <= at) status = s.status;
  return status;
}

/** Offers `GET /ats/offers` serves at the end of the last day: drafted by then and not deleted. */
export function latestOffers(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): SandboxOfferHistory[] {
  const last = lastDate(dates);
  const at = asOfInstant(last);
  return timeline.offers(integrationId).filter((o) => offerStatusOn(o, last) !== null && !((ms(o.deletedAt) ?? Infinity) <= at));
}

export type ExpectedFill = {
  integration_id: string;
  job_id: string;
  job_status: string;
  department: string | null;
  opened_on: string | null;
  closed_on: string | null;
  first_hire_on: string | null;
  days_to_fill: number | null;
  first_offer_accepted_on: string | null;
  days_to_accepted_offer: number | null;
  days_open: number | null;
  hires: number;
};

/**
 * `time_to_fill` of one integration. `offersSynced`: whether the integration offers the `offers`
 * model (without it, no accepted offer can be dated).
 */
export function expectedTimeToFill(timeline: SandboxTimeline, integrationId: string, dates: readonly string[], offersSynced: boolean): ExpectedFill[] {
  const last = lastDate(dates);
  const at = asOfInstant(last);
  const upTo = (iso: string | null): string | null => (iso !== null && (ms(iso) as number) <= at ? dateOf(iso) : null);
  const hired = latestApplications(timeline, integrationId, dates).filter((a) => {
    const o = observe(a, last);
    return o.kind === 'closed' && o.outcome === 'HIRED';
  });
  const offers = offersSynced ? latestOffers(timeline, integrationId, dates) : [];
  const known = (date: string | null): string | null => (date === dates[0] ? null : date);
  return latestJobs(timeline, integrationId, dates).map((job) => {
    const opened = upTo(job.openedAt);
    const closed = upTo(job.closedAt);
    const hiresOfJob = hired.filter((a) => a.jobId === job.id);
    const hireDates = hiresOfJob.map((a) => firstDate(dates, (d) => {
      const o = observe(a, d);
      return o.kind === 'closed' && o.outcome === 'HIRED';
    }) as string);
    // Only offers still accepted in the latest snapshot date the fill.
    const acceptDates = offers
      .filter((o) => o.jobId === job.id && offerStatusOn(o, last) === 'ACCEPTED')
      .flatMap((o) => firstDate(dates, (d) => offerStatusOn(o, d) === 'ACCEPTED') ?? []);
    const firstHire = known(hireDates.sort()[0] ?? null);
    const firstAccepted = known(acceptDates.sort()[0] ?? null);
    return {
      integration_id: integrationId,
      job_id: job.id,
      job_status: sandboxJobStatusAt(job, last),
      department: job.department,
      opened_on: opened,
      closed_on: closed,
      first_hire_on: firstHire,
      days_to_fill: opened === null || firstHire === null ? null : daysBetween(opened, firstHire),
      first_offer_accepted_on: firstAccepted,
      days_to_accepted_offer: opened === null || firstAccepted === null ? null : daysBetween(opened, firstAccepted),
      days_open: opened === null ? null : daysBetween(opened, closed ?? last),
      hires: hiresOfJob.length,
    };
  });
}

export type ExpectedOfferMonth = {
  integration_id: string;
  job_id: string;
  sent_month: string | null;
  sent: number;
  accepted: number;
  declined: number;
  abandoned: number;
  pending: number;
  acceptance_rate: number | null;
  median_days_to_decision: number | null;
};

/** `offer_acceptance` of one integration whose offers are synced. */
export function expectedOfferAcceptance(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedOfferMonth[] {
  const last = lastDate(dates);
  const groups = new Map<string, ExpectedOfferMonth & { days: number[] }>();
  for (const offer of latestOffers(timeline, integrationId, dates)) {
    const sentOn = firstDate(dates, (d) => ['SENT', 'ACCEPTED', 'DECLINED'].includes(offerStatusOn(offer, d) ?? ''));
    if (sentOn === null) continue;
    const status = offerStatusOn(offer, last) as string;
    // Sent before the first sync: the month is unknown, the outcome is not.
    const known = sentOn !== dates[0];
    const month = known ? `${sentOn.slice(0, 7)}-01` : null;
    const key = `${offer.jobId}|${month}`;
    const g = groups.get(key) ?? { integration_id: integrationId, job_id: offer.jobId, sent_month: month, sent: 0, accepted: 0, declined: 0, abandoned: 0, pending: 0, acceptance_rate: null, median_days_to_decision: null, days: [] };
    g.sent++;
    if (status === 'ACCEPTED') g.accepted++;
    if (status === 'DECLINED') g.declined++;
    if (status === 'ABANDONED') g.abandoned++;
    // Anything not answered nor abandoned is pending, a sent offer set back to draft included: the parts add up to `sent`.
    if (!['ACCEPTED', 'DECLINED', 'ABANDONED'].includes(status)) g.pending++;
    if (known && (status === 'ACCEPTED' || status === 'DECLINED')) g.days.push(daysBetween(sentOn, firstDate(dates, (d) => offerStatusOn(offer, d) === status) as string));
    groups.set(key, g);
  }
  return [...groups.values()].map(({ days, ...g }) => ({
    ...g,
    acceptance_rate: g.accepted + g.declined === 0 ? null : g.accepted / (g.accepted + g.declined),
    median_days_to_decision: median(days),
  }));
}

export type ExpectedRejection = {
  integration_id: string;
  job_id: string;
  rejection_reason: string;
  stage_id: string;
  stage_index: number;
  declined: number;
  share_of_job: number;
};

/** `rejection_breakdown` of one integration. */
export function expectedRejections(timeline: SandboxTimeline, integrationId: string, dates: readonly string[]): ExpectedRejection[] {
  const last = lastDate(dates);
  const groups = new Map<string, ExpectedRejection>();
  for (const app of latestApplications(timeline, integrationId, dates)) {
    const now = observe(app, last);
    if (now.kind !== 'closed' || now.outcome !== 'DECLINED') continue;
    const on = firstDate(dates, (d) => {
      const o = observe(app, d);
      return o.kind === 'closed' && o.outcome === 'DECLINED';
    }) as string;
    // The stage it was in, open, on the snapshot before it showed declined; else the declined snapshot's.
    const k = dates.indexOf(on);
    const before = k > 0 ? observe(app, dates[k - 1] as string) : null;
    const o = before?.kind === 'open' ? before : (observe(app, on) as Extract<Observation, { kind: 'closed' }>);
    const reason = app.rejectionReason === null || app.rejectionReason.trim() === '' ? '(none)' : app.rejectionReason.trim();
    const key = `${app.jobId}|${reason}|${String(o.stageId)}`;
    const g = groups.get(key) ?? { integration_id: integrationId, job_id: app.jobId, rejection_reason: reason, stage_id: o.stageId as string, stage_index: o.stageIndex as number, declined: 0, share_of_job: 0 };
    g.declined++;
    groups.set(key, g);
  }
  const rows = [...groups.values()];
  for (const r of rows) r.share_of_job = r.declined / rows.filter((x) => x.job_id === r.job_id).reduce((n, x) => n + x.declined, 0);
  return rows;
}

/** `user_name` and `user_status` of `interviewer_load` for one interviewer of one integration. */
export function expectedInterviewer(timeline: SandboxTimeline, integrationId: string, dates: readonly string[], user: SandboxUser): { user_name: string | null; user_status: string | null } {
  const at = asOfInstant(lastDate(dates));
  const listed = timeline.users(integrationId).find((u) => u.id === user.id && (ms(u.createdAt) as number) <= at);
  const join = (...parts: (string | null)[]): string | null => (parts.some((p) => p !== null) ? parts.filter((p) => p !== null).join(' ') : null);
  if (!listed) return { user_name: join(user.first_name, user.last_name), user_status: null };
  return {
    user_name: join(listed.firstName, listed.lastName) ?? join(user.first_name, user.last_name),
    user_status: (ms(listed.deactivatedAt) ?? Infinity) <= at ? 'INACTIVE' : 'ACTIVE',
  };
}
