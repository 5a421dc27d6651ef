/**
 * The local story end to end, two CLIs in their own processes: `kombo-etl sandbox --as-of …
 * --webhook-url … --webhook-secret …` posts its signed webhooks to `kombo-etl webhooks`, which
 * syncs what they announce from that sandbox into a local warehouse. An integration added through
 * `POST /sandbox/integrations` is synced in full without being named anywhere; a move of the
 * sandbox's clock within the next day brings its changed applications in; its removal is received.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_API_KEY } from '../../sandbox/index.ts';
import { startCli } from '../helpers/cli-process.ts';
import { queryWarehouse } from '../helpers/server-sync.ts';
import { tempDirs } from '../helpers/temp.ts';

const SECRET = 'sandbox-to-receiver-secret-0123';
const tempDir = tempDirs('kombo-sandbox-webhooks-cli-');


/** A port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const running: ReturnType<typeof startCli>[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

describe('kombo-etl sandbox --webhook-url → kombo-etl webhooks', () => {
  it('an added integration, a clock move and a removal reach the warehouse through the webhooks alone', async () => {
    // Prepare: the receiver syncs from the sandbox's port; the sandbox posts to the receiver.
    const sandboxPort = await freePort();
    const warehouse = tempDir();
    const receiver = startCli(
      ['webhooks', '--secret', SECRET, '--warehouse', warehouse, '--api-url', `http://127.0.0.1:${sandboxPort}/v1`, '--gap-seconds', '0'],
      { KOMBO_API_KEY: SANDBOX_API_KEY },
    );
    running.push(receiver);
    const hookUrl = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(await receiver.waitFor(/^receiving Kombo webhooks at /))![1]!;
    const sandbox = startCli(['sandbox', '--port', String(sandboxPort), '--as-of', '2025-06-06', '--webhook-url', hookUrl, '--webhook-secret', SECRET]);
    running.push(sandbox);
    await sandbox.waitFor(/^sync it with: /);
    const root = `http://127.0.0.1:${sandboxPort}`;
    const headers = { authorization: `Bearer ${SANDBOX_API_KEY}`, 'content-type': 'application/json' };

    // Act 1: a new integration connects.
    const added = await fetch(`${root}/sandbox/integrations`, { method: 'POST', headers, body: JSON.stringify({ tool: 'ashby', end_user_organization_name: 'Acme', candidates: 200 }) });
    const id = String(((await added.json()) as { data: { id: string } }).data.id);
    await receiver.waitFor(new RegExp(`^event \\S+ integration-created ${id}`));
    await receiver.waitFor(new RegExp(`^sync \\S+ ${id} .*applications.* done`));
    const [first] = await queryWarehouse(warehouse, `SELECT count(*)::INTEGER AS n FROM applications WHERE integration_id = '${id}'`);

    // Act 2: the clock moves to the next afternoon: the new integration's applications changed.
    const mark = receiver.lines.length;
    const moved = await fetch(`${root}/sandbox/clock`, { method: 'POST', headers, body: JSON.stringify({ at: '2025-06-07T15:00:00Z' }) });
    await receiver.waitFor(new RegExp(`^event \\S+ data-changed ${id} models=\\S*applications`), mark);
    await receiver.waitFor(new RegExp(`^sync \\S+ ${id} .*applications.* done`), mark);
    const [second] = await queryWarehouse(warehouse, `SELECT count(*)::INTEGER AS n FROM applications WHERE integration_id = '${id}'`);

    // Act 3: it is removed.
    const removed = await fetch(`${root}/sandbox/integrations/${encodeURIComponent(id)}`, { method: 'DELETE', headers });
    await receiver.waitFor(new RegExp(`^event \\S+ integration-deleted ${id}`));

    // Assess
    expect([added.status, moved.status, removed.status]).toEqual([200, 200, 200]);
    expect(Number(first!.n)).toBeGreaterThan(0);
    expect(Number(second!.n)).toBeGreaterThan(Number(first!.n));
    expect(sandbox.stderr()).toBe('');
  }, 180_000);
});
