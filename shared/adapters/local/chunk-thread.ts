/**
 * The body of a chunk worker thread (see `chunk-threads.ts`): it holds the {@link ChunkWorkCore}
 * of every chunk the main thread opened on it and answers each request in the order it came.
 */
import { parentPort } from 'node:worker_threads';
import { KomboEtlError } from '../../errors.ts';
import { ChunkWorkCore } from '../../pipeline/chunk-work.ts';
import type { ThreadReply, ThreadRequest } from './chunk-threads.ts';

const port = parentPort;
if (!port) throw new Error('chunk-thread.ts runs as a worker thread only');

const chunks = new Map<number, ChunkWorkCore>();

function answer(req: ThreadRequest): ThreadReply {
  try {
    switch (req.op) {
      case 'open':
        chunks.set(req.id, new ChunkWorkCore(req.init));
        return { seq: req.seq, ok: true, value: null };
      case 'page':
        return { seq: req.seq, ok: true, value: core(req.id).page(req.input, req.loc) };
      case 'finish':
        return { seq: req.seq, ok: true, value: core(req.id).finish() };
      case 'close':
        chunks.delete(req.id);
        return { seq: req.seq, ok: true, value: null };
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return {
      seq: req.seq,
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        ...(err instanceof KomboEtlError && { kind: err.kind, code: err.code, location: err.location }),
      },
    };
  }
}

function core(id: number): ChunkWorkCore {
  const c = chunks.get(id);
  if (!c) throw new Error(`no open chunk ${id} on this thread`);
  return c;
}

port.on('message', (req: ThreadRequest) => {
  const reply = answer(req);
  const files = reply.ok && req.op === 'finish' ? (reply.value as (Uint8Array | undefined)[]) : [];
  // Finished files move to the main thread without a copy.
  const transfer = [...new Set(files.flatMap((f) => (f ? [f.buffer as ArrayBuffer] : [])))];
  port.postMessage(reply, transfer);
});
