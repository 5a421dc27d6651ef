/**
 * fauxqs (SQS + S3 emulator) in process, bound to 127.0.0.1. `startFauxqs` of fauxqs 1.9.2 listens on
 * every interface, so the app is built from its parts, with the SQS store's host cleared so queue
 * URLs are plain `http://127.0.0.1:<port>/<account>/<queue>`. Depends on the pinned version's layout.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface FauxqsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startFauxqs(region: string): Promise<FauxqsServer> {
  const dist = resolve(import.meta.dirname, '../../node_modules/fauxqs/dist');
  const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(dist, file)).href)) as T;
  type Ctor = new () => object;
  const { buildApp } = await load<{ buildApp: (o: object) => { listen(o: { port: number; host: string }): Promise<string>; close(): Promise<void> } }>('app.js');
  const { SqsStore } = await load<{ SqsStore: Ctor }>('sqs/sqsStore.js');
  const { SnsStore } = await load<{ SnsStore: Ctor }>('sns/snsStore.js');
  const { S3Store } = await load<{ S3Store: Ctor }>('s3/s3Store.js');
  const sqsStore = Object.assign(new SqsStore(), { host: '' });
  const app = buildApp({ logger: false, defaultRegion: region, stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`emulator not on 127.0.0.1: ${url}`);
  return { url, close: () => app.close() };
}
