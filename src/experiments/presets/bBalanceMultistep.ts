/**
 * `b-balance-multistep` ([B] §5, docs/math.md §4 "Multi-step Muon stays balanced"): population training from
 * W₀ = 0 on two-class frequencies, GD / SignGD / Muon (`exact`, no momentum) / Adam on `identity` and
 * `coupled-rotation` embeddings; Δ = max p̂ − min p̂ at every step and, per τ, ϱ_τ along training: the
 * min p̂ at the earliest step where max p̂ ≥ 1 − τ (docs/math.md §3).
 *
 * What is predicted, and why:
 * - Muon: the polar factor raises every item's margin by nearly the same amount whatever its
 *   frequency, so at the crossing min p̂ is close to max p̂: ϱ_τ ≥ 1 − τ(1 + 2 ln N/N), the
 *   one-step bound. orth(ẼᵀGE) = Ẽᵀ orth(G) E for orthogonal E, Ẽ, so Muon's trajectory in logit
 *   space is the same for both embeddings.
 * - GD is equivariant too, and on orthonormal embeddings item i's margin follows the scalar
 *   recurrence m_i ← m_i + η·p_i·(1 − p̂_i)·N/(N−1): its ϱ_τ along training is that recurrence's
 *   (computed here in Float64), the same for both embeddings, and poor (tail items barely move).
 * - SignGD on `identity` raises every margin by exactly 2η (Δ = 0 at every step); on
 *   `coupled-rotation` sign() is not equivariant and its balance is worse than Muon's.
 * - Adam (β1 = 0.9, β2 = 0.999, ε = 1e-12) is coordinate-wise like SignGD: reported.
 */
import type { Gpu } from '../../gpu/device';
import { frequencies } from '../../task/frequencies';
import type { CellResult } from '../../train/records';
import { trainCell } from '../../train/trainCell';
import { deltaVsStepFigure, minVsMaxFigure } from '../../plots/figures/balance';
import { figureMarkdown } from '../../plots/spec';
import { definePreset, type CellOutcome } from './cellular';
import { EMBEDDINGS, type BalanceEmbedding } from './plans/bBalanceOnestep';
import { bBalanceMultistepPlan as plan } from './plans/bBalanceMultistep';
import { markdownTable, presetInfo, presetReport, reportHead, type PresetCell, type PredictionRecord, type Scale } from './types';

export type { MultistepSettings } from './plans/bBalanceMultistep';
export const MULTISTEP_SETTINGS = plan.settings;
export const HEAD_MASS = 0.8;
export const TAUS = [0.1, 0.01] as const;

/**
 * Step sizes: Muon η = 1 raises margins by ≈ 1 per step (crossing τ = 0.01 near ln((N−1)·99) steps);
 * SignGD and Adam take η = 0.5 (margins grow by 2η on identity); GD takes η = 4/p_head, so head items
 * move ≈ 4·(1 − p̂) per step and the run crosses τ = 0.1 within a few steps.
 */
export function multistepOptimizers(N: number, headCount: number): { label: string; config: Record<string, unknown> }[] {
  const pHead = HEAD_MASS / headCount;
  void N;
  return [
    { label: 'GD', config: { name: 'gd', lr: 4 / pHead } },
    { label: 'SignGD', config: { name: 'signgd', lr: 0.5 } },
    { label: 'Muon exact', config: { name: 'muon', lr: 1, momentum: 0, orth: 'exact' } },
    { label: 'Adam', config: { name: 'adam', lr: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-12 } },
  ];
}

/** GD on orthonormal embeddings in Float64: the earliest step with max p̂ ≥ 1 − τ and min p̂ there. */
export function gdRecurrenceBalance(
  p: Float64Array,
  eta: number,
  steps: number,
  tau: number,
): { step: number | null; rho: number | null; deltas: number[] } {
  const N = p.length;
  const m = new Float64Array(N);
  let crossing: { step: number; rho: number } | null = null;
  const deltas: number[] = [];
  for (let t = 0; t <= steps; t++) {
    let max = -Infinity;
    let min = Infinity;
    for (let i = 0; i < N; i++) {
      const pc = 1 / (1 + (N - 1) * Math.exp(-m[i]));
      max = Math.max(max, pc);
      min = Math.min(min, pc);
    }
    deltas.push(max - min);
    if (!crossing && max >= 1 - tau) crossing = { step: t, rho: min };
    for (let i = 0; i < N; i++) {
      const x = (N - 1) * Math.exp(-m[i]);
      m[i] += (eta * p[i] * (x / (1 + x)) * N) / (N - 1);
    }
  }
  return { step: crossing?.step ?? null, rho: crossing?.rho ?? null, deltas };
}

export type MultistepRun = {
  optimizer: string;
  embedding: string;
  lr: number;
  steps: number[];
  delta: number[];
  maxPCorrect: number[];
  minPCorrect: number[];
  loss: number[];
  /** Per τ: earliest step with max p̂ ≥ 1 − τ (null: never within the run) and min p̂ there. */
  crossing: Record<string, { step: number | null; rho: number | null }>;
};

type EmbeddingCell = PresetCell<{ embedding: BalanceEmbedding }>;

function runsOf(result: CellResult, embedding: string, lrs: number[]): MultistepRun[] {
  return result.runs.map((run) => {
    const recs = result.records.filter((r) => r.run === run.run).sort((a, b) => a.step - b.step);
    const crossing: MultistepRun['crossing'] = {};
    for (const tau of TAUS) {
      const step = run.firstCrossing[String(tau)] ?? null;
      crossing[String(tau)] = { step, rho: step === null ? null : recs.find((r) => r.step === step)!.minPCorrect };
    }
    return {
      optimizer: run.optimizer,
      embedding,
      lr: lrs[run.optimizerIndex],
      steps: recs.map((r) => r.step),
      delta: recs.map((r) => r.delta),
      maxPCorrect: recs.map((r) => r.maxPCorrect),
      minPCorrect: recs.map((r) => r.minPCorrect),
      loss: recs.map((r) => r.loss),
      crossing,
    };
  });
}

/** One cell: the four optimizers trained together on the cell's embedding; every step is a metric step. */
async function runEmbedding(
  gpu: Gpu,
  scale: Scale,
  cell: EmbeddingCell,
  progress: (message: string) => void,
): Promise<{ runs: MultistepRun[] }> {
  const s = plan.settings[scale];
  const { embedding } = cell.params;
  const optimizers = multistepOptimizers(s.N, s.headCount);
  progress(`${embedding}: ${optimizers.map((o) => o.label).join(', ')}, ${s.steps} steps`);
  const result = await trainCell(
    gpu,
    {
      name: `b-balance-multistep-${embedding}`,
      task: { N: s.N, dIn: s.N, dOut: s.N, embedding, frequency: { kind: 'two-class', headCount: s.headCount, headMass: HEAD_MASS } },
      optimizers: optimizers.map((o) => ({ ...o.config, label: o.label }) as never),
      training: { steps: s.steps },
      metrics: { every: 1, tau: [...TAUS] },
    },
    {
      onProgress: (e) => {
        if (e.step % 4 === 0) progress(`${embedding}: step ${e.step}/${e.steps}`);
      },
    },
  );
  return {
    runs: runsOf(
      result,
      embedding,
      optimizers.map((o) => o.config.lr as number),
    ),
  };
}

const fmt = (v: number | null) => (v === null ? 'never' : v);

/** Predictions, table, plots and report from both embeddings' runs (identity first). */
function summarize(scale: Scale, results: readonly CellOutcome<EmbeddingCell['params'], { runs: MultistepRun[] }>[]) {
  const s = plan.settings[scale];
  const { N, headCount } = s;
  const runs = results.flatMap((r) => r.result.runs);
  const get = (label: string, embedding: string) => runs.find((r) => r.optimizer === label && r.embedding === embedding)!;
  const p = frequencies(N, { kind: 'two-class', headCount, headMass: HEAD_MASS });
  const gdLr = get('GD', 'identity').lr;
  const predictions: PredictionRecord[] = [];
  for (const tau of TAUS) {
    const key = String(tau);
    const bound = 1 - tau * (1 + (2 * Math.log(N)) / N);
    const rec = gdRecurrenceBalance(p, gdLr, s.steps, tau);
    for (const embedding of EMBEDDINGS) {
      const muon = get('Muon exact', embedding).crossing[key];
      predictions.push({
        name: `Muon ϱ_${tau} along training (${embedding})`,
        formula: '≥ 1 − τ(1 + 2 ln N/N)',
        predicted: bound,
        measured: muon.rho ?? NaN,
        tolerance: 'lower bound',
        agrees: muon.rho !== null && muon.rho >= bound,
      });
      const gd = get('GD', embedding).crossing[key];
      if (rec.rho === null) {
        predictions.push({
          name: `GD crosses max p̂ ≥ ${1 - tau} (${embedding})`,
          formula: 'Float64 recurrence: not within the run',
          predicted: 'never',
          measured: gd.step ?? NaN,
          tolerance: 'same as the recurrence',
          agrees: gd.step === null,
        });
      } else {
        // f32 margins after ≤ 24 steps carry ≲ 1e-6 relative error; min p̂ ≈ e^{m}/N moves by the same.
        const ok = gd.step === rec.step && gd.rho !== null && Math.abs(gd.rho / rec.rho - 1) <= 0.01;
        predictions.push({
          name: `GD ϱ_${tau} along training (${embedding})`,
          formula: `Float64 recurrence m_i += η·p_i·(1 − p̂_i)·N/(N−1), crossing at step ${rec.step}`,
          predicted: rec.rho,
          measured: gd.rho ?? NaN,
          tolerance: '1% relative, same step',
          agrees: ok,
        });
      }
    }
    const mi = get('Muon exact', 'identity').crossing[key].rho;
    const mc = get('Muon exact', 'coupled-rotation').crossing[key].rho;
    predictions.push({
      name: `Muon ϱ_${tau}: identity − coupled-rotation`,
      formula: 'orth is equivariant under orthogonal embeddings',
      predicted: 0,
      measured: mi !== null && mc !== null ? mi - mc : NaN,
      tolerance: '±1e-3 (f32 polar factor)',
      agrees: mi !== null && mc !== null && Math.abs(mi - mc) <= 1e-3,
    });
    const sc = get('SignGD', 'coupled-rotation').crossing[key].rho;
    predictions.push({
      name: `SignGD − Muon ϱ_${tau} (coupled-rotation)`,
      formula: 'sign() is not equivariant: SignGD less balanced than Muon',
      predicted: '< 0',
      measured: sc !== null && mc !== null ? sc - mc : NaN,
      tolerance: '< 0',
      agrees: sc !== null && mc !== null && sc < mc,
    });
  }
  const signId = get('SignGD', 'identity');
  const signDelta = Math.max(...signId.delta);
  predictions.push({
    name: 'SignGD Δ over all steps (identity)',
    formula: 'every margin grows by exactly 2η: Δ = 0',
    predicted: 0,
    measured: signDelta,
    tolerance: '≤ 1e-6 (f32)',
    agrees: signDelta <= 1e-6,
  });

  const rows = runs.map((r) => [
    r.optimizer,
    r.embedding,
    r.lr,
    ...TAUS.flatMap((tau) => [fmt(r.crossing[String(tau)].step), fmt(r.crossing[String(tau)].rho)]),
    r.delta[r.delta.length - 1],
    r.loss[r.loss.length - 1],
  ]);
  const figures = [deltaVsStepFigure(runs, { N, headCount }), minVsMaxFigure(runs, { N })];
  const markdown = [
    ...reportHead(
      'b-balance-multistep',
      scale,
      `${plan.paper}. Population training from W₀ = 0, N = d = ${N}, ${headCount} head items with mass ${HEAD_MASS}, ${s.steps} steps; every step read back. ϱ_τ along training is min p̂ at the earliest step where max p̂ ≥ 1 − τ (docs/math.md §3). Step sizes: ${multistepOptimizers(
        N,
        headCount,
      )
        .map((o) => `${o.label} η = ${Number((o.config.lr as number).toPrecision(4))}`)
        .join(', ')} (Adam β1 = 0.9, β2 = 0.999, ε = 1e-12; Muon without momentum).`,
      predictions,
    ),
    '## Balance along training',
    '',
    markdownTable(['optimizer', 'embedding', 'η', 'step (τ = 0.1)', 'ϱ_0.1', 'step (τ = 0.01)', 'ϱ_0.01', 'final Δ', 'final loss'], rows),
    '',
    ...figures.map(figureMarkdown),
  ].join('\n');
  return presetReport({
    preset: plan.name,
    scale,
    settings: { ...s, d: N, headMass: HEAD_MASS, taus: TAUS, optimizers: multistepOptimizers(N, headCount) },
    predictions,
    measurements: runs.map((r) => ({ kind: 'balance-along-training', ...r })),
    plots: figures,
    markdown,
    elapsedMs: results.reduce((sum, r) => sum + r.elapsedMs, 0),
  });
}

export const bBalanceMultistep = definePreset({ ...presetInfo(plan), cells: plan.cells, runCell: runEmbedding, summarize });
