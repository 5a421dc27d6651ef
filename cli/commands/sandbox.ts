/** `kombo-etl sandbox`: serve the built-in Kombo sandbox on 127.0.0.1 until interrupted. */
import type { SandboxFaults } from '../../sandbox/index.ts';

export async function sandboxCommand(
  port: number,
  seed: number | undefined,
  faults: SandboxFaults,
  out: NodeJS.WritableStream = process.stdout,
  opts: { asOf?: string } = {},
): Promise<void> {
  const { startSandbox } = await import('../../sandbox/index.ts');
  const sandbox = await startSandbox({ port, ...(seed !== undefined && { seed }), faults, ...(opts.asOf !== undefined && { asOf: opts.asOf }) });
  out.write(`Kombo sandbox listening at ${sandbox.url}\n`);
  if (sandbox.asOf !== null) out.write(`simulated date: ${sandbox.asOf} (the data as of the end of that day)\n`);
  out.write(`API key: ${sandbox.apiKey} (the sandbox's public test key)\n`);
  out.write('integrations:\n');
  for (const i of sandbox.dataset.integrations) out.write(`  ${i.id}  ${i.candidates.length} candidates, ${i.applications.length} applications, ${i.interviews.length} interviews\n`);
  out.write(`sync it with: npx kombo-etl sync --api-url ${sandbox.url} --api-key ${sandbox.apiKey} --integrations ${sandbox.dataset.integrations.map((i) => i.id).join(',')}${sandbox.asOf === null ? '' : ` --snapshot-date ${sandbox.asOf}`}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
}
