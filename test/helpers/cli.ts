/** Run the real CLI (`bin/kombo-etl.js`) in a child process, asynchronously so an in-process sandbox keeps serving. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/kombo-etl.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How the child runs: a shorter deadline for a command that must end quickly, another user. */
export interface CliOptions {
  /** Kill the child after this long (default 240 s); a killed child reports code 1. */
  readonly timeoutMs?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** The CLI to run (default this checkout's `bin/kombo-etl.js`), e.g. a copy another user can read. */
  readonly bin?: string;
  /** The child's working folder (default this process's): one the child's user can enter. */
  readonly cwd?: string;
  /** A command that runs node for the child, e.g. `['setpriv', '--bounding-set=-all', '--']`. */
  readonly via?: readonly string[];
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((done) => {
    const [command, ...prefix] = [...(options.via ?? []), process.execPath];
    execFile(
      command!,
      [...prefix, options.bin ?? BIN, ...args],
      // A clean environment: no KOMBO_* from the developer's shell leaks into a test.
      {
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 240_000,
        ...(options.uid !== undefined && { uid: options.uid }),
        ...(options.gid !== undefined && { gid: options.gid }),
        ...(options.cwd !== undefined && { cwd: options.cwd }),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}
