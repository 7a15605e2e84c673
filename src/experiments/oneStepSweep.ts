/**
 * One-step step-size sweeps from W₀ = 0 ([B] §5): for every optimizer of docs/math.md §2 the first update
 * from zero is linear in η — W₁(η) = −η·D with D the first direction (G, sign(G), orth(G), Adam's
 * m̂/(√v̂+ε)) — so D is computed once on the GPU with η = 1 and each η is then a forward evaluation
 * of −η·D. The per-item p̂(y(i)|i) at each η come from the GPU's softmax kernel; the search over η
 * evaluates 16 step sizes per program (one batched forward), which narrows a bracket 16× per round.
 */
import { runCommands } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { createRunParams } from '../gpu/runParams';
import { createTensor, readTensor, writeTensor } from '../gpu/tensor';
import { computeSoftmaxGrad, itemOutputs } from '../kernels/softmaxGrad/softmaxGrad';
import { searchBalance, type BalanceResult, type ExtremeRecall } from '../metrics/balance';
import { createOptimizer, parseOptimizerConfig, runParamsFor } from '../optim/index';
import type { GpuTask } from '../task/taskGpu';

export interface OneStepDirection {
  /** D (dOut × dIn, row-major) in f32, as the GPU computed it. */
  direction: Float32Array;
  rows: number;
  cols: number;
}

/**
 * The first update directions D of several optimizers from W₀ = 0 (W₁ = −1·D), sharing one
 * population gradient: at W₀ = 0 every optimizer sees the same G, so it is computed once.
 *
 * @example
 * const [gd, muon] = await firstDirections(gpu, task, [{ name: 'gd' }, { name: 'muon', orth: 'exact', momentum: 0 }]);
 */
export async function firstDirections(
  gpu: Gpu,
  task: GpuTask,
  optimizers: readonly Record<string, unknown>[],
): Promise<OneStepDirection[]> {
  const { N, dIn, dOut } = task.config;
  const w0 = createTensor(gpu, { batch: 1, rows: dOut, cols: dIn, label: 'W0' });
  const g0 = createTensor(gpu, { batch: 1, rows: dOut, cols: dIn, label: 'G at W0' });
  let gradient: Float32Array;
  try {
    const grad = await computeSoftmaxGrad(
      gpu,
      {
        W: w0,
        embeddings: task.embeddings,
        G: g0,
        targets: { kind: 'population', weights: task.weights },
        noise: task.config.noise,
        noiseTarget: task.config.noiseTarget,
      },
      { checkFinite: false },
    );
    grad.destroy();
    gradient = await readTensor(gpu, g0);
  } finally {
    w0.buffer.destroy();
    g0.buffer.destroy();
  }
  const directions: OneStepDirection[] = [];
  for (const optimizer of optimizers) {
    const config = parseOptimizerConfig({ ...optimizer, lr: 1 });
    const w = createTensor(gpu, { batch: 1, rows: dOut, cols: dIn, label: 'one-step W' });
    const g = createTensor(gpu, { batch: 1, rows: dOut, cols: dIn, label: 'one-step G' });
    const params = createRunParams(gpu, [
      runParamsFor(config, { rows: dOut, cols: dIn, dims: { d_in: dIn, d_out: dOut, N }, steps: 1 }).params,
    ]);
    const opt = createOptimizer(gpu, config, { batch: 1, rows: dOut, cols: dIn });
    try {
      writeTensor(gpu, g, gradient);
      await runCommands(gpu, (rec) => opt.step(rec, { w, g, params }));
      const w1 = await readTensor(gpu, w);
      directions.push({ direction: w1.map((x) => -x), rows: dOut, cols: dIn });
    } finally {
      opt.destroy();
      for (const t of [w, g]) t.buffer.destroy();
      params.buffer.destroy();
    }
  }
  return directions;
}

/** One optimizer's first direction (see firstDirections). */
export async function firstDirection(gpu: Gpu, task: GpuTask, optimizer: Record<string, unknown>): Promise<OneStepDirection> {
  return (await firstDirections(gpu, task, [optimizer]))[0];
}

/**
 * Evaluates p̂(y(i)|i) of every item at W = −η·D for several η at once (one batched forward).
 * Returns one Float32Array of N values per η.
 */
export async function recallAtStepSizes(gpu: Gpu, task: GpuTask, d: OneStepDirection, etas: readonly number[]): Promise<Float32Array[]> {
  return (
    await evaluateAtStepSizes(
      gpu,
      task,
      etas.map((eta) => ({ direction: d, eta })),
    )
  ).map((r) => r.pCorrect);
}

export interface ItemEvaluation {
  /** p̂(y(i)|i) per item. */
  pCorrect: Float32Array;
  /** 1 where the true output is the strict argmax. */
  correct: Uint8Array;
  /** −log p̂ per item (stable form). */
  loss: Float32Array;
}

/**
 * Per-item recall of W = −η·D for several (D, η) pairs in one batched forward on the GPU.
 */
export async function evaluateAtStepSizes(
  gpu: Gpu,
  task: GpuTask,
  points: readonly { direction: OneStepDirection; eta: number }[],
): Promise<ItemEvaluation[]> {
  const R = points.length;
  const d = points[0].direction;
  const w = createTensor(gpu, { batch: R, rows: d.rows, cols: d.cols, label: 'sweep W' });
  const g = createTensor(gpu, { batch: R, rows: d.rows, cols: d.cols, label: 'sweep G' });
  try {
    const size = d.direction.length;
    const host = new Float32Array(R * size);
    points.forEach(({ direction, eta }, r) => {
      if (direction.direction.length !== size) throw new RangeError('evaluateAtStepSizes: directions of different shapes');
      for (let k = 0; k < size; k++) host[r * size + k] = -eta * direction.direction[k];
    });
    writeTensor(gpu, w, host);
    const result = await computeSoftmaxGrad(
      gpu,
      {
        W: w,
        embeddings: task.embeddings,
        G: g,
        targets: { kind: 'population', weights: task.weights },
        noise: task.config.noise,
        noiseTarget: task.config.noiseTarget,
      },
      { checkFinite: false },
    );
    try {
      const out = await readTensor(gpu, result.outputs);
      return points.map((_point, r) => itemOutputs(out, r, result.queries));
    } finally {
      result.destroy();
    }
  } finally {
    w.buffer.destroy();
    g.buffer.destroy();
  }
}

function extremes(p: Float32Array): ExtremeRecall {
  let max = -Infinity;
  let min = Infinity;
  for (const v of p) {
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  return { max, min };
}

/** ϱ_τ of a one-step sweep (src/metrics/balance.ts) with the number of batched GPU forwards it took. */
export type SweepBalance = Omit<BalanceResult, 'passes' | 'evaluations'> & { forwardPasses: number };

/**
 * ϱ_τ and η_τ of a one-step direction: searchBalance with 16 step sizes per GPU program (one batched
 * forward narrows the bracket 17×), then the infimum of min p̂ over a log grid of η from η_τ to 1000·η_τ.
 */
export async function sweepBalance(
  gpu: Gpu,
  task: GpuTask,
  d: OneStepDirection,
  tau: number,
  options: { tolerance?: number; lanes?: number } = {},
): Promise<SweepBalance> {
  const lanes = options.lanes ?? 16;
  const {
    passes,
    evaluations: _evaluations,
    ...r
  } = await searchBalance(async (etas) => (await recallAtStepSizes(gpu, task, d, etas)).map(extremes), {
    tau,
    tolerance: options.tolerance,
    lanes,
    initialEta: 1e-3,
    infimumMultiples: Array.from({ length: lanes }, (_, k) => 1000 ** ((k + 1) / lanes)),
  });
  return { ...r, forwardPasses: passes };
}
