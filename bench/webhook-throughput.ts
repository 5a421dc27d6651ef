/**
 * Webhook throughput: 1,000 `data-changed` events for 100 integrations within one simulated minute,
 * dispatched through the pipeline's `dispatchEvent` (the code the AWS dispatcher and
 * `kombo-etl webhooks` run) on an in-memory store, with a `startRun` that only counts and a run
 * that lasts a few simulated seconds. Events are handed over in batches of 10 at once, as SQS
 * hands a batch to the dispatcher, so the triggers' compare-and-swap meets real contention.
 *
 * Checked, not timed: every change is seen by a run of its integration that started at or after the
 * change and covers its models; never two runs of one integration at once; two run starts of one
 * integration are never closer than the gap. Printed with the dispatch time per event (wall).
 *
 * Run alone with `npm run bench -- throughput`.
 */
import { MemoryStore } from '../test/helpers/memory-store.ts';
import type { DispatchDeps } from '../shared/webhooks/dispatch.ts';
import { dispatchEvent } from '../shared/webhooks/dispatch.ts';
import { modelsTouched } from '../shared/webhooks/models.ts';
import type { ModelName } from '../shared/tables.ts';
import { Rng } from './days.ts';

/** The scenario: events, integrations, the minute they arrive in, the gap rule, how long a run lasts. */
export const THROUGHPUT = { events: 1_000, integrations: 100, windowMs: 60_000, gapMs: 60_000, batch: 10, runMs: [2_000, 20_000] } as const;

const KOMBO_NAMES = ['ats_applications', 'ats_candidates', 'ats_interviews', 'ats_jobs', 'ats_offers', 'ats_users', 'ats_tags', 'ats_application_stages', 'ats_rejection_reasons'];

export interface ThroughputFigures {
  readonly events: number;
  readonly integrations: number;
  readonly runs: number;
  readonly runsPerIntegration: { min: number; median: number; max: number };
  readonly wakes: number;
  /** Changes no later run of their integration covered. */
  readonly missed: number;
  /** Run starts while another run of the same integration was still going. */
  readonly overlaps: number;
  /** Consecutive starts of one integration closer than the gap. */
  readonly gapBreaks: number;
  /** The shortest time between two starts of one integration (simulated ms), or null. */
  readonly shortestGapMs: number | null;
  /** Simulated time from the first event until every trigger was idle. */
  readonly settledMs: number;
  readonly wallMs: number;
  readonly msPerEvent: { median: number; p95: number };
  readonly storeRequests: { gets: number; lists: number; puts: number };
}

interface Happening {
  at: number;
  kind: 'event' | 'wake';
  integrationId: string;
  komboNames?: string[];
  eventId?: string;
  wakeAt?: number;
}

interface Run {
  id: string;
  integrationId: string;
  models: ModelName[];
  startMs: number;
  endMs: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p95 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;

/** Runs the scenario. */
export async function runThroughput(): Promise<ThroughputFigures> {
  const s = THROUGHPUT;
  const rng = new Rng(19);
  const ids = Array.from({ length: s.integrations }, (_, i) => `greenhouse:Bench${String(i).padStart(20, '0')}`);
  const queue: Happening[] = Array.from({ length: s.events }, (_, i) => {
    const names = KOMBO_NAMES.filter(() => rng.next() < 0.3);
    return { at: Math.floor(rng.next() * s.windowMs), kind: 'event', integrationId: ids[Math.floor(rng.next() * ids.length)] as string, komboNames: names.length > 0 ? names : ['ats_applications'], eventId: `evt${String(i).padStart(21, '0')}` };
  });
  const changes = queue.map((h) => ({ integrationId: h.integrationId, at: h.at, models: modelsTouched(h.komboNames ?? []) }));
  const store = new MemoryStore();
  const runs = new Map<string, Run>();
  let now = 0;
  let wakes = 0;
  let overlaps = 0;
  const deps: DispatchDeps = {
    store,
    now: () => new Date(Date.UTC(2025, 5, 2) + now),
    gapMs: s.gapMs,
    startRun: ({ integrationId, models: m }) => {
      const id = `run-${runs.size}`;
      if ([...runs.values()].some((r) => r.integrationId === integrationId && r.endMs > now)) overlaps++;
      runs.set(id, { id, integrationId, models: [...m], startMs: now, endMs: now + s.runMs[0] + Math.floor(rng.next() * (s.runMs[1] - s.runMs[0])) });
      return Promise.resolve(id);
    },
    isRunOver: (runId) => Promise.resolve((runs.get(runId)?.endMs ?? 0) <= now),
    scheduleWake: (integrationId, atMs) => {
      wakes++;
      queue.push({ at: Math.max(atMs - Date.UTC(2025, 5, 2), now), kind: 'wake', integrationId, wakeAt: atMs });
      return Promise.resolve();
    },
  };

  const perEvent: number[] = [];
  const started = performance.now();
  // Simulated time, in order; happenings due at once go in batches, like an SQS batch.
  while (queue.length > 0 && now < 3_600_000) {
    queue.sort((a, b) => a.at - b.at);
    now = Math.max(now, (queue[0] as Happening).at);
    const due = queue.splice(0, Math.min(s.batch, queue.filter((h) => h.at <= now).length || 1));
    await Promise.all(
      due.map(async (h) => {
        const t = performance.now();
        await dispatchEvent(
          h.kind === 'wake'
            ? { type: 'wake', integrationId: h.integrationId, ...(h.wakeAt !== undefined && { atMs: h.wakeAt }) }
            : {
                id: h.eventId ?? '',
                type: 'data-changed',
                data: { integration_id: h.integrationId, integration_tool: 'greenhouse', integration_category: 'ATS', changed_models: (h.komboNames ?? []).map((name) => ({ name })) },
              },
          deps,
        );
        if (h.kind === 'event') perEvent.push(performance.now() - t);
      }),
    );
  }
  const wallMs = performance.now() - started;

  const byIntegration = new Map<string, Run[]>();
  for (const r of runs.values()) byIntegration.set(r.integrationId, [...(byIntegration.get(r.integrationId) ?? []), r]);
  let gapBreaks = 0;
  let shortestGapMs: number | null = null;
  for (const list of byIntegration.values()) {
    list.sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < list.length; i++) {
      const gap = (list[i] as Run).startMs - (list[i - 1] as Run).startMs;
      shortestGapMs = Math.min(shortestGapMs ?? gap, gap);
      if (gap < s.gapMs) gapBreaks++;
    }
  }
  const missed = changes.filter((c) => !(byIntegration.get(c.integrationId) ?? []).some((r) => r.startMs >= c.at && c.models.every((m) => r.models.includes(m)))).length;
  const counts = ids.map((id) => byIntegration.get(id)?.length ?? 0);
  return {
    events: s.events,
    integrations: s.integrations,
    runs: runs.size,
    runsPerIntegration: { min: Math.min(...counts), median: median(counts), max: Math.max(...counts) },
    wakes,
    missed,
    overlaps,
    gapBreaks,
    shortestGapMs,
    settledMs: now,
    wallMs,
    msPerEvent: { median: median(perEvent), p95: p95(perEvent) },
    storeRequests: { ...store.counts },
  };
}

/** Prints the figures as Markdown. */
export function printThroughput(f: ThroughputFigures): void {
  const s = THROUGHPUT;
  console.log(`## Webhook throughput: ${s.events.toLocaleString('en-US')} data-changed events for ${s.integrations} integrations within a simulated minute (dispatchEvent, in-memory store, batches of ${s.batch})\n`);
  const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| runs started | ${f.runs} (per integration: min ${f.runsPerIntegration.min}, median ${f.runsPerIntegration.median}, max ${f.runsPerIntegration.max}) |`);
  console.log(`| wakes scheduled | ${f.wakes} |`);
  console.log(`| changes not covered by a later run of their integration (target 0) | ${f.missed} |`);
  console.log(`| run starts while a run of the same integration was going (target 0) | ${f.overlaps} |`);
  console.log(`| starts of one integration closer than the ${sec(s.gapMs)} gap (target 0) | ${f.gapBreaks} (shortest ${f.shortestGapMs === null ? 'n/a' : sec(f.shortestGapMs)}) |`);
  console.log(`| simulated time until every trigger was idle | ${sec(f.settledMs)} |`);
  console.log(`| dispatch wall time per event | median ${f.msPerEvent.median.toFixed(2)} ms, p95 ${f.msPerEvent.p95.toFixed(2)} ms (all: ${sec(f.wallMs)}) |`);
  console.log(`| store requests (GET / LIST / PUT) | ${f.storeRequests.gets} / ${f.storeRequests.lists} / ${f.storeRequests.puts} |`);
  console.log();
}
