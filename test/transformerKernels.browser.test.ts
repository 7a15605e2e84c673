/**
 * Every transformer kernel on the real WebGPU adapter against its Float64 twin (issue 12), on odd
 * shapes: T = 1, 7, 65; d = 1, 5, 6, 10, 65 (not multiples of 4); H = 1 and H = d; several replicas
 * with parameter views at offsets. Tolerance per element: C·u·A with u = 2⁻²⁴, A the element's
 * magnitude (its formula on absolute values) and C the rounding chain behind it — derived per kernel
 * in src/kernels/transformer/check.ts (K + 2 per K-term sum; WGSL's exp 3 + 2|x| ULP, inverseSqrt
 * 2 ULP; softmax probabilities inherit the scores' error). A case fails when any element exceeds it.
 */
import { describe, expect, it } from 'vitest';
import { compareToReference } from '../src/cpu/compare';
import { runTransformerCase, transformerCaseId, transformerCases } from '../src/kernels/transformer/check';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

describe('transformer kernels vs the Float64 twin', () => {
  for (const c of transformerCases('full')) {
    it(transformerCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const outputs = await withErrorScopes(gpu, () => runTransformerCase(gpu, c));
      expect(outputs.length).toBeGreaterThan(0);
      for (const o of outputs) {
        const cmp = compareToReference(o.got, o.want, { atol: o.allowed, rtol: 0 });
        expect(cmp.nonFinite, `${o.name}: non-finite values`).toBe(0);
        expect(
          cmp.worstRatio,
          `${o.name}: worst error/allowed at ${cmp.worstIndex} (got ${cmp.worstGot}, want ${cmp.worstWant})`,
        ).toBeLessThanOrEqual(1);
      }
    });
  }
});
