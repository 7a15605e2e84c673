/**
 * Symmetric products on the GPU: C = α·X·Xᵀ + β·C (or α·Xᵀ·X + β·C), batched, computing only the
 * 32×32 tiles on or above the diagonal and mirroring them (shaders/matmul/matmul_blocked_quad.wgsl,
 * `gram_symmetric_quad`: the register-blocked quad kernel with a triangular tile order). Newton–Schulz
 * uses it for A = X·Xᵀ and for A·A = A·Aᵀ (A symmetric): two of a step's three products at about half
 * their FLOPs. CPU twin: the plain product (src/cpu/matmul.ts), since the result is the same matrix.
 */
import type { CommandRecorder } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { defineKernel } from '../../gpu/registry';
import { BYTES_PER_ELEMENT, requiredElements, validateLayout, type Tensor } from '../../gpu/tensor';

export const GRAM_SYMMETRIC_KERNEL = defineKernel({ shader: 'matmul/matmul_blocked_quad.wgsl', entryPoint: 'gram_symmetric_quad' });

/** Side of the square tiles the kernel computes (one workgroup each). */
const TILE = 32;

/**
 * Whether this device can run the symmetric kernel: it is the quad kernel, so it needs `subgroups`.
 *
 * @example
 * if (symmetricGramAvailable(gpu)) await symmetricGram(rec, { x, c: gram, trans: false });
 */
export function symmetricGramAvailable(gpu: Pick<Gpu, 'hasSubgroups'>): boolean {
  return gpu.hasSubgroups;
}

/** Workgroups per matrix: the T·(T+1)/2 tiles on or above the diagonal of a T×T tiling. */
export function symmetricGramTiles(m: number): number {
  const t = Math.ceil(m / TILE);
  return (t * (t + 1)) / 2;
}

export interface SymmetricGramArgs {
  /** R matrices (or one, shared). */
  x: Tensor;
  /** R outputs of m×m, m = x.rows (or x.cols with `trans`); must be symmetric when β ≠ 0. */
  c: Tensor;
  /** false: C = α·X·Xᵀ + β·C; true: C = α·Xᵀ·X + β·C. */
  trans: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0 (C not read). */
  beta?: number;
  label?: string;
}

/**
 * Records C = α·X·Xᵀ + β·C (Xᵀ·X with `trans`) for every matrix of the batch. Any shape, offset and
 * batch stride; the output is exactly symmetric. For S·S with S symmetric pass x = S (S·Sᵀ = S·S).
 *
 * @example
 * await symmetricGram(rec, { x: iterate, c: gram, trans: iterate.rows > iterate.cols });
 */
export async function symmetricGram(rec: CommandRecorder, args: SymmetricGramArgs): Promise<void> {
  const { x, c, trans } = args;
  validateLayout(x, 'symmetricGram operand X');
  validateLayout(c, 'symmetricGram operand C');
  if (!symmetricGramAvailable(rec.gpu)) throw new RangeError('symmetricGram needs the WebGPU "subgroups" feature, which this device does not have');
  if (x.dtype !== 'f32' || c.dtype !== 'f32') throw new TypeError(`symmetricGram: X and C must be f32, got ${x.dtype} and ${c.dtype}`);
  const m = trans ? x.cols : x.rows;
  const k = trans ? x.rows : x.cols;
  if (c.rows !== m || c.cols !== m) throw new RangeError(`symmetricGram: C is ${c.rows}×${c.cols}, X${trans ? 'ᵀ·X' : '·Xᵀ'} is ${m}×${m}`);
  const batch = c.batch;
  if (batch > 1 && c.batchStride === 0) throw new RangeError('symmetricGram: C with batch stride 0 would make every product write the same matrix');
  const strideX = x.batch === 1 || x.batchStride === 0 ? 0 : x.batchStride;
  if (strideX !== 0 && x.batch !== batch) throw new RangeError(`symmetricGram: X has batch ${x.batch}; expected 1 (shared) or ${batch} (C's batch)`);
  for (const [name, t] of [['X', x], ['C', c]] as const) {
    const need = requiredElements(t) * BYTES_PER_ELEMENT;
    if (need > t.buffer.size) throw new RangeError(`symmetricGram operand ${name}: layout needs ${need} bytes but buffer "${t.label}" has ${t.buffer.size}`);
  }
  const alpha = args.alpha ?? 1;
  const beta = args.beta ?? 0;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new RangeError(`symmetricGram: alpha and beta must be finite, got ${alpha} and ${beta}`);
  await rec.dispatch({
    kernel: GRAM_SYMMETRIC_KERNEL,
    label: args.label ?? 'symmetric gram',
    // op(A) = X (Xᵀ with trans) and op(B) = op(A)ᵀ, both read from the same matrix.
    constants: { TRANS_A: trans, TRANS_B: !trans },
    buffers: { a: x.buffer, b: x.buffer, c: c.buffer },
    uniforms: {
      params: {
        M: m, N: m, K: k, batch,
        offsetA: x.offset, offsetB: x.offset, offsetC: c.offset,
        batchStrideA: strideX, batchStrideB: strideX, batchStrideC: batch === 1 ? 0 : c.batchStride,
        alpha, beta,
      },
    },
    workgroups: [symmetricGramTiles(m), 1, batch],
  });
}

/** FLOPs the symmetric kernel performs: T(T+1)/2 tiles of 32×32 dot products of length k, per matrix. */
export function symmetricGramFlops(shape: { batch: number; m: number; k: number }): number {
  return 2 * symmetricGramTiles(shape.m) * TILE * TILE * shape.k * shape.batch;
}
