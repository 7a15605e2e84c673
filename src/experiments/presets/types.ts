/**
 * What a preset is (docs/math.md §5): one of the papers' figures at three scales, with the predictions it
 * checks. Running it yields prediction records (predicted next to measured, with the tolerance and
 * a verdict: agrees / disagrees / inconclusive / reported — decided in one place, verdictOf in
 * results.ts), tables, plots and a report in words. Verdicts are for readers; tests recompute
 * pass/fail from the measured values with thresholds of their own.
 *
 * This file is Node-safe (no GPU code): the CLI lists presets, plans their cells and shards before a
 * browser exists. How a preset runs on the GPU is src/experiments/presets/cellular.ts.
 */
import type { Figure } from '../../plots/spec';
import { verdictOf, type Verdict } from '../results';

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

/**
 * A preset's result. `Measurement` is the type of its raw measurements (each preset's own; plain
 * objects, so `Record<string, unknown>` is what code that handles any preset sees).
 */
export interface PresetReport<Measurement extends Record<string, unknown> = Record<string, unknown>> {
  schema: 'muonlab.preset-summary/2';
  preset: string;
  scale: Scale;
  createdAt: string;
  /** Sizes and settings actually run. */
  settings: Record<string, unknown>;
  predictions: PredictionRecord[];
  /** Raw measured values behind the predictions (for `merge` and re-fits). */
  measurements: Measurement[];
  /** Figures as Vega-Lite specs with their data inlined (rendered to SVG/PNG by the CLI, embedded live by the page). */
  plots: Figure[];
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
  /** Per scale: its sizes in words (from the settings), a measured run time, and its cell count. */
  scales: Record<Scale, { sizes: string; estimate: string; cells: number }>;
  /**
   * The smallest scale at which the preset's claims are meant to hold: at smaller scales every row
   * is inconclusive (a row's own `holdsFrom` overrides it). Absent: from `ci` on.
   */
  claimsHoldFrom?: Scale;
}

/** One independent piece of a preset's work at a scale (plain JSON). */
export interface PresetCell<Params extends Record<string, unknown> = Record<string, unknown>> {
  /** Stable id, unique within the scale: also the cell's folder name. */
  id: string;
  /** Estimated cost (FLOPs or any consistent unit): what `--shard` balances. */
  cost: number;
  /** What runCell needs to know about the cell (plain JSON: it is stored in preset.json). */
  params: Params;
}

/** A cell's raw result as stored (cells/<id>/result.json: JSON, see cellJson.ts). */
export interface PresetCellResult {
  cell: PresetCell;
  result: Record<string, unknown>;
  elapsedMs: number;
}

/**
 * What a preset is without its GPU code: its description, its settings per scale, the sizes those
 * settings make (in words), measured run times, and the cells a scale splits into. Everything the
 * catalog shows is derived from here, so sizes are written once — in the settings.
 *
 * @example
 * export const bBalanceOnestepPlan: PresetPlan<{ N: number; headCount: number }, { embedding: string }> = {
 *   name: 'b-balance-onestep', title: '…', paper: '…', predictions: ['…'],
 *   settings: { ci: { N: 300, headCount: 60 }, quick: { N: 600, headCount: 120 }, full: { N: 999, headCount: 201 } },
 *   describe: (s) => `N = d = ${s.N}, ${s.headCount} head items`,
 *   estimates: { ci: '≈ 20 s on SwiftShader', quick: '…', full: '…' },
 *   cells: (scale) => ['identity', 'coupled-rotation'].map((embedding) => ({ id: embedding, cost: 1, params: { embedding } })),
 * };
 */
export interface PresetPlan<Settings, Params extends Record<string, unknown>> {
  name: string;
  title: string;
  paper: string;
  predictions: string[];
  settings: Record<Scale, Settings>;
  /** The sizes a scale's settings make, in words (`muonlab presets`, the page's scale picker). */
  describe(settings: Settings): string;
  /** Measured wall-clock times (not derivable from the settings), per scale. */
  estimates: Record<Scale, string>;
  /** The scale's independent cells, in the order a single run visits them. */
  cells(scale: Scale): PresetCell<Params>[];
  /** The smallest scale at which the claims are meant to hold (PresetInfo.claimsHoldFrom). */
  claimsHoldFrom?: Scale;
}

/**
 * The catalog entry of a plan: sizes from its settings, cell counts from its cells.
 *
 * @example
 * presetInfo(bBalanceOnestepPlan).scales.ci; // { sizes: 'N = d = 300, 60 head items', estimate: '≈ 20 s …', cells: 2 }
 */
export function presetInfo(plan: PresetPlan<unknown, Record<string, unknown>>): PresetInfo {
  const scale = (s: Scale) => ({ sizes: plan.describe(plan.settings[s]), estimate: plan.estimates[s], cells: plan.cells(s).length });
  if (plan.claimsHoldFrom) claimsHoldFromByPreset.set(plan.name, plan.claimsHoldFrom);
  return {
    name: plan.name,
    title: plan.title,
    paper: plan.paper,
    predictions: plan.predictions,
    scales: { ci: scale('ci'), quick: scale('quick'), full: scale('full') },
    ...(plan.claimsHoldFrom ? { claimsHoldFrom: plan.claimsHoldFrom } : {}),
  };
}

/**
 * Each plan's claimsHoldFrom by preset name, registered by presetInfo (every preset's catalog entry
 * is made by it), so reportHead and presetReport apply it from the name alone — types.ts cannot
 * import the catalog, which imports it.
 */
const claimsHoldFromByPreset = new Map<string, Scale>();

/** The results in `cells` order; a clear error names the missing cells. */
export function resultsInOrder<R extends { cell: { id: string } }>(
  cells: readonly PresetCell[],
  results: readonly R[],
  preset: string,
): R[] {
  const byId = new Map(results.map((r) => [r.cell.id, r]));
  const missing = cells.filter((c) => !byId.has(c.id)).map((c) => c.id);
  if (missing.length)
    throw new RangeError(
      `${preset}: results of ${missing.length} cell(s) are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
    );
  return cells.map((c) => byId.get(c.id)!);
}

/** A markdown table from rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  // Five significant digits without trailing zeros: α = 0.5 prints as 0.5, not 0.50000.
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(5)))) : v);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
    '\n',
  );
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
  const apart = [
    c.inconclusive ? `${c.inconclusive} inconclusive (the data cannot decide: see why)` : '',
    c.reported ? `${c.reported} reported without a check` : '',
  ]
    .filter(Boolean)
    .join('; ');
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
export function reportHead(
  name: string,
  scale: Scale,
  intro: string | readonly string[],
  predictions: readonly PredictionRecord[],
): string[] {
  const paragraphs = typeof intro === 'string' ? [intro] : intro;
  predictions = withVerdicts(predictions, scale, claimsHoldFromByPreset.get(name));
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
export function presetReport<Measurement extends Record<string, unknown>>(
  fields: Omit<PresetReport<Measurement>, 'schema' | 'createdAt'>,
): PresetReport<Measurement> {
  return {
    schema: 'muonlab.preset-summary/2',
    preset: fields.preset,
    scale: fields.scale,
    createdAt: new Date().toISOString(),
    settings: fields.settings,
    predictions: withVerdicts(fields.predictions, fields.scale, claimsHoldFromByPreset.get(fields.preset)),
    measurements: fields.measurements,
    plots: fields.plots,
    markdown: fields.markdown,
    elapsedMs: fields.elapsedMs,
  };
}
