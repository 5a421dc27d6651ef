/**
 * The local warehouse folder: folders are made with a bounded walk (never Node's recursive mkdir,
 * which spins forever under `/proc`), and the CLI's write check proves a folder writable without
 * leaving anything behind.
 */
import { existsSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore, makeDirectory } from '../../shared/adapters/local/folder-store.ts';
import { assertReadableWarehouse, assertWritableWarehouse } from '../../cli/warehouse.ts';
import { ConfigError } from '../../shared/errors.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('kombo-folder-');

describe('makeDirectory', () => {
  it('makes the missing folders, outermost first, and nothing when they exist', async () => {
    const root = tmp();
    const deep = join(root, 'a', 'b', 'c');
    expect(await makeDirectory(deep)).toEqual([join(root, 'a'), join(root, 'a', 'b'), deep]);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(await makeDirectory(deep)).toEqual([]);
  });

  it('lets concurrent writers make the same folders', async () => {
    const deep = join(tmp(), 'x', 'y', 'z');
    await Promise.all(Array.from({ length: 16 }, () => makeDirectory(deep)));
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it.each([
    ['under /proc, where mkdir says ENOENT although the parent exists', () => '/proc/kombo-wh/_runs', 'ENOENT'],
    ['under a file', () => {
      const file = join(tmp(), 'file');
      writeFileSync(file, '');
      return join(file, 'wh');
    }, 'ENOTDIR'],
    ['at a symbolic link to nothing', () => {
      const link = join(tmp(), 'link');
      symlinkSync(join(tmp(), 'gone', 'nowhere'), link);
      return link;
    }, 'EEXIST'],
  ])('fails, and does not loop, %s', async (_what, path, code) => {
    await expect(makeDirectory(path())).rejects.toMatchObject({ code });
  });

});

describe('FolderStore under a path where no folder can be made', () => {
  it('rejects a write under /proc instead of spinning', async () => {
    await expect(new FolderStore('/proc/kombo-wh').put('_runs/r/plan.json', '{}')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('assertWritableWarehouse', () => {
  it('leaves nothing behind: neither the folders it made nor its probe file', async () => {
    const root = tmp();
    await assertWritableWarehouse(join(root, 'new', 'warehouse'));
    expect(readdirSync(root)).toEqual([]);
    await assertWritableWarehouse(root);
    expect(readdirSync(root)).toEqual([]);
  });

  it('throws a ConfigError naming the option', async () => {
    const file = join(tmp(), 'file');
    writeFileSync(file, '');
    await expect(assertWritableWarehouse(file)).rejects.toThrow(ConfigError);
    await expect(assertWritableWarehouse('/proc/kombo-wh')).rejects.toThrow(/^--warehouse \/proc\/kombo-wh: a folder cannot be created there/);
  });
});

describe('assertReadableWarehouse', () => {
  it('accepts a warehouse with a registered partition and creates nothing when rejecting', async () => {
    const root = tmp();
    const missing = join(root, 'missing');
    await expect(assertReadableWarehouse(missing)).rejects.toThrow(/the warehouse is missing/);
    expect(existsSync(missing)).toBe(false);
    await expect(assertReadableWarehouse(root)).rejects.toThrow(/the warehouse is empty/);
    // Runs that registered no partition (all failed) still leave the warehouse empty for readers.
    await new FolderStore(root).put('_runs/r/_FAILED.json', '{}');
    await expect(assertReadableWarehouse(root)).rejects.toThrow(/the warehouse is empty/);
    await new FolderStore(root).put('_catalog/applications/2025-05-01/x.json', '{}');
    await expect(assertReadableWarehouse(root)).resolves.toBeUndefined();
  });
});
