#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx kombo-etl` works right after `npm install`.
// The Node.js version is checked first, with nothing else loaded: on an old Node the CLI says
// which version it needs instead of failing somewhere inside a dependency.
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write('error: ' + problem + '\n');
  process.exitCode = 2;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
