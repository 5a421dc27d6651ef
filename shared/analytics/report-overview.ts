/**
 * The top of the hiring report: the overview (open jobs, applications, hires, the Kaplan–Meier
 * median days to hire, offer acceptance, failing data-quality checks) and the filters of the job
 * cards. The filters are `<select>`s; the page hides the cards that do not match with CSS alone
 * (`:has(option:checked)`), so the file stays self-contained and runs no script.
 */
import type { FunnelStageRow, ReportData } from './report-types.ts';
import { days, esc, int, integrationLabel, pct, statusLabel, sum, tool } from './report-format.ts';

/** The card attributes a filter reads, and its label. */
export const CARD_FILTERS = [
  { key: 'organization', label: 'Organization', value: (f: FunnelStageRow): string => f.organizationName ?? '(unknown)' },
  { key: 'integration', label: 'Integration', value: (f: FunnelStageRow): string => tool(f.integrationId) },
  { key: 'department', label: 'Department', value: (f: FunnelStageRow): string => f.department ?? '(none)' },
  { key: 'status', label: 'Status', value: (f: FunnelStageRow): string => (f.jobStatus === null ? '(unknown)' : statusLabel(f.jobStatus)) },
] as const;

type FilterKey = (typeof CARD_FILTERS)[number]['key'];

/** The values of each filter, sorted; a card's attribute holds its value's position in this list. */
export function filterValues(funnel: readonly FunnelStageRow[]): Record<FilterKey, string[]> {
  const values = (pick: (f: FunnelStageRow) => string) => [...new Set(funnel.map(pick))].sort((a, b) => a.localeCompare(b));
  return Object.fromEntries(CARD_FILTERS.map((f) => [f.key, values(f.value)])) as Record<FilterKey, string[]>;
}

/** ` data-filter-integration="0" …`: the attributes of a job card the filter rules match. */
export function cardFilterAttrs(first: FunnelStageRow, values: Record<FilterKey, string[]>): string {
  return CARD_FILTERS.map((f) => ` data-filter-${f.key}="${values[f.key].indexOf(f.value(first))}"`).join('');
}

/**
 * The rules of the filters: one per filter value hides the cards of any other value while that value
 * is selected. Rules of different filters add up, so the filters combine. Goes in the page's head.
 */
export function filterRules(values: Record<FilterKey, string[]>): string {
  return CARD_FILTERS.flatMap((f) =>
    values[f.key].map((_, k) => `main:has(#filter-${f.key} option[value="${k}"]:checked) article[data-card="job"]:not([data-filter-${f.key}="${k}"]) { display: none; }`),
  ).join('\n');
}

/** The filter form above the job cards: one `<select>` per filter, "all" selected. */
export function cardFilters(values: Record<FilterKey, string[]>): string {
  const selects = CARD_FILTERS.map((f) => {
    const options = values[f.key].map((v, k) => `<option value="${k}">${esc(v)}</option>`).join('');
    return `<label>${f.label} <select id="filter-${f.key}" name="${f.key}"><option value="" selected>all</option>${options}</select></label>`;
  });
  return `<form class="filters" data-filters="jobs" aria-label="Filter the job cards">${selects.join(' ')}</form>`;
}

function kpi(key: string, value: string, label: string): string {
  return `<div class="kpi"><b data-kpi="${key}">${value}</b><span>${label}</span></div>`;
}

/** Kaplan–Meier median days to hire of each integration (`hire_summary` without a job), as one figure or one per organization and tool. */
function medianDaysToHire(data: ReportData): string {
  const all = data.hireSummary.filter((h) => h.jobId === null).sort((a, b) => a.integrationId.localeCompare(b.integrationId));
  if (all.length === 0) return '–';
  if (all.length === 1) return days(all[0]?.medianDaysToHire ?? null);
  return all.map((h) => `${days(h.medianDaysToHire)} <small>${esc(integrationLabel(h.integrationId, h.organizationName))}</small>`).join(' · ');
}

/** The overview: the figures a reader wants first, then the checks that fail. */
export function overviewSection(data: ReportData): string {
  const openJobs = data.fill.filter((f) => f.jobStatus === 'OPEN').length;
  // Totals from the rows without a job when the view has them, else from the jobs' rows.
  const whole = data.hireSummary.filter((h) => h.jobId === null);
  const perIntegration = whole.length > 0 ? whole : data.hireSummary;
  const applications = sum(perIntegration.map((h) => h.applications));
  const hires = sum(perIntegration.map((h) => h.hires));
  const accepted = sum(data.offers.map((o) => o.accepted));
  const decided = accepted + sum(data.offers.map((o) => o.declined));
  const failing = data.quality.filter((q) => q.records > 0).sort((a, b) => b.records - a.records || a.checkName.localeCompare(b.checkName));
  const checks =
    failing.length === 0
      ? `<p data-overview="checks">${data.quality.length === 0 ? 'No data-quality check has run yet.' : 'Every data-quality check passes.'}</p>`
      : `<p data-overview="checks">Data-quality checks that find something: ${failing
          .map((q) => `<a href="#data-quality" data-check="${esc(q.checkName)}">${esc(q.checkName)}</a> ${int(q.records)} (${esc(tool(q.integrationId))})`)
          .join(', ')}.</p>`;
  return `<section id="overview">
<h2>Overview</h2>
<div class="kpis">${kpi('overview-open-jobs', int(openJobs), 'jobs open')}${kpi('overview-applications', int(applications), 'applications')}${kpi('overview-hires', int(hires), 'hires')}${kpi(
    'overview-median-days-to-hire',
    medianDaysToHire(data),
    'median days to hire (open applications counted)',
  )}${kpi('overview-offer-acceptance', pct(decided === 0 ? null : accepted / decided), 'offer acceptance')}${kpi('overview-failing-checks', int(failing.length), 'data-quality checks failing')}</div>
${checks}
</section>`;
}
