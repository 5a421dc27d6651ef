import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MINIMUM_NODE, nodeVersionProblem } from '../../bin/node-version.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Run the CLI under a Node that reports `version` as its own. */
function cliAs(version: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`;
  return new Promise((done) => {
    execFile(process.execPath, ['--import', fake, resolve(ROOT, 'bin/kombo-etl.js'), ...args], { env: { PATH: process.env['PATH'] } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('supported Node.js versions', () => {
  it.each([
    ['18.19.0', false],
    ['20.10.0', false],
    ['20.11.0', true],
    ['20.20.2', true],
    ['22.12.0', true],
    ['24.1.0', true],
  ])('Node.js %s is supported: %s', (version, supported) => {
    expect(nodeVersionProblem(version) === undefined).toBe(supported);
  });

  it('are the ones package.json declares', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MINIMUM_NODE.join('.')}.0`);
  });

  it('an older Node gets one line saying what to install, exit 2, and nothing run', async () => {
    const res = await cliAs('18.19.0', ['sync', '--warehouse', '/nonexistent/never-created']);
    expect(res).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: kombo-etl needs Node.js 20.11 or newer (22 recommended: the Lambdas run on Node.js 22); this is Node.js 18.19.0. Install Node.js 22 (for example `nvm install 22`) and run it again.\n',
    });
  });

  it('a supported Node runs the CLI', async () => {
    const res = await cliAs('20.11.0', ['--version']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("the AWS SDK's notice that it will need Node 22 stays out of test output", async () => {
    const warnings: string[] = [];
    const listen = (w: Error) => warnings.push(w.message);
    process.on('warning', listen);
    try {
      const s3 = new S3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
      await s3.send(new ListBucketsCommand({})).catch(() => undefined);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', listen);
    }
    expect(warnings.filter((w) => w.includes('NodeVersionSupportWarning'))).toEqual([]);
  });
});
