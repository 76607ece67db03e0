// Writes the results into docs/benchmarks.md (between its generated-results markers, keeping the
// hand-written analysis around them) and draws docs/benchmarks.svg: one bar per figure with a
// target, its length the progress toward the target (the line at 1× is the target).
import { readFileSync, writeFileSync } from 'node:fs';
import { formatNumber, meetsTarget, progressTowardTarget, type BenchResult } from './result.js';

const startMarker = '<!-- generated results: start (npm run bench rewrites this part) -->';
const endMarker = '<!-- generated results: end -->';

/** A table cell: a `|` inside (as in |AUC − 0.5|) would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

export function resultsTable(results: BenchResult[], context: string): string {
  const rows = results.map((result) => {
    const baseline = result.baseline === null ? '—' : `${result.baseline} (${formatNumber(result.baseline_value ?? Number.NaN)})`;
    const ratio = result.ratio === null ? '—' : `${result.ratio.toFixed(2)}×`;
    const target = result.target === null ? '—' : `${result.better === 'higher' ? '≥' : '≤'} ${result.target}`;
    const met = meetsTarget(result);
    return `| ${result.name} | ${cell(`${formatNumber(result.value)} ${result.unit}`)} | ${cell(baseline)} | ${ratio} | ${target} | ${met === undefined ? '' : met ? '✅' : '❌'} |`;
  });
  return [context, '', '| benchmark | value | baseline | ratio | target | met |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function targetChart(results: BenchResult[]): string {
  const charted = results.filter((result) => progressTowardTarget(result) !== undefined);
  const rowHeight = 26;
  // Wide enough for the longest name at 13 px (about 7.3 px per character).
  const labelWidth = Math.max(160, Math.ceil(Math.max(...charted.map((result) => result.name.length)) * 7.3) + 16);
  const barWidth = 420;
  const scaleMax = 2; // bars are capped at twice the target
  const width = labelWidth + barWidth + 90;
  const height = 40 + charted.length * rowHeight + 30;
  const x = (progress: number) => labelWidth + (Math.min(progress, scaleMax) / scaleMax) * barWidth;
  const bars = charted.map((result, index) => {
    const progress = progressTowardTarget(result) ?? 0;
    const y = 40 + index * rowHeight;
    const met = meetsTarget(result) === true;
    const shown = Number.isFinite(progress) ? `${progress.toFixed(2)}×` : '∞';
    return [
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escapeXml(result.name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${(x(progress) - labelWidth).toFixed(1)}" height="16" fill="${met ? '#2f9e44' : '#e03131'}" rx="2"/>`,
      `<text x="${(x(progress) + 6).toFixed(1)}" y="${y + 16}">${shown}${progress > scaleMax ? ' ›' : ''}</text>`,
    ].join('');
  });
  const targetX = x(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-weight="bold">Each figure against its target: 1× = exactly on target, longer is better (green: met)</text>`,
    ...bars,
    `<line x1="${targetX}" y1="32" x2="${targetX}" y2="${height - 24}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${targetX}" y="${height - 8}" text-anchor="middle">target</text>`,
    '</svg>',
  ].join('\n');
}

export function writeReport(results: BenchResult[], context: string, paths = { markdown: 'docs/benchmarks.md', chart: 'docs/benchmarks.svg' }): void {
  writeFileSync(paths.chart, `${targetChart(results)}\n`);
  let document: string;
  try {
    document = readFileSync(paths.markdown, 'utf8');
  } catch {
    document = `# Benchmarks\n\n${startMarker}\n${endMarker}\n`;
  }
  const start = document.indexOf(startMarker);
  const end = document.indexOf(endMarker);
  if (start === -1 || end === -1) throw new Error(`${paths.markdown} lacks the generated-results markers`);
  const generated = `${startMarker}\n\n![Each figure against its target](benchmarks.svg)\n\n${resultsTable(results, context)}\n\n${endMarker}`;
  writeFileSync(paths.markdown, `${document.slice(0, start)}${generated}${document.slice(end + endMarker.length)}`);
}
