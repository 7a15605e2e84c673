/**
 * Multi-step training with the update direction chosen per run and W kept in Float64 on the host:
 * the GPU computes the gradient (and, in the same pass, every item's recall at W_t); the direction is
 * the gradient itself (GD), the GPU `exact` polar factor of the f32 gradient (`gpu-polar`: Muon as
 * the theory means it, docs/math.md §2.6), [C]'s regularized map h_λ(G) = G(GᵀG + λ²I)^{−1/2} on the
 * GPU (`gpu-regularized`), or the Float64 SVD polar factor on the host (`polar`: the reference, kept
 * as a cross-check series). W_{t+1} = W_t − η_t·D is accumulated in Float64 and uploaded as f32.
 *
 * h_λ on the GPU is the top block of the polar factor of the tall matrix [G; λI]: its Gram matrix is
 * GᵀG + λ²I, so polar([G; λI]) = [G; λI]·(GᵀG + λ²I)^{−1/2}. That reuses the accurate `exact`
 * kernel, and [G; λI] is never worse conditioned than √(σ_max² + λ²)/λ — unlike forming GᵀG + λ²I
 * in f32 (muon-reg's coupled iteration squares κ(G)). For `polar` the f32 gradient's null space sits
 * at ~ε_f32·σ_max, so σ ≤ max(m,n)·ε_f32·σ_max count as zero (polarFactor's f32 threshold).
 *
 * Population mode: one GPU pass per step gives G_t and the per-item outputs at W_t. Minibatch mode:
 * each step draws B fresh items per run with the CPU twin of the GPU sampler (bit-identical draws,
 * docs/math.md §6, so the distinct items seen are counted exactly), the GPU computes the minibatch gradient,
 * and recall is evaluated on the top `evalItems` items (src/experiments/topItemRecall.ts).
 */
import type { Gpu } from '../gpu/device';
import { runCommands } from '../gpu/commands';
import { createTensor, readTensor, runRange, writeTensor, type Tensor } from '../gpu/tensor';
import { createNsWorkspace, newtonSchulz, readExactReport, type NsWorkspace } from '../kernels/newtonSchulz/newtonSchulz';
import { computeSoftmaxGrad, itemOutputs, outputColumn, SOFTMAX_OUTPUT_COLUMNS } from '../kernels/softmaxGrad/softmaxGrad';
import { polarFactor, regularizedPolar } from '../cpu/polar';
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
  /**
   * `gradient`: D = G (GD / SGD); `gpu-polar`: the GPU `exact` polar factor of the f32 gradient (Muon,
   * no momentum); `polar`: U Vᵀ of G from a Float64 SVD (the reference); `gpu-regularized`: h_λ(G) with
   * λ = lambda(t) at step t = 1, 2, … (the top block of the GPU `exact` of [G; λI]).
   */
  direction: 'gradient' | 'polar' | 'gpu-polar' | 'gpu-regularized';
  /** λ_t of step t = 1, 2, … (`gpu-regularized` only). */
  lambda?: (t: number) => number;
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
  /** GPU directions: steps and residual of the `exact` iteration that made the update from W_t (null otherwise, and at the last record). */
  orthSteps: number | null;
  orthResidual: number | null;
  /** `gpu-regularized`: λ of the update from W_t. */
  lambda: number | null;
  /** GPU directions: whether the GPU result was not finite and the Float64 SVD form was used for this update. */
  orthFallback: boolean | null;
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
  if (minibatch && !(Number.isInteger(B) && B >= 1))
    throw new RangeError(`trainWithHostDirections: batchSize must be a positive integer, got ${B}`);
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
  const gpuWork: GpuDirectionWork = {};
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
        const result = await computeSoftmaxGrad(
          gpu,
          { W, G, embeddings: task.embeddings, targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'sampled' },
          { checkFinite: false },
        );
        try {
          const out = await readTensor(gpu, result.outputs);
          for (let r = 0; r < R; r++) {
            const { correct } = itemOutputs(out, r, N);
            caps.push({
              capacity: capacity(correct),
              prefix: capacityPrefix(correct),
              loss: weightedLoss(task.frequencies, out, r * N * COLUMNS, COLUMNS, LOSS),
            });
          }
          if (update) gradient = await readTensor(gpu, G);
        } finally {
          result.destroy();
        }
      } else if (t === 0 || !update || (options.evaluateAt?.(t) ?? true)) {
        const recall = await recallTopItems(gpu, task, w, evalItems);
        // Every item evaluated: the population loss Σ p_i·loss_i comes with it.
        const lossOf = (x: (typeof recall)[number]) =>
          evalItems === N ? x.loss.reduce((s, l, q) => s + task.frequencies[x.items[q]] * l, 0) : null;
        for (const x of recall) caps.push({ capacity: x.capacity, prefix: x.capacityPrefix, loss: lossOf(x) });
      }
      // The record of W_t: in minibatch mode the items drawn in steps 1 … t (sampler steps 0 … t−1).
      caps.forEach((c, r) => {
        records.push({
          run: r,
          label: runs[r].label,
          step: t,
          capacity: c.capacity,
          capacityPrefix: c.prefix,
          loss: c.loss,
          distinctSeen: minibatch ? distinct[r] : null,
          distinctSeenEvaluated: minibatch ? distinctEvaluated[r] : null,
          samplesSeen: minibatch ? B! * t : null,
          orthSteps: null,
          orthResidual: null,
          lambda: null,
          orthFallback: null,
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
        const draws = sampleMinibatchCpu({
          seeds: runs.map((r) => r.runSeed ?? 0),
          step: t,
          batchSize: B!,
          thresholds: thresholds!,
          N,
          noise: 0,
        });
        writeTensor(gpu, items!, draws.items);
        const result = await computeSoftmaxGrad(
          gpu,
          {
            W,
            G,
            embeddings: task.embeddings,
            targets: { kind: 'minibatch', items: items!, labels: items! },
            noise: 0,
            noiseTarget: 'sampled',
          },
          { checkFinite: false },
        );
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
      const tRecords = records.slice(records.length - caps.length);
      for (let r = 0; r < R; r++) {
        const g = gradient!.subarray(r * size, (r + 1) * size);
        const run = runs[r];
        let d: ArrayLike<number> = g;
        if (run.direction === 'polar') d = polarFactor(g, dOut, dIn, F32_EPSILON);
        else if (run.direction === 'gpu-polar' || run.direction === 'gpu-regularized') {
          const lambda = run.direction === 'gpu-regularized' ? run.lambda!(t + 1) : 0;
          const orth = await gpuDirection(
            gpu,
            gpuWork,
            run.direction === 'gpu-polar' ? { g: runRange(G, r, 1) } : { host: g, lambda },
            dOut,
            dIn,
          );
          d = orth.direction;
          // A non-finite GPU result (seen once for h_λ, [G; λI] at 256×128: the lifting interval's
          // repelling top, fixed by the upper slack of docs/math.md §2.6) is replaced by the Float64
          // SVD form for this update and recorded, never silently.
          const fallback = !orth.direction.every(Number.isFinite);
          if (fallback) d = run.direction === 'gpu-polar' ? polarFactor(g, dOut, dIn, F32_EPSILON) : regularizedPolar(g, dOut, dIn, lambda);
          const rec = tRecords.find((x) => x.run === r);
          if (rec)
            Object.assign(rec, {
              orthSteps: orth.steps,
              orthResidual: orth.residual,
              lambda: run.direction === 'gpu-regularized' ? lambda : null,
              orthFallback: fallback,
            });
        }
        const eta = run.lr(t + 1);
        const x = w[r];
        for (let k = 0; k < size; k++) x[k] -= eta * d[k];
        if (!x.every(Number.isFinite)) {
          let bad = 0;
          for (let k = 0; k < size; k++) if (!Number.isFinite(d[k])) bad++;
          let gNorm = 0;
          for (let k = 0; k < size; k++) gNorm += g[k] * g[k];
          const rec = tRecords.find((y) => y.run === r);
          throw new Error(
            `trainWithHostDirections: run "${runs[r].label}" became non-finite at step ${t + 1} ` +
              `(${bad} non-finite entries in the direction ${run.direction}; ‖G‖_F = ${Math.sqrt(gNorm).toExponential(3)}, η = ${eta}` +
              (rec?.orthSteps != null ? `, exact steps ${rec.orthSteps}, residual ${rec.orthResidual}, λ ${rec.lambda}` : '') +
              ')',
          );
        }
      }
    }
  } finally {
    for (const t of created) t.buffer.destroy();
    gpuWork.destroy?.();
  }
  return { records, steps: last, stopped, evalItems };
}

/** Buffers of the GPU directions, made on first use and kept for the whole run. */
interface GpuDirectionWork {
  polar?: { output: Tensor<'f32'>; ws: NsWorkspace };
  regularized?: { input: Tensor<'f32'>; output: Tensor<'f32'>; ws: NsWorkspace };
  destroy?: () => void;
}

/**
 * One run's GPU direction: the `exact` polar factor of a gradient already on the GPU, or h_λ of a
 * host gradient through [G; λI] (uploaded as f32: G is the GPU's f32 gradient, λI is exact up to
 * one rounding of λ). Returns D (dOut × dIn) and the iteration's stop decision.
 */
async function gpuDirection(
  gpu: Gpu,
  work: GpuDirectionWork,
  source: { g: Tensor } | { host: Float32Array; lambda: number },
  dOut: number,
  dIn: number,
): Promise<{ direction: Float32Array; steps: number; residual: number }> {
  const owned = () => {
    work.destroy = () => {
      for (const w of [work.polar, work.regularized]) {
        if (!w) continue;
        for (const t of Object.values(w)) if ('buffer' in t) t.buffer.destroy();
        w.ws.destroy();
      }
    };
  };
  if ('g' in source) {
    if (!work.polar) {
      work.polar = {
        output: createTensor(gpu, { batch: 1, rows: dOut, cols: dIn, label: 'host-direction D' }),
        ws: createNsWorkspace(gpu, { batch: 1, rows: dOut, cols: dIn }, 'host-direction exact'),
      };
      owned();
    }
    const { output, ws } = work.polar;
    await runCommands(gpu, async (rec) => {
      await newtonSchulz(rec, { input: source.g, output, orth: 'exact', workspace: ws });
    });
    const report = await readExactReport(gpu, ws);
    return { direction: await readTensor(gpu, output), steps: report.steps[0], residual: report.stepChange[0] };
  }
  const rows = dOut + dIn;
  if (!work.regularized) {
    work.regularized = {
      input: createTensor(gpu, { batch: 1, rows, cols: dIn, label: 'host-direction [G; λI]' }),
      output: createTensor(gpu, { batch: 1, rows, cols: dIn, label: 'host-direction polar([G; λI])' }),
      ws: createNsWorkspace(gpu, { batch: 1, rows, cols: dIn }, 'host-direction regularized'),
    };
    owned();
  }
  const { input, output, ws } = work.regularized;
  if (!(source.lambda > 0) || !Number.isFinite(source.lambda))
    throw new RangeError(`gpu-regularized: lambda must be a finite number > 0, got ${source.lambda}`);
  const augmented = new Float32Array(rows * dIn);
  augmented.set(source.host);
  for (let j = 0; j < dIn; j++) augmented[(dOut + j) * dIn + j] = source.lambda;
  writeTensor(gpu, input, augmented);
  await runCommands(gpu, async (rec) => {
    await newtonSchulz(rec, { input, output, orth: 'exact', workspace: ws });
  });
  const report = await readExactReport(gpu, ws);
  const full = await readTensor(gpu, output);
  return { direction: full.subarray(0, dOut * dIn), steps: report.steps[0], residual: report.stepChange[0] };
}
