// Batched Newton–Schulz on the adapter against the Float64 twin (cases, inputs and the tolerance
// derivation live in src/kernels/newtonSchulz/check.ts, shared with `muonlab check newton-schulz`):
// - scheduled (ns5, polar-express, cubic, a user list): elementwise, absolute
//   tol = Σ_k 3·√n·u·(|a_k|+|b_k|+|c_k|)·Π_{j>k} L_j — per-step f32 rounding carried through the
//   later polynomials' gains L_j (relative part 0: outputs are O(1) by construction);
// - exact (κ from 10 to 1e6, rank-deficient inputs whose zero σ sit at the f32 floor):
//   ‖GPU − U_r·V_rᵀ‖₂ ≤ 2u·‖X‖_F/σ_r + 3·√n·u·Σ_k(|a_k|+|b_k|+|c_k|) (exactTolerance: one more f32
//   rounding of the input seen through the polar factor's condition 1/σ_r, plus each step's own
//   rounding carried as a rotation); the null space's singular values stay below the same bound;
//   every run's stop rule reaches its tolerance 2u·√(rows·cols) within EXACT_MAX_STEPS.
// Inputs: σ/‖X‖_F ≥ 0.01 for scheduled cases (κ = 8, ≤ 64 singular values).
import { describe, expect, test } from 'vitest';
import { conditionedMatrix, exactTolerance, nsCaseId, nsCases, nsTolerance, runNsCase } from '../src/kernels/newtonSchulz/check';
import { EXACT_FIRST_CHECKED_STEP, EXACT_MAX_STEPS } from '../src/cpu/exactPolar';
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

describe('newton-schulz exact (cushioned lifting + purification, stop rule) against the SVD polar factor', () => {
  for (const c of nsCases('full').filter((x) => x.orth === 'exact')) {
    test(nsCaseId(c), async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runNsCase(gpu, c));
      const per = c.rows * c.cols;
      for (let b = 0; b < c.batch; b++) {
        const got = r.got.subarray(b * per, (b + 1) * per);
        const want = r.want.subarray(b * per, (b + 1) * per);
        const err = spectralNorm(
          Array.from(got, (g, i) => g - want[i]),
          c.rows,
          c.cols,
        );
        const tol = exactTolerance(r.inputs[b], c.rows, c.cols, c.zeros ?? 0);
        console.log(
          `${nsCaseId(c)} run ${b}: ‖GPU − UVᵀ‖₂ = ${err.toExponential(2)} (tol ${tol.toExponential(2)}), ${r.exactSteps![b]} steps, residual ${r.exactStepChange![b].toExponential(2)}`,
        );
        expect(err, `run ${b}: ‖GPU − UVᵀ‖₂ after ${r.exactSteps![b]} steps`).toBeLessThanOrEqual(tol);
        expect(r.exactSteps![b]).toBeGreaterThanOrEqual(EXACT_FIRST_CHECKED_STEP);
        expect(r.exactSteps![b]).toBeLessThanOrEqual(EXACT_MAX_STEPS);
        expect(r.exactConverged![b], 'the stop rule reached its tolerance').toBe(true);
        if (c.zeros) {
          const s = singularValues(got, c.rows, c.cols);
          const nullSpace = Array.from(s.subarray(s.length - c.zeros));
          expect(Math.max(...nullSpace), 'null-space singular values').toBeLessThanOrEqual(tol);
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
      await withErrorScopes(gpu, () =>
        runCommands(gpu, async (rec) => {
          await newtonSchulz(rec, { input, output: together, orth });
          for (let r = 0; r < 3; r++) await newtonSchulz(rec, { input: runRange(input, r, 1), output: runRange(apart, r, 1), orth });
        }),
      );
      const a = await readTensor(gpu, together);
      const b = await readTensor(gpu, apart);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(Array.from(a)).toEqual(Array.from(b));
    } finally {
      for (const t of [input, together, apart]) t.buffer.destroy();
    }
  });
});
