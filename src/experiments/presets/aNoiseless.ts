/**
 * `a-noiseless` ([A], docs/math.md §4): identity embeddings, hierarchical frequencies (M groups of C = N/M
 * items, group g's mass ∝ g^−b), no label noise, population gradients from W₀ = 0. Per-group loss
 * curves of GD, Muon (`exact`, no momentum) and TRA-SignGD.
 *
 * On identity embeddings the logits of item i are column i of W and every optimizer keeps each
 * column of the form (margin m_i on the diagonal, equal elsewhere), so the loss of item i is
 * log(1 + (N−1)e^{−m_i}):
 * - Muon: the polar factor raises every margin by ≈ η per step whatever p_i is → L ≈ N·e^{−ηt},
 *   all groups at the same rate;
 * - GD with step η: m_i grows by η·p_i·(1 − p̂_i)·N/(N−1) per step → e^{m_i} ≈ η·p_i·N·t and
 *   L ≈ N/(ηt); group g's loss ≈ 1/(η·p_g·t), so the tail lags the head by p_head/p_tail = M^b;
 * - TRA-SignGD on identity is sign(G): every margin grows by exactly 2η per step, as Muon with 2η.
 * GD's curve is also compared with that per-item recurrence run in Float64 (finite-t theory).
 */
import type { Gpu } from '../../gpu/device';
import { frequencies } from '../../task/frequencies';
import { fitDecayRate, trainGroupCurves, type DecayFit, type LossCurve } from '../groupCurves';
import type { ExperimentConfigInput } from '../config';
import { groupLossFigure } from '../../plots/figures/dynamics';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { aNoiselessPlan as plan, type NoiselessOptimizer, type NoiselessSettings } from './plans/aNoiseless';
import { markdownTable, presetInfo, presetReport, reportHead, type PresetCell, type PredictionRecord, type Scale } from './types';

export type { NoiselessSettings } from './plans/aNoiseless';
export const NOISELESS_SETTINGS = plan.settings;

/** The loss window where Muon's curve is compared with N·e^{−ηt} (the acceptance window). */
export const MUON_WINDOW = { lo: 1e-4, hi: 0.1 };
const RATE_TOLERANCE = 0.1;

/** GD's margins on identity embeddings, per item, in Float64 (exact dynamics of population GD). */
export function gdIdentityLosses(p: Float64Array, eta: number, steps: readonly number[]): { loss: number[]; itemLoss: Float64Array[] } {
  const N = p.length;
  const m = new Float64Array(N);
  const loss: number[] = [];
  const itemLoss: Float64Array[] = [];
  let t = 0;
  for (const target of steps) {
    for (; t < target; t++) {
      for (let i = 0; i < N; i++) {
        const x = (N - 1) * Math.exp(-m[i]);
        m[i] += (eta * p[i] * (x / (1 + x)) * N) / (N - 1);
      }
    }
    const l = Float64Array.from(m, (mi) => Math.log1p((N - 1) * Math.exp(-mi)));
    itemLoss.push(l);
    loss.push(l.reduce((s, v, i) => s + p[i] * v, 0));
  }
  return { loss, itemLoss };
}

export interface NoiselessMeasurements {
  settings: NoiselessSettings;
  pMax: number;
  gdLr: number;
  curves: { label: string; lr: number; steps: number[]; loss: number[]; groupLoss: number[][] }[];
}

/** One cell's result: one optimizer's population and per-group loss curves. */
type NoiselessCurve = NoiselessMeasurements['curves'][number];
type NoiselessCell = PresetCell<{ optimizer: NoiselessOptimizer }>;

function curveOf(curves: LossCurve[], label: string): LossCurve {
  const c = curves.find((x) => x.optimizer === label);
  if (!c) throw new Error(`a-noiseless: no run labelled ${label}`);
  return c;
}

/** p_max and GD's step size η = gdLrTimesPMax / p_max of the settings' hierarchical frequencies. */
function gdStep(s: NoiselessSettings): { pMax: number; gdLr: number } {
  const pMax = Math.max(...frequencies(s.N, { kind: 'hierarchical', groups: s.groups, groupExponent: s.groupExponent }));
  return { pMax, gdLr: s.gdLrTimesPMax / pMax };
}

/** Trains one of a-noiseless's three optimizers (the cell's) at the scale's settings. */
async function runNoiselessCell(gpu: Gpu, scale: Scale, cell: NoiselessCell, progress: (message: string) => void): Promise<NoiselessCurve> {
  const s = plan.settings[scale];
  const { N, groups, groupExponent } = s;
  if (N % groups !== 0) throw new RangeError(`a-noiseless: groups must divide N = ${N}, got ${groups}`);
  const C = N / groups;
  const task = { N, dIn: N, dOut: N, embedding: 'identity' as const, frequency: { kind: 'hierarchical' as const, groups, groupExponent } };
  const groupOf = (i: number) => Math.floor(i / C);
  const curve = async (config: ExperimentConfigInput, label: string, lr: number): Promise<NoiselessCurve> => {
    const { curves } = await trainGroupCurves(gpu, config, groupOf, groups, progress);
    const c = curveOf(curves, label);
    return { label: c.optimizer, lr, steps: c.steps, loss: c.loss, groupLoss: c.groupLoss };
  };
  switch (cell.params.optimizer) {
    case 'muon':
      progress(`Muon (exact) η = ${s.muonLr}, ${s.muonSteps} steps`);
      return curve(
        {
          name: 'a-noiseless-muon',
          task,
          optimizers: [{ name: 'muon', label: 'Muon', lr: s.muonLr, momentum: 0, orth: 'exact' }],
          training: { steps: s.muonSteps },
          metrics: { every: 1 },
        },
        'Muon',
        s.muonLr,
      );
    case 'tra-signgd':
      progress(`TRA-SignGD η = ${s.muonLr / 2}, ${s.traSteps} steps`);
      return curve(
        {
          name: 'a-noiseless-tra-signgd',
          task,
          optimizers: [{ name: 'tra-signgd', label: 'TRA-SignGD', lr: s.muonLr / 2 }],
          training: { steps: s.traSteps },
          metrics: { every: 1 },
        },
        'TRA-SignGD',
        s.muonLr / 2,
      );
    case 'gd': {
      const { gdLr } = gdStep(s);
      progress(`GD η = ${s.gdLrTimesPMax}/p_max = ${gdLr.toPrecision(4)}, ${s.gdSteps} steps`);
      return curve(
        {
          name: 'a-noiseless-gd',
          task,
          optimizers: [{ name: 'gd', label: 'GD', lr: gdLr }],
          training: { steps: s.gdSteps },
          metrics: { every: s.gdEvery },
        },
        'GD',
        gdLr,
      );
    }
  }
}

/** Muon's window: the steps whose population loss lies in [lo, hi]. */
export function inLossWindow(loss: readonly number[], window = MUON_WINDOW): boolean[] {
  return loss.map((l) => l >= window.lo && l <= window.hi);
}

/** Decay rate of each group's loss over the population-loss window. */
export function groupDecayRates(curve: { steps: number[]; loss: number[]; groupLoss: number[][] }, window = MUON_WINDOW): DecayFit[] {
  const inside = inLossWindow(curve.loss, window);
  const groups = curve.groupLoss[0]?.length ?? 0;
  return Array.from({ length: groups }, (_, g) =>
    fitDecayRate(
      curve.steps,
      curve.groupLoss.map((row) => row[g]),
      inside,
    ),
  );
}

const relative = (a: number, b: number) => Math.abs(a / b - 1);

/** Predictions, tables, plots and report from the three optimizers' curves (Muon, TRA-SignGD, GD). */
function summarize(scale: Scale, results: readonly CellOutcome<NoiselessCell['params'], NoiselessCurve>[]) {
  const s = plan.settings[scale];
  const m: NoiselessMeasurements = { settings: s, ...gdStep(s), curves: results.map((r) => r.result) };
  const { N, groups: M, groupExponent: b } = s;
  const p = frequencies(N, { kind: 'hierarchical', groups: M, groupExponent: b });
  const get = (label: string) => m.curves.find((c) => c.label === label)!;
  const muon = get('Muon');
  const tra = get('TRA-SignGD');
  const gd = get('GD');
  const predictions: PredictionRecord[] = [];

  // Muon: N·e^{−ηt} over the window, rates per group.
  const eta = s.muonLr;
  const inside = inLossWindow(muon.loss);
  const ratios = muon.steps.map((t, k) => muon.loss[k] / (N * Math.exp(-eta * t))).filter((_r, k) => inside[k]);
  const worst = ratios.length ? Math.max(...ratios.map((r) => Math.abs(r - 1))) : NaN;
  predictions.push({
    name: `Muon loss / N·e^{−ηt} over ${MUON_WINDOW.lo} ≤ L ≤ ${MUON_WINDOW.hi}`,
    formula: 'L ≈ N·e^{−ηt}: largest abs(ratio − 1)',
    predicted: 0,
    measured: worst,
    tolerance: '≤ 0.1',
    agrees: worst <= 0.1,
  });
  const total = fitDecayRate(muon.steps, muon.loss, inside);
  predictions.push({
    name: 'Muon decay rate (population loss)',
    formula: 'rate = η',
    predicted: eta,
    measured: total.rate,
    ci: total.fit ? total.ci : null,
    tolerance: '10% relative',
    agrees: relative(total.rate, eta) <= RATE_TOLERANCE,
  });
  const rates = groupDecayRates(muon);
  const rateValues = rates.map((r) => r.rate);
  const spread = Math.max(...rateValues) / Math.min(...rateValues) - 1;
  predictions.push({
    name: 'Muon per-group decay rates: max/min − 1',
    formula: 'every group at the same rate',
    predicted: 0,
    measured: spread,
    tolerance: '≤ 0.1',
    agrees: spread <= RATE_TOLERANCE,
  });

  // TRA-SignGD with η/2 against Muon with η.
  const traInside = inLossWindow(tra.loss);
  const traFit = fitDecayRate(tra.steps, tra.loss, traInside);
  predictions.push({
    name: `TRA-SignGD(η = ${eta / 2}) rate / Muon(η = ${eta}) rate`,
    formula: 'TRA-SignGD with η ≈ Muon with 2η',
    predicted: 1,
    measured: traFit.rate / total.rate,
    tolerance: '10% relative',
    agrees: relative(traFit.rate / total.rate, 1) <= RATE_TOLERANCE,
  });
  const traExact = tra.steps.map((t) => Math.log1p((N - 1) * Math.exp(-2 * (eta / 2) * t)));
  const traDev = Math.max(...tra.loss.map((l, k) => relative(l, traExact[k])));
  // f32 per-item losses (log1p of an N-term sum, ~N·2⁻²⁴ relative) and margins summed over ≤ 20 steps.
  predictions.push({
    name: 'TRA-SignGD loss vs log(1 + (N−1)e^{−2ηt})',
    formula: 'sign(G) on identity raises every margin by exactly 2η',
    predicted: 0,
    measured: traDev,
    tolerance: '≤ 1e-4 relative (f32)',
    agrees: traDev <= 1e-4,
  });

  // GD: N/(ηt), the tail lag, and the Float64 recurrence.
  const last = gd.steps.length - 1;
  const T = gd.steps[last];
  const scaled = (gd.loss[last] * m.gdLr * T) / N;
  predictions.push({
    name: `GD L·ηt/N at t = ${T} (η = ${s.gdLrTimesPMax}/p_max)`,
    formula: 'L ≈ N/(ηt)',
    predicted: 1,
    measured: scaled,
    tolerance: '10% relative',
    agrees: relative(scaled, 1) <= 0.1,
  });
  const lag = gd.groupLoss[last][M - 1] / gd.groupLoss[last][0];
  const lagPredicted = M ** b;
  predictions.push({
    name: `GD tail/head group loss at t = ${T}`,
    formula: 'group g ≈ 1/(η·p_g·t): ratio p_1/p_M = M^b',
    predicted: lagPredicted,
    measured: lag,
    tolerance: '15% relative (finite-t correction ≈ ln e^{m}/(η·p_M·t))',
    agrees: relative(lag, lagPredicted) <= 0.15,
  });
  const recurrence = gdIdentityLosses(p, m.gdLr, gd.steps);
  const recDev = Math.max(...gd.loss.map((l, k) => relative(l, recurrence.loss[k])));
  // f32 W accumulates ~T rounding steps of the margins (|m| ≲ 20): ≲ √T·20·2⁻²⁴ absolute, ≪ 1e-3.
  predictions.push({
    name: 'GD loss vs its Float64 per-item recurrence',
    formula: 'm_i += η·p_i·(1 − p̂_i)·N/(N−1)',
    predicted: 0,
    measured: recDev,
    tolerance: '≤ 1e-3 relative',
    agrees: recDev <= 1e-3,
  });

  const muonFigure = groupLossFigure([muon, tra], {
    name: 'muon-groups',
    title: `Muon (η = ${eta}) and TRA-SignGD (η = ${eta / 2}) per frequency group (N = ${N}, M = ${M}, b = ${b})`,
    caption:
      'Every group of Muon (and of TRA-SignGD at half the step) falls on the same straight line in log scale, N·e^{−ηt}: head and tail are learned at one rate.',
    xLog: false,
    // TRA-SignGD at η/2 raises every margin by 2·(η/2) = η per step: the same law.
    law: () => ({ formula: 'N·e^(−ηt)', at: (t) => N * Math.exp(-eta * t) }),
  });
  const gdFigure = groupLossFigure([gd], {
    name: 'gd-groups',
    title: `GD (η = ${s.gdLrTimesPMax}/p_max) per frequency group (N = ${N}, M = ${M}, b = ${b})`,
    caption: `GD's population loss follows N/(ηt) (dashed) while its tail group lags the head by ≈ M^b = ${M ** b}×.`,
    xLog: true,
    // Above the law run the tail groups' lines; below it only the head's, further down.
    law: () => ({ formula: 'N/(ηt)', at: (t) => N / (m.gdLr * t), labelPos: 'below' }),
  });
  const rateRows = rates.map((r, g) => [
    g + 1,
    p[g * (N / M)],
    r.rate,
    `[${r.ci[0].toPrecision(4)}, ${r.ci[1].toPrecision(4)}]`,
    gd.groupLoss[last][g],
    1 / (m.gdLr * p[g * (N / M)] * T),
  ]);
  const markdown = [
    ...reportHead(
      'a-noiseless',
      scale,
      `${plan.paper}. Identity embeddings, N = ${N} items in M = ${M} groups of C = ${N / M} (C/M = ${N / M / M}), group mass ∝ g^−${b}, no label noise, population gradients from W₀ = 0. Muon: \`exact\` polar factor, no momentum, η = ${eta}, ${s.muonSteps} steps; TRA-SignGD: η = ${eta / 2}, ${s.traSteps} steps; GD: η = ${s.gdLrTimesPMax}/p_max = ${m.gdLr.toPrecision(5)}, ${s.gdSteps} steps (loss read every ${s.gdEvery}). Decay rates are least-squares slopes of ln(loss) on t over the steps where the population loss is in [${MUON_WINDOW.lo}, ${MUON_WINDOW.hi}] (95% t-intervals).`,
      predictions,
    ),
    '## Per group',
    '',
    markdownTable(['group', 'p_i', 'Muon decay rate', '95% CI', `GD loss at t = ${T}`, '1/(η·p_g·t)'], rateRows),
    '',
    `Muon's groups fall at one rate (spread ${(spread * 100).toFixed(2)}%), while GD's tail group is ${lag.toFixed(2)}× behind its head group at t = ${T}.`,
    '',
    figureMarkdown(muonFigure),
    figureMarkdown(gdFigure),
  ].join('\n');
  return presetReport({
    preset: plan.name,
    scale,
    settings: { ...s, C: N / M, gdLr: m.gdLr, pMax: m.pMax, window: MUON_WINDOW },
    predictions,
    measurements: m.curves.map((c) => ({ kind: 'loss-curve', ...c })),
    plots: [muonFigure, gdFigure],
    markdown,
    elapsedMs: results.reduce((sum, r) => sum + r.elapsedMs, 0),
  });
}

export const aNoiseless = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell: runNoiselessCell, summarize });
