/**
 * A read of a missing key on S3: 404 is "not there yet", which the pipeline relies on (a first
 * sync's `_state/`, markers, plans); 403 is what S3 answers instead to a role without
 * s3:ListBucket, and must fail with a message that says so rather than pass for either.
 * Against a real HTTP server on 127.0.0.1 that answers as S3 does.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../shared/adapters/aws/s3-store.ts';

const error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>r1</RequestId></Error>`;

const server = createServer((req, res) => {
  const denied = req.url?.includes('/denied/') === true;
  res.writeHead(denied ? 403 : 404, { 'content-type': 'application/xml', 'x-amz-request-id': 'r1' });
  res.end(denied ? error('AccessDenied', 'Access Denied') : error('NoSuchKey', 'The specified key does not exist.'));
});
let store: S3Store;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-central-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  store = new S3Store({ client, bucket: 'warehouse-bucket', prefix: 'warehouse' });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('S3Store.get of a key that does not exist', () => {
  it('is undefined when S3 answers 404', async () => {
    expect(await store.get('_state/streams/greenhouse%3AAbC123/candidates/commits.json')).toBeUndefined();
  });

  it('fails naming s3:ListBucket when S3 answers 403', async () => {
    await expect(store.get('denied/_state/lock.json')).rejects.toThrow(/access denied reading s3:\/\/warehouse-bucket\/warehouse\/denied\/_state\/lock\.json: a missing key answers 403 unless the role may s3:ListBucket/);
  });
});
