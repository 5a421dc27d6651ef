/**
 * Every field Kombo documents for the models we read is stored in a column of the right type, or
 * listed in UNSTORED_FIELDS with a reason. The list of fields comes from Kombo's official SDK
 * (`@kombo-api/sdk`, generated from Kombo's OpenAPI): its inbound zod schemas, walked to the leaves.
 */
import {
  GetAtsApplicationStagesPositiveResponseResult$inboundSchema,
  GetAtsApplicationsPositiveResponseResult$inboundSchema,
  GetAtsCandidatesPositiveResponseResult$inboundSchema,
  GetAtsInterviewsPositiveResponseResult$inboundSchema,
  GetAtsJobsPositiveResponseResult$inboundSchema,
  GetAtsOffersPositiveResponseResult$inboundSchema,
  GetAtsRejectionReasonsPositiveResponseResult$inboundSchema,
  GetAtsTagsPositiveResponseResult$inboundSchema,
  GetAtsUsersPositiveResponseResult$inboundSchema,
} from '@kombo-api/sdk/models';
import { describe, expect, it } from 'vitest';
import type { ColumnType, ModelName } from '../../shared/tables.ts';
import { MODELS, UNSTORED_FIELDS, komboPath, tablesForModel } from '../../shared/tables.ts';

/** What a leaf of the SDK's schema holds. */
type LeafKind = 'string' | 'datetime' | 'enum' | 'boolean' | 'number' | 'free-form';

/** The part of a zod v3 schema's `_def` the walk reads. */
interface ZodDef {
  typeName: string;
  innerType?: ZodLike;
  schema?: ZodLike;
  in?: ZodLike;
  type?: ZodLike;
  options?: ZodLike[];
  getter?: () => ZodLike;
  shape?: () => Record<string, ZodLike>;
  checks?: { kind: string }[];
}
interface ZodLike {
  _def: ZodDef;
}

/** Through nullable, optional, lazy and the SDK's `string → Date` transforms, to the schema inside. */
function unwrap(schema: ZodLike): ZodLike {
  for (;;) {
    const d = schema._def;
    if ((d.typeName === 'ZodNullable' || d.typeName === 'ZodOptional' || d.typeName === 'ZodDefault') && d.innerType) schema = d.innerType;
    else if (d.typeName === 'ZodLazy' && d.getter) schema = d.getter();
    else if (d.typeName === 'ZodEffects' && d.schema) schema = d.schema;
    else if (d.typeName === 'ZodPipeline' && d.in) schema = d.in;
    else return schema;
  }
}

function leafKind(d: ZodDef): LeafKind {
  switch (d.typeName) {
    case 'ZodString':
      return d.checks?.some((c) => c.kind === 'datetime') ? 'datetime' : 'string';
    case 'ZodNativeEnum':
    case 'ZodEnum':
    case 'ZodLiteral':
      return 'enum';
    case 'ZodBoolean':
      return 'boolean';
    case 'ZodNumber':
      return 'number';
    default:
      return 'free-form';
  }
}

/** Every leaf field of a record schema, as `komboPath` writes paths: `location.city`, `interviews[].title`. */
function leaves(schema: ZodLike, prefix = '', out = new Map<string, LeafKind>()): Map<string, LeafKind> {
  const s = unwrap(schema);
  const d = s._def;
  if (d.typeName === 'ZodObject' && d.shape) {
    for (const [key, child] of Object.entries(d.shape())) leaves(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (d.typeName === 'ZodArray' && d.type) {
    leaves(d.type, `${prefix}[]`, out);
  } else if (d.typeName === 'ZodUnion' && d.options) {
    for (const option of d.options) leaves(option, prefix, out);
  } else {
    out.set(prefix, leafKind(d));
  }
  return out;
}

const SDK_RECORDS: Record<ModelName, ZodLike> = {
  candidates: GetAtsCandidatesPositiveResponseResult$inboundSchema as unknown as ZodLike,
  applications: GetAtsApplicationsPositiveResponseResult$inboundSchema as unknown as ZodLike,
  interviews: GetAtsInterviewsPositiveResponseResult$inboundSchema as unknown as ZodLike,
  jobs: GetAtsJobsPositiveResponseResult$inboundSchema as unknown as ZodLike,
  offers: GetAtsOffersPositiveResponseResult$inboundSchema as unknown as ZodLike,
  users: GetAtsUsersPositiveResponseResult$inboundSchema as unknown as ZodLike,
  rejection_reasons: GetAtsRejectionReasonsPositiveResponseResult$inboundSchema as unknown as ZodLike,
  application_stages: GetAtsApplicationStagesPositiveResponseResult$inboundSchema as unknown as ZodLike,
  tags: GetAtsTagsPositiveResponseResult$inboundSchema as unknown as ZodLike,
};

/**
 * Fields in Kombo's API reference (its OpenAPI and reference pages) that the SDK's schemas leave
 * out, and so strip from what they parse. Both are free-form.
 */
const BEYOND_SDK: Record<ModelName, readonly string[]> = {
  candidates: ['integration_fields', 'remote_data'],
  applications: ['integration_fields', 'remote_data'],
  interviews: ['remote_data'],
  jobs: ['integration_fields', 'remote_data'],
  offers: ['integration_fields', 'remote_data'],
  users: ['remote_data'],
  rejection_reasons: ['remote_data'],
  application_stages: [],
  tags: [],
};

/** The column types that can hold a leaf of each kind. */
const FITS: Record<LeafKind, readonly ColumnType[]> = {
  string: ['string'],
  enum: ['string'],
  datetime: ['timestamp'],
  boolean: ['boolean'],
  number: ['int32', 'double'],
  'free-form': ['json'],
};

/** `inner` is `outer` or a field inside it. */
const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[]`);

function kombo(model: ModelName): Map<string, LeafKind> {
  const fields = leaves(SDK_RECORDS[model]);
  for (const f of BEYOND_SDK[model]) fields.set(f, 'free-form');
  return fields;
}

function stored(model: ModelName) {
  return tablesForModel(model).flatMap((table) =>
    table.columns.flatMap((col) => {
      const path = komboPath(table, col);
      return path === undefined ? [] : [{ path, where: `${table.name}.${col.name}`, type: col.type }];
    }),
  );
}

describe.each(MODELS)('Kombo %s', (model) => {
  const fields = kombo(model);
  const columns = stored(model);
  const unstored = UNSTORED_FIELDS.filter((u) => u.model === model);

  it('the SDK schema walk finds the fields (a sanity check of the walk itself)', () => {
    expect(fields.get('id')).toBe('string');
    expect(fields.get('changed_at')).toBe('datetime');
    // Each column reads one field (a JSON column one or more), so a walk that found fewer fields missed some.
    expect(fields.size).toBeGreaterThanOrEqual(columns.length);
  });

  it('every field is stored in a column or listed as not stored, with a reason', () => {
    const missing = [...fields.keys()].filter(
      (path) =>
        !columns.some((c) => (c.type === 'json' ? within(path, c.path) : path === c.path)) && !unstored.some((u) => within(path, u.path)),
    );
    expect(missing, 'Kombo fields neither stored (shared/tables.ts) nor explained (UNSTORED_FIELDS)').toEqual([]);
  });

  it('every column reads a field Kombo documents, into a type that holds it', () => {
    const wrong = columns.flatMap((c) => {
      const kinds = [...fields].filter(([path]) => within(path, c.path)).map(([path, kind]) => ({ path, kind }));
      if (kinds.length === 0) return [`${c.where}: Kombo has no field ${c.path}`];
      if (c.type === 'json') return [];
      const leaf = kinds.find((k) => k.path === c.path);
      if (!leaf) return [`${c.where}: ${c.path} is an object or array in Kombo, stored as ${c.type}`];
      return FITS[leaf.kind].includes(c.type) ? [] : [`${c.where}: ${c.path} is ${leaf.kind} in Kombo, stored as ${c.type}`];
    });
    expect(wrong).toEqual([]);
  });

  it('every field listed as not stored is a Kombo field that no column stores', () => {
    for (const u of unstored) {
      expect([...fields.keys()].some((path) => within(path, u.path)), `${u.path} is a Kombo field`).toBe(true);
      expect(columns.filter((c) => within(c.path, u.path) || within(u.path, c.path)).map((c) => c.where), `${u.path} is stored after all`).toEqual([]);
      expect(u.reason.length).toBeGreaterThan(10);
    }
  });
});

describe('the walk of the SDK schemas', () => {
  it('sees the nested arrays this warehouse stores: application interviews and offers, with their types', () => {
    const f = kombo('applications');
    expect(f.get('offers[].status')).toBe('enum');
    expect(f.get('interviews[].starting_at')).toBe('datetime');
    expect(f.get('interviews[].canceled')).toBe('boolean');
    expect(f.get('interviews[].location.zip_code')).toBe('string');
    expect(f.get('current_stage.index')).toBe('number');
    expect(f.get('custom_fields')).toBe('free-form');
    expect(kombo('candidates').get('remote_url')).toBe('string');
  });

  it('sees the job fields this warehouse stores: fractional numbers, stages in funnel order, hiring team roles, question formats', () => {
    const f = kombo('jobs');
    expect(f.get('weekly_hours')).toBe('number');
    expect(f.get('salary_amount_to')).toBe('number');
    expect(f.get('opened_at')).toBe('datetime');
    expect(f.get('stages[].index')).toBe('number');
    expect(f.get('hiring_team[].hiring_team_roles[]')).toBe('enum');
    expect(f.get('hiring_team[].job_roles[].unified_type')).toBe('enum');
    expect(f.get('screening_questions[].format.type')).toBe('enum');
    expect(f.get('screening_questions[].required')).toBe('boolean');
    expect(kombo('offers').get('employment_start_date')).toBe('datetime');
    expect(kombo('users').get('system_roles[].scope')).toBe('enum');
  });
});
