/**
 * FLOP and byte counts of one dispatch, from what it was called with (entry point, uniforms,
 * override constants, bound buffer sizes): the profiler's GFLOP/s and GB/s columns. Counts are of
 * the useful work — multiply-adds of the products, compulsory traffic (each operand read once, each
 * result written once) — not of what a kernel variant happens to re-read, so two variants of one
 * call are compared on the same work. Kernels without a model here get no FLOP count and, as bytes,
 * the sizes of the buffers they bind (an estimate, marked `bound-buffers`). Pure TypeScript: keyed
 * by entry-point names, so Node can use it too.
 */
import type { DispatchRecord } from './profiler';

export type CostModel = 'exact' | 'approximate' | 'bound-buffers';

export interface DispatchCost {
  /** Floating-point operations; null when the kernel has no FLOP model (data movement, bookkeeping). */
  flops: number | null;
  bytes: number;
  model: CostModel;
}

const F32 = 4;

function uniform(d: DispatchRecord, ...names: string[]): Record<string, number> | undefined {
  for (const n of names) if (d.uniforms?.[n]) return d.uniforms[n];
  return undefined;
}

function boundBytes(d: DispatchRecord, except: readonly string[] = []): number {
  let sum = 0;
  for (const [name, bytes] of Object.entries(d.bufferBytes)) {
    if (d.uniforms && name in d.uniforms) continue;
    if (!except.includes(name)) sum += bytes;
  }
  return sum;
}

/** The FLOP/byte counts of one recorded dispatch (see the file comment for what is counted). */
export function dispatchCost(d: DispatchRecord): DispatchCost {
  const e = d.entryPoint;
  if (e.startsWith('matmul')) {
    const p = uniform(d, 'params');
    if (p) {
      const { M, N, K, batch } = p;
      const copiesA = p.batchStrideA ? batch : 1;
      const copiesB = p.batchStrideB ? batch : 1;
      return {
        flops: 2 * M * N * K * batch,
        bytes: F32 * (M * K * copiesA + K * N * copiesB + M * N * batch * (p.beta ? 2 : 1)),
        model: 'exact',
      };
    }
  }
  if (e === 'gram_symmetric_quad') {
    const p = uniform(d, 'params');
    // C = X·Xᵀ symmetric: M(M+1)/2 dot products of length K (the triangle with the diagonal).
    if (p) {
      const copiesX = p.batchStrideA ? p.batch : 1;
      return { flops: p.M * (p.M + 1) * p.K * p.batch, bytes: F32 * (p.M * p.K * copiesX + p.M * p.M * p.batch * (p.beta ? 2 : 1)), model: 'exact' };
    }
  }
  if (e === 'block3_transform') {
    const p = uniform(d, 'blocks');
    // Y = L·S·Q per 3×3 block: two 3×3 products (54 multiply-adds) per 9 elements = 12 FLOPs per
    // element; the kernel recomputes the inner product per output (24), which is not counted.
    if (p) return { flops: 12 * p.n * p.n * p.runs, bytes: 2 * F32 * p.n * p.n * p.runs, model: 'exact' };
  }
  if (e === 'sum_squares') {
    const p = uniform(d, 'params');
    const diff = Boolean(d.constants?.DIFF);
    if (p) {
      const n = p.rows * p.cols * p.batch;
      return { flops: (diff ? 3 : 2) * n, bytes: F32 * n * (diff ? 2 : 1), model: 'exact' };
    }
  }
  if (e === 'ns_normalize' || e === 'ns_exact_select') {
    const p = uniform(d, 'norm', 'sel');
    if (p) return { flops: e === 'ns_normalize' ? p.count * p.batch : 0, bytes: 2 * F32 * p.count * p.batch, model: 'exact' };
  }
  if (e === 'softmax_chunk_update' || e === 'softmax_chunk_update_vec4') {
    const p = uniform(d, 'chunk', 'chunk4');
    if (p) {
      // Per logit: running max, subtract, exp, add (exp counted as one operation); the logit read
      // and the probability written back for the p·Ẽ product.
      const queries = p.rows * (e.endsWith('vec4') ? 4 : 1);
      return { flops: 4 * queries * p.chunkCols, bytes: 2 * F32 * queries * p.chunkCols, model: 'approximate' };
    }
  }
  if (e === 'softmax_finalize') {
    const p = uniform(d, 'fin');
    // Per query: o/s, the residual and the true-class terms over dOut; read o and H, write H.
    if (p) return { flops: 3 * p.rows * p.dOut, bytes: 3 * F32 * p.rows * p.dOut, model: 'approximate' };
  }
  if (e === 'identity_softmax_grad') {
    const p = uniform(d, 'ident');
    // Per run and row of W (N × N): max, exp, sum, normalize; read the logits, write the gradient.
    if (p) return { flops: 5 * p.runs * p.N * p.N, bytes: 2 * F32 * p.runs * p.N * p.N, model: 'approximate' };
  }
  if (e === 'gather_rows') {
    const p = uniform(d, 'params');
    if (p) return { flops: 0, bytes: F32 * p.batch * p.rows * (2 * p.cols + 1), model: 'exact' };
  }
  if (e === 'fma_peak') {
    const p = uniform(d, 'fmaParams');
    const invocations = 64 * d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
    if (p) return { flops: invocations * p.iterations * 64, bytes: F32 * invocations, model: 'exact' };
  }
  if (e === 'copy_bandwidth') {
    const p = uniform(d, 'copyParams');
    if (p) return { flops: 0, bytes: 2 * 16 * p.count, model: 'exact' };
  }
  return { flops: null, bytes: boundBytes(d), model: 'bound-buffers' };
}
