/**
 * Category columns outside `keep` mode (a label of the integration's list, or a value shared by
 * enough records, else `(other)`), and what of a Kombo error body is stored and printed.
 */
import { describe, expect, it } from 'vitest';
import { CategoryFilter, MIN_CATEGORY_RECORDS, OTHER_CATEGORY } from '../../shared/categories.ts';
import type { PiiMode } from '../../shared/flatten.ts';
import { createBuffers, flattenInto } from '../../shared/flatten.ts';
import { inspect } from 'node:util';
import type { RetryEvent } from '../../shared/kombo/client.ts';
import { KomboClient } from '../../shared/kombo/client.ts';
import type { ErrorMessages } from '../../shared/kombo/error-text.ts';
import { MAX_ERROR_TEXT, cleanText, describeErrorBody } from '../../shared/kombo/error-text.ts';

const candidate = (id: string, source: string, tags: readonly string[]) => ({
  id,
  source,
  tags: tags.map((name, i) => ({ id: `${id}-t${i}`, name, remote_id: null })),
  remote_deleted_at: null,
});

/** Flatten candidates one by one, counting each, then decide the values as a row group is written. */
function stored(mode: PiiMode, records: readonly ReturnType<typeof candidate>[], labels: readonly string[]) {
  const buffers = createBuffers('candidates');
  const filter = new CategoryFilter(buffers, { tags: labels }, mode);
  for (const r of records) {
    const before = buffers.map((b) => b.rowCount);
    flattenInto(buffers, [r], { mode, ...(mode === 'hash' && { salt: 'a-salt-of-sixteen-or-more' }) });
    filter.count(buffers, before, r.id);
  }
  buffers.forEach((_, i) => filter.apply(buffers, i));
  const column = (table: string, name: string) => {
    const b = buffers.find((x) => x.table.name === table)!;
    const i = b.table.columns.filter((c) => c.source.kind !== 'meta').findIndex((c) => c.name === name);
    return b.columns[i]!;
  };
  return { source: column('candidates', 'source'), tags: column('candidate_tags', 'name') };
}

describe('category columns', () => {
  // Five candidates from LinkedIn; one referral naming a person; a tag of the integration's list on
  // one candidate; a free-text tag on one; a tag repeated five times on one candidate only.
  const records = [
    candidate('c1', 'LinkedIn', ['Senior', 'Sister of CEO Maria Schmidt']),
    candidate('c2', 'LinkedIn', ['x', 'x', 'x', 'x', 'x']),
    candidate('c3', 'LinkedIn', []),
    candidate('c4', 'LinkedIn', []),
    candidate('c5', 'LinkedIn', []),
    candidate('c6', 'Referral from Jane Doe', []),
  ];

  it.each(['drop', 'hash'] as const)('%s: a label or a value of five records is kept, anything else is (other)', (mode) => {
    const { source, tags } = stored(mode, records, ['Senior']);
    expect(MIN_CATEGORY_RECORDS).toBe(5);
    expect(source).toEqual(['LinkedIn', 'LinkedIn', 'LinkedIn', 'LinkedIn', 'LinkedIn', OTHER_CATEGORY]);
    // "x" is on five rows but one record: one person's tag, not a label.
    expect(tags).toEqual(['Senior', OTHER_CATEGORY, ...Array(5).fill(OTHER_CATEGORY)]);
  });

  it('keep: every value as Kombo returns it', () => {
    const { source, tags } = stored('keep', records, []);
    expect(source.at(-1)).toBe('Referral from Jane Doe');
    expect(tags.slice(0, 2)).toEqual(['Senior', 'Sister of CEO Maria Schmidt']);
  });

  it('four records are not enough', () => {
    const { source } = stored('drop', records.slice(1), []);
    expect(source.slice(0, 4)).toEqual(Array(4).fill(OTHER_CATEGORY));
  });
});

describe('Kombo error bodies', () => {
  const body = {
    code: 'INTEGRATION.PERMISSION_MISSING',
    title: 'Missing \u001b[2Jpermission\u001b[1A\r',
    message: `Jane Doe <jane.private@example.com>, salary 95000 EUR \u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007 ${'y'.repeat(900)}`,
    log_url: 'https://app.kombo.dev/logs/abc\u0007',
  };

  it('omit: code and title and log URL, never the message', () => {
    const told = describeErrorBody(body, 'omit');
    expect(told).toBe('Missing permission (log: https://app.kombo.dev/logs/abc)');
    expect(told).not.toContain('Jane');
  });

  it('keep: the message too, cut, without control characters or escape sequences', () => {
    const told = describeErrorBody(body, 'keep');
    expect(told).toContain('Jane Doe <jane.private@example.com>, salary 95000 EUR link y');
    // eslint-disable-next-line no-control-regex
    expect(told).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(told).not.toContain('evil.example');
    expect(cleanText(body.message).length).toBe(MAX_ERROR_TEXT);
  });
});

describe('KomboClient errors', () => {
  const MESSAGE = 'Jane Doe <jane.private@example.com>, salary 95000 EUR \u001b[2K\r\u001b[32mrun succeeded';
  const reply = (status: number, body: string) => new Response(body, { status });
  const kombo = (code: string) => JSON.stringify({ status: 'error', error: { code, title: 'Missing permission', message: MESSAGE, log_url: 'https://app.kombo.dev/logs/1' } });

  async function failure(messages: ErrorMessages, replies: Response[]) {
    const retries: RetryEvent[] = [];
    const c = new KomboClient({
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: 'k',
      errorMessages: messages,
      retry: { maxAttempts: 2 },
      sleep: async () => {},
      onRetry: (e) => retries.push(e),
      fetch: (async () => replies.shift()!) as unknown as typeof fetch,
    });
    const err = (await c.listPage('greenhouse:A1', 'candidates').catch((e: unknown) => e)) as Error;
    return { err, told: [String(err), err.stack ?? '', JSON.stringify(err), inspect(err, { depth: 5 }), ...retries.map((r) => r.message)].join('\n') };
  }

  it('omit: a retried 503 and a final 403 tell code, title and log URL, never the message', async () => {
    const { err, told } = await failure('omit', [reply(503, kombo('REMOTE.SERVICE_UNAVAILABLE')), reply(403, kombo('INTEGRATION.PERMISSION_MISSING'))]);
    expect(err.message).toBe('HTTP 403 INTEGRATION.PERMISSION_MISSING: Missing permission (log: https://app.kombo.dev/logs/1)');
    for (const needle of ['Jane', 'jane.private', '95000', 'run succeeded', '\u001b']) expect(told).not.toContain(needle);
  });

  it('omit: a body that is not Kombo\'s JSON is told by its length', async () => {
    const { err } = await failure('omit', [reply(403, 'Forbidden for Jane Doe')]);
    expect(err.message).toBe('HTTP 403: 22 characters of text');
  });

  it('omit: a 2xx page that is not JSON is told by its length', async () => {
    const { err } = await failure('omit', [reply(200, 'Hello Jane Doe')]);
    expect(err.message).toBe('HTTP 200 with a body that is not JSON: 14 characters of text');
  });

  it('keep: the message, without the escapes that rewrite a terminal line', async () => {
    const { err, told } = await failure('keep', [reply(403, kombo('INTEGRATION.PERMISSION_MISSING'))]);
    expect(err.message).toBe('HTTP 403 INTEGRATION.PERMISSION_MISSING: Missing permission Jane Doe <jane.private@example.com>, salary 95000 EUR run succeeded (log: https://app.kombo.dev/logs/1)');
    expect(told).not.toContain('\u001b');
  });
});
