/**
 * `b-balance-onestep` ([B] §5, docs/math.md §4): one population step from W₀ = 0 on two-class frequencies,
 * sweeping η; balance ϱ_τ and η_τ per optimizer × embedding, Δ against loss along the sweep.
 * Predictions: GD's ϱ is poor and the same for both embeddings (closed form); Muon's is near
 * perfect on both; SignGD equals Muon on `identity` and collapses on `coupled-rotation`; Adam with
 * β1 = β2 = 0 and ε = 1e-12 behaves as SignGD.
 *
 * The sweep over the number of classes K (= N = d; quick and full): [B]'s theorem gives how balance
 * scales with K — GD: ϱ = O(ε^{−r} K^{r−1}) (r = p_tail/p_head, 1/16 here with K/5 head items of mass
 * 0.8); SignGD on coupled embeddings: O(ε^{−0.7} K^{−0.3}); Muon: ≥ 1 − ε(1 + O(log K/K)). ϱ_0.1 is
 * measured per K on coupled-rotation (GD's does not depend on the embedding) and the exponents of
 * ϱ against K are fitted in log–log.
 */
import type { Gpu } from '../../gpu/device';
import { createGpuTask } from '../../task/taskGpu';
import { evaluateAtStepSizes, firstDirections, sweepBalance, type SweepBalance } from '../oneStepSweep';
import { deltaVsLossFigure, rhoBarsFigure } from '../../plots/figures/balance';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { fitPowerLaw } from '../../metrics/fits';
import { bBalanceOnestepPlan as plan, EMBEDDINGS, type BalanceEmbedding, type BalanceOnestepCell } from './plans/bBalanceOnestep';
import {
  markdownTable,
  presetInfo,
  presetReport,
  reportHead,
  type PresetCell,
  type PresetReport,
  type PredictionRecord,
  type Scale,
} from './types';

const HEAD_MASS = 0.8;
const TAUS = [0.1, 0.01];

const OPTIMIZERS: { label: string; config: Record<string, unknown> }[] = [
  { label: 'GD', config: { name: 'gd' } },
  { label: 'SignGD', config: { name: 'signgd' } },
  { label: 'Muon exact', config: { name: 'muon', orth: 'exact', momentum: 0 } },
  { label: 'Muon ns5', config: { name: 'muon', orth: 'ns5', momentum: 0 } },
  // β1 = β2 = 0 turns Adam into SignGD up to ε; [B]'s smallest gradient entries are ≈ 2.5e-7, so
  // ε must be far below that (docs/math.md §2).
  { label: 'Adam (β=0, ε=1e-12)', config: { name: 'adam', beta1: 0, beta2: 0, eps: 1e-12 } },
];

/** GD's exact one-step balance: ϱ_τ = x/(x + N − 1), x = ((1−τ)(N−1)/τ)^r, r = p_tail/p_head. */
export function gdClosedForm(N: number, headCount: number, headMass: number, tau: number): { rho: number; etaTau: number } {
  const pHead = headMass / headCount;
  const pTail = (1 - headMass) / (N - headCount);
  const base = ((1 - tau) * (N - 1)) / tau;
  const x = base ** (pTail / pHead);
  return { rho: x / (x + N - 1), etaTau: Math.log(base) / pHead };
}

/** What the report's measurements hold: one ϱ_τ search, or one Δ-vs-loss curve, per optimizer × embedding. */
export type BalanceMeasurement =
  | ({ kind: 'balance'; optimizer: string; embedding: BalanceEmbedding } & SweepBalance)
  | ({ kind: 'balance-vs-K'; optimizer: string; embedding: BalanceEmbedding; K: number; headCount: number } & SweepBalance)
  | { kind: 'delta-vs-loss'; optimizer: string; embedding: BalanceEmbedding; etas: number[]; points: [number, number][] };

/** One cell per embedding: its first directions, ϱ_τ sweeps and Δ-vs-loss curves (raw results). */
interface EmbeddingResult {
  balance: [string, SweepBalance][];
  curves: { name: string; points: [number, number][] }[];
  measurements: BalanceMeasurement[];
}

/** τ and optimizers of the sweep over K. */
export const SWEEP_TAU = 0.1;
const SWEEP_OPTIMIZERS = OPTIMIZERS.filter((o) => ['GD', 'SignGD', 'Muon exact'].includes(o.label));

/**
 * ϱ_τ of GD, SignGD and Muon exact after one step at K = N = d classes on coupled-rotation embeddings,
 * K/5 head items with mass 0.8 (the sweep's point K).
 *
 * @example
 * const rows = await balanceAtK(gpu, 120); // rows[k].rho, rows[k].etaTau
 */
export async function balanceAtK(
  gpu: Gpu,
  K: number,
  progress: (message: string) => void = () => {},
): Promise<Extract<BalanceMeasurement, { kind: 'balance-vs-K' }>[]> {
  if (K % 15 !== 0) throw new RangeError(`balanceAtK: K must be a multiple of 15 (3×3 blocks, K/5 head items), got ${K}`);
  const headCount = K / 5;
  const embedding = 'coupled-rotation' as const;
  const task = await createGpuTask(gpu, {
    N: K,
    dIn: K,
    dOut: K,
    embedding,
    frequency: { kind: 'two-class', headCount, headMass: HEAD_MASS },
  });
  try {
    const directions = await firstDirections(
      gpu,
      task,
      SWEEP_OPTIMIZERS.map((o) => o.config),
    );
    const out: Extract<BalanceMeasurement, { kind: 'balance-vs-K' }>[] = [];
    for (const [k, opt] of SWEEP_OPTIMIZERS.entries()) {
      progress(`K = ${K}: ${opt.label} ϱ_${SWEEP_TAU}`);
      out.push({
        kind: 'balance-vs-K',
        optimizer: opt.label,
        embedding,
        K,
        headCount,
        ...(await sweepBalance(gpu, task, directions[k], SWEEP_TAU)),
      });
    }
    return out;
  } finally {
    task.destroy();
  }
}

async function runEmbedding(
  gpu: Gpu,
  scale: Scale,
  cell: PresetCell<BalanceOnestepCell>,
  progress: (message: string) => void,
): Promise<EmbeddingResult> {
  if (cell.params.K !== undefined) return { balance: [], curves: [], measurements: await balanceAtK(gpu, cell.params.K, progress) };
  const { embedding } = cell.params;
  const { N, headCount } = plan.settings[scale];
  const balance: [string, SweepBalance][] = [];
  const curves: EmbeddingResult['curves'] = [];
  const measurements: BalanceMeasurement[] = [];
  progress(`${embedding}: first directions`);
  const task = await createGpuTask(gpu, {
    N,
    dIn: N,
    dOut: N,
    embedding,
    frequency: { kind: 'two-class', headCount, headMass: HEAD_MASS },
  });
  try {
    const directions = await firstDirections(
      gpu,
      task,
      OPTIMIZERS.map((o) => o.config),
    );
    for (const [k, opt] of OPTIMIZERS.entries()) {
      const mine = new Map<number, SweepBalance>();
      for (const tau of TAUS) {
        progress(`${embedding}: ${opt.label} ϱ_${tau}`);
        const r = await sweepBalance(gpu, task, directions[k], tau);
        mine.set(tau, r);
        balance.push([`${opt.label}|${embedding}|${tau}`, r]);
        measurements.push({ kind: 'balance', optimizer: opt.label, embedding, ...r });
      }
      // Δ against population loss along the sweep, η from 0.01·η_0.1 to 10·η_0.01 (log grid).
      const lo = mine.get(0.1)!.etaTau / 100;
      const hi = mine.get(0.01)!.etaTau * 10;
      const etas = Array.from({ length: 16 }, (_, i) => lo * (hi / lo) ** (i / 15));
      const evals = await evaluateAtStepSizes(
        gpu,
        task,
        etas.map((eta) => ({ direction: directions[k], eta })),
      );
      const points: [number, number][] = evals.map((e) => {
        let loss = 0;
        let max = -Infinity;
        let min = Infinity;
        e.pCorrect.forEach((p, i) => {
          loss += task.frequencies[i] * e.loss[i];
          max = Math.max(max, p);
          min = Math.min(min, p);
        });
        return [loss, max - min];
      });
      curves.push({ name: `${opt.label} (${embedding})`, points });
      measurements.push({ kind: 'delta-vs-loss', optimizer: opt.label, embedding, etas, points });
    }
  } finally {
    task.destroy();
  }
  return { balance, curves, measurements };
}

/** Predictions, tables, plot and report from both embeddings' raw results (identity first). */
function summarize(scale: Scale, results: readonly CellOutcome<BalanceOnestepCell, EmbeddingResult>[]): PresetReport<BalanceMeasurement> {
  const { N, headCount, sweepKs } = plan.settings[scale];
  const ordered = results.map((r) => r.result);
  const balance = new Map<string, SweepBalance>(ordered.flatMap((r) => r.balance));
  const measurements = ordered.flatMap((r) => r.measurements);
  const elapsedMs = results.reduce((s, r) => s + r.elapsedMs, 0);
  const predictions: PredictionRecord[] = [];
  const get = (label: string, embedding: string, tau: number) => balance.get(`${label}|${embedding}|${tau}`)!;
  for (const tau of TAUS) {
    const exact = gdClosedForm(N, headCount, HEAD_MASS, tau);
    for (const embedding of EMBEDDINGS) {
      const gd = get('GD', embedding, tau);
      predictions.push({
        name: `GD ϱ_${tau} (${embedding})`,
        formula: 'x/(x+N−1), x = ((1−τ)(N−1)/τ)^(p_tail/p_head)',
        predicted: exact.rho,
        measured: gd.rho,
        tolerance: '1% relative',
        agrees: Math.abs(gd.rho / exact.rho - 1) <= 0.01,
      });
      predictions.push({
        name: `GD η_${tau} (${embedding})`,
        formula: 'ln((1−τ)(N−1)/τ)/p_head',
        predicted: exact.etaTau,
        measured: gd.etaTau,
        tolerance: '1% relative',
        agrees: Math.abs(gd.etaTau / exact.etaTau - 1) <= 0.01,
      });
      const bound = 1 - tau * (1 + (2 * Math.log(N)) / N);
      const muon = get('Muon exact', embedding, tau);
      predictions.push({
        name: `Muon exact ϱ_${tau} (${embedding})`,
        formula: '≥ 1 − τ(1 + 2 ln N/N)',
        predicted: bound,
        measured: muon.rho,
        tolerance: 'lower bound',
        agrees: muon.rho >= bound,
      });
      const sign = get('SignGD', embedding, tau);
      const adam = get('Adam (β=0, ε=1e-12)', embedding, tau);
      predictions.push({
        name: `Adam(β=0) − SignGD ϱ_${tau} (${embedding})`,
        formula: 'Adam with β1 = β2 = 0 is SignGD',
        predicted: 0,
        measured: adam.rho - sign.rho,
        tolerance: '±0.01',
        agrees: Math.abs(adam.rho - sign.rho) <= 0.01,
      });
    }
    const gdId = get('GD', 'identity', tau).rho;
    const gdCr = get('GD', 'coupled-rotation', tau).rho;
    predictions.push({
      name: `GD ϱ_${tau}: identity vs coupled-rotation`,
      formula: 'identical (the closed form does not depend on the embedding)',
      predicted: 0,
      measured: gdCr / gdId - 1,
      tolerance: '1% relative',
      agrees: Math.abs(gdCr / gdId - 1) <= 0.01,
    });
  }
  const signId = get('SignGD', 'identity', 0.1).rho;
  const muonId = get('Muon exact', 'identity', 0.1).rho;
  predictions.push({
    name: 'SignGD − Muon ϱ_0.1 (identity)',
    formula: 'SignGD = Muon on identity embeddings',
    predicted: 0,
    measured: signId - muonId,
    tolerance: '±0.01',
    agrees: Math.abs(signId - muonId) <= 0.01,
  });
  const signCr = get('SignGD', 'coupled-rotation', 0.1);
  predictions.push({
    name: 'SignGD ϱ_0.1 (coupled-rotation)',
    formula: 'collapses: far below Muon',
    predicted: '< 0.5',
    measured: signCr.rho,
    tolerance: '< 0.5',
    agrees: signCr.rho < 0.5,
  });

  const sweep = sweepPredictions(
    measurements.filter((m): m is Extract<BalanceMeasurement, { kind: 'balance-vs-K' }> => m.kind === 'balance-vs-K'),
  );
  predictions.push(...sweep.predictions);

  const rows = [...balance.entries()].map(([key, r]) => {
    const [label, embedding, tau] = key.split('|');
    return [label, embedding, tau, r.rho, r.etaTau, r.rhoInfimum];
  });
  const figures = [
    deltaVsLossFigure(
      measurements.flatMap((m) => (m.kind === 'delta-vs-loss' ? [m] : [])),
      { N },
    ),
    rhoBarsFigure(
      measurements.flatMap((m) => (m.kind === 'balance' ? [m] : [])),
      { N, gdClosedForm: (tau) => gdClosedForm(N, headCount, HEAD_MASS, tau).rho },
    ),
  ];
  const markdown = [
    ...reportHead(
      'b-balance-onestep',
      scale,
      `${plan.paper}. One population step from W₀ = 0, N = d = ${N}, ${headCount} head items with mass ${HEAD_MASS}; ϱ_τ = min_i p̂(y|i) at the smallest η where max_i p̂ = 1 − τ (bisection to 1e-5 on the GPU's per-item values); the infimum variant scans η up to 1000·η_τ.`,
      predictions,
    ),
    '## Balance per optimizer',
    '',
    markdownTable(['optimizer', 'embedding', 'τ', 'ϱ_τ (first crossing)', 'η_τ', 'ϱ (infimum)'], rows),
    '',
    ...figures.map(figureMarkdown),
    '',
    ...(sweep.rows.length
      ? [
          `## Balance against the number of classes K (ϱ_${SWEEP_TAU}, coupled-rotation, K/5 head items)`,
          '',
          markdownTable(['K', ...SWEEP_OPTIMIZERS.map((o) => o.label), 'GD closed form', `Muon bound 1 − τ(1 + 2 ln K/K)`], sweep.rows),
          '',
        ]
      : []),
  ].join('\n');
  return presetReport({
    preset: 'b-balance-onestep',
    scale,
    settings: {
      N,
      d: N,
      headCount,
      headMass: HEAD_MASS,
      taus: TAUS,
      optimizers: OPTIMIZERS,
      ...(sweepKs.length ? { sweepKs, sweepTau: SWEEP_TAU } : {}),
    },
    predictions,
    measurements,
    plots: figures,
    markdown,
    elapsedMs,
  });
}

/**
 * [B]'s K-scaling claims from the sweep's ϱ_τ per K: fitted exponents of ϱ against K with the
 * predictions GD r − 1, SignGD (coupled-rotation) −0.3, Muon 0 with the bound at every K.
 */
export function sweepPredictions(points: readonly Extract<BalanceMeasurement, { kind: 'balance-vs-K' }>[]): {
  predictions: PredictionRecord[];
  rows: (string | number)[][];
} {
  const Ks = [...new Set(points.map((p) => p.K))].sort((x, y) => x - y);
  const predictions: PredictionRecord[] = [];
  if (Ks.length === 0) return { predictions, rows: [] };
  const rhoOf = (label: string, K: number) => points.find((p) => p.optimizer === label && p.K === K)?.rho ?? NaN;
  const r = (1 - HEAD_MASS) / 4 / HEAD_MASS; // p_tail/p_head with K/5 head items: (0.2/(0.8K))/(0.8/(0.2K))
  const closed = Ks.map((K) => gdClosedForm(K, K / 5, HEAD_MASS, SWEEP_TAU).rho);
  const rows = Ks.map((K, k) => [
    K,
    ...SWEEP_OPTIMIZERS.map((o) => rhoOf(o.label, K)),
    closed[k],
    1 - SWEEP_TAU * (1 + (2 * Math.log(K)) / K),
  ]);
  if (Ks.length >= 2) {
    const closedSlope = fitPowerLaw(Ks, closed).slope;
    const claims: [string, string, number, number][] = [
      [
        'GD',
        `[B]: ϱ = O(ε^{−r} K^{r−1}), r = p_tail/p_head = ${r}; the closed form's slope over these K is ${closedSlope.toFixed(4)}`,
        r - 1,
        0.05,
      ],
      ['SignGD', '[B]: on coupled embeddings ϱ = O(ε^{−0.7} K^{−0.3})', -0.3, 0.1],
      ['Muon exact', '[B]: ϱ ≥ 1 − ε(1 + O(log K/K)) → flat in K', 0, 0.02],
    ];
    for (const [label, formula, predicted, tol] of claims) {
      const ys = Ks.map((K) => rhoOf(label, K));
      const name = `${label} ϱ_${SWEEP_TAU} exponent in K (coupled-rotation)`;
      if (!ys.every((y) => y > 0)) {
        predictions.push({ name, formula, predicted, measured: NaN, ci: null, tolerance: `±${tol}`, agrees: false });
        continue;
      }
      const fit = fitPowerLaw(Ks, ys);
      predictions.push({
        name,
        formula,
        predicted,
        measured: fit.slope,
        ci: fit.slopeCI.every(Number.isFinite) ? fit.slopeCI : null,
        tolerance: `±${tol}`,
        agrees: Math.abs(fit.slope - predicted) <= tol,
      });
    }
  }
  for (const K of Ks) {
    const bound = 1 - SWEEP_TAU * (1 + (2 * Math.log(K)) / K);
    const rho = rhoOf('Muon exact', K);
    predictions.push({
      name: `Muon exact ϱ_${SWEEP_TAU} at K = ${K} (coupled-rotation)`,
      formula: '≥ 1 − τ(1 + 2 ln K/K)',
      predicted: bound,
      measured: rho,
      tolerance: 'lower bound',
      agrees: rho >= bound,
    });
  }
  return { predictions, rows };
}

export const bBalanceOnestep = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell: runEmbedding, summarize });
