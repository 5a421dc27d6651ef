/**
 * `kombo-etl webhooks` end to end: the CLI in its own process receives signed webhooks on
 * 127.0.0.1 and syncs what they say changed from a Kombo-compatible test server into a local
 * warehouse; a replayed delivery has no effect, a bad signature is refused, Ctrl-C stops it cleanly.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWebhooksConfig, webhooksCommand } from '../../cli/commands/webhooks.ts';
import { FolderStore } from '../../shared/adapters/local/folder-store.ts';
import { readRegistry } from '../../shared/state/registry.ts';
import { signKomboBody } from '../../shared/webhooks/signature.ts';
import { runCli } from '../helpers/cli.ts';
import { startCli as startCliProcess } from '../helpers/cli-process.ts';
import type { KomboServer } from '../helpers/kombo-server.ts';
import { candidateRecord, startKomboServer } from '../helpers/kombo-server.ts';
import { queryWarehouse } from '../helpers/server-sync.ts';
import { tempDirs } from '../helpers/temp.ts';

const SECRET = 'webhook-test-secret-0123456789';
const KEY = 'webhooks-cli-test-key';
const INTEGRATION = 'greenhouse:HookCli7Tq2Wm';
const tempDir = tempDirs('kombo-webhooks-cli-');

/** The CLIs started, stopped after each test whatever its outcome: a server left running would outlive the suite. */
const started: ChildProcess[] = [];

/** The CLI as a child process, stopped after each test whatever its outcome. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv) {
  const cli = startCliProcess(args, env);
  started.push(cli.child);
  return cli;
}

/** A stream that keeps the lines written to it, and a way to wait for one. */
function lineSink() {
  const lines: string[] = [];
  const waiters: { match: RegExp; done: () => void }[] = [];
  const out = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString().split('\n').filter((l) => l !== '')) {
        lines.push(line);
        for (const w of waiters.filter((x) => x.match.test(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done();
        }
      }
      done();
    },
  });
  const waitFor = (match: RegExp): Promise<void> => new Promise((done) => (lines.some((l) => match.test(l)) ? done() : waiters.push({ match, done })));
  return { out, lines, waitFor };
}

const dataChanged = (id: string, names: string[]) =>
  JSON.stringify({ id, type: 'data-changed', data: { integration_id: INTEGRATION, integration_tool: 'greenhouse', integration_category: 'ATS', changed_models: names.map((name) => ({ name })) } });

const post = (url: string, body: string, signature = signKomboBody(body, SECRET)) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Kombo-Signature': signature }, body });

let server: KomboServer | undefined;
afterEach(async () => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await server?.close();
  server = undefined;
});

describe('kombo-etl webhooks', () => {
  it('syncs the changed model on a signed data-changed, once per delivery, and stops on Ctrl-C', async () => {
    const now = Date.now();
    server = await startKomboServer({
      integrationId: INTEGRATION,
      apiKey: KEY,
      clock: new Date(now).toISOString(),
      records: { candidates: [candidateRecord({ id: 'CandAda', firstName: 'Ada', lastName: 'Byron', emails: ['ada@example.com'], tags: [], changedAt: new Date(now - 86_400_000).toISOString() })] },
    });
    const warehouse = tempDir();
    const cli = startCli(['webhooks', '--secret', SECRET, '--warehouse', warehouse, '--api-url', server.url, '--gap-seconds', '0'], { KOMBO_API_KEY: KEY });
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(await cli.waitFor(/^receiving Kombo webhooks at /))![1]!;

    expect((await post(url, dataChanged('evt-1', ['ats_candidates']))).status).toBe(202);
    await cli.waitFor(/^sync \S+ greenhouse:HookCli7Tq2Wm candidates done in \d+ ms: 1 versions$/);
    expect(await queryWarehouse(warehouse, "SELECT first_name FROM candidates WHERE id = 'CandAda'")).toEqual([{ first_name: 'Ada' }]);

    // Refused: a bad signature. A replay of the first delivery: accepted, no effect.
    expect((await post(url, dataChanged('evt-x', ['ats_candidates']), signKomboBody('other', SECRET))).status).toBe(401);
    const before = cli.lines.length;
    expect((await post(url, dataChanged('evt-1', ['ats_candidates']))).status).toBe(202);
    await cli.waitFor(/^event evt-1 data-changed \S+ models=candidates: seen before, no effect$/, before);

    server.setClock(new Date(now + 60_000).toISOString());
    server.change('candidates', 'CandAda', (r) => (r['first_name'] = 'Augusta'));
    expect((await post(url, dataChanged('evt-2', ['ats_candidates', 'hris_employees']))).status).toBe(202);
    await cli.waitFor(/^sync \S+ greenhouse:HookCli7Tq2Wm candidates done in \d+ ms: 1 versions$/, before);
    const latest = await queryWarehouse(warehouse, "SELECT first_name FROM candidates WHERE id = 'CandAda' ORDER BY _synced_at DESC LIMIT 1");
    expect(latest).toEqual([{ first_name: 'Augusta' }]);

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    const syncs = cli.lines.filter((l) => l.startsWith('sync '));
    expect(syncs).toHaveLength(2);
    expect(cli.lines.filter((l) => /^event evt-1 .*started sync/.test(l))).toHaveLength(1);
    expect(cli.stderr()).toBe('');
  }, 60_000);

  it('in process: integration-created syncs every model into the given snapshot date, integration-deleted marks it deleted', async () => {
    const now = Date.now();
    server = await startKomboServer({
      integrationId: INTEGRATION,
      apiKey: KEY,
      clock: new Date(now).toISOString(),
      records: { candidates: [candidateRecord({ id: 'CandBo', firstName: 'Bo', lastName: 'Lin', emails: [], tags: [], changedAt: new Date(now - 86_400_000).toISOString() })] },
    });
    const warehouse = tempDir();
    const stop = new AbortController();
    const { out, lines, waitFor } = lineSink();
    let url = '';
    let ready: () => void = () => undefined;
    const listening = new Promise<void>((r) => (ready = r));
    const config = parseWebhooksConfig({ secret: SECRET, warehouse, apiUrl: server.url, gapSeconds: '0' }, { KOMBO_API_KEY: KEY });
    const exit = webhooksCommand(config, out, { stop: stop.signal, snapshotDate: () => '2026-01-15', onListening: (u) => {
        url = u;
        ready();
      },
    });
    await listening;
    const endUser = { organization_name: 'Acme', creator_email: null, origin_id: null };
    const created = JSON.stringify({ id: 'c1', type: 'integration-created', data: { id: INTEGRATION, tool: 'greenhouse', category: 'ATS', end_user: endUser } });
    expect((await post(url, created)).status).toBe(202);
    await waitFor(/^sync /);
    const deleted = JSON.stringify({ id: 'd1', type: 'integration-deleted', data: { id: INTEGRATION, tool: 'greenhouse', category: 'ATS', end_user: endUser, deleted_at: new Date(now).toISOString() } });
    expect((await post(url, deleted)).status).toBe(202);
    await waitFor(/^event d1 /);
    stop.abort();
    expect(await exit).toBe(0);
    expect(lines.find((l) => l.startsWith('event c1 '))).toMatch(/^event c1 integration-created greenhouse:HookCli7Tq2Wm: started sync \S+ of candidates,applications,interviews,jobs,offers,users,rejection_reasons,application_stages,tags$/);
    expect(lines.find((l) => l.startsWith('sync '))).toMatch(/^sync \S+ greenhouse:HookCli7Tq2Wm candidates,.* done in \d+ ms: 1 versions$/);
    expect(lines.find((l) => l.startsWith('event d1 '))).toBe('event d1 integration-deleted greenhouse:HookCli7Tq2Wm: marked deleted in the registry');
    const reg = await readRegistry(new FolderStore(warehouse));
    expect(reg.integrations[INTEGRATION]).toMatchObject({ source: 'webhook', deletedAt: expect.any(String) });
    expect(await queryWarehouse(warehouse, "SELECT CAST(snapshot_date AS VARCHAR) AS d, first_name FROM candidates")).toEqual([{ d: '2026-01-15', first_name: 'Bo' }]);
  }, 60_000);

  it.each([
    ['no secret', [], {}, /^error: --secret \(or KOMBO_WEBHOOK_SECRET\) is required/],
    ['a short secret', ['--secret', 'short'], {}, /^error: --secret \/ KOMBO_WEBHOOK_SECRET: 5 characters/],
    ['a bad port', ['--secret', SECRET, '--port', '70000'], {}, /^error: --port: expected an integer/],
    ['a short secret from the environment', [], { KOMBO_WEBHOOK_SECRET: 'x' }, /^error: --secret \/ KOMBO_WEBHOOK_SECRET: 1 characters/],
  ])('exits 2 with one line for %s', async (_, args, env, message) => {
    const warehouse = tempDir();
    const result = await runCli(['webhooks', '--warehouse', `${warehouse}/wh`, ...args], env, { timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(existsSync(`${warehouse}/wh`)).toBe(false);
  });
});
