// The docs speak of what a reader can open. A reference to a document outside the repository (a
// design or security file, an issue or a review by number) is a dead end for everyone but its
// author; so is a requirement id that no list defines, or a link to a file or heading that is gone.
// What the reader needs is in the repository: requirement ids in docs/security-requirements.md,
// the reasons in the text itself.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownAnchors, markdownLinks } from '../helpers/markdown.js';
import { occurrences, repositoryFiles, repositoryRoot } from '../helpers/repository-files.js';

/** Documents a reader opens first: the READMEs, docs/ (the OpenAPI descriptions included). */
const documents = repositoryFiles('README.md', 'docs', 'examples/README.md');
const markdownDocuments = documents.filter((file) => file.path.endsWith('.md'));
/** The benchmarks' sources and results: their printed text becomes docs/benchmarks.md. */
const benchmarks = repositoryFiles('bench');
/** Code, tests and tooling: their comments and test names are read too (not this file: it spells the patterns). */
const thisFile = 'test/docs/references.test.ts';
const code = repositoryFiles('src', 'test', 'scripts', 'examples', 'eslint.config.js', 'vitest.config.ts', '.ci/run').filter((file) => file.path !== thisFile);

/** References to documents a reader of the repository cannot open. */
const outsideReferences = [
  /\b(?:DESIGN|SECURITY)\.md\b/g,
  /\b(?:DESIGN|SECURITY) §/g,
  /\bissue (?:#\s?)?\d+/gi,
  /\bissue points?\b/gi,
  /\b(?:first|second|third|outside|external) review\b/gi,
  /\breview(?:'s|’s)? (?:finding|scenario)/gi,
  /\bthe review\b/gi,
  /\bfindings? \d+/gi,
  /\bthe seed(?:'s|’s)\b/gi,
  /\bseed (?:article|document)\b/gi,
];
/** In the documents themselves, also where the text came from rather than what it says. */
const documentOnlyReferences = [/\bthe seed\b/gi, /\bshared documents?\b/gi, /\b(?:this|another|other) branch(?:'s|’s)?\b/gi];

const requirementId = /\b[A-Z]{2,3}-\d{2}\b/g;
/** Names that look like requirement ids and are not. */
const notRequirementIds = new Set(['UTF-16']);
const requirementsPath = 'docs/security-requirements.md';

/** The ids docs/security-requirements.md defines: the first cell of its table rows. */
function definedRequirementIds(): Set<string> {
  const list = readFileSync(join(repositoryRoot, requirementsPath), 'utf8');
  return new Set([...list.matchAll(/^\| ([A-Z]{2,3}-\d{2}) \|/gm)].map((match) => match[1]!));
}

function referencesIn(files: typeof documents, patterns: RegExp[]): string[] {
  return patterns.flatMap((pattern) => occurrences(files, pattern));
}

function undefinedRequirementIds(files: typeof documents, defined: Set<string>): string[] {
  return occurrences(files, requirementId).filter((found) => {
    const id = found.slice(found.lastIndexOf(' ') + 1);
    return !defined.has(id) && !notRequirementIds.has(id);
  });
}

describe('the docs speak of what a reader can open', () => {
  it('finds the files it checks (README.md, docs/ with openapi.json, bench/, src/, test/)', () => {
    const paths = [...documents, ...benchmarks, ...code].map((file) => file.path);
    for (const path of ['README.md', 'docs/security.md', 'docs/openapi.json', 'docs/benchmarks.md', requirementsPath, 'bench/run.ts', 'bench/results/latest.json', 'src/errors.ts', 'test/docs/openapi.test.ts', '.ci/run']) {
      expect(paths).toContain(path);
    }
  });

  it('README.md, docs/ and docs/openapi.json cite no design or security file, issue, review or branch outside the repository', () => {
    expect(referencesIn(documents, [...outsideReferences, ...documentOnlyReferences])).toEqual([]);
  });

  it('the benchmarks (whose printed text becomes docs/benchmarks.md) and the code’s comments and test names cite none either', () => {
    expect(referencesIn([...benchmarks, ...code], outsideReferences)).toEqual([]);
  });

  it(`${requirementsPath} defines every requirement id used anywhere in the repository`, () => {
    const defined = definedRequirementIds();
    // The list itself must be read, not empty: the families of the threat notes are all there.
    for (const id of ['PW-01', 'LG-04', 'FL-03', 'OT-04', 'OB-02', 'WA-03', 'RC-01', 'JW-11', 'SS-02', 'MG-05', 'LOG-01', 'HT-02']) {
      expect(defined).toContain(id);
    }
    expect(undefinedRequirementIds([...documents, ...benchmarks, ...code], defined)).toEqual([]);
  });

  it('recognises a reference to an outside document and an undefined requirement id when it sees one', () => {
    const planted = [{ path: 'planted.md', text: 'As DESIGN.md §3 says (issue 8, second review, finding 2): see ZZ-99 and PW-01.' }];
    expect(referencesIn(planted, outsideReferences)).toHaveLength(4);
    expect(undefinedRequirementIds(planted, definedRequirementIds())).toEqual(['planted.md:1: ZZ-99']);
  });

  it('every relative link in README.md and docs/ reaches an existing file, and every #anchor a heading of it', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownDocuments) {
      for (const link of markdownLinks(file.text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // https:, mailto: — outside by design
        checked += 1;
        const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
        const target = pathPart === '' ? file.path : normalize(join(dirname(file.path), decodeURIComponent(pathPart)));
        const where = `${file.path}:${link.line}: ${link.target}`;
        if (target.startsWith('..') || !existsSync(join(repositoryRoot, target))) {
          broken.push(`${where} (no file ${target})`);
        } else if (anchor !== undefined && target.endsWith('.md')) {
          const anchors = markdownAnchors(readFileSync(join(repositoryRoot, target), 'utf8'));
          if (!anchors.has(decodeURIComponent(anchor))) broken.push(`${where} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
