/** `kombo-etl sandbox`: serve the built-in Kombo sandbox on 127.0.0.1 until interrupted. */
import type { RunningSandbox, SandboxFaults, SandboxWebhookOptions } from '../../sandbox/index.ts';
import { ConfigError } from '../../shared/errors.ts';
import { errnoCode } from '../../shared/adapters/local/folder-store.ts';

/** Highest TCP port number. */
export const MAX_PORT = 65_535;

/** `--port`: an integer from 0 (any free port) to {@link MAX_PORT}; anything else is a {@link ConfigError}. */
export function parsePort(raw: string | number): number {
  const text = String(raw).trim();
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(port) || port > MAX_PORT) {
    throw new ConfigError(`--port: expected an integer from 0 to ${MAX_PORT} (0: any free port), got ${JSON.stringify(String(raw))}`);
  }
  return port;
}

/**
 * `--webhook-url` and `--webhook-secret`: both or neither; the URL an `http` address on 127.0.0.1.
 * @throws ConfigError saying what to pass.
 */
export function parseWebhookOptions(url: string | undefined, secret: string | undefined): SandboxWebhookOptions | undefined {
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined) throw new ConfigError('--webhook-secret: needs --webhook-url too (where the sandbox posts its webhooks, like http://127.0.0.1:8787/)');
  if (secret === undefined || secret === '') throw new ConfigError('--webhook-url: needs --webhook-secret too (the secret the receiver checks X-Kombo-Signature with)');
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (parsed?.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') {
    throw new ConfigError(`--webhook-url: the sandbox only posts to http://127.0.0.1:<port>/…, got ${JSON.stringify(url)}`);
  }
  return { url, secret };
}

/** Serve the sandbox on 127.0.0.1:`port` and print how to sync it; resolves once SIGINT or SIGTERM stopped it. */
export async function sandboxCommand(
  port: string | number,
  seed: number | undefined,
  faults: SandboxFaults,
  out: NodeJS.WritableStream = process.stdout,
  opts: { asOf?: string; webhookUrl?: string; webhookSecret?: string } = {},
): Promise<void> {
  const portNumber = parsePort(port);
  const webhook = parseWebhookOptions(opts.webhookUrl, opts.webhookSecret);
  const { startSandbox } = await import('../../sandbox/index.ts');
  let sandbox: RunningSandbox;
  try {
    sandbox = await startSandbox({ port: portNumber, ...(seed !== undefined && { seed }), faults, ...(opts.asOf !== undefined && { asOf: opts.asOf }), ...(webhook && { webhook }) });
  } catch (err) {
    if (errnoCode(err) === 'EADDRINUSE') throw new ConfigError(`--port ${portNumber}: already in use on 127.0.0.1; choose another port, or 0 for any free one`);
    if (errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM') throw new ConfigError(`--port ${portNumber}: not allowed for this user (ports below 1024 need privileges); choose a port from 1024, or 0 for any free one`);
    throw err;
  }
  out.write(`Kombo sandbox listening at ${sandbox.url}\n`);
  if (sandbox.asOf !== null) out.write(`simulated date: ${sandbox.asOf} (the data as of the end of that day)\n`);
  out.write(`API key: ${sandbox.apiKey} (the sandbox's public test key)\n`);
  if (webhook) {
    const root = new URL('/', sandbox.url).href.replace(/\/$/, '');
    out.write(`webhooks: signed with the given secret, posted to ${webhook.url} (data-changed on POST /ats/candidates${sandbox.asOf === null ? '' : ' and on each move of the clock'}; integration-created / integration-deleted)\n`);
    out.write(`add an integration: curl -X POST ${root}/sandbox/integrations -H 'authorization: Bearer ${sandbox.apiKey}' -d '{"tool":"ashby","end_user_organization_name":"Acme"}'\n`);
    out.write(`remove one: curl -X DELETE ${root}/sandbox/integrations/<id> -H 'authorization: Bearer ${sandbox.apiKey}'\n`);
    if (sandbox.asOf !== null) out.write(`move the clock: curl -X POST ${root}/sandbox/clock -H 'authorization: Bearer ${sandbox.apiKey}' -d '{"at":"${new Date(Date.parse(`${sandbox.asOf}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 19)}Z"}' (or {"as_of":"YYYY-MM-DD"}, the end of that day)\n`);
  }
  out.write('integrations:\n');
  for (const i of sandbox.dataset.integrations) {
    const offers = i.unavailableModels?.includes('offers') ? 'no offers endpoint' : `${i.funnel?.offers.length ?? 0} offers`;
    out.write(`  ${i.id}  ${i.candidates.length} candidates, ${i.applications.length} applications, ${i.interviews.length} interviews, ${i.funnel?.jobs.length ?? 0} jobs, ${offers}, ${i.funnel?.users.length ?? 0} users\n`);
  }
  out.write(`sync it with: npx kombo-etl sync --api-url ${sandbox.url} --api-key ${sandbox.apiKey} --integrations ${sandbox.dataset.integrations.map((i) => i.id).join(',')}${sandbox.asOf === null ? '' : ` --snapshot-date ${sandbox.asOf}`}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
}
