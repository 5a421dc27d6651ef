/** Terminal output: aligned tables, and a progress bar on a terminal or plain log lines otherwise. */
import cliProgress from 'cli-progress';
import type { StreamMessage } from '../shared/ports.ts';
import type { ChunkResult } from '../shared/pipeline/chunk.ts';
import type { RunPlan, RunReport } from '../shared/pipeline/state.ts';

/** Render rows as an aligned plain-text table (numbers right-aligned). */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const text = rows.map((r) => r.map(cell));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || (typeof r[i] === 'string' && /^-?\d+(\.\d+)?$/.test(r[i] as string))));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => [...(r[i] ?? '')].length)));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - [...s].length));
    return numeric[i] ? fill + s : s + fill;
  };
  const lines = [columns.map(pad).join('  '), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map((r) => r.map(pad).join('  '))];
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** Progress reporting for a sync: a bar of streams on a terminal, log lines elsewhere. */
export interface Progress {
  plan(plan: RunPlan): void;
  page(msg: StreamMessage, records: number): void;
  chunk(msg: StreamMessage, result: ChunkResult): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const log = (line: string) => stream.write(`${new Date().toISOString()} ${line}\n`);
  if (!stream.isTTY) {
    return {
      plan: (p) => log(`run ${p.runId}: ${p.streams.filter((s) => s.status === 'pending').length} streams to fetch, snapshot ${p.snapshotDate}`),
      page: () => undefined,
      chunk: (m, r) => log(`${m.integrationId} ${m.model} chunk ${m.chunk}: ${r.outcome}${r.code ? ` (${r.code})` : ''}, ${r.totals.pages} pages so far`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: 'syncing |{bar}| {value}/{total} streams | {records} records | {last}', hideCursor: true, stream, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let records = 0;
  return {
    plan: (p) => bar.start(p.streams.length, p.streams.filter((s) => s.status !== 'pending').length, { records, last: '' }),
    page: (m, n) => {
      records += n;
      bar.update({ records, last: `${m.integrationId} ${m.model}` });
    },
    chunk: (_m, r) => {
      if (r.outcome !== 'continued') bar.increment(1, { records });
    },
    stop: () => bar.stop(),
  };
}

/** The end-of-run table: one line per stream. */
export function formatReport(report: RunReport): string {
  const rows = [...report.streams]
    .sort((a, b) => a.integrationId.localeCompare(b.integrationId) || a.model.localeCompare(b.model))
    .map((s) => [
      s.integrationId,
      s.model,
      s.status,
      s.totals.rows[s.model] ?? 0,
      Object.values(s.totals.rows).reduce((a, b) => a + b, 0),
      s.totals.pages,
      s.totals.retries,
      s.code ?? '',
    ]);
  const failed = report.streams.filter((s) => s.status === 'failed');
  const lines = [formatTable(['integration', 'model', 'status', 'records', 'rows (all tables)', 'pages', 'retries', 'error code'], rows)];
  for (const s of report.streams.filter((x) => x.status !== 'done')) lines.push(`${s.status}: ${s.integrationId} ${s.model}: ${s.reason ?? ''}`);
  lines.push(`run ${report.runId} ${report.status} (${report.streams.length - failed.length}/${report.streams.length} streams complete)`);
  return lines.join('\n');
}
