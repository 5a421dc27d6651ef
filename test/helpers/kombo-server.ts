/**
 * An independent Kombo-compatible server for change-capture tests, not the project's sandbox: plain
 * `node:http` on 127.0.0.1 holding a mutable set of records per endpoint. It answers as Kombo's read
 * API does, as far as a sync uses it:
 *
 * - `GET /v1/integrations/{id}`: the integration, ACTIVE, with its read models;
 * - `GET /v1/ats/<endpoint>?page_size=&include_deleted=&updated_after=&ids=&cursor=`: records
 *   ordered by id, those with `changed_at >= updated_after` only when it is given, those named by
 *   `ids` only when it is given, those with `remote_deleted_at` set only with `include_deleted=true`;
 *   an `ids` filter naming a record the server does not have is refused (404), as Kombo does;
 *   the cursor carries the filters it was issued for, and a page asked with other filters than its
 *   cursor's is refused. A cursor is an offset into the listing, as many ATSs' are: a record that
 *   disappears while a listing is paged shifts the records after it, and one is skipped;
 * - a `Date` header from a clock the test sets (or one running ahead of it, `dateAheadMs`), so the
 *   client reads the source's time from it.
 *
 * Every change the test makes with `change` stamps the record's `changed_at` with that clock;
 * `changeLinked` changes a record's copy of a linked record without stamping it, as Kombo does for
 * the nested data its `updated_after` table marks as not bringing the parent back (a job's name in
 * an application, a job's stages, a candidate's tags, an interview's users). Each request is logged
 * with its query, so a test can count pages per endpoint and filter.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A record as Kombo sends it: any fields, with the three a sync relies on. */
export interface KomboRecord {
  readonly id: string;
  changed_at: string;
  remote_deleted_at: string | null;
  [field: string]: unknown;
}

/** One page request, as the server understood it. */
export interface PageRequest {
  /** The path below `/v1/ats/`: `candidates`, `applications`, `rejection-reasons`… */
  readonly endpoint: string;
  readonly updatedAfter: string | null;
  readonly includeDeleted: boolean;
  /** The `ids` filter, when given. */
  readonly idsFilter?: readonly string[];
  readonly pageSize: number;
  readonly cursor: string | null;
  /** Ids of the records the page held (empty for a refused request). */
  readonly ids: readonly string[];
  /** The page's body as sent (undefined for a refused request), for checking it against Kombo's schemas. */
  readonly body?: string;
}

export interface KomboServerOptions {
  readonly integrationId: string;
  readonly apiKey: string;
  /** The server's clock at start (ISO 8601). */
  readonly clock: string;
  /** Records per endpoint at start, kept as given (their `changed_at` included). Other endpoints answer empty pages. */
  readonly records: Readonly<Record<string, readonly KomboRecord[]>>;
  /** How far the `Date` header runs ahead of the clock that stamps `changed_at` (default 0). */
  readonly dateAheadMs?: number;
  /** Endpoints that answer every page request with this status and body (an error as Kombo words it). */
  readonly failures?: Readonly<Record<string, { readonly status: number; readonly body: string }>>;
}

export interface KomboServer {
  /** Base URL, `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  /** Every page request, in order. */
  readonly pages: readonly PageRequest[];
  /** `GET /integrations/{id}` requests answered. */
  readonly integrationRequests: number;
  /** The clock as ISO 8601. */
  now(): string;
  setClock(iso: string): void;
  /** Adds a record, or replaces the one with its id, stamped `changed_at` = clock. */
  put(endpoint: string, record: KomboRecord): void;
  /** Changes a record in place, then stamps `changed_at` = clock. */
  change(endpoint: string, id: string, edit: (record: KomboRecord) => void): void;
  /**
   * Changes a record's copy of a linked record in place, leaving `changed_at` as it was: an
   * incremental fetch does not return the record for it (Kombo's `updated_after` table).
   */
  changeLinked(endpoint: string, id: string, edit: (record: KomboRecord) => void): void;
  /** Called after each page is served, before the answer leaves (to change data mid-listing). */
  afterPage(hook: ((page: PageRequest) => void) | undefined): void;
  /** Deletes a record as an ATS does: it stays, with `remote_deleted_at` = `changed_at` = clock. */
  markDeleted(endpoint: string, id: string): void;
  /** Removes a record outright: no request returns it any more, `include_deleted` or not. */
  remove(endpoint: string, id: string): void;
  /**
   * Records of `endpoint` returned whatever `updated_after` says (a server that ignores the filter
   * for them), left unchanged; an empty list ends the quirk.
   */
  returnAlways(endpoint: string, ids: readonly string[]): void;
  /** A copy of a record as served now. */
  get(endpoint: string, id: string): KomboRecord;
  close(): Promise<void>;
}

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kombo-server/${name}.json`, import.meta.url), 'utf8');

/** What a cursor remembers: where the next page starts, and the filters of the listing it belongs to. */
interface Cursor {
  readonly offset: number;
  readonly updatedAfter: string | null;
  readonly includeDeleted: boolean;
  readonly ids?: string | null;
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

function decodeCursor(text: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    return typeof c.offset === 'number' && typeof c.includeDeleted === 'boolean' && c.updatedAfter !== undefined ? (c as Cursor) : undefined;
  } catch {
    return undefined;
  }
}

const kombError = (code: string, message: string): string => JSON.stringify({ status: 'error', error: { code, title: code, message, log_url: null } });

/** Kombo's `updated_after` format, `YYYY-MM-DDTHH:mm:ss.sssZ`. */
const UPDATED_AFTER = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Starts the server on a free port of 127.0.0.1. */
export async function startKomboServer(opts: KomboServerOptions): Promise<KomboServer> {
  let clock = Date.parse(opts.clock);
  const data = new Map<string, Map<string, KomboRecord>>();
  for (const [endpoint, records] of Object.entries(opts.records)) data.set(endpoint, new Map(records.map((r) => [r.id, structuredClone(r)])));
  const always = new Map<string, ReadonlySet<string>>();
  let pageHook: ((page: PageRequest) => void) | undefined;
  const pages: PageRequest[] = [];
  let integrationRequests = 0;
  const integration = JSON.parse(fixture('integration')) as { data: { id: string } };
  integration.data.id = opts.integrationId;
  const integrationBody = JSON.stringify(integration);

  const table = (endpoint: string): Map<string, KomboRecord> => {
    const t = data.get(endpoint) ?? new Map<string, KomboRecord>();
    data.set(endpoint, t);
    return t;
  };
  const found = (endpoint: string, id: string): KomboRecord => {
    const r = table(endpoint).get(id);
    if (!r) throw new Error(`no ${endpoint} record ${id}`);
    return r;
  };

  /** The records a listing with these filters holds, in the order pages serve them. */
  const listing = (endpoint: string, updatedAfter: string | null, includeDeleted: boolean, ids: readonly string[] | undefined): KomboRecord[] => {
    const since = updatedAfter === null ? Number.NEGATIVE_INFINITY : Date.parse(updatedAfter);
    const quirk = always.get(endpoint) ?? new Set<string>();
    const named = ids && new Set(ids);
    return [...table(endpoint).values()]
      .filter((r) => named === undefined || named.has(r.id))
      .filter((r) => includeDeleted || r.remote_deleted_at === null)
      .filter((r) => Date.parse(r.changed_at) >= since || quirk.has(r.id))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: string): string => {
      // The source's clock, as Kombo's `Date` header gives it (whole seconds).
      res.writeHead(status, { 'content-type': 'application/json', date: new Date(clock + (opts.dateAheadMs ?? 0)).toUTCString() });
      res.end(body);
      return body;
    };
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return void send(401, kombError('PLATFORM.AUTHENTICATION_INVALID', 'invalid API key'));
    if (req.headers['x-integration-id'] !== opts.integrationId) return void send(404, kombError('PLATFORM.INTEGRATION_NOT_FOUND', 'no such integration'));
    if (req.method !== 'GET') return void send(404, kombError('PLATFORM.INPUT_INVALID', 'unknown path'));
    if (url.pathname === `/v1/integrations/${encodeURIComponent(opts.integrationId)}`) {
      integrationRequests++;
      return void send(200, integrationBody);
    }
    const endpoint = /^\/v1\/ats\/([a-z-]+)$/.exec(url.pathname)?.[1];
    if (endpoint === undefined) return void send(404, kombError('PLATFORM.INPUT_INVALID', 'unknown path'));
    const failure = opts.failures?.[endpoint];
    if (failure !== undefined) return void send(failure.status, failure.body);

    const q = url.searchParams;
    const updatedAfter = q.get('updated_after');
    const includeDeleted = q.get('include_deleted') === 'true';
    const pageSize = Number(q.get('page_size') ?? '100');
    const cursorText = q.get('cursor');
    const idsText = q.get('ids');
    const idsFilter = idsText === null ? undefined : idsText.split(',');
    const logged = { endpoint, updatedAfter, includeDeleted, pageSize, cursor: cursorText, ...(idsFilter && { idsFilter }) };
    const refuse = (message: string): void => {
      pages.push({ ...logged, ids: [] });
      send(400, kombError('PLATFORM.INPUT_INVALID', message));
    };
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 250) return refuse('page_size must be 1 to 250');
    if (updatedAfter !== null && !UPDATED_AFTER.test(updatedAfter)) return refuse('updated_after must be YYYY-MM-DDTHH:mm:ss.sssZ');
    const cursor = cursorText === null ? { offset: 0, updatedAfter, includeDeleted, ids: idsText } : decodeCursor(cursorText);
    if (cursor === undefined) return refuse('invalid cursor');
    // Kombo wants every filter repeated with the cursor: a cursor is only good for the listing it came from.
    if (cursor.updatedAfter !== updatedAfter || cursor.includeDeleted !== includeDeleted || (cursor.ids ?? null) !== idsText) return refuse('the cursor belongs to a listing with other filters');

    // Kombo refuses an `ids` filter naming a record it does not have, the whole request.
    const unknown = idsFilter?.filter((id) => !table(endpoint).has(id)) ?? [];
    if (unknown.length > 0) {
      pages.push({ ...logged, ids: [] });
      return void send(404, kombError('PLATFORM.INPUT_INVALID', `No ${endpoint} found for these IDs in this integration: ${unknown.join(', ')}.`));
    }
    const all = listing(endpoint, updatedAfter, includeDeleted, idsFilter);
    const results = all.slice(cursor.offset, cursor.offset + pageSize);
    const end = cursor.offset + results.length;
    const next = end < all.length ? encodeCursor({ offset: end, updatedAfter, includeDeleted, ids: idsText }) : null;
    const page: PageRequest = { ...logged, ids: results.map((r) => r.id), body: JSON.stringify({ status: 'success', data: { next, results } }) };
    pages.push(page);
    pageHook?.(page);
    send(200, page.body as string);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    pages,
    get integrationRequests() {
      return integrationRequests;
    },
    now: () => new Date(clock).toISOString(),
    setClock(iso) {
      clock = Date.parse(iso);
    },
    put(endpoint, record) {
      table(endpoint).set(record.id, { ...structuredClone(record), changed_at: new Date(clock).toISOString() });
    },
    change(endpoint, id, edit) {
      const r = found(endpoint, id);
      edit(r);
      r.changed_at = new Date(clock).toISOString();
    },
    changeLinked(endpoint, id, edit) {
      edit(found(endpoint, id));
    },
    afterPage(hook) {
      pageHook = hook;
    },
    markDeleted(endpoint, id) {
      const r = found(endpoint, id);
      r.remote_deleted_at = new Date(clock).toISOString();
      r.changed_at = r.remote_deleted_at;
    },
    remove(endpoint, id) {
      found(endpoint, id);
      table(endpoint).delete(id);
    },
    returnAlways(endpoint, ids) {
      always.set(endpoint, new Set(ids));
    },
    get: (endpoint, id) => structuredClone(found(endpoint, id)),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/** A stage of the test company's one job. */
export interface Stage {
  readonly id: string;
  readonly name: string;
  readonly index: number;
}

const JOB = { id: 'JobBackend7Kq2Wm8Rt4Xv1P', name: 'Backend Engineer', remote_id: '32' };

/**
 * A candidate as `GET /ats/candidates` returns it (the shape of Kombo's documented example), with
 * the given emails and tags. Nested applications are left empty: the warehouse keeps none of them.
 */
export function candidateRecord(c: {
  readonly id: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly emails: readonly string[];
  readonly tags: readonly { readonly id: string; readonly name: string }[];
  readonly changedAt: string;
}): KomboRecord {
  return {
    id: c.id,
    remote_id: `r-${c.id}`,
    first_name: c.firstName,
    last_name: c.lastName,
    company: 'Acme, Inc.',
    title: null,
    confidential: false,
    source: 'LinkedIn',
    phone_numbers: [],
    email_addresses: c.emails.map((email_address) => ({ email_address, type: 'PRIVATE' })),
    social_media: [],
    location: { city: 'Berlin', country: 'DE' },
    custom_fields: {},
    integration_fields: [],
    remote_url: `https://app.greenhouse.io/people/${c.id}`,
    remote_created_at: '2026-01-05T09:00:00.000Z',
    remote_updated_at: c.changedAt,
    remote_data: null,
    changed_at: c.changedAt,
    remote_deleted_at: null,
    applications: [],
    tags: c.tags.map((t) => ({ id: t.id, name: t.name, remote_id: null })),
  };
}

/**
 * An application to the test company's job, as `GET /ats/applications` returns it, in `stage`,
 * with the given offers (nested offers become `application_offers` rows).
 */
export function applicationRecord(a: {
  readonly id: string;
  readonly candidateId: string;
  readonly stage: Stage;
  readonly offers?: readonly { readonly id: string; readonly status: string }[];
  readonly changedAt: string;
}): KomboRecord {
  return {
    id: a.id,
    remote_id: `r-${a.id}`,
    outcome: 'PENDING',
    rejection_reason_name: null,
    rejected_at: null,
    current_stage_id: a.stage.id,
    job_id: JOB.id,
    candidate_id: a.candidateId,
    screening_question_answers: [],
    custom_fields: {},
    integration_fields: [],
    remote_url: `https://app.greenhouse.io/applications/${a.id}`,
    changed_at: a.changedAt,
    remote_deleted_at: null,
    remote_created_at: '2026-01-06T09:00:00.000Z',
    remote_updated_at: a.changedAt,
    remote_data: null,
    candidate: { id: a.candidateId, remote_id: `r-${a.candidateId}`, first_name: null, last_name: null, source: 'LinkedIn', remote_url: null, tags: [] },
    current_stage: { id: a.stage.id, remote_id: `r-${a.stage.id}`, name: a.stage.name, index: a.stage.index },
    job: JOB,
    interviews: [],
    offers: (a.offers ?? []).map((o) => ({ id: o.id, remote_id: `r-${o.id}`, status: o.status })),
  };
}
