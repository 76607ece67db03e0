// The repository's own text files, read from the working tree (not from git, so a file not yet
// committed is checked too): what a reader of the repository can open.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Generated, installed or local-only folders: not the repository's text. */
const skippedFolders = new Set(['node_modules', 'dist', 'data', 'coverage', '.git', 'screenshots']);
const textExtensions = /\.(?:md|ts|mts|mjs|js|json|css|html|svg|sh)$/;

export interface RepositoryFile {
  /** Relative to the repository root, with `/` separators: `docs/security.md`. */
  path: string;
  text: string;
}

/** The text files under `paths` (files or folders, relative to the repository root). */
export function repositoryFiles(...paths: string[]): RepositoryFile[] {
  const found: string[] = [];
  const visit = (absolute: string) => {
    if (statSync(absolute).isDirectory()) {
      for (const entry of readdirSync(absolute).sort()) {
        if (!skippedFolders.has(entry)) visit(join(absolute, entry));
      }
    } else {
      found.push(absolute);
    }
  };
  for (const path of paths) visit(join(repositoryRoot, path));
  return found
    .filter((absolute) => textExtensions.test(absolute) || paths.includes(relative(repositoryRoot, absolute)))
    .map((absolute) => ({ path: relative(repositoryRoot, absolute).split('\\').join('/'), text: readFileSync(absolute, 'utf8') }));
}

/** Every match of `pattern` (a global regular expression) in the files, as `path:line: match`. */
export function occurrences(files: RepositoryFile[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    [...file.text.matchAll(pattern)].map((match) => `${file.path}:${lineOf(file.text, match.index)}: ${match[0]}`),
  );
}

export function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}
