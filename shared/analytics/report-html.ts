/**
 * The hiring report: one self-contained HTML page (inline CSS and SVG, no script, no font, no image
 * and no link to fetch) for a recruiter. Pure: rows in, text out; `cli/commands/report.ts` reads
 * the rows from the analytics views.
 *
 * Every chart is an `<svg data-chart="…">` with a `<title>`, and every number it draws also sits in
 * the table under it, so the page reads without the charts and tests can compare both with the views.
 * The job cards are filtered with form controls and CSS alone (`report-overview.ts`), so the page
 * still runs no script.
 */
import type { FillRow, FunnelStageRow, HireRow, LoadRow, OfferRow, RejectionRow, ReportData, SnapshotSpan, SourceRow } from './report-types.ts';
import { cohortSection, hireCurveSection, interviewerOutcomeSection, qualitySection } from './report-insight.ts';
import { cardFilterAttrs, cardFilters, filterRules, filterValues, overviewSection } from './report-overview.ts';
import { days, dayCount, dayLabel, esc, hbars, hours, int, integrationLabel, median, monthLabel, orDash, pct, statusLabel, sum, table, tool } from './report-format.ts';

export type * from './report-types.ts';

/** Width of a time-to-hire histogram bin, in days. */
export const HIRE_BIN_DAYS = 7;

const CSS = `
:root { --ink:#1d2433; --muted:#5b6475; --line:#e3e6ee; --bar:#3f63d8; --bar2:#14a37f; --bar3:#e08a1e; --bg:#f6f7fb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK JP", sans-serif; }
header { background: #1d2433; color: #fff; padding: 24px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c9cfdb; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 10px 32px; font-size: 14px; }
nav a { color: var(--bar); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
section { margin-top: 28px; }
h2 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 0 0 2px; }
p.lead { margin: 0 0 14px; color: var(--muted); max-width: 860px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }
.card .sub { color: var(--muted); font-size: 13px; margin-bottom: 8px; }
.pair { display: grid; grid-template-columns: 1fr; gap: 6px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK JP", sans-serif; fill: var(--ink); }
svg text.muted { fill: var(--muted); }
svg text.in { fill: #fff; font-weight: 600; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--bar); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin-top: 6px; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 4px; }
.kpi { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 16px; min-width: 150px; }
.kpi b { display: block; font-size: 22px; }
.kpi span { color: var(--muted); font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
.filters { display: flex; flex-wrap: wrap; gap: 16px; margin: 0 0 12px; font-size: 14px; color: var(--muted); }
.filters select { font: inherit; margin-left: 4px; }
.kpi small { color: var(--muted); font-size: 12px; font-weight: 400; }
.notice { background: #fff8e1; border: 1px solid #f0d98a; border-radius: 8px; padding: 10px 14px; margin: 16px 0 0; max-width: 860px; }
`;


function funnelSection(funnel: readonly FunnelStageRow[]): string {
  const jobs = new Map<string, FunnelStageRow[]>();
  for (const row of funnel) {
    const key = `${row.integrationId}\u0000${row.jobId}`;
    const list = jobs.get(key) ?? [];
    list.push(row);
    jobs.set(key, list);
  }
  const ordered = [...jobs.values()]
    .map((stages) => [...stages].sort((a, b) => a.stageIndex - b.stageIndex || a.stageId.localeCompare(b.stageId)))
    .sort((a, b) => (b[0]?.reached ?? 0) - (a[0]?.reached ?? 0) || (a[0]?.jobId ?? '').localeCompare(b[0]?.jobId ?? ''));
  const values = filterValues(funnel);
  const cards = ordered.map((stages) => {
    const first = stages[0] as FunnelStageRow;
    const jobAttrs = ` data-job-id="${esc(first.jobId)}" data-integration-id="${esc(first.integrationId)}"`;
    const name = first.jobName ?? first.jobId;
    const hired = first.hired;
    const funnelChart = hbars({
      chart: 'funnel',
      attrs: jobAttrs,
      title: `Hiring funnel of ${name}: applications that reached each stage`,
      color: 'var(--bar)',
      items: stages.map((s) => ({
        label: s.stageName ?? s.stageId,
        value: s.reached,
        text: int(s.reached),
        note: s.conversionToNext === null ? '' : `→ ${pct(s.conversionToNext)}`,
        attrs: ` data-stage-id="${esc(s.stageId)}" data-reached="${s.reached}"`,
      })),
    });
    const daysChart = hbars({
      chart: 'days-in-stage',
      attrs: jobAttrs,
      title: `Median days in each stage of ${name}, stretches still open counted (Kaplan–Meier)`,
      color: 'var(--bar2)',
      items: stages.map((s) => ({
        label: s.stageName ?? s.stageId,
        value: s.kmMedianDaysInStage,
        text: s.kmMedianDaysInStage === null ? '–' : `${days(s.kmMedianDaysInStage)} d`,
        attrs: ` data-stage-id="${esc(s.stageId)}"`,
      })),
    });
    const rows = stages.map((s) => [
      `${esc(s.stageName ?? s.stageId)}${s.listedInJob ? '' : ' <span class="sub">(not in the job’s stage list)</span>'}`,
      int(s.reached),
      int(s.currentlyIn),
      pct(s.conversionToNext),
      int(s.hired),
      days(s.kmMedianDaysInStage),
      days(s.medianDaysInStage),
    ]);
    return `<article class="card"${jobAttrs}${cardFilterAttrs(first, values)} data-card="job">
<h3>${esc(name)}</h3>
<div class="sub">${[integrationLabel(first.integrationId, first.organizationName), first.jobStatus === null ? null : statusLabel(first.jobStatus), first.department, first.location].filter((x) => x !== null && x !== '').map(esc).join(' · ')} · ${int(first.reached)} applications · ${int(hired)} hired</div>
<div class="pair">${funnelChart}<div class="sub">Median days in stage, open stretches counted (Kaplan–Meier; “–” until half have left the stage)</div>${daysChart}</div>
<details><summary>Table</summary>${table(
      [
        ['Stage', false],
        ['Reached', true],
        ['In it now', true],
        ['To next stage', true],
        ['Hired', true],
        ['Median days (Kaplan–Meier)', true],
        ['Median days (completed only)', true],
      ],
      rows,
      ` data-table="funnel"${jobAttrs}`,
    )}</details>
</article>`;
  });
  return `<section id="funnel">
<h2>Hiring funnel per job</h2>
<p class="lead">How many applications reached each stage (jumping over a stage counts as passing it), the share that went on to the next stage, and how long applications sit in each stage. Largest jobs first.</p>
${cards.length === 0 ? '<p class="empty">No applications yet.</p>' : `${cardFilters(values)}\n<div class="cards">${cards.join('\n')}</div>`}
</section>`;
}

/** Time-to-hire histogram bins: `[from, to)` in days. */
export function hireBins(hires: readonly HireRow[]): { from: number; to: number; count: number }[] {
  const known = hires.map((h) => h.daysToHire).filter((d): d is number => d !== null);
  if (known.length === 0) return [];
  const top = Math.max(...known);
  const bins = Array.from({ length: Math.floor(Math.max(0, top) / HIRE_BIN_DAYS) + 1 }, (_, k) => ({ from: k * HIRE_BIN_DAYS, to: (k + 1) * HIRE_BIN_DAYS, count: 0 }));
  for (const d of known) (bins[Math.floor(Math.max(0, d) / HIRE_BIN_DAYS)] as { count: number }).count++;
  return bins;
}


function timeToHireSection(hires: readonly HireRow[]): string {
  const bins = hireBins(hires);
  const known = hires.map((h) => h.daysToHire).filter((d): d is number => d !== null);
  const width = 640;
  const height = 220;
  const left = 40;
  const bottom = 34;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bw = bins.length === 0 ? 0 : (width - left - 10) / bins.length;
  const bars = bins
    .map((b, k) => {
      const h = (b.count / max) * (height - bottom - 24);
      const x = left + k * bw;
      const y = height - bottom - h;
      return (
        `<g data-bin="${b.from}-${b.to}" data-count="${b.count}">` +
        `<rect x="${(x + 3).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 6).toFixed(1)}" height="${h.toFixed(1)}" rx="3" fill="var(--bar3)"></rect>` +
        `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 5).toFixed(1)}" text-anchor="middle">${b.count}</text>` +
        `<text x="${(x + bw / 2).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" class="muted">${b.from}–${b.to - 1}</text>` +
        `</g>`
      );
    })
    .join('');
  const chart =
    bins.length === 0
      ? '<p class="empty">No hire observed yet: a hire shows once a sync sees the outcome change to HIRED.</p>'
      : `<svg data-chart="time-to-hire" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg">` +
        `<title>Time to hire: hires per ${HIRE_BIN_DAYS}-day bin of days from application to hire</title>` +
        `<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#c5cad6"></line>${bars}` +
        `<text x="${(width + left) / 2}" y="${height - 4}" text-anchor="middle" class="muted">days from application to hire</text></svg>`;
  const rows = [...hires]
    .sort((a, b) => b.hiredOn.localeCompare(a.hiredOn) || a.applicationId.localeCompare(b.applicationId))
    .map((h) => [esc(h.jobName ?? ''), esc(tool(h.integrationId)), esc(h.source ?? '(unknown)'), esc(h.appliedOn ?? '–'), esc(h.hiredOn), h.daysToHire === null ? '–' : int(h.daysToHire)]);
  return `<section id="time-to-hire">
<h2>Time to hire</h2>
<p class="lead">Days from application to the first sync that shows the hire. Hires made before the first sync are not counted: their date is unknown.</p>
<div class="kpis"><div class="kpi"><b data-kpi="hires">${int(hires.length)}</b><span>hires observed</span></div><div class="kpi"><b data-kpi="median-days-to-hire">${days(median(known))}</b><span>median days to hire</span></div></div>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Job', false],
      ['Integration', false],
      ['Source', false],
      ['Applied', false],
      ['Hired', false],
      ['Days', true],
    ],
    rows,
    ' data-table="time-to-hire"',
  )}</details></div>
</section>`;
}

function loadSection(load: readonly LoadRow[]): string {
  const weeks = [...new Map(load.map((l) => [l.weekStart, l.isoWeek])).entries()].sort((a, b) => a[0].localeCompare(b[0]));
  const people = new Map<string, { key: string; name: string; integrationId: string; total: number }>();
  for (const l of load) {
    const key = `${l.integrationId}\u0000${l.userId}`;
    const p = people.get(key) ?? { key, name: l.status === 'INACTIVE' ? `${l.name}, inactive` : l.name, integrationId: l.integrationId, total: 0 };
    p.total += l.hours;
    people.set(key, p);
  }
  const rowsOrder = [...people.values()].sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
  const cell = new Map(load.map((l) => [`${l.integrationId}\u0000${l.userId}\u0000${l.weekStart}`, l]));
  const maxHours = Math.max(1, ...load.map((l) => l.hours));
  const labelW = 220;
  const cw = 74;
  const ch = 26;
  const top = 24;
  const width = labelW + weeks.length * cw + 10;
  const height = top + rowsOrder.length * ch + 6;
  const header = weeks.map(([, iso], k) => `<text x="${labelW + k * cw + cw / 2}" y="16" text-anchor="middle" class="muted">${esc(iso)}</text>`).join('');
  const grid = rowsOrder
    .map((p, r) => {
      const y = top + r * ch;
      const label = `${p.name} (${tool(p.integrationId)})`;
      const cells = weeks
        .map(([week], k) => {
          const l = cell.get(`${p.key}\u0000${week}`);
          const h = l?.hours ?? 0;
          const opacity = h === 0 ? 0.06 : 0.2 + 0.8 * (h / maxHours);
          const x = labelW + k * cw;
          return (
            `<g data-week="${esc(week)}" data-hours="${h}">` +
            `<rect x="${x + 2}" y="${y + 2}" width="${cw - 4}" height="${ch - 4}" rx="3" fill="var(--bar)" fill-opacity="${opacity.toFixed(2)}"></rect>` +
            `<text x="${x + cw / 2}" y="${y + 17}" text-anchor="middle"${opacity > 0.55 ? ' class="in"' : ''}>${h === 0 ? '' : `${hours(h)} h`}</text></g>`
          );
        })
        .join('');
      return `<g data-user="${esc(p.key.split('\u0000')[1])}"><text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(label.length > 32 ? `${label.slice(0, 31)}…` : label)}</text>${cells}</g>`;
    })
    .join('');
  const chart =
    load.length === 0
      ? '<p class="empty">No interviews in these weeks.</p>'
      : `<svg data-chart="interviewer-load" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg"><title>Interview hours per interviewer and ISO week</title>${header}${grid}</svg>`;
  const rows = [...load]
    .sort((a, b) => a.weekStart.localeCompare(b.weekStart) || b.hours - a.hours || a.userId.localeCompare(b.userId))
    .map((l) => [esc(l.isoWeek), esc(l.name), orDash(l.status === null ? null : statusLabel(l.status)), esc(tool(l.integrationId)), int(l.interviews), hours(l.hours), int(l.candidates)]);
  return `<section id="interviewer-load">
<h2>Interviewer load by week</h2>
<p class="lead">Hours of interviews per interviewer and ISO week (UTC), canceled interviews left out, scheduled ones included. The busiest interviewers of the latest weeks.</p>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Week', false],
      ['Interviewer', false],
      ['Status', false],
      ['Integration', false],
      ['Interviews', true],
      ['Hours', true],
      ['Candidates', true],
    ],
    rows,
    ' data-table="interviewer-load"',
  )}</details></div>
</section>`;
}

function sourceSection(sources: readonly SourceRow[]): string {
  const ordered = [...sources].sort((a, b) => b.candidates - a.candidates || a.source.localeCompare(b.source) || a.integrationId.localeCompare(b.integrationId));
  const chart =
    ordered.length === 0
      ? '<p class="empty">No candidates yet.</p>'
      : hbars({
          chart: 'sources',
          title: 'Hire rate per candidate source',
          color: 'var(--bar2)',
          max: Math.max(0.01, ...ordered.slice(0, 15).map((s) => s.hireRate ?? 0)),
          items: ordered.slice(0, 15).map((s) => ({
            label: `${s.source} (${tool(s.integrationId)})`,
            value: s.hireRate,
            text: pct(s.hireRate),
            note: `${int(s.hires)}/${int(s.applications)}`,
          })),
        });
  const rows = ordered.map((s) => [esc(s.source), esc(tool(s.integrationId)), int(s.candidates), int(s.applications), int(s.interviews), int(s.hires), pct(s.hireRate)]);
  return `<section id="sources">
<h2>Sources</h2>
<p class="lead">Candidates per source, their applications, interviews and hires; hire rate is hires per application.</p>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Source', false],
      ['Integration', false],
      ['Candidates', true],
      ['Applications', true],
      ['Interviews', true],
      ['Hires', true],
      ['Hire rate', true],
    ],
    rows,
    ' data-table="sources"',
  )}</details></div>
</section>`;
}


/**
 * What the time-to-fill chart says about a job: how many days, measured to what. `firstSnapshot`
 * is the integration's first snapshot: a hire it already showed has no date.
 */
function fillBar(f: FillRow, firstSnapshot: string | undefined): { value: number; note: string; color: string } | null {
  if (f.daysToFill !== null) return { value: f.daysToFill, note: 'to the first hire', color: 'var(--bar2)' };
  if (f.daysOpen === null) return null;
  const earlier = firstSnapshot === undefined ? 'first hire earlier' : `first hire before ${dayLabel(firstSnapshot)}`;
  if (f.closedOn === null) return { value: f.daysOpen, note: f.hires > 0 ? `open, ${earlier}` : 'open, no hire yet', color: 'var(--bar)' };
  return { value: f.daysOpen, note: f.hires > 0 ? `closed, ${earlier}` : 'closed without a hire', color: '#9aa3b5' };
}

function timeToFillSection(fill: readonly FillRow[], snapshots: readonly SnapshotSpan[]): string {
  const firstSnapshot = new Map(snapshots.map((s) => [s.integrationId, s.first]));
  const ordered = [...fill].sort(
    (a, b) => (b.daysToFill ?? b.daysOpen ?? -1) - (a.daysToFill ?? a.daysOpen ?? -1) || (a.jobName ?? a.jobId).localeCompare(b.jobName ?? b.jobId),
  );
  const bars = ordered.flatMap((f) => {
    const bar = fillBar(f, firstSnapshot.get(f.integrationId));
    return bar === null
      ? []
      : [{ label: `${f.jobName ?? f.jobId} (${tool(f.integrationId)})`, value: bar.value, text: `${int(bar.value)} d`, note: bar.note, color: bar.color, attrs: ` data-job-id="${esc(f.jobId)}" data-days="${bar.value}"` }];
  });
  const filled = fill.map((f) => f.daysToFill).filter((d): d is number => d !== null);
  const chart =
    bars.length === 0
      ? '<p class="empty">No job has been opened yet.</p>'
      : hbars({ chart: 'time-to-fill', title: 'Time to fill: days from opening each job to its first hire, or days open so far', color: 'var(--bar)', items: bars, noteX: 'after' });
  const rows = ordered.map((f) => [
    esc(f.jobName ?? f.jobId),
    esc(tool(f.integrationId)),
    orDash(f.department),
    orDash(f.jobStatus),
    orDash(f.openedOn),
    orDash(f.closedOn),
    orDash(f.firstHireOn),
    dayCount(f.daysToFill),
    orDash(f.firstOfferAcceptedOn),
    dayCount(f.daysToAcceptedOffer),
    dayCount(f.daysOpen),
    int(f.hires),
  ]);
  return `<section id="time-to-fill">
<h2>Time to fill</h2>
<p class="lead">Days from opening a job to its first hire (green); for a job whose first hire is not in the history, the days it has been open so far (blue) or was open until it closed (grey). A hire the first sync already showed has no date.</p>
<div class="kpis"><div class="kpi"><b data-kpi="open-jobs">${int(fill.filter((f) => f.jobStatus === 'OPEN').length)}</b><span>jobs open</span></div><div class="kpi"><b data-kpi="median-days-to-fill">${days(median(filled))}</b><span>median days to fill</span></div><div class="kpi"><b data-kpi="closed-without-hire">${int(fill.filter((f) => f.closedOn !== null && f.hires === 0).length)}</b><span>closed without a hire</span></div></div>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Job', false],
      ['Integration', false],
      ['Department', false],
      ['Status', false],
      ['Opened', false],
      ['Closed', false],
      ['First hire', false],
      ['Days to fill', true],
      ['First accepted offer', false],
      ['Days to accepted offer', true],
      ['Days open', true],
      ['Hires', true],
    ],
    rows,
    ' data-table="time-to-fill"',
  )}</details></div>
</section>`;
}

const OFFER_SEGMENTS = [
  ['accepted', 'Accepted', 'var(--bar2)'],
  ['declined', 'Declined', '#d6455d'],
  ['abandoned', 'Abandoned', '#9aa3b5'],
  ['pending', 'Waiting for an answer', 'var(--bar3)'],
] as const;

/** Offers per job as stacked bars: accepted, declined, abandoned and pending, with a legend. */
function offerBars(jobs: readonly { key: string; label: string; jobId: string | null; counts: Record<(typeof OFFER_SEGMENTS)[number][0], number>; sent: number }[]): string {
  const labelW = 230;
  const barW = 300;
  const rowH = 26;
  const top = 26;
  const width = labelW + Math.max(barW + 80, OFFER_SEGMENTS.reduce((w, [, name]) => w + 16 + 7 * name.length + 20, 0));
  const height = top + jobs.length * rowH + 6;
  const max = Math.max(1, ...jobs.map((j) => j.sent));
  let legendX = labelW;
  const legend = OFFER_SEGMENTS.map(([, name, color]) => {
    const item = `<rect x="${legendX}" y="4" width="12" height="12" rx="2" fill="${color}"></rect><text x="${legendX + 16}" y="14" class="muted">${esc(name)}</text>`;
    legendX += 16 + 7 * name.length + 20;
    return item;
  }).join('');
  const rows = jobs.map((j, r) => {
    const y = top + r * rowH;
    let x = labelW;
    const segments = OFFER_SEGMENTS.map(([segment, , color]) => {
      const w = (j.counts[segment] / max) * barW;
      const rect = `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${color}" data-segment="${segment}" data-count="${j.counts[segment]}"></rect>`;
      x += w;
      return rect;
    }).join('');
    const label = [...j.label].length > 32 ? `${[...j.label].slice(0, 31).join('')}…` : j.label;
    return (
      `<g data-job-id="${esc(j.jobId ?? '')}" data-sent="${j.sent}"><text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(label)}</text>${segments}` +
      `<text x="${(x + 6).toFixed(1)}" y="${y + 17}" data-value>${int(j.sent)} sent</text></g>`
    );
  });
  return (
    `<svg data-chart="offer-acceptance" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg">` +
    `<title>Offers sent per job and what became of them</title>${legend}${rows.join('')}</svg>`
  );
}

function offerSection(offers: readonly OfferRow[]): string {
  const perJob = new Map<string, { key: string; label: string; jobId: string | null; counts: Record<(typeof OFFER_SEGMENTS)[number][0], number>; sent: number }>();
  for (const o of offers) {
    const key = `${o.integrationId}\u0000${o.jobId ?? ''}`;
    const j = perJob.get(key) ?? { key, label: `${o.jobName ?? o.jobId ?? '(unknown job)'} (${tool(o.integrationId)})`, jobId: o.jobId, counts: { accepted: 0, declined: 0, abandoned: 0, pending: 0 }, sent: 0 };
    j.sent += o.sent;
    j.counts.accepted += o.accepted;
    j.counts.declined += o.declined;
    j.counts.abandoned += o.abandoned;
    j.counts.pending += o.pending;
    perJob.set(key, j);
  }
  const jobs = [...perJob.values()].sort((a, b) => b.sent - a.sent || a.key.localeCompare(b.key));
  const accepted = sum(offers.map((o) => o.accepted));
  const declined = sum(offers.map((o) => o.declined));
  const rows = [...offers]
    .sort((a, b) => (b.sentMonth ?? '').localeCompare(a.sentMonth ?? '') || b.sent - a.sent || (a.jobName ?? '').localeCompare(b.jobName ?? ''))
    .map((o) => [
      esc(o.sentMonth === null ? 'before the first sync' : monthLabel(o.sentMonth)),
      esc(o.jobName ?? o.jobId ?? ''),
      esc(tool(o.integrationId)),
      orDash(o.department),
      int(o.sent),
      int(o.accepted),
      int(o.declined),
      int(o.abandoned),
      int(o.pending),
      pct(o.acceptanceRate),
      days(o.medianDaysToDecision),
    ]);
  return `<section id="offer-acceptance">
<h2>Offer acceptance</h2>
<p class="lead">Offers sent per job, and what became of them: accepted, declined by the candidate, abandoned by the company, or still waiting for an answer. The acceptance rate is accepted ÷ (accepted + declined). Offers the first sync already found count too, in a row of their own: their answer is known, the month they were sent is not.</p>
<div class="kpis"><div class="kpi"><b data-kpi="offers-sent">${int(sum(offers.map((o) => o.sent)))}</b><span>offers sent</span></div><div class="kpi"><b data-kpi="acceptance-rate">${pct(accepted + declined === 0 ? null : accepted / (accepted + declined))}</b><span>acceptance rate</span></div><div class="kpi"><b data-kpi="offers-declined">${int(declined)}</b><span>declined by the candidate</span></div></div>
<div class="card">${jobs.length === 0 ? '<p class="empty">No offer sent yet.</p>' : offerBars(jobs)}
<details><summary>Table</summary>${table(
    [
      ['Month sent', false],
      ['Job', false],
      ['Integration', false],
      ['Department', false],
      ['Sent', true],
      ['Accepted', true],
      ['Declined', true],
      ['Abandoned', true],
      ['Waiting', true],
      ['Acceptance rate', true],
      ['Median days to answer', true],
    ],
    rows,
    ' data-table="offer-acceptance"',
  )}</details></div>
</section>`;
}

/** Declined applications summed by a label (reason, stage name), largest first. */
function tally(rows: readonly RejectionRow[], label: (r: RejectionRow) => string): { label: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(label(r), (counts.get(label(r)) ?? 0) + r.declined);
  return [...counts.entries()].map(([l, count]) => ({ label: l, count })).sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

function rejectionSection(rejections: readonly RejectionRow[]): string {
  const total = sum(rejections.map((r) => r.declined));
  const share = (n: number): string => pct(total === 0 ? null : n / total);
  const reasons = tally(rejections, (r) => r.rejectionReason).slice(0, 12);
  const stages = tally(rejections, (r) => r.stageName ?? '(unknown stage)').slice(0, 12);
  const charts =
    total === 0
      ? '<p class="empty">No application declined yet.</p>'
      : `<div class="sub">By reason</div>${hbars({
          chart: 'rejection-reasons',
          title: 'Declined applications per rejection reason',
          color: '#d6455d',
          items: reasons.map((r) => ({ label: r.label, value: r.count, text: int(r.count), note: share(r.count), attrs: ` data-reason="${esc(r.label)}" data-count="${r.count}"` })),
        })}<div class="sub">By the stage they were declined in</div>${hbars({
          chart: 'rejection-stages',
          title: 'Declined applications per stage they were declined in',
          color: '#d6455d',
          items: stages.map((r) => ({ label: r.label, value: r.count, text: int(r.count), note: share(r.count), attrs: ` data-stage="${esc(r.label)}" data-count="${r.count}"` })),
        })}`;
  const rows = [...rejections]
    .sort((a, b) => (a.jobName ?? a.jobId).localeCompare(b.jobName ?? b.jobId) || b.declined - a.declined || a.rejectionReason.localeCompare(b.rejectionReason))
    .map((r) => [esc(r.jobName ?? r.jobId), esc(tool(r.integrationId)), esc(r.rejectionReason), orDash(r.stageName), int(r.declined), pct(r.shareOfJob)]);
  return `<section id="rejection-reasons">
<h2>Rejection reasons</h2>
<p class="lead">Declined applications by the reason given and by the stage they were declined in (a candidate's withdrawal counts as declined, with its own reason). Shares are of all ${int(total)} declined applications.</p>
<div class="card"><div class="pair">${charts}</div>
<details><summary>Table</summary>${table(
    [
      ['Job', false],
      ['Integration', false],
      ['Reason', false],
      ['Declined in stage', false],
      ['Declined', true],
      ['Share of the job’s', true],
    ],
    rows,
    ' data-table="rejection-reasons"',
  )}</details></div>
</section>`;
}

/**
 * What a report built from too little history cannot show yet: days in stage and time to hire are
 * measured between syncs, so with one sync of an integration its medians are "–". Said
 * once at the top, naming the integrations (all of them, or those that joined later).
 */
export function historyNotice(snapshots: readonly SnapshotSpan[]): string {
  const young = snapshots.filter((s) => s.snapshots < 2);
  if (young.length === 0) return '';
  const who =
    young.length === snapshots.length
      ? `This report is built from ${young.length === 1 ? 'a single sync' : 'a single sync of each integration'} (${esc([...new Set(young.map((s) => s.first))].join(', '))}).`
      : `${esc(young.map((s) => tool(s.integrationId)).join(', '))} ${young.length === 1 ? 'has' : 'have'} a single sync so far.`;
  return `<p class="notice" data-notice="history">${who} Days in stage and time to hire are measured between syncs, so their medians show “–” for now. They fill in as history builds up night by night: each nightly sync adds what changed since the one before.</p>`;
}

/** The whole page. */
export function renderReport(data: ReportData): string {
  const spans = data.snapshots
    .map((s) => `${esc(tool(s.integrationId))}: ${s.snapshots} sync${s.snapshots === 1 ? '' : 's'}, ${esc(s.first)} → ${esc(s.latest)}`)
    .join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Hiring report</title>
<style>${CSS}
${filterRules(filterValues(data.funnel))}</style>
</head>
<body>
<header><h1>Hiring report</h1><p>${spans === '' ? 'No snapshot in the warehouse yet.' : spans}${
    data.asOf === null ? '' : ` · <span data-as-of="${esc(data.asOf)}">as the warehouse knew it at the end of ${esc(data.asOf)}</span>`
  } · generated ${esc(data.generatedAt)}</p></header>
<nav><a href="#overview">Overview</a> · <a href="#funnel">Funnel per job</a> · <a href="#hire-curve">Time-to-hire curve</a> · <a href="#funnel-cohorts">Cohorts</a> · <a href="#time-to-fill">Time to fill</a> · <a href="#time-to-hire">Time to hire</a> · <a href="#offer-acceptance">Offer acceptance</a> · <a href="#rejection-reasons">Rejection reasons</a> · <a href="#interviewer-load">Interviewer load</a> · <a href="#interviewer-outcomes">Interviewer outcomes</a> · <a href="#sources">Sources</a> · <a href="#data-quality">Can you trust these numbers?</a></nav>
<main>
${historyNotice(data.snapshots)}
${overviewSection(data)}
${funnelSection(data.funnel)}
${hireCurveSection(data.survival, data.hireSummary)}
${cohortSection(data.cohorts)}
${timeToFillSection(data.fill, data.snapshots)}
${timeToHireSection(data.hires)}
${offerSection(data.offers)}
${rejectionSection(data.rejections)}
${loadSection(data.load)}
${interviewerOutcomeSection(data.interviewers)}
${sourceSection(data.sources)}
${qualitySection(data.quality)}
</main>
</body>
</html>
`;
}
