/**
 * The `integrations` table on AWS: the planner's check of each integration and the dispatcher's
 * integration webhooks are recorded in it, through the warehouse bucket and the Glue catalog, when
 * the stack names the Glue database (`GLUE_DATABASE`).
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import type { PiiMode } from '../../flatten.ts';
import type { IntegrationUpdate } from '../../pipeline/integrations.ts';
import { recordIntegration } from '../../pipeline/integrations.ts';
import { GlueCatalog } from './glue-catalog.ts';
import type { S3Store } from './s3-store.ts';

/** `recordIntegration` bound to the bucket and Glue, or nothing when the function has no Glue database. */
export function integrationRecorder(
  env: { readonly glueDatabase?: string; readonly piiMode: PiiMode; readonly warehouse: { readonly bucket: string; readonly prefix: string } },
  store: S3Store,
  glue: () => GlueClient,
): { recordIntegration?: (u: IntegrationUpdate) => Promise<unknown> } {
  if (env.glueDatabase === undefined) return {};
  const catalog = new GlueCatalog({ client: glue(), database: env.glueDatabase, bucket: env.warehouse.bucket, prefix: env.warehouse.prefix });
  return { recordIntegration: (u) => recordIntegration({ store, catalog, now: () => new Date(), piiMode: env.piiMode }, u) };
}
