/**
 * Run groups: the runs of a training cell that share one optimizer kernel (src/train/runPlan.ts),
 * batched on the GPU. A group owns its W [R_g, dOut, dIn] (from W_0 = 0, as WebGPU zero-fills), its
 * gradient G, its run-parameters buffer and its optimizer; in minibatch mode also the runs' seeds,
 * their draws and the gradient scratch of the population evaluation at metric steps.
 *
 * Everything a group creates is released by its destroy(). Creation that fails half-way releases
 * what it already made before the error propagates, so a caller only ever destroys complete groups.
 */
import type { Gpu } from '../gpu/device';
import { createRunParams, type RunParamsBuffer, type RunParamValues } from '../gpu/runParams';
import { createTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { createOptimizer, type GpuEmbeddings, type GpuOptimizer } from '../optim';
import type { TaskConfig } from '../task/task';
import { denseEmbedding } from '../task/embeddings';
import type { GpuTask } from '../task/taskGpu';
import type { RunInfo } from './records';
import { groupRunsByKernel } from './runPlan';

/** Minibatch mode: the runs' sampler seeds [R_g,1,1], their draws [R_g,B,1], and G of the evaluation. */
export interface MinibatchBuffers {
  seeds: Tensor<'u32'>;
  items: Tensor<'u32'>;
  labels: Tensor<'u32'>;
  /** The population evaluation's gradient at metric steps: it must not overwrite the minibatch G. */
  evalG: Tensor<'f32'>;
}

export interface RunGroup {
  /** The kernel key its runs share (kernelKey). */
  readonly key: string;
  readonly runs: readonly RunInfo[];
  readonly W: Tensor<'f32'>;
  readonly G: Tensor<'f32'>;
  readonly params: RunParamsBuffer;
  readonly optimizer: GpuOptimizer;
  /** Present in minibatch mode only. */
  readonly minibatch?: MinibatchBuffers;
  destroy(): void;
}

/** Every group of a cell, and the TRA-SignGD embedding tables they share; destroy() frees all. */
export interface RunGroups {
  readonly groups: readonly RunGroup[];
  destroy(): void;
}

export interface RunGroupsSpec {
  task: GpuTask;
  /** The task as configured (its taskSeed makes the dense tables TRA-SignGD needs). */
  taskConfig: TaskConfig;
  runs: readonly RunInfo[];
  /** Initial run parameters by run index (planRuns). */
  initial: readonly Partial<RunParamValues>[];
  /** Minibatch size B in minibatch mode; undefined in population mode. */
  minibatchSize?: number;
}

/**
 * Creates one group per optimizer kernel, in the order of their first run.
 *
 * @example
 * const { runs, initial } = planRuns(config);
 * const groups = createRunGroups(gpu, { task, taskConfig: config.task, runs, initial });
 * try { … groups.groups.forEach((g) => g.optimizer.step(rec, { w: g.W, g: g.G, params: g.params })) … }
 * finally { groups.destroy(); }
 */
export function createRunGroups(gpu: Gpu, spec: RunGroupsSpec): RunGroups {
  const traEmbeddings = lazyTraEmbeddings(gpu, spec.task, spec.taskConfig);
  const groups: RunGroup[] = [];
  const destroy = () => {
    for (const g of groups) g.destroy();
    traEmbeddings.destroy();
  };
  try {
    for (const { key, runs } of groupRunsByKernel(spec.runs)) {
      groups.push(createRunGroup(gpu, key, runs, spec, traEmbeddings.get));
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { groups, destroy };
}

function createRunGroup(gpu: Gpu, key: string, runs: RunInfo[], spec: RunGroupsSpec, traEmbeddings: () => GpuEmbeddings): RunGroup {
  const { dIn, dOut } = spec.taskConfig;
  const Rg = runs.length;
  const shape = { batch: Rg, rows: dOut, cols: dIn };
  const config = runs[0].config;
  const releases: (() => void)[] = [];
  const own = <T extends Tensor>(t: T): T => (releases.push(() => t.buffer.destroy()), t);
  const destroy = () => {
    for (const release of releases.splice(0).reverse()) release();
  };
  try {
    const W = own(createTensor(gpu, { ...shape, label: `W (${key}, ${Rg} runs)` }));
    const G = own(createTensor(gpu, { ...shape, label: `G (${key})` }));
    const params = createRunParams(
      gpu,
      runs.map((r) => spec.initial[r.run]),
      `run params (${key})`,
    );
    releases.push(() => params.buffer.destroy());
    const optimizer = createOptimizer(gpu, config, shape, config.name === 'tra-signgd' ? { embeddings: traEmbeddings() } : {});
    releases.push(() => optimizer.destroy());
    let minibatch: MinibatchBuffers | undefined;
    if (spec.minibatchSize !== undefined) {
      const B = spec.minibatchSize;
      minibatch = {
        seeds: own(
          uploadTensor(
            gpu,
            { batch: Rg, rows: 1, cols: 1, dtype: 'u32', label: `runSeeds (${key})` },
            runs.map((r) => r.runSeed),
          ),
        ),
        items: own(createTensor(gpu, { batch: Rg, rows: B, cols: 1, dtype: 'u32', label: `minibatch items (${key})` })),
        labels: own(createTensor(gpu, { batch: Rg, rows: B, cols: 1, dtype: 'u32', label: `minibatch labels (${key})` })),
        evalG: own(createTensor(gpu, { ...shape, label: `evaluation gradient (${key})` })),
      };
    }
    return { key, runs, W, G, params, optimizer, minibatch, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/**
 * TRA-SignGD reads the embedding tables themselves: a dense task's are used as they are; for
 * identity and coupled-rotation (which the GPU never stores densely) the tables are uploaded on first
 * use, once per cell, and freed by destroy().
 */
function lazyTraEmbeddings(gpu: Gpu, task: GpuTask, taskConfig: TaskConfig): { get: () => GpuEmbeddings; destroy: () => void } {
  let embeddings: GpuEmbeddings | undefined;
  const uploaded: Tensor[] = [];
  const get = (): GpuEmbeddings => {
    if (embeddings) return embeddings;
    const emb = task.embeddings;
    if (emb.kind === 'dense') embeddings = { input: emb.E, output: emb.Et };
    else {
      const { N, dIn, dOut, taskSeed } = taskConfig;
      const upload = (side: 'in' | 'out', d: number) => {
        const t = uploadTensor(
          gpu,
          { rows: N, cols: d, label: `tra-signgd ${side} embeddings (${emb.kind})` },
          denseEmbedding(emb.kind, side, N, d, taskSeed),
        );
        uploaded.push(t);
        return t;
      };
      embeddings = { input: upload('in', dIn), output: upload('out', dOut) };
    }
    return embeddings;
  };
  return { get, destroy: () => uploaded.splice(0).forEach((t) => t.buffer.destroy()) };
}
