// RFC 4180 CSV records from a stream, as objects keyed by the header row. A quoted field may hold
// newlines, so a record can span lines; it is still capped at maxRecordBytes in all.
import type { Readable } from 'node:stream';
import { maxRecordBytes, readBoundedLines } from './bounded-lines.js';
import { toSourceRecord, type ImportCandidate, type SourceRecord } from './import-record.js';

export type CsvRecord = { lineNumber: number; fields: Record<string, string> } | { lineNumber: number; problem: 'too_large' | 'malformed'; detail: string };

export async function* readCsvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  let header: string[] | undefined;
  // The lines of the record being read, while a quoted field is open (an odd number of quotes so far).
  let pending: string[] = [];
  let pendingBytes = 0;
  let pendingStart = 0;
  let quoteOpen = false;
  /** The record grew past the cap: its lines are only scanned for the closing quote, not kept. */
  let skipping = false;
  for await (const line of readBoundedLines(input)) {
    if ('tooLarge' in line) {
      // A line past the cap cannot be scanned for quotes: the record it belongs to ends here.
      pending = [];
      pendingBytes = 0;
      quoteOpen = false;
      if (!skipping) yield { lineNumber: line.lineNumber, problem: 'too_large', detail: `the line is longer than ${maxRecordBytes} bytes` };
      skipping = false;
      continue;
    }
    if (!quoteOpen) pendingStart = line.lineNumber;
    if (countQuotes(line.text) % 2 === 1) quoteOpen = !quoteOpen;
    if (skipping) {
      if (!quoteOpen) skipping = false;
      continue;
    }
    pendingBytes += Buffer.byteLength(line.text) + 1;
    if (pendingBytes > maxRecordBytes) {
      pending = [];
      pendingBytes = 0;
      skipping = quoteOpen;
      yield { lineNumber: pendingStart, problem: 'too_large', detail: `the record is longer than ${maxRecordBytes} bytes` };
      continue;
    }
    pending.push(line.text);
    if (quoteOpen) continue;
    const text = pending.join('\n');
    pending = [];
    pendingBytes = 0;
    const parsed = parseCsvLine(text);
    if (parsed === undefined || parsed === 'open') {
      yield { lineNumber: pendingStart, problem: 'malformed', detail: 'the line is not valid CSV' };
      continue;
    }
    if (header === undefined) {
      // A spreadsheet's UTF-8 byte-order mark would otherwise become part of the first column's name.
      header = parsed.map((name, index) => (index === 0 ? name.replace(/^\uFEFF/, '') : name).trim().toLowerCase());
      continue;
    }
    if (parsed.length === 1 && parsed[0] === '') continue; // a blank line
    if (parsed.length !== header.length) {
      yield { lineNumber: pendingStart, problem: 'malformed', detail: `the line has ${parsed.length} fields, the header ${header.length}` };
      continue;
    }
    yield { lineNumber: pendingStart, fields: Object.fromEntries(header.map((name, index) => [name, parsed[index]!])) };
  }
  if (quoteOpen && !skipping) yield { lineNumber: pendingStart, problem: 'malformed', detail: 'a quoted field is never closed' };
}

function countQuotes(text: string): number {
  let count = 0;
  for (let index = text.indexOf('"'); index !== -1; index = text.indexOf('"', index + 1)) count += 1;
  return count;
}

/** The fields of one record; 'open' when a quoted field continues on the next line; undefined when malformed. */
export function parseCsvLine(text: string): string[] | 'open' | undefined {
  const fields: string[] = [];
  let field = '';
  let index = 0;
  let quoted = false;
  let fieldStart = true;
  while (index < text.length) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          field += '"';
          index += 2;
          continue;
        }
        quoted = false;
        index += 1;
        if (index < text.length && text[index] !== ',') return undefined;
        continue;
      }
      field += char;
      index += 1;
      continue;
    }
    if (char === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
      index += 1;
      continue;
    }
    if (char === ',') {
      fields.push(field);
      field = '';
      fieldStart = true;
      index += 1;
      continue;
    }
    if (char === '"') return undefined;
    field += char;
    fieldStart = false;
    index += 1;
  }
  if (quoted) return 'open';
  fields.push(field);
  return fields;
}

/** The people of a CSV export keyed by its `id` column: each row made a candidate by `toCandidate`, each unreadable row a skip. */
export async function* csvSourceRecords(input: Readable, toCandidate: (row: Record<string, string>) => ImportCandidate): AsyncGenerator<SourceRecord> {
  for await (const record of readCsvRecords(input)) {
    if ('problem' in record) {
      yield { kind: 'skip', position: record.lineNumber, sourceId: null, reason: record.problem === 'too_large' ? 'record_too_large' : 'malformed_record', detail: record.detail };
      continue;
    }
    const row = record.fields;
    yield toSourceRecord(record.lineNumber, row['id'] ?? null, () => toCandidate(row));
  }
}
