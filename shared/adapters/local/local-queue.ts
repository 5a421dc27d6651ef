/**
 * {@link Queue} in process: messages are handled by up to `concurrency` workers until the queue is
 * empty and nothing is in flight. Continuations sent by a handler join the same queue, so a
 * stream's chunks run one after another while different streams run side by side.
 */
import type { Queue, StreamMessage } from '../../ports.ts';

export class LocalQueue implements Queue {
  private readonly pending: StreamMessage[] = [];
  private wake: (() => void) | undefined;
  sent = 0;

  async send(message: StreamMessage): Promise<void> {
    this.pending.push(message);
    this.sent++;
    this.wake?.();
  }

  /**
   * Run handlers until the queue drains. A handler that throws stops the drain: the first error is
   * rethrown after the in-flight handlers settle.
   */
  async drain(handler: (m: StreamMessage) => Promise<void>, concurrency: number): Promise<void> {
    let inFlight = 0;
    let failure: { err: unknown } | undefined;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (!failure && inFlight < concurrency && this.pending.length > 0) {
          const msg = this.pending.shift()!;
          inFlight++;
          handler(msg)
            .catch((err: unknown) => {
              failure ??= { err };
            })
            .finally(() => {
              inFlight--;
              pump();
            });
        }
        if (inFlight === 0 && (failure || this.pending.length === 0)) resolve();
      };
      this.wake = pump;
      pump();
    });
    this.wake = undefined;
    if (failure) throw failure.err;
  }
}
