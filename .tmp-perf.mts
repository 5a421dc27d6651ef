import { generateDataset, startSandbox } from './cli/sandbox/index.ts';
let t = performance.now();
const dataset = generateDataset({ integrations: [{ id: 'greenhouse:Bq7TfKx2LmW9pRz4VnY8cHs3', tool: 'greenhouse', candidates: 200_000 }] });
console.log('gen ms', Math.round(performance.now() - t));
const sb = await startSandbox({ dataset });
const h = { authorization: `Bearer ${sb.apiKey}`, 'x-integration-id': 'greenhouse:Bq7TfKx2LmW9pRz4VnY8cHs3' };
for (const q of ['', '&updated_after=2025-01-01T00:00:00.000Z']) {
  t = performance.now();
  let cursor: string | null = null; let n = 0; let pages = 0; let bytes = 0;
  do {
    const r = await fetch(`${sb.url}/ats/candidates?page_size=250${q}${cursor ? `&cursor=${cursor}` : ''}`, { headers: h });
    const text = await r.text(); bytes += text.length;
    const body = JSON.parse(text) as { data: { next: string | null; results: unknown[] } };
    n += body.data.results.length; cursor = body.data.next; pages++;
  } while (cursor);
  console.log(q || 'unfiltered', 'records', n, 'pages', pages, 'MB', Math.round(bytes / 1e6), 'ms', Math.round(performance.now() - t));
}
await sb.close();
