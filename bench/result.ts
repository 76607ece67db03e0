// One benchmark figure as bench/results/latest.json records it. A figure with a ratio is judged
// by its ratio against the baseline measured in the same run; one without, by its value.

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baseline_value: number | null;
  ratio: number | null;
  target: number | null;
  better: 'higher' | 'lower';
}

/** The number the target applies to. */
export function judgedFigure(result: BenchResult): number {
  return result.ratio ?? result.value;
}

export function meetsTarget(result: BenchResult): boolean | undefined {
  if (result.target === null) return undefined;
  const figure = judgedFigure(result);
  return result.better === 'higher' ? figure >= result.target : figure <= result.target;
}

/** How far toward its target a figure is: 1 = exactly on target, above 1 = better than the target. */
export function progressTowardTarget(result: BenchResult): number | undefined {
  if (result.target === null) return undefined;
  const figure = judgedFigure(result);
  if (result.better === 'higher') return figure / result.target;
  return figure === 0 ? Number.POSITIVE_INFINITY : result.target / figure;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(Math.abs(value) < 10 ? 3 : 1);
}
