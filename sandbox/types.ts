/**
 * The shapes the sandbox's generators share: jobs, their stages and questions, and users. Kept
 * apart so that `data.ts`, `funnel.ts` and `timeline.ts` can all use them without importing each
 * other.
 */

/** A stage of a job's pipeline, as Kombo nests it in applications. */
export interface SandboxStage {
  id: string;
  remote_id: string;
  name: string;
  index: number;
}

/** Kombo's screening question types (`question.type` of `applications[].screening_question_answers`). */
export type SandboxQuestionType = 'TEXT' | 'SINGLE_SELECT' | 'MULTI_SELECT' | 'BOOLEAN' | 'NUMBER' | 'DATE' | 'UNKNOWN';

/** A screening question of a job, as Kombo's jobs endpoint lists it. */
export interface SandboxScreeningQuestion {
  id: string;
  remote_id: string | null;
  title: string;
  type: SandboxQuestionType;
  /** Option ids of a select question: what its answers' `choice` / `choices` hold. */
  options?: string[];
}

/**
 * A job and its ordered pipeline: what applications nest and `POST /ats/candidates` checks against.
 * The jobs endpoint serves the full Kombo record of each (`SandboxIntegrationData.funnel.jobs`).
 */
export interface SandboxJob {
  id: string;
  remote_id: string;
  name: string;
  stages: SandboxStage[];
  /** Questions `POST /ats/candidates` may answer (`screening_question_answers[].question_id`). */
  screening_questions?: SandboxScreeningQuestion[];
}

/** An interviewer, as nested in interviews. */
export interface SandboxUser {
  id: string;
  remote_id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
}
