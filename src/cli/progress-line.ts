// One line of progress on a terminal, redrawn at most a few times a second (a redraw per record
// would cost more than the record). Off when stderr is not a terminal: a log file gets no
// carriage returns, only the summary at the end.
export interface ProgressLine {
  update(state: { done: number; total: number; unit: 'bytes' | 'users'; records: number }): void;
  done(): void;
}

const redrawIntervalMs = 200;
const barWidth = 30;

export function createProgressLine(options: { enabled: boolean; stream: NodeJS.WriteStream }): ProgressLine {
  if (!options.enabled) return { update() {}, done() {} };
  let lastDrawAt = 0;
  let drawn = false;
  const startedAt = Date.now();
  return {
    update({ done, total, records }) {
      const now = Date.now();
      if (now - lastDrawAt < redrawIntervalMs) return;
      lastDrawAt = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * barWidth);
      const perSecond = Math.round(records / Math.max(0.001, (now - startedAt) / 1000));
      options.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(fraction * 100).toFixed(1)}%  ${records} users  ${perSecond}/s `);
      drawn = true;
    },
    done() {
      if (drawn) options.stream.write('\n');
      drawn = false;
    },
  };
}
