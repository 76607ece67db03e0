// The import report: one entry per record read, as JSON lines (default) or CSV (a report file
// named *.csv), written as the import goes so a million-user run never holds its report.
// CSV cells are neutralized against formula injection (AD-24, core/text/csv-cell.ts).
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ImportReportEntry } from './import-users.js';
import { csvLine } from '../../core/text/csv-cell.js';

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
      await put(csv ? csvLine(csvColumns.map((column) => entry[column])) : `${JSON.stringify(entry)}\n`);
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
