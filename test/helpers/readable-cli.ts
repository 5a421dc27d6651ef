/**
 * The CLI as an unprivileged user can load it, for a check that needs file permissions to apply
 * when the tests run as root. A checkout in a folder closed to other users (a clone under `/root`,
 * or in a `mktemp -d` folder, both mode 0700) cannot be read by them: the CLI's code is then copied
 * into a temporary folder everyone can read, next to a link to the installed packages. When the
 * installed packages are closed to them too (installed under `/root`), the CLI runs as root without
 * its capabilities instead (`setpriv --bounding-set=-all`): permissions then apply to it as to any
 * owner. Only when neither is possible is there no way to run the check, and the answer says why.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
/** What `bin/kombo-etl.js` loads: the CLI, the pipeline, the sandbox, and the version. */
const CODE = ['bin', 'cli', 'shared', 'sandbox', 'package.json', 'tsconfig.json'];

/**
 * The entry point to run, a working folder the user can enter (esbuild, which tsx starts, enters
 * it), and whether to run it as that user or as root without capabilities (`via`).
 */
export type ReadableCli =
  | { readonly bin: string; readonly cwd: string; readonly as: { readonly uid: number; readonly gid: number } }
  | { readonly bin: string; readonly cwd: string; readonly via: readonly string[] }
  | { readonly skip: string };

/** Root without its capabilities: file permissions apply to it as to the owner of its files. */
const CAPLESS = ['setpriv', '--bounding-set=-all', '--'];

function caplessWorks(): boolean {
  try {
    execFileSync(CAPLESS[0]!, [...CAPLESS.slice(1), process.execPath, '-e', ''], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether the user can read `path` (and reach it through every folder above). */
function canRead(path: string, uid: number, gid: number): boolean {
  try {
    execFileSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1], 4)', path], { uid, gid, stdio: 'ignore', cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

/** Open a copied tree to everyone: folders 0755, files 0644 (a clone made under umask 077 has 0600 files). */
function openUp(path: string): void {
  const stat = statSync(path);
  chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
  if (stat.isDirectory()) for (const name of readdirSync(path)) openUp(join(path, name));
}

/** The CLI entry point the user can run: this checkout's, or a readable copy removed after the file's tests. */
export function readableCli(uid: number, gid: number): ReadableCli {
  const bin = join(REPO, 'bin', 'kombo-etl.js');
  const packages = realpathSync(join(REPO, 'node_modules'));
  if (!canRead(join(packages, 'tsx', 'package.json'), uid, gid)) {
    if (caplessWorks()) return { bin, cwd: REPO, via: CAPLESS };
    return { skip: `user ${uid} cannot read the installed packages at ${packages} and setpriv cannot drop root's capabilities here: install the packages in a folder every user can read` };
  }
  const as = { uid, gid };
  if (canRead(bin, uid, gid) && canRead(join(REPO, 'shared'), uid, gid)) return { bin, cwd: REPO, as };
  const dir = mkdtempSync(join(tmpdir(), 'kombo-cli-copy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of CODE) cpSync(join(REPO, name), join(dir, name), { recursive: true });
  openUp(dir);
  symlinkSync(packages, join(dir, 'node_modules'));
  return { bin: join(dir, 'bin', 'kombo-etl.js'), cwd: dir, as };
}
