/// <reference types="node" />
/**
 * Import cycles in src/, at two levels. eslint's import/no-cycle (in `jlpm lint:check`) already
 * stops value cycles between files; this also counts type-only and lazy imports, and holds the
 * features (the folders of src/, and its top-level modules) to depending one way: a feature that
 * adds to another's view does it through a token the other offers, not by being imported by it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..');

/** The modules of src/ (not tests, not declarations), as paths relative to src/. */
function modules(dir = SRC): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== '__tests__') {
      found.push(...modules(full));
    } else if (entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      found.push(path.relative(SRC, full));
    }
  }
  return found;
}

/** The modules of src/ that `file` imports: static, type-only and dynamic imports alike. */
function importsOf(file: string, known: Set<string>): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const found = new Set<string>();
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    if (!fileName.startsWith('.')) {
      continue;
    }
    const base = path.join(path.dirname(file), fileName);
    const target = ['.ts', '.tsx', '/index.ts', '/index.tsx'].map(ext => base + ext).find(c => known.has(c));
    if (target) {
      found.add(target);
    }
  }
  return [...found];
}

/** "jobs" for jobs/model.ts, "api" for api.ts (or api/jobs.ts). */
function featureOf(file: string): string {
  return file.split(path.sep)[0].replace(/\.tsx?$/, '');
}

/** The strongly connected components of more than one node, or with a self-loop (Tarjan). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) {
        found.push(component.sort());
      }
    }
  };
  for (const node of graph.keys()) {
    if (!index.has(node)) {
      visit(node);
    }
  }
  return found;
}

describe('imports in src/', () => {
  const files = modules();
  const known = new Set(files);
  const fileGraph = new Map(files.map(file => [file, new Set(importsOf(file, known))]));
  // Between features, with one file-level import that makes each edge, to say where to look.
  const featureGraph = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const [file, targets] of fileGraph) {
    for (const target of targets) {
      const [from, to] = [featureOf(file), featureOf(target)];
      if (from !== to) {
        featureGraph.set(from, (featureGraph.get(from) ?? new Set()).add(to));
        why.set(`${from} ${to}`, `${file} imports ${target}`);
      }
    }
  }

  it('finds cycles when there are some', () => {
    const toy = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['d'])],
      ['e', new Set(['a'])]
    ]);
    expect(cycles(toy)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(featureGraph.get('jobs')?.has('api')).toBe(true);
  });

  it('has no cycle between modules, counting type-only and lazy imports', () => {
    expect(cycles(fileGraph)).toEqual([]);
  });

  it('has features that depend one way only', () => {
    const explained = cycles(featureGraph).map(component => {
      const edges: string[] = [];
      for (const from of component) {
        for (const to of component.filter(to => featureGraph.get(from)?.has(to))) {
          edges.push(`${from} → ${to} (${why.get(`${from} ${to}`)})`);
        }
      }
      return edges;
    });
    expect(explained).toEqual([]);
  });
});
