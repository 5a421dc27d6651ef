/**
 * Configuration errors of the real CLI: a warehouse that cannot be written and a bad `--port` end
 * with exit 2 and one line that says what to do, before the sandbox starts, never with a raw system
 * error or a hang.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { readableCli } from '../helpers/readable-cli.ts';

const tmp = tempDirs('kombo-cli-errors-');
/** A command that should stop at once is killed after this long, so a hang fails instead of stalling the suite. */
const QUICK = { timeoutMs: 60_000 };
/** Any raw system error code, which a user should never have to decode. */
const RAW_ERROR = /\bE[A-Z]{3,}\b|\n\s+at /;
/** An unprivileged user, to meet a real EACCES when the tests run as root. */
const NOBODY = 65_534;

function expectOneLineConfigError(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(message);
  expect(r.stderr).not.toMatch(RAW_ERROR);
}

describe('a warehouse that cannot be written: exit 2, one line, before the sandbox starts', () => {
  const root = tmp();
  const file = join(root, 'notes.txt');
  writeFileSync(file, 'not a warehouse');
  const dangling = join(root, 'dangling');
  symlinkSync(join(root, 'nowhere'), dangling);

  it.each([
    ['a file', file, /^error: --warehouse .*notes\.txt: .*notes\.txt is a file, not a folder; choose a folder you can write to$/],
    ['a path under a file', join(file, 'wh'), /notes\.txt is a file, not a folder; choose a folder/],
    ['a symbolic link to nothing', dangling, /dangling is a symbolic link to a folder that does not exist/],
    ['a path under /proc', '/proc/kombo-wh', /^error: --warehouse \/proc\/kombo-wh: a folder cannot be created there; choose a folder you can write to$/],
    ['a path under /sys', '/sys/kombo-wh', /^error: --warehouse \/sys\/kombo-wh: .*; choose a folder you can write to$/],
  ])('sync --warehouse <%s>', async (_what, warehouse, message) => {
    const r = await runCli(['sync', '--warehouse', warehouse], {}, QUICK);
    expectOneLineConfigError(r, message);
    // Nothing started, nothing written.
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('not a warehouse');
    expect(readdirSync(root).sort()).toEqual(['dangling', 'notes.txt']);
  });

  it.each([
    ['retry', ['retry', '--run-id', '20250101T000000Z-abcdef']],
    ['demo', ['demo']],
  ])('%s --warehouse <a file>', async (_what, args) => {
    const r = await runCli([...args, '--warehouse', join(file, 'wh')], {}, QUICK);
    expectOneLineConfigError(r, /^error: --warehouse .*notes\.txt is a file, not a folder; choose a folder you can write to$/);
    expect(r.stdout).toBe('');
  });

  describe('a folder without write permission (as an unprivileged user when run as root)', () => {
    const asRoot = process.getuid?.() === 0;
    const parent = tmp();
    const readOnly = join(parent, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    // mkdtemp makes 0700 folders: let the unprivileged user reach the read-only one.
    chmodSync(parent, 0o755);
    // As root, the unprivileged user runs a copy of the CLI it can read when this checkout is in a
    // folder closed to other users (a clone under /root, a mktemp -d folder), or, when the installed
    // packages are closed to it too, root runs it without its capabilities; only when neither can
    // be done is the check skipped, saying why.
    const cli = asRoot ? readableCli(NOBODY, NOBODY) : undefined;
    const skip = cli !== undefined && 'skip' in cli ? cli.skip : undefined;
    const as = cli === undefined || 'skip' in cli ? {} : { bin: cli.bin, cwd: cli.cwd, ...('as' in cli ? cli.as : { via: cli.via }) };
    afterAll(() => chmodSync(readOnly, 0o755));

    it.skipIf(skip !== undefined).each([
      ['the existing folder itself (only writing a file finds it)', readOnly],
      ['a folder to create inside it', join(readOnly, 'wh')],
    ])(`%s${skip === undefined ? '' : ` (skipped: ${skip})`}`, async (_what, warehouse) => {
      const r = await runCli(['sync', '--warehouse', warehouse], {}, { ...QUICK, ...as });
      expectOneLineConfigError(r, /^error: --warehouse .*read-only.*: no permission to create or write files there; choose a folder you can write to$/);
      expect(r.stdout).toBe('');
      expect(readdirSync(readOnly)).toEqual([]);
    });
  });
});

describe('kombo-etl sandbox --port', () => {
  let busy: Server;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
  });
  afterAll(async () => {
    await new Promise<void>((done) => busy.close(() => done()));
  });

  it.each(['80000', '65536', '-1', '1.5', 'abc', '0x50', ''])('rejects --port %j with exit 2 and one line', async (port) => {
    const r = await runCli(['sandbox', '--port', port], {}, QUICK);
    expectOneLineConfigError(r, /^error: --port: expected an integer from 0 to 65535 \(0: any free port\), got ".*"$/);
    expect(r.stdout).toBe('');
  });

  it('rejects a port in use with exit 2 and one line', async () => {
    const { port } = busy.address() as AddressInfo;
    const r = await runCli(['sandbox', '--port', String(port)], {}, QUICK);
    expectOneLineConfigError(r, new RegExp(`^error: --port ${port}: already in use on 127\\.0\\.0\\.1; choose another port, or 0 for any free one$`));
    expect(r.stdout).toBe('');
  });
});

describe('kombo-etl retry refuses before the sandbox starts', () => {
  it('a run the warehouse does not hold: exit 2, one line, no sandbox', async () => {
    const warehouse = tmp();
    const r = await runCli(['retry', '--run-id', '20261122T020000Z-a1b2c3', '--warehouse', warehouse], {}, QUICK);
    expectOneLineConfigError(r, /^error: run 20261122T020000Z-a1b2c3 has no plan in warehouse .*: check --run-id and --warehouse$/);
    expect(r.stdout).not.toContain('sandbox');
  });

  it('a run synced from Kombo, retried without a key: exit 2, saying which key to set', async () => {
    const warehouse = tmp();
    const runId = '20261122T020000Z-a1b2c3';
    mkdirSync(join(warehouse, '_runs', runId), { recursive: true });
    writeFileSync(join(warehouse, '_runs', runId, 'plan.json'), JSON.stringify({ runId, snapshotDate: '2026-11-22', createdAt: '2026-11-22T02:00:00Z', streams: [] }));
    writeFileSync(join(warehouse, '_runs', runId, 'runner.json'), JSON.stringify({ source: 'kombo', pid: 1, host: 'elsewhere', startedAt: '2026-11-22T02:00:00Z' }));
    writeFileSync(join(warehouse, '_source.json'), JSON.stringify({ source: 'kombo', recordedAt: '2026-11-22T02:00:00Z' }));
    const r = await runCli(['retry', '--run-id', runId, '--warehouse', warehouse], {}, QUICK);
    expectOneLineConfigError(r, /^error: run 20261122T020000Z-a1b2c3 holds data from Kombo: retry it with KOMBO_API_KEY \(or --api-key\) set, not against the built-in sandbox$/);
    expect(r.stdout).not.toContain('sandbox');
  });
});

describe('kombo-etl export to a folder that takes no files', () => {
  it('--dbt-sources under /proc: exit 2, one line, no temporary file name', async () => {
    const r = await runCli(['export', '--dbt-sources', '/proc/kombo-sources.yml'], {}, QUICK);
    expectOneLineConfigError(r, /^error: --dbt-sources \/proc\/kombo-sources\.yml: .*; choose a folder you can write to$/);
    expect(r.stderr).not.toContain('.tmp');
  });
});

describe('kombo-etl sync --sandbox with an integration the sandbox does not have', () => {
  it('exit 2, one line listing the sandbox integrations, nothing written', async () => {
    const warehouse = tmp();
    const r = await runCli(['sync', '--sandbox', '--integrations', 'workable:Nope12345678901234567890', '--warehouse', warehouse], {}, QUICK);
    expectOneLineConfigError(r, /^error: --integrations: the built-in sandbox has no integration workable:Nope12345678901234567890; it has greenhouse:/);
    expect(readdirSync(warehouse)).toEqual([]);
  });
});
