/**
 * The gather family: `out[b, r, :] = src[b, index[b, r], :]`, how minibatches pick their items'
 * embedding rows without a CPU copy. CPU twin: src/cpu/gather.ts.
 */
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchGather, GATHER_BENCH_SHAPES } from './bench';
import { checkGather, gatherCaseId, gatherCases } from './check';
import { GATHER_KERNEL } from './gather';

export const gatherFamily: KernelFamily = {
  name: 'gather',
  summary: 'row gather by an index tensor, batched, shared or per-run tables',
  kernels: [GATHER_KERNEL],
  costs: [
    {
      entryPoints: [GATHER_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'params');
        return p && { flops: 0, bytes: F32_BYTES * p.batch * p.rows * (2 * p.cols + 1), model: 'exact' };
      },
    },
  ],
  tolerance: 'bit-identical (a copy has no error budget; an index outside the table gives NaN on both sides)',
  checkCases: (scope) => gatherCases(scope).map(gatherCaseId),
  benchShapes: GATHER_BENCH_SHAPES.map((s) => s.label),
  check: (gpu, options) => checkGather(gpu, options),
  bench: (gpu, options) => benchGather(gpu, options),
};
