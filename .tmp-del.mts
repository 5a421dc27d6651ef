import { generateDataset } from './cli/sandbox/data.ts';
for (const i of generateDataset().integrations) console.log(i.id, ['candidates','applications','interviews'].map((m) => { const a = (i as any)[m] as any[]; return `${a.filter(r => r.remote_deleted_at !== null).length}/${a.length}`; }).join(' '));
