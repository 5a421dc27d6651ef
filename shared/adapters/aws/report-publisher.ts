/**
 * The report step on AWS: the hiring report drawn from Athena (the same queries and the same page
 * as `kombo-etl report`), written to the bucket twice: `reports/latest.html`, replaced each night,
 * and `reports/<date>.html`, kept, named after the latest sync it shows.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { ReportQuery } from '../../analytics/report-data.ts';
import { loadReportData } from '../../analytics/report-data.ts';
import { renderReport } from '../../analytics/report-html.ts';
import { ENV } from './env.ts';

/** Key prefix of the reports in the bucket (outside the warehouse prefix: no table reads it). */
export const REPORTS_PREFIX = 'reports/';
/** The report of the latest night. */
export const LATEST_REPORT_KEY = `${REPORTS_PREFIX}latest.html`;
/** The report of the night whose latest sync is `date`. */
export const datedReportKey = (date: string): string => `${REPORTS_PREFIX}${date}.html`;

/** The Athena workgroup the reporter's queries run in (set by the CDK stack). */
export const ATHENA_WORKGROUP_ENV = 'ATHENA_WORKGROUP';
/** The bucket the reports are written to (set by the CDK stack). */
export const REPORTS_BUCKET_ENV = 'REPORTS_BUCKET';

export interface ReporterEnv {
  readonly bucket: string;
  readonly workGroup: string;
  readonly database: string;
}

const required = z.string({ error: 'is required (the CDK stack sets it)' }).trim().min(1, 'is empty');
const SCHEMA = z.object({ [REPORTS_BUCKET_ENV]: required, [ATHENA_WORKGROUP_ENV]: required, [ENV.glueDatabase]: required });

/** The reporter's environment. Throws a ConfigError naming the first bad variable. */
export function parseReporterEnv(env: NodeJS.ProcessEnv = process.env): ReporterEnv {
  const result = SCHEMA.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0] ?? '?')} ${issue?.message ?? 'is invalid'}`);
  }
  const e = result.data;
  return { bucket: e[REPORTS_BUCKET_ENV], workGroup: e[ATHENA_WORKGROUP_ENV], database: e[ENV.glueDatabase] };
}

export interface PublishDeps {
  readonly query: ReportQuery;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly now?: Date;
}

/** What was written. */
export interface PublishedReport {
  readonly bucket: string;
  readonly keys: readonly string[];
  /** The latest sync the report shows, or today (UTC) when there is none yet. */
  readonly date: string;
}

/** Draws the report and writes it under {@link REPORTS_PREFIX}: the dated copy first, then `latest.html`. */
export async function publishReport(deps: PublishDeps): Promise<PublishedReport> {
  const now = deps.now ?? new Date();
  const data = await loadReportData(deps.query, now);
  const latest = data.snapshots.map((s) => s.latest).sort().at(-1);
  const date = latest ?? now.toISOString().slice(0, 10);
  const html = renderReport(data);
  const keys = [datedReportKey(date), LATEST_REPORT_KEY];
  for (const key of keys) {
    await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: html, ContentType: 'text/html; charset=utf-8', CacheControl: 'no-cache' }));
  }
  return { bucket: deps.bucket, keys, date };
}
