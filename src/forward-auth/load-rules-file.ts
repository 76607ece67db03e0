// Reading a rules file from disk, bounded: no more than 1 MiB (and one byte to know it is more)
// is ever read, whatever the file has become, since it is re-read whenever it changes.
import { open } from 'node:fs/promises';
import { maxRulesFileBytes, parseRulesFile, type RulesFileResult } from './rules-file.js';

export type LoadedRulesFile = RulesFileResult & { text?: string };

export async function loadRulesFile(path: string): Promise<LoadedRulesFile> {
  let text: string;
  try {
    text = await readAtMost(path, maxRulesFileBytes + 1);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    return { ok: false, errors: [{ line: 0, column: 0, reason: `cannot read the file (${code})` }] };
  }
  const result = parseRulesFile(text);
  return { ...result, text };
}

async function readAtMost(path: string, limitBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limitBytes);
    let filled = 0;
    while (filled < limitBytes) {
      const { bytesRead } = await handle.read(buffer, filled, limitBytes - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    await handle.close();
  }
}
