/** {@link ObjectStore} over a local folder: the warehouse on a laptop. */
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../../ports.ts';

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`…), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function isNotFound(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

/**
 * Create `dir` and its missing parents; resolves to the folders it created, outermost first. On
 * failure, the folders it made are removed again.
 *
 * Not `mkdir(dir, { recursive: true })`: Node's recursive mkdir retries a child forever when its
 * parent exists but the child still cannot be made (`/proc/x`, a dangling symlink), spinning a core
 * without returning. Here each missing folder is made once, so the work is bounded by the path's
 * depth and any failure surfaces as the system error (`ENOENT`, `ENOTDIR`, `EACCES`, `EROFS`…).
 */
export async function makeDirectory(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      const s = await stat(p);
      if (s.isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR', path: p });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (dirname(p) === p) break; // a root that does not exist: mkdir below says why
    missing.push(p);
  }
  const created: string[] = [];
  for (const p of missing.reverse()) {
    try {
      await mkdir(p);
      created.push(p);
    } catch (err) {
      // Made meanwhile by a concurrent writer: fine if it is a folder (a dangling symlink is not).
      if (errnoCode(err) === 'EEXIST' && (await stat(p).then((s) => s.isDirectory(), () => false))) continue;
      // All or nothing: remove the (still empty) folders made for this path before failing.
      for (const c of created.reverse()) await rmdir(c).catch(() => undefined);
      throw err;
    }
  }
  return created;
}

export class FolderStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const p = resolve(this.root, key);
    // Keys are built from validated segments; this is the last line of defence.
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`key escapes the warehouse: ${key}`);
    return p;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const target = this.path(key);
    await makeDirectory(dirname(target));
    // Write then rename: a reader never sees half a file, like an S3 PUT.
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, target);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const target = this.path(key);
    await makeDirectory(dirname(target));
    let handle;
    try {
      handle = await open(target, 'wx');
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    }
    try {
      await handle.writeFile(body);
    } finally {
      await handle.close();
    }
    return true;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk from the deepest existing folder of the prefix, then filter on the full prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    let entries;
    try {
      entries = await readdir(this.path(base), { recursive: true, withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const keys: string[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.endsWith('.tmp')) continue;
      const key = relative(this.root, join(e.parentPath, e.name)).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    }
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.path(k), { force: true })));
  }

  locate(key: string): string {
    return this.path(key);
  }
}
