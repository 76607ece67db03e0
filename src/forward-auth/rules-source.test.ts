import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { normalizeRequestTarget } from './request-target.js';
import { createRulesSource, RulesFileRefusedError, type RulesSource, type RulesSourceProblem } from './rules-source.js';

const directories: string[] = [];
const sources: RulesSource[] = [];
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function temporaryRulesFile(text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'twofold-fa-rules-'));
  directories.push(directory);
  const file = join(directory, 'rules.yaml');
  writeFileSync(file, text);
  return file;
}

/** Polls (never a fixed sleep) until `condition` holds, for at most 5 s. */
async function eventually(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the watcher');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const bypassAll = 'default: bypass\n';
const denyAll = 'default: deny\n';
const bad = 'default: deny\nrules:\n  - hosts: [a.example.com]\n    policy: allow\n';
const request = normalizeRequestTarget({ method: 'GET', host: 'a.example.com', uri: '/' });
const policyOf = (source: RulesSource) => source.current().defaultRule.policy;

describe('createRulesSource()', () => {
  it('FA-15: without a file, two factors for everything', async () => {
    const source = await createRulesSource();
    expect(source.current().rules).toEqual([]);
    expect(decide(source.current(), request, undefined, 0)).toMatchObject({ kind: 'sign_in', acr: 'aal2' });
    expect(await source.reload()).toEqual({ ok: true, changed: false });
  });

  it('FA-15: a file refused at start-up throws with its line, column and reason', async () => {
    const file = temporaryRulesFile(bad);
    const refused = await createRulesSource({ file }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RulesFileRefusedError);
    expect((refused as RulesFileRefusedError).problem).toMatchObject({ file, line: 4, column: 13, reason: expect.stringContaining('"allow" is not a policy') });
    expect((await createRulesSource({ file: join(file, '..', 'missing.yaml') }).catch((error: unknown) => error)) as RulesFileRefusedError).toMatchObject({ problem: { line: 0, reason: expect.stringContaining('ENOENT') } });
  });

  it('FA-15: a change is picked up by the watcher; a bad file is refused, reported, and the previous rules stay in force', async () => {
    const file = temporaryRulesFile(bypassAll);
    const problems: RulesSourceProblem[] = [];
    const source = await createRulesSource({ file, onError: (problem) => problems.push(problem), debounceMs: 20 });
    sources.push(source);
    expect([source.version(), policyOf(source)]).toEqual([0, 'bypass']);

    writeFileSync(file, bad);
    await eventually(() => problems.length > 0);
    expect(problems[0]).toMatchObject({ file, line: 4, column: 13, reason: expect.stringContaining('"allow" is not a policy') });
    expect([source.version(), policyOf(source)]).toEqual([0, 'bypass']);
    expect(decide(source.current(), request, undefined, 0).kind).toBe('allow');

    writeFileSync(file, denyAll);
    await eventually(() => source.version() === 1);
    expect(policyOf(source)).toBe('deny');
    expect(decide(source.current(), request, undefined, 0).kind).toBe('deny');
  });

  it('FA-15: a file replaced by a rename (how editors save) is picked up too', async () => {
    const file = temporaryRulesFile(bypassAll);
    const source = await createRulesSource({ file, debounceMs: 20 });
    sources.push(source);
    writeFileSync(`${file}.new`, denyAll);
    renameSync(`${file}.new`, file);
    await eventually(() => source.version() === 1);
    expect(policyOf(source)).toBe('deny');
  });

  it('FA-15: reload() re-reads at once: refused with the problem, or taken; the same text again changes nothing', async () => {
    const file = temporaryRulesFile(bypassAll);
    const source = await createRulesSource({ file, debounceMs: 60_000 });
    sources.push(source);
    writeFileSync(file, bad);
    expect(await source.reload()).toMatchObject({ ok: false, problem: { line: 4, column: 13 } });
    expect(policyOf(source)).toBe('bypass');
    writeFileSync(file, denyAll);
    expect(await source.reload()).toEqual({ ok: true, changed: true });
    expect(await source.reload()).toEqual({ ok: true, changed: false });
    expect([source.version(), policyOf(source)]).toEqual([1, 'deny']);
    rmSync(file);
    expect(await source.reload()).toMatchObject({ ok: false, problem: { line: 0, reason: expect.stringContaining('ENOENT') } });
    expect(policyOf(source)).toBe('deny');
  });

  it('FA-15: an onError that throws does not stop the watcher', async () => {
    const file = temporaryRulesFile(bypassAll);
    let calls = 0;
    const source = await createRulesSource({
      file,
      debounceMs: 20,
      onError: () => {
        calls += 1;
        throw new Error('logger down');
      },
    });
    sources.push(source);
    writeFileSync(file, bad);
    await eventually(() => calls > 0);
    writeFileSync(file, denyAll);
    await eventually(() => source.version() === 1);
    expect(policyOf(source)).toBe('deny');
  });
});
