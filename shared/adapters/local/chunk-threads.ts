/**
 * Worker threads that parse, validate, flatten and encode pages for the local runner
 * (`ChunkWork`, see `pipeline/chunk-work.ts`). The main thread keeps the requests, the pacing
 * gate, the limits and the writes, so that it is free to answer Kombo's responses and send the
 * next requests the moment they are due, however many streams share the process. A Lambda
 * fetcher runs one chunk per process and does the work inline.
 *
 * A chunk lives on one thread for its whole life: pages reach it in order, and its files come back
 * without a copy.
 */
import { Worker } from 'node:worker_threads';
import type { FailureKind, FailureLocation } from '../../errors.ts';
import { DataError } from '../../errors.ts';
import type { Page, RawPage } from '../../kombo/client.ts';
import type { ChunkWork, ChunkWorkFactory, ChunkWorkInit, PageOutcome } from '../../pipeline/chunk-work.ts';

/** A request from the main thread to a chunk thread. */
export type ThreadRequest =
  | { readonly op: 'open'; readonly seq: number; readonly id: number; readonly init: ChunkWorkInit }
  | { readonly op: 'page'; readonly seq: number; readonly id: number; readonly input: RawPage | Page; readonly loc: FailureLocation }
  | { readonly op: 'finish'; readonly seq: number; readonly id: number }
  | { readonly op: 'close'; readonly seq: number; readonly id: number };

/** An error as it crosses back: enough to rebuild a {@link DataError} with its location. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly kind?: FailureKind;
  readonly code?: string;
  readonly location?: FailureLocation;
}

export type ThreadReply = { readonly seq: number; readonly ok: true; readonly value: unknown } | { readonly seq: number; readonly ok: false; readonly error: ThreadError };

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Chunks open on it. */
  open: number;
  readonly pending: Map<number, Pending>;
  /** Why it stopped, once it has. */
  failed?: Error;
}

function rebuild(e: ThreadError): Error {
  if (e.kind === 'data') return new DataError(e.message, e.code ?? 'DATA.INVALID', e.location ?? {});
  const err = new Error(`chunk thread: ${e.message}`);
  err.name = e.name;
  return err;
}

/** A fixed set of chunk worker threads; `work` is the {@link ChunkWorkFactory} to give `processChunk`. */
export class ChunkThreads {
  private readonly threads: Thread[];
  private seq = 0;
  private nextId = 0;

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`chunk threads: count must be a whole number ≥ 1, got ${count}`);
    this.threads = Array.from({ length: count }, () => this.start());
  }

  private start(): Thread {
    const worker = new Worker(new URL('./chunk-thread.mjs', import.meta.url));
    const thread: Thread = { worker, open: 0, pending: new Map() };
    const fail = (err: Error) => {
      thread.failed ??= err;
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
    };
    worker.on('message', (reply: ThreadReply) => {
      const p = thread.pending.get(reply.seq);
      if (!p) return;
      thread.pending.delete(reply.seq);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(rebuild(reply.error));
    });
    worker.on('error', (err) => fail(new Error(`chunk thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => fail(new Error(`chunk thread exited (code ${code})`)));
    return thread;
  }

  private ask(thread: Thread, req: ThreadRequest): Promise<unknown> {
    if (thread.failed) return Promise.reject(thread.failed);
    return new Promise((resolve, reject) => {
      thread.pending.set(req.seq, { resolve, reject });
      thread.worker.postMessage(req);
    });
  }

  /** Open each chunk on the thread with the fewest open chunks. */
  readonly work: ChunkWorkFactory = (init: ChunkWorkInit): ChunkWork => {
    const thread = this.threads.reduce((a, b) => (b.open < a.open ? b : a));
    const id = this.nextId++;
    thread.open++;
    const opened = this.ask(thread, { op: 'open', seq: this.seq++, id, init });
    opened.catch(() => undefined); // awaited (and so reported) by the first page
    let closed = false;
    return {
      page: async (input, loc) => {
        await opened;
        return (await this.ask(thread, { op: 'page', seq: this.seq++, id, input, loc })) as PageOutcome;
      },
      finish: async () => {
        await opened;
        return (await this.ask(thread, { op: 'finish', seq: this.seq++, id })) as (Uint8Array | undefined)[];
      },
      close: () => {
        if (closed) return;
        closed = true;
        thread.open--;
        this.ask(thread, { op: 'close', seq: this.seq++, id }).catch(() => undefined);
      },
    };
  };

  /** Stop every thread. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
