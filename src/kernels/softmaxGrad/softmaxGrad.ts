/**
 * The softmax cross-entropy gradient of the associative-memory task (docs/math.md §1) on the GPU, batched
 * over R runs: per query lse, stable loss, true-class logit and probability, strict recovered flag,
 * o_q = Σ_j p̂(j|q) ẽ_j, and G = (O − Ẽ*)·diag(w)·E_qᵀ. CPU twin: src/cpu/softmaxGrad.ts.
 *
 * Dense embeddings (gaussian, orthonormal) stream over the N outputs in chunks with an online
 * softmax (src/kernels/softmaxGrad/dense.ts; shaders/softmaxGrad/ describes the recurrence). The
 * logits of one query block × one output chunk live in a scratch buffer of about
 * max(2·Q·dOut, 2^16) elements per run, so memory is O((N + d)·d) and no N×N or Q×N buffer exists.
 * Identity embeddings are applied structurally (logits = W's entries, O(N²)); coupled-rotation as
 * 3×3 block rotations around that same kernel (src/kernels/softmaxGrad/structural.ts).
 *
 * Sizes: a buffer that would exceed the binding limit (maxStorageBufferBindingSize, or a smaller
 * `maxBindingBytes`) is not an error — the work is staged in run groups, query blocks and output
 * chunks through buffers that fit one binding. Only one buffer beyond maxBufferSize is an error,
 * naming the limit and the largest N that fits.
 *
 * Buffers come from a workspace: pass `workspace` (createSoftmaxGradWorkspace) to reuse them across
 * calls (the scheduler does, every step); without one each call has its own, freed by `destroy()`.
 *
 * W and G may be views (offsets, run ranges: any layout matmul accepts); G must not be shared
 * between runs. Output tensor columns per query (`outputs`, [R, Q, 5]): lse, loss, zTrue, pTrue,
 * correct (0/1).
 */
import { runCommands, type CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { readTensor, requiredElements, BYTES_PER_ELEMENT, type Tensor } from '../../gpu/tensor';
import { validateNoise } from '../../task/noise';
import type { TaskEmbeddings } from '../../task/taskGpu';
import { recordDense } from './dense';
import { countNonFinite } from '../reduce/reduce';
import type { MatmulVariantName } from '../matmul/matmul';
import { recordStructural } from './structural';
import { CallBuffers, SoftmaxGradWorkspace } from './workspace';

export {
  SOFTMAX_CHUNK_UPDATE_KERNEL,
  SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL,
  SOFTMAX_FINALIZE_KERNEL,
  IDENTITY_SOFTMAX_GRAD_KERNEL,
  BLOCK3_TRANSFORM_KERNEL,
  GATHER_ROWS_IN_CHUNK_KERNEL,
  ACCUMULATE_COLUMN_MEAN_KERNEL,
} from './kernels';
export { createSoftmaxGradWorkspace, SoftmaxGradWorkspace } from './workspace';

/** Columns of the per-query output tensor. */
export const SOFTMAX_OUTPUT_COLUMNS = ['lse', 'loss', 'zTrue', 'pTrue', 'correct'] as const;

/** Index of a column in the per-query output tensor. */
export const outputColumn = (name: (typeof SOFTMAX_OUTPUT_COLUMNS)[number]): number => SOFTMAX_OUTPUT_COLUMNS.indexOf(name);

/**
 * One run's per-query p̂(true), recovered flag and loss from the host copy of an [R, Q, columns]
 * outputs tensor.
 *
 * @example
 * const { pCorrect, correct, loss } = itemOutputs(await readTensor(gpu, result.outputs), r, result.queries);
 */
export function itemOutputs(
  outputs: Float32Array,
  run: number,
  queries: number,
): { pCorrect: Float32Array; correct: Uint8Array; loss: Float32Array } {
  const cols = SOFTMAX_OUTPUT_COLUMNS.length;
  const [pTrue, isCorrect, lossColumn] = [outputColumn('pTrue'), outputColumn('correct'), outputColumn('loss')];
  const pCorrect = new Float32Array(queries);
  const correct = new Uint8Array(queries);
  const loss = new Float32Array(queries);
  for (let i = 0; i < queries; i++) {
    const row = (run * queries + i) * cols;
    pCorrect[i] = outputs[row + pTrue];
    correct[i] = outputs[row + isCorrect] > 0.5 ? 1 : 0;
    loss[i] = outputs[row + lossColumn];
  }
  return { pCorrect, correct, loss };
}

/**
 * Default outputs per chunk. With the default query block (scratch ≈ 2·Q·dOut elements) this gives
 * tall query blocks (all 4096 queries at N = 4096, d = 64), which measured fastest on SwiftShader
 * (chunks of 64, 128, 256, 1024 with blocks of 4096 … 256 tried): the chunk update then has many
 * invocations, the two block matmuls keep large outputs, and there are few dispatches.
 */
export const DEFAULT_CHUNK_SIZE = 128;
/** Conservative bytes counted per dispatch for its transient uniform buffer. */
const UNIFORM_BYTES_PER_DISPATCH = 256;

export type SoftmaxTargets = { kind: 'population'; weights: Tensor } | { kind: 'minibatch'; items: Tensor; labels: Tensor };

export interface SoftmaxGradArgs {
  /** [R, dOut, dIn]; any view matmul accepts (offset, run stride). */
  W: Tensor<'f32'>;
  embeddings: TaskEmbeddings;
  /** Result [R, dOut, dIn]; any view with one matrix per run. */
  G: Tensor<'f32'>;
  targets: SoftmaxTargets;
  noise: number;
  noiseTarget: 'sampled' | 'expected';
  /** Outputs per chunk of the online softmax (default DEFAULT_CHUNK_SIZE = 128). */
  chunkSize?: number;
  /** Queries per block (default: scratch of about max(2·Q·dOut, 2^16) elements per run). */
  queryBlock?: number;
  /**
   * Caps the bytes one binding may cover (default and maximum: the device's
   * maxStorageBufferBindingSize). Larger operands and work buffers are staged in pieces; tests use a
   * small cap to exercise that path.
   */
  maxBindingBytes?: number;
  /**
   * Also compute o for identity and coupled-rotation embeddings (an [R, N, N] buffer as large as W;
   * off by default because the structural update does not need it). Dense embeddings always give o.
   */
  computeO?: boolean;
  /** Buffers reused across calls (see createSoftmaxGradWorkspace); default: this call's own. */
  workspace?: SoftmaxGradWorkspace;
  /**
   * Force the matmul variant of the dense path's logit and update products (the chunk loop:
   * benchmarks); a product whose shape the variant cannot take (aligned-only variants) keeps the
   * device's choice. Default: the device's choice per shape class for every product.
   */
  matmulVariant?: MatmulVariantName;
}

export interface SoftmaxGradMemory {
  /** Bytes of the buffers this call used (scratch, H, O, state, outputs, …) and dispatch uniforms. */
  createdBytes: number;
  /** Bytes of the caller's operands (W, G, embeddings, weights / draws). */
  operandBytes: number;
  /** createdBytes + operandBytes: everything alive while the call's work runs. */
  peakBytes: number;
  /** Buffers used, by role, in bytes. */
  buffers: Record<string, number>;
}

export interface SoftmaxGradResult {
  /** [R, Q, 5] per-query outputs (SOFTMAX_OUTPUT_COLUMNS). */
  outputs: Tensor<'f32'>;
  /**
   * o_q = Σ_j p̂(j|q) ẽ_j. Dense embeddings: [R, Q, dOut], one row per query, always. Identity and
   * coupled-rotation with `computeO`: [R, N, N], one row per item (for a minibatch, draw b's o is
   * row items[b]: the structural kernel computes every item's softmax anyway).
   */
  o?: Tensor<'f32'>;
  queries: number;
  runs: number;
  /** Chunks and query blocks the outputs were processed in (structural path: 1 and 1). */
  chunks: number;
  blocks: number;
  /** Groups of runs processed one after another (1 unless staged). */
  runGroups: number;
  /** True when some buffer exceeded the binding limit and the work was staged through copies. */
  staged: boolean;
  memory: SoftmaxGradMemory;
  /**
   * Frees the call's buffers (after the recorder was submitted and results read). With a caller's
   * workspace it does nothing: the workspace owns them until its `dispose()`.
   */
  destroy(): void;
}

function tensorBytes(t: Tensor): number {
  return t.buffer.size;
}

function requireOperand(t: Tensor, name: string, batch: number, rows: number, cols: number, output: boolean): void {
  if (t.dtype !== 'f32') throw new TypeError(`softmaxGrad: ${name} must be f32, got ${t.dtype}`);
  if (t.rows !== rows || t.cols !== cols) {
    throw new RangeError(`softmaxGrad: ${name} is ${t.rows}×${t.cols}, expected ${rows}×${cols} (dOut × dIn of the embeddings)`);
  }
  if (t.batch !== batch) throw new RangeError(`softmaxGrad: ${name} has batch ${t.batch}, expected ${batch} (W's runs)`);
  for (const key of ['offset', 'batchStride'] as const) {
    if (!Number.isInteger(t[key]) || t[key] < 0)
      throw new RangeError(`softmaxGrad: ${name}.${key} must be a non-negative integer, got ${t[key]}`);
  }
  if (batch > 1 && t.batchStride !== 0 && t.batchStride < rows * cols) {
    throw new RangeError(
      `softmaxGrad: ${name}.batchStride ${t.batchStride} is smaller than one ${rows}×${cols} matrix (runs would overlap)`,
    );
  }
  if (output && batch > 1 && t.batchStride === 0) {
    throw new RangeError(`softmaxGrad: ${name}.batchStride is 0: every run would write the same matrix (give each run its own)`);
  }
  const need = requiredElements(t) * BYTES_PER_ELEMENT;
  if (need > t.buffer.size)
    throw new RangeError(`softmaxGrad: ${name} ("${t.label}") layout needs ${need} bytes but its buffer has ${t.buffer.size}`);
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
    throw new RangeError(
      `softmaxGrad: coupled-rotation embeddings need N = dIn = dOut divisible by 3, got N ${N}, dIn ${dIn}, dOut ${dOut}`,
    );
  }
  if (emb.kind === 'dense') {
    if (emb.E.rows !== N || emb.E.cols !== dIn)
      throw new RangeError(`softmaxGrad: embeddings.E is ${emb.E.rows}×${emb.E.cols}, expected N×dIn = ${N}×${dIn}`);
    if (emb.Et.rows !== N || emb.Et.cols !== dOut)
      throw new RangeError(`softmaxGrad: embeddings.Et is ${emb.Et.rows}×${emb.Et.cols}, expected N×dOut = ${N}×${dOut}`);
    if (emb.E.batch !== 1 || emb.Et.batch !== 1) throw new RangeError('softmaxGrad: embedding tables are shared by all runs (batch 1)');
  }
  const R = args.W.batch;
  if (!Number.isInteger(R) || R < 1) throw new RangeError(`softmaxGrad: W has no runs (batch ${R})`);
  if (args.W.cols !== dIn) throw new RangeError(`softmaxGrad: W has ${args.W.cols} columns but the input embeddings have dIn = ${dIn}`);
  if (args.W.rows !== dOut) throw new RangeError(`softmaxGrad: W has ${args.W.rows} rows but the output embeddings have dOut = ${dOut}`);
  requireOperand(args.W, 'W', R, dOut, dIn, false);
  requireOperand(args.G, 'G', R, dOut, dIn, true);
  if (args.G.buffer === args.W.buffer) throw new RangeError("softmaxGrad: G must not share W's buffer");
  const t = args.targets;
  let Q: number;
  if (t.kind === 'population') {
    if (t.weights.rows * t.weights.cols !== N || t.weights.dtype !== 'f32') {
      throw new RangeError(
        `softmaxGrad: targets.weights must hold N = ${N} f32 frequencies, got ${t.weights.rows}×${t.weights.cols} ${t.weights.dtype}`,
      );
    }
    if (t.weights.offset !== 0) throw new RangeError('softmaxGrad: targets.weights must start at offset 0');
    Q = N;
  } else if (t.kind === 'minibatch') {
    Q = t.items.rows;
    for (const [name, x] of [
      ['items', t.items],
      ['labels', t.labels],
    ] as const) {
      if (x.dtype !== 'u32') throw new TypeError(`softmaxGrad: targets.${name} must be u32, got ${x.dtype}`);
      if (x.rows !== Q || x.cols !== 1)
        throw new RangeError(`softmaxGrad: targets.${name} must be [R, B, 1] with B = ${Q}, got ${x.rows}×${x.cols}`);
      if (x.batch !== R && !(x.batch === 1 || x.batchStride === 0))
        throw new RangeError(`softmaxGrad: targets.${name} has batch ${x.batch}, expected ${R} or 1`);
      if (x.offset !== 0) throw new RangeError(`softmaxGrad: targets.${name} must start at offset 0`);
      if (x.batch > 1 && x.batchStride !== 0 && x.batchStride !== Q)
        throw new RangeError(`softmaxGrad: targets.${name} must be contiguous per run (batchStride ${Q}), got ${x.batchStride}`);
    }
    if (t.labels.batch > 1 !== t.items.batch > 1)
      throw new RangeError('softmaxGrad: targets.items and targets.labels must both be per run or both shared');
    if (Q < 1) throw new RangeError('softmaxGrad: targets.items: a minibatch needs at least one draw');
  } else {
    throw new RangeError(`softmaxGrad: targets.kind must be 'population' or 'minibatch', got ${String((t as { kind?: unknown }).kind)}`);
  }
  const chunk = args.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`softmaxGrad: chunkSize must be a positive integer, got ${chunk}`);
  if (args.queryBlock !== undefined && (!Number.isInteger(args.queryBlock) || args.queryBlock < 1)) {
    throw new RangeError(`softmaxGrad: queryBlock must be a positive integer, got ${args.queryBlock}`);
  }
  if (args.maxBindingBytes !== undefined && (!Number.isInteger(args.maxBindingBytes) || args.maxBindingBytes < 16)) {
    throw new RangeError(`softmaxGrad: maxBindingBytes must be an integer ≥ 16, got ${args.maxBindingBytes}`);
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
 * Records the gradient for a batch of runs into `rec`. The buffers it uses stay alive until
 * `destroy()` on the result (after submit and readback), or until the workspace is disposed.
 *
 * @example
 * const r = await softmaxGrad(rec, { W, G, embeddings: task.embeddings,
 *   targets: { kind: 'population', weights: task.weights }, noise: 0, noiseTarget: 'expected' });
 * await rec.submit();
 * const outputs = await readTensor(gpu, r.outputs); // lse, loss, zTrue, pTrue, correct per query
 * r.destroy();
 */
export async function softmaxGrad(rec: CommandRecorder, args: SoftmaxGradArgs): Promise<SoftmaxGradResult> {
  if (args.workspace && args.workspace.gpu !== rec.gpu) throw new RangeError('softmaxGrad: workspace belongs to another device');
  const own = args.workspace ? undefined : new SoftmaxGradWorkspace(rec.gpu);
  const alloc = new CallBuffers(args.workspace ?? own!);
  try {
    const result = await recordSoftmaxGrad(rec, args, alloc, () => own?.dispose());
    await assertAllocated(alloc, args.embeddings.N);
    return result;
  } catch (err) {
    own?.dispose();
    throw err;
  }
}

/**
 * Throws when the device ran out of memory creating one of the call's buffers: names the buffer,
 * the bytes this call needs, and — the work buffers being linear in N — about the largest N whose
 * buffers fit in what could be allocated.
 */
async function assertAllocated(alloc: CallBuffers, N: number): Promise<void> {
  const failures = await alloc.workspace.takeAllocationFailures();
  if (failures.length === 0) return;
  const failed = failures.reduce((a, f) => a + f.bytes, 0);
  const allocated = Math.max(0, alloc.bytes - failed);
  const first = failures[0];
  throw new RangeError(
    `softmaxGrad: out of device memory creating buffer "${first.label}" (${first.bytes} bytes; ${failures.length} buffer(s) failed, ` +
      `this call needs ${alloc.bytes} bytes of work buffers besides its operands): ${first.message}. The work buffers grow linearly ` +
      `in N, so about N = ${Math.floor((N * allocated) / alloc.bytes)} would fit in the ${allocated} bytes that could be allocated`,
  );
}

async function recordSoftmaxGrad(
  rec: CommandRecorder,
  args: SoftmaxGradArgs,
  alloc: CallBuffers,
  destroy: () => void,
): Promise<SoftmaxGradResult> {
  const { R, Q } = validate(args);
  const deviceLimit = rec.gpu.limits.maxStorageBufferBindingSize ?? Infinity;
  const bindLimit = Math.min(deviceLimit, args.maxBindingBytes ?? Infinity);
  const emb = args.embeddings;
  const t = args.targets;
  const outputs = alloc.tensor('outputs', R, Q, 5, (limit) => limit / (BYTES_PER_ELEMENT * 5 * R));
  let o: Tensor<'f32'> | undefined;
  let chunks = 1;
  let blocks = 1;
  let runGroups: number;
  let staged: boolean;
  if (emb.kind === 'dense') {
    const r = await recordDense(
      rec,
      {
        emb,
        W: args.W,
        G: args.G,
        outputs,
        targets: t,
        Q,
        noise: args.noise,
        sampled: t.kind === 'minibatch' && args.noiseTarget === 'sampled',
        chunkSize: args.chunkSize ?? DEFAULT_CHUNK_SIZE,
        queryBlock: args.queryBlock,
        bindLimit,
        matmulVariant: args.matmulVariant,
      },
      alloc,
    );
    ({ o, chunks, blocks, runGroups, staged } = r);
  } else {
    const r = await recordStructural(
      rec,
      {
        emb,
        W: args.W,
        G: args.G,
        outputs,
        Q,
        noise: args.noise,
        sampled: t.kind === 'minibatch' && args.noiseTarget === 'sampled',
        weights: t.kind === 'population' ? t.weights : undefined,
        items: t.kind === 'minibatch' ? t.items : undefined,
        labels: t.kind === 'minibatch' ? t.labels : undefined,
        computeO: Boolean(args.computeO),
        bindLimit,
      },
      alloc,
    );
    ({ o, runGroups, staged } = r);
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
    runGroups,
    staged,
    memory: { createdBytes, operandBytes: operands, peakBytes: createdBytes + operands, buffers: alloc.buffers },
    destroy,
  };
}

/**
 * Counts NaN/±Inf entries of each named tensor on the GPU and throws naming the first offender.
 * One small readback: call it before a run (the kernels themselves propagate non-finite values).
 */
export async function assertFiniteTensors(gpu: Gpu, tensors: Record<string, Tensor>): Promise<void> {
  // One f32 count per matrix (countNonFinite, src/kernels/reduce/), all tensors into one buffer; a
  // tensor shared by every run (batch stride 0) is one matrix.
  const entries = Object.entries(tensors)
    .filter(([, t]) => t.dtype === 'f32' && t.rows * t.cols > 0)
    .map(([name, t]) => ({ name, t: t.batchStride === 0 ? { ...t, batch: 1 } : t }));
  const slots = entries.reduce((n, e) => n + e.t.batch, 0);
  const counter = gpu.device.createBuffer({
    label: 'non-finite counters',
    size: Math.max(4, slots * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  try {
    await runCommands(gpu, async (rec) => {
      let at = 0;
      for (const { t } of entries) {
        await countNonFinite(rec, { x: t, out: counter, outOffset: at });
        at += t.batch;
      }
    });
    const counts = await readTensor(gpu, {
      buffer: counter,
      label: 'non-finite counters',
      batch: 1,
      rows: Math.max(1, slots),
      cols: 1,
      batchStride: 0,
      offset: 0,
      dtype: 'f32',
    });
    let at = 0;
    for (const { name, t } of entries) {
      let found = 0;
      for (let b = 0; b < t.batch; b++) found += counts[at + b];
      at += t.batch;
      if (found > 0) throw new RangeError(`softmaxGrad: ${name} ("${t.label}") has ${found} non-finite values (NaN or ±Inf)`);
    }
  } finally {
    counter.destroy();
  }
}

/**
 * Checks population weights read back from the GPU: finite, non-negative, summing to 1 within the
 * f32 rounding of N values (N·2^-24 relative, plus 1e-9). Throws naming `targets.weights`.
 */
export function assertWeights(w: ArrayLike<number>): void {
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    if (!Number.isFinite(w[i])) throw new RangeError(`softmaxGrad: targets.weights[${i}] is ${w[i]}: frequencies must be finite`);
    if (w[i] < 0) throw new RangeError(`softmaxGrad: targets.weights[${i}] is ${w[i]}: frequencies must be non-negative`);
    sum += w[i];
  }
  const tol = w.length * 2 ** -24 + 1e-9;
  if (!(Math.abs(sum - 1) <= tol))
    throw new RangeError(`softmaxGrad: targets.weights must sum to 1 (within ${tol.toExponential(2)}), got ${sum}`);
}

/**
 * One-shot form: checks W, the embedding tables and the population weights (finite; weights
 * non-negative and summing to 1), records, submits and returns the result (its buffers still alive:
 * read them, then `destroy()`).
 */
export async function computeSoftmaxGrad(
  gpu: Gpu,
  args: SoftmaxGradArgs,
  options: { checkFinite?: boolean } = {},
): Promise<SoftmaxGradResult> {
  validate(args);
  if (options.checkFinite ?? true) {
    const tensors: Record<string, Tensor> = { W: args.W };
    if (args.embeddings.kind === 'dense') {
      tensors['embeddings.E'] = args.embeddings.E;
      tensors['embeddings.Et'] = args.embeddings.Et;
    }
    await assertFiniteTensors(gpu, tensors);
    if (args.targets.kind === 'population') assertWeights(await readTensor(gpu, args.targets.weights));
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
