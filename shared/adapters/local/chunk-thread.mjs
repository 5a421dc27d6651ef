// Entry of a chunk worker thread: worker threads do not inherit the TypeScript loader that the
// CLI registers, so the thread registers it before loading its TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./chunk-thread.ts');
