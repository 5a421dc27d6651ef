/**
 * Every key the warehouse keeps besides its tables, built in one place:
 *
 * - `_runs/<run_id>/`: a run's plan, its streams' markers, chains, the ids and versions each chunk
 *   stored, its completion, report, interruption and runner records;
 * - `_state/<integration>/<model>/`: a stream's commits, index files, hash layouts, lock and compaction records;
 * - `_state/_pii.json`: the personal-data mode the warehouse stores rows with;
 * - `_state/_registry.json`: the integrations the warehouse syncs; `_state/_webhooks/`: each
 *   integration's webhook trigger record and the webhook events already acted on;
 * - `_source.json`: which source the warehouse holds.
 *
 * The prefixes are exported for the storage lifecycle rule, the demo's clean-up and compaction.
 * Every segment is validated before it becomes part of a key.
 */
import { createHash } from 'node:crypto';
import { assertIntegrationId, assertNameSegment, assertRunId, assertSnapshotDate, hiveEscape } from '../warehouse/layout.ts';
import type { StreamRef } from './ref.ts';

/** Run state: one folder per run. */
export const RUNS_PREFIX = '_runs/';
/** Change capture state: one folder per stream. */
export const STATE_PREFIX = '_state/';
/** The warehouse's source record, at its root next to `_runs/`. */
export const SOURCE_KEY = '_source.json';

const part = (chunk: number, ext: string): string => `part-${String(chunk).padStart(5, '0')}.${ext}`;
const streamPath = (s: { readonly integrationId: string; readonly model: string }): string => `${hiveEscape(assertIntegrationId(s.integrationId))}/${assertNameSegment(s.model)}`;

/** Run state keys under `_runs/<run_id>/`. */
export const runKeys = {
  prefix: (runId: string) => `${RUNS_PREFIX}${assertRunId(runId)}/`,
  plan: (runId: string) => `${runKeys.prefix(runId)}plan.json`,
  /** The stream's marker; written once the stream finished (done, skipped or failed). */
  stream: (runId: string, integrationId: string, model: string) => `${runKeys.streamsPrefix(runId)}${streamPath({ integrationId, model })}.json`,
  streamsPrefix: (runId: string) => `${runKeys.prefix(runId)}streams/`,
  /** The markers of one integration's streams. */
  integrationStreamsPrefix: (runId: string, integrationId: string) => `${runKeys.streamsPrefix(runId)}${hiveEscape(assertIntegrationId(integrationId))}/`,
  /** One key per integration whose streams have all ended (see `completion.ts`). */
  endedPrefix: (runId: string) => `${runKeys.prefix(runId)}ended/`,
  ended: (runId: string, integrationId: string) => `${runKeys.endedPrefix(runId)}${hiveEscape(assertIntegrationId(integrationId))}.json`,
  success: (runId: string) => `${runKeys.prefix(runId)}_SUCCESS.json`,
  failed: (runId: string) => `${runKeys.prefix(runId)}_FAILED.json`,
  report: (runId: string) => `${runKeys.prefix(runId)}report.json`,
  /** The run's interruption marker (a signal stopped it before every stream ended). */
  interrupted: (runId: string) => `${runKeys.prefix(runId)}_INTERRUPTED.json`,
  /** The local process running the run. */
  runner: (runId: string) => `${runKeys.prefix(runId)}runner.json`,
  /** The chunk the stream's latest chain began at. */
  chain: (s: StreamRef) => `${runKeys.prefix(s.runId)}chains/${streamPath(s)}.json`,
  /** The ids each chunk of a stream kept. */
  idsPrefix: (s: StreamRef) => `${runKeys.prefix(s.runId)}ids/${streamPath(s)}/`,
  ids: (s: StreamRef, chunk: number) => `${runKeys.idsPrefix(s)}${part(chunk, 'txt')}`,
  /** The versions each chunk of a stream stored. */
  versionsPrefix: (s: StreamRef) => `${runKeys.prefix(s.runId)}versions/${streamPath(s)}/`,
  versions: (s: StreamRef, chunk: number) => `${runKeys.versionsPrefix(s)}${part(chunk, 'json')}`,
  /** Written by a nightly schedule's first deadline check, and kept by every later one. */
  deadlineCheck: (scheduleHash: string) => `${RUNS_PREFIX}_deadline-${scheduleHash}.json`,
  /** Runs minted on one UTC day (`YYYYMMDD`): run ids start with their day. */
  dayPrefix: (day: string) => `${RUNS_PREFIX}${day}`,
};

/** The run id of a key under `_runs/`, and the rest of its path. */
export function splitRunKey(key: string): { readonly runId: string; readonly file: string } | undefined {
  if (!key.startsWith(RUNS_PREFIX)) return undefined;
  const [runId, ...rest] = key.slice(RUNS_PREFIX.length).split('/');
  return runId === undefined || runId === '' ? undefined : { runId, file: rest.join('/') };
}

/** Change capture state keys under `_state/<integration>/<model>/`. */
export const stateKeys = {
  prefix: (integrationId: string, model: string) => `${STATE_PREFIX}${streamPath({ integrationId, model })}/`,
  stream: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}stream.json`,
  lock: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}lock.json`,
  /** The hash layouts the stream's index files were written under. */
  layouts: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}layouts.json`,
  indexPrefix: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}index/`,
  index: (integrationId: string, model: string, snapshotDate: string, runId: string) =>
    `${stateKeys.indexPrefix(integrationId, model)}${assertSnapshotDate(snapshotDate)}-${assertRunId(runId)}.json.gz`,
  /** Category values the stream's syncs found shared by enough records (`state/categories.ts`). */
  categories: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}categories.json`,
  /** A partition rewrite of compaction, until it is swapped in. */
  compactionPending: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}compaction.json`,
  /** The versions compaction kept before its cutoff. */
  compactionRetained: (integrationId: string, model: string) => `${stateKeys.prefix(integrationId, model)}retained.json.gz`,
  /** Where a compaction that stopped early left off. */
  compactionCursor: () => `${STATE_PREFIX}_compaction.json`,
  /** Hashes of the records erased on request, which no sync stores again. */
  erased: () => `${STATE_PREFIX}_erased.json.gz`,
  /** The personal-data mode (and hash scheme) the warehouse's rows are stored with. */
  pii: () => `${STATE_PREFIX}_pii.json`,
};

/** The stream a `_state/<integration>/<model>/stream.json` key belongs to (escaped id), else undefined. */
export function streamOfStateKey(key: string): { readonly escapedIntegrationId: string; readonly model: string } | undefined {
  const m = /^_state\/([^/]+)\/([^/]+)\/stream\.json$/.exec(key);
  return m === null ? undefined : { escapedIntegrationId: m[1]!, model: m[2]! };
}

/** Webhook state: the integrations registry, each integration's trigger record, the events acted on. */
export const webhookKeys = {
  registry: () => `${STATE_PREFIX}_registry.json`,
  prefix: () => `${STATE_PREFIX}_webhooks/`,
  trigger: (integrationId: string) => `${webhookKeys.prefix()}triggers/${hiveEscape(assertIntegrationId(integrationId))}.json`,
  /** Event ids are Kombo's, of any form: the key holds their SHA-256. */
  /** The event markers: only their first days matter (Kombo's retries), so a lifecycle rule may expire them. */
  eventsPrefix: () => `${webhookKeys.prefix()}events/`,
  event: (eventId: string) => `${webhookKeys.eventsPrefix()}${createHash('sha256').update(eventId).digest('hex')}.json`,
};
