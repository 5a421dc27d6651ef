/**
 * The built-in Kombo sandbox: seeded ATS data (candidates, applications, interviews and the rest of
 * the funnel: jobs, offers, users, rejection reasons, application stages, tags) ({@link generateDataset}) served over a local HTTP
 * server that speaks Kombo's API ({@link startSandbox}), with injectable faults.
 */
export type {
  SandboxDataset,
  SandboxIntegrationData,
  SandboxIntegrationSpec,
  SandboxJob,
  SandboxModel,
  SandboxQuestionType,
  SandboxScreeningQuestion,
  SandboxStage,
  SandboxUser,
} from './data.ts';
export {
  DEFAULT_SANDBOX_INTEGRATIONS,
  DEFAULT_SANDBOX_SEED,
  OFFER_DECLINED_REASON,
  SANDBOX_DATA_AS_OF,
  SANDBOX_MODELS,
  WITHDRAWAL_REASON,
  modelRecords,
  sortById,
} from './data.ts';
export type { SandboxFunnelModel, SandboxFunnelRecords } from './funnel.ts';
export { SANDBOX_FUNNEL_MODELS } from './funnel.ts';
export { createSandboxTimeline, generateDataset } from './dataset.ts';
export type { GenerateOptions } from './data.ts';
export type {
  SandboxApplicationHistory,
  SandboxCandidateHistory,
  SandboxInterviewHistory,
  SandboxJobHistory,
  SandboxJobKind,
  SandboxJobStatus,
  SandboxNamedEntry,
  SandboxOfferHistory,
  SandboxOfferStatus,
  SandboxUserHistory,
  SandboxStageStretch,
  SandboxTimeline,
  StretchOutcome,
} from './timeline.ts';
export {
  SANDBOX_DEMO_FIRST_DAY,
  SANDBOX_TIMELINE_ARRIVAL_DAYS,
  SANDBOX_TIMELINE_START,
  asOfInstant,
  consecutiveDays,
  sandboxJobStatusAt,
} from './timeline.ts';
export type { BadDataFault, FaultDecider, FaultDecision, PageBadDataKind, RecordOddity, RetryAfterForm, SandboxFaults, ServerErrorKind } from './faults.ts';
export {
  DEFAULT_RETRY_AFTER_SECONDS,
  DEFAULT_SLOW_MS,
  HUGE_STRING_BYTES,
  MANY_CUSTOM_FIELDS,
  RECORD_ODDITIES,
  UNKNOWN_OUTCOME,
  UNKNOWN_QUESTION_TYPE,
  applyOddities,
  createFaultDecider,
  makeOdd,
  parseSandboxFaults,
  sandboxFaultsSchema,
} from './faults.ts';
export type { RateLimitVerdict, SandboxRateLimit } from './rate-limit.ts';
export { RateLimiter } from './rate-limit.ts';
export type { RunningSandbox, SandboxOptions, SandboxStats } from './server.ts';
export {
  SANDBOX_API_KEY,
  SANDBOX_DEFAULT_PAGE_SIZE,
  SANDBOX_MAX_PAGE_SIZE,
  SANDBOX_RATE_LIMIT,
  sandboxNow,
  startSandbox,
  updatedSince,
} from './server.ts';
export type { NewSandboxIntegration } from './server.ts';
export { SANDBOX_MAX_NEW_INTEGRATION_CANDIDATES, SANDBOX_NEW_INTEGRATION_CANDIDATES } from './server.ts';
export type { SandboxWebhookEvent, SandboxWebhookOptions, SandboxWebhookStats } from './webhooks.ts';
export { KOMBO_MODEL_NAMES, SIGNATURE_HEADER, WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS, checkWebhookUrl, signWebhookBody } from './webhooks.ts';
