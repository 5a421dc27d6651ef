/**
 * The two ways to get sandbox data: a static picture, or the simulated company on any day of its
 * timeline. Kept apart from `data.ts` (the generator) and `timeline.ts` (the event log) so that
 * neither of those imports the other.
 */
import type { GenerateOptions, SandboxDataset } from './data.ts';
import { generateBase } from './data.ts';
import { SandboxTimeline } from './timeline.ts';

/**
 * Generates the sandbox dataset.
 *
 * Deterministic for a given seed and spec list; each integration draws from its own stream
 * (seed × integration id), so adding an integration does not change the others' records except
 * for the rare id that would collide. Nested objects (jobs, stages, tags, users, offices, email
 * lists) are shared between records: treat the result as read-only, or clone before mutating.
 *
 * Without `asOf` the data is a static picture as of {@link SANDBOX_DATA_AS_OF}, with every edge
 * case forced in. With `asOf` (`YYYY-MM-DD`) it is the simulated company of
 * {@link createSandboxTimeline} at the end of that day: the same people and jobs, but applications
 * created over time, moving through their job's stages, closed, hired or deleted day by day.
 */
export function generateDataset(opts: GenerateOptions & { asOf?: string } = {}): SandboxDataset {
  if (opts.asOf !== undefined) return createSandboxTimeline(opts).datasetAsOf(opts.asOf);
  return { integrations: generateBase(opts).integrations.map((b) => b.data) };
}

/**
 * The simulated clock: a seeded event log over the generated people and jobs, from which the
 * dataset as of any day is derived ({@link SandboxTimeline.datasetAsOf}) and against which tests
 * check the warehouse ({@link SandboxTimeline.stageEvents} and friends).
 */
export function createSandboxTimeline(opts: GenerateOptions = {}): SandboxTimeline {
  const base = generateBase(opts);
  return new SandboxTimeline(base.seed, base.integrations, base.ids);
}
