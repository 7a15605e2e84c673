// matmul on the real adapter against the Float64 twin, for every variant over the whole case suite
// (tile edges 63/64/65, odd shapes, 256³, all transposes, α/β, batches with shared operands and run
// sub-ranges). Case ids are addressable: `-t "register-blocked M=7,N=13"`.
//
// Tolerance, per element: |GPU − CPU| ≤ γ_{K+2}·(|α|·(|op(A)|·|op(B)|)ᵢⱼ + |β|·|C₀ᵢⱼ|), with
// γ_n = n·u/(1 − n·u), u = 2⁻²⁴ — the worst-case rounding bound of a K-long f32 dot product in any
// summation order, plus the α multiply and β·C add (Higham, Accuracy and Stability, §3.1). It is an
// absolute interval scaled by the magnitudes (relative part 0), so a cancelling entry gets no slack
// it cannot justify and a dropped or doubled term (error ~ |aₖbₖ| ≫ γ·Σ|aᵢbᵢ| for K ≤ 256) fails.
import { describe, expect, test } from 'vitest';
import { compareToReference, F32_UNIT_ROUNDOFF } from '../src/cpu/compare';
import { MATMUL_VARIANTS, matmulVariantAvailable } from '../src/kernels/matmul/matmul';
import { matmulCaseId, matmulCases, runMatmulCase, variantSupportsCase } from '../src/kernels/matmul/check';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

function toleranceFor(magnitude: Float64Array, K: number) {
  const n = K + 2;
  const gamma = (n * F32_UNIT_ROUNDOFF) / (1 - n * F32_UNIT_ROUNDOFF);
  return { atol: magnitude.map((m) => gamma * m), rtol: 0 };
}

for (const variant of MATMUL_VARIANTS) {
  describe(`matmul ${variant.name}`, () => {
    for (const c of matmulCases('full').filter((x) => variantSupportsCase(variant.name, x))) {
      test(matmulCaseId(c), async (ctx) => {
        const gpu = await gpuOrSkip(ctx);
        if (!gpu) return;
        if (!matmulVariantAvailable(gpu, variant)) {
          ctx.skip(`${variant.name} needs the "${variant.requires}" feature, which this adapter lacks`);
          return;
        }
        const r = await withErrorScopes(gpu, () => runMatmulCase(gpu, c, variant.name));
        const cmp = compareToReference(r.got, r.want, toleranceFor(r.magnitude, r.K));
        expect(cmp.nonFinite, 'non-finite outputs').toBe(0);
        expect(
          cmp.worstRatio,
          `worst error ${cmp.maxAbsError} at ${cmp.worstIndex} (got ${cmp.worstGot}, want ${cmp.worstWant})`,
        ).toBeLessThanOrEqual(1);
      });
    }
  });
}
