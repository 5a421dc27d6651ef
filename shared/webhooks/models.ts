/**
 * Which of the pipeline's models a `data-changed` webhook touches. Kombo names its models as its
 * read models do (`ats_candidates`, `ats_join_candidates_tags`, …); a model is touched when it is
 * the one named, or when its records nest the one named (an application holds its interviews and
 * offers, a candidate its tags, a job its stages, postings, screening questions and hiring team,
 * an interview its interviewers). Names of models the pipeline does not store touch nothing.
 */
import type { ModelName } from '../tables.ts';
import { KOMBO_MODELS, MODELS } from '../tables.ts';

/** The pipeline's models whose records copy those of a Kombo model they nest. */
const NESTED_IN: Readonly<Record<string, readonly ModelName[]>> = {
  ats_interviews: ['applications'],
  ats_offers: ['applications'],
  ats_tags: ['candidates'],
  ats_join_candidates_tags: ['candidates'],
  ats_application_stages: ['jobs'],
  ats_job_postings: ['jobs'],
  ats_screening_questions: ['jobs'],
  ats_join_jobs_application_stages: ['jobs'],
  ats_join_jobs_screening_questions: ['jobs'],
  ats_join_jobs_users: ['jobs'],
  ats_join_interviews_users: ['interviews'],
};

const BY_READ_MODEL = new Map<string, ModelName>(MODELS.map((m) => [KOMBO_MODELS[m].readModel, m]));

/** The pipeline models touched by Kombo's changed model names, in the pipeline's model order. */
export function modelsTouched(komboNames: readonly string[]): ModelName[] {
  const touched = new Set<ModelName>();
  for (const name of komboNames) {
    const own = BY_READ_MODEL.get(name);
    if (own) touched.add(own);
    for (const m of NESTED_IN[name] ?? []) touched.add(m);
  }
  return MODELS.filter((m) => touched.has(m));
}

/** The union of two model lists, in the pipeline's model order. */
export function unionModels(a: readonly ModelName[], b: readonly ModelName[]): ModelName[] {
  const both = new Set([...a, ...b]);
  return MODELS.filter((m) => both.has(m));
}
