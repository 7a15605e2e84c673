/**
 * The matmul family: `C = α·op(A)·op(B) + β·C`, batched, any shape, with variants the registry picks
 * per adapter by measurement (src/kernels/matmul/selectVariants.ts), and the symmetric Gram product
 * X·Xᵀ that Newton–Schulz uses. CPU twin: src/cpu/matmul.ts.
 */
import { dispatchUniform, F32_BYTES, type KernelFamily } from '../family';
import { benchMatmul, MATMUL_BENCH_SHAPES } from './bench';
import { checkMatmul, matmulCaseId, matmulCases } from './check';
import { checkGram, gramCaseId, gramCases } from './gramCheck';
import { MATMUL_VARIANTS, matmulFlops } from './matmul';
import { GRAM_VARIANTS } from './symmetricGram';

export const matmulFamily: KernelFamily = {
  name: 'matmul',
  summary: 'C = α·op(A)·op(B) + β·C, batched, transposed operands, any M, N, K ≥ 1',
  kernels: [...MATMUL_VARIANTS.map((v) => v.kernel), ...GRAM_VARIANTS.map((v) => v.kernel)],
  costs: [
    {
      entryPoints: MATMUL_VARIANTS.map((v) => v.kernel.entryPoint),
      cost(d) {
        const p = dispatchUniform(d, 'params');
        if (!p) return undefined;
        const copiesA = p.batchStrideA ? p.batch : 1;
        const copiesB = p.batchStrideB ? p.batch : 1;
        return {
          flops: matmulFlops(p as { M: number; N: number; K: number; batch: number }),
          bytes: F32_BYTES * (p.M * p.K * copiesA + p.K * p.N * copiesB + p.M * p.N * p.batch * (p.beta ? 2 : 1)),
          model: 'exact',
        };
      },
    },
    {
      // C = X·Xᵀ symmetric: M(M+1)/2 dot products of length K (the triangle with the diagonal), for
      // every variant alike (the whole tiles a variant computes are its own overhead, not work).
      entryPoints: GRAM_VARIANTS.map((v) => v.kernel.entryPoint),
      cost(d) {
        const p = dispatchUniform(d, 'params');
        if (!p) return undefined;
        const copiesX = p.batchStrideA ? p.batch : 1;
        return {
          flops: p.M * (p.M + 1) * p.K * p.batch,
          bytes: F32_BYTES * (p.M * p.K * copiesX + p.M * p.M * p.batch * (p.beta ? 2 : 1)),
          model: 'exact',
        };
      },
    },
  ],
  tolerance: 'per element γ_{K+2}·(|α|·(|A|·|B|) + |β|·|C|), γ_n = n·u/(1 − n·u), u = 2⁻²⁴ (K-long f32 dot products)',
  checkCases: (scope) => [...matmulCases(scope).map(matmulCaseId), ...gramCases(scope).map(gramCaseId)],
  benchShapes: MATMUL_BENCH_SHAPES.map((s) => s.label),
  check: async (gpu, options) => [...(await checkMatmul(gpu, options)), ...(await checkGram(gpu, options))],
  bench: (gpu, options) => benchMatmul(gpu, options),
};
