/**
 * Report pieces shared by the four transformer presets (issue 13), Node-safe: prediction records of
 * comparisons over seeds, the plain-words paragraph on which of [B]'s findings a scale reproduced,
 * and the per-seed values the records are computed from.
 *
 * A comparison "A < B" over paired seeds is recorded as the mean paired difference with its 95 % t
 * interval, a tolerance band ±δ (the smallest difference the claim is about at this size), and
 * `agrees` = the whole interval lies on the predicted side of 0. Its verdict:
 *
 * - inconclusive when the run is below the scale the claim is meant for (`holdsFrom`), or when the
 *   interval is wider than the band (2δ): the seeds cannot decide at that resolution;
 * - otherwise agrees when the interval lies on the predicted side of 0, disagrees when it does not
 *   (the difference is smaller than the band or of the other sign).
 *
 * These are the rules of verdictOf (src/experiments/results.ts); `transformerVerdict` below applies
 * the same rules so the presets can say which findings held without depending on where the
 * report's verdict column is computed.
 */
import { pairedDifference, seedSummary, type SeedSummary } from '../../metrics/seedStats';
import type { PredictionRecord, Scale } from './types';

const SCALE_ORDER: readonly Scale[] = ['ci', 'quick', 'full'];

export type TransformerVerdict = 'agrees' | 'disagrees' | 'inconclusive' | 'reported';

/** A prediction record with the scale its claim is meant to hold from. */
export type TransformerPrediction = PredictionRecord & { holdsFrom?: Scale; reported?: boolean };

/**
 * The verdict of a record at a scale, and why when it is not the comparison's own.
 *
 * @example
 * transformerVerdict({ …, ci: [-0.1, 0.3], tolerance: '±0.05', agrees: false }, 'quick'); // { verdict: 'inconclusive', … }
 */
export function transformerVerdict(p: TransformerPrediction, scale: Scale): { verdict: TransformerVerdict; why?: string } {
  if (p.reported) return { verdict: 'reported', why: 'stated, not checked' };
  if (p.holdsFrom && SCALE_ORDER.indexOf(scale) < SCALE_ORDER.indexOf(p.holdsFrom))
    return { verdict: 'inconclusive', why: `the claim is meant to hold from the ${p.holdsFrom} scale on; this run is ${scale}` };
  const band = /^±\s*([0-9.eE+-]+)/.exec(p.tolerance.trim());
  if (p.ci && band) {
    const [lo, hi] = p.ci;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { verdict: 'inconclusive', why: 'too few seeds for an interval' };
    if (hi - lo > 2 * Number(band[1]))
      return { verdict: 'inconclusive', why: `95% interval [${lo.toFixed(3)}, ${hi.toFixed(3)}] is wider than the band ${p.tolerance}` };
  }
  return { verdict: p.agrees ? 'agrees' : 'disagrees' };
}

/** Which side of 0 a difference is predicted on. */
export type Side = 'negative' | 'positive';

/**
 * A paired comparison over seeds as a prediction record.
 *
 * @example
 * compareOverSeeds({ name: 'tail FTA Muon − AdamW (α = 1)', formula: 'FTA_tail(Muon) − FTA_tail(AdamW)', a: [0.5, 0.6, 0.55], b: [0.4, 0.5, 0.45], side: 'positive', band: 0.05, holdsFrom: 'quick' });
 */
export function compareOverSeeds(c: {
  name: string;
  formula: string;
  a: readonly number[];
  b: readonly number[];
  side: Side;
  band: number;
  holdsFrom?: Scale;
}): TransformerPrediction {
  const d = pairedDifference(c.a, c.b);
  return intervalClaim({ name: c.name, formula: c.formula, summary: d, side: c.side, band: c.band, holdsFrom: c.holdsFrom });
}

/** A value with its seed interval, claimed to lie on one side of 0 (or of `threshold`). */
export function intervalClaim(c: {
  name: string;
  formula: string;
  summary: SeedSummary;
  side: Side;
  band: number;
  threshold?: number;
  holdsFrom?: Scale;
}): TransformerPrediction {
  const t = c.threshold ?? 0;
  const [lo, hi] = c.summary.ci;
  const decided = Number.isFinite(lo) && Number.isFinite(hi);
  const agrees = c.side === 'positive' ? (decided ? lo > t : c.summary.mean > t) : decided ? hi < t : c.summary.mean < t;
  const record: TransformerPrediction = {
    name: c.name,
    formula: c.formula,
    predicted: c.side === 'positive' ? `> ${t}` : `< ${t}`,
    measured: c.summary.mean,
    ci: decided ? [lo, hi] : null,
    tolerance: `±${c.band}`,
    agrees,
  };
  if (c.holdsFrom) record.holdsFrom = c.holdsFrom;
  return record;
}

/** A figure stated without a check (MaxLogit, chance levels, what the control learned). */
export function reportedFigure(name: string, formula: string, values: readonly number[]): TransformerPrediction {
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
 * The paragraph that says plainly which of [B]'s findings this scale reproduced.
 *
 * @example
 * reproducedParagraph(predictions, 'quick'); // 'At quick, reproduced: …. Not reproduced: …. Undecided: ….'
 */
export function reproducedParagraph(predictions: readonly TransformerPrediction[], scale: Scale): string {
  const by = (v: TransformerVerdict) => predictions.filter((p) => transformerVerdict(p, scale).verdict === v).map((p) => p.name);
  const list = (names: string[]) => (names.length ? names.join('; ') : 'none');
  return [
    `**What this run (${scale}) reproduced of [B].**`,
    `Reproduced: ${list(by('agrees'))}.`,
    `Not reproduced (the measurement contradicts the claim at this size): ${list(by('disagrees'))}.`,
    `Undecided (interval wider than the band, or a scale below the claim's): ${list(by('inconclusive'))}.`,
  ].join(' ');
}

/** Per-seed values of a cell's replicas, by a function of the replica index. */
export function perSeed<T>(seeds: readonly number[], f: (replica: number) => T): T[] {
  return seeds.map((_, r) => f(r));
}
