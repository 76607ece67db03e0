// The elements of one JSON array in a stream, each handed out as its own text, so a file of a
// million users is never held (or parsed) whole. The array is either the document itself
// (`[ {...}, {...} ]`) or a property of the top-level object (`{"realm": "x", "users": [ ... ]}`,
// Keycloak's realm export). Only the nesting is tracked (strings and escapes, brackets); each
// element is parsed by JSON.parse, which decides its validity. An element longer than the cap is
// dropped while it streams past and comes out as `tooLarge`.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { maxRecordBytes } from './bounded-lines.js';

export type JsonElement = { index: number; text: string } | { index: number; tooLarge: true };

export class JsonShapeError extends Error {}

export async function* readJsonArrayElements(input: Readable, property: string | null, maxChars = maxRecordBytes): AsyncGenerator<JsonElement> {
  const decoder = new StringDecoder('utf8');
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Depth inside the target array; 0 until it opens, -1 after it closed. */
  let arrayDepth = 0;
  let lastKey = '';
  let keyText: string | null = null;
  let currentKey = '';
  let element: string[] | null = null;
  let elementLength = 0;
  let elementTooLarge = false;
  let elementIsPrimitive = false;
  let index = 0;
  let sawRoot = false;

  const process = function* (text: string): Generator<JsonElement> {
    let captureFrom = element === null ? -1 : 0;
    const capture = (end: number) => {
      if (element === null || captureFrom < 0) return;
      const piece = text.slice(captureFrom, end);
      captureFrom = -1;
      if (elementTooLarge) return;
      elementLength += piece.length;
      if (elementLength > maxChars) {
        elementTooLarge = true;
        element = [];
        return;
      }
      element.push(piece);
    };
    const endElement = function* (end: number): Generator<JsonElement> {
      capture(end);
      const done: JsonElement = elementTooLarge ? { index, tooLarge: true } : { index, text: element!.join('') };
      index += 1;
      element = null;
      elementLength = 0;
      elementTooLarge = false;
      elementIsPrimitive = false;
      yield done;
    };
    for (let i = 0; i < text.length; i += 1) {
      const char = text[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') {
          inString = false;
          if (keyText !== null) {
            lastKey = keyText;
            keyText = null;
          }
        } else if (keyText !== null && keyText.length < 256) keyText += char;
        continue;
      }
      if (char === ' ' || char === '\n' || char === '\r' || char === '\t') continue;
      if (!sawRoot) {
        sawRoot = true;
        if (property === null && char !== '[') throw new JsonShapeError('the file is not a JSON array');
        if (property !== null && char !== '{') throw new JsonShapeError('the file is not a JSON object');
      }
      // At the target array's own level, between elements.
      if (arrayDepth > 0 && depth === arrayDepth && element === null) {
        if (char === ',') continue;
        if (char === ']') {
          depth -= 1;
          arrayDepth = -1;
          continue;
        }
        element = [];
        captureFrom = i;
        elementIsPrimitive = char !== '{' && char !== '[';
      } else if (element !== null && elementIsPrimitive && depth === arrayDepth && (char === ',' || char === ']')) {
        yield* endElement(i);
        if (char === ']') {
          depth -= 1;
          arrayDepth = -1;
        }
        continue;
      }
      if (char === '"') {
        inString = true;
        if (property !== null && depth === 1 && element === null) keyText = '';
        continue;
      }
      if (char === ':' && depth === 1) currentKey = lastKey;
      if (char === '{' || char === '[') {
        depth += 1;
        if (arrayDepth === 0 && char === '[' && ((property === null && depth === 1) || (property !== null && depth === 2 && currentKey === property))) arrayDepth = depth;
      } else if (char === '}' || char === ']') {
        depth -= 1;
        if (element !== null && !elementIsPrimitive && depth === arrayDepth) yield* endElement(i + 1);
        if (depth < 0) throw new JsonShapeError('unbalanced brackets');
      } else if (char === ',' && depth === 1) currentKey = '';
    }
    capture(text.length);
  };

  for await (const chunk of input as AsyncIterable<Buffer>) yield* process(decoder.write(chunk));
  yield* process(decoder.end());
  if (element !== null || depth !== 0 || inString) throw new JsonShapeError('the JSON ends in the middle of a value');
  if (arrayDepth === 0) throw new JsonShapeError(property === null ? 'the file holds no array' : `the file has no "${property}" array`);
}
