/**
 * What the real CLI does to keep secrets and personal data to their owner: an `http://` API URL is
 * refused, files it writes are readable by their owner only, `report --out` never follows a
 * symlink, the hash salt is read from the environment or a file and checked, and a warehouse's
 * personal-data mode never changes silently between syncs.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/index.ts';
import type { CliResult } from '../helpers/cli.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('kombo-cli-security-');
const QUICK = { timeoutMs: 60_000 };

function expectOneLineConfigError(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(message);
}

/**
 * A plain-http URL that is not 127.0.0.1 or localhost, yet reaches nothing beyond this machine
 * should the check ever be missing (0.0.0.0 connects to this host; port 9 refuses).
 */
const PLAIN_HTTP = 'http://0.0.0.0:9/v1';

describe('an http:// API URL: the key would travel in clear text', () => {
  it.each([
    ['--api-url', ['--api-url', PLAIN_HTTP], {}],
    ['KOMBO_API_URL', [], { KOMBO_API_URL: PLAIN_HTTP }],
  ])('%s: exit 2, one line, nothing written', async (_name, args, env) => {
    const warehouse = join(tmp(), 'w');
    const r = await runCli(['sync', '--warehouse', warehouse, '--integrations', 'lever:A1', ...args], { KOMBO_API_KEY: 'a-real-key', ...env }, QUICK);
    expectOneLineConfigError(r, /sends the API key in clear text: use an https:\/\/ URL \(http:\/\/ only for 127\.0\.0\.1 or localhost\)$/);
    expect(r.stderr).not.toContain('a-real-key');
    expect(existsSync(warehouse)).toBe(false);
  });
});

/** The small sandbox integration (60 candidates), every model: enough for a report and an export. */
const WORKABLE = 'workable:Ts5GxY3nKc8WqP2hRz7MfVdJ';

/** Every file and folder under `root` (root included), with its permission bits. */
function modes(root: string): { files: Map<string, number>; folders: Map<string, number> } {
  const files = new Map<string, number>();
  const folders = new Map<string, number>([[root, statSync(root).mode & 0o777]]);
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    (e.isDirectory() ? folders : files).set(path, lstatSync(path).mode & 0o777);
  }
  return { files, folders };
}

/** The entries whose permission bits are not `mode`, as `path: octal` (empty when all match). */
const notMode = (entries: Map<string, number>, mode: number) => [...entries].filter(([, m]) => m !== mode).map(([p, m]) => `${p}: ${m.toString(8)}`);

describe('files the CLI writes are readable by their owner only', () => {
  let home: string;
  let warehouse: string;
  beforeAll(async () => {
    home = tmp();
    warehouse = join(home, 'w');
    const r = await runCli(['sync', '--sandbox', '--integrations', WORKABLE, '--warehouse', warehouse, '--snapshot-date', '2026-01-15']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('sync: every Parquet and state file 0600, every folder 0700', () => {
    const { files, folders } = modes(warehouse);
    expect([...files.keys()].some((p) => p.endsWith('.parquet'))).toBe(true);
    expect([...files.keys()].some((p) => p.includes('_runs'))).toBe(true);
    expect(notMode(files, 0o600)).toEqual([]);
    expect(notMode(folders, 0o700)).toEqual([]);
  });

  it('report (default place and --out, over an existing 0644 file) and export --duckdb: 0600', async () => {
    const out = join(home, 'out', 'report.html');
    const duckdb = join(home, 'bi', 'kombo.duckdb');
    const loose = join(home, 'loose.html');
    writeFileSync(loose, 'old', { mode: 0o644 });
    for (const args of [['report', '--warehouse', warehouse], ['report', '--warehouse', warehouse, '--out', out], ['report', '--warehouse', warehouse, '--out', loose], ['export', '--warehouse', warehouse, '--duckdb', duckdb]]) {
      const r = await runCli(args, {}, QUICK);
      expect(r.code, r.stderr).toBe(0);
    }
    const written = [join(warehouse, 'report.html'), out, loose, duckdb];
    expect(written.map((p) => `${p}: ${(statSync(p).mode & 0o777).toString(8)}`)).toEqual(written.map((p) => `${p}: 600`));
    expect([join(home, 'out'), join(home, 'bi')].map((p) => (statSync(p).mode & 0o777).toString(8))).toEqual(['700', '700']);
    expect(notMode(modes(warehouse).files, 0o600)).toEqual([]);
  });

  it('report --out on a symbolic link: exit 2, one line, the file it points to untouched', async () => {
    const planted = join(home, 'elsewhere.txt');
    writeFileSync(planted, 'not yours');
    const link = join(home, 'link.html');
    symlinkSync(planted, link);
    const r = await runCli(['report', '--warehouse', warehouse, '--out', link], {}, QUICK);
    expectOneLineConfigError(r, /--out .*link\.html: is a symbolic link, which the report never follows; remove it or choose another file$/);
    expect(readFileSync(planted, 'utf8')).toBe('not yours');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe('the hash salt on the command line', () => {
  const SALT = '9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c';
  /** What runner.json used to hold: a fingerprint a dictionary of salts can be tested against. */
  const oldFingerprint = createHash('sha256').update(`kombo-etl pii salt\n${SALT}`).digest('hex').slice(0, 16);
  const sync = (warehouse: string, args: readonly string[], env: NodeJS.ProcessEnv) =>
    runCli(['sync', '--sandbox', '--integrations', WORKABLE, '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', '2026-01-15', '--pii-mode', 'hash', ...args], env);

  it('read from KOMBO_PII_SALT_FILE: no warning, and nothing of the salt in any file of the warehouse', async () => {
    const home = tmp();
    const saltFile = join(home, 'salt');
    writeFileSync(saltFile, `${SALT}\n`, { mode: 0o600 });
    const warehouse = join(home, 'w');
    const r = await sync(warehouse, [], { KOMBO_PII_SALT_FILE: saltFile });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    const state = [...modes(warehouse).files.keys()].filter((p) => !p.endsWith('.parquet'));
    expect(state.some((p) => p.endsWith('runner.json'))).toBe(true);
    const found = state.filter((p) => /saltFingerprint|fingerprint/i.test(readFileSync(p, 'latin1')) || readFileSync(p, 'latin1').includes(oldFingerprint) || readFileSync(p, 'latin1').includes(SALT));
    expect(found).toEqual([]);
  });

  it('--pii-salt and --api-key still work, with a warning on stderr for each', async () => {
    const sandbox = await startSandbox({ port: 0 });
    try {
      const args = ['sync', '--api-url', sandbox.url, '--api-key', sandbox.apiKey, '--integrations', WORKABLE, '--models', 'candidates', '--warehouse', join(tmp(), 'w')];
      const r = await runCli([...args, '--snapshot-date', '2026-01-15', '--pii-mode', 'hash', '--pii-salt', SALT]);
      expect(r.code, r.stderr).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
      expect(warnings).toEqual([
        "warning: --api-key shows the secret to every user of this machine (ps) and keeps it in the shell's history; set KOMBO_API_KEY or KOMBO_API_KEY_FILE, or pass --api-key-file, instead",
        "warning: --pii-salt shows the secret to every user of this machine (ps) and keeps it in the shell's history; set KOMBO_PII_SALT or KOMBO_PII_SALT_FILE, or pass --pii-salt-file, instead",
      ]);
      expect(r.stderr).not.toContain(SALT);
    } finally {
      await sandbox.close();
    }
  });

  it('a weak salt: exit 2, one line with the rule, nothing written', async () => {
    const warehouse = join(tmp(), 'w');
    const r = await sync(warehouse, [], { KOMBO_PII_SALT: 'a'.repeat(32) });
    expectOneLineConfigError(r, /at least 32 characters, with at least 10 different ones .*only 1 different character$/);
    expect(existsSync(warehouse)).toBe(false);
  });
});

describe('a change of --pii-mode between syncs is refused, never applied to some records only', () => {
  it('keep, then drop: exit 2, one line that says what to do, nothing written', async () => {
    const warehouse = join(tmp(), 'w');
    const sync = (mode: string, date: string) =>
      runCli(['sync', '--sandbox', '--integrations', WORKABLE, '--models', 'candidates', '--warehouse', warehouse, '--snapshot-date', date, '--pii-mode', mode]);
    const first = await sync('keep', '2026-01-15');
    expect(first.code, first.stderr).toBe(0);
    const before = [...modes(warehouse).files.keys()].sort();
    const r = await sync('drop', '2026-01-16');
    expectOneLineConfigError(r, /^error: warehouse .* stores personal data with --pii-mode keep, and this sync asks for drop: .* nothing was written; sync with --pii-mode keep, or sync with --pii-mode drop into a new warehouse \(--warehouse DIR\)$/);
    expect([...modes(warehouse).files.keys()].sort()).toEqual(before);
  });
});
