/**
 * What the real CLI does to keep secrets and personal data to their owner: an `http://` API URL is
 * refused, files it writes are readable by their owner only, `report --out` never follows a
 * symlink, the hash salt is read from the environment or a file and checked, and a warehouse's
 * personal-data mode never changes silently between syncs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
