/**
 * Validation mode (`muonlab run CONFIG.json --validate`): the first steps of a small config on the
 * GPU and on the Float64 CPU reference (src/cpu/), re-synchronized every step. Before step t the
 * GPU's state (W_t, optimizer state, run parameters, and in minibatch mode its draws) is read back
 * and handed to the CPU, so each comparison is one map from the same inputs:
 *
 *   loss      population (Σ p_i·loss_i) or minibatch (mean over the B draws) loss at W_t
 *   gradient  G_t from W_t                    (softmaxGradCpu)
 *   update    W_t − W_{t+1} from the GPU's G_t (optimizerStepCpu: the optimizer alone)
 *   weights   W_{t+1}
 *   state:*   the optimizer's state after the step (momentum / first and second moments)
 *
 * Differences are normwise: max_i |gpu_i − cpu_i| / max_i |cpu_i| per run and step (a max-norm
 * relative error, which an element near zero cannot blow up), with the absolute value beside it.
 */
import type { Gpu } from '../gpu/device';
import { runCommands } from '../gpu/commands';
import { advanceRuns, createRunParams, readRunParams } from '../gpu/runParams';
import { createTensor, readTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { softmaxGrad } from '../kernels/softmaxGrad/softmaxGrad';
import { softmaxGradCpu } from '../cpu/softmaxGrad';
import { optimizerStepCpu, type CpuEmbeddings, type CpuRunState } from '../cpu/optim';
import { singularValues } from '../cpu/polar';
import { createOptimizer, parseOptimizerConfig, runParamsFor, writeListLearningRates, type GpuEmbeddings } from '../optim';
import { denseEmbedding } from '../task/embeddings';
import { createGpuTask, sampleMinibatch } from '../task/taskGpu';
import { parseExperimentConfig, type ExperimentConfig, type ExperimentConfigInput } from './config';
import { validationSizeProblems } from './bounds';

export const VALIDATION_QUANTITIES = ['loss', 'gradient', 'update', 'weights', 'state'] as const;
export type ValidationQuantity = (typeof VALIDATION_QUANTITIES)[number];

export { VALIDATION_LIMITS } from './bounds';

export interface ValidationRow {
  /** entry.label ?? entry.name, with its index: `1:adam`. */
  optimizer: string;
  run: number;
  step: number;
  quantity: ValidationQuantity;
  /** For `state`: which tensor (momentum, m, v). */
  detail?: string;
  maxRelative: number;
  maxAbsolute: number;
  /** max_i |cpu_i|: what maxRelative is relative to. */
  scale: number;
  /** Update rows of muon / muon-reg: σ_max/σ_min of the GPU's gradient (orthogonalization accuracy depends on it). */
  gradientCondition?: number;
}

export interface ValidationReport {
  schema: 'muonlab.validation/1';
  config: string;
  steps: number;
  rows: ValidationRow[];
  /** Per optimizer and quantity: the largest relative difference over runs and steps. */
  worst: { optimizer: string; quantity: ValidationQuantity; maxRelative: number; maxAbsolute: number }[];
}

/** Normwise difference of `got` (GPU) against `want` (CPU). */
export function normwiseDifference(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
): { maxRelative: number; maxAbsolute: number; scale: number } {
  if (got.length !== want.length) throw new RangeError(`normwiseDifference: ${got.length} vs ${want.length} values`);
  let maxAbsolute = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbsolute = Number.isNaN(d) ? NaN : Math.max(maxAbsolute, d);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  const maxRelative = scale > 0 ? maxAbsolute / scale : maxAbsolute === 0 ? 0 : Infinity;
  return { maxRelative, maxAbsolute, scale };
}

/** Largest relative difference per optimizer × quantity (NaN counts as the worst). */
export function worstDifferences(rows: readonly ValidationRow[]): ValidationReport['worst'] {
  const worst = new Map<string, ValidationReport['worst'][number]>();
  for (const r of rows) {
    const key = `${r.optimizer}\u0000${r.quantity}`;
    const w = worst.get(key);
    const rel = Number.isNaN(r.maxRelative) ? Infinity : r.maxRelative;
    if (!w || rel > w.maxRelative)
      worst.set(key, { optimizer: r.optimizer, quantity: r.quantity, maxRelative: rel, maxAbsolute: r.maxAbsolute });
  }
  return [...worst.values()];
}

function checkSize(config: ExperimentConfig): void {
  const problems = validationSizeProblems(config);
  if (problems.length)
    throw new RangeError(
      `--validate runs the Float64 CPU reference and needs a small config: ${problems.join(', ')}; shrink it with --set`,
    );
}

/**
 * Runs `steps` steps of every optimizer entry × runSeed of a config (no sweep axes) on the GPU and
 * compares each step with the CPU reference from the same state.
 *
 * @example
 * const report = await validateConfig(gpu, config, { steps: 3 });
 * for (const w of report.worst) console.log(w.optimizer, w.quantity, w.maxRelative);
 */
export async function validateConfig(
  gpu: Gpu,
  input: ExperimentConfig | ExperimentConfigInput,
  options: { steps?: number; progress?: (message: string) => void } = {},
): Promise<ValidationReport> {
  const config = parseExperimentConfig(input);
  if (config.sweep.length > 0) throw new RangeError(`validate: "${config.name}" has sweep axes; validate one cell (expandSweep) instead`);
  checkSize(config);
  const steps = options.steps ?? 3;
  if (!Number.isInteger(steps) || steps < 1 || steps > 50)
    throw new RangeError(`validate: steps must be an integer in 1..50, got ${steps}`);
  const { N, dIn, dOut, embedding, taskSeed, noise, noiseTarget } = config.task;
  const minibatch = config.training.mode === 'minibatch';
  const B = config.training.batchSize ?? 0;
  const seeds = config.training.runSeeds;
  const R = seeds.length;
  const per = dOut * dIn;
  const dims = { d_in: dIn, d_out: dOut, N };
  const entries = config.optimizers.map((entry, k) => {
    const { label, ...raw } = entry as typeof entry & { label?: string };
    return { name: `${k}:${label ?? entry.name}`, config: parseOptimizerConfig(raw, `optimizers.${k}`) };
  });

  const task = await createGpuTask(gpu, config.task);
  const owned: Tensor[] = [];
  const track = <T extends Tensor>(t: T): T => (owned.push(t), t);
  try {
    const emb = task.embeddings;
    const E = emb.kind === 'dense' ? Float64Array.from(await readTensor(gpu, emb.E)) : denseEmbedding(embedding, 'in', N, dIn, taskSeed);
    const Et =
      emb.kind === 'dense' ? Float64Array.from(await readTensor(gpu, emb.Et)) : denseEmbedding(embedding, 'out', N, dOut, taskSeed);
    const cpuEmbeddings: CpuEmbeddings = { N, input: E, output: Et };
    let gpuTraEmbeddings: GpuEmbeddings | undefined;
    const traEmbeddings = (): GpuEmbeddings => {
      gpuTraEmbeddings ??=
        emb.kind === 'dense'
          ? { input: emb.E, output: emb.Et }
          : {
              input: track(uploadTensor(gpu, { rows: N, cols: dIn, label: 'validate E' }, Float32Array.from(E))),
              output: track(uploadTensor(gpu, { rows: N, cols: dOut, label: 'validate Ẽ' }, Float32Array.from(Et))),
            };
      return gpuTraEmbeddings;
    };

    const rows: ValidationRow[] = [];
    for (const entry of entries) {
      options.progress?.(`validate ${entry.name}`);
      const shape = { batch: R, rows: dOut, cols: dIn };
      const resolved = seeds.map((seed) =>
        runParamsFor(entry.config, { rows: dOut, cols: dIn, dims, steps: Math.max(steps, config.training.steps), seed }),
      );
      const W = track(createTensor(gpu, { ...shape, label: `validate W (${entry.name})` }));
      const G = track(createTensor(gpu, { ...shape, label: `validate G (${entry.name})` }));
      const params = createRunParams(
        gpu,
        resolved.map((r) => r.params),
        `validate params (${entry.name})`,
      );
      const optimizer = createOptimizer(
        gpu,
        entry.config,
        shape,
        entry.config.name === 'tra-signgd' ? { embeddings: traEmbeddings() } : {},
      );
      const seedT = minibatch
        ? track(uploadTensor(gpu, { batch: R, rows: 1, cols: 1, dtype: 'u32', label: 'validate seeds' }, seeds))
        : undefined;
      const items = minibatch ? track(createTensor(gpu, { batch: R, rows: B, cols: 1, dtype: 'u32', label: 'validate items' })) : undefined;
      const labels = minibatch
        ? track(createTensor(gpu, { batch: R, rows: B, cols: 1, dtype: 'u32', label: 'validate labels' }))
        : undefined;
      const stateNames = Object.keys(optimizer.state);
      try {
        for (let t = 0; t < steps; t++) {
          writeListLearningRates(
            gpu,
            params,
            resolved.map((r) => r.schedule),
            t + 1,
          );
          const wBefore = await readTensor(gpu, W);
          const stateBefore = await Promise.all(stateNames.map((s) => readTensor(gpu, optimizer.state[s])));
          const paramsBefore = await readRunParams(gpu, params);
          let outputs: Tensor | undefined;
          let destroyGrad = () => {};
          await runCommands(gpu, async (rec) => {
            if (minibatch) {
              await sampleMinibatch(rec, {
                seeds: seedT!,
                thresholds: task.thresholds,
                thresholdCount: task.thresholdCount,
                N,
                noise,
                step: t,
                items: items!,
                labels: labels!,
              });
            }
            const targets = minibatch
              ? { kind: 'minibatch' as const, items: items!, labels: labels! }
              : { kind: 'population' as const, weights: task.weights };
            const result = await softmaxGrad(rec, { W, G, embeddings: emb, noise, noiseTarget, targets });
            outputs = result.outputs;
            destroyGrad = () => result.destroy();
            await optimizer.step(rec, { w: W, g: G, params });
            await advanceRuns(rec, params);
          });
          try {
            const out = await readTensor(gpu, outputs!);
            const gGpu = await readTensor(gpu, G);
            const wAfter = await readTensor(gpu, W);
            const stateAfter = await Promise.all(stateNames.map((s) => readTensor(gpu, optimizer.state[s])));
            const drawnItems = items ? await readTensor(gpu, items) : undefined;
            const drawnLabels = labels ? await readTensor(gpu, labels) : undefined;
            for (let r = 0; r < R; r++) {
              const sl = (x: ArrayLike<number>) => Float64Array.from((x as Float32Array).subarray(r * per, (r + 1) * per));
              const w0 = sl(wBefore);
              const cpu = softmaxGradCpu({
                runs: 1,
                N,
                dIn,
                dOut,
                W: w0,
                E,
                Et,
                noise,
                noiseTarget,
                targets: minibatch
                  ? {
                      kind: 'minibatch',
                      batchSize: B,
                      items: drawnItems!.subarray(r * B, (r + 1) * B),
                      labels: drawnLabels!.subarray(r * B, (r + 1) * B),
                    }
                  : { kind: 'population', weights: task.frequencies },
              });
              const queries = minibatch ? B : N;
              let lossGpu = 0;
              let lossCpu = 0;
              for (let q = 0; q < queries; q++) {
                const w = minibatch ? 1 / B : task.frequencies[q];
                if (w === 0) continue;
                lossGpu += w * out[(r * queries + q) * 5 + 1];
                lossCpu += w * cpu.loss[q];
              }
              const push = (
                quantity: ValidationQuantity,
                d: ReturnType<typeof normwiseDifference>,
                detail?: string,
                extra: Partial<ValidationRow> = {},
              ) => rows.push({ optimizer: entry.name, run: r, step: t, quantity, ...(detail ? { detail } : {}), ...d, ...extra });
              push('loss', normwiseDifference([lossGpu], [lossCpu]));
              const g = sl(gGpu);
              push('gradient', normwiseDifference(g, cpu.G));
              const state: CpuRunState = { w: Float64Array.from(w0) };
              stateNames.forEach((s, i) => {
                if (s === 'v') state.v = sl(stateBefore[i]);
                else state.m = sl(stateBefore[i]);
              });
              const { diverged } = optimizerStepCpu(state, {
                config: entry.config,
                rows: dOut,
                cols: dIn,
                params: paramsBefore[r],
                gradient: g,
                embeddings: cpuEmbeddings,
              });
              if (diverged) continue;
              const w1 = sl(wAfter);
              const orthogonalizes = entry.config.name === 'muon' || entry.config.name === 'muon-reg';
              const sigma = orthogonalizes ? singularValues(g, dOut, dIn) : undefined;
              const condition = sigma ? Math.max(...sigma) / Math.min(...sigma) : undefined;
              push(
                'update',
                normwiseDifference(
                  w0.map((x, i) => x - w1[i]),
                  w0.map((x, i) => x - state.w[i]),
                ),
                undefined,
                condition === undefined ? {} : { gradientCondition: condition },
              );
              push('weights', normwiseDifference(w1, state.w));
              stateNames.forEach((s, i) => push('state', normwiseDifference(sl(stateAfter[i]), (s === 'v' ? state.v : state.m)!), s));
            }
          } finally {
            destroyGrad();
          }
        }
      } finally {
        optimizer.destroy();
        params.buffer.destroy();
      }
    }
    return { schema: 'muonlab.validation/1', config: config.name, steps, rows, worst: worstDifferences(rows) };
  } finally {
    for (const t of owned) t.buffer.destroy();
    task.destroy();
  }
}
