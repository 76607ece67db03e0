// The layering docs/architecture.md describes, held: its two tables (src/ by layer, src/flows/ by
// capability) are read from the document itself, every relative import under src/ is parsed with
// TypeScript's own pre-processor (type-only and dynamic imports included), and an import that goes
// up a table — or a cycle between two rows — fails with the file and the import that did it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(`${root}${path}`, 'utf8');
const isFile = (path: string): boolean => statSync(`${root}${path}`, { throwIfNoEntry: false })?.isFile() === true;

/** The rows of the first table after the heading that names `subject`, top first: each row's backticked names (first cell). */
function tableRows(document: string, subject: string): string[][] {
  const lines = document.split('\n');
  const heading = lines.findIndex((line) => line.startsWith('## ') && line.includes(subject));
  if (heading < 0) throw new Error(`docs/architecture.md has no "## …${subject}…" heading`);
  const rows: string[][] = [];
  for (const line of lines.slice(heading + 1)) {
    if (!line.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    const firstCell = line.split('|')[1] ?? '';
    if (/^\s*:?-+/.test(firstCell)) continue;
    const names = [...firstCell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    if (names.length > 0) rows.push(names);
  }
  return rows;
}

function filesUnder(folder: string): string[] {
  return readdirSync(`${root}${folder}`).flatMap((name) => {
    const path = `${folder}/${name}`;
    if (statSync(`${root}${path}`).isDirectory()) return filesUnder(path);
    return /\.(ts|mts)$/.test(name) ? [path] : [];
  });
}

/** The repository files a source file imports through relative specifiers (x.js names x.ts). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(read(file), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => {
      const base = posix.normalize(posix.join(posix.dirname(file), specifier));
      const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, `${base}/index.ts`];
      return candidates.find(isFile) ?? base;
    });
}

interface Edge {
  from: string;
  to: string;
}

/** Every import between two different units (folders or files of the table). */
function unitEdges(files: string[], unitOf: (file: string) => string | undefined): Array<Edge & { file: string; imported: string }> {
  return files.flatMap((file) =>
    importsOf(file).flatMap((imported) => {
      const from = unitOf(file);
      const to = unitOf(imported);
      return from === undefined || to === undefined || from === to ? [] : [{ from, to, file, imported }];
    }),
  );
}

/** Imports that go up the table (a row may use its own row and the rows below). */
function upwardImports(edges: Array<Edge & { file: string; imported: string }>, rows: string[][]): string[] {
  const rank = (unit: string): number => rows.findIndex((row) => row.includes(unit));
  return edges.filter(({ from, to }) => rank(to) < rank(from)).map(({ file, imported, from, to }) => `${file} imports ${imported}: ${to} is above ${from}`);
}

/** A cycle between units, as the units around it, or undefined. */
function findCycle(edges: Edge[]): string[] | undefined {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
  const done = new Set<string>();
  const visit = (unit: string, path: string[]): string[] | undefined => {
    const seen = path.indexOf(unit);
    if (seen >= 0) return [...path.slice(seen), unit];
    if (done.has(unit)) return undefined;
    for (const to of next.get(unit) ?? []) {
      const cycle = visit(to, [...path, unit]);
      if (cycle !== undefined) return cycle;
    }
    done.add(unit);
    return undefined;
  };
  for (const unit of next.keys()) {
    const cycle = visit(unit, []);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

const architecture = read('docs/architecture.md');

describe('docs/architecture.md: src/flows/ by capability', () => {
  const rows = tableRows(architecture, 'src/flows/');
  const groups = rows.flat();
  const files = filesUnder('src/flows');
  /** A file's group folder ("sessions/"); a file directly in src/flows/ is its own unit. */
  const groupOf = (file: string): string | undefined => {
    if (!file.startsWith('src/flows/')) return undefined;
    const rest = file.slice('src/flows/'.length);
    return rest.includes('/') ? `${rest.slice(0, rest.indexOf('/'))}/` : rest;
  };
  const edges = unitEdges(files, groupOf);

  it('lists every group folder of src/flows (and only those), and src/flows holds no file of its own but an index', () => {
    const folders = readdirSync(`${root}src/flows`).filter((name) => !isFile(`src/flows/${name}`));
    expect(new Set(groups)).toEqual(new Set(folders.map((folder) => `${folder}/`)));
    expect(readdirSync(`${root}src/flows`).filter((name) => isFile(`src/flows/${name}`) && name !== 'index.ts')).toEqual([]);
  });

  it('has no group importing a group above it (type-only imports count)', () => {
    // An index directly in src/flows/ sits above every group.
    expect(upwardImports(edges, [['index.ts'], ...rows])).toEqual([]);
  });

  it('has no import cycle between groups', () => {
    expect(findCycle(edges)).toBeUndefined();
  });

  it('sees the imports it judges, and would refuse one going up', () => {
    const pairs = new Set(edges.map(({ from, to }) => `${from} → ${to}`));
    expect(pairs).toContain('sign-in/ → sessions/');
    expect(pairs).toContain('factors/ → sessions/');
    const upward = { from: 'shared/', to: 'sign-in/', file: 'src/flows/shared/context.ts', imported: 'src/flows/sign-in/login.ts' };
    expect(upwardImports([upward], rows)).toEqual(['src/flows/shared/context.ts imports src/flows/sign-in/login.ts: sign-in/ is above shared/']);
    expect(findCycle([...edges, { from: 'shared/', to: 'sign-in/' }])).toBeDefined();
  });
});

describe('docs/architecture.md: src/ by layer', () => {
  const rows = tableRows(architecture, '`src/`');
  const units = rows.flat();
  const files = filesUnder('src');
  const unitOf = (file: string): string | undefined => {
    if (!file.startsWith('src/')) return undefined;
    const rest = file.slice('src/'.length);
    return `src/${rest.includes('/') ? `${rest.slice(0, rest.indexOf('/'))}/` : rest}`;
  };
  const edges = unitEdges(files, unitOf);

  it('names every folder and file of src/ (and only those)', () => {
    const present = readdirSync(`${root}src`).map((name) => (isFile(`src/${name}`) ? `src/${name}` : `src/${name}/`));
    expect(new Set(units)).toEqual(new Set(present));
  });

  it('has no layer importing a layer above it (type-only imports count)', () => {
    expect(upwardImports(edges, rows)).toEqual([]);
  });

  it('has no import cycle between layers, except inside a row', () => {
    const rowOf = (unit: string): string => rows.find((row) => row.includes(unit))!.join(' + ');
    expect(findCycle(edges.map(({ from, to }) => ({ from: rowOf(from), to: rowOf(to) })).filter(({ from, to }) => from !== to))).toBeUndefined();
  });
});
