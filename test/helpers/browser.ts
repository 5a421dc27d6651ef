/**
 * A Chromium for the tests that open the report, found without a network or a package manager:
 * `CHROME_PATH` when set, else a system Chrome or Chromium at its usual install path, else the one
 * `@sparticuz/chromium` carries inside its npm package (extracted on first use to the system's
 * temporary folder). `npm install` alone therefore gives every machine a browser.
 */
import { accessSync, constants, createReadStream, existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { extract } from 'tar-fs';

/** Where system browsers are usually installed (Debian/Ubuntu, Fedora, snap, macOS). */
export const SYSTEM_BROWSER_PATHS: readonly string[] = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Flags for a system browser in a test: headless, no sandbox (CI runs as root), nothing phoning home. */
const SYSTEM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly executablePath: string;
  /** Command-line flags to launch it with (playwright-core's `args`). */
  readonly args: readonly string[];
  /** Where it was found, for messages. */
  readonly source: 'CHROME_PATH' | 'system' | '@sparticuz/chromium';
  /** Environment variables to add when launching it (playwright-core's `env`). */
  readonly env?: Readonly<Record<string, string>>;
}

/** What {@link findBrowser} looks at; injected by tests. */
export interface BrowserSources {
  readonly env?: NodeJS.ProcessEnv;
  readonly paths?: readonly string[];
  readonly isExecutable?: (path: string) => boolean;
  /** The npm package's browser: its extracted binary and its flags. */
  readonly npmChromium?: () => Promise<{ executablePath: string; args: readonly string[]; env?: Readonly<Record<string, string>> }>;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The shared libraries the npm Chromium needs beyond glibc (NSS, NSPR, expat), from the package's
 * own `al2023.tar.br`. The package unpacks them only inside Lambda; a slim Linux image without
 * Debian's libnss3 needs them too, so they are unpacked here once and always put first on the
 * library path: every machine then runs the browser against the same libraries.
 */
async function bundledLibraries(): Promise<string> {
  const target = join(tmpdir(), 'kombo-etl-chromium-libs');
  const lib = join(target, 'lib');
  if (existsSync(join(lib, 'libnss3.so'))) return lib;
  const bin = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', '..', 'bin');
  // Unpacked beside the target and renamed into place, so a half-unpacked folder is never used.
  const partial = `${target}.${process.pid}.partial`;
  await pipeline(createReadStream(join(bin, 'al2023.tar.br')), createBrotliDecompress(), extract(partial));
  try {
    renameSync(partial, target);
  } catch (err) {
    // Another test file unpacked it first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(lib, 'libnss3.so'))) throw err;
  }
  return lib;
}

async function sparticuz(): Promise<{ executablePath: string; args: readonly string[]; env: Readonly<Record<string, string>> }> {
  const { default: chromium } = await import('@sparticuz/chromium');
  const [executablePath, lib] = await Promise.all([chromium.executablePath(), bundledLibraries()]);
  const inherited = process.env['LD_LIBRARY_PATH'];
  return { executablePath, args: chromium.args, env: { LD_LIBRARY_PATH: inherited ? `${lib}:${inherited}` : lib } };
}

/**
 * The browser to drive. Rejects, saying what was tried, when there is none: a test that needs a
 * browser fails rather than skips.
 */
export async function findBrowser(sources: BrowserSources = {}): Promise<Browser> {
  const env = sources.env ?? process.env;
  const isExecutable = sources.isExecutable ?? executable;
  const explicit = env['CHROME_PATH'];
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) throw new Error(`CHROME_PATH is ${explicit}, which is not an executable file: point it at Chrome or Chromium, or unset it`);
    return { executablePath: explicit, args: SYSTEM_FLAGS, source: 'CHROME_PATH' };
  }
  const system = (sources.paths ?? SYSTEM_BROWSER_PATHS).find(isExecutable);
  if (system !== undefined) return { executablePath: system, args: SYSTEM_FLAGS, source: 'system' };
  try {
    const npm = await (sources.npmChromium ?? sparticuz)();
    return { ...npm, source: '@sparticuz/chromium' };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `no browser for the report test: CHROME_PATH is unset, none of ${(sources.paths ?? SYSTEM_BROWSER_PATHS).join(', ')} exists, and @sparticuz/chromium failed (${why}); run npm install, or set CHROME_PATH`,
      { cause: err },
    );
  }
}
