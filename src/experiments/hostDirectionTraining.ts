/**
 * Multi-step training whose update direction is formed on the host in Float64: the GPU computes the
 * gradient (and, in the same pass, every item's recall at W_t), the host takes either the gradient
 * itself (GD) or its exact polar factor U Vᵀ from a Float64 SVD (Muon with `orth: exact` as the
 * theory means it), and W_{t+1} = W_t − η_t·D is kept in Float64 and uploaded as f32.
 *
 * Why not the scheduler's GPU Muon: the GPU's `exact` is f32 Polar Express capped at 12 steps, which
 * leaves singular values below ≈ 1e-3·σ_max short of 1 (c-capacity-onestep measured up to half the
 * recovered items lost at a = 2). Presets run the scheduler (src/train/trainCell.ts) beside this as
 * the "GPU f32" series. The f32 gradient's null space sits at ~ε_f32·σ_max, so σ ≤ max(m,n)·ε_f32·σ_max
 * count as zero here (polarFactor's f32 threshold), never lifted to 1.
 *
 * Population mode: one GPU pass per step gives G_t and the per-item outputs at W_t. Minibatch mode:
 * each step draws B fresh items per run with the CPU twin of the GPU sampler (bit-identical draws,
 * docs/math.md §6, so the distinct items seen are counted exactly), the GPU computes the minibatch gradient,
 * and recall is evaluated on the top `evalItems` items (src/experiments/topItemRecall.ts).
 */
import type { Gpu } from '../gpu/device';
import { createTensor, readTensor, writeTensor, type Tensor } from '../gpu/tensor';
import { computeSoftmaxGrad, itemOutputs, outputColumn, SOFTMAX_OUTPUT_COLUMNS } from '../kernels/softmaxGrad/softmaxGrad';
import { polarFactor } from '../cpu/polar';
import { F32_EPSILON } from '../metrics/isotropy';
import { capacity, capacityPrefix } from '../metrics/recall';
import { sampleMinibatchCpu, samplingThresholds } from '../task/sampling';
import type { GpuTask } from '../task/taskGpu';
import { stopDecision, weightedLoss, type RunSnapshot, type StopRules } from '../train/rules';
import { recallTopItems, topItems } from './topItemRecall';

const COLUMNS = SOFTMAX_OUTPUT_COLUMNS.length;
const LOSS = outputColumn('loss');

export interface HostRun {
  label: string;
  /** `gradient`: D = G (GD / SGD); `polar`: D = U Vᵀ of G in Float64 (Muon, exact, no momentum). */
  direction: 'gradient' | 'polar';
  /** η_t of step t = 1, 2, … */
  lr: (t: number) => number;
  /** Minibatch draws' seed (minibatch mode). */
  runSeed?: number;
}

export interface HostTrainingOptions {
  runs: HostRun[];
  /** Largest number of steps T. */
  steps: number;
  /** Minibatch mode with B fresh draws per step; population when absent. */
  batchSize?: number;
  /** Minibatch mode: recall is evaluated on the top-k items by rank (default N). */
  evalItems?: number;
  /** Minibatch mode: the steps whose W_t is evaluated (default every step; step 0 and the last always). */
  evaluateAt?: (step: number) => boolean;
  /** Stop when every live run's capacity gained less than percent% over `window` steps (rules.ts). */
  stop?: StopRules;
  onStep?(step: number, steps: number): void;
}

/** A type (not an interface) so records fit `Record<string, unknown>`: presets report them as measurements. */
export type HostStepRecord = {
  run: number;
  label: string;
  /** t: the record describes W_t. */
  step: number;
  capacity: number;
  capacityPrefix: number;
  /** Population loss Σ p_i·loss_i (population mode, or minibatch mode with every item evaluated). */
  loss: number | null;
  /** Minibatch mode: distinct items drawn in steps 1 … t. */
  distinctSeen: number | null;
  /** Minibatch mode: how many of those are among the evaluated (top `evalItems`) items. */
  distinctSeenEvaluated: number | null;
  /** Items drawn so far (B·t) in minibatch mode. */
  samplesSeen: number | null;
};

export interface HostTrainingResult {
  records: HostStepRecord[];
  /** Last step evaluated. */
  steps: number;
  stopped: 'steps' | 'capacityGain' | 'allDiverged' | 'targetLoss';
  /** Evaluated items (N in population mode). */
  evalItems: number;
}

/**
 * Trains R runs of one task (same shapes) for up to `steps` steps, evaluating every step
 * (minibatch mode: the steps `evaluateAt` picks, and always step 0 and the last).
 *
 * @example
 * const r = await trainWithHostDirections(gpu, task, { steps: 4,
 *   runs: [{ label: 'Muon', direction: 'polar', lr: () => 2 * Math.sqrt(d) }] });
 */
export async function trainWithHostDirections(gpu: Gpu, task: GpuTask, options: HostTrainingOptions): Promise<HostTrainingResult> {
  const { N, dIn, dOut, noise } = task.config;
  const { runs, steps } = options;
  const R = runs.length;
  if (R < 1) throw new RangeError('trainWithHostDirections: runs must not be empty');
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`trainWithHostDirections: steps must be an integer ≥ 0, got ${steps}`);
  if (noise !== 0) throw new RangeError(`trainWithHostDirections: task.noise must be 0, got ${noise}`);
  const B = options.batchSize;
  const minibatch = B !== undefined;
  if (minibatch && !(Number.isInteger(B) && B >= 1)) throw new RangeError(`trainWithHostDirections: batchSize must be a positive integer, got ${B}`);
  const evalItems = minibatch ? (options.evalItems ?? N) : N;
  const size = dOut * dIn;
  const w = runs.map(() => new Float64Array(size));
  const thresholds = minibatch ? samplingThresholds(task.frequencies) : undefined;
  const seen = runs.map(() => new Uint8Array(N));
  const distinct = runs.map(() => 0);
  const distinctEvaluated = runs.map(() => 0);
  const inWindow = new Uint8Array(N);
  if (minibatch) for (const item of topItems(task, evalItems)) inWindow[item] = 1;
  const records: HostStepRecord[] = [];
  const history: RunSnapshot[][] = runs.map(() => []);
  const created: Tensor[] = [];
  let stopped: HostTrainingResult['stopped'] = 'steps';
  let last = 0;
  try {
    const W = createTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'host-direction W' });
    const G = createTensor(gpu, { batch: R, rows: dOut, cols: dIn, label: 'host-direction G' });
    created.push(W, G);
    const items = minibatch ? createTensor(gpu, { batch: R, rows: B!, cols: 1, dtype: 'u32', label: 'host-direction draws' }) : undefined;
    if (items) created.push(items);
    const flat = new Float32Array(R * size);
    for (let t = 0; t <= steps; t++) {
      w.forEach((x, r) => flat.set(x, r * size));
      writeTensor(gpu, W, flat);
      const update = t < steps;
      let gradient: Float32Array | undefined;
      const caps: { capacity: number; prefix: number; loss: number | null }[] = [];
      if (!minibatch) {
        const result = await computeSoftmaxGrad(gpu, { W, G, embeddings: task.embeddings, targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'sampled' }, { checkFinite: false });
        try {
          const out = await readTensor(gpu, result.outputs);
          for (let r = 0; r < R; r++) {
            const { correct } = itemOutputs(out, r, N);
            caps.push({ capacity: capacity(correct), prefix: capacityPrefix(correct), loss: weightedLoss(task.frequencies, out, r * N * COLUMNS, COLUMNS, LOSS) });
          }
          if (update) gradient = await readTensor(gpu, G);
        } finally {
          result.destroy();
        }
      } else if (t === 0 || !update || (options.evaluateAt?.(t) ?? true)) {
        const recall = await recallTopItems(gpu, task, w, evalItems);
        // Every item evaluated: the population loss Σ p_i·loss_i comes with it.
        const lossOf = (x: (typeof recall)[number]) => (evalItems === N ? x.loss.reduce((s, l, q) => s + task.frequencies[x.items[q]] * l, 0) : null);
        for (const x of recall) caps.push({ capacity: x.capacity, prefix: x.capacityPrefix, loss: lossOf(x) });
      }
      // The record of W_t: in minibatch mode the items drawn in steps 1 … t (sampler steps 0 … t−1).
      caps.forEach((c, r) => {
        records.push({
          run: r, label: runs[r].label, step: t, capacity: c.capacity, capacityPrefix: c.prefix, loss: c.loss,
          distinctSeen: minibatch ? distinct[r] : null,
          distinctSeenEvaluated: minibatch ? distinctEvaluated[r] : null,
          samplesSeen: minibatch ? B! * t : null,
        });
        history[r].push({ step: t, loss: c.loss ?? NaN, capacity: c.capacity, diverged: false });
      });
      last = t;
      options.onStep?.(t, steps);
      if (options.stop && caps.length > 0) {
        const decision = stopDecision(history, options.stop);
        if (decision) {
          stopped = decision === 'cancelled' ? 'steps' : decision;
          break;
        }
      }
      if (!update) break;
      if (minibatch) {
        const draws = sampleMinibatchCpu({ seeds: runs.map((r) => r.runSeed ?? 0), step: t, batchSize: B!, thresholds: thresholds!, N, noise: 0 });
        writeTensor(gpu, items!, draws.items);
        const result = await computeSoftmaxGrad(gpu, { W, G, embeddings: task.embeddings, targets: { kind: 'minibatch', items: items!, labels: items! }, noise: 0, noiseTarget: 'sampled' }, { checkFinite: false });
        result.destroy();
        gradient = await readTensor(gpu, G);
        for (let r = 0; r < R; r++) {
          for (let b = 0; b < B!; b++) {
            const item = draws.items[r * B! + b];
            if (!seen[r][item]) {
              seen[r][item] = 1;
              distinct[r]++;
              distinctEvaluated[r] += inWindow[item];
            }
          }
        }
      }
      for (let r = 0; r < R; r++) {
        const g = gradient!.subarray(r * size, (r + 1) * size);
        const d = runs[r].direction === 'polar' ? polarFactor(g, dOut, dIn, F32_EPSILON) : g;
        const eta = runs[r].lr(t + 1);
        const x = w[r];
        for (let k = 0; k < size; k++) x[k] -= eta * d[k];
        if (!x.every(Number.isFinite)) throw new Error(`trainWithHostDirections: run "${runs[r].label}" became non-finite at step ${t + 1}`);
      }
    }
  } finally {
    for (const t of created) t.buffer.destroy();
  }
  return { records, steps: last, stopped, evalItems };
}
