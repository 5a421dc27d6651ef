/** AWS adapters of the pipeline's ports (S3, SQS, Glue) and the Lambda-side plumbing around them. */
export * from './env.ts';
export * from './events.ts';
export * from './glue-catalog.ts';
export * from './glue-schema.ts';
export * from './registry.ts';
export * from './s3-store.ts';
export * from './secret.ts';
export * from './sqs-queue.ts';
export * from './chunk-report.ts';
export * from './webhooks.ts';
export * from './integration-recorder.ts';
