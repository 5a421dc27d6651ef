/**
 * The compactor Lambda's environment, parsed once per container. The warehouse and Glue variables
 * are the ones every function shares (`env.ts`); the retention is the compactor's own.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { RETENTION_RULE, retentionDaysOf } from '../../retention.ts';
import type { WarehouseEnv } from './env.ts';
import { DEFAULT_WAREHOUSE_PREFIX, ENV } from './env.ts';

/** Days of history kept whole (the `retentionDays` CDK context): see `shared/retention.ts`; 0 keeps every version, and the compactor only erases. */
export const RETENTION_DAYS_ENV = 'RETENTION_DAYS';

export interface CompactorEnv {
  readonly warehouse: WarehouseEnv;
  readonly glueDatabase: string;
  readonly retentionDays: number;
}

const required = z.string({ error: 'is required (the CDK stack sets it)' }).trim().min(1, 'is empty');

const SCHEMA = z.object({
  [ENV.warehouseBucket]: required,
  [ENV.warehousePrefix]: z
    .string()
    .trim()
    .regex(/^([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/, 'must be a key prefix such as "warehouse", without leading or trailing "/"')
    .default(DEFAULT_WAREHOUSE_PREFIX),
  [ENV.glueDatabase]: required,
  [RETENTION_DAYS_ENV]: required.transform((v, ctx) => {
    const days = retentionDaysOf(v);
    if (days === undefined) ctx.addIssue({ code: 'custom', message: `must be ${RETENTION_RULE}` });
    return days ?? z.NEVER;
  }),
});

/** The compactor's environment. Throws a ConfigError naming the first bad variable. */
export function parseCompactorEnv(env: NodeJS.ProcessEnv = process.env): CompactorEnv {
  const result = SCHEMA.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`environment variable ${String(issue?.path[0] ?? '?')} ${issue?.message ?? 'is invalid'}`);
  }
  const e = result.data;
  return { warehouse: { bucket: e[ENV.warehouseBucket], prefix: e[ENV.warehousePrefix] }, glueDatabase: e[ENV.glueDatabase], retentionDays: e[RETENTION_DAYS_ENV] };
}
