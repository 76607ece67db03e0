// How commands print: a table for people, JSON with --json for scripts, lines of text. Everything
// a command prints goes through here, because much of it was typed by someone else — a factor's
// label, a user agent, an address, an event's details — and an operator's terminal obeys escape
// sequences: ESC or CSI could clear the screen, rewrite earlier lines, retitle the window or hide
// text, and a bidi override could reverse what is shown. So control characters (C0, DEL, C1), bidi
// overrides and isolates and line separators are written as visible escapes ("\x1b", "\u202e") in
// tables and text, and as \uXXXX in JSON (JSON.stringify escapes C0 only; the JSON still parses to
// the very same values, so scripts lose nothing).
import pc from 'picocolors';
import { escapeUnsafeCharacters, escapeUnsafeCharactersInJson } from '../core/text/unsafe-characters.js';

/** A value to put inside a line a command styles itself (colours are added after escaping). */
export const terminalText = (value: unknown): string => escapeUnsafeCharacters(String(value));

export function printJson(value: unknown): void {
  process.stdout.write(`${escapeUnsafeCharactersInJson(JSON.stringify(value, null, 2))}\n`);
}

/** Plain lines; each is escaped whole (a line break inside a value cannot start a line of its own). */
export function printLines(...lines: string[]): void {
  process.stdout.write(lines.map((line) => `${terminalText(line)}\n`).join(''));
}

export function printError(...lines: string[]): void {
  process.stderr.write(lines.map((line) => `${terminalText(line)}\n`).join(''));
}

export function printTable(rows: Array<Record<string, string | number | boolean | null>>): void {
  if (rows.length === 0) {
    process.stdout.write(`${pc.dim('(none)')}\n`);
    return;
  }
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((column) => terminalText(row[column] ?? '-')));
  const headings = columns.map(terminalText);
  const widths = headings.map((heading, index) => Math.max(heading.length, ...cells.map((row) => row[index]?.length ?? 0)));
  const line = (values: string[]) => values.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${pc.bold(line(headings))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}
