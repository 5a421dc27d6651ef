/**
 * The report's sections that count open applications and check the data: the time-to-hire curve
 * (Kaplan–Meier, drawn as an SVG line with the median marked), the funnel per cohort month,
 * interviewer outcomes, and "Can you trust these numbers?" from `data_quality`.
 */
import type { CohortRow, HireSummaryRow, InterviewerOutcomeRow, QualityRow, SurvivalPoint } from './report-types.ts';
import { days, esc, hbars, int, pct, table, tool } from './report-format.ts';

const CURVE_COLORS = ['var(--bar)', 'var(--bar2)', 'var(--bar3)', '#d6455d', '#7a4fd0'] as const;

/** The day the curve first reaches `share` (its median for 0.5); null when it never does. */
export function dayReaching(points: readonly SurvivalPoint[], share: number): number | null {
  return [...points].sort((a, b) => a.day - b.day).find((p) => p.shareHired >= share - 1e-12)?.day ?? null;
}

/** The step line of one curve, in chart coordinates: from (0, 0), flat until each day, then up. */
function curvePath(points: readonly SurvivalPoint[], x: (d: number) => number, y: (s: number) => number): { d: string; count: number } {
  const sorted = [...points].sort((a, b) => a.day - b.day);
  const coords: [number, number][] = [[x(0), y(0)]];
  let share = 0;
  for (const p of sorted) {
    coords.push([x(p.day), y(share)], [x(p.day), y(p.shareHired)]);
    share = p.shareHired;
  }
  return { d: coords.map(([cx, cy], k) => `${k === 0 ? 'M' : 'L'}${cx.toFixed(1)},${cy.toFixed(1)}`).join(' '), count: coords.length };
}

/** The curve of each integration (`hire_survival` over all its jobs), with its median marked. */
function hireCurve(curves: readonly (readonly SurvivalPoint[])[]): string {
  const width = 640;
  const height = 260;
  const [left, right, top, bottom] = [44, 16, 14, 36];
  const maxDay = Math.max(1, ...curves.flat().map((p) => p.day));
  const x = (d: number) => left + (d / maxDay) * (width - left - right);
  const y = (s: number) => height - bottom - s * (height - top - bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((s) => `<line x1="${left}" y1="${y(s).toFixed(1)}" x2="${width - right}" y2="${y(s).toFixed(1)}" stroke="#e3e6ee"${s === 0.5 ? ' stroke-dasharray="4 3"' : ''}></line><text x="${left - 6}" y="${(y(s) + 4).toFixed(1)}" text-anchor="end" class="muted">${s * 100}%</text>`)
    .join('');
  const lines = curves.map((points, k) => {
    const color = CURVE_COLORS[k % CURVE_COLORS.length] as string;
    const integrationId = points[0]?.integrationId ?? '';
    const { d, count } = curvePath(points, x, y);
    const median = dayReaching(points, 0.5);
    const mark =
      median === null
        ? ''
        : `<g data-median-day="${median}"><line x1="${x(median).toFixed(1)}" y1="${y(0.5).toFixed(1)}" x2="${x(median).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="${color}" stroke-dasharray="3 3"></line>` +
          `<circle cx="${x(median).toFixed(1)}" cy="${y(0.5).toFixed(1)}" r="4" fill="${color}"></circle>` +
          // Left of the dot when the dot is in the right half, so the label stays inside the chart.
          `<text x="${(x(median) + (x(median) > width / 2 ? -8 : 8)).toFixed(1)}" y="${(y(0.5) - 8).toFixed(1)}"${x(median) > width / 2 ? ' text-anchor="end"' : ''}>median ${median} d (${esc(tool(integrationId))})</text></g>`;
    const legend = `<rect x="${left + 10}" y="${top + 8 + 16 * k}" width="12" height="3" fill="${color}"></rect><text x="${left + 28}" y="${top + 13 + 16 * k}" class="muted">${esc(tool(integrationId))}</text>`;
    return `<g data-curve="${esc(integrationId)}">${legend}<path d="${d}" data-points="${count}" fill="none" stroke="${color}" stroke-width="2"></path>${mark}</g>`;
  });
  return (
    `<svg data-chart="hire-curve" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg">` +
    `<title>Share of applications hired within N days of applying (Kaplan–Meier: open applications count as not hired yet)</title>` +
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="#fafbfe"></rect>${grid}` +
    `<line x1="${left}" y1="${y(0)}" x2="${width - right}" y2="${y(0)}" stroke="#c5cad6"></line>${lines.join('')}` +
    `<text x="${left}" y="${height - 6}" class="muted">0</text><text x="${width - right}" y="${height - 6}" text-anchor="end" class="muted">${maxDay} days since applying</text></svg>`
  );
}

/** The time-to-hire curve, and per job the Kaplan–Meier median beside the naive one. */
export function hireCurveSection(survival: readonly SurvivalPoint[], summary: readonly HireSummaryRow[]): string {
  const byIntegration = new Map<string, SurvivalPoint[]>();
  for (const p of survival.filter((s) => s.jobId === null)) byIntegration.set(p.integrationId, [...(byIntegration.get(p.integrationId) ?? []), p]);
  const curves = [...byIntegration.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([, points]) => points);
  const chart = curves.length === 0 ? '<p class="empty">No application yet.</p>' : hireCurve(curves);
  const rows = [...summary]
    .sort((a, b) => (a.jobId === null ? 0 : 1) - (b.jobId === null ? 0 : 1) || b.applications - a.applications || (a.jobName ?? a.jobId ?? '').localeCompare(b.jobName ?? b.jobId ?? ''))
    .map((h) => [esc(h.jobId === null ? 'All jobs' : (h.jobName ?? h.jobId)), esc(tool(h.integrationId)), int(h.applications), int(h.hires), days(h.medianDaysToHire), days(h.p75DaysToHire), days(h.naiveMedianDaysToHire)]);
  return `<section id="hire-curve">
<h2>Time to hire, open applications counted</h2>
<p class="lead">The share of applications hired within a number of days of applying. Applications still open count as “not hired yet” for as long as they have been open (Kaplan–Meier), so slow jobs are not made to look fast by leaving out the candidates still waiting. The dot marks the median: the day half of the applications are hired by. Beside it, the naive median counts finished hires only.</p>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Job', false],
      ['Integration', false],
      ['Applications', true],
      ['Hires', true],
      ['Median days (open counted)', true],
      ['75th percentile days', true],
      ['Naive median days (hires only)', true],
    ],
    rows,
    ' data-table="hire-summary"',
  )}</details></div>
</section>`;
}

/** Jobs shown in the cohort funnel: the largest by applications. */
export const REPORT_COHORT_JOBS = 6;
/** A cohort whose month ended fewer days than this before the latest sync is marked young. */
export const YOUNG_COHORT_DAYS = 30;

/** One job's cohorts: a row per month, a column per stage, each cell the share that reached it. */
function cohortTable(rows: readonly CohortRow[]): string {
  const first = rows[0] as CohortRow;
  const stages = [...new Map([...rows].sort((a, b) => a.stageIndex - b.stageIndex).map((r) => [r.stageId, r.stageName ?? r.stageId])).entries()];
  const months = [...new Set(rows.map((r) => r.cohortMonth))].sort();
  const cell = new Map(rows.map((r) => [`${r.cohortMonth}\u0000${r.stageId}`, r]));
  const body = months.map((m) => {
    const any = rows.find((r) => r.cohortMonth === m) as CohortRow;
    const young = any.cohortAgeDays !== null && any.cohortAgeDays < YOUNG_COHORT_DAYS;
    const label = `${esc(m.slice(0, 7))}${young ? ` <span class="sub" data-young>young: ${any.cohortAgeDays !== null && any.cohortAgeDays < 0 ? 'month still running' : `${int(any.cohortAgeDays ?? 0)} d`}</span>` : ''}`;
    const cells = stages.map(([id]) => {
      const c = cell.get(`${m}\u0000${id}`);
      if (c === undefined) return '–';
      const alpha = 0.08 + 0.6 * (c.shareReached ?? 0);
      return `<span style="display:block;background:rgba(63,99,216,${alpha.toFixed(2)})" data-stage-id="${esc(id)}" data-reached="${c.reached}">${pct(c.shareReached)}</span>`;
    });
    return [label, int(any.applications), ...cells];
  });
  return `<h3>${esc(first.jobName ?? first.jobId)} <span class="sub">(${esc(tool(first.integrationId))})</span></h3>${table(
    [['Applied in', false] as const, ['Applications', true] as const, ...stages.map(([, name]) => [name, true] as const)],
    body,
    ` data-table="funnel-cohorts" data-job-id="${esc(first.jobId)}"`,
  )}`;
}

/** The funnel per month of application, for the largest jobs. */
export function cohortSection(cohorts: readonly CohortRow[]): string {
  const jobs = new Map<string, CohortRow[]>();
  for (const r of cohorts) {
    const key = `${r.integrationId}\u0000${r.jobId}`;
    jobs.set(key, [...(jobs.get(key) ?? []), r]);
  }
  const size = (rows: readonly CohortRow[]) => [...new Map(rows.map((r) => [r.cohortMonth, r.applications])).values()].reduce((a, b) => a + b, 0);
  const largest = [...jobs.values()].sort((a, b) => size(b) - size(a) || (a[0]?.jobId ?? '').localeCompare(b[0]?.jobId ?? '')).slice(0, REPORT_COHORT_JOBS);
  return `<section id="funnel-cohorts">
<h2>Funnel by month of application</h2>
<p class="lead">Each row is the applications of one month, each column the share of them that reached a stage so far. A young cohort has had little time to get far: its shares are low because it is young, not because the funnel got worse.</p>
<div class="card">${largest.length === 0 ? '<p class="empty">No application yet.</p>' : largest.map(cohortTable).join('\n')}</div>
</section>`;
}

/** Interviewers shown in the outcome chart, most interviews first. */
export const REPORT_OUTCOME_PEOPLE = 15;

/** What became of the applications each interviewer saw. */
export function interviewerOutcomeSection(rows: readonly InterviewerOutcomeRow[]): string {
  const ordered = [...rows].sort((a, b) => b.interviews - a.interviews || a.userId.localeCompare(b.userId));
  const chart =
    ordered.length === 0
      ? '<p class="empty">No interview held yet.</p>'
      : hbars({
          chart: 'interviewer-outcomes',
          title: 'Share of decided applications that went on after each interviewer’s interview',
          color: 'var(--bar2)',
          max: 1,
          items: ordered.slice(0, REPORT_OUTCOME_PEOPLE).map((r) => ({
            label: `${r.name} (${tool(r.integrationId)})`,
            value: r.advanceRate,
            text: pct(r.advanceRate),
            note: `${int(r.advanced)} on, ${int(r.declined)} declined, ${int(r.stillOpen)} open`,
            attrs: ` data-user-id="${esc(r.userId)}" data-advanced="${r.advanced}" data-declined="${r.declined}"`,
          })),
          noteX: 'after',
        });
  const body = ordered.map((r) => [esc(r.name), esc(tool(r.integrationId)), int(r.interviews), int(r.applications), int(r.advanced), int(r.declined), int(r.stillOpen), pct(r.advanceRate), days(r.medianDaysToInterview)]);
  return `<section id="interviewer-outcomes">
<h2>Interviewer outcomes</h2>
<p class="lead">For each interviewer, the applications they interviewed and what became of them afterwards: went on (a later stage or hired), declined, or still open. The advance rate is of the decided ones.</p>
<div class="card">${chart}
<details><summary>Table</summary>${table(
    [
      ['Interviewer', false],
      ['Integration', false],
      ['Interviews', true],
      ['Applications', true],
      ['Went on', true],
      ['Declined', true],
      ['Still open', true],
      ['Advance rate', true],
      ['Median days to interview', true],
    ],
    body,
    ' data-table="interviewer-outcomes"',
  )}</details></div>
</section>`;
}

/** What each `data_quality` check finds, in a reader's words. */
export const QUALITY_CHECKS: Readonly<Record<string, string>> = {
  skipped_stage: 'moved forward past a stage of its job without ever being seen in it',
  moved_back: 'moved back to an earlier stage',
  declined_without_reason: 'declined with no rejection reason',
  hired_without_accepted_offer: 'hired without an accepted offer (where the ATS records offers)',
  stale_open_application: 'open, with no change for 30 days',
  duplicate_candidate_email: 'candidates sharing an email address with another candidate',
  application_of_unknown_job: 'applications to a job the ATS does not list',
  found_only_by_full_sync: 'deletions and changes the nightly syncs missed and a weekly full sync found',
};

/** "Can you trust these numbers?": every check of every integration, failing ones first. */
export function qualitySection(rows: readonly QualityRow[]): string {
  const ordered = [...rows].sort((a, b) => Number(b.records > 0) - Number(a.records > 0) || b.records - a.records || a.checkName.localeCompare(b.checkName) || a.integrationId.localeCompare(b.integrationId));
  const body = ordered.map((q) => [
    `<span data-check="${esc(q.checkName)}" data-records="${q.records}">${esc(q.checkName)}</span>`,
    esc(QUALITY_CHECKS[q.checkName] ?? ''),
    esc(tool(q.integrationId)),
    int(q.records),
    pct(q.share),
    esc(q.exampleIds.join(', ')),
  ]);
  const failing = ordered.filter((q) => q.records > 0).length;
  return `<section id="data-quality">
<h2>Can you trust these numbers?</h2>
<p class="lead">Checks of the ATS data behind this report. A check that finds records does not make the numbers wrong, but says where the ATS was used in a way the numbers cannot see: ${failing === 0 ? 'none finds anything.' : `${int(failing)} of ${int(ordered.length)} find something.`}</p>
<div class="card">${ordered.length === 0 ? '<p class="empty">No check has run yet.</p>' : table(
    [
      ['Check', false],
      ['Finds', false],
      ['Integration', false],
      ['Records', true],
      ['Share', true],
      ['Examples', false],
    ],
    body,
    ' data-table="data-quality"',
  )}</div>
</section>`;
}
