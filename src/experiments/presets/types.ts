/**
 * What a preset is (docs/math.md §5): one of the papers' figures at three scales, with the predictions it
 * checks. Running it yields prediction records (predicted next to measured, with the tolerance and
 * a verdict: agrees / disagrees / inconclusive / reported — decided in one place, verdictOf in
 * results.ts), tables, plots and a report in words. Verdicts are for readers; tests recompute
 * pass/fail from the measured values with thresholds of their own.
 */
import type { Gpu } from '../../gpu/device';
import { verdictOf, type Verdict } from '../results';
import { PRESET_CATALOG } from './catalog';

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
  /** The preset's comparison; in a finished report, verdict === 'agrees'. */
  agrees: boolean;
  /** A figure stated without a check (never counted as agreement). */
  reported?: boolean;
  /** The smallest scale at which this claim is meant to hold (below it the row is inconclusive). */
  holdsFrom?: Scale;
  /** Filled in by presetReport / reportHead (withVerdicts). */
  verdict?: Verdict;
  /** Why the verdict is not the preset's own comparison (inconclusive, reported). */
  why?: string;
}

export interface PresetReport {
  schema: 'muonlab.preset-summary/2';
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
  /**
   * The smallest scale at which the preset's claims are meant to hold: at smaller scales every row
   * is inconclusive (a row's own `holdsFrom` overrides it). Absent: from `ci` on.
   */
  claimsHoldFrom?: Scale;
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

/**
 * The predictions with their verdicts (verdictOf), `agrees` set to verdict === 'agrees'. Rows may
 * state `holdsFrom`; `claimsHoldFrom` is the preset's default. Idempotent.
 *
 * @example
 * withVerdicts(predictions, 'quick').filter((p) => p.verdict === 'disagrees');
 */
export function withVerdicts(predictions: readonly PredictionRecord[], scale: Scale, claimsHoldFrom?: Scale): PredictionRecord[] {
  return predictions.map((p) => {
    const holdsFrom = p.holdsFrom ?? claimsHoldFrom;
    const { verdict, why } = verdictOf({ ...p, holdsFrom }, scale);
    const out: PredictionRecord = { ...p, agrees: verdict === 'agrees', verdict };
    if (holdsFrom) out.holdsFrom = holdsFrom;
    if (why) out.why = why;
    else delete out.why;
    return out;
  });
}

/** The verdict as a report shows it: disagreements in bold. */
export function verdictLabel(verdict: Verdict | undefined): string {
  return verdict === 'disagrees' ? '**disagrees**' : (verdict ?? 'disagrees');
}

export function predictionsMarkdown(predictions: readonly PredictionRecord[]): string {
  return markdownTable(
    ['prediction', 'formula', 'predicted', 'measured', 'tolerance', 'verdict'],
    predictions.map((p) => [
      p.name,
      p.formula,
      typeof p.predicted === 'number' ? p.predicted : p.predicted,
      p.ci ? `${p.measured.toPrecision(4)} [${p.ci[0].toPrecision(3)}, ${p.ci[1].toPrecision(3)}]` : p.measured,
      p.tolerance,
      `${verdictLabel(p.verdict)}${p.why && p.verdict !== 'reported' ? ` (${p.why})` : ''}`,
    ]),
  );
}

/** Counts of each verdict. */
export function verdictCounts(predictions: readonly PredictionRecord[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { agrees: 0, disagrees: 0, inconclusive: 0, reported: 0 };
  for (const p of predictions) counts[p.verdict ?? (p.agrees ? 'agrees' : 'disagrees')]++;
  return counts;
}

/**
 * The report's verdict line: disagreements are said plainly; inconclusive and reported rows are
 * counted apart and never as agreement.
 */
export function agreementSentence(predictions: readonly PredictionRecord[]): string {
  const c = verdictCounts(predictions);
  const apart = [c.inconclusive ? `${c.inconclusive} inconclusive (the data cannot decide: see why)` : '', c.reported ? `${c.reported} reported without a check` : ''].filter(Boolean).join('; ');
  const head =
    c.disagrees > 0
      ? `**${c.disagrees} prediction(s) disagree with the measurement** (rows marked disagrees); ${c.agrees} agree.`
      : c.agrees === predictions.length
        ? 'Every prediction agrees with the measurement.'
        : `No prediction disagrees with the measurement; ${c.agrees} agree.`;
  return apart ? `${head} Apart: ${apart}.` : head;
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
  predictions = withVerdicts(predictions, scale, claimsHoldFromOf(name));
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

function claimsHoldFromOf(preset: string): Scale | undefined {
  return (PRESET_CATALOG as Record<string, PresetInfo | undefined>)[preset]?.claimsHoldFrom;
}

/**
 * A PresetReport with `schema` filled in and `createdAt` stamped now; the caller gives the rest.
 *
 * @example
 * return presetReport({ preset: this.name, scale, settings: s, predictions, measurements, plots, markdown, elapsedMs: performance.now() - started });
 */
export function presetReport(fields: Omit<PresetReport, 'schema' | 'createdAt'>): PresetReport {
  return {
    schema: 'muonlab.preset-summary/2',
    preset: fields.preset,
    scale: fields.scale,
    createdAt: new Date().toISOString(),
    settings: fields.settings,
    predictions: withVerdicts(fields.predictions, fields.scale, claimsHoldFromOf(fields.preset)),
    measurements: fields.measurements,
    plots: fields.plots,
    markdown: fields.markdown,
    elapsedMs: fields.elapsedMs,
  };
}
