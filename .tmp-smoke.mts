import { startSandbox } from './cli/sandbox/index.ts';
const sb = await startSandbox();
const h = { authorization: `Bearer ${sb.apiKey}`, 'x-integration-id': sb.dataset.integrations[2]!.id };
let r = await fetch(`${sb.url}/ats/candidates?page_size=2`, { headers: h });
console.log(r.status, r.headers.get('content-type'), (await r.text()).slice(0, 300));
r = await fetch(`${sb.url}/integrations/${sb.dataset.integrations[2]!.id}`, { headers: { authorization: h.authorization } });
console.log(r.status, await r.text());
sb.setFaults({ rateReset: 1 });
r = await fetch(`${sb.url}/ats/candidates?page_size=2`, { headers: h });
console.log(r.status); try { await r.text(); console.log('no error?!'); } catch (e) { console.log('reset ok', (e as Error).message, (e as Error & {cause?: Error}).cause?.message); }
sb.setFaults({ rate5xx: 1 });
for (let i = 0; i < 6; i++) { r = await fetch(`${sb.url}/ats/candidates`, { headers: h }); console.log(r.status, r.headers.get('content-type'), (await r.text()).slice(0, 80)); }
console.log(sb.stats);
await sb.close();
console.log('closed');
