import { generateDataset } from './cli/sandbox/data.ts';
const d = generateDataset();
let n = 0;
const re = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
for (const i of d.integrations) for (const c of [...i.candidates, ...i.applications, ...i.interviews]) for (const k of ['changed_at','remote_created_at','starting_at']) { const v = c[k]; if (typeof v === 'string') { n++; if (!re.test(v) || new Date(v).toISOString() !== v) throw new Error(v); } }
console.log('ok', n);
