/**
 * The fault matrix's machinery: run the real plan / chunk / finish steps over a queue that
 * redelivers as SQS does (local: in memory with FIFO groups and deduplication; AWS: SqsQueue on a
 * fauxqs FIFO queue, S3Store on fauxqs, GlueCatalog on a mocked Glue client), inject crashes at
 * step boundaries, then let DuckDB compare what is visible with the sandbox's ground truth.
 */
import { startFauxqs } from '../helpers/fauxqs.ts';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreatePartitionCommand, GlueClient, UpdatePartitionCommand } from '@aws-sdk/client-glue';
import type { CreatePartitionCommandInput, UpdatePartitionCommandInput } from '@aws-sdk/client-glue';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { RunningSandbox, SandboxDataset } from '../../sandbox/index.ts';
import { GlueCatalog } from '../../shared/adapters/aws/glue-catalog.ts';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';
import { SqsQueue, deduplicationId, messageGroupId, parseStreamMessage } from '../../shared/adapters/aws/sqs-queue.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { LocalCatalog } from '../../shared/adapters/local/local-catalog.ts';
import type { PiiOptions } from '../../shared/flatten.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { Catalog, ObjectStore, Queue, StreamMessage } from '../../shared/ports.ts';
import type { ChunkLimits, ChunkResult } from '../../shared/pipeline/chunk.ts';
import { processChunk } from '../../shared/pipeline/chunk.ts';
import { planRun } from '../../shared/pipeline/plan.ts';
import { retryFailedStreams } from '../../shared/pipeline/retry.ts';
import type { FaultPoint, RunReport, StreamMarker } from '../../shared/pipeline/state.ts';
import { decodeJson } from '../../shared/pipeline/state.ts';
import type { ModelName } from '../../shared/tables.ts';
import { MODELS, TABLES, tablesForModel } from '../../shared/tables.ts';
import { runKeys, runPrefix } from '../../shared/warehouse/layout.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { EXPECTED, JSON_COLUMNS, rowKey, servedRecords } from '../helpers/truth.ts';

export const REGION = 'eu-west-1';
const BUCKET = 'kombo-reliability';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A crash injected at a step boundary: the "Lambda" dies, the message is redelivered. */
export class InjectedCrash extends Error {
  constructor(readonly point: FaultPoint) {
    super(`injected crash at ${point}`);
    this.name = 'InjectedCrash';
  }
}

/** One received message: ack deletes it, nack makes it visible again at once (a redelivery). */
export interface Delivery {
  readonly msg: StreamMessage;
  ack(): Promise<void>;
  nack(): Promise<void>;
}

export interface TestQueue extends Queue {
  /** The next batch: at most one message per stream (FIFO message group) in flight. */
  receive(): Promise<Delivery[]>;
}

/** What a matrix case runs on. */
export interface Adapters {
  readonly kind: 'local' | 'aws';
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly queue: TestQueue;
  /** Registered partitions: `table|date|integration` → run folder key prefix. */
  visible(): Promise<Map<string, string>>;
  /** A local folder holding the objects under `prefix`, for DuckDB. */
  localFolder(prefix: string): Promise<string>;
}

const partitionKey = (table: string, date: string, integrationId: string) => `${table}|${date}|${integrationId}`;

// ---------------------------------------------------------------------------------------------
// Local adapters

/** In memory, with SQS FIFO's semantics: groups serialised, duplicate sends within the window dropped. */
export class FifoMemoryQueue implements TestQueue {
  private pending: StreamMessage[] = [];
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<string>();
  constructor(private readonly dedupe = true) {}

  async send(m: StreamMessage): Promise<void> {
    const id = deduplicationId(m);
    if (this.dedupe && this.seen.has(id)) return;
    this.seen.add(id);
    this.pending.push(structuredClone(m));
  }

  async receive(): Promise<Delivery[]> {
    const out: Delivery[] = [];
    const rest: StreamMessage[] = [];
    for (const m of this.pending) {
      const group = messageGroupId(m);
      if (this.inFlight.has(group)) rest.push(m);
      else {
        this.inFlight.add(group);
        out.push({
          msg: m,
          ack: async () => void this.inFlight.delete(group),
          nack: async () => {
            this.inFlight.delete(group);
            this.pending.unshift(m);
          },
        });
      }
    }
    this.pending = rest;
    return out;
  }
}

export function localAdapters(root = mkdtempSync(join(tmpdir(), 'kombo-rel-')), dedupe = true): Adapters {
  const store = new FolderStore(root);
  const catalog = new LocalCatalog(store);
  return {
    kind: 'local',
    store,
    catalog,
    queue: new FifoMemoryQueue(dedupe),
    async visible() {
      const out = new Map<string, string>();
      for (const t of TABLES) for (const p of await catalog.partitions(t.name)) out.set(partitionKey(p.table, p.snapshotDate, p.integrationId), p.location);
      return out;
    },
    async localFolder(prefix) {
      return store.locate(prefix);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// AWS adapters on fauxqs (S3 + SQS) and a mocked Glue client

export interface Emulator {
  readonly url: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  close(): Promise<void>;
}

/** fauxqs in process, bound to 127.0.0.1 (as test/integration/aws-adapters.test.ts starts it). */
export async function startEmulator(): Promise<Emulator> {
  const app = await startFauxqs(REGION);
  const url = app.url;
  const s3 = new S3Client({ endpoint: url, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint: url, region: REGION, credentials: CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return {
    url,
    s3,
    sqs,
    close: async () => {
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}

let caseNo = 0;

/** Fresh S3 prefix, FIFO queue and Glue mock for one case. */
export async function awsAdapters(em: Emulator): Promise<Adapters> {
  const name = `case${++caseNo}-${Date.now().toString(36)}`;
  const store = new S3Store({ client: em.s3, bucket: BUCKET, prefix: name });
  const queueUrl = (await em.sqs.send(new CreateQueueCommand({ QueueName: `${name}.fifo`, Attributes: { FifoQueue: 'true', VisibilityTimeout: '60' } }))).QueueUrl!;
  const sqsQueue = new SqsQueue({ client: em.sqs, queueUrl });
  const glueClient = new GlueClient({ region: REGION, credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
  const glue = mockClient(glueClient);
  const partitions = new Map<string, string>();
  const record = (table: string, values: string[], location: string) => {
    const prefix = location.replace(`s3://${BUCKET}/${name}/`, '');
    partitions.set(partitionKey(table, values[0]!, values[1]!), prefix);
  };
  glue.on(CreatePartitionCommand).callsFake((input: CreatePartitionCommandInput) => {
    record(input.TableName!, input.PartitionInput!.Values!, input.PartitionInput!.StorageDescriptor!.Location!);
    return {};
  });
  glue.on(UpdatePartitionCommand).callsFake((input: UpdatePartitionCommandInput) => {
    record(input.TableName!, input.PartitionInput!.Values!, input.PartitionInput!.StorageDescriptor!.Location!);
    return {};
  });
  const catalog = new GlueCatalog({ client: glueClient, database: 'kombo_etl', bucket: BUCKET, prefix: name });
  const copyRoot = mkdtempSync(join(tmpdir(), 'kombo-rel-s3-'));
  const queue: TestQueue = {
    send: (m) => sqsQueue.send(m),
    async receive() {
      const got = (await em.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }))).Messages ?? [];
      return got.map((m) => ({
        msg: parseStreamMessage(m.Body!),
        ack: async () => void (await em.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }))),
        nack: async () => void (await em.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }))),
      }));
    },
  };
  return {
    kind: 'aws',
    store,
    catalog,
    queue,
    visible: async () => new Map(partitions),
    async localFolder(prefix) {
      const target = join(copyRoot, prefix);
      mkdirSync(target, { recursive: true });
      for (const key of await store.list(prefix)) {
        const file = join(copyRoot, key);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, (await store.get(key))!);
      }
      return target;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Driving a run

export interface RunCase {
  readonly sandbox: RunningSandbox;
  readonly adapters: Adapters;
  readonly runId: string;
  readonly snapshotDate: string;
  readonly integrationIds: readonly string[];
  readonly models?: readonly ModelName[];
  readonly limits?: Partial<ChunkLimits>;
  readonly retry?: { maxAttempts?: number; timeoutMs?: number };
  readonly pii?: PiiOptions;
  /** Return true to crash at this point for this message (the message is then redelivered). */
  readonly crash?: (point: FaultPoint, msg: { integrationId: string; model: string; chunk?: number }) => boolean;
  /** Replaces the fault hook entirely (races). */
  readonly faultPoint?: (point: FaultPoint, msg: { integrationId: string; model: string; chunk?: number }) => void | Promise<void>;
  /** Called once the plan is written, before any chunk (e.g. to switch faults on). */
  readonly afterPlan?: () => void;
  /** Skip planning: drain what is already queued (a retry). */
  readonly noPlan?: boolean;
}

export interface RunOutcome {
  readonly report: RunReport;
  readonly crashes: number;
  readonly results: ChunkResult[];
}

/** Small, fast backoff: the matrix measures correctness, not patience. */
export function testClient(sandbox: RunningSandbox, retry: RunCase['retry'] = {}): KomboClient {
  return new KomboClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    retry: { baseDelayMs: 1, maxDelayMs: 20, timeoutMs: retry.timeoutMs ?? 2_000, maxAttempts: retry.maxAttempts ?? 10 },
  });
}

/** Plan (unless `noPlan`) and process every message until the queue is empty, redelivering crashed ones. */
export async function runCase(c: RunCase): Promise<RunOutcome> {
  const client = testClient(c.sandbox, c.retry);
  const { store, catalog, queue } = c.adapters;
  if (!c.noPlan) {
    await planRun({ client, store, queue }, { runId: c.runId, snapshotDate: c.snapshotDate, integrationIds: c.integrationIds, models: c.models ?? MODELS });
  }
  c.afterPlan?.();
  let crashes = 0;
  const results: ChunkResult[] = [];
  const hook =
    c.faultPoint ??
    ((point: FaultPoint, msg: { integrationId: string; model: string; chunk?: number }) => {
      if (c.crash?.(point, msg)) {
        crashes++;
        throw new InjectedCrash(point);
      }
    });
  const limits: Partial<ChunkLimits> = { maxRows: 25, pageSize: 10, ...c.limits };
  for (let idle = 0, rounds = 0; idle < (c.adapters.kind === 'aws' ? 3 : 1); rounds++) {
    if (rounds > 5_000) throw new Error('the queue never drained');
    const batch = await queue.receive();
    if (batch.length === 0) {
      idle++;
      if (c.adapters.kind === 'aws') await new Promise((r) => setTimeout(r, 15));
      continue;
    }
    idle = 0;
    await Promise.all(
      batch.map(async (d) => {
        try {
          results.push(await processChunk({ client, store, queue, catalog, limits, faultPoint: hook, ...(c.pii && { pii: c.pii }) }, d.msg));
        } catch (err) {
          if (!(err instanceof InjectedCrash)) throw err;
          await d.nack();
          return;
        }
        await d.ack();
      }),
    );
  }
  const body = (await store.get(runKeys.report(c.runId))) ?? (await store.get(runKeys.success(c.runId))) ?? (await store.get(runKeys.failed(c.runId)));
  if (!body) throw new Error(`run ${c.runId} drained without a report`);
  return { report: decodeJson<RunReport>(body), crashes, results };
}

/** Re-run a run's failed streams (the same function the CLI and the planner event use), then drain. */
export async function retryCase(c: RunCase): Promise<RunOutcome> {
  await retryFailedStreams({ store: c.adapters.store, queue: c.adapters.queue }, c.runId);
  return runCase({ ...c, noPlan: true });
}

// ---------------------------------------------------------------------------------------------
// Comparing with the ground truth

export interface Comparison {
  rowsCompared: number;
  lost: number;
  duplicated: number;
  /** Rows present once but with a different value somewhere. */
  mismatched: number;
  /** Streams that failed or were skipped and whose partitions were checked to be invisible (or untouched). */
  hiddenStreams: number;
  problems: string[];
}

const META = new Set(['_run_id', '_synced_at', 'snapshot_date', 'integration_id']);

async function readRows(db: Reader, folder: string): Promise<Record<string, unknown>[]> {
  const src = `read_parquet('${folder}/*.parquet', hive_partitioning = false)`;
  let cols: Record<string, unknown>[];
  try {
    cols = await db.all(`DESCRIBE SELECT * FROM ${src}`);
  } catch (err) {
    if (/No files found/i.test(String(err))) return [];
    throw err;
  }
  const select = cols
    .map((c) => [String(c['column_name']), String(c['column_type'])] as const)
    .filter(([c]) => !META.has(c))
    .map(([c, t]) => (t.startsWith('TIMESTAMP') ? `epoch_ms("${c}")::DOUBLE AS "${c}"` : `"${c}"`))
    .join(', ');
  return db.all(`SELECT ${select} FROM ${src}`);
}

const normalise = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, JSON_COLUMNS.has(k) && typeof v === 'string' ? JSON.parse(v) : v]));

export interface CompareOptions {
  readonly runId: string;
  readonly snapshotDate: string;
  /** Per stream `integration/model`: the run whose rows must stay visible although this run failed it. */
  readonly previouslyVisible?: ReadonlyMap<string, string>;
  /** Override expected rows (e.g. PII modes); default: the truth helper. */
  readonly expect?: (table: string, record: Record<string, unknown>) => Record<string, unknown>[];
}

/**
 * For every stream of the report: done → each table's visible partition is this run's folder and
 * holds exactly the truth's rows (none lost, none doubled, every value equal); failed or skipped →
 * no partition of this run is visible, and a failed one says why in the report.
 */
export async function compareWithTruth(db: Reader, adapters: Adapters, dataset: SandboxDataset, report: RunReport, opts: CompareOptions): Promise<Comparison> {
  const cmp: Comparison = { rowsCompared: 0, lost: 0, duplicated: 0, mismatched: 0, hiddenStreams: 0, problems: [] };
  const visible = await adapters.visible();
  for (const marker of report.streams) {
    const data = dataset.integrations.find((i) => i.id === marker.integrationId);
    if (!data) throw new Error(`no ground truth for ${marker.integrationId}`);
    for (const table of tablesForModel(marker.model)) {
      const at = visible.get(partitionKey(table.name, opts.snapshotDate, marker.integrationId));
      const own = runPrefix(table.name, opts.snapshotDate, marker.integrationId, opts.runId);
      if (marker.status !== 'done') {
        if (at === own) cmp.problems.push(`${marker.status} stream ${marker.integrationId}/${marker.model}: ${table.name} partition is visible`);
        const before = opts.previouslyVisible?.get(`${marker.integrationId}/${marker.model}`);
        if (before !== undefined && at !== runPrefix(table.name, opts.snapshotDate, marker.integrationId, before)) {
          cmp.problems.push(`${table.name} of ${marker.integrationId}: the earlier run ${before} is no longer visible`);
        }
        continue;
      }
      if (at !== own) {
        cmp.problems.push(`done stream ${marker.integrationId}/${marker.model}: ${table.name} partition points at ${String(at)}`);
        continue;
      }
      const spec = EXPECTED[table.name]!;
      const expected = servedRecords(data, spec.model).flatMap((r) => (opts.expect ? opts.expect(table.name, r) : spec.rows(r)));
      const actual = (await readRows(db, await adapters.localFolder(own))).map(normalise);
      compareRows(cmp, `${table.name} ${marker.integrationId}`, expected, actual, spec.key);
    }
    if (marker.status !== 'done') {
      cmp.hiddenStreams++;
      if (marker.status === 'failed' && (!marker.code || !marker.reason)) cmp.problems.push(`failed stream ${marker.integrationId}/${marker.model} has no code or reason`);
    }
  }
  return cmp;
}

export function compareRows(cmp: Comparison, where: string, expected: Record<string, unknown>[], actual: Record<string, unknown>[], key: readonly string[]): void {
  cmp.rowsCompared += expected.length;
  const want = new Map(expected.map((r) => [rowKey(r, key), r]));
  const got = new Map<string, { row: Record<string, unknown>; n: number }>();
  for (const r of actual) {
    const k = rowKey(r, key);
    const e = got.get(k);
    if (e) e.n++;
    else got.set(k, { row: r, n: 1 });
  }
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g) {
      cmp.lost++;
      if (cmp.problems.length < 20) cmp.problems.push(`${where}: lost ${k}`);
      continue;
    }
    if (g.n > 1) {
      cmp.duplicated += g.n - 1;
      if (cmp.problems.length < 20) cmp.problems.push(`${where}: ${k} ×${g.n}`);
    }
    for (const [col, v] of Object.entries(w)) {
      if (JSON.stringify(g.row[col] ?? null) !== JSON.stringify(v ?? null)) {
        cmp.mismatched++;
        if (cmp.problems.length < 20) cmp.problems.push(`${where} ${k}.${col}: ${JSON.stringify(g.row[col]).slice(0, 80)} ≠ ${JSON.stringify(v).slice(0, 80)}`);
        break;
      }
    }
  }
  for (const [k, g] of got) {
    if (!want.has(k)) {
      cmp.duplicated += g.n;
      if (cmp.problems.length < 20) cmp.problems.push(`${where}: unexpected ${k}`);
    }
  }
}

/** Running totals for a test file's summary line. */
export class Tally {
  cases = 0;
  faults = 0;
  rows = 0;
  lost = 0;
  duplicated = 0;
  add(c: Comparison, faults: number): void {
    this.cases++;
    this.faults += faults;
    this.rows += c.rowsCompared;
    this.lost += c.lost;
    this.duplicated += c.duplicated;
  }
  line(name: string): string {
    return `[reliability] ${name}: ${this.cases} cases, ${this.faults} faults injected, ${this.rows} rows compared, ${this.lost} lost, ${this.duplicated} duplicated`;
  }
}

/** Faults the sandbox injected so far, all kinds together. */
export const sandboxFaultCount = (s: RunningSandbox): number => Object.values(s.stats.faults).reduce((a, b) => a + b, 0);

export type { StreamMarker };
