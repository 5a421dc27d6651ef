/**
 * {@link ObjectStore} over a local folder: the warehouse on a laptop. Conditional writes are atomic
 * file system operations: `putIfAbsent` links a written file into place (fails if the name exists),
 * and a compare-and-swap (`putIfMatch`, `deleteIfMatch`) checks the version and renames (or
 * unlinks) while it holds the key's swap folder, made with an atomic `mkdir`, so that no two swaps
 * of one key interleave.
 */
import { link, mkdir, readFile, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore, TaggedObject } from '../../ports.ts';

/**
 * Modes of what the local adapters write: a warehouse holds personal data and run state, so its
 * files (Parquet, `_runs/`, temporary and swap files) are the owner's only (`rw-------`), and so are
 * its folders (`rwx------`), whatever the umask.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_FOLDER_MODE = 0o700;
const PRIVATE_FILE = { mode: PRIVATE_FILE_MODE } as const;

/** A swap folder older than this was left by a process that died mid-swap (a swap takes milliseconds). */
const SWAP_STALE_MS = 10_000;

/** The version tag of a body: its SHA-256, like S3's ETag a digest of the content. */
const tagOf = (body: Uint8Array): string => `"${createHash('sha256').update(body).digest('hex')}"`;

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`…), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function isNotFound(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

/**
 * Create `dir` and its missing parents, each readable by its owner only ({@link PRIVATE_FOLDER_MODE});
 * resolves to the folders it created, outermost first. On failure, the folders it made are removed again.
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
      await mkdir(p, { mode: PRIVATE_FOLDER_MODE });
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
    await writeFile(tmp, body, PRIVATE_FILE);
    await rename(tmp, target);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const target = this.path(key);
    await makeDirectory(dirname(target));
    // Write aside, then link into place: the link fails if the name exists, and a reader never
    // sees an empty or half-written file.
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body, PRIVATE_FILE);
    try {
      await link(tmp, target);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async putIfMatch(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    const target = this.path(key);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, body, PRIVATE_FILE);
    } catch (err) {
      if (isNotFound(err)) return false; // its folder is gone, and so is the object
      throw err;
    }
    try {
      return await this.swapping(target, async () => {
        if ((await this.getTagged(key))?.etag !== etag) return false;
        await rename(tmp, target);
        return true;
      });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    const target = this.path(key);
    return this.swapping(target, async () => {
      if ((await this.getTagged(key))?.etag !== etag) return false;
      await unlink(target);
      return true;
    });
  }

  /** Run `swap` while holding `target`'s swap folder; a missing parent folder means no object. */
  private async swapping(target: string, swap: () => Promise<boolean>): Promise<boolean> {
    const mutex = `${target}.swap`;
    for (;;) {
      try {
        await mkdir(mutex, { mode: PRIVATE_FOLDER_MODE });
        break;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (errnoCode(err) !== 'EEXIST') throw err;
        const age = await stat(mutex).then((st) => Date.now() - st.mtimeMs, () => 0);
        if (age > SWAP_STALE_MS) await rmdir(mutex).catch(() => undefined);
        else await sleep(1);
      }
    }
    try {
      return await swap();
    } finally {
      await rmdir(mutex);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async getTagged(key: string): Promise<TaggedObject | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : { body, etag: tagOf(body) };
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
