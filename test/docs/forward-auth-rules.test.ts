// The rules reference's examples are rules files a reader copies: each must be one the server takes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRulesFile } from '../../src/forward-auth/rules-file.js';

const reference = readFileSync('docs/forward-auth-rules.md', 'utf8');
const yamlBlocks = [...reference.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);

describe('docs/forward-auth-rules.md', () => {
  it('FA-03: every YAML example is a rules file the server takes', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(4);
    for (const block of yamlBlocks) {
      const result = parseRulesFile(block);
      expect(result.ok ? [] : result.errors, block).toEqual([]);
    }
  });

  it('FA-03: the first example has the rule count the check command is shown printing', () => {
    const first = parseRulesFile(yamlBlocks[0]!);
    expect(first.ok && `OK: ${first.ruleSet.rules.length} rules`).toBe(reference.match(/^OK: .*$/m)?.[0]);
  });
});
