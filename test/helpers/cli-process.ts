/** `kombo-etl` as a long-running child process (a server), its stdout as lines, and a way to wait for one. */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/kombo-etl.js');

/** Start the CLI with `args`, an environment of PATH, HOME and `env` alone. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env } });
  const lines: string[] = [];
  const waiters: { match: RegExp; done: (line: string) => void }[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.filter((x) => x.match.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(line);
      }
    }
  });
  const exited = new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1)));
  /** The first line from index `after` on that matches, now or once it is printed. */
  const waitFor = (match: RegExp, after = 0): Promise<string> =>
    new Promise((done) => {
      const seen = lines.slice(after).find((l) => match.test(l));
      if (seen !== undefined) done(seen);
      else waiters.push({ match, done });
    });
  return { child, lines, waitFor, exited, stderr: () => stderr };
}
