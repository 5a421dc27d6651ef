/**
 * {@link ObjectStore} on S3: the warehouse in a bucket under a key prefix. Large bodies go up as
 * multipart uploads. The conditional writes are S3's own: `putIfAbsent` sends `If-None-Match: *`,
 * `putIfMatch` and `deleteIfMatch` send `If-Match: <etag>`, so exactly one of several concurrent
 * writers wins and a 412 Precondition Failed tells the others they lost.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3ServiceException, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStore, TaggedObject } from '../../ports.ts';

/** Bodies from this size up are sent as multipart uploads. */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Part size of multipart uploads (S3's minimum is 5 MiB). */
export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
/** DeleteObjects takes at most this many keys per request. */
export const DELETE_BATCH_SIZE = 1000;
/** A conditional write racing another one may get 409; S3 asks callers to retry. */
const CONFLICT_RETRIES = 3;

export interface S3StoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of the warehouse, without slashes at either end; empty for the bucket root. */
  readonly prefix?: string;
  readonly multipartThresholdBytes?: number;
  readonly partSizeBytes?: number;
}

const CONTENT_TYPES: Record<string, string> = {
  parquet: 'application/vnd.apache.parquet',
  json: 'application/json',
};

function contentType(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1);
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

const toBytes = (body: Uint8Array | string): Uint8Array => (typeof body === 'string' ? new TextEncoder().encode(body) : body);

function httpStatus(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

/** The key does not exist (not a missing bucket, which is a 404 too but a configuration error). */
const isNoSuchKey = (err: unknown): boolean => err instanceof NoSuchKey || (err instanceof S3ServiceException && err.name === 'NoSuchKey');

export class S3Store implements ObjectStore {
  readonly bucket: string;
  /** `prefix/` or empty. */
  private readonly root: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(opts: S3StoreOptions) {
    const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.root = prefix === '' ? '' : `${prefix}/`;
    this.multipartThreshold = opts.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
    this.partSize = opts.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  }

  private objectKey(key: string): string {
    // Keys are built from validated segments; refuse anything that could leave the prefix anyway.
    if (key.startsWith('/') || key.split('/').includes('..')) throw new Error(`key escapes the warehouse: ${key}`);
    return `${this.root}${key}`;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = toBytes(body);
    const params = { Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentType: contentType(key) };
    if (bytes.byteLength < this.multipartThreshold) {
      await this.client.send(new PutObjectCommand(params));
      return;
    }
    // lib-storage aborts the multipart upload itself when a part fails (leavePartsOnError: false),
    // and the bucket's lifecycle rule cleans up anything a crash leaves behind.
    await new Upload({ client: this.client, params, partSize: this.partSize, queueSize: 4, leavePartsOnError: false }).done();
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<boolean> {
    const params = { Bucket: this.bucket, Key: this.objectKey(key), Body: toBytes(body), ContentType: contentType(key), IfNoneMatch: '*' };
    return this.conditional(() => this.client.send(new PutObjectCommand(params)));
  }

  async putIfMatch(key: string, body: Uint8Array | string, etag: string): Promise<boolean> {
    const params = { Bucket: this.bucket, Key: this.objectKey(key), Body: toBytes(body), ContentType: contentType(key), IfMatch: etag };
    return this.conditional(() => this.client.send(new PutObjectCommand(params)));
  }

  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    return this.conditional(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), IfMatch: etag })));
  }

  /** Send a conditional request: true when S3 accepted it, false when its condition failed. */
  private async conditional(send: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        return true;
      } catch (err) {
        const status = httpStatus(err);
        // 412 Precondition Failed: the object exists (If-None-Match) or is another version
        // (If-Match); NoSuchKey: an If-Match found no object at all. Either way someone else won.
        if (status === 412 || isNoSuchKey(err)) return false;
        // 409 ConditionalRequestConflict: a concurrent conditional write is in flight; retry.
        if (status === 409 && attempt < CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getTagged(key))?.body;
  }

  async getTagged(key: string): Promise<TaggedObject | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: res.ETag ?? '' };
    } catch (err) {
      if (err instanceof NoSuchKey || httpStatus(err) === 404) return undefined;
      // S3 hides whether a key exists from a caller without s3:ListBucket: a missing key reads as 403.
      if (httpStatus(err) === 403) throw new Error(`access denied reading s3://${this.bucket}/${this.objectKey(key)}: a missing key answers 403 unless the role may s3:ListBucket on the bucket (without an s3:prefix condition), and the pipeline reads keys that do not exist yet (first syncs' _state/, markers, plans)`, { cause: err });
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.objectKey(prefix) });
    for await (const page of pages) {
      for (const obj of page.Contents ?? []) {
        if (obj.Key !== undefined) keys.push(obj.Key.slice(this.root.length));
      }
    }
    // S3 lists in UTF-8 byte order already; sort anyway so every store answers alike.
    return keys.sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH_SIZE) {
      const batch = keys.slice(i, i + DELETE_BATCH_SIZE);
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.objectKey(k) })), Quiet: true },
        }),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(`could not delete ${failed.length} of ${batch.length} objects, e.g. ${first.Key ?? '?'}: ${first.Code ?? ''} ${first.Message ?? ''}`.trim());
      }
    }
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }
}
