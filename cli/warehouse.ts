/**
 * Checks of the `--warehouse` folder, made before anything else starts (the sandbox, a run, DuckDB),
 * so that a wrong path is one line that says what to do, with exit 2, instead of a raw system error
 * half-way through a run or a silent empty result.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import { FolderStore, PRIVATE_FILE_MODE, errnoCode, makeDirectory } from '../shared/adapters/local/folder-store.ts';
import { CATALOG_PREFIX } from '../shared/adapters/local/local-catalog.ts';
import type { ObjectStore } from '../shared/ports.ts';
import { assertWarehouseSource } from '../shared/state/source.ts';
import type { DataSource } from '../shared/state/source.ts';

/** Name of the file written and removed to prove the warehouse folder is writable. */
const PROBE_PREFIX = '.kombo-etl-write-check-';

/**
 * What stands in the way of creating `path`, when it is on disk: its nearest existing ancestor (or
 * itself) being a file, or a symbolic link to nothing.
 */
async function obstacle(path: string): Promise<string | undefined> {
  for (let p = resolve(path); ; p = dirname(p)) {
    const s = await stat(p).catch(() => undefined);
    if (s !== undefined) return s.isDirectory() ? undefined : `${p} is a file, not a folder`;
    const link = await lstat(p).catch(() => undefined);
    if (link?.isSymbolicLink()) return `${p} is a symbolic link to a folder that does not exist`;
    if (dirname(p) === p) return undefined;
  }
}

/** Why a folder could not be created or written, in words (never the raw system message). */
async function whyNotWritable(path: string, err: unknown): Promise<string> {
  const inTheWay = await obstacle(path);
  if (inTheWay !== undefined) return inTheWay;
  switch (errnoCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'no permission to create or write files there';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device';
    case 'ENOENT':
    case 'EEXIST':
    case 'ELOOP':
      return 'a folder cannot be created there';
    default:
      return `cannot be created or written (${errorMessage(err).split('\n')[0] ?? ''})`;
  }
}

/** Write a probe file into `folder` and remove it: throws what writing there throws. */
async function probeWrite(folder: string): Promise<void> {
  const probe = join(folder, `${PROBE_PREFIX}${randomBytes(4).toString('hex')}`);
  const handle = await open(probe, 'wx');
  try {
    await handle.writeFile('kombo-etl');
  } finally {
    await handle.close();
    await rm(probe, { force: true });
  }
}

/**
 * Prove that the warehouse folder `dir` can be created and written: make it (and its parents), write
 * a probe file and remove it. Folders this check made are removed again, so a configuration error
 * found later still leaves nothing behind. Throws a {@link ConfigError} saying what is wrong.
 */
export async function assertWritableWarehouse(dir: string): Promise<void> {
  const root = resolve(dir);
  let created: string[] = [];
  try {
    created = await makeDirectory(root);
    await probeWrite(root);
  } catch (err) {
    throw new ConfigError(`--warehouse ${dir}: ${await whyNotWritable(root, err)}; choose a folder you can write to`);
  } finally {
    for (const d of created.reverse()) await rmdir(d).catch(() => undefined);
  }
}

/**
 * Make sure `dir` holds a warehouse with at least one synced table partition before reading it, so
 * that `query` and `report` never answer zeros for a mistyped path. Throws a {@link ConfigError}.
 * Creates nothing.
 */
export async function assertReadableWarehouse(dir: string): Promise<void> {
  const root = resolve(dir);
  const hint = 'run `kombo-etl sync` first, or point --warehouse at the folder it wrote';
  let isFolder: boolean;
  try {
    isFolder = (await stat(root)).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new ConfigError(`--warehouse ${dir}: the warehouse is missing (${root} does not exist); ${hint}`);
    throw new ConfigError(`--warehouse ${dir}: cannot read ${root} (${errnoCode(err) === 'EACCES' ? 'no permission' : errorMessage(err)})`);
  }
  if (!isFolder) throw new ConfigError(`--warehouse ${dir}: ${root} is a file, not a warehouse folder; ${hint}`);
  let partitions: string[];
  try {
    partitions = await new FolderStore(root).list(CATALOG_PREFIX);
  } catch (err) {
    throw new ConfigError(`--warehouse ${dir}: cannot read ${root} (${errnoCode(err) === 'EACCES' ? 'no permission' : errorMessage(err)})`);
  }
  if (partitions.length === 0) throw new ConfigError(`--warehouse ${dir}: the warehouse is empty (${root} holds no synced table); ${hint}`);
}

/**
 * Create the folder of an output file (`report --out`) without Node's unbounded recursive mkdir,
 * turning a failure into a {@link ConfigError} that names the option.
 */
export async function makeOutputFolder(option: string, file: string): Promise<void> {
  const folder = dirname(resolve(file));
  try {
    await makeDirectory(folder);
    // A folder that exists may still refuse files (/proc, a read-only mount).
    await probeWrite(folder);
  } catch (err) {
    throw new ConfigError(`${option} ${file}: ${await whyNotWritable(folder, err)}; choose a folder you can write to`);
  }
}

/** A new, unique file name beside `file`, for writing it aside before renaming it into place. */
export const tempBeside = (file: string): string => join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);

/**
 * Write `body` at `file`, readable by its owner only: into a new file beside it, renamed over it, so
 * that a reader never sees half a file and an existing file's looser mode is not kept.
 */
export async function writePrivately(file: string, body: string): Promise<void> {
  const temp = tempBeside(file);
  try {
    await writeFile(temp, body, { encoding: 'utf8', flag: 'wx', mode: PRIVATE_FILE_MODE });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The built-in sandbox's integration ids, for telling what an older warehouse holds. Loaded on demand: it brings the data generator. */
export async function sandboxIntegrationIds(): Promise<ReadonlySet<string>> {
  const { DEFAULT_SANDBOX_INTEGRATIONS } = await import('../sandbox/index.ts');
  return new Set(DEFAULT_SANDBOX_INTEGRATIONS.map((i) => i.id));
}

/**
 * Throws a ConfigError when the warehouse holds data from the other source than `source` (see
 * `shared/warehouse/source.ts`); call it before starting anything, so that the refusal writes nothing.
 */
export async function assertLocalWarehouseSource(store: ObjectStore, source: DataSource, where: string): Promise<void> {
  await assertWarehouseSource(store, source, where, sandboxIntegrationIds);
}
