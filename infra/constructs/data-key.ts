/**
 * The stack's data key: one customer-managed KMS key, rotated yearly, that encrypts the warehouse
 * bucket, the Athena query results and every log group of the stack. S3 data read with `s3:GetObject`
 * alone (a `ReadOnlyAccess` policy, say) stays ciphertext: a reader also needs `kms:Decrypt` on this key.
 *
 * Who may use it:
 * - the key policy: the account (so that IAM policies can grant the key, as for any KMS key), the
 *   CloudWatch Logs service of this region for this stack's log groups only, and, with Lake Formation,
 *   its service-linked role, which reads the registered warehouse for Athena;
 * - IAM: each function role that binds the warehouse or calls {@link grantUse}
 *   (`KomboFunction.grantDataKey`), and BI readers, whose policies name the key (docs/BI.md).
 *
 * The key outlives the stack and every update: data encrypted under a deleted key is lost, so only
 * `destroyData` (which deletes the data too) lets it go with the stack, after KMS's waiting period.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What writing and reading S3 objects under SSE-KMS needs: a data key to encrypt, and to decrypt it again. */
export const DATA_KEY_USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;
/** What CloudWatch Logs needs to encrypt and read back a log group's events. */
const LOGS_ACTIONS = ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'];
/** Lake Formation's role for registered locations, created by Lake Formation on first use. */
const LAKE_FORMATION_ROLE = 'aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess';

export interface DataKeyProps {
  /** Delete the key with the stack (after the waiting period), like the data. @default false: keep it. */
  readonly destroyData?: boolean;
}

export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DataKeyProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the warehouse, the Athena query results and the logs of ${stack.stackName}`,
      enableKeyRotation: true,
      // Retained on update and deletion (a replaced or deleted key would take every object encrypted
      // under it along); deleted only when a failed first deploy rolls back, before it encrypted anything.
      removalPolicy: props.destroyData === true ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      pendingWindow: Duration.days(30),
    });
    // Log group names are generated as "<stack name>-<logical id>-<suffix>": the condition holds this
    // stack's log groups and no other, without naming a log group (which would need the key first).
    const logGroups = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${stack.stackName}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisStack',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: LOGS_ACTIONS,
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroups } },
      }),
    );
  }

  /** Let `grantee` encrypt new objects and decrypt what it reads: the warehouse, query results. */
  grantUse(grantee: iam.IGrantable): iam.Grant {
    return this.key.grant(grantee, ...DATA_KEY_USE_ACTIONS);
  }

  /**
   * Let Lake Formation's service-linked role decrypt the warehouse it vends to Athena readers. Named
   * by a condition, not as the principal: KMS refuses a key policy naming a role that does not exist
   * yet, and Lake Formation creates this one only when the stack registers the location.
   */
  allowLakeFormation(): void {
    const stack = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LakeFormationDataAccess',
        principals: [new iam.AnyPrincipal()],
        actions: [...DATA_KEY_USE_ACTIONS],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:CallerAccount': stack.account },
          ArnEquals: { 'aws:PrincipalArn': stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: LAKE_FORMATION_ROLE }) },
        },
      }),
    );
  }
}
