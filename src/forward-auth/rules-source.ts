// Where the server gets its forward-auth rules: the file named by the configuration, kept in
// memory and re-read when it changes, so rules change without a restart. A file that does not
// parse is refused as a whole and the rules in force stay — a typo must never open (or close)
// every app — and the mistake is reported with its line, column and reason. Without a file,
// two factors for everything.
//
// The directory is watched, not the file: editors and configuration tools replace a file by
// renaming a new one over it (and Kubernetes swaps a symlinked directory), which a watch on
// the file itself would stop seeing. Any change in the directory schedules one re-read after a
// short quiet time; the rules are taken only when the file's text changed.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadRulesFile } from './load-rules-file.js';
import { defaultRuleSet } from './rule-set.js';
import type { RulesFileError } from './rules-file.js';
import type { RuleSet } from './rules.js';

export interface RulesSourceProblem extends RulesFileError {
  file: string;
  /** Every mistake found (the first is the one in line/column/reason). */
  errors: readonly RulesFileError[];
}

export interface RulesSourceOptions {
  /** The rules file; undefined = no file: two_factor for everything. */
  file?: string | undefined;
  /** A refused file (or a watcher failure, at line 0); the previous rules stay in force. */
  onError?: (problem: RulesSourceProblem) => void;
  /** New rules taken in. */
  onReload?: (loaded: { file: string; rules: number; version: number }) => void;
  /** Quiet time after a change before re-reading, so a save in several writes is read once. */
  debounceMs?: number;
}

export type ReloadResult = { ok: true; changed: boolean } | { ok: false; problem: RulesSourceProblem };

export interface RulesSource {
  /** The rules in force. */
  current(): RuleSet;
  /** Goes up by one each time new rules are taken in (0 for the first ones). */
  version(): number;
  /** Re-read the file now (SIGHUP, a CLI command); never throws. */
  reload(): Promise<ReloadResult>;
  /** Stop watching. */
  close(): void;
}

export class RulesFileRefusedError extends Error {
  constructor(readonly problem: RulesSourceProblem) {
    super(`${problem.file}:${problem.line}:${problem.column}: ${problem.reason}`);
    this.name = 'RulesFileRefusedError';
  }
}

/** Reads the file once; a file refused at start-up throws RulesFileRefusedError (nothing to keep). */
export async function createRulesSource(options: RulesSourceOptions = {}): Promise<RulesSource> {
  if (options.file === undefined) {
    const rules = defaultRuleSet();
    return { current: () => rules, version: () => 0, reload: async () => ({ ok: true, changed: false }), close: () => {} };
  }
  const file = resolve(options.file);
  const first = await loadRulesFile(file);
  if (!first.ok) throw new RulesFileRefusedError(problemOf(file, first.errors));
  let rules = first.ruleSet;
  let text = first.text;
  let version = 0;
  let closed = false;
  let pending: Promise<ReloadResult> = Promise.resolve({ ok: true, changed: false });

  const report = (problem: RulesSourceProblem) => {
    try {
      options.onError?.(problem);
    } catch {
      // A failing logger must not stop the watcher.
    }
  };

  const readAgain = async (): Promise<ReloadResult> => {
    const loaded = await loadRulesFile(file);
    if (!loaded.ok) {
      const problem = problemOf(file, loaded.errors);
      report(problem);
      return { ok: false, problem };
    }
    if (loaded.text === text) return { ok: true, changed: false };
    rules = loaded.ruleSet;
    text = loaded.text;
    version += 1;
    try {
      options.onReload?.({ file, rules: rules.rules.length, version });
    } catch {
      // As above: reporting never undoes a reload.
    }
    return { ok: true, changed: true };
  };

  // One re-read at a time, in order: the last one to finish read the newest file.
  const reload = (): Promise<ReloadResult> => {
    pending = pending.then(readAgain, readAgain).catch((error: unknown) => {
      const problem = problemOf(file, [{ line: 0, column: 0, reason: `cannot reload: ${error instanceof Error ? error.message : String(error)}` }]);
      report(problem);
      return { ok: false as const, problem };
    });
    return pending;
  };

  let timer: NodeJS.Timeout | undefined;
  const scheduleReload = () => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, options.debounceMs ?? 100);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, scheduleReload);
    watcher.on('error', (error) => report(problemOf(file, [{ line: 0, column: 0, reason: `stopped watching ${basename(file)}'s directory: ${error.message}` }])));
  } catch (error) {
    // Some file systems cannot be watched: reload() (SIGHUP) still works.
    report(problemOf(file, [{ line: 0, column: 0, reason: `cannot watch ${dirname(file)}: ${error instanceof Error ? error.message : String(error)}; reload explicitly` }]));
  }

  return {
    current: () => rules,
    version: () => version,
    reload,
    close: () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      watcher?.close();
    },
  };
}

function problemOf(file: string, errors: readonly RulesFileError[]): RulesSourceProblem {
  const first = errors[0] ?? { line: 0, column: 0, reason: 'refused' };
  return { file, line: first.line, column: first.column, reason: first.reason, errors };
}
