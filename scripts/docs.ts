/** `npm run docs`: regenerate the README's column reference from shared/tables.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { columnReference, replaceSection } from '../shared/docs.ts';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), 'tables', columnReference()));
