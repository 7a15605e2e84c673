/**
 * What a preset is (docs/math.md §5): one of the papers' figures at three scales, with the predictions it
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
  /** Optional: the preset as independent cells, for `--shard i/n`, `--resume` and `merge`. */
  cellular?: CellularPreset;
}

/** One independent piece of a preset's work at a scale (plain JSON). */
export interface PresetCell {
  /** Stable id, unique within the scale: also the cell's folder name. */
  id: string;
  /** Estimated cost (FLOPs or any consistent unit): what `--shard` balances. */
  cost: number;
  /** What runCell needs to know about the cell. */
  params: Record<string, unknown>;
}

/** A cell's raw result (plain JSON), from which `summarize` recomputes every figure. */
export interface PresetCellResult {
  cell: PresetCell;
  result: Record<string, unknown>;
  elapsedMs: number;
}

/**
 * The hook that makes a preset shardable and resumable: `run()` must equal
 * `summarize(scale, cells(scale).map(runCell))`, so a merge of shards reproduces a single run.
 */
export interface CellularPreset {
  cells(scale: Scale): PresetCell[];
  runCell(gpu: Gpu, scale: Scale, cell: PresetCell, progress: (message: string) => void): Promise<Record<string, unknown>>;
  /** The report from every cell's raw result (in cells() order); throws if one is missing. */
  summarize(scale: Scale, results: readonly PresetCellResult[]): PresetReport;
}

/** Runs every cell in order and summarizes: the `run()` of a cellular preset. */
export async function runAllCells(preset: CellularPreset, gpu: Gpu, scale: Scale, progress: (message: string) => void): Promise<PresetReport> {
  const results: PresetCellResult[] = [];
  for (const cell of preset.cells(scale)) {
    const started = performance.now();
    const result = await preset.runCell(gpu, scale, cell, progress);
    results.push({ cell, result, elapsedMs: performance.now() - started });
  }
  return preset.summarize(scale, results);
}

/** The results in `cells` order; a clear error names the missing cells. */
export function resultsInOrder(cells: readonly PresetCell[], results: readonly PresetCellResult[], preset: string): PresetCellResult[] {
  const byId = new Map(results.map((r) => [r.cell.id, r]));
  const missing = cells.filter((c) => !byId.has(c.id)).map((c) => c.id);
  if (missing.length) throw new RangeError(`${preset}: results of ${missing.length} cell(s) are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  return cells.map((c) => byId.get(c.id)!);
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

/**
 * The opening lines of every preset's report.md: title, intro paragraph(s), the predictions table
 * and the verdict line, each followed by a blank line. Several intro paragraphs are separated by
 * blank lines. Spread it into the markdown lines and `.join('\n')` as usual.
 *
 * @example
 * const markdown = [...reportHead('b-isotropy', scale, `${this.paper}. …`, predictions), '## Per group', ''].join('\n');
 * // '# b-isotropy (ci)\n\n[C]. …\n\n## Predictions\n\n| prediction | … |\n\nEvery prediction agrees with the measurement.\n\n## Per group\n'
 */
export function reportHead(name: string, scale: Scale, intro: string | readonly string[], predictions: readonly PredictionRecord[]): string[] {
  const paragraphs = typeof intro === 'string' ? [intro] : intro;
  return [
    `# ${name} (${scale})`,
    '',
    ...paragraphs.flatMap((p) => [p, '']),
    '## Predictions',
    '',
    predictionsMarkdown(predictions),
    '',
    agreementSentence(predictions),
    '',
  ];
}

/**
 * A PresetReport with `schema` filled in and `createdAt` stamped now; the caller gives the rest.
 *
 * @example
 * return presetReport({ preset: this.name, scale, settings: s, predictions, measurements, plots, markdown, elapsedMs: performance.now() - started });
 */
export function presetReport(fields: Omit<PresetReport, 'schema' | 'createdAt'>): PresetReport {
  return {
    schema: 'muonlab.preset-summary/1',
    preset: fields.preset,
    scale: fields.scale,
    createdAt: new Date().toISOString(),
    settings: fields.settings,
    predictions: fields.predictions,
    measurements: fields.measurements,
    plots: fields.plots,
    markdown: fields.markdown,
    elapsedMs: fields.elapsedMs,
  };
}
