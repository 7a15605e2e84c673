/**
 * Shape rules of `C = α·op(A)·op(B) + β·C`, shared by the GPU kernel and its CPU twin so both reject
 * the same calls with the same messages. op(A) is M×K, op(B) is K×N, C is M×N; an operand with batch
 * count 1 (or batch stride 0) is shared by every product of the batch.
 */
import { validateLayout, type TensorLayout } from './tensorLayout';

export interface MatmulOperands<T extends TensorLayout> {
  a: T;
  b: T;
  c: T;
  transA?: boolean;
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0; 0 means C is not read. */
  beta?: number;
}

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Batch strides in elements, 0 for a shared operand. */
  batchStrideA: number;
  batchStrideB: number;
  batchStrideC: number;
}

export function matmulShape<T extends TensorLayout>(args: MatmulOperands<T>): MatmulShape {
  const { a, b, c } = args;
  validateLayout(a, 'matmul operand A');
  validateLayout(b, 'matmul operand B');
  validateLayout(c, 'matmul operand C');
  for (const [name, t] of [
    ['A', a],
    ['B', b],
    ['C', c],
  ] as const) {
    if (t.dtype !== 'f32') throw new TypeError(`matmul operand ${name}: dtype must be f32, got ${t.dtype}`);
    if (t.rows < 1 || t.cols < 1 || t.batch < 1) {
      throw new RangeError(`matmul operand ${name}: shape ${t.batch}×${t.rows}×${t.cols} has an empty dimension (need ≥ 1)`);
    }
  }
  const M = args.transA ? a.cols : a.rows;
  const K = args.transA ? a.rows : a.cols;
  const Kb = args.transB ? b.cols : b.rows;
  const N = args.transB ? b.rows : b.cols;
  const opA = `op(A) = A${args.transA ? 'ᵀ' : ''} is ${M}×${K}`;
  const opB = `op(B) = B${args.transB ? 'ᵀ' : ''} is ${Kb}×${N}`;
  if (K !== Kb) throw new RangeError(`matmul: ${opA} but ${opB}: inner dimensions ${K} and ${Kb} differ`);
  if (c.rows !== M || c.cols !== N) {
    throw new RangeError(`matmul operand C is ${c.rows}×${c.cols} but op(A)·op(B) is ${M}×${N}`);
  }
  const batch = c.batch;
  const strideOf = (t: T, name: string): number => {
    if (t.batch === 1 || t.batchStride === 0) return 0;
    if (t.batch !== batch) {
      throw new RangeError(`matmul operand ${name} has batch ${t.batch}; expected 1 (shared) or ${batch} (C's batch)`);
    }
    return t.batchStride;
  };
  if (c.batch > 1 && c.batchStride === 0) {
    throw new RangeError('matmul operand C: batch stride 0 would make every product write the same matrix');
  }
  const alpha = args.alpha ?? 1;
  const beta = args.beta ?? 0;
  if (!Number.isFinite(alpha)) throw new RangeError(`matmul: alpha must be finite, got ${alpha}`);
  if (!Number.isFinite(beta)) throw new RangeError(`matmul: beta must be finite, got ${beta}`);
  return {
    M,
    N,
    K,
    batch,
    batchStrideA: strideOf(a, 'A'),
    batchStrideB: strideOf(b, 'B'),
    batchStrideC: c.batch === 1 ? 0 : c.batchStride,
  };
}
