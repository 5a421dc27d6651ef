/**
 * The fault matrix's machinery: run the real plan / chunk / finish steps over a queue that
 * redelivers as SQS does (local: in memory with FIFO groups and deduplication; AWS: SqsQueue on a
 * fauxqs FIFO queue, S3Store on fauxqs, GlueCatalog on a mocked Glue client), inject crashes at
 * step boundaries, then let DuckDB compare what is visible with the sandbox's ground truth.
 */
import { startFauxqs } from '../helpers/fauxqs.ts';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreatePartitionCommand, GlueClient, UpdatePartitionCommand } from '@aws-sdk/client-glue';
import type { CreatePartitionCommandInput, UpdatePartitionCommandInput } from '@aws-sdk/client-glue';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { RunningSandbox, SandboxDataset } from '../../sandbox/index.ts';
import { asOfInstant } from '../../sandbox/index.ts';
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
import type { ModelName, TableDef } from '../../shared/tables.ts';
import { KOMBO_MODELS, MODELS, TABLES, isModelName, tablesForModel } from '../../shared/tables.ts';
import { runPrefix } from '../../shared/warehouse/layout.ts';
import type { Reader } from '../helpers/duckdb.ts';
import { EXPECTED, JSON_COLUMNS, rowKey, servedRecords } from '../helpers/truth.ts';
import { decidesVersion } from '../../shared/pipeline/hash-layout.ts';
import type { FaultPoint } from '../../shared/pipeline/faults.ts';
import { decodeJson } from '../../shared/state/codec.ts';
import { runKeys, stateKeys } from '../../shared/state/keys.ts';
import type { RunReport, StreamMarker } from '../../shared/state/runs.ts';
import { readStreamState } from '../../shared/state/streams.ts';

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
  /** Every message sent, in order (duplicates the deduplication dropped included), for redelivering later. */
  readonly sent: StreamMessage[] = [];
  constructor(private readonly dedupe = true) {}

  async send(m: StreamMessage): Promise<void> {
    this.sent.push(structuredClone(m));
    const id = deduplicationId(m);
    if (this.dedupe && this.seen.has(id)) return;
    this.seen.add(id);
    this.pending.push(structuredClone(m));
  }

  /** Deliver a message again, as SQS does at least once: not a send, so no deduplication applies. */
  redeliver(m: StreamMessage): void {
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
  /** Plan every stream as a full sync (`sync --full`, the event's `full`). */
  readonly full?: boolean;
  /** Days of the full-sync cycle (`--full-every`; the planner's default when not given). */
  readonly fullEveryDays?: number;
  /**
   * What happens to a message whose chunk crashed: delivered again (default, as SQS does), or lost
   * (SQS gave up on it: it went to the dead-letter queue, and only `retry` sends its stream again).
   */
  readonly onCrash?: 'redeliver' | 'lose';
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
  const drained = await drainCase(c);
  const report = await readReport(c.adapters.store, c.runId);
  if (!report) throw new Error(`run ${c.runId} drained without a report`);
  return { report, ...drained };
}

/** The run's report (or completion marker), or undefined while it has not completed. */
export async function readReport(store: ObjectStore, runId: string): Promise<RunReport | undefined> {
  const body = (await store.get(runKeys.report(runId))) ?? (await store.get(runKeys.success(runId))) ?? (await store.get(runKeys.failed(runId)));
  return body ? decodeJson<RunReport>(body) : undefined;
}

/**
 * Plan (unless `noPlan`) and process every message until the queue is empty. Unlike
 * {@link runCase}, the run need not complete: with `onCrash: 'lose'` its crashed streams never end.
 */
export async function drainCase(c: RunCase): Promise<Omit<RunOutcome, 'report'>> {
  const client = testClient(c.sandbox, c.retry);
  const { store, catalog, queue } = c.adapters;
  if (!c.noPlan) {
    await planRun(
      { client, store, queue },
      { runId: c.runId, snapshotDate: c.snapshotDate, integrationIds: c.integrationIds, models: c.models ?? MODELS,
        ...(c.full !== undefined && { full: c.full }),
        ...(c.fullEveryDays !== undefined && { fullEveryDays: c.fullEveryDays }),
      },
    );
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
          await (c.onCrash === 'lose' ? d.ack() : d.nack());
          return;
        }
        await d.ack();
      }),
    );
  }
  return { crashes, results };
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

// ---------------------------------------------------------------------------------------------
// Change capture: the source's true history, day by day, against the versions the warehouse holds

type Rec = Record<string, unknown>;

/** A change made to the simulated company on top of its own timeline, holding from one day on. */
export interface SourceEdit {
  /** First simulated day (`YYYY-MM-DD`) the edit holds; it holds every later day too. */
  readonly from: string;
  readonly integrationId: string;
  readonly model: 'candidates' | 'applications' | 'interviews';
  readonly id: string;
  /**
   * The record as served from `from` on, given a deep copy of the timeline's (which shares nested
   * objects between records and days); undefined removes it outright: gone, not flagged deleted.
   */
  readonly apply: (record: Rec, date: string) => Rec | undefined;
}

/** The sandbox on a simulated clock, with the test's own edits laid over its timeline. */
export interface TimelineSource {
  readonly sandbox: RunningSandbox;
  /** Move the simulated clock to the end of `date`, then apply the edits that hold on that date. */
  moveTo(date: string, edits?: readonly SourceEdit[]): void;
}

/** Wrap a sandbox started with `timeline` and `asOf` (see `startSandbox`). */
export function timelineSource(sandbox: RunningSandbox): TimelineSource {
  return {
    sandbox,
    moveTo(date, edits = []) {
      sandbox.setAsOf(date);
      for (const edit of edits) {
        if (edit.from > date) continue;
        const data = sandbox.dataset.integrations.find((i) => i.id === edit.integrationId);
        if (!data) throw new Error(`no integration ${edit.integrationId} in the sandbox`);
        const records = data[edit.model];
        const at = records.findIndex((r) => r['id'] === edit.id);
        if (at < 0) throw new Error(`the edit of ${edit.model} ${edit.id} found no such record on ${date}`);
        const next = edit.apply(structuredClone(records[at]!), date);
        // A new array: the server re-indexes a model whose array was replaced.
        data[edit.model] = next === undefined ? records.filter((_, i) => i !== at) : records.map((r, i) => (i === at ? next : r));
      }
      sandbox.reindex();
    },
  };
}

/** What a version's hash sees of a record (its rows in every table of its model), and its deletion flag. */
export interface RecordState {
  /** Canonical JSON of the hashed columns of the record's rows: table by table, child rows by position. */
  readonly key: string;
  readonly deleted: boolean;
}

/** One version of a record: the snapshot date it was (or should have been) stored on, and its state. */
export interface Version extends RecordState {
  readonly date: string;
}

/** Columns a version's hash covers: stored, not meta, not unhashed, not a linked copy (`decidesVersion`). */
const hashedColumns = (table: TableDef): string[] => table.columns.filter(decidesVersion).map((c) => c.name);

/** JSON with object keys sorted, so that equal values give equal text wherever they came from. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const stateKey = (tables: readonly (readonly Rec[])[], defs: readonly TableDef[]): string =>
  canonical(tables.map((rows, t) => rows.map((r) => hashedColumns(defs[t]!).map((c) => r[c] ?? null))));

/** A record's state as the source serves it, flattened by the hand-written truth (not the pipeline's code). */
export function sourceState(model: ModelName, record: Rec): RecordState {
  const defs = tablesForModel(model);
  const deletedAt = record['remote_deleted_at'];
  return { key: stateKey(defs.map((t) => EXPECTED[t.name]!.rows(record)), defs), deleted: deletedAt !== null && deletedAt !== undefined };
}

/** One synced day of the source: how it was synced and every record's state, per stream `integration/model`. */
export interface SyncedDay {
  readonly date: string;
  readonly mode: 'full' | 'incremental';
  readonly states: ReadonlyMap<string, ReadonlyMap<string, RecordState>>;
}

const streamKey = (integrationId: string, model: string) => `${integrationId}/${model}`;

/** How a day synced `model`: a model listed in full every sync (`everySync`) is full whatever the day's mode. */
const modeOf = (day: SyncedDay, model: string): SyncedDay['mode'] => (isModelName(model) && KOMBO_MODELS[model].everySync === 'full' ? 'full' : day.mode);

/**
 * The source's true history, as seen at each synced day, and the versions a change capture must
 * have stored from it: a version whenever a record's state differs from its last stored one, and,
 * on a full sync only (the only one that can tell), a deletion copy of a record no longer there.
 */
export class SourceHistory {
  private readonly days = new Map<string, SyncedDay>();

  constructor(
    readonly integrationIds: readonly string[],
    readonly models: readonly ModelName[],
  ) {}

  /** Record what the source holds now, as the sync of `date` sees it. A re-sync of the date replaces it. */
  observe(dataset: SandboxDataset, date: string, mode: SyncedDay['mode']): void {
    const states = new Map<string, Map<string, RecordState>>();
    for (const id of this.integrationIds) {
      const data = dataset.integrations.find((i) => i.id === id);
      if (!data) throw new Error(`no ground truth for ${id}`);
      for (const model of this.models) {
        states.set(streamKey(id, model), new Map(servedRecords(data, model).map((r) => [r['id'] as string, sourceState(model, r)])));
      }
    }
    this.days.set(date, { date, mode, states });
  }

  /** The synced days, in date order. */
  synced(): SyncedDay[] {
    return [...this.days.values()].sort((a, b) => a.date.localeCompare(b.date));
  }

  /** Expected versions, per stream and record, in date order. */
  expected(): Map<string, Map<string, Version[]>> {
    const out = new Map<string, Map<string, Version[]>>();
    for (const day of this.synced()) {
      for (const [stream, states] of day.states) {
        const records = out.get(stream) ?? new Map<string, Version[]>();
        out.set(stream, records);
        for (const [id, s] of states) {
          const versions = records.get(id) ?? [];
          records.set(id, versions);
          const last = versions.at(-1);
          if (last === undefined || last.key !== s.key || last.deleted !== s.deleted) versions.push({ date: day.date, ...s });
        }
        if (modeOf(day, stream.slice(stream.lastIndexOf('/') + 1)) !== 'full') continue;
        for (const [id, versions] of records) {
          const last = versions.at(-1)!;
          if (!states.has(id) && !last.deleted) versions.push({ date: day.date, key: last.key, deleted: true });
        }
      }
    }
    return out;
  }
}

/** What the warehouse shows: every version of every record, and what is wrong with the rows themselves. */
export interface StoredVersions {
  readonly versions: Map<string, Map<string, Version[]>>;
  /** Root rows of one record on one date, or child rows of one parent, date and position, beyond the first. */
  readonly duplicateRows: number;
  /** Root rows stored per stream and date, deletions apart: what the `syncs` rows must say. */
  readonly counts: Map<string, { versions: number; deletions: number }>;
  readonly problems: string[];
}

const decodeHive = (s: string) => decodeURIComponent(s);

/**
 * Read back, with DuckDB, every visible partition of the streams' tables (the registered run folder
 * of each), and rebuild each record's versions: its own row and its child rows of each date.
 */
export async function storedVersions(db: Reader, adapters: Adapters, integrationIds: readonly string[], models: readonly ModelName[]): Promise<StoredVersions> {
  const visible = await adapters.visible();
  const problems: string[] = [];
  let duplicateRows = 0;
  const versions = new Map<string, Map<string, Version[]>>();
  const counts = new Map<string, { versions: number; deletions: number }>();
  for (const model of models) {
    const defs = tablesForModel(model);
    // id|date → per table, the rows (root: at most one) with their deletion flags.
    const byVersion = new Map<string, { integrationId: string; id: string; date: string; tables: Rec[][]; deleted: boolean[][] }>();
    for (const [t, table] of defs.entries()) {
      const files: string[] = [];
      for (const [key, prefix] of visible) {
        const [name, , integrationId] = key.split('|');
        if (name !== table.name || !integrationIds.includes(integrationId!)) continue;
        const folder = await adapters.localFolder(prefix);
        files.push(...readdirSync(folder).filter((f) => f.endsWith('.parquet')).map((f) => join(folder, f)));
      }
      if (files.length === 0) continue;
      const cols = table.columns.filter(decidesVersion);
      const select = cols.map((c) => (c.type === 'timestamp' ? `epoch_ms("${c.name}")::DOUBLE AS "${c.name}"` : `"${c.name}"`)).join(', ');
      const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
      const rows = await db.all(`SELECT filename, "_is_deleted", ${select} FROM read_parquet([${list}], filename = true, hive_partitioning = false, union_by_name = true)`);
      const idCol = t === 0 ? 'id' : table.columns.find((c) => c.source.kind === 'parent-id')!.name;
      const seenChild = new Set<string>();
      for (const raw of rows) {
        const file = String(raw['filename']);
        const date = /snapshot_date=(\d{4}-\d{2}-\d{2})/.exec(file)![1]!;
        const integrationId = decodeHive(/integration_id=([^/]+)/.exec(file)![1]!);
        const row = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON_COLUMNS.has(k) && typeof v === 'string' ? JSON.parse(v) : v]));
        const id = String(row[idCol]);
        const k = `${integrationId}|${id}|${date}`;
        if (t > 0) {
          const childKey = `${k}|${String(row['position'])}`;
          if (seenChild.has(childKey)) {
            duplicateRows++;
            if (problems.length < 20) problems.push(`${table.name}: ${childKey} stored twice`);
            continue;
          }
          seenChild.add(childKey);
        }
        let v = byVersion.get(k);
        if (!v) {
          if (t > 0) {
            if (problems.length < 20) problems.push(`${table.name}: a child row of ${id} on ${date} without its parent's version`);
            continue;
          }
          v = { integrationId, id, date, tables: defs.map(() => []), deleted: defs.map(() => []) };
          byVersion.set(k, v);
        } else if (t === 0) {
          duplicateRows++;
          if (problems.length < 20) problems.push(`${table.name}: ${id} stored twice on ${date}`);
          continue;
        }
        v.tables[t]!.push(row);
        v.deleted[t]!.push(row['_is_deleted'] === true);
      }
    }
    for (const v of byVersion.values()) {
      const deleted = v.deleted[0]![0]!;
      if (v.deleted.some((flags) => flags.some((f) => f !== deleted)) && problems.length < 20) problems.push(`${model} ${v.id} on ${v.date}: child rows flagged unlike their parent`);
      const tables = v.tables.map((rows) => [...rows].sort((a, b) => Number(a['position'] ?? 0) - Number(b['position'] ?? 0)));
      const stream = streamKey(v.integrationId, model);
      const records = versions.get(stream) ?? new Map<string, Version[]>();
      versions.set(stream, records);
      records.set(v.id, [...(records.get(v.id) ?? []), { date: v.date, key: stateKey(tables, defs), deleted }]);
      const c = counts.get(`${stream}|${v.date}`) ?? { versions: 0, deletions: 0 };
      counts.set(`${stream}|${v.date}`, { versions: c.versions + 1, deletions: c.deletions + (deleted ? 1 : 0) });
    }
    for (const records of versions.values()) for (const list of records.values()) list.sort((a, b) => a.date.localeCompare(b.date));
  }
  return { versions, duplicateRows, counts, problems };
}

/** How the versions stored compare with the source's history. */
export interface VersionComparison {
  /** Records the source ever held (across every stream). */
  records: number;
  /** Versions the history calls for, and root rows found. */
  expected: number;
  stored: number;
  /** A version the history calls for, not stored on its date. */
  lost: number;
  /** A version stored although nothing changed: a row repeated on one date, or a record stored again with its last state. */
  doubled: number;
  /** A version stored with another state than the source's, or on a date the record did not change. */
  wrong: number;
  problems: string[];
}

/** Compare, record by record, the versions the history calls for with those stored. */
export function compareVersions(history: SourceHistory, stored: StoredVersions): VersionComparison {
  const cmp: VersionComparison = { records: 0, expected: 0, stored: 0, lost: 0, doubled: stored.duplicateRows, wrong: 0, problems: [...stored.problems] };
  const note = (p: string) => void (cmp.problems.length < 30 && cmp.problems.push(p));
  const expected = history.expected();
  const streams = new Set([...expected.keys(), ...stored.versions.keys()]);
  for (const stream of streams) {
    const want = expected.get(stream) ?? new Map<string, Version[]>();
    const got = stored.versions.get(stream) ?? new Map<string, Version[]>();
    for (const id of new Set([...want.keys(), ...got.keys()])) {
      cmp.records++;
      const w = want.get(id) ?? [];
      const g = got.get(id) ?? [];
      cmp.expected += w.length;
      cmp.stored += g.length;
      const gotOn = new Map(g.map((v) => [v.date, v]));
      const wantOn = new Set(w.map((v) => v.date));
      for (const v of w) {
        const found = gotOn.get(v.date);
        if (!found) {
          cmp.lost++;
          note(`${stream} ${id}: version of ${v.date}${v.deleted ? ' (deleted)' : ''} lost`);
        } else if (found.key !== v.key || found.deleted !== v.deleted) {
          cmp.wrong++;
          note(`${stream} ${id} on ${v.date}: stored ${found.deleted ? 'deleted ' : ''}${found.key.slice(0, 120)} ≠ source ${v.deleted ? 'deleted ' : ''}${v.key.slice(0, 120)}`);
        }
      }
      g.forEach((v, i) => {
        if (wantOn.has(v.date)) return;
        const before = g[i - 1];
        if (before !== undefined && before.key === v.key && before.deleted === v.deleted) {
          cmp.doubled++;
          note(`${stream} ${id}: stored again unchanged on ${v.date}`);
        } else {
          cmp.wrong++;
          note(`${stream} ${id}: a version on ${v.date}, when the source did not change it`);
        }
      });
    }
  }
  return cmp;
}

/**
 * The run state agrees with the history: each stream has one commit per synced day, in the day's
 * mode, its watermark the source's clock when that day's sync started (the sandbox's end of day, to
 * the second of its `Date` header); one `syncs` row per stream and synced day, counting the versions
 * stored; and no stream is still locked.
 */
export async function checkRunState(db: Reader, adapters: Adapters, history: SourceHistory, stored: StoredVersions): Promise<string[]> {
  const problems: string[] = [];
  const days = history.synced();
  // Syncs per stream and date: a date synced again (a second run of it) has a commit and a `syncs` row per sync.
  const syncsOf = new Map<string, number>();
  for (const integrationId of history.integrationIds) {
    for (const model of history.models) {
      const state = await readStreamState(adapters.store, { integrationId: integrationId, model: model });
      // The first sync of each date, as planned; later syncs of a date build on it.
      const firsts = state.commits.filter((c, i) => i === 0 || state.commits[i - 1]!.snapshotDate !== c.snapshotDate);
      for (const c of state.commits) syncsOf.set(`${streamKey(integrationId, model)}|${c.snapshotDate}`, (syncsOf.get(`${streamKey(integrationId, model)}|${c.snapshotDate}`) ?? 0) + 1);
      const got = firsts.map((c) => `${c.snapshotDate} ${c.mode} ${c.startedAt}`);
      const want = days.map((d) => `${d.date} ${modeOf(d, model)} ${new Date(Math.floor(asOfInstant(d.date) / 1000) * 1000).toISOString()}`);
      if (canonical(got) !== canonical(want)) problems.push(`${integrationId}/${model} commits ${canonical(got)} ≠ ${canonical(want)}`);
      if ((await adapters.store.get(stateKeys.lock(integrationId, model))) !== undefined) problems.push(`${integrationId}/${model} is still locked`);
    }
  }
  const folder = await adapters.localFolder('syncs/');
  const rows = await db.all(`SELECT filename, model, mode, versions, deletions FROM read_parquet('${folder}/**/*.parquet', filename = true, hive_partitioning = false)`).catch((err: unknown) => {
    if (/No files found/i.test(String(err))) return [];
    throw err;
  });
  const syncs = new Map<string, Rec[]>();
  for (const r of rows) {
    const file = String(r['filename']);
    const date = /snapshot_date=(\d{4}-\d{2}-\d{2})/.exec(file)![1]!;
    const integrationId = decodeHive(/integration_id=([^/]+)/.exec(file)![1]!);
    const k = `${streamKey(integrationId, String(r['model']))}|${date}`;
    syncs.set(k, [...(syncs.get(k) ?? []), r]);
  }
  for (const d of days) {
    for (const integrationId of history.integrationIds) {
      for (const model of history.models) {
        const k = `${streamKey(integrationId, model)}|${d.date}`;
        const found = syncs.get(k) ?? [];
        syncs.delete(k);
        const c = stored.counts.get(k) ?? { versions: 0, deletions: 0 };
        const want = { mode: modeOf(d, model), versions: c.versions, deletions: c.deletions };
        // One row per sync of the date; together they count the date's versions.
        const total = { versions: found.reduce((n, r) => n + Number(r['versions']), 0), deletions: found.reduce((n, r) => n + Number(r['deletions']), 0) };
        if (found.length === 0 || found.length !== (syncsOf.get(k) ?? 1)) problems.push(`${k}: ${found.length} syncs rows`);
        else if (!found.some((r) => r['mode'] === want.mode) || total.versions !== want.versions || total.deletions !== want.deletions) problems.push(`${k}: syncs rows ${canonical(found)} ≠ ${canonical(want)}`);
      }
    }
  }
  for (const k of syncs.keys()) problems.push(`${k}: a syncs row for a day never synced`);
  return problems;
}

/** Running totals of the version checks, for a test file's summary line. */
export class VersionTally {
  cases = 0;
  faults = 0;
  days = 0;
  records = 0;
  versions = 0;
  lost = 0;
  doubled = 0;
  wrong = 0;
  add(c: VersionComparison, faults: number, days: number): void {
    this.cases++;
    this.faults += faults;
    this.days += days;
    this.records += c.records;
    this.versions += c.expected;
    this.lost += c.lost;
    this.doubled += c.doubled;
    this.wrong += c.wrong;
  }
  line(name: string): string {
    return `[reliability] ${name}: ${this.cases} cases, ${this.days} synced days, ${this.faults} faults injected, ${this.records} records, ${this.versions} versions expected, ${this.lost} lost, ${this.doubled} doubled, ${this.wrong} wrong`;
  }
}
