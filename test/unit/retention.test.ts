/**
 * The retention rule is one: the CLI's `--retention-days`, the compactor Lambda's `RETENTION_DAYS`
 * and the CDK context `retentionDays` accept the same values, and 0 keeps every version.
 */
import { describe, expect, it } from 'vitest';
import { parseCompactConfig } from '../../cli/commands/compact.ts';
import { parseCompactorEnv, RETENTION_DAYS_ENV } from '../../shared/adapters/aws/compactor-env.ts';
import { ENV } from '../../shared/adapters/aws/env.ts';
import { ConfigError } from '../../shared/errors.ts';
import { BEFORE_ANY_SNAPSHOT, MAX_RETENTION_DAYS, retentionCutoff } from '../../shared/retention.ts';
import { parseConfig } from '../../infra/config.ts';

const cli = (days: string) => parseCompactConfig({ warehouse: 'wh', retentionDays: days }).retentionDays;
const lambda = (days: string) => parseCompactorEnv({ [ENV.warehouseBucket]: 'bucket', [ENV.glueDatabase]: 'db', [RETENTION_DAYS_ENV]: days }).retentionDays;
const cdk = (days: string) => parseConfig((key) => (key === 'retentionDays' ? days : undefined)).retentionDays;

describe('the retention rule', () => {
  it.each(['0', '1', '730', String(MAX_RETENTION_DAYS)])('%s days: the CLI, the Lambda and the CDK context read the same', (days) => {
    expect(cli(days)).toBe(Number(days));
    expect(lambda(days)).toBe(Number(days));
    expect(cdk(days)).toBe(Number(days));
  });

  it.each(['', '-1', '1.5', 'x', String(MAX_RETENTION_DAYS + 1)])('%j is refused by all three', (days) => {
    expect(() => cli(days)).toThrow(ConfigError);
    expect(() => lambda(days)).toThrow(ConfigError);
    expect(() => cdk(days)).toThrow(ConfigError);
  });

  it('0 keeps every version: the cutoff is before any snapshot; N days count back from today', () => {
    expect(retentionCutoff('2026-03-01', 0)).toBe(BEFORE_ANY_SNAPSHOT);
    expect(retentionCutoff('2026-03-01', 365)).toBe('2025-03-01');
    expect(() => retentionCutoff('2026-03-01', -1)).toThrow('from 0 to');
  });
});
