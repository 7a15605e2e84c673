// Issue 17 acceptance at small sizes: Muon's one-step direction from the GPU `exact` kernel
// (src/experiments/gpuPolar.ts) against the Float64 SVD polar factor of the same f32 gradient, on
// c-capacity-onestep's task (gaussian embeddings, p_i ∝ i^−a, W₀ = 0). The recovered-item counts
// must agree within max(2, 2 %) — the band — and ‖UVᵀ_GPU − UVᵀ_f64‖₂ is printed. The
// direction itself is checked too where σ_min/σ_max ≥ 1e-6 (the range the kernel is designed for):
// ‖D − D_f64‖₂ ≤ tol and ‖D‖₂ ≤ 1 + tol, with tol the kernel check's derived bound
// (exactTolerance, src/kernels/newtonSchulz/check.ts: 2u·‖G‖_F/σ_min + 3√(n+2)·u·Σ_k Σ|coefficients|).
import { expect, test } from 'vitest';
import { polarFactor, singularValues } from '../src/cpu/polar';
import { capacity } from '../src/metrics/recall';
import { createGpuTask } from '../src/task/taskGpu';
import { gpuExactPolar, spectralDistance } from '../src/experiments/gpuPolar';
import { evaluateAtStepSizes, firstDirections } from '../src/experiments/oneStepSweep';
import { exactTolerance } from '../src/kernels/newtonSchulz/check';
import { crossCheckBand } from '../src/experiments/presets/cCapacityOnestep';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

for (const a of [1.5, 2]) {
  test(`GPU exact polar vs Float64 SVD on one-step capacity, a = ${a}, d ∈ {16, 32}`, async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    for (const d of [16, 32]) {
      const task = await createGpuTask(gpu, {
        N: 512,
        dIn: d,
        dOut: d,
        embedding: 'gaussian',
        frequency: { kind: 'power', powerExponent: a },
        taskSeed: 3,
      });
      try {
        const [gd] = await withErrorScopes(gpu, () => firstDirections(gpu, task, [{ name: 'gd' }]));
        const s = singularValues(gd.direction, d, d);
        const polar = await withErrorScopes(gpu, () => gpuExactPolar(gpu, gd.direction, d, d));
        const reference = polarFactor(gd.direction, d, d);
        const err = spectralDistance(polar.direction, reference, d, d);
        const [cGpu, cF64] = (
          await evaluateAtStepSizes(
            gpu,
            task,
            [polar.direction, Float32Array.from(reference)].map((direction) => ({ direction: { direction, rows: d, cols: d }, eta: 1 })),
          )
        ).map((e) => capacity(e.correct));
        console.log(
          `a = ${a}, d = ${d}: σ_min/σ_max = ${(s[d - 1] / s[0]).toExponential(2)}, items GPU ${cGpu} vs f64 ${cF64}, ‖ΔUVᵀ‖₂ = ${err.toExponential(2)}, ${polar.steps} steps, residual ${polar.residual.toExponential(2)}`,
        );
        expect(polar.converged, 'the stop rule reached its tolerance').toBe(true);
        expect(Math.abs(cGpu - cF64), `d = ${d}`).toBeLessThanOrEqual(crossCheckBand(cF64));
        expect(cF64).toBeGreaterThan(0);
        if (s[d - 1] / s[0] >= 1e-6) {
          const tol = exactTolerance(gd.direction, d, d, 0);
          expect(err, `d = ${d}: ‖UVᵀ_GPU − UVᵀ_f64‖₂`).toBeLessThanOrEqual(tol);
          expect(singularValues(polar.direction, d, d)[0]).toBeLessThanOrEqual(1 + tol);
        }
      } finally {
        task.destroy();
      }
    }
  });
}
