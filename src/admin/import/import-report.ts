// The import report: one entry per record read, as JSON lines (default) or CSV (a report file
// named *.csv), written as the import goes so a million-user run never holds its report.
// CSV cells are neutralized against formula injection (AD-24): a cell starting with = + - @, a
// tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text instead
// of evaluating a username like "=HYPERLINK(...)" from a hostile source file.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ImportReportEntry } from './import-users.js';

export interface ImportReportWriter {
  write(entry: ImportReportEntry): Promise<void>;
  close(): Promise<void>;
}

const csvColumns = ['position', 'source_id', 'status', 'reason', 'detail', 'user_id', 'username', 'totp_factors'] as const;

export function openImportReport(path: string): ImportReportWriter {
  const csv = path.toLowerCase().endsWith('.csv');
  const stream = createWriteStream(path, { flags: 'w', mode: 0o600 });
  let opened = false;
  const put = async (text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  return {
    async write(entry) {
      if (csv && !opened) await put(`${csvColumns.join(',')}\n`);
      opened = true;
      await put(csv ? `${csvColumns.map((column) => csvCell(entry[column])).join(',')}\n` : `${JSON.stringify(entry)}\n`);
    },
    async close() {
      if (csv && !opened) await put(`${csvColumns.join(',')}\n`);
      await closeStream(stream);
    },
  };
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** One CSV cell: neutralized, then quoted when it holds a quote, comma or line break. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
