/**
 * The Newton–Schulz family: orth(·) for a batch of R matrices in one program (ns5, polar-express,
 * cubic, a user list, and the GPU `exact`), on the batched matmul and the symmetric Gram product.
 * It owns the batched reductions (shaders/reduce/) its normalization and stop rule use. CPU twins:
 * src/cpu/newtonSchulz.ts, src/cpu/polar.ts (SVD), src/cpu/reduce.ts.
 */
import { COUNT_NONFINITE_KERNEL, SUM_SQUARES_KERNEL } from '../reduce/reduce';
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchNewtonSchulz, NS_BENCH_SHAPES } from './bench';
import { checkNewtonSchulz, nsCaseId, nsCases } from './check';
import { NS_EXACT_SELECT_KERNEL, NS_NORMALIZE_KERNEL } from './newtonSchulz';

export const newtonSchulzFamily: KernelFamily = {
  name: 'newton-schulz',
  summary: 'batched Newton–Schulz orthogonalization (ns5, polar-express, cubic, user coefficients, exact)',
  kernels: [NS_NORMALIZE_KERNEL, NS_EXACT_SELECT_KERNEL, SUM_SQUARES_KERNEL, COUNT_NONFINITE_KERNEL],
  costs: [
    {
      entryPoints: [SUM_SQUARES_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'params');
        if (!p) return undefined;
        const diff = Boolean(d.constants?.DIFF);
        const n = p.rows * p.cols * p.batch;
        return { flops: (diff ? 3 : 2) * n, bytes: F32_BYTES * n * (diff ? 2 : 1), model: 'exact' };
      },
    },
    {
      entryPoints: [NS_NORMALIZE_KERNEL.entryPoint, NS_EXACT_SELECT_KERNEL.entryPoint],
      cost(d) {
        const p = dispatchUniform(d, 'norm', 'sel');
        if (!p) return undefined;
        return { flops: d.entryPoint === NS_NORMALIZE_KERNEL.entryPoint ? p.count * p.batch : 0, bytes: 2 * F32_BYTES * p.count * p.batch, model: 'exact' };
      },
    },
  ],
  tolerance:
    'output spectral error Σ_k 3γ(|a_k|+|b_k|+|c_k|)·Π_{j>k} L_j with γ = √n·u (n = max(rows, cols) + 2) and L_j the gain of step j; exact: ‖GPU − SVD polar‖₂ ≤ 1e-3 for κ ≤ 100',
  checkCases: (scope) => nsCases(scope).map(nsCaseId),
  benchShapes: NS_BENCH_SHAPES.map((s) => s.label),
  check: (gpu, options) => checkNewtonSchulz(gpu, options),
  bench: (gpu, options) => benchNewtonSchulz(gpu, options),
};
