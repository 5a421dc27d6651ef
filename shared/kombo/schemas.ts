/**
 * Page schemas for Kombo's read endpoints, derived from the table definitions so that what we
 * validate is exactly what we store. Objects are loose (unknown fields pass) and enums are plain
 * strings (unknown values pass): Kombo adds fields and enum values without notice.
 */
import { z } from 'zod';
import type { ColumnType, ModelName } from '../tables.ts';
import { MODELS, tablesForModel } from '../tables.ts';

interface Node {
  type?: ColumnType;
  children: Map<string, Node>;
  /** Set on nodes that are arrays of objects (child tables). */
  array?: boolean;
}

const newNode = (): Node => ({ children: new Map() });

function insert(root: Node, path: readonly string[], type: ColumnType): void {
  let node = root;
  for (const key of path) {
    let next = node.children.get(key);
    if (!next) {
      next = newNode();
      node.children.set(key, next);
    }
    node = next;
  }
  node.type = type;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function leafSchema(type: ColumnType): z.ZodType {
  switch (type) {
    case 'string':
      return z.string().nullish();
    case 'boolean':
      return z.boolean().nullish();
    case 'int32':
      return z.number().int().min(INT32_MIN).max(INT32_MAX).nullish();
    case 'double':
      return z.number().nullish();
    case 'timestamp':
      return z.iso.datetime({ offset: true, local: false }).nullish();
    case 'json':
      return z.unknown().optional();
  }
}

function nodeSchema(node: Node): z.ZodType {
  if (node.type !== undefined && node.children.size === 0) return leafSchema(node.type);
  const shape: Record<string, z.ZodType> = {};
  for (const [key, child] of node.children) shape[key] = nodeSchema(child);
  const obj = z.looseObject(shape);
  return node.array ? z.array(obj).nullish() : obj.nullish();
}

function buildRecordSchema(model: ModelName): z.ZodType<Record<string, unknown>> {
  const root = newNode();
  for (const table of tablesForModel(model)) {
    let base = root;
    if (table.arrayField !== undefined) {
      base = root.children.get(table.arrayField) ?? newNode();
      base.array = true;
      root.children.set(table.arrayField, base);
    }
    for (const col of table.columns) {
      if (col.source.kind === 'field') insert(base, col.source.path, col.type);
    }
  }
  const shape: Record<string, z.ZodType> = {};
  for (const [key, child] of root.children) shape[key] = nodeSchema(child);
  // The id is the key of everything downstream: it must be there.
  shape['id'] = z.string().min(1);
  return z.looseObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/** Per-model record schemas. */
export const RECORD_SCHEMAS = Object.fromEntries(MODELS.map((m) => [m, buildRecordSchema(m)])) as Record<
  ModelName,
  z.ZodType<Record<string, unknown>>
>;

/** The success envelope of a list endpoint; results are validated one by one afterwards. */
export const PAGE_ENVELOPE = z.object({
  status: z.literal('success'),
  data: z.object({
    next: z.string().min(1).nullable(),
    results: z.array(z.unknown()),
  }),
});

/** Kombo's error envelope. */
export const ERROR_ENVELOPE = z.object({
  status: z.literal('error'),
  error: z.object({
    code: z.string().nullish(),
    title: z.string().nullish(),
    message: z.string().nullish(),
    log_url: z.string().nullish(),
  }),
});

/**
 * `GET /integrations/{id}`: the fields the planner relies on, and those the `integrations` table
 * records (optional: the check goes on without them).
 */
export const INTEGRATION_ENVELOPE = z.object({
  status: z.literal('success'),
  data: z.looseObject({
    id: z.string(),
    status: z.string(),
    setup_status: z.string().nullish(),
    tool: z.looseObject({ id: z.string() }).nullish(),
    category: z.string().nullish(),
    end_user: z.looseObject({ organization_name: z.string().nullish(), creator_email: z.string().nullish() }).nullish(),
    created_at: z.iso.datetime({ offset: true, local: false }).nullish(),
    read_models: z
      .array(z.looseObject({ id: z.string(), is_available: z.boolean(), opted_out_by_customer: z.boolean().nullish() }))
      .default([]),
  }),
});
export type IntegrationInfo = z.infer<typeof INTEGRATION_ENVELOPE>['data'];

/** Format zod issues as one short line: `applications[3].current_stage.index: expected number`. */
export function formatIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
