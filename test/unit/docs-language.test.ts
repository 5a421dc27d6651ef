/**
 * The user documentation speaks of the project alone and points only at what the repository
 * holds: no words from how the project is planned and tracked, no links to documents a user
 * cannot open, and no code path that no longer exists.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** README.md, every Markdown file under docs/, and the README of each top-level folder. */
function userDocs(): string[] {
  const docs = ['README.md'];
  for (const entry of readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })) if (entry.endsWith('.md')) docs.push(join('docs', entry));
  for (const dir of readdirSync(ROOT, { withFileTypes: true })) {
    if (dir.isDirectory() && !dir.name.startsWith('.') && dir.name !== 'node_modules' && existsSync(join(ROOT, dir.name, 'README.md'))) docs.push(join(dir.name, 'README.md'));
  }
  return docs.sort();
}

/** Words that belong to how the project is planned and tracked, never to what a user reads. */
const INTERNAL: readonly (readonly [RegExp, string])[] = [
  [/\bcards?\b/i, 'a design card'],
  [/\bissues?\b|\bissue's\b|\bticket\b/i, 'an issue or ticket'],
  [/\bteam folder\b/i, 'the team folder'],
  [/\bwhile writing (?:this|the)\b/i, 'how the document was written'],
  [/(?<!DuckDB's |SQL |database )\bsessions?\b(?! time ?zone)/i, 'a working session'],
  [/\breviewers?\b|\b(?:code|design|peer|the|a|this|after|in) review\b/i, 'a review'],
  [/\bthe brief\b|\bwho asked\b/i, 'who asked for a change'],
  [/(?:^|[\s`(])\/work\//, 'a folder of one machine'],
];

/** Markdown link targets and code spans that look like paths, with their line numbers. */
function references(text: string): { line: number; target: string; link: boolean }[] {
  const found: { line: number; target: string; link: boolean }[] = [];
  text.split('\n').forEach((content, i) => {
    for (const m of content.matchAll(/\]\(([^)\s]+)\)/g)) found.push({ line: i + 1, target: m[1] as string, link: true });
    for (const m of content.matchAll(/`([^`\s]+)`/g)) {
      const span = m[1] as string;
      if (/^(?:\.\.\/)+|^(?:shared|cli|sandbox|infra|functions|test|bench|scripts|docs|bin)\/[\w./-]*\.(?:ts|mjs|js|json|md)$/.test(span)) found.push({ line: i + 1, target: span, link: false });
    }
  });
  return found;
}

describe.each(userDocs())('%s', (doc) => {
  const text = readFileSync(join(ROOT, doc), 'utf8');

  it('speaks of the project alone', () => {
    const hits = text.split('\n').flatMap((line, i) => INTERNAL.filter(([re]) => re.test(line)).map(([, what]) => `${doc}:${i + 1} mentions ${what}: ${line.trim()}`));
    expect(hits).toEqual([]);
  });

  it('points only at files the repository holds', () => {
    const bad: string[] = [];
    for (const ref of references(text)) {
      if (/^(?:[a-z]+:|#)/i.test(ref.target)) continue; // a URL or an anchor
      const path = ref.target.replace(/#.*$/, '');
      // Links and `../` paths are relative to the document; other code paths to the repository root.
      const base = ref.link || path.startsWith('../') ? dirname(join(ROOT, doc)) : ROOT;
      const full = resolve(base, path);
      const inside = relative(ROOT, full);
      if (inside.startsWith('..') || inside.startsWith(sep)) bad.push(`${doc}:${ref.line} points outside the repository: ${ref.target}`);
      else if (!existsSync(full)) bad.push(`${doc}:${ref.line} points at a missing file: ${ref.target}`);
    }
    expect(bad).toEqual([]);
  });
});

/** Source files users read too (comments, help texts, messages): every TypeScript and script file of the project. */
function sourceFiles(): string[] {
  const files: string[] = [];
  for (const dir of ['bench', 'bin', 'cli', 'functions', 'infra', 'sandbox', 'scripts', 'shared', 'test']) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) if (/\.(?:ts|mjs|js)$/.test(entry)) files.push(join(dir, entry));
  }
  return files.sort();
}

/**
 * The same rule for code, with narrower words: `issues` is also what a schema library calls its
 * findings, and this file itself lists the words it forbids.
 */
const INTERNAL_IN_CODE: readonly (readonly [RegExp, string])[] = [
  [/\bissue[- ]?#?\d+\b|\bthe issue's\b|\bthis issue\b/i, 'an issue'],
  [/\bdesign card\b/i, 'a design card'],
  [/\bteam folder\b|\.\.\/shared\/(?:DESIGN|STYLE)\.md/i, 'the team folder'],
];

describe('source files', () => {
  it('speak of the project alone', () => {
    const hits = sourceFiles()
      .filter((f) => f !== join('test', 'unit', 'docs-language.test.ts'))
      .flatMap((file) =>
        readFileSync(join(ROOT, file), 'utf8')
          .split('\n')
          .flatMap((line, i) => INTERNAL_IN_CODE.filter(([re]) => re.test(line)).map(([, what]) => `${file}:${i + 1} mentions ${what}: ${line.trim()}`)),
      );
    expect(hits).toEqual([]);
  });
});
