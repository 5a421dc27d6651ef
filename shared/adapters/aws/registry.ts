/**
 * The integration registry: every SSM parameter directly under one path (the stack seeds
 * `/<stackName>/integrations/part-001`, `part-002`, …), each holding a JSON list of Kombo
 * integration ids; the registry is their union. Kombo has no endpoint that lists integrations, so
 * these lists are the source of truth; editing or adding a parameter changes the next run without a
 * redeploy. Several parameters rather than one because a standard-tier parameter holds 4 KB, about
 * 100 ids.
 *
 * The read is not recursive: only parameters directly under the path count, so a deeper level
 * (`<path>/old/part-001`) can hold a list that is not synced.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { ConfigError, errorMessage } from '../../errors.ts';
import type { ObjectStore } from '../../ports.ts';
import type { Registry } from '../../state/registry.ts';
import { seedRegistry } from '../../state/registry.ts';
import { assertIntegrationId } from '../../warehouse/layout.ts';

/**
 * Longest value of one registry parameter: a standard-tier SSM parameter holds 4 KB. Integration
 * ids are ASCII (see `assertIntegrationId`), so characters and bytes are the same here.
 */
export const REGISTRY_PART_MAX_CHARS = 4096;

/**
 * A registry path: `/a/b`, no trailing `/`. GetParametersByPath is authorized against the path in
 * the request, so the IAM grant names exactly this string.
 */
export const REGISTRY_PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;

/** `<path>/part-001` for index 0: the names the stack seeds, in the order the registry reads them. */
export function registryPartName(path: string, index: number): string {
  return `${path}/part-${String(index + 1).padStart(3, '0')}`;
}

/** GetParametersByPath returns at most 10 parameters per call. */
const PAGE_SIZE = 10;

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

/**
 * Read the registry under `path`: the union of the lists of the parameters directly under it, in
 * the order of their names and then of each list, without repeats. Throws a ConfigError naming the
 * parameter of a bad list, or the path when it holds no parameter at all.
 */
export async function readIntegrationRegistry(client: SSMClient, path: string): Promise<string[]> {
  const parameters = await readRegistryParameters(client, path);
  if (parameters.length === 0) {
    throw new ConfigError(
      `SSM path ${path} holds no parameter: the integration registry is the parameters directly under it, each a JSON list of integration ids. Create one: aws ssm put-parameter --type String --name ${registryPartName(path, 0)} --value '["greenhouse:AbC123"]'`,
    );
  }
  return [...new Set(parameters.flatMap((p) => p.ids))];
}

/** One registry parameter: its name and its list. */
export interface RegistryParameter {
  readonly name: string;
  readonly ids: readonly string[];
}

/**
 * The parameters directly under `path`, in the order of their names, each with its parsed list
 * (none: an empty array). Throws a ConfigError naming the parameter of a bad list.
 */
export async function readRegistryParameters(client: SSMClient, path: string): Promise<RegistryParameter[]> {
  const parameters: { name: string; value: string }[] = [];
  for await (const page of paginateGetParametersByPath({ client, pageSize: PAGE_SIZE }, { Path: path, Recursive: false })) {
    for (const p of page.Parameters ?? []) parameters.push({ name: p.Name ?? '(unnamed)', value: p.Value ?? '' });
  }
  parameters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return parameters.map((p) => ({ name: p.name, ids: parseRegistry(p.name, p.value) }));
}

/**
 * Seed the warehouse's registry (`shared/state/registry.ts`, which the planner reads) from the SSM
 * parameters: those the stack wrote from its `integrations` context (`part-001` … `part-<configParts>`)
 * on every call, as source `config`, so that a deploy that adds ids adds them; and every parameter
 * under the path once, as source `ssm`: the registry of earlier versions, parts added by hand
 * included. An integration deleted from the registry is never added again. Returns the registry.
 */
export async function seedRegistryFromSsm(store: ObjectStore, client: SSMClient, path: string, configParts: number, at: Date): Promise<Registry> {
  const parameters = await readRegistryParameters(client, path);
  const configNames = new Set(Array.from({ length: configParts }, (_, i) => registryPartName(path, i)));
  const config = parameters.filter((p) => configNames.has(p.name)).flatMap((p) => p.ids);
  const registry = await seedRegistry(store, config, 'config', at);
  if (registry.imported.includes('ssm')) return registry;
  return seedRegistry(store, parameters.flatMap((p) => p.ids), 'ssm', at);
}

/**
 * The values of the registry parameters that hold `ids`, in order: as many JSON lists as needed,
 * each at most `maxChars` long. An empty list still gives one value, `[]`.
 */
export function splitRegistry(ids: readonly string[], maxChars: number = REGISTRY_PART_MAX_CHARS): string[] {
  const values: string[] = [];
  let part: string[] = [];
  let chars = 2; // the brackets
  for (const id of ids) {
    const size = JSON.stringify(id).length;
    if (part.length > 0 && chars + 1 + size > maxChars) {
      values.push(JSON.stringify(part));
      part = [];
      chars = 2;
    }
    chars += (part.length > 0 ? 1 : 0) + size;
    if (chars > maxChars) throw new ConfigError(`integration id ${JSON.stringify(id.slice(0, 40))}… does not fit into one registry parameter of ${maxChars} characters`);
    part.push(id);
  }
  values.push(JSON.stringify(part));
  return values;
}
