import { describe, expect, it } from 'vitest';
import type { SandboxIntegrationData, SandboxIntegrationSpec } from '../../sandbox/index.ts';
import { DEFAULT_SANDBOX_INTEGRATIONS, DEFAULT_SANDBOX_SEED, OFFER_DECLINED_REASON, WITHDRAWAL_REASON, generateDataset, sortById } from '../../sandbox/index.ts';

type Rec = Record<string, unknown>;

const dataset = generateDataset();
const nonEmpty = dataset.integrations.filter((i) => i.candidates.length > 0);
const largest = [...nonEmpty].sort((a, b) => b.candidates.length - a.candidates.length)[0] as SandboxIntegrationData;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KOMBO_ID = /^[A-Za-z0-9]{24}$/;
const KNOWN_OUTCOMES = new Set(['PENDING', 'HIRED', 'DECLINED', null]);
const OFFER_STATUSES = ['DRAFT', 'APPROVED', 'SENT', 'ACCEPTED', 'DECLINED', 'ABANDONED'];
/** Kombo's screening question types and the key of the answer object each one takes. */
const ANSWER_KEYS: Record<string, string> = {
  TEXT: 'content',
  SINGLE_SELECT: 'choice',
  MULTI_SELECT: 'choices',
  BOOLEAN: 'checked',
  NUMBER: 'number',
  DATE: 'date',
  UNKNOWN: 'raw',
};

/** The fields of `record` named, in that order. */
const pick = (record: Rec, fields: readonly string[]): Rec => Object.fromEntries(fields.map((f) => [f, record[f]]));
const NESTED_CANDIDATE = ['id', 'remote_id', 'first_name', 'last_name', 'email_addresses', 'phone_numbers', 'social_media', 'source', 'remote_url', 'tags'];
const INTERVIEW_SUMMARY = ['id', 'remote_id', 'title', 'starting_at', 'ending_at', 'location', 'canceled'];

const byId = (records: Rec[]): Map<string, Rec> => new Map(records.map((r) => [r.id as string, r]));
const ids = (records: readonly Rec[]): string[] => records.map((r) => r.id as string);
const isDeleted = (r: Rec): boolean => r.remote_deleted_at !== null;

/** Kinds of JSON values found anywhere inside `value`, plus the deepest object nesting. */
function jsonShape(value: unknown, depth = 0, acc = { kinds: new Set<string>(), maxObjectDepth: 0 }): typeof acc {
  if (value === null) acc.kinds.add('null');
  else if (Array.isArray(value)) {
    acc.kinds.add('array');
    for (const v of value) jsonShape(v, depth, acc);
  } else if (typeof value === 'object') {
    acc.kinds.add('object');
    acc.maxObjectDepth = Math.max(acc.maxObjectDepth, depth + 1);
    for (const v of Object.values(value)) jsonShape(v, depth + 1, acc);
  } else acc.kinds.add(typeof value);
  return acc;
}

function longestString(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 0;
  return Math.max(0, ...Object.values(value).map(longestString));
}

describe('generateDataset: determinism', () => {
  const specs: SandboxIntegrationSpec[] = [
    { id: 'ashby:AAAAbbbbCCCCddddEEEEffff', tool: 'ashby', candidates: 120 },
    { id: 'lever:GGGGhhhhIIIIjjjjKKKKllll', tool: 'lever', candidates: 40 },
  ];

  it('gives identical JSON for the same seed', () => {
    // Prepare / Act
    const a = JSON.stringify(generateDataset({ seed: 7, integrations: specs }));
    const b = JSON.stringify(generateDataset({ seed: 7, integrations: specs }));
    // Assess
    expect(a).toBe(b);
  });

  it('defaults to DEFAULT_SANDBOX_SEED and DEFAULT_SANDBOX_INTEGRATIONS', () => {
    expect(JSON.stringify(generateDataset({ seed: DEFAULT_SANDBOX_SEED, integrations: DEFAULT_SANDBOX_INTEGRATIONS }))).toBe(
      JSON.stringify(dataset),
    );
  });

  it('gives different data for a different seed', () => {
    const a = generateDataset({ seed: 7, integrations: specs });
    const b = generateDataset({ seed: 8, integrations: specs });
    expect(ids(a.integrations[0]?.candidates ?? [])).not.toEqual(ids(b.integrations[0]?.candidates ?? []));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
  });

  it('keeps an integration unchanged when another one is added', () => {
    const alone = generateDataset({ seed: 7, integrations: specs.slice(1) });
    const both = generateDataset({ seed: 7, integrations: specs });
    expect(JSON.stringify(both.integrations[1])).toBe(JSON.stringify(alone.integrations[0]));
  });

  it('rejects malformed integration ids', () => {
    expect(() => generateDataset({ integrations: [{ id: 'greenhouse:short', tool: 'greenhouse', candidates: 1 }] })).toThrow(/24/);
  });
});

describe('generateDataset: sizes and ids', () => {
  it('follows the default specs: four integrations, one of them empty', () => {
    expect(dataset.integrations.map((i) => [i.id, i.tool, i.candidates.length])).toEqual(
      DEFAULT_SANDBOX_INTEGRATIONS.map((s) => [s.id, s.tool, s.candidates]),
    );
    expect(DEFAULT_SANDBOX_INTEGRATIONS.map((s) => s.candidates)).toEqual([1500, 400, 60, 0]);
    for (const s of DEFAULT_SANDBOX_INTEGRATIONS) expect(s.id).toMatch(/^[a-z]+:[A-Za-z0-9]{24}$/);
  });

  it('leaves the empty integration without any record', () => {
    const empty = dataset.integrations.find((i) => i.candidates.length === 0);
    expect(empty).toBeDefined();
    expect(empty?.applications).toEqual([]);
    expect(empty?.interviews).toEqual([]);
  });

  it('derives applications and interviews from candidates in realistic proportions', () => {
    for (const i of nonEmpty) {
      expect(i.applications.length / i.candidates.length).toBeGreaterThan(1);
      expect(i.applications.length / i.candidates.length).toBeLessThan(1.6);
      expect(i.interviews.length).toBeGreaterThan(i.candidates.length / 2);
    }
  });

  it('uses Kombo-style ids, unique across models and integrations, and sorts every model by id', () => {
    const seen = new Set<string>();
    for (const i of dataset.integrations) {
      for (const records of [i.candidates, i.applications, i.interviews]) {
        const list = ids(records);
        expect([...list].sort()).toEqual(list);
        for (const id of list) {
          expect(id).toMatch(KOMBO_ID);
          expect(seen.has(id)).toBe(false);
          seen.add(id);
        }
      }
    }
  });

  it('writes every timestamp as YYYY-MM-DDTHH:mm:ss.sssZ', () => {
    const fields = ['remote_created_at', 'remote_updated_at', 'changed_at', 'remote_deleted_at', 'rejected_at', 'starting_at', 'ending_at'];
    let checked = 0;
    for (const i of nonEmpty) {
      for (const r of [...i.candidates, ...i.applications, ...i.interviews]) {
        for (const f of fields) {
          const v = r[f];
          if (v === undefined || v === null) continue;
          expect(v).toMatch(ISO);
          expect(new Date(v as string).toISOString()).toBe(v);
          checked++;
        }
        expect(r.changed_at).toMatch(ISO);
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe.each(nonEmpty.map((i) => [i.id, i] as const))('generateDataset: referential integrity of %s', (_id, integration) => {
  const candidates = byId(integration.candidates);
  const applications = byId(integration.applications);
  const jobs = new Map((integration.jobs ?? []).map((j) => [j.id, j]));

  it('gives every job 4–7 stages indexed 0..n-1', () => {
    expect(jobs.size).toBeGreaterThanOrEqual(4);
    for (const job of jobs.values()) {
      expect(job.stages.length).toBeGreaterThanOrEqual(4);
      expect(job.stages.length).toBeLessThanOrEqual(7);
      expect(job.stages.map((s) => s.index)).toEqual(job.stages.map((_, k) => k));
    }
  });

  it('links every application to an existing candidate, job and stage of that job', () => {
    for (const app of integration.applications) {
      const candidate = candidates.get(app.candidate_id as string);
      expect(candidate).toBeDefined();
      // Kombo nests the candidate's contact details, source, profile URL and tags.
      expect(app.candidate).toStrictEqual(pick(candidate as Rec, NESTED_CANDIDATE));

      const job = jobs.get(app.job_id as string);
      expect(job).toBeDefined();
      expect(app.job).toEqual({ id: job?.id, name: job?.name, remote_id: job?.remote_id });
      const stage = app.current_stage as Rec | null;
      expect(app.current_stage_id).toBe(stage === null ? null : stage.id);
      if (stage !== null) expect(job?.stages).toContainEqual(stage);
    }
  });

  it('mirrors each candidate’s applications in candidate.applications', () => {
    const appsByCandidate = new Map<string, Rec[]>();
    for (const app of integration.applications) {
      const list = appsByCandidate.get(app.candidate_id as string) ?? [];
      list.push(app);
      appsByCandidate.set(app.candidate_id as string, list);
    }
    for (const candidate of integration.candidates) {
      const summaries = candidate.applications as Rec[];
      const actual = appsByCandidate.get(candidate.id as string) ?? [];
      expect(ids(summaries).sort()).toEqual(ids(actual).sort());
      for (const s of summaries) {
        const app = applications.get(s.id as string) as Rec;
        for (const f of ['remote_id', 'outcome', 'rejection_reason_name', 'rejected_at', 'changed_at', 'current_stage', 'job']) {
          expect(s[f]).toEqual(app[f]);
        }
      }
    }
  });

  it('deletes the applications of deleted candidates', () => {
    for (const app of integration.applications) {
      if (isDeleted(candidates.get(app.candidate_id as string) as Rec)) expect(isDeleted(app)).toBe(true);
    }
  });

  it('links every interview to an existing application and a stage of its job, and mirrors it in application.interviews', () => {
    const interviewsByApp = new Map<string, string[]>();
    const summaries = new Map(integration.applications.flatMap((a) => (a.interviews as Rec[]).map((i) => [i.id as string, i] as const)));
    for (const interview of integration.interviews) {
      const app = applications.get(interview.application_id as string);
      expect(app).toBeDefined();
      const nested = interview.application as Rec;
      expect(nested.id).toBe(app?.id);
      expect(nested.outcome).toBe(app?.outcome);
      expect((nested.candidate as Rec).id).toBe(app?.candidate_id);
      expect(nested.job).toEqual(app?.job);
      if (interview.stage_id !== null) {
        expect(jobs.get(app?.job_id as string)?.stages.map((s) => s.id)).toContain(interview.stage_id);
      }
      expect(Date.parse(interview.ending_at as string)).toBeGreaterThan(Date.parse(interview.starting_at as string));
      const users = interview.users as Rec[];
      expect(new Set(ids(users)).size).toBe(users.length);
      // The summary the application nests says what the interviews endpoint says, `canceled` included.
      expect(summaries.get(interview.id as string)).toStrictEqual(pick(interview, INTERVIEW_SUMMARY));
      const list = interviewsByApp.get(app?.id as string) ?? [];
      list.push(interview.id as string);
      interviewsByApp.set(app?.id as string, list);
    }
    for (const app of integration.applications) {
      expect(ids(app.interviews as Rec[]).sort()).toEqual((interviewsByApp.get(app.id as string) ?? []).sort());
    }
  });
});

describe.each(nonEmpty.map((i) => [i.id, i] as const))('generateDataset: edge cases in %s', (_id, integration) => {
  const { candidates, applications, interviews } = integration;
  const names = candidates.flatMap((c) => [c.first_name, c.last_name, c.title]).filter((s): s is string => typeof s === 'string');

  it('has unicode names: accents, CJK, emoji, fullwidth letters, decomposed accents', () => {
    expect(names.some((s) => /[À-ÿĀ-ž]/.test(s))).toBe(true);
    expect(names.some((s) => /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(s))).toBe(true);
    expect(names.some((s) => s.includes('🚀'))).toBe(true);
    expect(names.some((s) => /[\uff21-\uff5a]/.test(s))).toBe(true);
    expect(names.some((s) => s !== s.normalize('NFC'))).toBe(true);
  });

  it('has nulls next to empty strings in the same column', () => {
    expect(candidates.some((c) => c.company === null)).toBe(true);
    expect(candidates.some((c) => c.company === '')).toBe(true);
    expect(candidates.some((c) => c.first_name === null)).toBe(true);
    expect(candidates.some((c) => c.last_name === '')).toBe(true);
    expect(candidates.some((c) => c.location !== null && (c.location as Rec).street_2 === null)).toBe(true);
  });

  it('has a candidate whose lists are all empty', () => {
    const empty = candidates.filter((c) =>
      ['applications', 'tags', 'phone_numbers', 'email_addresses', 'social_media'].every((f) => Array.isArray(c[f]) && (c[f] as unknown[]).length === 0),
    );
    expect(empty.length).toBeGreaterThan(0);
  });

  it('has texts of 10,000+ characters in a title and in custom fields', () => {
    expect(candidates.some((c) => typeof c.title === 'string' && c.title.length >= 10_000)).toBe(true);
    expect(candidates.filter((c) => longestString(c.custom_fields) >= 10_000).length).toBeGreaterThanOrEqual(3);
  });

  it.each(['candidates', 'applications', 'interviews'] as const)('has some, but few, deleted %s', (model) => {
    const records = integration[model];
    const deleted = records.filter(isDeleted).length;
    expect(deleted).toBeGreaterThan(0);
    // Loose: in a 60-candidate integration one deleted candidate takes several interviews with it.
    expect(deleted / records.length).toBeLessThan(0.25);
  });

  it('has candidates with 2–3 applications and none with more', () => {
    const counts = candidates.map((c) => (c.applications as unknown[]).length);
    expect(counts.some((n) => n === 2)).toBe(true);
    expect(counts.some((n) => n === 3)).toBe(true);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
  });

  it('has interviews with 2–4 interviewers', () => {
    const counts = interviews.map((i) => (i.users as unknown[]).length);
    expect(counts.some((n) => n >= 2 && n <= 4)).toBe(true);
    expect(counts.some((n) => n === 4)).toBe(true);
    expect(Math.max(...counts)).toBeLessThanOrEqual(4);
  });

  it('has custom fields with nested objects, arrays, numbers, booleans and nulls', () => {
    const nested = candidates.filter((c) => {
      const shape = jsonShape(c.custom_fields);
      return shape.maxObjectDepth >= 3 && ['array', 'number', 'boolean', 'null', 'string'].every((k) => shape.kinds.has(k));
    });
    expect(nested.length).toBeGreaterThan(0);
    expect(candidates.some((c) => Object.keys(c.custom_fields as Rec).length === 0)).toBe(true);
  });

  it('keeps to Kombo’s outcome enum wherever an outcome is nested; a withdrawal is DECLINED with its reason', () => {
    const outcomes = [
      ...applications.map((a) => a.outcome),
      ...candidates.flatMap((c) => (c.applications as Rec[]).map((a) => a.outcome)),
      ...interviews.map((i) => (i.application as Rec).outcome),
    ];
    expect(outcomes.filter((o) => !KNOWN_OUTCOMES.has(o as string | null))).toEqual([]);
    expect(applications.some((a) => a.outcome === 'DECLINED' && a.rejection_reason_name === WITHDRAWAL_REASON && a.rejected_at !== null)).toBe(true);
  });

  it('keeps what the ATS says in free-form types (a PAGER phone number)', () => {
    expect(candidates.some((c) => ((c.phone_numbers as Rec[] | null) ?? []).some((p) => p.type === 'PAGER'))).toBe(true);
  });

  it('types every screening answer as Kombo does: a question with a type, an answer object for that type', () => {
    const answers = applications.flatMap((a) => (a.screening_question_answers as Rec[]) ?? []);
    expect(answers.length).toBeGreaterThan(0);
    for (const { question, answer } of answers as { question: Rec; answer: Rec }[]) {
      expect(Object.keys(question).sort()).toEqual(['remote_id', 'title', 'type']);
      expect(typeof question.title).toBe('string');
      expect(Object.keys(answer)).toEqual([ANSWER_KEYS[question.type as string]]);
    }
    expect(new Set(answers.map((a) => (a.question as Rec).type))).toEqual(new Set(Object.keys(ANSWER_KEYS)));
  });

  it('gives offers consistent with outcomes: open ones in the offer stage, accepted for a hire, declined or abandoned for a decline', () => {
    const jobs = new Map((integration.jobs ?? []).map((j) => [j.id, j]));
    for (const a of applications) {
      const offers = a.offers as { status: string; id: string }[];
      const statuses = offers.map((o) => o.status);
      const stage = a.current_stage as Rec | null;
      const offerStage = jobs.get(a.job_id as string)!.stages.length - 2;
      for (const o of offers) expect(o.id).toMatch(KOMBO_ID);
      if (a.outcome === 'HIRED') expect(statuses.at(-1)).toBe('ACCEPTED');
      if (a.outcome === 'HIRED') expect(statuses.slice(0, -1).every((s) => s === 'ABANDONED')).toBe(true);
      if (a.outcome === 'PENDING' && offers.length > 0) {
        expect(statuses.every((s) => ['DRAFT', 'APPROVED', 'SENT'].includes(s))).toBe(true);
        expect(stage?.index).toBe(offerStage);
      }
      if (a.outcome === 'DECLINED') expect(statuses.every((s) => s === 'DECLINED' || s === 'ABANDONED')).toBe(true);
      if (statuses.includes('DECLINED')) expect([OFFER_DECLINED_REASON, WITHDRAWAL_REASON]).toContain(a.rejection_reason_name);
      if (a.outcome === null) expect(offers).toEqual([]);
    }
  });

  it('has remote_data null mostly and an object sometimes', () => {
    const objects = candidates.filter((c) => c.remote_data !== null && typeof c.remote_data === 'object').length;
    expect(objects).toBeGreaterThan(0);
    expect(objects).toBeLessThan(candidates.length / 2);
  });

  it('has every value of the nullable booleans and nullable current stages', () => {
    expect(new Set(candidates.map((c) => c.confidential))).toEqual(new Set([true, false, null]));
    expect(new Set(interviews.map((i) => i.canceled))).toEqual(new Set([true, false, null]));
    expect(applications.some((a) => a.current_stage === null && a.current_stage_id === null)).toBe(true);
    expect(applications.some((a) => a.current_stage !== null)).toBe(true);
  });
});

describe('generateDataset: the largest integration', () => {
  it('is the greenhouse one, with titles "🚀 Growth Hacker" and "Ｇｒｏｗｔｈ Hacker" in the same column', () => {
    expect(largest.tool).toBe('greenhouse');
    const titles = largest.candidates.map((c) => c.title);
    expect(titles.filter((t) => t === '🚀 Growth Hacker').length).toBeGreaterThanOrEqual(2);
    expect(titles.filter((t) => t === 'Ｇｒｏｗｔｈ Hacker').length).toBeGreaterThanOrEqual(2);
  });

  it('has offers in every status Kombo documents', () => {
    const statuses = new Set(largest.applications.flatMap((a) => (a.offers as Rec[]).map((o) => o.status)));
    expect([...statuses].sort()).toEqual([...OFFER_STATUSES].sort());
  });

  it('deletes about 3% of each model', () => {
    for (const records of [largest.candidates, largest.applications, largest.interviews]) {
      const share = records.filter(isDeleted).length / records.length;
      expect(share).toBeGreaterThan(0.01);
      expect(share).toBeLessThan(0.07);
    }
  });
});

describe('sortById', () => {
  it.each([
    ['shared prefixes and different lengths', ['abcdZ', 'abcd', 'b', 'abcdA', '', 'ABCD', 'abc', '0abcd']],
    ['non-ASCII ids (fallback path)', ['é', 'e', 'z', 'Ｇ', 'a']],
  ])('orders by UTF-16 code units with %s', (_label, list) => {
    const records = list.map((id, position) => ({ id, position }));
    expect(sortById(records).map((r) => r.id)).toEqual([...list].sort());
    // The input is left alone.
    expect(records.map((r) => r.id)).toEqual(list);
  });
});
