/**
 * What a preset is (SPEC §5): one of the papers' figures at three scales, with the predictions it
 * checks. Running it yields prediction records (predicted next to measured, with the tolerance and
 * whether they agree), tables, plots and a report in words. `agrees` is for readers; tests
 * recompute pass/fail from the measured values with thresholds of their own.
 */
import type { Gpu } from '../../gpu/device';

export const SCALES = ['ci', 'quick', 'full'] as const;
export type Scale = (typeof SCALES)[number];

export interface PredictionRecord {
  name: string;
  /** The prediction as a formula or sentence. */
  formula: string;
  predicted: number | string;
  measured: number;
  /** Confidence interval of the measured value, when it is a fit. */
  ci?: [number, number] | null;
  tolerance: string;
  agrees: boolean;
}

export interface PresetReport {
  schema: 'muonlab.preset-summary/1';
  preset: string;
  scale: Scale;
  createdAt: string;
  /** Sizes and settings actually run. */
  settings: Record<string, unknown>;
  predictions: PredictionRecord[];
  /** Raw measured values behind the predictions (for `merge` and re-fits). */
  measurements: Record<string, unknown>[];
  plots: { name: string; svg: string }[];
  /** report.md body. */
  markdown: string;
  elapsedMs: number;
}

export interface PresetInfo {
  name: string;
  title: string;
  paper: string;
  /** The predictions checked, in words (for `muonlab presets`). */
  predictions: string[];
  scales: Record<Scale, { sizes: string; estimate: string }>;
}

export interface Preset extends PresetInfo {
  run(gpu: Gpu, scale: Scale, progress: (message: string) => void): Promise<PresetReport>;
}

/** A markdown table from rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : v);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function predictionsMarkdown(predictions: readonly PredictionRecord[]): string {
  return markdownTable(
    ['prediction', 'formula', 'predicted', 'measured', 'tolerance', 'agrees'],
    predictions.map((p) => [p.name, p.formula, typeof p.predicted === 'number' ? p.predicted : p.predicted, p.ci ? `${p.measured.toPrecision(4)} [${p.ci[0].toPrecision(3)}, ${p.ci[1].toPrecision(3)}]` : p.measured, p.tolerance, p.agrees ? 'yes' : '**NO**']),
  );
}

/** The report's verdict line: says plainly when predictions and measurements disagree. */
export function agreementSentence(predictions: readonly PredictionRecord[]): string {
  const disagree = predictions.filter((p) => !p.agrees).length;
  return disagree === 0
    ? 'Every prediction agrees with the measurement.'
    : `**${disagree} prediction(s) disagree with the measurement** (rows marked NO).`;
}
