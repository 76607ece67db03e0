// CSV cells for files an operator opens in a spreadsheet: the import report and the admin user
// export. A cell is text the operator did not write (a username, an e-mail from a hostile source
// file), and a spreadsheet evaluates a cell starting with = + - @ (or a tab, CR or LF before one)
// as a formula: "=HYPERLINK(...)" would run on the operator's machine (OWASP "CSV injection").
// Such a cell gets a leading apostrophe, which spreadsheets show as text; then it is quoted when
// it holds a quote, comma or line break (RFC 4180).

export type CsvValue = string | number | boolean | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r\n]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line (CRLF-free: records end with \n, as every tool here writes them). */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\n`;
}
