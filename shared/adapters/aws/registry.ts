/**
 * The integration registry: an SSM parameter holding a JSON list of Kombo integration ids. Kombo
 * has no endpoint that lists integrations, so this list is the source of truth; editing the
 * parameter changes the next run without a redeploy.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../../errors.ts';
import { assertIntegrationId } from '../../warehouse/layout.ts';

const LIST = z.array(z.string().trim());

/** Parse the parameter's value; throws a ConfigError naming the parameter and the bad entry. */
export function parseRegistry(name: string, value: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError(`SSM parameter ${name} must hold a JSON list of integration ids, e.g. ["greenhouse:AbC123"], got ${JSON.stringify(value.slice(0, 80))}`);
  }
  const parsed = LIST.safeParse(json);
  if (!parsed.success) throw new ConfigError(`SSM parameter ${name} must hold a JSON list of strings (integration ids)`);
  const ids = [...new Set(parsed.data)];
  for (const id of ids) {
    try {
      assertIntegrationId(id);
    } catch (err) {
      throw new ConfigError(`SSM parameter ${name}: ${errorMessage(err)}`);
    }
  }
  return ids;
}

/** Read the registry. */
export async function readIntegrationRegistry(client: SSMClient, name: string): Promise<string[]> {
  const res = await client.send(new GetParameterCommand({ Name: name }));
  return parseRegistry(name, res.Parameter?.Value ?? '');
}
