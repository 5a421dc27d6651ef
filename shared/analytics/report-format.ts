/** Formatting and drawing helpers shared by the sections of the hiring report. */

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const pct = (r: number | null): string => (r === null ? '–' : `${(r * 100).toFixed(0)}%`);
export const days = (d: number | null): string => (d === null ? '–' : d.toFixed(1).replace(/\.0$/, ''));
export const hours = (h: number): string => h.toFixed(1).replace(/\.0$/, '');
/** `OPEN` → `open`: a job's status as a word in a sentence. */
export const statusLabel = (status: string): string => status.toLowerCase();
/** `greenhouse:Bq7T…` → `greenhouse`: integrations are named after their tool on the page. */
export const tool = (integrationId: string): string => integrationId.split(':')[0] ?? integrationId;

/** An integration on the page: its end user's organization and tool (`Acme Corp (greenhouse)`), or its tool alone when the organization is unknown. */
export const integrationLabel = (integrationId: string, organizationName: string | null): string =>
  organizationName === null || organizationName === '' ? tool(integrationId) : `${organizationName} (${tool(integrationId)})`;

export function table(headers: readonly (readonly [string, boolean])[], rows: readonly (readonly string[])[], attrs = ''): string {
  const head = headers.map(([h, num]) => `<th${num ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${headers[i]?.[1] ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table${attrs}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Horizontal bars: one row per item, label on the left, value after the bar. */
export function hbars(opts: {
  chart: string;
  title: string;
  items: readonly { label: string; value: number | null; text: string; note?: string; attrs?: string; color?: string }[];
  color: string;
  attrs?: string;
  /** Value of a full-width bar (default: the largest value). */
  max?: number;
  /** Where notes go: in a column of their own (default), or right after the value. */
  noteX?: 'column' | 'after';
}): string {
  const labelW = 230;
  const barW = 250;
  const rowH = 26;
  const width = labelW + barW + (opts.noteX === 'after' ? 260 : 110);
  const height = opts.items.length * rowH + 8;
  const max = opts.max ?? Math.max(1, ...opts.items.map((i) => i.value ?? 0));
  const rows = opts.items.map((item, k) => {
    const y = 4 + k * rowH;
    const w = item.value === null ? 0 : Math.max(item.value > 0 ? 2 : 0, (item.value / max) * barW);
    const label = [...item.label].length > 32 ? `${[...item.label].slice(0, 31).join('')}…` : item.label;
    return (
      `<g data-row="${k}"${item.attrs ?? ''}>` +
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(label)}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${item.color ?? opts.color}"></rect>` +
      `<text x="${labelW + w + 6}" y="${y + 17}" data-value>${esc(item.text)}</text>` +
      (item.note ? `<text x="${opts.noteX === 'after' ? (labelW + w + 14 + 8 * [...item.text].length).toFixed(1) : labelW + barW + 48}" y="${y + 17}" class="muted">${esc(item.note)}</text>` : '') +
      `</g>`
    );
  });
  return (
    `<svg data-chart="${opts.chart}"${opts.attrs ?? ''} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${esc(opts.title)}</title>${rows.join('')}</svg>`
  );
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** `2025-06-01` → `Jun 2025`. */
export const monthLabel = (date: string): string =>
  new Date(`${date.slice(0, 10)}T00:00:00.000Z`).toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
export const orDash = (v: string | null): string => esc(v ?? '–');
export const dayCount = (d: number | null): string => (d === null ? '–' : int(d));
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** `2025-06-01` → `Jun 1`. */
export const dayLabel = (date: string): string => new Date(`${date.slice(0, 10)}T00:00:00.000Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
