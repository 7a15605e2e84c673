/**
 * The softmax cross-entropy gradient of the associative-memory task (SPEC §1) on the GPU, batched
 * over R runs: per query lse, stable loss, true-class logit and probability, strict recovered flag,
 * o_q = Σ_j p̂(j|q) ẽ_j, and G = (O − Ẽ*)·diag(w)·E_qᵀ. CPU twin: src/cpu/softmaxGrad.ts.
 *
 * Dense embeddings (gaussian, orthonormal) stream over the N outputs in chunks with an online
 * softmax (shaders/softmax_grad.wgsl describes the recurrence). The logits of one query block × one
 * output chunk live in a scratch buffer sized about max(2·Q·dOut, 2^16) elements per run, so memory is
 * O((N + d)·d) and no N×N or Q×N buffer exists. The two block products are the registry's matmul
 * (whatever variant it picks for the shapes), the softmax bookkeeping is two light kernels.
 * Identity embeddings are applied structurally (logits = W's entries, O(N²)); coupled-rotation as
 * 3×3 block rotations around that same kernel.
 *
 * Output tensor columns per query (`outputs`, [R, Q, 5]): lse, loss, zTrue, pTrue, correct (0/1).
 */
import { runCommands, type CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { BYTES_PER_ELEMENT, readTensor, type DType, type Tensor } from '../gpu/tensor';
import { validateNoise } from '../task/noise';
import { columnMean, type TaskEmbeddings } from '../task/taskGpu';
import { gatherRows } from './gather';
import { matmul } from './matmul';
import { linearWorkgroups } from './philox';
import softmaxGradSource from '../../shaders/softmax_grad.wgsl?raw';

const kernel = (entryPoint: string) => defineKernel({ module: 'softmax_grad', entryPoint, source: softmaxGradSource });
export const SOFTMAX_CHUNK_UPDATE_KERNEL = kernel('softmax_chunk_update');
export const SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL = kernel('softmax_chunk_update_vec4');
export const SOFTMAX_FINALIZE_KERNEL = kernel('softmax_finalize');
export const IDENTITY_SOFTMAX_GRAD_KERNEL = kernel('identity_softmax_grad');
export const BLOCK3_TRANSFORM_KERNEL = kernel('block3_transform');
export const COUNT_NONFINITE_KERNEL = kernel('count_nonfinite');

/** Columns of the per-query output tensor. */
export const SOFTMAX_OUTPUT_COLUMNS = ['lse', 'loss', 'zTrue', 'pTrue', 'correct'] as const;

/**
 * Default outputs per chunk. With the default query block (scratch ≈ 2·Q·dOut elements) this gives
 * tall query blocks (all 4096 queries at N = 4096, d = 64), which measured fastest on SwiftShader
 * (chunks of 64, 128, 256, 1024 with blocks of 4096 … 256 tried): the chunk update then has many
 * invocations, the two block matmuls keep large outputs, and there are few dispatches.
 */
export const DEFAULT_CHUNK_SIZE = 128;
/** Minimum scratch elements per run (small problems still get reasonably large matmuls). */
const MIN_SCRATCH = 1 << 16;
/** Conservative bytes counted per dispatch for its transient uniform buffer. */
const UNIFORM_BYTES_PER_DISPATCH = 256;

export type SoftmaxTargets =
  | { kind: 'population'; weights: Tensor }
  | { kind: 'minibatch'; items: Tensor; labels: Tensor };

export interface SoftmaxGradArgs {
  /** [R, dOut, dIn], offset 0, contiguous. */
  W: Tensor;
  embeddings: TaskEmbeddings;
  /** Result [R, dOut, dIn], offset 0, contiguous. */
  G: Tensor;
  targets: SoftmaxTargets;
  noise: number;
  noiseTarget: 'sampled' | 'expected';
  /** Outputs per chunk of the online softmax (default DEFAULT_CHUNK_SIZE = 128). */
  chunkSize?: number;
  /** Queries per block (default: scratch of about max(2·Q·dOut, 2^16) elements per run). */
  queryBlock?: number;
}

export interface SoftmaxGradMemory {
  /** Bytes of the buffers this call created (scratch, H, O, state, outputs, …) and dispatch uniforms. */
  createdBytes: number;
  /** Bytes of the caller's operands (W, G, embeddings, weights / draws). */
  operandBytes: number;
  /** createdBytes + operandBytes: everything alive while the call's work runs. */
  peakBytes: number;
  /** Buffers created, by label, in bytes. */
  buffers: Record<string, number>;
}

export interface SoftmaxGradResult {
  /** [R, Q, 5] per-query outputs (SOFTMAX_OUTPUT_COLUMNS). */
  outputs: Tensor;
  /** [R, Q, dOut] o_q (dense embeddings only). */
  o?: Tensor;
  queries: number;
  runs: number;
  /** Chunks and query blocks the outputs were processed in. */
  chunks: number;
  blocks: number;
  memory: SoftmaxGradMemory;
  /** Frees every buffer the call created (after the recorder was submitted and results read). */
  destroy(): void;
}

function tensorBytes(t: Tensor): number {
  return t.buffer.size;
}

class Allocator {
  readonly created: Tensor[] = [];
  readonly buffers: Record<string, number> = {};
  bytes = 0;
  dispatches = 0;
  constructor(private readonly gpu: Gpu) {}

  /**
   * A [batch, rows, cols] tensor; `largestN` explains the limit in the error when one buffer would
   * exceed maxBufferSize.
   */
  tensor(label: string, batch: number, rows: number, cols: number, largestN: (limit: number) => number, dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(16, batch * rows * cols * BYTES_PER_ELEMENT);
    for (const name of ['maxBufferSize', 'maxStorageBufferBindingSize'] as const) {
      const limit = this.gpu.limits[name] ?? Infinity;
      if (bytes > limit) {
        throw new RangeError(
          `softmaxGrad: buffer "${label}" (${batch}×${rows}×${cols}) needs ${bytes} bytes, above this device's ${name} ` +
            `${limit}; the largest N that fits is ${Math.floor(largestN(limit))}`,
        );
      }
    }
    const buffer = this.gpu.device.createBuffer({
      label: `softmaxGrad ${label}`,
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const t: Tensor = { buffer, label, batch, rows, cols, batchStride: batch > 1 ? rows * cols : 0, offset: 0, dtype };
    this.created.push(t);
    this.buffers[label] = (this.buffers[label] ?? 0) + buffer.size;
    this.bytes += buffer.size;
    return t;
  }

  destroy(): void {
    for (const t of this.created) t.buffer.destroy();
  }
}

function requireContiguous(t: Tensor, name: string, batch: number, rows: number, cols: number): void {
  if (t.dtype !== 'f32') throw new TypeError(`softmaxGrad: ${name} must be f32, got ${t.dtype}`);
  if (t.rows !== rows || t.cols !== cols) {
    throw new RangeError(`softmaxGrad: ${name} is ${t.rows}×${t.cols}, expected ${rows}×${cols} (dOut × dIn of the embeddings)`);
  }
  if (t.batch !== batch) throw new RangeError(`softmaxGrad: ${name} has batch ${t.batch}, expected ${batch} (W's runs)`);
  if (t.offset !== 0 || (batch > 1 && t.batchStride !== rows * cols)) {
    throw new RangeError(`softmaxGrad: ${name} must be a contiguous offset-0 tensor (not a run-range view)`);
  }
}

/** Shape and argument checks shared by every path; returns (runs, queries). */
function validate(args: SoftmaxGradArgs): { R: number; Q: number } {
  const emb = args.embeddings;
  const { N, dIn, dOut } = emb;
  if (!Number.isInteger(N) || N < 1) throw new RangeError(`softmaxGrad: embeddings.N must be a positive integer, got ${N}`);
  validateNoise(args.noise, 'softmaxGrad: noise');
  if (args.noiseTarget !== 'sampled' && args.noiseTarget !== 'expected') {
    throw new RangeError(`softmaxGrad: noiseTarget must be 'sampled' or 'expected', got ${String(args.noiseTarget)}`);
  }
  if (emb.kind === 'identity' && (dIn !== N || dOut !== N)) {
    throw new RangeError(`softmaxGrad: identity embeddings need dIn = dOut = N = ${N}, got dIn ${dIn}, dOut ${dOut}`);
  }
  if (emb.kind === 'coupled-rotation' && (N % 3 !== 0 || dIn !== N || dOut !== N)) {
    throw new RangeError(`softmaxGrad: coupled-rotation embeddings need N = dIn = dOut divisible by 3, got N ${N}, dIn ${dIn}, dOut ${dOut}`);
  }
  if (emb.kind === 'dense') {
    if (emb.E.rows !== N || emb.E.cols !== dIn) throw new RangeError(`softmaxGrad: embeddings.E is ${emb.E.rows}×${emb.E.cols}, expected N×dIn = ${N}×${dIn}`);
    if (emb.Et.rows !== N || emb.Et.cols !== dOut) throw new RangeError(`softmaxGrad: embeddings.Et is ${emb.Et.rows}×${emb.Et.cols}, expected N×dOut = ${N}×${dOut}`);
    if (emb.E.batch !== 1 || emb.Et.batch !== 1) throw new RangeError('softmaxGrad: embedding tables are shared by all runs (batch 1)');
    if (emb.Et.offset !== 0) throw new RangeError('softmaxGrad: embeddings.Et must start at offset 0');
  }
  const R = args.W.batch;
  if (R < 1) throw new RangeError('softmaxGrad: W has no runs');
  if (args.W.cols !== dIn) throw new RangeError(`softmaxGrad: W has ${args.W.cols} columns but the input embeddings have dIn = ${dIn}`);
  if (args.W.rows !== dOut) throw new RangeError(`softmaxGrad: W has ${args.W.rows} rows but the output embeddings have dOut = ${dOut}`);
  requireContiguous(args.W, 'W', R, dOut, dIn);
  requireContiguous(args.G, 'G', R, dOut, dIn);
  const t = args.targets;
  let Q: number;
  if (t.kind === 'population') {
    if (t.weights.rows * t.weights.cols !== N || t.weights.dtype !== 'f32') {
      throw new RangeError(`softmaxGrad: targets.weights must hold N = ${N} f32 frequencies, got ${t.weights.rows}×${t.weights.cols} ${t.weights.dtype}`);
    }
    if (t.weights.offset !== 0) throw new RangeError('softmaxGrad: targets.weights must start at offset 0');
    Q = N;
  } else {
    Q = t.items.rows;
    for (const [name, x] of [['items', t.items], ['labels', t.labels]] as const) {
      if (x.dtype !== 'u32') throw new TypeError(`softmaxGrad: targets.${name} must be u32, got ${x.dtype}`);
      if (x.rows !== Q || x.cols !== 1) throw new RangeError(`softmaxGrad: targets.${name} must be [R, B, 1] with B = ${Q}, got ${x.rows}×${x.cols}`);
      if (x.batch !== R && !(x.batch === 1 || x.batchStride === 0)) throw new RangeError(`softmaxGrad: targets.${name} has batch ${x.batch}, expected ${R} or 1`);
      if (x.offset !== 0) throw new RangeError(`softmaxGrad: targets.${name} must start at offset 0`);
    }
    if (Q < 1) throw new RangeError('softmaxGrad: a minibatch needs at least one draw');
  }
  const chunk = args.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`softmaxGrad: chunkSize must be a positive integer, got ${chunk}`);
  if (args.queryBlock !== undefined && (!Number.isInteger(args.queryBlock) || args.queryBlock < 1)) {
    throw new RangeError(`softmaxGrad: queryBlock must be a positive integer, got ${args.queryBlock}`);
  }
  return { R, Q };
}

function operandBytes(args: SoftmaxGradArgs): number {
  let bytes = tensorBytes(args.W) + tensorBytes(args.G);
  if (args.embeddings.kind === 'dense') bytes += tensorBytes(args.embeddings.E) + tensorBytes(args.embeddings.Et);
  const t = args.targets;
  bytes += t.kind === 'population' ? tensorBytes(t.weights) : tensorBytes(t.items) + tensorBytes(t.labels);
  return bytes;
}

/**
 * Records the gradient for a batch of runs into `rec`. Buffers it creates stay alive until
 * `destroy()` on the result (after submit and readback).
 *
 * @example
 * const r = await softmaxGrad(rec, { W, G, embeddings: task.embeddings,
 *   targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'expected' });
 * await rec.submit();
 * const outputs = await readTensor(gpu, r.outputs); // lse, loss, zTrue, pTrue, correct per query
 * r.destroy();
 */
export async function softmaxGrad(rec: CommandRecorder, args: SoftmaxGradArgs): Promise<SoftmaxGradResult> {
  const alloc = new Allocator(rec.gpu);
  try {
    return await recordSoftmaxGrad(rec, args, alloc);
  } catch (err) {
    alloc.destroy();
    throw err;
  }
}

async function recordSoftmaxGrad(rec: CommandRecorder, args: SoftmaxGradArgs, alloc: Allocator): Promise<SoftmaxGradResult> {
  const { R, Q } = validate(args);
  // Operands are bound whole: one beyond the binding limit cannot be used (chunked binding of the
  // operands is not implemented; the buffers this call creates are checked as they are made).
  const bindLimit = rec.gpu.limits.maxStorageBufferBindingSize ?? Infinity;
  const bound: [string, Tensor][] = [['W', args.W], ['G', args.G]];
  if (args.embeddings.kind === 'dense') bound.push(['embeddings.E', args.embeddings.E], ['embeddings.Et', args.embeddings.Et]);
  for (const [name, t] of bound) {
    if (t.buffer.size > bindLimit) {
      throw new RangeError(`softmaxGrad: ${name} ("${t.label}") is ${t.buffer.size} bytes, above this device's maxStorageBufferBindingSize ${bindLimit}`);
    }
  }
  const dispatch: CommandRecorder['dispatch'] = async (call) => {
    alloc.dispatches++;
    return rec.dispatch(call);
  };
  const emb = args.embeddings;
  const N = emb.N;
  const dOut = emb.dOut;
  const perQueryLimit = (perQuery: number) => (limit: number) => limit / (BYTES_PER_ELEMENT * perQuery);
  const outputs = alloc.tensor('outputs', R, Q, 5, perQueryLimit(5 * R));
  const t = args.targets;
  const sampled = t.kind === 'minibatch' && args.noiseTarget === 'sampled';
  const dummyU32 = () => alloc.tensor('unused index', 1, 1, 1, () => Infinity, 'u32');
  const dummyF32 = () => alloc.tensor('unused weights', 1, 1, 1, () => Infinity);
  const items = t.kind === 'minibatch' ? t.items : dummyU32();
  const labels = t.kind === 'minibatch' ? t.labels : items;
  const indexBatchStride = t.kind === 'minibatch' && t.items.batch > 1 ? t.items.batchStride : 0;
  if (t.kind === 'minibatch' && t.labels.batch > 1 !== t.items.batch > 1) {
    throw new RangeError('softmaxGrad: targets.items and targets.labels must both be per run or both shared');
  }
  let chunks = 1;
  let blocks = 1;
  let o: Tensor | undefined;

  if (emb.kind === 'identity' || emb.kind === 'coupled-rotation') {
    const square = (limit: number) => Math.sqrt(limit / (BYTES_PER_ELEMENT * R));
    let logits = args.W;
    let grad = args.G;
    const [Rin, Rout] = emb.kind === 'coupled-rotation' ? [emb.blockIn, emb.blockOut] : [[], []];
    const transpose = (m: readonly number[]) => [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
    const blockUniform = (L: readonly number[], Qm: readonly number[]) => {
      const u: Record<string, number> = { n: N, runs: R };
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        u[`l${a}${b}`] = L[3 * a + b];
        u[`q${a}${b}`] = Qm[3 * a + b];
      }
      return u;
    };
    if (emb.kind === 'coupled-rotation') {
      // M = Ẽᵀ W E: logits in embedding coordinates (z_ij = M_ji).
      logits = alloc.tensor('rotated logits', R, N, N, square);
      grad = alloc.tensor('gradient in embedding coordinates', R, N, N, square);
      await dispatch({
        kernel: BLOCK3_TRANSFORM_KERNEL,
        label: 'block3_transform:logits',
        buffers: { block_src: args.W.buffer, block_dst: logits.buffer },
        uniforms: { blocks: blockUniform(transpose(Rout), transpose(Rin)) },
        workgroups: linearWorkgroups(rec.gpu, R * N * N),
      });
    }
    await dispatch({
      kernel: IDENTITY_SOFTMAX_GRAD_KERNEL,
      buffers: {
        id_logits: logits.buffer,
        id_weights: t.kind === 'population' ? t.weights.buffer : dummyF32().buffer,
        id_items: items.buffer,
        id_labels: labels.buffer,
        id_grad: grad.buffer,
        id_out: outputs.buffer,
      },
      uniforms: {
        ident: {
          N,
          runs: R,
          mode: t.kind === 'population' ? 0 : sampled ? 2 : 1,
          batchSize: Q,
          indexBatchStride,
          noise: args.noise,
        },
      },
      workgroups: linearWorkgroups(rec.gpu, R * N),
    });
    if (emb.kind === 'coupled-rotation') {
      // G = Ẽ Γ Eᵀ.
      await dispatch({
        kernel: BLOCK3_TRANSFORM_KERNEL,
        label: 'block3_transform:gradient',
        buffers: { block_src: grad.buffer, block_dst: args.G.buffer },
        uniforms: { blocks: blockUniform(Rout, Rin) },
        workgroups: linearWorkgroups(rec.gpu, R * N * N),
      });
    }
  } else {
    const { E, Et } = emb;
    const dIn = emb.dIn;
    const rowsLimit = (perRow: number) => (limit: number) => limit / (BYTES_PER_ELEMENT * perRow);
    // Queries' input embeddings: the table itself (population) or the drawn rows (minibatch).
    let Eq: Tensor = E;
    if (t.kind === 'minibatch') {
      Eq = alloc.tensor('minibatch E rows', R, Q, dIn, rowsLimit(R * dIn));
      alloc.dispatches++;
      await gatherRows(rec, { src: E, index: t.items, out: Eq });
    }
    const H = alloc.tensor('queries H = W·e (then residual)', R, Q, dOut, rowsLimit(R * dOut));
    o = alloc.tensor('o', R, Q, dOut, rowsLimit(R * dOut));
    const state = alloc.tensor('online softmax state', R, Q, 8, rowsLimit(8 * R));
    const ebar = alloc.tensor('mean output embedding', 1, 1, dOut, () => Infinity);
    if (args.noise > 0 && !sampled) {
      alloc.dispatches++;
      await columnMean(rec, Et, ebar);
    }
    alloc.dispatches++;
    await matmul(rec, { a: Eq, b: args.W, c: H, transB: true }, { label: 'softmaxGrad:H' });
    const C = Math.min(args.chunkSize ?? DEFAULT_CHUNK_SIZE, N);
    // Scratch of about 2·Q·dOut elements per run (as much as O and H together): memory stays
    // O((N + d)·d) and, at N = 4096, d = 64, every query fits one block (fewest dispatches).
    const Qb = Math.min(Q, args.queryBlock ?? Math.max(1, Math.floor(Math.max(2 * Q * dOut, MIN_SCRATCH) / C)));
    const scratch = alloc.tensor('logits scratch (query block × chunk)', R, Qb, C, () => N);
    chunks = Math.ceil(N / C);
    blocks = Math.ceil(Q / Qb);
    const runStride = (perRun: number) => (R > 1 ? perRun : 0);
    for (let q0 = 0; q0 < Q; q0 += Qb) {
      const qb = Math.min(Qb, Q - q0);
      const Hblk: Tensor = { ...H, rows: qb, offset: q0 * dOut, batchStride: runStride(Q * dOut) };
      const Oblk: Tensor = { ...o, rows: qb, offset: q0 * dOut, batchStride: runStride(Q * dOut) };
      for (let j0 = 0; j0 < N; j0 += C) {
        const c = Math.min(C, N - j0);
        const EtChunk: Tensor = { ...Et, rows: c, offset: Et.offset + j0 * dOut, batchStride: 0 };
        // Logits transposed (chunk × block): see softmax_chunk_update on why.
        const S: Tensor = { ...scratch, rows: c, cols: qb, offset: 0, batchStride: runStride(Qb * C) };
        alloc.dispatches++;
        await matmul(rec, { a: EtChunk, b: Hblk, c: S, transB: true }, { label: 'softmaxGrad:logits' });
        // Blocks of a multiple of 4 queries take the vec4 form (4 queries per invocation).
        const vec4 = qb % 4 === 0 && (Qb * C) % 4 === 0;
        await dispatch({
          kernel: vec4 ? SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL : SOFTMAX_CHUNK_UPDATE_KERNEL,
          buffers: vec4
            ? { scratch4: scratch.buffer, o_acc4: o.buffer, state4: state.buffer, items4: items.buffer, labels4: labels.buffer }
            : { scratch: scratch.buffer, o_acc: o.buffer, state: state.buffer, items: items.buffer, labels: labels.buffer },
          uniforms: {
            [vec4 ? 'chunk4' : 'chunk']: {
              rows: vec4 ? (R * qb) / 4 : R * qb,
              blockRows: qb,
              queries: Q,
              queryBase: q0,
              chunkCols: c,
              scratchStride: qb,
              scratchBatch: Qb * C,
              chunkBase: j0,
              dOut,
              first: j0 === 0 ? 1 : 0,
              population: t.kind === 'population' ? 1 : 0,
              indexBatchStride,
            },
          },
          workgroups: linearWorkgroups(rec.gpu, vec4 ? (R * qb) / 4 : R * qb),
        });
        alloc.dispatches++;
        await matmul(rec, { a: S, b: EtChunk, c: Oblk, transA: true, beta: 1 }, { label: 'softmaxGrad:p·Ẽ' });
      }
    }
    await dispatch({
      kernel: SOFTMAX_FINALIZE_KERNEL,
      buffers: {
        fin_state: state.buffer,
        fin_o: o.buffer,
        fin_residual: H.buffer,
        fin_et: Et.buffer,
        fin_ebar: ebar.buffer,
        fin_weights: t.kind === 'population' ? t.weights.buffer : dummyF32().buffer,
        fin_items: items.buffer,
        fin_labels: labels.buffer,
        fin_out: outputs.buffer,
      },
      uniforms: {
        fin: {
          rows: R * Q,
          queries: Q,
          dOut,
          N,
          population: t.kind === 'population' ? 1 : 0,
          sampled: sampled ? 1 : 0,
          indexBatchStride,
          useItemWeights: t.kind === 'population' ? 1 : 0,
          noise: args.noise,
          constWeight: 1 / Q,
        },
      },
      workgroups: linearWorkgroups(rec.gpu, R * Q),
    });
    // G = Rsdᵀ · E_q (the residual now lives in H's buffer).
    alloc.dispatches++;
    await matmul(rec, { a: H, b: Eq, c: args.G, transA: true }, { label: 'softmaxGrad:G' });
  }
  const createdBytes = alloc.bytes + alloc.dispatches * UNIFORM_BYTES_PER_DISPATCH;
  const operands = operandBytes(args);
  return {
    outputs,
    o,
    queries: Q,
    runs: R,
    chunks,
    blocks,
    memory: { createdBytes, operandBytes: operands, peakBytes: createdBytes + operands, buffers: alloc.buffers },
    destroy: () => alloc.destroy(),
  };
}

/**
 * Counts NaN/±Inf entries of each named tensor on the GPU and throws naming the first offender.
 * One small readback: call it before a run (the kernels themselves propagate non-finite values).
 */
export async function assertFiniteTensors(gpu: Gpu, tensors: Record<string, Tensor>): Promise<void> {
  const entries = Object.entries(tensors);
  const counter = gpu.device.createBuffer({
    label: 'non-finite counters',
    size: Math.max(4, entries.length * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  try {
    await runCommands(gpu, async (rec) => {
      for (const [i, [, t]] of entries.entries()) {
        const count = (t.batchStride === 0 ? 1 : t.batch) * t.rows * t.cols;
        if (t.dtype !== 'f32' || count === 0) continue;
        if (t.batch > 1 && t.batchStride !== t.rows * t.cols) throw new RangeError(`assertFiniteTensors: "${t.label}" must be contiguous`);
        // One counter slot per tensor: bind the slot's 4 bytes by offset via a copy afterwards.
        const slot = gpu.device.createBuffer({ label: 'non-finite counter', size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        rec.own(slot);
        await rec.dispatch({
          kernel: COUNT_NONFINITE_KERNEL,
          buffers: { finite_bits: t.buffer, finite_counter: slot },
          uniforms: { finite: { count, offset: t.offset } },
          workgroups: linearWorkgroups(gpu, count),
        });
        rec.encoder.copyBufferToBuffer(slot, 0, counter, i * 4, 4);
      }
    });
    const counts = await readTensor(gpu, { buffer: counter, label: 'non-finite counters', batch: 1, rows: entries.length, cols: 1, batchStride: 0, offset: 0, dtype: 'u32' });
    entries.forEach(([name, t], i) => {
      if (counts[i] > 0) throw new RangeError(`softmaxGrad: ${name} ("${t.label}") has ${counts[i]} non-finite values (NaN or ±Inf)`);
    });
  } finally {
    counter.destroy();
  }
}

/**
 * One-shot form: checks W and the embedding tables are finite, records, submits and returns the
 * result (its buffers still alive: read them, then `destroy()`).
 */
export async function computeSoftmaxGrad(gpu: Gpu, args: SoftmaxGradArgs, options: { checkFinite?: boolean } = {}): Promise<SoftmaxGradResult> {
  validate(args);
  if (options.checkFinite ?? true) {
    const tensors: Record<string, Tensor> = { W: args.W };
    if (args.embeddings.kind === 'dense') {
      tensors['embeddings.E'] = args.embeddings.E;
      tensors['embeddings.Et'] = args.embeddings.Et;
    }
    if (args.targets.kind === 'population') tensors['targets.weights'] = args.targets.weights;
    await assertFiniteTensors(gpu, tensors);
  }
  let result: SoftmaxGradResult | undefined;
  await runCommands(gpu, async (rec) => {
    result = await softmaxGrad(rec, args);
  }).catch((err) => {
    result?.destroy();
    throw err;
  });
  return result!;
}
