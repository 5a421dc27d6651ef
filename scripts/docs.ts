/**
 * `npm run docs`: regenerate the README's column reference and docs/FIELDS.md from shared/tables.ts,
 * and the view reference of docs/ANALYTICS.md from shared/analytics/views.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { columnReference, fieldReference, replaceSection } from '../shared/docs.ts';
import { viewReference } from '../shared/analytics/views.ts';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), 'tables', columnReference()));
const analytics = new URL('../docs/ANALYTICS.md', import.meta.url);
writeFileSync(analytics, replaceSection(readFileSync(analytics, 'utf8'), 'views', viewReference()));
writeFileSync(new URL('../docs/FIELDS.md', import.meta.url), fieldReference());
