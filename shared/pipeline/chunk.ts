/**
 * Step 2: process one chunk of a stream. Fetch pages from the message's cursor (with the stream's
 * `updated_after` on an incremental sync) until the chunk's row or time budget, compare each record
 * with its last stored version, flatten the changed ones, write one Parquet file per table under
 * deterministic keys, then send the continuation or finish the stream.
 *
 * A chunk reads open → fetch → save → continue or finish: the stream is opened once
 * (`open-stream.ts`), its pages fetched into the chunk's work and its files and lists saved
 * (`fetch.ts`), then the step that leads to taken: the continuation sent, a restart, the stream's
 * end or its finish (`finish.ts`).
 *
 * What makes it safe under at-least-once delivery and a misbehaving API:
 * - the first chunk of a chain takes the stream's lock, so two runs never sync one stream at once;
 * - a message for a stream that already ended does nothing (but completing the run), nor does a
 *   message of a chain a retry or a restart replaced;
 * - records already returned earlier in the stream (a repeated record, on this page or across a
 *   chunk boundary) are dropped by id: each chunk writes the ids it kept next to the run state, and
 *   the next chunks read them;
 * - a cursor Kombo rejects restarts the stream from its first page, a bounded number of times;
 * - retries are bounded per request (the client) and per stream (here), so a 429 loop ends.
 */
import type { StreamMessage } from '../ports.ts';
import { KomboEtlError, errorMessage } from '../errors.ts';
import type { ChunkDeps, ChunkResult } from './chunk-types.ts';
import { fetchChunk } from './fetch.ts';
import { settleChunk } from './finish.ts';
import { openStream } from './open-stream.ts';

export * from './chunk-types.ts';

/**
 * Process one chunk: open the stream, fetch and save, then continue or finish. Never throws for a
 * problem of this stream (it ends the stream with a marker instead); throws `RunFatalError` for
 * problems that must stop the run, and store/queue errors so that the message is retried.
 */
export async function processChunk(deps: ChunkDeps, msg: StreamMessage): Promise<ChunkResult> {
  const opening = await openStream(deps, msg);
  if (opening.kind === 'ended') return { outcome: 'redelivered', totals: opening.marker.totals, marker: opening.marker };
  if (opening.kind === 'superseded') return { outcome: 'superseded', totals: msg.totals };
  const step = opening.kind === 'open' ? await fetchChunk(deps, opening.stream) : opening.step;
  return settleChunk(deps, msg, step);
}

/** For callers that must describe an unexpected error without leaking anything sensitive. */
export function describeFailure(err: unknown): string {
  return err instanceof KomboEtlError ? `${err.code}: ${err.message}` : errorMessage(err);
}
