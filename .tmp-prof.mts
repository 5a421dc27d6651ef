import { generateDataset } from './cli/sandbox/data.ts';
const t = Date.now();
generateDataset({ integrations: [{ id: 'greenhouse:Bq7TfKx2LmW9pRz4VnY8cHs3', tool: 'greenhouse', candidates: 50000 }] });
console.log('50k', Date.now() - t);
