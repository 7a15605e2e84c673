// The symmetric product kernels (src/kernels/matmul/symmetricGram.ts: gram_symmetric_quad,
// gram_symmetric_tiled_vec4, gram_symmetric_subgroup) against the Float64 matmul twin, over the case
// suite of src/kernels/matmul/gramCheck.ts: odd sizes and the remainders of each variant's tiles (32×32,
// 128×128 with K slices of 8, 8×256 with skipped below-diagonal tiles), both orientations, α and β
// with a symmetric C, a batch with an offset. Tolerance per element: Higham's bound for a K-long f32
// dot product, then α and the β·C add — γ_{K+2}·(|α|·|X||X|ᵀ + |β|·|C₀|), γ_n = n·u/(1 − n·u) —
// whatever the summation order (computed in runGramCase and restated here by its definition). The
// output must be exactly symmetric (mirrored tiles, and diagonal tiles whose (i, j) and (j, i) are the
// same fma chain), and matrices outside the batch range untouched.
import { describe, expect, test } from 'vitest';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';
import { runCommands } from '../src/gpu/commands';
import { createTensor } from '../src/gpu/tensor';
import { GRAM_VARIANTS, gramVariantSupports, symmetricGram, symmetricGramAvailable } from '../src/kernels/matmul/symmetricGram';
import { gramCaseShape, gramCases, runGramCase } from '../src/kernels/matmul/gramCheck';

for (const variant of GRAM_VARIANTS) {
  describe(`symmetricGram ${variant.name}: GPU = Float64 product, exactly symmetric`, () => {
    for (const c of gramCases('full')) {
      test(c.name, async (ctx) => {
        const gpu = await gpuOrSkip(ctx);
        if (!gpu) return;
        if (variant.requires === 'subgroups' && !gpu.hasSubgroups) {
          ctx.skip(`${variant.name} needs subgroups, which this adapter lacks`);
          return;
        }
        if (!gramVariantSupports(gpu, variant, gramCaseShape(c))) {
          ctx.skip(`${variant.name} takes aligned shapes only`);
          return;
        }
        const r = await withErrorScopes(gpu, () => runGramCase(gpu, c, variant.name));
        expect(r.comparison.nonFinite).toBe(0);
        expect(r.comparison.worstRatio, `max error ${r.comparison.maxAbsError} at ${r.comparison.worstIndex}`).toBeLessThanOrEqual(1);
        expect(r.asymmetric, 'entries with C[i, j] ≠ C[j, i]').toBe(0);
        expect(r.untouchedOutside, 'matrices outside the batch range unchanged').toBe(true);
      });
    }
  });
}

describe('symmetricGram: bad calls', () => {
  test('workgroup-tiled-vec4 on an unaligned shape is an error naming the unaligned sizes', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const x = createTensor(gpu, { batch: 1, rows: 6, cols: 10, label: 'X' });
    const c = createTensor(gpu, { batch: 1, rows: 6, cols: 6, label: 'C' });
    try {
      await expect(runCommands(gpu, (rec) => symmetricGram(rec, { x, c, trans: false, variant: 'workgroup-tiled-vec4' }))).rejects.toThrow(
        /not aligned: m = 6, k = 10/,
      );
    } finally {
      x.buffer.destroy();
      c.buffer.destroy();
    }
  });

  test('a C of the wrong size is an error naming both shapes', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    if (!symmetricGramAvailable(gpu)) ctx.skip('no subgroups on this adapter');
    const x = createTensor(gpu, { batch: 2, rows: 6, cols: 10, label: 'X' });
    const c = createTensor(gpu, { batch: 2, rows: 10, cols: 10, label: 'C' });
    try {
      await expect(runCommands(gpu, (rec) => symmetricGram(rec, { x, c, trans: false }))).rejects.toThrow(
        /symmetricGram: C is 10×10, X·Xᵀ is 6×6/,
      );
    } finally {
      x.buffer.destroy();
      c.buffer.destroy();
    }
  });
});
