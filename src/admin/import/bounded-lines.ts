// Lines of a file, read as a stream in bounded memory: a line longer than the cap is not kept
// (its bytes are counted and dropped until the next newline) and comes out as `tooLarge`, so one
// crafted line of a gigabyte costs the importer no more memory than a normal one.
import type { Readable } from 'node:stream';

/** The longest record any source may have (AD-03). */
export const maxRecordBytes = 64 * 1024;

export type BoundedLine = { lineNumber: number; text: string } | { lineNumber: number; tooLarge: true };

export async function* readBoundedLines(input: Readable, maxBytes = maxRecordBytes): AsyncGenerator<BoundedLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLarge = false;
  let lineNumber = 0;
  const finish = (): BoundedLine => {
    lineNumber += 1;
    const line: BoundedLine = tooLarge ? { lineNumber, tooLarge: true } : { lineNumber, text: Buffer.concat(parts, length).toString('utf8').replace(/\r$/, '') };
    parts = [];
    length = 0;
    tooLarge = false;
    return line;
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      keep(chunk.subarray(start, newline));
      yield finish();
      start = newline + 1;
    }
    keep(chunk.subarray(start));
  }
  if (length > 0 || tooLarge) yield finish();

  function keep(piece: Buffer): void {
    if (tooLarge || piece.length === 0) return;
    if (length + piece.length > maxBytes) {
      tooLarge = true;
      parts = [];
      length = 0;
      return;
    }
    parts.push(Buffer.from(piece));
    length += piece.length;
  }
}
