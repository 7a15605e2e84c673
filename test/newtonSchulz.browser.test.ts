// Batched Newton–Schulz on the adapter against the Float64 twin (cases, inputs and the tolerance
// derivation live in src/kernels/newtonSchulz/check.ts, shared with `muonlab check newton-schulz`):
// - scheduled (ns5, polar-express, cubic, a user list): elementwise, absolute
//   tol = Σ_k 3·√n·u·(|a_k|+|b_k|+|c_k|)·Π_{j>k} L_j — per-step f32 rounding carried through the
//   later polynomials' gains L_j (relative part 0: outputs are O(1) by construction);
// - exact: the bound ‖GPU − U·Vᵀ‖₂ ≤ 1e-3 for κ ≤ 100, and for a rank-deficient input the
//   singular values of the GPU output that belong to the null space stay ≤ 1e-3.
// Inputs: σ/‖X‖_F ≥ 0.01 for scheduled cases (κ = 8, ≤ 64 singular values).
import { describe, expect, test } from 'vitest';
import { conditionedMatrix, EXACT_SPECTRAL_TOLERANCE, nsCaseId, nsCases, nsTolerance, runNsCase } from '../src/kernels/newtonSchulz/check';
import { newtonSchulz } from '../src/kernels/newtonSchulz/newtonSchulz';
import { symmetricGramAvailable } from '../src/kernels/matmul/symmetricGram';
import { runCommands } from '../src/gpu/commands';
import { createTensor, readTensor, runRange, uploadTensor } from '../src/gpu/tensor';
import { compareToReference } from '../src/cpu/compare';
import { singularValues, spectralNorm } from '../src/cpu/polar';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

describe('newton-schulz scheduled: GPU = the same iteration in Float64', () => {
  for (const c of nsCases('full').filter((x) => x.orth !== 'exact')) {
    test(nsCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runNsCase(gpu, c));
      const tol = nsTolerance(r.schedule!, c.rows, c.cols);
      const cmp = compareToReference(r.got, r.want, { atol: tol, rtol: 0 });
      expect(cmp.nonFinite).toBe(0);
      expect(cmp.worstRatio, `max error ${cmp.maxAbsError} vs tol ${tol}`).toBeLessThanOrEqual(1);
      // At most three dispatches per step for the whole batch (two for the cubic, c = 0).
      expect(r.dispatchesPerStep).toBeLessThanOrEqual(3);
      expect(r.passesRecorded).toBe(2 + r.schedule!.coefficients.length * r.dispatchesPerStep);
      // X·Xᵀ and A·A go through the symmetric Gram kernel (any shape) unless the case turns it off,
      // wherever the device has subgroups (no choice table here: the products' variant is the quad kernel or 16x16).
      expect(r.symmetric).toBe(c.symmetric !== false && symmetricGramAvailable(gpu));
    });
  }
});

describe('newton-schulz exact (Polar Express + stop rule) against the SVD polar factor', () => {
  for (const c of nsCases('full').filter((x) => x.orth === 'exact')) {
    test(nsCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runNsCase(gpu, c));
      const per = c.rows * c.cols;
      for (let b = 0; b < c.batch; b++) {
        const got = r.got.subarray(b * per, (b + 1) * per);
        const want = r.want.subarray(b * per, (b + 1) * per);
        const err = spectralNorm(Array.from(got, (g, i) => g - want[i]), c.rows, c.cols);
        expect(err, `run ${b}: ‖GPU − UVᵀ‖₂ after ${r.exactSteps![b]} steps`).toBeLessThanOrEqual(EXACT_SPECTRAL_TOLERANCE);
        expect(r.exactSteps![b]).toBeGreaterThanOrEqual(7);
        expect(r.exactSteps![b]).toBeLessThanOrEqual(12);
        expect(Number.isFinite(r.exactStepChange![b])).toBe(true);
        if (c.zeros) {
          const s = singularValues(got, c.rows, c.cols);
          const nullSpace = Array.from(s.subarray(s.length - c.zeros));
          expect(Math.max(...nullSpace), 'null-space singular values').toBeLessThanOrEqual(1e-3);
        }
      }
    });
  }
});

describe('batching is exact', () => {
  // Each matrix of a batched call goes through the same kernels with the same per-matrix data, so
  // one call for R runs and R calls on run sub-range views (offsets) must agree bit for bit.
  test.for([
    ['ns5', 16, 24],
    ['polar-express', 13, 7],
    ['exact', 12, 20],
  ] as const)('%s %i×%i: one call for 3 runs = 3 calls on runRange views', async ([orth, rows, cols], ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const per = rows * cols;
    const host = new Float32Array(3 * per);
    for (let r = 0; r < 3; r++) host.set(conditionedMatrix(rows, cols, 8, 500 + r), r * per);
    const input = uploadTensor(gpu, { batch: 3, rows, cols, label: 'X' }, host);
    const together = createTensor(gpu, { batch: 3, rows, cols, label: 'batched' });
    const apart = createTensor(gpu, { batch: 3, rows, cols, label: 'separate' });
    try {
      await withErrorScopes(gpu, () => runCommands(gpu, async (rec) => {
        await newtonSchulz(rec, { input, output: together, orth });
        for (let r = 0; r < 3; r++) await newtonSchulz(rec, { input: runRange(input, r, 1), output: runRange(apart, r, 1), orth });
      }));
      const a = await readTensor(gpu, together);
      const b = await readTensor(gpu, apart);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(Array.from(a)).toEqual(Array.from(b));
    } finally {
      for (const t of [input, together, apart]) t.buffer.destroy();
    }
  });
});
