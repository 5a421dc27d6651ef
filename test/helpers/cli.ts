/** Run the real CLI (`bin/kombo-etl.js`) in a child process, asynchronously so an in-process sandbox keeps serving. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/kombo-etl.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      // A clean environment: no KOMBO_* from the developer's shell leaks into a test.
      { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}
