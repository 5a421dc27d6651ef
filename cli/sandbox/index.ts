/**
 * The built-in Kombo sandbox: seeded ATS data ({@link generateDataset}) served over a local HTTP
 * server that speaks Kombo's API ({@link startSandbox}), with injectable faults.
 */
export type {
  SandboxDataset,
  SandboxIntegrationData,
  SandboxIntegrationSpec,
  SandboxJob,
  SandboxModel,
  SandboxStage,
} from './data.ts';
export {
  DEFAULT_SANDBOX_INTEGRATIONS,
  DEFAULT_SANDBOX_SEED,
  SANDBOX_DATA_AS_OF,
  SANDBOX_MODELS,
  generateDataset,
} from './data.ts';
export type { FaultDecider, FaultDecision, SandboxFaults, ServerErrorKind } from './faults.ts';
export { DEFAULT_RETRY_AFTER_SECONDS, createFaultDecider, parseSandboxFaults, sandboxFaultsSchema } from './faults.ts';
export type { RunningSandbox, SandboxOptions, SandboxStats } from './server.ts';
export {
  SANDBOX_API_KEY,
  SANDBOX_DEFAULT_PAGE_SIZE,
  SANDBOX_MAX_PAGE_SIZE,
  SANDBOX_RATE_LIMIT,
  startSandbox,
} from './server.ts';
