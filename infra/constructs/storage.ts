/**
 * Storage: the warehouse bucket, the Athena results bucket and the access-log bucket they both log
 * to. The warehouse and the results: encrypted with the stack's data key (SSE-KMS with S3 Bucket
 * Keys, see `data-key.ts`); the access logs: S3-managed encryption, the only one S3 delivers server
 * access logs into. All three: public access blocked, TLS required, incomplete multipart
 * uploads aborted after a day. Run state (`_runs/`) expires after the retention, the ids of the
 * webhook events acted on after {@link WEBHOOK_EVENT_ID_DAYS} days; the tables never
 * expire by age: a record unchanged for years has its only row in an old partition, so the
 * compactor (`compaction.ts`) applies the retention to them. Data is retained when the stack is
 * deleted unless `destroyData` is set.
 */
import { RUNS_PREFIX, webhookKeys } from '../../shared/state/keys.ts';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keepsEveryVersion } from '../../shared/retention.ts';

/** Days Athena query results are kept: they are re-creatable, and may hold copies of data. */
export const ATHENA_RESULTS_EXPIRY_DAYS = 30;
/** Days the id of a webhook event acted on is kept (a redelivery within them has no effect). */
export const WEBHOOK_EVENT_ID_DAYS = 30;

/** The folder of the webhook event ids under the warehouse prefix (the state layer's name for it). */
export const webhookEventsPrefix = (): string => webhookKeys.eventsPrefix();

/** Days S3 server access logs are kept. */
export const ACCESS_LOG_EXPIRY_DAYS = 365;
/** Key prefix of query results in the results bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface StorageProps {
  /** Key prefix of the warehouse in its bucket. */
  readonly warehousePrefix: string;
  /**
   * Days after which run state (`_runs/`) expires; 0 keeps it forever. Table data is never expired
   * by a lifecycle rule: the compactor removes what the retention no longer needs.
   */
  readonly retentionDays: number;
  /** Delete the buckets and their objects with the stack. @default false: retain them. */
  readonly destroyData?: boolean;
  /** Encrypts the warehouse and the query results. */
  readonly encryptionKey: kms.IKey;
}

export class Storage extends Construct {
  readonly warehouse: s3.Bucket;
  readonly athenaResults: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const destroy = props.destroyData ?? false;
    const lifetime = {
      // Kept on stack deletion, deleted when a failed first deploy rolls back (still empty then).
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      autoDeleteObjects: destroy,
    };
    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    };
    const abortMultipart: s3.LifecycleRule = { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

    // One data key per bucket-day instead of one KMS request per object.
    const withKey = { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true };

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // S3 delivers server access logs only into a bucket encrypted with S3-managed keys.
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...lifetime,
      lifecycleRules: [abortMultipart, { id: 'ExpireAccessLogs', expiration: Duration.days(ACCESS_LOG_EXPIRY_DAYS) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the other buckets; logging it into itself would log its own log deliveries without end.',
    });

    // Never a rule on the table prefixes: age says nothing of whether a version is still current.
    const runStateExpiry: s3.LifecycleRule[] =
      !keepsEveryVersion(props.retentionDays) ? [{ id: 'ExpireRunState', prefix: `${props.warehousePrefix}/${RUNS_PREFIX}`, expiration: Duration.days(props.retentionDays) }] : [];
    // The ids of webhook events acted on only stop a redelivery from acting twice: Kombo's are minutes apart, not weeks.
    const eventIdExpiry: s3.LifecycleRule = { id: 'ExpireWebhookEventIds', prefix: `${props.warehousePrefix}/${webhookEventsPrefix()}`, expiration: Duration.days(WEBHOOK_EVENT_ID_DAYS) };
    this.warehouse = new s3.Bucket(this, 'Warehouse', {
      ...secure,
      ...withKey,
      ...lifetime,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'warehouse/',
      lifecycleRules: [abortMultipart, ...runStateExpiry, eventIdExpiry],
    });

    this.athenaResults = new s3.Bucket(this, 'AthenaResults', {
      ...secure,
      ...withKey,
      ...lifetime,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [abortMultipart, { id: 'ExpireQueryResults', expiration: Duration.days(ATHENA_RESULTS_EXPIRY_DAYS) }],
    });
  }
}
