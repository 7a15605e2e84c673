/**
 * The softmax cross-entropy gradient family (the task's loss and gradient, never an N×N buffer):
 * chunked online softmax, finalize, the structural identity / coupled-rotation paths and the staged
 * path for buffers above the binding limit. CPU twin: src/cpu/softmaxGrad.ts.
 */
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchSoftmaxGrad, SOFTMAX_GRAD_BENCH_SHAPES } from './bench';
import { checkSoftmaxGrad, softmaxGradCaseId, softmaxGradCases } from './check';
import {
  ACCUMULATE_COLUMN_MEAN_KERNEL,
  BLOCK3_TRANSFORM_KERNEL,
  GATHER_ROWS_IN_CHUNK_KERNEL,
  IDENTITY_SOFTMAX_GRAD_KERNEL,
  SOFTMAX_CHUNK_UPDATE_KERNEL,
  SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL,
  SOFTMAX_FINALIZE_KERNEL,
} from './kernels';

export const softmaxGradFamily: KernelFamily = {
  name: 'softmax-grad',
  summary: 'fused softmax cross-entropy loss and gradient over N outputs (online softmax, chunked)',
  kernels: [
    SOFTMAX_CHUNK_UPDATE_KERNEL,
    SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL,
    SOFTMAX_FINALIZE_KERNEL,
    IDENTITY_SOFTMAX_GRAD_KERNEL,
    BLOCK3_TRANSFORM_KERNEL,
    GATHER_ROWS_IN_CHUNK_KERNEL,
    ACCUMULATE_COLUMN_MEAN_KERNEL,
  ],
  costs: [
    {
      // Y = L·S·Q per 3×3 block: two 3×3 products (54 multiply-adds) per 9 elements = 12 FLOPs per
      // element; the kernel recomputes the inner product per output (24), which is not counted.
      entryPoints: [BLOCK3_TRANSFORM_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'blocks');
        return p && { flops: 12 * p.n * p.n * p.runs, bytes: 2 * F32_BYTES * p.n * p.n * p.runs, model: 'exact' };
      },
    },
    {
      // Per logit: running max, subtract, exp, add (exp counted as one operation); the logit read
      // and the probability written back for the p·Ẽ product.
      entryPoints: [SOFTMAX_CHUNK_UPDATE_KERNEL.entryPoint, SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'chunk', 'chunk4');
        if (!p) return undefined;
        const queries = p.rows * (d.entryPoint === SOFTMAX_CHUNK_UPDATE_VEC4_KERNEL.entryPoint ? 4 : 1);
        return { flops: 4 * queries * p.chunkCols, bytes: 2 * F32_BYTES * queries * p.chunkCols, model: 'approximate' };
      },
    },
    {
      // Per query: o/s, the residual and the true-class terms over dOut; read o and H, write H.
      entryPoints: [SOFTMAX_FINALIZE_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'fin');
        return p && { flops: 3 * p.rows * p.dOut, bytes: 3 * F32_BYTES * p.rows * p.dOut, model: 'approximate' };
      },
    },
    {
      // Per run and row of W (N × N): max, exp, sum, normalize; read the logits, write the gradient.
      entryPoints: [IDENTITY_SOFTMAX_GRAD_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'ident');
        return p && { flops: 5 * p.runs * p.N * p.N, bytes: 2 * F32_BYTES * p.runs * p.N * p.N, model: 'approximate' };
      },
    },
  ],
  tolerance:
    'absolute per element from a first-order error analysis of the logits, exp, sums, log1p loss, o, residual and G (src/kernels/softmaxGrad/check.ts softmaxGradTolerances)',
  checkCases: (scope) => softmaxGradCases(scope).map(softmaxGradCaseId),
  benchShapes: SOFTMAX_GRAD_BENCH_SHAPES.map((s) => s.label),
  check: (gpu, options) => checkSoftmaxGrad(gpu, options),
  bench: (gpu, options) => benchSoftmaxGrad(gpu, options),
};
