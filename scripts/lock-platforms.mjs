// The package registry this project installs from mirrors only some platform builds of
// @duckdb/node-bindings, so npm leaves the others out of package-lock.json and `npm ci` then
// refuses the lock file. This adds the missing entries as optional, platform-restricted packages
// (npm skips them on other platforms without fetching anything). Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const parent = lock.packages['node_modules/@duckdb/node-bindings'];
if (!parent) throw new Error('@duckdb/node-bindings is not in the lock file');
let added = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const m = /node-bindings-(darwin|linux|win32)-(x64|arm64)(-musl)?$/.exec(name);
  if (!m) throw new Error(`unexpected platform package ${name}`);
  const [, os, cpu, musl] = m;
  lock.packages[key] = {
    version,
    cpu: [cpu],
    ...(os === 'linux' && { libc: [musl ? 'musl' : 'glibc'] }),
    license: 'MIT',
    optional: true,
    os: [os],
  };
  added++;
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} platform entries`);
