// `twofold forward-auth check FILE`: check a forward-auth rules file before putting it in place
// (in CI, or before a reload), with the same reader the server uses, so what passes here is what
// the server takes. Mistakes are printed the way compilers print them — FILE:line:column: reason
// — so editors and CI annotate the line.
import { loadRulesFile } from '../../forward-auth/load-rules-file.js';
import { printError, printLines } from '../output.js';

export async function checkRulesFileCommand(file: string): Promise<void> {
  const result = await loadRulesFile(file);
  if (result.ok) {
    // One fixed shape, `OK: N rules`, for scripts to match.
    printLines(`OK: ${result.ruleSet.rules.length} rules`);
    return;
  }
  // Line 0: the file could not be read at all.
  printError(...result.errors.map((error) => (error.line === 0 ? `${file}: ${error.reason}` : `${file}:${error.line}:${error.column}: ${error.reason}`)));
  process.exitCode = 1;
}
