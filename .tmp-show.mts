import { generateDataset } from './cli/sandbox/data.ts';
const d = generateDataset();
const lever = d.integrations[1]!;
const app = lever.applications.find((a) => (a.interviews as unknown[]).length > 1 && (a.screening_question_answers as unknown[]).length > 0)!;
console.log(JSON.stringify(app, null, 1).slice(0, 4000));
const iv = lever.interviews.find((i) => i.application_id === app.id)!;
console.log(JSON.stringify(iv, null, 1));
console.log(lever.candidates.slice(0, 8).map((c) => [c.first_name, c.last_name, c.company, typeof c.title === 'string' ? c.title.slice(0, 40) : c.title, (c.location as any)?.raw]));
console.log(JSON.stringify(lever.jobs!.map((j) => [j.name, j.stages.map((s) => s.name)])));
