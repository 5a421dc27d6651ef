/**
 * Where a chunk or a finish can die, for the tests that make it die there.
 */
import type { StreamRef } from '../state/ref.ts';

/**
 * The step boundaries of a chunk, in order, where a Lambda can die: after fetching, after writing
 * some tables, after all of them, after sending the continuation; in finishing, after the deletion
 * versions and the index of what was stored, after registering some partitions, after all of them
 * and the `syncs` row, after the commit (the new watermark), after the stream's marker, and after
 * the whole finish.
 */
export const FAULT_POINTS = [
  'after-fetch',
  'after-some-tables',
  'after-all-tables',
  'after-continuation',
  'after-versions',
  'after-some-partitions',
  'after-partitions',
  'after-commit',
  'after-stream-marker',
  'after-finish',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at every {@link FaultPoint}; tests make it throw (a crash) or wait (a race). */
export type FaultHook = (point: FaultPoint, msg: StreamMessageRef) => void | Promise<void>;

/** The part of a stream message a fault hook sees. */
export type StreamMessageRef = StreamRef & { readonly chunk?: number };
