/**
 * The Newton–Schulz family: orth(·) for a batch of R matrices in one program (ns5, polar-express,
 * cubic, a user list, and the GPU `exact`), on the batched matmul and the symmetric Gram product.
 * It owns the batched reductions (shaders/reduce/) its normalization and stop rule use. CPU twins:
 * src/cpu/newtonSchulz.ts, src/cpu/polar.ts (SVD), src/cpu/reduce.ts.
 */
import { COUNT_NONFINITE_KERNEL, SUM_SQUARES_KERNEL } from '../reduce/reduce';
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchNewtonSchulz, EXACT_BENCH_SHAPES, NS_BENCH_SHAPES } from './bench';
import { checkNewtonSchulz, nsCaseId, nsCases } from './check';
import { NS_NORMALIZE_KERNEL } from './newtonSchulz';
import { EXACT_FIRST_COMBINE_KERNEL, EXACT_FIRST_POLY_KERNEL, EXACT_NORMALIZE_KERNEL, EXACT_SELECT_KERNEL } from './exactPolar';

export const newtonSchulzFamily: KernelFamily = {
  name: 'newton-schulz',
  summary: 'batched Newton–Schulz orthogonalization (ns5, polar-express, cubic, user coefficients, exact)',
  kernels: [
    NS_NORMALIZE_KERNEL,
    EXACT_NORMALIZE_KERNEL,
    EXACT_FIRST_POLY_KERNEL,
    EXACT_FIRST_COMBINE_KERNEL,
    EXACT_SELECT_KERNEL,
    SUM_SQUARES_KERNEL,
    COUNT_NONFINITE_KERNEL,
  ],
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
      // One read and one write per element; the scale kernels also read the other operand
      // (A for P = (b/s²)A + (c/s⁴)A², X₀ for X₁ = (aX₀ + T)/s): 1, 4 and 3 FLOPs per element.
      entryPoints: [
        NS_NORMALIZE_KERNEL.entryPoint,
        EXACT_NORMALIZE_KERNEL.entryPoint,
        EXACT_FIRST_POLY_KERNEL.entryPoint,
        EXACT_FIRST_COMBINE_KERNEL.entryPoint,
        EXACT_SELECT_KERNEL.entryPoint,
      ],
      cost(d) {
        const p = dispatchUniform(d, 'norm', 'normalizeParams', 'polyParams', 'combineParams', 'selectParams');
        if (!p) return undefined;
        const n = p.count * p.batch;
        const per: Record<string, [number, number]> = {
          [NS_NORMALIZE_KERNEL.entryPoint]: [1, 2],
          [EXACT_NORMALIZE_KERNEL.entryPoint]: [1, 2],
          [EXACT_FIRST_POLY_KERNEL.entryPoint]: [4, 3],
          [EXACT_FIRST_COMBINE_KERNEL.entryPoint]: [3, 3],
          [EXACT_SELECT_KERNEL.entryPoint]: [0, 2],
        };
        const [flops, words] = per[d.entryPoint];
        return { flops: flops * n, bytes: words * F32_BYTES * n, model: 'exact' };
      },
    },
  ],
  tolerance:
    'output spectral error Σ_k 3γ(|a_k|+|b_k|+|c_k|)·Π_{j>k} L_j with γ = √n·u (n = max(rows, cols) + 2) and L_j the gain of step j; exact: ‖GPU − SVD polar‖₂ ≤ 2u·‖X‖_F/σ_r + 3γ·Σ_k(|a_k|+|b_k|+|c_k|) (κ up to 1e6, rank-deficient inputs at the f32 floor)',
  checkCases: (scope) => nsCases(scope).map(nsCaseId),
  benchShapes: [...EXACT_BENCH_SHAPES, ...NS_BENCH_SHAPES].map((s) => s.label),
  check: (gpu, options) => checkNewtonSchulz(gpu, options),
  bench: (gpu, options) => benchNewtonSchulz(gpu, options),
};
