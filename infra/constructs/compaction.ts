/**
 * Compaction: the compactor Lambda and its weekly schedule. Retention of a warehouse of versions
 * cannot be an S3 lifecycle rule by age (a record unchanged for years has its only row in an old
 * partition), so the compactor rewrites old partitions without what the retention no longer
 * needs, and the lifecycle rule only expires run state.
 */
import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { RETENTION_DAYS_ENV } from '../../shared/adapters/aws/compactor-env.ts';
import { keepsEveryVersion } from '../../shared/retention.ts';
import { RUNS_PREFIX, STATE_PREFIX } from '../../shared/state/keys.ts';
import type { DataKey } from './data-key.ts';
import { KomboFunction, schedulerRole } from './function.ts';

/** Lambda's longest: the compactor stops taking streams a few minutes before it. */
export const COMPACTOR_TIMEOUT = Duration.minutes(15);
/** A partition is rewritten in memory. */
export const COMPACTOR_MEMORY_MB = 3008;
/** Hours between the nightly run's start and the compaction, so that neither meets the other's streams. */
export const COMPACTION_HOURS_AFTER_RUN = 12;

/**
 * The daily compaction's cron: {@link COMPACTION_HOURS_AFTER_RUN} hours after the hour the nightly run
 * starts (14:00 for a run at 02:00), at 14:00 when that hour is not a single number. Daily, because
 * it consolidates each day that is over (many syncs a day leave many small files) as well as
 * applying the retention.
 */
export function compactionSchedule(nightly: string): string {
  const hour = /^cron\(\S+ (\d{1,2}) /.exec(nightly)?.[1];
  const at = hour === undefined ? 14 : (Number(hour) + COMPACTION_HOURS_AFTER_RUN) % 24;
  return `cron(0 ${at} * * ? *)`;
}

export interface CompactionProps {
  readonly warehouse: IBucket;
  readonly warehousePrefix: string;
  readonly databaseName: string;
  readonly tableNames: readonly string[];
  /** Days of history kept whole; 0 keeps every version (the daily compaction then only consolidates, and erases when invoked). */
  readonly retentionDays: number;
  /** The nightly run's cron, in `timezone`: the compaction runs away from it. */
  readonly nightlySchedule: string;
  readonly timezone: string;
  readonly logRetention: logs.RetentionDays;
  readonly serviceName: string;
  /** Encrypts the warehouse and the compactor's logs. */
  readonly dataKey: DataKey;
}

export class Compaction extends Construct {
  readonly compactor: KomboFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    this.compactor = new KomboFunction(this, 'Compactor', {
      name: 'compactor',
      description: 'Applies the retention to the kombo-etl warehouse: removes superseded versions and records deleted before the cutoff; erases records on request.',
      timeout: COMPACTOR_TIMEOUT,
      memorySize: COMPACTOR_MEMORY_MB,
      logRetention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      serviceName: props.serviceName,
      dataKey: props.dataKey,
    })
      // The tables' folders, run state (it removes runs past the retention) and stream state.
      .bindWarehouse(props.warehouse, props.warehousePrefix, [...props.tableNames.map((t) => `${t}/`), RUNS_PREFIX, STATE_PREFIX])
      .bindCatalog(props.databaseName, props.tableNames, { remove: true });
    this.compactor.function.addEnvironment(RETENTION_DAYS_ENV, String(props.retentionDays));

    const role = schedulerRole(this, this.compactor, 'compactor');
    this.schedule = new scheduler.Schedule(this, 'DailyCompaction', {
      description: keepsEveryVersion(props.retentionDays)
        ? 'Consolidates the kombo-etl partitions of days that are over into few files (every version is kept: retentionDays 0).'
        : 'Consolidates the kombo-etl partitions of days that are over into few files, and applies the retention: compacts versions older than it.',
      schedule: scheduler.ScheduleExpression.expression(compactionSchedule(props.nightlySchedule), TimeZone.of(props.timezone)),
      target: new LambdaInvoke(this.compactor.function, { role, input: scheduler.ScheduleTargetInput.fromObject({}), retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
  }
}
