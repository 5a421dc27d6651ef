/**
 * The lock file pins what `npm ci` installs: every package it downloads must carry the registry's
 * integrity, so that a tampered or swapped tarball (a native binary above all) fails the install
 * instead of running. Entries that npm does not download are exempt: the root, links to local
 * folders, and packages shipped inside another package's tarball (`inBundle`). And the CDK CLI
 * sends no telemetry from this app.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly inBundle?: boolean;
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };
const downloaded = Object.entries(lock.packages).filter(([key, e]) => key !== '' && e.link !== true && e.inBundle !== true);

describe('package-lock.json', () => {
  it('is a lock file whose packages npm ci reads (lockfileVersion 3)', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(downloaded.length).toBeGreaterThan(100);
  });

  it('gives every downloaded package a sha512 integrity, the resolved ones and the platform builds npm fetches by name alike', () => {
    const missing = downloaded.filter(([, e]) => !/^sha512-[A-Za-z0-9+/]+={0,2}$/.test(e.integrity ?? '')).map(([key]) => key);
    expect(missing).toEqual([]);
    const resolvedWithout = downloaded.filter(([, e]) => e.resolved !== undefined && e.integrity === undefined).map(([key]) => key);
    expect(resolvedWithout).toEqual([]);
  });
});

describe('cdk.json', () => {
  it('turns the CDK CLI telemetry off for this app (the "cli-telemetry" context key the CLI reads)', () => {
    const cdk = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
    expect(cdk.context?.['cli-telemetry']).toBe(false);
  });
});
