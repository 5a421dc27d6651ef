/**
 * Fault injection for the Kombo sandbox: what can go wrong, how often, and a seeded decider so a
 * given seed replays the same faults for the same sequence of requests.
 */
import { z } from 'zod';
import type { SandboxModel } from './data.ts';
import { Rng } from './data.ts';

/** Faults the sandbox injects. Rates are per request, in [0, 1]; everything defaults to "never". */
export interface SandboxFaults {
  /** Answers 429 `PLATFORM.RATE_LIMIT_EXCEEDED` with `Retry-After` and `ratelimit-*` headers. */
  rate429?: number;
  /** `Retry-After` seconds on a 429 (default {@link DEFAULT_RETRY_AFTER_SECONDS}; 0 allowed). */
  retryAfterSeconds?: number;
  /**
   * Answers a server error, one of: 500 `PLATFORM.UNKNOWN_ERROR`, 503 `REMOTE.SERVICE_UNAVAILABLE`
   * (both Kombo error bodies), or a load balancer's 502 HTML / 503 plain-text page.
   */
  rate5xx?: number;
  /** Sends status, headers and about half the body, then destroys the socket. */
  rateReset?: number;
  /** Added to every request. */
  latencyMs?: number;
  /** Uniform extra latency in [0, latencyJitterMs]. */
  latencyJitterMs?: number;
  /** These streams answer `INTEGRATION.MODEL_NOT_AVAILABLE`. */
  modelNotAvailable?: { integrationId: string; model: SandboxModel }[];
  /** Every request for these integrations answers `INTEGRATION.AUTHENTICATION_INVALID`. */
  revokedIntegrations?: string[];
  /** Seed of the fault PRNG (defaults to the sandbox seed). */
  seed?: number;
}

/** `Retry-After` used when {@link SandboxFaults.retryAfterSeconds} is not set. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

const rate = z.number().min(0).max(1);

/** Validates fault settings, e.g. parsed from a `--faults` JSON option. Unknown keys are rejected (typos would silently disable a fault). */
export const sandboxFaultsSchema = z.strictObject({
  rate429: rate.optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  rate5xx: rate.optional(),
  rateReset: rate.optional(),
  latencyMs: z.number().min(0).optional(),
  latencyJitterMs: z.number().min(0).optional(),
  modelNotAvailable: z
    .array(z.strictObject({ integrationId: z.string().min(1), model: z.enum(['candidates', 'applications', 'interviews']) }))
    .optional(),
  revokedIntegrations: z.array(z.string().min(1)).optional(),
  seed: z.number().int().optional(),
});

// Compile-time guard: the schema and the hand-written interface must not drift apart.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesInterface: Equal<z.infer<typeof sandboxFaultsSchema>, SandboxFaults> = true;
void schemaMatchesInterface;

/**
 * Parses and validates fault settings.
 * @throws Error naming the offending field, e.g. `Invalid sandbox faults: rate429: Too big: expected number to be <=1`.
 */
export function parseSandboxFaults(input: unknown): SandboxFaults {
  const result = sandboxFaultsSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid sandbox faults: ${detail}`);
  }
  return result.data;
}

/** Which server error a 5xx fault produces. */
export type ServerErrorKind = 'unknown-error-500' | 'service-unavailable-503' | 'load-balancer-502' | 'load-balancer-503';

const SERVER_ERROR_KINDS: readonly ServerErrorKind[] = [
  'unknown-error-500',
  'service-unavailable-503',
  'load-balancer-502',
  'load-balancer-503',
];

/** What to do to one request. */
export type FaultDecision =
  | { kind: 'none'; delayMs: number }
  | { kind: 'rate-limit'; delayMs: number; retryAfterSeconds: number }
  | { kind: 'server-error'; delayMs: number; error: ServerErrorKind }
  | { kind: 'reset'; delayMs: number };

/** Draws one decision per request from a seeded PRNG. */
export interface FaultDecider {
  /** The decision for the next request. */
  next(): FaultDecision;
}

/**
 * A decider for `faults`. It always draws the same number of values per request, so the decision
 * for request n depends only on the seed and n, never on which faults were enabled earlier.
 * When several faults fire at once the most "upstream" wins: 429, then 5xx, then reset.
 */
export function createFaultDecider(faults: SandboxFaults, fallbackSeed: number): FaultDecider {
  const rng = new Rng(faults.seed ?? fallbackSeed);
  return {
    next(): FaultDecision {
      const u429 = rng.next();
      const u5xx = rng.next();
      const uReset = rng.next();
      const uKind = rng.next();
      const uJitter = rng.next();
      const delayMs = (faults.latencyMs ?? 0) + Math.floor(uJitter * ((faults.latencyJitterMs ?? 0) + 1));
      if (u429 < (faults.rate429 ?? 0)) {
        return { kind: 'rate-limit', delayMs, retryAfterSeconds: faults.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS };
      }
      if (u5xx < (faults.rate5xx ?? 0)) {
        return { kind: 'server-error', delayMs, error: SERVER_ERROR_KINDS[Math.floor(uKind * SERVER_ERROR_KINDS.length)] as ServerErrorKind };
      }
      if (uReset < (faults.rateReset ?? 0)) return { kind: 'reset', delayMs };
      return { kind: 'none', delayMs };
    },
  };
}

/** Whether `model` is switched off for `integrationId`. */
export function isModelUnavailable(faults: SandboxFaults, integrationId: string, model: SandboxModel): boolean {
  return (faults.modelNotAvailable ?? []).some((m) => m.integrationId === integrationId && m.model === model);
}

/** Whether the integration's credentials are revoked. */
export function isRevoked(faults: SandboxFaults, integrationId: string): boolean {
  return (faults.revokedIntegrations ?? []).includes(integrationId);
}
