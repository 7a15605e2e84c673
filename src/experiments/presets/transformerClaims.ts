/**
 * The measurements and predictions of the four transformer presets (issue 13), Node-safe: how a
 * cell's raw result (src/experiments/transformerCell.ts) becomes the report's measurements — one row
 * per replica (seed) with the raw probe counts, exposures and losses — and how the prediction records
 * are computed from those measurements alone. The presets' summaries and the tests both call these,
 * so a stored or merged run is judged from the same raw numbers, and the tests can feed them
 * measurements whose answer they know.
 *
 * Bands (the tolerance ±δ of each record: the smallest difference a claim is about at these sizes;
 * an interval wider than 2δ is inconclusive, see transformerReport.ts):
 * - FTA and accuracy differences: 0.05 (one attribute in twenty);
 * - validation-loss differences: 0.02 nats ([B]'s smallest ordered gap in the ablation);
 * - the Muon(Q,K) fraction between all-Muon (0) and all-Adam (1): 0.25;
 * - slopes (FTA gap per unit α, power-law exponents): 0.05;
 * - eRank: 2 % of d; Top10E: 0.02.
 */
import { fitLine, fitPowerLaw } from '../../metrics/fits';
import { ftaBuckets } from '../../metrics/fta';
import { pairedDifference, seedSummary } from '../../metrics/seedStats';
import type { TransformerCellResult } from '../transformerCell';
import { baseLr, type DataScalingCellParams } from './plans/aDataScaling';
import { bHeavyTailQaPlan, type HeavyTailCellParams } from './plans/bHeavyTailQa';
import { bTransformerAblationPlan, type AblationCellParams } from './plans/bTransformerAblation';
import { bTransformerIsotropyPlan, type IsotropyCellParams } from './plans/bTransformerIsotropy';
import { ABLATION_ASSIGNMENTS, OPTIMIZER_LABELS, TRANSFORMER_SCALES, type OptimizerName } from './plans/transformerCommon';
import type { MlpKind } from '../../layout/transformerShape';
import { compareOverSeeds, intervalClaim, reportedFigure } from './transformerReport';
import type { PredictionRecord, PresetCell, Scale } from './types';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export const FTA_BAND = 0.05;
export const HEAD_FTA_MIN = 0.9;
export const SLOPE_BAND = 0.05;
export const LOSS_BAND = 0.02;
export const FRACTION_BAND = 0.25;
export const TOP10E_BAND = 0.02;
export const ERANK_BAND_SHARE = 0.02;
export const EXPONENT_BAND = 0.05;

// ---- bHeavyTailQa ----

export interface HeavyTailMeasurement extends Record<string, unknown> {
  kind: 'qa' | 'control';
  optimizer: OptimizerName;
  alpha: number;
  seed: number;
  /** Per individual (QA) or task (control), rank order: attributes / positions answered right. */
  correct: number[];
  /** What `correct` counts out of: attributes per individual (QA), scored positions per task (control). */
  outOf: number;
  /** Exact exposures: statements per individual (QA), training sequences per task (control). */
  exposures: number[];
  /** Validation loss along training. */
  validationSteps: number[];
  validationLoss: number[];
  /** Derived from `correct` (for measurements.csv readers): bucket means. */
  head: number;
  tail: number;
  all: number;
}

/** The per-replica measurements of a cell's result. */
export function heavyTailMeasurements(cell: PresetCell<HeavyTailCellParams>, result: TransformerCellResult): HeavyTailMeasurement[] {
  const probes = cell.params.kind === 'qa' ? result.knowledge : result.regression;
  if (!probes) throw new RangeError(`b-heavy-tail-qa cell ${cell.id}: the result has no probes`);
  const outOf = 'attributes' in probes ? probes.attributes : probes.positions;
  return result.seeds.map((seed, r) => {
    const b = ftaBuckets(probes.correct[r].map((c) => c / outOf));
    return {
      kind: cell.params.kind,
      optimizer: cell.params.optimizer,
      alpha: cell.params.alpha,
      seed,
      correct: probes.correct[r],
      outOf,
      exposures: probes.exposures[r],
      validationSteps: result.validation.map((v) => v.step),
      validationLoss: result.validation.map((v) => v.loss[r]),
      head: b.head,
      tail: b.tail,
      all: b.all,
    };
  });
}

/** The bucket FTA of a measurement, recomputed from its raw counts. */
export function bucketsOf(m: Pick<HeavyTailMeasurement, 'correct' | 'outOf'>) {
  return ftaBuckets(m.correct.map((c) => c / m.outOf));
}

/**
 * The predictions from the measurements alone (the test recomputes them the same way from
 * report.measurements).
 */
export function heavyTailPredictions(scale: Scale, measurements: readonly HeavyTailMeasurement[]): PredictionRecord[] {
  const s = bHeavyTailQaPlan.settings[scale];
  const qa = (o: OptimizerName, alpha: number) =>
    measurements.filter((m) => m.kind === 'qa' && m.optimizer === o && m.alpha === alpha).sort((a, b) => a.seed - b.seed);
  const bucket = (ms: HeavyTailMeasurement[], k: 'head' | 'tail' | 'all') => ms.map((m) => bucketsOf(m)[k]);
  const out: PredictionRecord[] = [];
  if (s.alphas.includes(1)) {
    // Each optimizer's head FTA at α = 1 with its seed interval: the report then says which held.
    for (const o of s.optimizers) {
      out.push(
        intervalClaim({
          name: `head FTA ≥ ${HEAD_FTA_MIN}: ${OPTIMIZER_LABELS[o]} (α = 1)`,
          formula: 'mean FTA of the 10 % most frequent individuals; agrees when the interval lies above the threshold',
          summary: seedSummary(bucket(qa(o, 1), 'head')),
          side: 'positive',
          band: FTA_BAND,
          threshold: HEAD_FTA_MIN,
        }),
      );
    }
  }
  for (const alpha of s.alphas.filter((a) => a >= 1)) {
    const pairs: [OptimizerName, OptimizerName][] = [
      ['muon', 'adamw'],
      ['adamw', 'sgd'],
    ];
    for (const [a, b] of pairs) {
      if (!s.optimizers.includes(a) || !s.optimizers.includes(b)) continue;
      out.push(
        compareOverSeeds({
          name: `tail FTA ${OPTIMIZER_LABELS[a]} > ${OPTIMIZER_LABELS[b]} (α = ${alpha})`,
          formula: `FTA_tail(${OPTIMIZER_LABELS[a]}) − FTA_tail(${OPTIMIZER_LABELS[b]}), paired by seed`,
          a: bucket(qa(a, alpha), 'tail'),
          b: bucket(qa(b, alpha), 'tail'),
          side: 'positive',
          band: FTA_BAND,
        }),
      );
    }
  }
  if (s.alphas.length >= 2 && s.optimizers.includes('muon') && s.optimizers.includes('adamw')) {
    // The gap per (α, seed) as points of a line in α: its slope and the slope's t interval.
    const xs: number[] = [];
    const ys: number[] = [];
    for (const alpha of s.alphas) {
      const mu = bucket(qa('muon', alpha), 'all');
      const ad = bucket(qa('adamw', alpha), 'all');
      mu.forEach((v, i) => {
        xs.push(alpha);
        ys.push(v - ad[i]);
      });
    }
    const fit = fitLine(xs, ys);
    const decided = Number.isFinite(fit.slopeCI[0]) && Number.isFinite(fit.slopeCI[1]);
    out.push({
      name: 'the Muon − AdamW gap in mean FTA grows with α',
      formula: 'slope in α of FTA_all(Muon) − FTA_all(AdamW) (one point per α and seed)',
      predicted: '> 0',
      measured: fit.slope,
      ci: decided ? fit.slopeCI : null,
      tolerance: `±${SLOPE_BAND}`,
      agrees: decided ? fit.slopeCI[0] > 0 : fit.slope > 0,
    });
  }
  const control = (o: OptimizerName) =>
    measurements.filter((m) => m.kind === 'control' && m.optimizer === o).sort((a, b) => a.seed - b.seed);
  if (s.controlOptimizers.includes('muon') && s.controlOptimizers.includes('adamw')) {
    const mu = bucket(control('muon'), 'tail');
    const ad = bucket(control('adamw'), 'tail');
    const claim = compareOverSeeds({
      name: 'control (in-context regression): no Muon tail advantage',
      formula: `acc_tail(Muon) − acc_tail(AdamW), paired by seed; agrees when the interval lies below +${FTA_BAND}`,
      a: mu,
      b: ad,
      side: 'negative',
      band: FTA_BAND,
    });
    // "No advantage" is a bound, not a sign: the interval must stay below +band.
    claim.predicted = `< ${FTA_BAND}`;
    claim.agrees = claim.ci ? claim.ci[1] < FTA_BAND : claim.measured < FTA_BAND;
    out.push(claim);
    for (const o of s.controlOptimizers) {
      const bins = 8;
      out.push(
        reportedFigure(
          `control: ${OPTIMIZER_LABELS[o]} accuracy over all tasks (chance ≈ ${(1 / bins).toFixed(3)} for 8 equal-width bins)`,
          'mean over tasks of the y-bin accuracy at x positions with ≥ dx preceding pairs',
          bucket(control(o), 'all'),
        ),
      );
    }
  }
  return out;
}

// ---- bTransformerAblation ----

export interface AblationMeasurement extends Record<string, unknown> {
  mlp: MlpKind;
  assignment: string;
  label: string;
  seed: number;
  validationSteps: number[];
  validationLoss: number[];
  finalLoss: number;
  /** Largest attention logit over layers and logged steps. */
  maxLogit: number;
  /** Per individual (rank order): attributes answered right, out of `attributes`. */
  correct: number[];
  attributes: number;
  tail: number;
  head: number;
}

export function ablationMeasurements(cell: PresetCell<AblationCellParams>, result: TransformerCellResult): AblationMeasurement[] {
  const a = ABLATION_ASSIGNMENTS.find((x) => x.id === cell.params.assignment)!;
  const k = result.knowledge;
  if (!k) throw new RangeError(`b-transformer-ablation cell ${cell.id}: the result has no FTA probes`);
  return result.seeds.map((seed, r) => {
    const b = ftaBuckets(k.correct[r].map((c) => c / k.attributes));
    return {
      mlp: cell.params.mlp,
      assignment: a.id,
      label: a.label,
      seed,
      validationSteps: result.validation.map((v) => v.step),
      validationLoss: result.validation.map((v) => v.loss[r]),
      finalLoss: result.validation[result.validation.length - 1].loss[r],
      maxLogit: Math.max(...result.training.flatMap((t) => t.maxLogit[r])),
      correct: k.correct[r],
      attributes: k.attributes,
      tail: b.tail,
      head: b.head,
    };
  });
}

/** The predictions from the measurements alone (the test recomputes them from report.measurements). */
export function ablationPredictions(scale: Scale, measurements: readonly AblationMeasurement[]): PredictionRecord[] {
  const s = bTransformerAblationPlan.settings[scale];
  const out: PredictionRecord[] = [];
  for (const mlp of s.mlps) {
    const loss = (id: string) =>
      measurements
        .filter((m) => m.mlp === mlp && m.assignment === id)
        .sort((a, b) => a.seed - b.seed)
        .map((m) => m.finalLoss);
    const tag = mlp === 'swiglu' ? 'gated MLP' : 'plain MLP';
    const allMuon = loss('all-muon');
    const allAdam = loss('all-adam');
    const voMlp = loss('muon-vo-mlp');
    // "≤": all-Muon is not significantly worse than Muon(V,O,MLP): the interval's lower end is ≤ 0.
    const first = compareOverSeeds({
      name: `all-Muon ≤ Muon(V,O,MLP)/Adam(Q,K) (${tag})`,
      formula: 'L_val(all-Muon) − L_val(Muon(V,O,MLP)), paired by seed; agrees unless the whole interval is above 0',
      a: allMuon,
      b: voMlp,
      side: 'negative',
      band: LOSS_BAND,
    });
    first.predicted = '≤ 0';
    first.agrees = first.ci ? first.ci[0] <= 0 : first.measured <= 0;
    out.push(first);
    out.push(
      compareOverSeeds({
        name: `Muon(V,O,MLP)/Adam(Q,K) < all-Adam (${tag})`,
        formula: 'L_val(Muon(V,O,MLP)) − L_val(all-Adam), paired by seed',
        a: voMlp,
        b: allAdam,
        side: 'negative',
        band: LOSS_BAND,
      }),
    );
    // Where Muon(Q,K) only lies between all-Muon (0) and all-Adam (1), per seed.
    const qk = loss('muon-qk');
    const fraction = qk.map((v, i) => (v - allMuon[i]) / (allAdam[i] - allMuon[i]));
    const f = seedSummary(fraction);
    const decided = Number.isFinite(f.ci[0]);
    out.push({
      name: `Muon(Q,K) only closer to all-Adam than to all-Muon (${tag})`,
      formula: '(L_QK − L_allMuon)/(L_allAdam − L_allMuon) per seed, mean: 0 = all-Muon, 1 = all-Adam',
      predicted: '> 0.5',
      measured: f.mean,
      ci: decided ? f.ci : null,
      tolerance: `±${FRACTION_BAND}`,
      agrees: decided ? f.ci[0] > 0.5 : f.mean > 0.5,
    });
    out.push(
      compareOverSeeds({
        name: `Muon(V,O + W_out) < Muon(V,O + W_in) (${tag})`,
        formula: 'L_val(Muon(V,O + W_out)) − L_val(Muon(V,O + W_in)), paired by seed',
        a: loss('muon-vo-out'),
        b: loss('muon-vo-in'),
        side: 'negative',
        band: LOSS_BAND,
      }),
    );
    for (const id of ['all-muon', 'all-adam']) {
      const ms = measurements.filter((m) => m.mlp === mlp && m.assignment === id);
      out.push(
        reportedFigure(
          `MaxLogit, ${ms[0]?.label ?? id} (${tag})`,
          'largest attention logit over layers and logged steps',
          ms.map((m) => m.maxLogit),
        ),
      );
    }
  }
  return out;
}

// ---- bTransformerIsotropy ----

/** One matrix of one replica at one logged step. */
export interface IsotropyMeasurement extends Record<string, unknown> {
  optimizer: 'muon' | 'adamw';
  seed: number;
  step: number;
  matrix: string;
  /** v, o or out. */
  kind: string;
  eRank: number;
  top10E: number;
  hNorm: number | null;
  updateERank: number;
  updateTop10E: number;
}

export function isotropyMeasurements(cell: PresetCell<IsotropyCellParams>, result: TransformerCellResult): IsotropyMeasurement[] {
  return result.isotropy.flatMap((rec) =>
    Object.entries(rec.matrices).flatMap(([matrix, perReplica]) =>
      perReplica.map((x, r) => ({
        optimizer: cell.params.optimizer,
        seed: result.seeds[r],
        step: rec.step,
        matrix,
        kind: matrix.split('.').at(-1)!,
        eRank: x.weights.eRank,
        top10E: x.weights.top10E,
        hNorm: x.weights.hNorm,
        updateERank: x.update.eRank,
        updateTop10E: x.update.top10E,
      })),
    ),
  );
}

/** The layers' mean of a metric per (optimizer, kind, step, seed). */
export function kindSeries(
  measurements: readonly IsotropyMeasurement[],
  optimizer: string,
  kind: string,
  metric: 'eRank' | 'top10E',
): { steps: number[]; seeds: number[]; values: number[][] } {
  const mine = measurements.filter((m) => m.optimizer === optimizer && m.kind === kind);
  const steps = [...new Set(mine.map((m) => m.step))].sort((a, b) => a - b);
  const seeds = [...new Set(mine.map((m) => m.seed))].sort((a, b) => a - b);
  const values = steps.map((st) =>
    seeds.map((sd) => {
      const xs = mine.filter((m) => m.step === st && m.seed === sd).map((m) => m[metric]);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    }),
  );
  return { steps, seeds, values };
}

export const KINDS = ['v', 'o', 'out'] as const;

export function isotropyPredictions(scale: Scale, measurements: readonly IsotropyMeasurement[]): PredictionRecord[] {
  const s = bTransformerIsotropyPlan.settings[scale];
  const d = TRANSFORMER_SCALES[s.model].dModel;
  const out: PredictionRecord[] = [];
  const names: Record<string, string> = { v: 'W_V', o: 'W_O', out: 'W_out' };
  for (const kind of KINDS) {
    for (const metric of ['eRank', 'top10E'] as const) {
      const mu = kindSeries(measurements, 'muon', kind, metric);
      const ad = kindSeries(measurements, 'adamw', kind, metric);
      // Every logged step after the first: the one whose interval comes closest to the wrong side.
      const diffs = mu.steps
        .map((st, k) => ({ step: st, d: pairedDifference(mu.values[k], ad.values[ad.steps.indexOf(st)]) }))
        .filter((x) => x.step > 0);
      if (diffs.length === 0) continue;
      const higher = metric === 'eRank';
      const key = (x: (typeof diffs)[number]) =>
        Number.isFinite(x.d.ci[0]) ? (higher ? x.d.ci[0] : -x.d.ci[1]) : higher ? x.d.mean : -x.d.mean;
      const worst = diffs.reduce((a, b) => (key(b) < key(a) ? b : a));
      const decided = Number.isFinite(worst.d.ci[0]);
      const band = metric === 'eRank' ? Number((ERANK_BAND_SHARE * d).toPrecision(3)) : TOP10E_BAND;
      const allAgree = diffs.every((x) =>
        Number.isFinite(x.d.ci[0]) ? (higher ? x.d.ci[0] > 0 : x.d.ci[1] < 0) : higher ? x.d.mean > 0 : x.d.mean < 0,
      );
      out.push({
        name: `${names[kind]}: Muon's ${metric === 'eRank' ? 'eRank higher' : 'Top10E lower'} than AdamW's at every logged step after the first`,
        formula: `${metric}(Muon) − ${metric}(AdamW), layers' mean, paired by seed; shown at the step closest to the wrong side (step ${worst.step}; ${diffs.length} logged steps compared)`,
        predicted: higher ? '> 0' : '< 0',
        measured: worst.d.mean,
        ci: decided ? worst.d.ci : null,
        tolerance: `±${band}`,
        agrees: allAgree,
      });
    }
    const spread = (o: string) => {
      const x = kindSeries(measurements, o, kind, 'eRank');
      const sds = x.steps.map((st, k) => ({ st, sd: seedSummary(x.values[k]).sd })).filter((y) => y.st > 0 && Number.isFinite(y.sd));
      return sds.reduce((a, b) => a + b.sd, 0) / Math.max(1, sds.length);
    };
    const ratio = spread('muon') / spread('adamw');
    out.push({
      name: `${names[kind]}: Muon's eRank varies less across seeds than AdamW's`,
      formula: 'mean over logged steps > 0 of the seed standard deviation of eRank: Muon / AdamW',
      predicted: '< 1',
      measured: ratio,
      ci: null,
      tolerance: '< 1',
      agrees: ratio < 1,
    });
    for (const o of ['muon', 'adamw'] as const) {
      const last = measurements.filter(
        (m) => m.optimizer === o && m.kind === kind && m.step === Math.max(...measurements.map((x) => x.step)),
      );
      const seeds = [...new Set(last.map((m) => m.seed))];
      out.push(
        reportedFigure(
          `${names[kind]} update eRank at the last logged step, ${o === 'muon' ? 'Muon' : 'AdamW'}`,
          "eRank of W_{t+1} − W_t (layers' mean)",
          seeds.map((sd) => {
            const xs = last.filter((m) => m.seed === sd).map((m) => m.updateERank);
            return xs.reduce((a, b) => a + b, 0) / xs.length;
          }),
        ),
      );
    }
  }
  return out;
}

// ---- aDataScaling ----

export interface DataScalingMeasurement extends Record<string, unknown> {
  optimizer: 'muon' | 'adamw';
  budgetLog2: number;
  tokens: number;
  steps: number;
  lrFactor: number;
  lr: number;
  seed: number;
  validationLoss: number;
}

export function dataScalingMeasurements(
  scale: Scale,
  cell: PresetCell<DataScalingCellParams>,
  result: TransformerCellResult,
): DataScalingMeasurement[] {
  const last = result.validation[result.validation.length - 1];
  return result.seeds.map((seed, r) => ({
    optimizer: cell.params.optimizer,
    budgetLog2: cell.params.budgetLog2,
    tokens: result.steps * result.tokensPerStep,
    steps: result.steps,
    lrFactor: cell.params.lrFactor,
    lr: baseLr(cell.params.optimizer) * cell.params.lrFactor,
    seed,
    validationLoss: last.loss[r],
  }));
}

/** Per optimizer and budget: the best η (lowest seed-mean loss) and its per-seed losses. */
export function envelope(
  measurements: readonly DataScalingMeasurement[],
  optimizer: string,
): { budgetLog2: number; tokens: number; lrFactor: number; mean: number; perSeed: number[] }[] {
  const mine = measurements.filter((m) => m.optimizer === optimizer);
  const budgets = [...new Set(mine.map((m) => m.budgetLog2))].sort((a, b) => a - b);
  return budgets.map((k) => {
    const here = mine.filter((m) => m.budgetLog2 === k);
    const factors = [...new Set(here.map((m) => m.lrFactor))];
    const options = factors.map((f) => {
      const ms = here.filter((m) => m.lrFactor === f).sort((a, b) => a.seed - b.seed);
      return {
        lrFactor: f,
        perSeed: ms.map((m) => m.validationLoss),
        mean: ms.reduce((a, m) => a + m.validationLoss, 0) / ms.length,
        tokens: ms[0].tokens,
      };
    });
    const best = options.reduce((a, b) => (b.mean < a.mean ? b : a));
    return { budgetLog2: k, ...best };
  });
}

export function dataScalingPredictions(scale: Scale, measurements: readonly DataScalingMeasurement[]): PredictionRecord[] {
  const mu = envelope(measurements, 'muon');
  const ad = envelope(measurements, 'adamw');
  const out: PredictionRecord[] = [];
  // Below at every budget: recorded at the least favourable budget, whose paired interval reaches highest.
  const diffs = mu.map((e, i) => ({ budgetLog2: e.budgetLog2, d: pairedDifference(e.perSeed, ad[i].perSeed) }));
  const key = (x: (typeof diffs)[number]) => (Number.isFinite(x.d.ci[1]) ? x.d.ci[1] : x.d.mean);
  const worst = diffs.reduce((a, b) => (key(b) > key(a) ? b : a));
  const decided = Number.isFinite(worst.d.ci[0]);
  out.push({
    name: "Muon's envelope below AdamW's at every budget",
    formula: `L*(Muon) − L*(AdamW) at each optimizer's best η, paired by seed; shown at the least favourable budget, the one whose interval reaches highest (2^${worst.budgetLog2} tokens)`,
    predicted: '< 0',
    measured: worst.d.mean,
    ci: decided ? worst.d.ci : null,
    tolerance: `±${LOSS_BAND}`,
    agrees: diffs.every((x) => (Number.isFinite(x.d.ci[1]) ? x.d.ci[1] < 0 : x.d.mean < 0)),
  });
  if (mu.length >= 2) {
    const fm = fitPowerLaw(
      mu.map((e) => e.tokens),
      mu.map((e) => e.mean),
    );
    const fa = fitPowerLaw(
      ad.map((e) => e.tokens),
      ad.map((e) => e.mean),
    );
    const diff = fm.slope - fa.slope;
    // Two independent least-squares slopes: the difference's standard error adds in quadrature, with
    // the smaller residual degrees of freedom (budgets − 2; none with two budgets).
    const dof = Math.min(fm.points, fa.points) - 2;
    const se = Math.hypot(fm.slopeStdErr, fa.slopeStdErr);
    const half = dof > 0 && Number.isFinite(se) ? tQuantile(0.975, dof) * se : NaN;
    out.push({
      name: "Muon's power-law exponent in the data budget is steeper than AdamW's",
      formula: `slope of log L* against log D: Muon ${fm.slope.toFixed(4)} − AdamW ${fa.slope.toFixed(4)}`,
      predicted: '< 0',
      measured: diff,
      ci: Number.isFinite(half) ? [diff - half, diff + half] : null,
      tolerance: `±${EXPONENT_BAND}`,
      agrees: Number.isFinite(half) ? diff + half < 0 : diff < 0,
    });
  }
  return out;
}
