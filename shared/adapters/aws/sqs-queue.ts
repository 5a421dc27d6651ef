/**
 * {@link Queue} on an SQS FIFO queue. MessageGroupId = the stream (`integration/model`), so each
 * stream's chain runs one chunk at a time in order while different streams run side by side;
 * MessageDeduplicationId = `run/integration/model/chunk`, so a continuation sent twice (a retried
 * chunk) within SQS's five-minute deduplication window is dropped.
 */
import { createHash } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { Queue, StreamMessage } from '../../ports.ts';
import { MODELS } from '../../tables.ts';
import { assertIntegrationId, assertRunId, assertSnapshotDate } from '../../warehouse/layout.ts';

/** SQS allows 1–128 characters from printable ASCII in group and deduplication ids. */
const SQS_ID = /^[\x21-\x7e]{1,128}$/;

/** An SQS-safe id: the readable value when allowed, else a hash of it (same input, same id). */
export function sqsSafeId(raw: string): string {
  return SQS_ID.test(raw) ? raw : `sha256-${createHash('sha256').update(raw).digest('hex')}`;
}

/** The stream key: one FIFO message group per stream. */
export const messageGroupId = (m: Pick<StreamMessage, 'integrationId' | 'model'>): string => sqsSafeId(`${m.integrationId}/${m.model}`);

/** One id per chunk of a run's stream. */
export const deduplicationId = (m: Pick<StreamMessage, 'runId' | 'integrationId' | 'model' | 'chunk'>): string =>
  sqsSafeId(`${m.runId}/${m.integrationId}/${m.model}/${m.chunk}`);

const count = z.number().int().nonnegative();

/** The wire format of a {@link StreamMessage}, checked on receipt. */
export const STREAM_MESSAGE = z.object({
  runId: z.string().refine(safe(assertRunId), 'invalid run id'),
  snapshotDate: z.string().refine(safe(assertSnapshotDate), 'invalid snapshot date'),
  integrationId: z.string().refine(safe(assertIntegrationId), 'invalid integration id'),
  model: z.enum(MODELS),
  cursor: z.string().nullable(),
  chunk: count,
  totals: z.object({
    pages: count,
    requests: count,
    retries: count,
    throttles: count,
    rows: z.record(z.string(), count),
    files: count,
    duplicates: count.optional(),
    records: count.optional(),
    unchanged: count.optional(),
    deletions: count.optional(),
  }),
  // Cursor restarts so far: without it a restarted stream could restart forever.
  restarts: count.optional(),
  chain: count.optional(),
  // The planner's decision: without it every chunk would sync in full from its own clock.
  sync: z
    .object({
      mode: z.enum(['full', 'incremental']),
      updatedAfter: z.iso.datetime({ offset: true }).optional(),
      startedAt: z.iso.datetime({ offset: true }),
    })
    .optional(),
});

function safe(assert: (v: string) => unknown): (v: string) => boolean {
  return (v) => {
    try {
      assert(v);
      return true;
    } catch {
      return false;
    }
  };
}

/** Serialise a message for the queue. */
export const encodeStreamMessage = (m: StreamMessage): string => JSON.stringify(m);

/** Parse and validate a message body; throws with the field at fault. */
export function parseStreamMessage(body: string): StreamMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`stream message is not JSON: ${JSON.stringify(body.slice(0, 80))}`);
  }
  const parsed = STREAM_MESSAGE.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid stream message: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

/** FIFO queues have no per-message delay: a failed chunk backs off through its visibility timeout. */
export const RETRY_BASE_SECONDS = 30;
/** Longest back-off between two attempts of a chunk. */
export const RETRY_MAX_SECONDS = 900;

/** Back-off before the next attempt of a message that has been received `receiveCount` times. */
export function retryDelaySeconds(receiveCount: number): number {
  return Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, receiveCount - 1));
}

export interface SqsQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export class SqsQueue implements Queue {
  private readonly client: SQSClient;
  readonly queueUrl: string;

  constructor(opts: SqsQueueOptions) {
    this.client = opts.client;
    this.queueUrl = opts.queueUrl;
  }

  /** `ChangeMessageVisibility` to {@link retryDelaySeconds} of the attempts so far. */
  async backOff(receipt: string, attempts: number): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt, VisibilityTimeout: retryDelaySeconds(attempts) }));
  }

  async send(message: StreamMessage): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeStreamMessage(message),
        MessageGroupId: messageGroupId(message),
        MessageDeduplicationId: deduplicationId(message),
      }),
    );
  }

  /**
   * `SendMessageBatch` of up to {@link SQS_BATCH} messages, {@link SQS_BATCHES_IN_FLIGHT} batches
   * at a time: one `SendMessage` after another, 9,000 streams took most of the planner's timeout.
   * An entry SQS refuses is sent again alone, which throws if it fails again; the deduplication id
   * makes a message sent twice count once.
   */
  async sendAll(messages: readonly StreamMessage[]): Promise<void> {
    const batches: StreamMessage[][] = [];
    for (let i = 0; i < messages.length; i += SQS_BATCH) batches.push(messages.slice(i, i + SQS_BATCH));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const answer = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((m, i) => ({
              Id: String(i),
              MessageBody: encodeStreamMessage(m),
              MessageGroupId: messageGroupId(m),
              MessageDeduplicationId: deduplicationId(m),
            })),
          }),
        );
        for (const failed of answer.Failed ?? []) await this.send(batch[Number(failed.Id)]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SQS_BATCHES_IN_FLIGHT, batches.length) }, worker));
  }
}

/** SQS takes at most 10 messages per `SendMessageBatch`. */
export const SQS_BATCH = 10;
/** Batches sent at once: 4 × 10 messages stay well under a FIFO queue's 3,000 batched messages per second. */
export const SQS_BATCHES_IN_FLIGHT = 4;
