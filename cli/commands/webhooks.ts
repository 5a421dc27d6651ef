/**
 * `kombo-etl webhooks`: receive Kombo's webhooks on 127.0.0.1 and run the syncs they trigger into a
 * local warehouse, with the same receiver and trigger rules as the AWS stack. One worker takes the
 * queued events in order; each triggered sync runs in the background (one integration, the models
 * that changed). Ctrl-C stops receiving and exits once the syncs in progress ended; a second Ctrl-C
 * stops them too (marked interrupted, for `retry` to resume).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RetryConfig } from '../config.ts';
import { parseRetryConfig } from '../config.ts';
import type { SyncInput } from '../config.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import { errorMessagesFor } from '../../shared/kombo/error-text.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { errnoCode } from '../../shared/adapters/local/folder-store.ts';
import { recordIntegration } from '../../shared/pipeline/integrations.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import { LOCAL_PII_HINTS, runLocal } from '../../shared/adapters/local/local-run.ts';
import { assertWarehousePii } from '../../shared/state/pii.ts';
import { newRunId, todayUtc } from '../../shared/warehouse/layout.ts';
import { ConfigError, errorMessage } from '../../shared/errors.ts';
import type { ModelName } from '../../shared/tables.ts';
import type { RunReport } from '../../shared/state/runs.ts';
import type { RunningSandbox } from '../../sandbox/index.ts';
import type { DispatchDeps, DispatchEvent, DispatchResult } from '../../shared/webhooks/dispatch.ts';
import { dispatchEvent } from '../../shared/webhooks/dispatch.ts';
import { MAX_WEBHOOK_BYTES, receiveWebhook } from '../../shared/webhooks/receiver.ts';
import type { WebhookLogLine } from '../../shared/webhooks/receiver.ts';
import type { KomboWebhookEvent } from '../../shared/webhooks/schemas.ts';
import { eventIntegrationId } from '../../shared/webhooks/schemas.ts';
import { modelsTouched } from '../../shared/webhooks/models.ts';
import { DEFAULT_GAP_MS } from '../../shared/webhooks/triggers.ts';
import { BUSY_CODE } from '../../shared/pipeline/open-stream.ts';
import { assertLocalWarehouseSource, assertWritableWarehouse, sandboxIntegrationIds } from '../warehouse.ts';
import { parsePort } from './sandbox.ts';
import { EXIT_INTERRUPTED } from '../interrupt.ts';

/** The environment variable holding the webhook secret when `--secret` is not given. */
export const WEBHOOK_SECRET_ENV = 'KOMBO_WEBHOOK_SECRET';
/** The shortest webhook secret accepted. */
export const MIN_SECRET_LENGTH = 16;

export interface WebhooksInput extends Pick<SyncInput, 'apiUrl' | 'apiKey' | 'apiKeyFile' | 'warehouse' | 'concurrency' | 'threads' | 'piiMode' | 'piiSalt' | 'piiSaltFile'> {
  readonly port?: string;
  readonly secret?: string;
  readonly gapSeconds?: string;
}

export interface WebhooksConfig {
  readonly port: number;
  readonly secret: string;
  readonly gapMs: number;
  readonly sync: RetryConfig;
}

/** Parse `webhooks`' flags (falling back to `KOMBO_WEBHOOK_SECRET` and the Kombo settings `sync` reads); a ConfigError says what to fix. */
export function parseWebhooksConfig(input: WebhooksInput, env: NodeJS.ProcessEnv = process.env): WebhooksConfig {
  const secret = input.secret ?? env[WEBHOOK_SECRET_ENV];
  if (secret === undefined || secret.trim() === '') throw new ConfigError(`--secret (or ${WEBHOOK_SECRET_ENV}) is required: the webhook secret Kombo signs with, ${MIN_SECRET_LENGTH} characters or more`);
  if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`--secret / ${WEBHOOK_SECRET_ENV}: ${secret.length} characters; use a secret of ${MIN_SECRET_LENGTH} characters or more`);
  const gapText = input.gapSeconds ?? String(DEFAULT_GAP_MS / 1000);
  if (!/^\d+$/.test(gapText.trim())) throw new ConfigError(`--gap-seconds: expected a whole number of seconds (0 or more), got ${JSON.stringify(gapText)}`);
  return { port: parsePort(input.port ?? '0'), secret, gapMs: Number(gapText.trim()) * 1000, sync: parseRetryConfig({ ...input }, env) };
}

/** The line printed for a queued event: `event <id> <type> <integration> [models=…]`. */
export function eventLine(event: KomboWebhookEvent): string {
  const models = event.type === 'data-changed' ? ` models=${modelsTouched(event.data.changed_models.map((m) => m.name)).join(',') || '(none stored)'}` : '';
  return `event ${event.id} ${event.type} ${eventIntegrationId(event)}${models}`;
}

/** What dispatching an event did, in words. */
export function outcomeText(r: DispatchResult): string {
  switch (r.outcome) {
    case 'started':
      return `started sync ${r.runId} of ${r.models.join(',')}`;
    case 'pending':
      return `waiting for the next sync (${r.models.join(',')})`;
    case 'running':
      return `sync ${r.runId} in progress`;
    case 'idle':
      return 'nothing to sync';
    case 'duplicate':
      return 'seen before, no effect';
    case 'ignored':
      return `ignored: ${r.reason}`;
    case 'deleted':
      return 'marked deleted in the registry';
    case 'recorded':
      return 'recorded';
  }
}

/** The line printed for a request refused or ignored. */
const refusedLine = (l: WebhookLogLine): string => `webhook ${l.outcome} (${l.status})${l.type === undefined ? '' : ` ${l.type}`}${l.reason === undefined ? '' : `: ${l.reason}`}`;

/** The line printed when a triggered sync ended. */
export function syncLine(runId: string, integrationId: string, models: readonly ModelName[], ms: number, report: RunReport): string {
  const versions = report.streams.reduce((n, s) => n + (s.totals.rows[s.model] ?? 0), 0);
  const busy = report.streams.filter((s) => s.code === BUSY_CODE).map((s) => s.model);
  const failed = report.streams.filter((s) => s.status === 'failed' && s.code !== BUSY_CODE);
  const held = busy.length > 0 ? ` (${busy.join(',')} held by another run: synced again after it)` : '';
  const tail = failed.length > 0 ? `failed in ${ms} ms: ${failed.map((s) => `${s.model} ${s.code ?? 'failed'}`).join(', ')}` : `done in ${ms} ms: ${versions} versions`;
  return `sync ${runId} ${integrationId} ${models.join(',')} ${tail}${held}`;
}

/** The queue, the triggered syncs and the wake timers of one `webhooks` process. */
class LocalDispatcher {
  private readonly queue: DispatchEvent[] = [];
  private wakeUp: (() => void) | undefined;
  private readonly runs = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  /** An event is being dispatched (taken from the queue, not yet acted on). */
  private dispatching = false;
  private readonly worker: Promise<void>;
  /** Aborted by a second Ctrl-C: the syncs in progress stop and are marked interrupted. */
  readonly abort = new AbortController();
  interrupted = 0;

  constructor(
    private readonly store: FolderStore,
    private readonly client: KomboClient,
    private readonly config: WebhooksConfig,
    private readonly out: NodeJS.WritableStream,
    private readonly snapshotDate: () => string = () => todayUtc(),
  ) {
    this.worker = this.work();
  }

  get inProgress(): number {
    return this.runs.size;
  }

  push(event: DispatchEvent): void {
    if (this.stopping) return;
    this.queue.push(event);
    this.wakeUp?.();
  }

  private deps(): DispatchDeps {
    return {
      store: this.store,
      now: () => new Date(),
      gapMs: this.config.gapMs,
      startRun: (req) => Promise.resolve(this.startRun(req.integrationId, req.models)),
      // Only this process starts the warehouse's webhook syncs: one it does not run (any more) is over.
      isRunOver: (runId) => Promise.resolve(!this.runs.has(runId)),
      scheduleWake: (integrationId, atMs) => Promise.resolve(this.scheduleWake(integrationId, atMs)),
      recordIntegration: (u) => recordIntegration({ store: this.store, catalog: new LocalCatalog(this.store), now: () => new Date(), piiMode: this.config.sync.pii.mode }, u),
    };
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      const event = this.queue.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      this.dispatching = true;
      try {
        const result = await dispatchEvent(event, this.deps());
        if (event.type !== 'wake') this.out.write(`${eventLine(event)}: ${outcomeText(result)}\n`);
      } catch (err) {
        this.out.write(`${event.type === 'wake' ? `wake ${event.integrationId}` : `event ${event.id}`} failed: ${errorMessage(err)}\n`);
      } finally {
        this.dispatching = false;
      }
    }
  }

  /** Resolves once no event waits or is in hand, no sync runs and no wake is due: all it was told is acted on. */
  async settled(): Promise<void> {
    const idle = (): boolean => this.queue.length === 0 && !this.dispatching && this.runs.size === 0 && this.timers.size === 0;
    const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    // A sync that ends queues a wake: idle twice in a row, a tick apart, means nothing follows.
    for (;;) {
      const before = idle();
      await tick();
      if (before && idle()) return;
    }
  }

  private startRun(integrationId: string, models: readonly ModelName[]): string {
    const runId = newRunId();
    const startedMs = Date.now();
    const sync = this.config.sync;
    const run = runLocal({
      client: this.client,
      store: this.store,
      catalog: new LocalCatalog(this.store),
      runId,
      source: sync.source,
      sandboxIntegrationIds,
      signal: this.abort.signal,
      snapshotDate: this.snapshotDate(),
      integrationIds: [integrationId],
      models,
      concurrency: sync.concurrency,
      threads: 0,
      pii: sync.pii,
    }).then(
      (report) => void this.out.write(`${syncLine(runId, integrationId, models, Date.now() - startedMs, report)}\n`),
      (err: unknown) => {
        if (this.abort.signal.aborted) this.interrupted++;
        this.out.write(`sync ${runId} ${integrationId} ${models.join(',')} failed in ${Date.now() - startedMs} ms: ${errorMessage(err)}\n`);
      },
    );
    this.runs.set(
      runId,
      run.finally(() => {
        this.runs.delete(runId);
        this.push({ type: 'wake', integrationId });
      }),
    );
    return runId;
  }

  private scheduleWake(integrationId: string, atMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.push({ type: 'wake', integrationId, atMs });
    }, Math.max(0, atMs - Date.now()));
    this.timers.add(timer);
  }

  /** Stop taking events, and wait for the event in hand and the syncs in progress. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    for (const t of this.timers) clearTimeout(t);
    await this.worker;
    await Promise.allSettled([...this.runs.values()]);
  }
}

/** Read a request body, keeping no more than one byte over the limit (enough for the receiver to refuse it). */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size <= MAX_WEBHOOK_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
}

async function serve(config: WebhooksConfig, dispatcher: LocalDispatcher, out: NodeJS.WritableStream): Promise<Server> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const reply = await receiveWebhook(
      { headers: headersOf(req), body: await readBody(req) },
      {
        secret: () => Promise.resolve(config.secret),
        enqueue: (event) => {
          dispatcher.push(event);
          return Promise.resolve();
        },
        log: (line) => void (line.outcome !== 'accepted' && out.write(`${refusedLine(line)}\n`)),
      },
    );
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(500).end()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      const code = errnoCode(err);
      reject(code === 'EADDRINUSE' || code === 'EACCES' ? new ConfigError(`--port ${config.port}: cannot listen on 127.0.0.1 (${code}); choose another port, or 0 for any free one`) : err);
    });
    server.listen(config.port, '127.0.0.1', resolve);
  });
  return server;
}

/** Where the triggered syncs fetch from: Kombo (or a server like it), or the built-in sandbox started here. */
async function openSource(sync: RetryConfig, out: NodeJS.WritableStream): Promise<{ apiUrl: string; apiKey: string; sandbox?: RunningSandbox }> {
  if (sync.apiKey !== undefined) return { apiUrl: sync.apiUrl, apiKey: sync.apiKey };
  const { startSandbox } = await import('../../sandbox/index.ts');
  const sandbox = await startSandbox({});
  out.write(`syncing the built-in Kombo sandbox at ${sandbox.url}\n`);
  return { apiUrl: sandbox.url, apiKey: sandbox.apiKey, sandbox };
}

export interface WebhooksHooks {
  /** Stops the server as a first Ctrl-C does (for tests, and for a caller that runs it in process). */
  readonly stop?: AbortSignal;
  /** Told the server's URL once it listens. */
  readonly onListening?: (url: string) => void;
  /** The snapshot date of each triggered sync (default: today, UTC), e.g. a simulated day. */
  readonly snapshotDate?: () => string;
  /** Told, once it listens, how to wait until every webhook received so far is acted on and its syncs have ended. */
  readonly onSettled?: (settled: () => Promise<void>) => void;
}

/** Serve until SIGINT/SIGTERM (or `hooks.stop`); resolves to the exit code (130 when a second signal interrupted syncs). */
export async function webhooksCommand(config: WebhooksConfig, out: NodeJS.WritableStream = process.stdout, hooks: WebhooksHooks = {}): Promise<number> {
  await assertWritableWarehouse(config.sync.warehouse);
  const store = new FolderStore(config.sync.warehouse);
  await assertLocalWarehouseSource(store, config.sync.source, store.root);
  await assertWarehousePii(store, config.sync.pii, store.root, LOCAL_PII_HINTS);
  const source = await openSource(config.sync, out);
  const client = new KomboClient({ baseUrl: source.apiUrl, apiKey: source.apiKey, errorMessages: errorMessagesFor(config.sync.pii.mode) });
  const dispatcher = new LocalDispatcher(store, client, config, out, hooks.snapshotDate);
  let server: Server | undefined;
  try {
    server = await serve(config, dispatcher, out);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    out.write(`receiving Kombo webhooks at ${url} (warehouse ${store.root}, at least ${config.gapMs / 1000} s between syncs of an integration)\n`);
    hooks.onListening?.(url);
    hooks.onSettled?.(() => dispatcher.settled());
    let onSignal: (s: string) => void = () => undefined;
    const signal = await new Promise<string>((resolve) => {
      onSignal = resolve;
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      hooks.stop?.addEventListener('abort', () => resolve('stop'), { once: true });
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    out.write(`${signal}: no more webhooks; waiting for ${dispatcher.inProgress} sync(s) in progress (${signal === 'stop' ? 'SIGINT' : signal} again to interrupt them)\n`);
    const interrupt = (s: string) => dispatcher.abort.abort(s);
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    server.close();
    await dispatcher.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    return dispatcher.interrupted > 0 ? EXIT_INTERRUPTED : 0;
  } finally {
    server?.close();
    await dispatcher.stop();
    await source.sandbox?.close();
  }
}
