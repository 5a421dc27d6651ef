// The package registry this project installs from mirrors only some platform builds of
// @duckdb/node-bindings, so npm leaves the others out of package-lock.json and `npm ci` then
// refuses the lock file. This adds the missing entries as optional, platform-restricted packages
// (npm skips them on other platforms without fetching anything), each with the `integrity` the npm
// registry publishes for it (`npm view <package>@<version> dist.integrity`), so that `npm ci` on
// any platform verifies the native binary it downloads. Run after `npm install`; it needs the
// registry once, and fails rather than write an entry without its integrity.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const parent = lock.packages['node_modules/@duckdb/node-bindings'];
if (!parent) throw new Error('@duckdb/node-bindings is not in the lock file');

/** The registry's integrity of one published version: a `sha512-` Subresource Integrity string. */
function registryIntegrity(name, version) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const integrity = execFileSync(npm, ['view', `${name}@${version}`, 'dist.integrity'], { encoding: 'utf8' }).trim();
  if (!/^sha512-[A-Za-z0-9+/]+={0,2}$/.test(integrity)) throw new Error(`npm view ${name}@${version} dist.integrity gave no sha512 integrity: ${JSON.stringify(integrity)}`);
  return integrity;
}

let added = 0;
let verified = 0;
for (const [name, version] of Object.entries(parent.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  const existing = lock.packages[key];
  if (existing?.integrity) continue;
  if (existing) {
    lock.packages[key] = { version: existing.version, integrity: registryIntegrity(name, existing.version), ...existing };
    verified++;
    continue;
  }
  const m = /node-bindings-(darwin|linux|win32)-(x64|arm64)(-musl)?$/.exec(name);
  if (!m) throw new Error(`unexpected platform package ${name}`);
  const [, os, cpu, musl] = m;
  lock.packages[key] = {
    version,
    integrity: registryIntegrity(name, version),
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
console.log(`lock-platforms: added ${added} platform entries, added the integrity of ${verified} more`);
