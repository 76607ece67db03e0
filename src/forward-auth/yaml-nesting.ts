// A rules file nests four levels deep (the file, its rule list, a rule, a list of hosts). The
// YAML parser, given a file nested thousands of levels deep — 400,000 "[" take it seconds and
// half a gigabyte, a full mebibyte more — could stall or crash the server at a reload, so such
// a file is refused before it is parsed, by one pass that follows quotes and comments well
// enough to count flow brackets ([ and {) and block nesting (indentation and "- " markers),
// and refuses a flood of stray closing brackets (each one an error for the parser to build).

export const maxFlowDepth = 16;
export const maxBlockIndent = 64;
/** "]" and "}" closing nothing: each costs the parser an error object (a million took it 15 s). */
export const maxStrayClosers = 100;

export interface NestingProblem {
  line: number;
  column: number;
  reason: string;
}

export function findExcessiveNesting(text: string): NestingProblem | undefined {
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let quote: string | undefined;
  let strayClosers = 0;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (character === '\n') {
      line += 1;
      lineStart = i + 1;
      continue;
    }
    if (quote !== undefined) {
      if (quote === '"' && character === '\\') i += 1;
      else if (character === quote) {
        if (quote === "'" && text[i + 1] === "'") i += 1;
        else quote = undefined;
      }
      continue;
    }
    if (i === lineStart) {
      let content = i;
      while (text[content] === ' ' || (text[content] === '-' && (text[content + 1] === ' ' || text[content + 1] === '\n'))) content++;
      if (content - i > maxBlockIndent) return { line, column: 1, reason: `nested too deeply for a rules file (content starts past column ${maxBlockIndent})` };
    }
    const previous = i === lineStart ? ' ' : text[i - 1];
    if (character === '#' && (previous === ' ' || previous === '\t')) {
      const end = text.indexOf('\n', i);
      i = (end === -1 ? text.length : end) - 1;
    } else if ((character === '"' || character === "'") && (previous === ' ' || previous === '\t' || previous === '[' || previous === '{' || previous === ',' || previous === ':')) {
      // A quote opens a quoted scalar only where a scalar can start ("don't" is plain text).
      quote = character;
    } else if (character === '[' || character === '{') {
      depth += 1;
      if (depth > maxFlowDepth) return { line, column: i - lineStart + 1, reason: `nested too deeply for a rules file (more than ${maxFlowDepth} levels of [ or {)` };
    } else if (character === ']' || character === '}') {
      if (depth > 0) depth -= 1;
      else if (++strayClosers > maxStrayClosers) return { line, column: i - lineStart + 1, reason: `more than ${maxStrayClosers} "]" or "}" closing nothing` };
    }
  }
  return undefined;
}
