/**
 * Report pieces shared by the four transformer presets (issue 13), Node-safe: prediction records of
 * comparisons over seeds, and the plain-words paragraph on which of [B]'s findings a scale
 * reproduced.
 *
 * A comparison "A < B" over paired seeds is recorded as the mean paired difference with its 95 % t
 * interval, a tolerance band ±δ (the smallest difference the claim is about at this size), and
 * `agrees` = the whole interval lies on the predicted side of 0 (or of a threshold). The verdict is
 * verdictOf's (src/experiments/results.ts, applied by presetReport/reportHead):
 *
 * - inconclusive when the run is below the scale the claim is meant for (the plans'
 *   `claimsHoldFrom: 'quick'`), or when the interval is wider than the band (2δ): the seeds cannot
 *   decide at that resolution;
 * - otherwise agrees when the interval lies on the predicted side, disagrees when it does not (the
 *   difference is within the band of 0 or of the other sign).
 */
import { pairedDifference, seedSummary, type SeedSummary } from '../../metrics/seedStats';
import type { Figure } from '../../plots/spec';
import { presetReport, withVerdicts, type PredictionRecord, type PresetReport, type Scale } from './types';

/** Which side of 0 a difference is predicted on. */
export type Side = 'negative' | 'positive';

/**
 * A paired comparison over seeds as a prediction record.
 *
 * @example
 * compareOverSeeds({ name: 'tail FTA Muon − AdamW (α = 1)', formula: 'FTA_tail(Muon) − FTA_tail(AdamW)', a: [0.5, 0.6, 0.55], b: [0.4, 0.5, 0.45], side: 'positive', band: 0.05 });
 */
export function compareOverSeeds(c: {
  name: string;
  formula: string;
  a: readonly number[];
  b: readonly number[];
  side: Side;
  band: number;
}): PredictionRecord {
  const d = pairedDifference(c.a, c.b);
  return intervalClaim({ name: c.name, formula: c.formula, summary: d, side: c.side, band: c.band });
}

/** A value with its seed interval, claimed to lie on one side of 0 (or of `threshold`). */
export function intervalClaim(c: {
  name: string;
  formula: string;
  summary: SeedSummary;
  side: Side;
  band: number;
  threshold?: number;
}): PredictionRecord {
  const t = c.threshold ?? 0;
  const [lo, hi] = c.summary.ci;
  const decided = Number.isFinite(lo) && Number.isFinite(hi);
  const agrees = c.side === 'positive' ? (decided ? lo > t : c.summary.mean > t) : decided ? hi < t : c.summary.mean < t;
  const record: PredictionRecord = {
    name: c.name,
    formula: c.formula,
    predicted: c.side === 'positive' ? `> ${t}` : `< ${t}`,
    measured: c.summary.mean,
    ci: decided ? [lo, hi] : null,
    tolerance: `±${c.band}`,
    agrees,
  };
  return record;
}

/** A figure stated without a check (MaxLogit, chance levels, what the control learned). */
export function reportedFigure(name: string, formula: string, values: readonly number[]): PredictionRecord {
  const s = seedSummary(values);
  return {
    name,
    formula,
    predicted: 'reported',
    measured: s.mean,
    ci: Number.isFinite(s.ci[0]) ? s.ci : null,
    tolerance: 'reported',
    agrees: true,
    reported: true,
  };
}

/**
 * The paragraph that says plainly which of [B]'s findings this scale reproduced (reported figures
 * are not findings and are left out).
 *
 * @example
 * reproducedParagraph(predictions, 'quick', 'quick', plan.paper); // '**What this run (quick) reproduced of [B].** Reproduced: …. Not reproduced: …. Undecided: ….'
 */
export function reproducedParagraph(predictions: readonly PredictionRecord[], scale: Scale, claimsHoldFrom?: Scale, paper = '[B]'): string {
  const judged = withVerdicts(predictions, scale, claimsHoldFrom);
  const by = (v: string) => judged.filter((p) => p.verdict === v).map((p) => p.name);
  const list = (names: string[]) => (names.length ? names.join('; ') : 'none');
  // The paper's tag ('[A]', '[B]') from its citation, as the plans write it ("[B] Wang et al., …").
  const tag = /^\[[A-Z]\]/.exec(paper)?.[0] ?? paper;
  return [
    `**What this run (${scale}) reproduced of ${tag}.**`,
    `Reproduced: ${list(by('agrees'))}.`,
    `Not reproduced (the measurement contradicts the claim at this size): ${list(by('disagrees'))}.`,
    `Undecided (interval wider than the band, or a scale below the claim's): ${list(by('inconclusive'))}.`,
  ].join(' ');
}

/**
 * The summary of a transformer preset from its cells: the settings with every cell's resolved
 * transformer config (so a report names exactly what ran), the cells' summed run time, and the
 * records, figures and markdown the preset built.
 *
 * @example
 * return transformerPresetReport({ preset: plan.name, scale, settings: { ...s, ...m }, results, configOf: (cell) => heavyTailConfig(scale, cell), predictions, measurements, plots, markdown });
 */
export function transformerPresetReport<Cell extends { id: string }, Measurement extends Record<string, unknown>>(r: {
  preset: string;
  scale: Scale;
  settings: Record<string, unknown>;
  results: readonly { cell: Cell; elapsedMs: number }[];
  configOf: (cell: Cell) => unknown;
  predictions: PredictionRecord[];
  measurements: Measurement[];
  plots: Figure[];
  markdown: string;
}): PresetReport<Measurement> {
  return presetReport({
    preset: r.preset,
    scale: r.scale,
    settings: { ...r.settings, configs: Object.fromEntries(r.results.map((x) => [x.cell.id, r.configOf(x.cell)])) },
    predictions: r.predictions,
    measurements: r.measurements,
    plots: r.plots,
    markdown: r.markdown,
    elapsedMs: r.results.reduce((sum, x) => sum + x.elapsedMs, 0),
  });
}
