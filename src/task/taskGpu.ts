/**
 * The task on the GPU: embeddings generated in place (gaussian) or uploaded (orthonormal, built on
 * the CPU by Gram–Schmidt of the same Philox normals; see src/task/embeddings.ts), the structural
 * kinds (identity, coupled-rotation) described without a dense buffer, frequencies as a weight
 * tensor, and minibatch draws (items and noisy labels) sampled on the GPU from each run's seed.
 */
import { runCommands, type CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { createTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { PHILOX_STREAMS } from '../cpu/philox';
import { linearWorkgroups } from '../kernels/philox/philox';
import { COUPLED_ROTATION_IN, COUPLED_ROTATION_OUT, orthonormalEmbeddingHost } from './embeddings';
import { frequencies } from './frequencies';
import { noiseThreshold } from './noise';
import { samplingThresholds } from './sampling';
import { parseTaskConfig, type TaskConfig, type TaskConfigInput } from './task';

export const GAUSSIAN_EMBEDDING_KERNEL = defineKernel({ shader: 'task/embeddings.wgsl', entryPoint: 'gaussian_embedding' });
export const COLUMN_MEAN_KERNEL = defineKernel({ shader: 'task/embeddings.wgsl', entryPoint: 'column_mean' });
export const SAMPLE_MINIBATCH_KERNEL = defineKernel({ shader: 'task/sampling.wgsl', entryPoint: 'sample_minibatch' });

/** Embeddings as the softmax-gradient kernel takes them. Dense tables are item-major, batch 1. */
export type TaskEmbeddings =
  | { kind: 'dense'; N: number; dIn: number; dOut: number; E: Tensor; Et: Tensor }
  | { kind: 'identity'; N: number; dIn: number; dOut: number }
  | { kind: 'coupled-rotation'; N: number; dIn: number; dOut: number; blockIn: readonly number[]; blockOut: readonly number[] };

export interface GpuTask {
  config: TaskConfig;
  embeddings: TaskEmbeddings;
  /** p_i as an f32 tensor [1, N, 1] (population weights). */
  weights: Tensor;
  /** p_i in Float64 (what the f32 weights were rounded from). */
  frequencies: Float64Array;
  /** Cumulative u32 sampling thresholds [1, max(1, N−1), 1] and how many are meaningful. */
  thresholds: Tensor;
  thresholdCount: number;
  destroy(): void;
}

/**
 * Records a gaussian embedding table [N, d] (entries N(0, 1/d)) into `out`.
 */
export async function gaussianEmbedding(rec: CommandRecorder, out: Tensor, seed: number, stream: number): Promise<void> {
  const count = out.rows * out.cols;
  if (out.offset !== 0 || out.batch !== 1) throw new RangeError(`gaussianEmbedding: "${out.label}" must be one offset-0 matrix`);
  await rec.dispatch({
    kernel: GAUSSIAN_EMBEDDING_KERNEL,
    buffers: { table: out.buffer },
    uniforms: { gaussian: { count, seed: seed >>> 0, stream, scale: Math.fround(1 / Math.sqrt(out.cols)) } },
    workgroups: linearWorkgroups(rec.gpu, count),
  });
}

/** Records ē = mean row of an item-major table into `out` ([1, 1, cols]). */
export async function columnMean(rec: CommandRecorder, table: Tensor, out: Tensor): Promise<void> {
  await rec.dispatch({
    kernel: COLUMN_MEAN_KERNEL,
    buffers: { mean_src: table.buffer, mean_out: out.buffer },
    uniforms: { column: { rows: table.rows, cols: table.cols, offset: table.offset } },
    workgroups: [Math.ceil(table.cols / 64), 1, 1],
  });
}

/**
 * Builds a task on the GPU from its config: embeddings from `taskSeed`, frequencies, sampling table.
 *
 * @example
 * const task = await createGpuTask(gpu, { N: 4096, dIn: 64, dOut: 64, embedding: 'gaussian',
 *   frequency: { kind: 'power', powerExponent: 1.5 }, taskSeed: 1 });
 */
export async function createGpuTask(gpu: Gpu, input: TaskConfigInput): Promise<GpuTask> {
  const config = parseTaskConfig(input);
  const { N, dIn, dOut, taskSeed } = config;
  const created: Tensor[] = [];
  const track = (t: Tensor) => {
    created.push(t);
    return t;
  };
  let embeddings: TaskEmbeddings;
  switch (config.embedding) {
    case 'identity':
      embeddings = { kind: 'identity', N, dIn, dOut };
      break;
    case 'coupled-rotation':
      embeddings = { kind: 'coupled-rotation', N, dIn, dOut, blockIn: COUPLED_ROTATION_IN, blockOut: COUPLED_ROTATION_OUT };
      break;
    case 'orthonormal': {
      const E = track(
        uploadTensor(
          gpu,
          { rows: N, cols: dIn, label: 'E (orthonormal)' },
          orthonormalEmbeddingHost(taskSeed, PHILOX_STREAMS.embeddingIn, N, dIn),
        ),
      );
      const Et = track(
        uploadTensor(
          gpu,
          { rows: N, cols: dOut, label: 'Ẽ (orthonormal)' },
          orthonormalEmbeddingHost(taskSeed, PHILOX_STREAMS.embeddingOut, N, dOut),
        ),
      );
      embeddings = { kind: 'dense', N, dIn, dOut, E, Et };
      break;
    }
    case 'gaussian': {
      const E = track(createTensor(gpu, { rows: N, cols: dIn, label: 'E (gaussian)' }));
      const Et = track(createTensor(gpu, { rows: N, cols: dOut, label: 'Ẽ (gaussian)' }));
      await runCommands(gpu, async (rec) => {
        await gaussianEmbedding(rec, E, taskSeed, PHILOX_STREAMS.embeddingIn);
        await gaussianEmbedding(rec, Et, taskSeed, PHILOX_STREAMS.embeddingOut);
      });
      embeddings = { kind: 'dense', N, dIn, dOut, E, Et };
      break;
    }
  }
  const p = frequencies(N, config.frequency);
  const weights = track(uploadTensor(gpu, { rows: N, cols: 1, label: 'frequencies' }, p));
  const t = samplingThresholds(p);
  const thresholds = track(
    uploadTensor(gpu, { rows: Math.max(1, t.length), cols: 1, dtype: 'u32', label: 'sampling thresholds' }, t.length ? t : [0]),
  );
  return {
    config,
    embeddings,
    weights,
    frequencies: p,
    thresholds,
    thresholdCount: t.length,
    destroy: () => created.forEach((x) => x.buffer.destroy()),
  };
}

export interface SampleArgs {
  /** One u32 seed per run [R, 1, 1] (the runs' runSeed). */
  seeds: Tensor;
  thresholds: Tensor;
  thresholdCount: number;
  N: number;
  noise: number;
  step: number;
  /** Outputs [R, B, 1] u32. */
  items: Tensor;
  labels: Tensor;
}

/** Records one minibatch of draws per run (CPU twin: sampleMinibatchCpu). */
export async function sampleMinibatch(rec: CommandRecorder, args: SampleArgs): Promise<void> {
  const R = args.items.batch;
  const B = args.items.rows;
  for (const [name, t] of [
    ['items', args.items],
    ['labels', args.labels],
    ['seeds', args.seeds],
    ['thresholds', args.thresholds],
  ] as const) {
    if (t.dtype !== 'u32') throw new TypeError(`sampleMinibatch: ${name} must be u32, got ${t.dtype}`);
    if (t.offset !== 0) throw new RangeError(`sampleMinibatch: ${name} must start at offset 0`);
  }
  if (args.labels.batch !== R || args.labels.rows !== B) throw new RangeError('sampleMinibatch: labels must have the shape of items');
  if (args.seeds.batch * args.seeds.rows < R)
    throw new RangeError(`sampleMinibatch: seeds holds ${args.seeds.batch * args.seeds.rows} seeds for ${R} runs`);
  await rec.dispatch({
    kernel: SAMPLE_MINIBATCH_KERNEL,
    buffers: { seeds: args.seeds.buffer, thresholds: args.thresholds.buffer, items: args.items.buffer, labels: args.labels.buffer },
    uniforms: {
      sampling: {
        batchSize: B,
        runs: R,
        N: args.N,
        thresholdCount: args.thresholdCount,
        noiseThreshold: noiseThreshold(args.noise),
        step: args.step >>> 0,
        stream: PHILOX_STREAMS.minibatch,
      },
    },
    workgroups: linearWorkgroups(rec.gpu, R * B),
  });
}
