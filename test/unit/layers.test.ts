/**
 * The module layers stay as the README's Design section describes them: the sandbox's files import
 * one another without a cycle, the domain (`shared/` outside `shared/adapters/`) imports no
 * adapter, only the AWS adapter knows the AWS SDK, and the sandbox (a test double) is reached only
 * through `sandbox/index.ts`, never from `shared/`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every relative import of every TypeScript file under `dirs`, type-only imports included. */
function importGraph(dirs: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of dirs) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.ts')) continue;
      const file = join(dir, entry);
      const text = readFileSync(join(ROOT, file), 'utf8');
      const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.{1,2}\/[^']+)'/gms), ...text.matchAll(/import\('(\.{1,2}\/[^']+)'\)/g)].map((m) => normalize(join(dirname(file), m[1]!)));
      graph.set(file, targets);
    }
  }
  return graph;
}

/** The text of every string literal and template head in a TypeScript source. */
function literals(source: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile('file.ts', source, ts.ScriptTarget.Latest, true));
  return found;
}

/** Every module specifier of every TypeScript file under `dirs` (packages as written, relative ones resolved from the root), type-only and dynamic imports included. */
function specifiers(dirs: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const dir of dirs) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.ts')) continue;
      const file = join(dir, entry);
      const text = readFileSync(join(ROOT, file), 'utf8');
      const written = [...text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms), ...text.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]!);
      found.set(file, written.map((s) => (s.startsWith('.') ? normalize(join(dirname(file), s)) : s)));
    }
  }
  return found;
}

/** `file → specifier` for every import of `graph` that `bad` picks out. */
const offending = (graph: Map<string, string[]>, bad: (file: string, target: string) => boolean): string[] =>
  [...graph.entries()].flatMap(([file, targets]) => targets.filter((t) => bad(file, t)).map((t) => `${file} → ${t}`));

/** Every folder of the project's own TypeScript, the sandbox aside. */
const OUTSIDE_SANDBOX = ['cli', 'shared', 'functions', 'infra', 'bench', 'scripts', 'test'] as const;

/** The cycles of a graph, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]): void => {
    if (path.includes(node)) {
      found.push([...path.slice(path.indexOf(node)), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return found;
}

describe('module layers', () => {
  it('the sandbox has no import cycle, type-only imports included', () => {
    expect(cycles(importGraph(['sandbox'])).map((c) => c.join(' → '))).toEqual([]);
  });

  it('finds a cycle where there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual(['a.ts → b.ts → c.ts → a.ts']);
  });

  /** The imports from files under `from` that land under one of `to`, as `file → target`. */
  const crossing = (graph: Map<string, string[]>, from: string, to: readonly string[]): string[] =>
    [...graph.entries()].filter(([file]) => file.startsWith(join(from, ''))).flatMap(([file, targets]) => targets.filter((t) => to.some((d) => t.startsWith(join(d, '')))).map((t) => `${file} → ${t}`));

  it('the state layer imports no step: what the warehouse keeps lies under the steps that keep it', () => {
    const graph = importGraph(['shared']);
    expect([...graph.keys()].filter((f) => f.startsWith(join('shared', 'state', ''))).length).toBeGreaterThan(5);
    expect(crossing(graph, join('shared', 'state'), [join('shared', 'pipeline'), join('shared', 'adapters'), join('shared', 'analytics')])).toEqual([]);
  });

  it('the warehouse layout imports nothing from the steps or the state layer', () => {
    const graph = importGraph(['shared']);
    expect(crossing(graph, join('shared', 'warehouse'), [join('shared', 'pipeline'), join('shared', 'state')])).toEqual([]);
  });

  it('only the state layer spells a `_runs/` or `_state/` key', () => {
    const spelled = ['shared', 'functions', 'cli', 'infra', 'bench', 'scripts'].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((entry) => entry.endsWith('.ts') && !join(dir, entry).startsWith(join('shared', 'state', '')))
        .filter((entry) => literals(readFileSync(join(ROOT, dir, entry), 'utf8')).some((text) => /^_(?:runs|state)\//.test(text)))
        .map((entry) => join(dir, entry)),
    );
    expect(spelled).toEqual([]);
  });

  it('finds a key spelled in a literal, not in a comment', () => {
    expect(literals("// see `_runs/`\nconst a = '_runs/x'; const b = `_state/${c}/`; const d = 'see _runs/';")).toEqual(['_runs/x', '_state/', 'see _runs/']);
  });

  it('finds a crossing where there is one', () => {
    const graph = new Map([[join('shared', 'state', 'runs.ts'), [join('shared', 'pipeline', 'finish.ts'), join('shared', 'ports.ts')]]]);
    expect(crossing(graph, join('shared', 'state'), [join('shared', 'pipeline')])).toEqual([`${join('shared', 'state', 'runs.ts')} → ${join('shared', 'pipeline', 'finish.ts')}`]);
  });

  it('the domain imports no adapter', () => {
    const graph = importGraph(['shared']);
    const domain = [...graph.entries()].filter(([file]) => !file.startsWith(join('shared', 'adapters')));
    expect(domain.length).toBeGreaterThan(20);
    const bad = domain.flatMap(([file, targets]) => targets.filter((t) => t.startsWith(join('shared', 'adapters'))).map((t) => `${file} → ${t}`));
    expect(bad).toEqual([]);
  });

  it('no module in shared/ outside shared/adapters/aws/ imports the AWS SDK', () => {
    const graph = specifiers(['shared']);
    expect(graph.size).toBeGreaterThan(20);
    expect(offending(graph, (file, t) => t.startsWith('@aws-sdk/') && !file.startsWith(join('shared', 'adapters', 'aws') + sep))).toEqual([]);
  });

  it('shared/ imports nothing from sandbox/', () => {
    expect(offending(specifiers(['shared']), (_, t) => t === 'sandbox' || t.startsWith(`sandbox${sep}`))).toEqual([]);
  });

  it('nothing outside sandbox/ imports a sandbox module other than sandbox/index.ts', () => {
    const graph = specifiers(OUTSIDE_SANDBOX);
    const sandboxImports = offending(graph, (_, t) => t.startsWith(`sandbox${sep}`));
    expect(sandboxImports.length).toBeGreaterThan(10);
    expect(offending(graph, (_, t) => t.startsWith(`sandbox${sep}`) && t !== join('sandbox', 'index.ts'))).toEqual([]);
  });
});
