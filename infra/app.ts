/**
 * CDK app entry (`cdk.json`: `npx tsx infra/app.ts`). Reads the configuration from context, builds
 * the stack, and registers cdk-nag's AwsSolutions checks and its Function URL auth rule
 * (`url-checks.ts`): any unacknowledged finding fails synth.
 * The stack is environment-agnostic, so `npx cdk synth` needs no AWS credentials.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppProps } from 'aws-cdk-lib';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../shared/errors.ts';
import { parseContext } from './config.ts';
import { KomboEtlStack } from './stack.ts';
import { FunctionUrlChecks } from './url-checks.ts';

/**
 * CDK feature flags the stack relies on, set here rather than in `cdk.json` so that tests and the
 * CLI build the same template.
 */
export const FEATURE_FLAGS = {
  // Grant S3 log delivery through the log bucket's policy (ACLs are disabled on our buckets).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/** Build the app. Tests pass context and an output directory; the CLI passes neither. */
export function createApp(props: AppProps = {}): { app: App; stack: KomboEtlStack } {
  const app = new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
  const config = parseContext(app.node.getAllContext() as Record<string, unknown>);
  const stack = new KomboEtlStack(app, config.stackName, { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new FunctionUrlChecks(app));
  return { app, stack };
}

/** Exit code of the app (and so of `cdk synth`/`cdk deploy`) on a configuration error, as for the CLI. */
export const CONFIG_ERROR_EXIT = 2;

/** Synthesize, or print a configuration error as one line (no stack trace) and exit non-zero. */
export function synthOrExit(props: AppProps = {}): void {
  try {
    createApp(props).app.synth();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(CONFIG_ERROR_EXIT);
  }
}

const isEntryPoint = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntryPoint) synthOrExit();
