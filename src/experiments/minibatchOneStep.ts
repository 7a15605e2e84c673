/**
 * One minibatch step from W₀ = 0 ([C] Fig. 3). At W₀ = 0 every logit is 0, so the softmax is uniform
 * and o_i = ē (the mean output embedding) for every query; a minibatch of B draws with item counts
 * c_i therefore has the gradient G_B = Σ_i (c_i/B)(ē − ẽ_i) e_iᵀ — the population gradient with the
 * empirical frequencies c_i/B in place of p_i. It is formed here in Float64 from the GPU's own
 * embedding tables (read back once), which keeps its rank exact: with r distinct items drawn, G_B
 * has rank min(r, d) and the polar factor's null space stays zero instead of being filled from f32
 * rounding. Draws come from the CPU twin of the GPU sampler (bit-identical, docs/math.md §6). The browser
 * test checks this gradient against the GPU's softmax-gradient kernel at W₀ = 0.
 */
import type { Gpu } from '../gpu/device';
import { readTensor } from '../gpu/tensor';
import { sampleMinibatchCpu, samplingThresholds } from '../task/sampling';
import type { GpuTask } from '../task/taskGpu';

/** The embedding tables of a dense task as host arrays (item-major, N × d). */
export interface HostEmbeddings {
  N: number;
  dIn: number;
  dOut: number;
  E: Float64Array;
  Et: Float64Array;
}

/** Reads a dense task's embedding tables back from the GPU. */
export async function readEmbeddings(gpu: Gpu, task: GpuTask): Promise<HostEmbeddings> {
  const emb = task.embeddings;
  if (emb.kind !== 'dense')
    throw new RangeError(`readEmbeddings: task.embedding must be gaussian or orthonormal (dense tables), got ${task.config.embedding}`);
  const E = Float64Array.from(await readTensor(gpu, emb.E));
  const Et = Float64Array.from(await readTensor(gpu, emb.Et));
  return { N: emb.N, dIn: emb.dIn, dOut: emb.dOut, E, Et };
}

export interface MinibatchCounts {
  batchSize: number;
  /** c_i / B per item. */
  weights: Float64Array;
  /** Number of items drawn at least once. */
  distinct: number;
}

/**
 * The empirical frequencies of one minibatch of B draws (step 0 of run seed `runSeed`), drawn with
 * the CPU twin of shaders/task/sampling.wgsl.
 */
export function drawMinibatchCounts(task: GpuTask, batchSize: number, runSeed: number): MinibatchCounts {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`drawMinibatchCounts: batchSize must be a positive integer, got ${batchSize}`);
  const N = task.config.N;
  const thresholds = samplingThresholds(task.frequencies);
  const draws = sampleMinibatchCpu({ seeds: [runSeed], step: 0, batchSize, thresholds, N, noise: 0 });
  const counts = new Float64Array(N);
  for (const item of draws.items) counts[item]++;
  let distinct = 0;
  for (let i = 0; i < N; i++) {
    if (counts[i] > 0) distinct++;
    counts[i] /= batchSize;
  }
  return { batchSize, weights: counts, distinct };
}

/**
 * G = Σ_i w_i (ē − ẽ_i) e_iᵀ (dOut × dIn, row-major) in Float64: the gradient at W₀ = 0 for item
 * weights w (p_i for the population, c_i/B for a minibatch). ē is the mean over all N outputs.
 */
export function gradientAtZero(emb: HostEmbeddings, weights: ArrayLike<number>): Float64Array {
  const { N, dIn, dOut, E, Et } = emb;
  if (weights.length !== N) throw new RangeError(`gradientAtZero: weights must hold N = ${N} values, got ${weights.length}`);
  const mean = new Float64Array(dOut);
  for (let i = 0; i < N; i++) for (let r = 0; r < dOut; r++) mean[r] += Et[i * dOut + r];
  for (let r = 0; r < dOut; r++) mean[r] /= N;
  const s = new Float64Array(dIn);
  const G = new Float64Array(dOut * dIn);
  for (let i = 0; i < N; i++) {
    const w = weights[i];
    if (w === 0) continue;
    for (let c = 0; c < dIn; c++) s[c] += w * E[i * dIn + c];
    for (let r = 0; r < dOut; r++) {
      const a = w * Et[i * dOut + r];
      const row = r * dIn;
      for (let c = 0; c < dIn; c++) G[row + c] -= a * E[i * dIn + c];
    }
  }
  for (let r = 0; r < dOut; r++) for (let c = 0; c < dIn; c++) G[r * dIn + c] += mean[r] * s[c];
  return G;
}
