/**
 * An {@link ObjectStore} in memory that counts its requests per kind, as S3 would bill them: one
 * GET per `get`, one LIST per thousand keys a `list` returns (S3 pages at 1,000), one PUT per `put`
 * and `putIfAbsent`. `putIfAbsent` checks and writes in one step, as a conditional write does.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../shared/ports.ts';

const tagOf = (body: Uint8Array): string => `"${createHash('md5').update(body).digest('hex')}"`;

/** Keys S3 returns per ListObjectsV2 page. */
export const LIST_PAGE_KEYS = 1000;

export interface RequestCounts {
  gets: number;
  lists: number;
  puts: number;
}

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly counts: RequestCounts = { gets: 0, lists: 0, puts: 0 };
  /** Only keys under this prefix are counted (all by default). */
  countOnly = '';

  private count(kind: keyof RequestCounts, key: string, n = 1): void {
    if (key.startsWith(this.countOnly)) this.counts[kind] += n;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.count('puts', key);
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    this.count('puts', key);
    if (this.objects.has(key)) return false;
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
    return true;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.count('gets', key);
    return this.objects.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    this.count('lists', prefix, Math.max(1, Math.ceil(keys.length / LIST_PAGE_KEYS)));
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }

  /** The body and a version tag: the body's own bytes, as S3's ETag stands for its content. */
  async getTagged(key: string): Promise<{ readonly body: Uint8Array; readonly etag: string } | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : { body, etag: tagOf(body) };
  }

  async putIfMatch(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    this.count('puts', key);
    const now = this.objects.get(key);
    if (now === undefined || tagOf(now) !== etag) return false;
    this.objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
    return true;
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    const now = this.objects.get(key);
    if (now === undefined || tagOf(now) !== etag) return false;
    this.objects.delete(key);
    return true;
  }

  locate(key: string): string {
    return `memory://${key}`;
  }
}
