/**
 * Hand-written application histories for the survival, cohort and data-quality views: one
 * description feeds both the rows inserted into an in-memory DuckDB carrying the real views and the
 * plain TypeScript that computes what the views should answer, so the two never share code.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { DUCKDB_TYPES, analyticsViewStatements, quoteLiteral } from '../../shared/adapters/local/duckdb.ts';
import { CATALOG_TABLES, PARTITION_COLUMNS } from '../../shared/tables.ts';

export const INTEGRATION = 'acme';

/** One stored version of an application. */
export interface AppVersion {
  readonly date: string;
  /** `PENDING` when omitted. */
  readonly outcome?: string;
  readonly stage?: string | null;
  readonly reason?: string | null;
  readonly deleted?: boolean;
  readonly job?: string | null;
  /** `remote_updated_at`, an ISO timestamp. */
  readonly updatedAt?: string;
  /** `changed_at`, an ISO timestamp. */
  readonly changedAt?: string;
  /** `_synced_at`, the start of the sync that stored the version (an ISO timestamp); `<date>T02:00:00Z` when omitted. */
  readonly at?: string;
  /** The offers nested in the version (`application_offers` rows, stored with the version's `_synced_at`). */
  readonly offers?: readonly { readonly id: string; readonly status: string }[];
}

export interface HandApp {
  readonly id: string;
  readonly job: string | null;
  readonly candidate?: string;
  /** `remote_created_at`, an ISO timestamp; null when the ATS gives none. */
  readonly created: string | null;
  readonly versions: readonly AppVersion[];
}

/** A job and its stages, in order (index = place in the list). */
export interface HandJob {
  readonly id: string;
  readonly stages: readonly string[];
}

const lit = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined ? 'NULL' : typeof v === 'string' ? quoteLiteral(v) : String(v);

/** The `_synced_at` of a version. */
const syncedAt = (v: AppVersion): string => v.at ?? `${v.date}T02:00:00Z`;

/** INSERT statements for the applications of `apps` (stage index from the job's list). */
export function applicationRows(apps: readonly HandApp[], jobs: readonly HandJob[]): string {
  const values = apps.flatMap((a) =>
    a.versions.map((v) => {
      const job = v.job === undefined ? a.job : v.job;
      const stages = jobs.find((j) => j.id === job)?.stages ?? [];
      const stage = v.stage ?? null;
      const index = stage === null ? null : stages.indexOf(stage) >= 0 ? stages.indexOf(stage) : null;
      const created = a.created === null ? 'NULL' : `TIMESTAMPTZ ${quoteLiteral(a.created)}`;
      const ts = (x: string | undefined): string => (x === undefined ? 'NULL' : `TIMESTAMPTZ ${quoteLiteral(x)}`);
      return `(${[lit(a.id), lit(job), lit(job), lit(v.outcome ?? 'PENDING'), lit(v.reason ?? null), lit(stage), lit(stage), lit(index), lit(a.candidate ?? `c-${a.id}`)].join(', ')}, ${created}, ${ts(v.updatedAt)}, ${ts(v.changedAt)}, ${lit(v.deleted === true)}, TIMESTAMPTZ ${quoteLiteral(syncedAt(v))}, DATE ${quoteLiteral(v.date)}, ${lit(INTEGRATION)})`;
    }),
  );
  return `INSERT INTO applications (id, job_id, job_name, outcome, rejection_reason_name, current_stage_id, current_stage_name, current_stage_index, candidate_id,
    remote_created_at, remote_updated_at, changed_at, "_is_deleted", "_synced_at", snapshot_date, integration_id) VALUES ${values.join(',\n')}`;
}

/** The INSERT of the offers nested in the versions of `apps`, each row with its version's date and `_synced_at`; null when none. */
export function applicationOfferRows(apps: readonly HandApp[]): string | null {
  const values = apps.flatMap((a) =>
    a.versions.flatMap((v) =>
      (v.offers ?? []).map((o, k) => `(${[lit(a.id), lit(k), lit(o.id), lit(o.status)].join(', ')}, TIMESTAMPTZ ${quoteLiteral(syncedAt(v))}, DATE ${quoteLiteral(v.date)}, ${lit(INTEGRATION)})`),
    ),
  );
  if (values.length === 0) return null;
  return `INSERT INTO application_offers (application_id, "position", offer_id, status, "_synced_at", snapshot_date, integration_id) VALUES ${values.join(', ')}`;
}

/** INSERT statements for jobs (one version, on `date`) and their stages. */
export function jobRows(jobs: readonly HandJob[], date: string): string[] {
  if (jobs.length === 0) return [];
  const snap = `DATE ${quoteLiteral(date)}, ${lit(INTEGRATION)}`;
  const stageValues = jobs.flatMap((j) => j.stages.map((s, k) => `(${lit(j.id)}, ${k}, ${lit(s)}, ${lit(s)}, ${k}, ${snap})`));
  return [
    `INSERT INTO jobs (id, name, status, snapshot_date, integration_id) VALUES ${jobs.map((j) => `(${lit(j.id)}, ${lit(j.id)}, 'OPEN', ${snap})`).join(', ')}`,
    ...(stageValues.length > 0 ? [`INSERT INTO job_stages (job_id, "position", stage_id, name, "index", snapshot_date, integration_id) VALUES ${stageValues.join(', ')}`] : []),
  ];
}

/** One `syncs` row per model and date (`full` on the dates in `full`, else `incremental`), started at 01:00 UTC. */
export function syncRows(models: readonly string[], dates: readonly string[], full: readonly string[] = [dates[0] as string]): string {
  const values = models.flatMap((m) =>
    dates.map(
      (d) =>
        `(${lit(m)}, ${lit(`run-${d}`)}, ${lit(full.includes(d) ? 'full' : 'incremental')}, TIMESTAMPTZ ${quoteLiteral(`${d}T01:00:00Z`)}, TIMESTAMPTZ ${quoteLiteral(`${d}T02:00:00Z`)}, DATE ${quoteLiteral(d)}, ${lit(INTEGRATION)})`,
    ),
  );
  return `INSERT INTO syncs (model, run_id, mode, started_at, valid_from, snapshot_date, integration_id) VALUES ${values.join(', ')}`;
}

/** One stored version of the integration's row in `integrations`. */
export interface IntegrationVersion {
  /** `_synced_at`, an ISO timestamp; the snapshot date is its UTC date. */
  readonly at: string;
  readonly organization: string | null;
  readonly deleted?: boolean;
}

/** The INSERT of the versions of the integration's row in `integrations`. */
export function integrationRows(versions: readonly IntegrationVersion[]): string {
  const values = versions.map(
    (v) =>
      `(${[lit(INTEGRATION), lit('greenhouse'), lit(v.organization), lit(v.deleted === true)].join(', ')}, TIMESTAMPTZ ${quoteLiteral(v.at)}, DATE ${quoteLiteral(v.at.slice(0, 10))}, ${lit(INTEGRATION)})`,
  );
  return `INSERT INTO integrations (id, tool, end_user_organization_name, "_is_deleted", "_synced_at", snapshot_date, integration_id) VALUES ${values.join(', ')}`;
}

/**
 * One `syncs` row per model and sync start (ISO timestamps, several a day allowed): its date is the
 * start's UTC date, `started_at` and `valid_from` the start itself; `full` for the first start.
 */
export function syncRowsAt(models: readonly string[], starts: readonly string[]): string {
  const values = models.flatMap((m) =>
    starts.map(
      (s, k) =>
        `(${lit(m)}, ${lit(`run-${s}`)}, ${lit(k === 0 ? 'full' : 'incremental')}, TIMESTAMPTZ ${quoteLiteral(s)}, TIMESTAMPTZ ${quoteLiteral(s)}, DATE ${quoteLiteral(s.slice(0, 10))}, ${lit(INTEGRATION)})`,
    ),
  );
  return `INSERT INTO syncs (model, run_id, mode, started_at, valid_from, snapshot_date, integration_id) VALUES ${values.join(', ')}`;
}

/** An in-memory DuckDB with every catalog table (empty, `syncs` included) and the real views over them. */
export async function handWarehouse<T>(body: (run: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run("SET TimeZone = 'UTC'");
    for (const t of CATALOG_TABLES) {
      const cols = [...t.columns, ...PARTITION_COLUMNS].map((c) => `"${c.name}" ${DUCKDB_TYPES[c.type]}`);
      await con.run(`CREATE TABLE "${t.name}" (${cols.join(', ')})`);
    }
    for (const statement of analyticsViewStatements()) await con.run(statement);
    return await body(async (sql) => {
      const reader = await con.runAndReadAll(sql);
      const types = reader.columnTypes().map(String);
      const names = reader.columnNames();
      return reader.getRowsJson().map((row) =>
        Object.fromEntries(names.map((n, i) => [n, (types[i] === 'BIGINT' || types[i] === 'HUGEINT') && row[i] !== null ? Number(row[i]) : row[i]])),
      );
    });
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** Whole days from one ISO date (or timestamp) to another, by UTC date. */
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to.slice(0, 10)) - Date.parse(from.slice(0, 10))) / 86_400_000);

/** One point of a Kaplan–Meier curve. */
export interface KmPoint {
  readonly day: number;
  readonly at_risk: number;
  readonly hired: number;
  readonly censored: number;
  readonly share_hired: number;
}

/** Kaplan–Meier over (duration, event) pairs: one point per duration where a clock stopped. */
export function kaplanMeier(subjects: readonly { duration: number; event: boolean }[]): KmPoint[] {
  const days = [...new Set(subjects.map((s) => s.duration))].sort((a, b) => a - b);
  let survival = 1;
  return days.map((day) => {
    const atRisk = subjects.filter((s) => s.duration >= day).length;
    const hired = subjects.filter((s) => s.duration === day && s.event).length;
    const censored = subjects.filter((s) => s.duration === day && !s.event).length;
    survival *= 1 - hired / atRisk;
    return { day, at_risk: atRisk, hired, censored, share_hired: 1 - survival };
  });
}

/** The first duration whose share reaches `p`; null when the curve never does. */
export function kmQuantile(curve: readonly KmPoint[], p: number): number | null {
  return curve.find((c) => c.share_hired >= p - 1e-9)?.day ?? null;
}

/** The median of numbers (mean of the middle two); null when none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
