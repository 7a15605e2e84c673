// Newton–Schulz schedules and the Float64 twins (src/cpu/newtonSchulz.ts, src/cpu/polar.ts),
// checked against independent facts rather than the code under test:
// - the coefficient values are docs/math.md §2's numbers with the safety factor written out here;
// - on X = U·diag(σ)·Vᵀ every odd polynomial step acts on the singular values alone, so the output's
//   singular values must equal the scalar iteration σ ← aσ + bσ³ + cσ⁵ from σ/(s‖σ‖₂ + 1e-7), and
//   its singular vectors must stay U, V (checked through ‖out − U·diag(p(σ))·Vᵀ‖);
// - the polar factor of U·diag(σ)·Vᵀ is U·Vᵀ (and U_r·V_rᵀ over the nonzero σ for rank r).
// Tolerances: everything is Float64 on matrices ≤ 24, so rounding is ≲ 1e-13 per step; the SVD
// (ml-matrix) is backward stable to ~1e-14·σ_max. 1e-9 absolute leaves room for five polynomial
// steps whose slopes are ≤ 8.3 each, yet any wrong coefficient moves outputs by ≥ 1e-3.
import { describe, expect, test } from 'vitest';
import { newtonSchulzCpu, nsSchedule, POLAR_EXPRESS_TAIL, type NsTriple } from '../src/cpu/newtonSchulz';
import {
  designLiftingSchedule,
  EXACT_CUSHION,
  EXACT_FIRST_CHECKED_STEP,
  EXACT_LIFT_STEPS,
  EXACT_LOWER_BOUND,
  EXACT_MAX_STEPS,
  EXACT_SCALE_SAFETY,
  EXACT_UPPER_SLACK,
  exactPolarCpu,
  exactStopStep,
  exactTransfer,
  liftTopPoint,
  liftTopSpectrum,
  minimaxOddQuintic,
  powerOfTwoScale,
} from '../src/cpu/exactPolar';
import { polarFactor, singularValues, spectralNorm } from '../src/cpu/polar';
import { seededUniform } from '../src/cpu/random';

function randomOrthogonal(n: number, k: number, seed: number): Float64Array {
  // Gram–Schmidt on Gaussian-ish columns: n×k with orthonormal columns.
  const rnd = seededUniform(seed);
  const q = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const v = Array.from({ length: n }, () => rnd() - 0.5);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * k + p] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i * k + p];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) q[i * k + j] = v[i] / norm;
  }
  return q;
}

/** U·diag(s)·Vᵀ with U rows×k, V cols×k. */
function compose(u: Float64Array, s: number[], v: Float64Array, rows: number, cols: number): Float64Array {
  const k = s.length;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += u[i * k + p] * s[p] * v[j * k + p];
      out[i * cols + j] = acc;
    }
  return out;
}

function scalarIteration(sigma: number[], triples: readonly NsTriple[], normScale: number): number[] {
  const norm = Math.hypot(...sigma);
  return sigma.map((s0) => {
    let s = s0 / (normScale * norm + 1e-7);
    for (const [a, b, c] of triples) s = a * s + b * s ** 3 + c * s ** 5;
    return s;
  });
}

const maxAbsDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i])));

describe('coefficient schedules', () => {
  test('polar-express: the safety factor 1.01 divides a, b·1.01⁻³, c·1.01⁻⁵ on the seven listed triples only', () => {
    const c = nsSchedule({ name: 'polar-express', steps: 9 }).coefficients;
    expect(c[0][0]).toBeCloseTo(8.28721201814563 / 1.01, 13);
    expect(c[0][1]).toBeCloseTo(-23.595886519098837 / 1.030301, 12);
    expect(c[0][2]).toBeCloseTo(17.300387312530933 / 1.0510100501, 12);
    expect(c[6][0]).toBeCloseTo(1.8750014808534479 / 1.01, 13);
    expect(c[7]).toEqual([1.875, -1.25, 0.375]);
    expect(c[8]).toEqual(POLAR_EXPRESS_TAIL);
    expect(nsSchedule('polar-express').normScale).toBe(1.01);
  });

  test('ns5 and cubic: constant triples, 5 steps by default, normalization ‖X‖_F + 1e-7', () => {
    expect(nsSchedule('ns5').coefficients).toEqual(Array(5).fill([3.4445, -4.775, 2.0315]));
    expect(nsSchedule({ name: 'cubic', steps: 3 }).coefficients).toEqual(Array(3).fill([1.5, -0.5, 0]));
    expect(nsSchedule('ns5').normScale).toBe(1);
    expect(nsSchedule('ns5').eps).toBe(1e-7);
  });

  test('a user list is used as given, one step per triple', () => {
    const s = nsSchedule({
      coefficients: [
        [2, -1, 0],
        [1.5, -0.5, 0],
      ],
    });
    expect(s.coefficients).toEqual([
      [2, -1, 0],
      [1.5, -0.5, 0],
    ]);
  });

  test.each([
    ['unknown schedule', 'ns7', /unknown coefficient schedule "ns7"; allowed: ns5, polar-express, cubic/],
    ['zero steps', { name: 'ns5', steps: 0 }, /orth.steps: must be an integer/],
    ['a triple with two numbers', { coefficients: [[1, 2]] }, /orth.coefficients\[0\]: expected three finite numbers/],
    ['an empty list', { coefficients: [] }, /at least one/],
  ])('rejects %s', (_n, spec, message) => {
    expect(() => nsSchedule(spec as never)).toThrow(message);
  });
});

describe('Newton–Schulz CPU iteration acts on singular values as the scalar polynomial', () => {
  const shapes: [number, number][] = [
    [6, 6],
    [5, 9],
    [11, 4],
    [1, 7],
    [7, 1],
    [1, 1],
  ];
  const schedules = [
    ['ns5', nsSchedule('ns5')],
    ['polar-express', nsSchedule('polar-express')],
    ['cubic 8 steps', nsSchedule({ name: 'cubic', steps: 8 })],
    [
      'user list',
      nsSchedule({
        coefficients: [
          [3, -3.2, 1.2],
          [1.875, -1.25, 0.375],
        ],
        normScale: 1.2,
      }),
    ],
  ] as const;
  for (const [rows, cols] of shapes) {
    for (const [name, schedule] of schedules) {
      test(`${name} ${rows}×${cols}`, () => {
        const k = Math.min(rows, cols);
        const u = randomOrthogonal(rows, k, rows * 31 + cols);
        const v = randomOrthogonal(cols, k, rows + cols * 17);
        const sigma = Array.from({ length: k }, (_, i) => 2 * 0.5 ** i); // ratios down to 1/32
        const x = compose(u, sigma, v, rows, cols);
        const want = compose(u, scalarIteration(sigma, schedule.coefficients, schedule.normScale), v, rows, cols);
        const got = newtonSchulzCpu(x, rows, cols, schedule).x;
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-9);
      });
    }
  }

  test('ns5 maps σ/‖X‖_F ≥ 0.01 into about [0.68, 1.13] (docs/math.md) and does not converge to 1', () => {
    // The scalar map on normalized singular values s ∈ [0.01, 1] (the normalization divides by ‖X‖_F).
    const s = Array.from({ length: 400 }, (_, i) => 10 ** ((-2 * i) / 399));
    const out = s.map((v) => nsSchedule('ns5').coefficients.reduce((x, [a, b, c]) => a * x + b * x ** 3 + c * x ** 5, v));
    expect(Math.min(...out)).toBeGreaterThan(0.67);
    expect(Math.max(...out)).toBeLessThan(1.14);
    expect(Math.max(...out.map((v) => Math.abs(v - 1)))).toBeGreaterThan(0.05);
  });
});

describe('exact polar factor (SVD, ml-matrix)', () => {
  test.each([
    [6, 6],
    [4, 9],
    [9, 4],
    [1, 5],
  ])('U·diag(σ)·Vᵀ → U·Vᵀ, %i×%i', (rows, cols) => {
    const k = Math.min(rows, cols);
    const u = randomOrthogonal(rows, k, 5 + rows);
    const v = randomOrthogonal(cols, k, 9 + cols);
    const sigma = Array.from({ length: k }, (_, i) => 3 / (i + 1));
    const got = polarFactor(compose(u, sigma, v, rows, cols), rows, cols);
    expect(maxAbsDiff(got, compose(u, Array(k).fill(1), v, rows, cols))).toBeLessThan(1e-12);
  });

  test('rank-deficient input keeps its null space: σ below max(m,n)·ε·σ_max count as zero', () => {
    const u = randomOrthogonal(8, 3, 1);
    const v = randomOrthogonal(10, 3, 2);
    const got = polarFactor(compose(u, [2, 1, 0], v, 8, 10), 8, 10);
    expect(maxAbsDiff(got, compose(u, [1, 1, 0], v, 8, 10))).toBeLessThan(1e-12);
    const s = singularValues(got, 8, 10);
    expect(s[2]).toBeLessThan(1e-12);
    // Just above the threshold (1e-10·σ_max ≫ 10·ε) a singular value is kept: it becomes 1.
    const small = polarFactor(compose(u, [2, 1, 2e-10], v, 8, 10), 8, 10);
    expect(singularValues(small, 8, 10)[2]).toBeCloseTo(1, 8);
  });
});

// The GPU `exact` (src/cpu/exactPolar.ts). Facts checked against independent definitions:
// - a minimax polynomial is characterized by equioscillation (Chebyshev): |1 − p| ≤ E on the
//   interval, = E with alternating signs at four points — checked on a fine grid, not from Remez;
// - odd polynomials act on singular values alone, so the scalar transfer function predicts what the
//   matrix iteration does: U·diag(σ)·Vᵀ → U·diag(f(σ/s))·Vᵀ;
// - the polar factor of U·diag(σ)·Vᵀ is U·Vᵀ (U_r·V_rᵀ when σ below the threshold count as zero).
// Tolerances: Float64 arithmetic on matrices ≤ 24; 18 polynomial steps whose per-step gain on
// rounding is O(1) once σ ≈ 1, and the polar factor's sensitivity 1/σ_min = 1e6 at κ = 1e6 on a
// backward error ≈ 1e-15: 1e-8 for κ = 1e6 and 1e-10 otherwise; a wrong coefficient moves σ by ≥ 1e-3.
const quintic = ([a, b, c]: NsTriple, x: number) => a * x + b * x ** 3 + c * x ** 5;

describe('GPU exact: schedule design', () => {
  test.for([
    [0.1, 1],
    [1e-6, 1],
    [0.5, 1.5],
    [0.925, 1.075],
  ] as const)('minimax on [%f, %f] equioscillates', ([lo, hi]) => {
    const { triple, error } = minimaxOddQuintic(lo, hi);
    const grid = Array.from({ length: 20001 }, (_, i) => lo * (hi / lo) ** (i / 20000));
    const dev = grid.map((x) => 1 - quintic(triple, x));
    expect(Math.max(...dev.map(Math.abs))).toBeLessThanOrEqual(error * (1 + 1e-6));
    // Four alternation points: +E at lo, −E at the interior maximum, +E at the interior minimum, −E at hi.
    expect(dev[0]).toBeCloseTo(error, 9);
    expect(dev[dev.length - 1]).toBeCloseTo(-error, 9);
    expect(Math.min(...dev)).toBeCloseTo(-error, 6);
    const interiorMax = dev.findIndex((v) => v <= -error * (1 - 1e-6));
    expect(Math.max(...dev.slice(interiorMax, dev.length - 1))).toBeCloseTo(error, 6);
  });

  test('the lifting schedule maps [ℓ, 1] to [1 − 1e-3, 1 + 1e-3], lifts in order and keeps the cushion', () => {
    expect(EXACT_LIFT_STEPS.length).toBe(
      designLiftingSchedule({ lowerBound: EXACT_LOWER_BOUND, cushion: EXACT_CUSHION, tolerance: 1e-3, upperSlack: EXACT_UPPER_SLACK })
        .length,
    );
    const grid = Array.from({ length: 4001 }, (_, i) => EXACT_LOWER_BOUND ** (1 - i / 4000));
    let values = grid.slice();
    let upper = 1;
    for (const t of EXACT_LIFT_STEPS) {
      const next = values.map((x) => quintic(t, x));
      const newUpper = Math.max(...next);
      const bottom = values.map((x, i) => [x, next[i]]).filter(([x]) => x < EXACT_CUSHION * upper);
      const top = values.map((x, i) => [x, next[i]]).filter(([x]) => x >= EXACT_CUSHION * upper);
      // Below the cushion the step is an increasing lift; nothing from the top part lands below it
      // (a large σ is never sent back among the small ones), and the top part keeps ≥ 0.3 of the range.
      for (let i = 1; i < bottom.length; i++) expect(bottom[i][1]).toBeGreaterThan(bottom[i - 1][1]);
      const topMin = Math.min(...top.map(([, y]) => y));
      if (bottom.length > 0) expect(topMin).toBeGreaterThanOrEqual(bottom[bottom.length - 1][1] * (1 - 1e-9));
      expect(topMin).toBeGreaterThanOrEqual(0.3 * newUpper);
      values = next;
      upper = newUpper;
    }
    for (const v of values) expect(Math.abs(v - 1)).toBeLessThanOrEqual(1e-3);
  });

  test('upper slack: a σ rounded above the top after step 1 still lifts to 1; without the slack it runs away', () => {
    // Scalar model of the failure (odd polynomials act on each σ alone): σ at step 1's peak lands on
    // the top u₁ of the next interval; f32 rounding nudges it up by a relative δ. Then the remaining
    // lifting steps run. With the slack it ends within the design's 1e-3 of 1; designed without the
    // slack the repeated step has p(u) = u with p'(u) > 1 there, and δ = 1e-6 grows past 1.5 (to overflow).
    const lift = (steps: readonly NsTriple[], delta: number) => {
      const [first, ...rest] = steps;
      let x = quintic(first, liftTopPoint(first)) * (1 + delta);
      for (const t of rest) x = quintic(t, x);
      return x;
    };
    for (const delta of [0, 1e-7, 1e-6, 1e-5, 1e-4])
      expect(Math.abs(lift(EXACT_LIFT_STEPS, delta) - 1), `δ = ${delta}`).toBeLessThanOrEqual(1e-3);
    const plain = designLiftingSchedule({ lowerBound: EXACT_LOWER_BOUND, cushion: EXACT_CUSHION, tolerance: 1e-3 });
    const runaway = lift(plain, 1e-6);
    expect(!Number.isFinite(runaway) || runaway > 1.5, `without the slack: ${runaway}`).toBe(true);
    const u = quintic(plain[0], liftTopPoint(plain[0]));
    const [a, b, c] = plain[1];
    expect(quintic(plain[1], u)).toBeCloseTo(u, 6);
    expect(a + 3 * b * u ** 2 + 5 * c * u ** 4).toBeGreaterThan(5);
    expect(EXACT_LIFT_STEPS.length).toBe(plain.length); // the slack costs no lifting step
    expect(EXACT_UPPER_SLACK).toBeGreaterThanOrEqual(1e-4);
  });

  test('liftTopPoint is where step 1 peaks inside its interval; liftTopSpectrum puts σ/s there', () => {
    const x = liftTopPoint();
    const grid = Array.from({ length: 200001 }, (_, i) => EXACT_CUSHION + (i / 200000) * (0.9 - EXACT_CUSHION));
    const values = grid.map((g) => quintic(EXACT_LIFT_STEPS[0], g));
    const peak = grid[values.reduce((best, v, i) => (v > values[best] ? i : best), 0)];
    expect(Math.abs(x - peak)).toBeLessThan(1e-5);
    const sigma = liftTopSpectrum(64, 100, 8);
    const s = EXACT_SCALE_SAFETY * sigma.reduce((acc, v) => acc + v ** 8, 0) ** (1 / 8);
    for (let i = 1; i <= 8; i++) expect(sigma[i] / s).toBeCloseTo(x, 12);
    expect(sigma[0]).toBe(1);
    expect(sigma[63]).toBeCloseTo(1 / 100, 14);
    expect(() => liftTopSpectrum(8, 100, 8)).toThrow(/count must be in \[1, 7\]/);
  });

  test('transfer: σ ≥ ℓ/2 of the scale → 1, σ ≤ ℓ/5 → 0 (the null space)', () => {
    for (const s of [EXACT_LOWER_BOUND / 2, EXACT_LOWER_BOUND, 1e-3, 0.5, 1]) expect(Math.abs(exactTransfer(s) - 1)).toBeLessThan(1e-9);
    for (const s of [0, 1e-10, 1e-8, EXACT_LOWER_BOUND / 5]) expect(exactTransfer(s)).toBeLessThan(1e-9);
    // Purification's unstable fixed point √(2/3): the threshold lies in between.
    const threshold = [0.25, 0.3, 0.35, 0.4, 0.45].map((r) => exactTransfer(r * EXACT_LOWER_BOUND));
    for (let i = 1; i < threshold.length; i++) expect(threshold[i]).toBeGreaterThanOrEqual(threshold[i - 1]);
    expect(EXACT_MAX_STEPS).toBe(EXACT_LIFT_STEPS.length + 6);
  });
});

describe('GPU exact: stop rule and the Float64 twin', () => {
  test('stops at the first purification step whose change is within the tolerance', () => {
    const lift = Array(EXACT_LIFT_STEPS.length).fill(1e-9); // small changes while lifting never stop
    expect(exactStopStep([...lift, 0.3, 2e-3, 1e-6, 9e-7, 8e-7, 8e-7], 1e-5)).toEqual({
      steps: EXACT_FIRST_CHECKED_STEP + 2,
      residual: 1e-6,
      converged: true,
    });
    expect(exactStopStep([...lift, 1e-7, 1e-8, 1e-9, 0, 0, 0], 1e-5)).toEqual({
      steps: EXACT_FIRST_CHECKED_STEP,
      residual: 1e-7,
      converged: true,
    });
    expect(exactStopStep([...lift, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02], 1e-5)).toEqual({
      steps: EXACT_MAX_STEPS,
      residual: 0.02,
      converged: false,
    });
    expect(exactStopStep(Array(EXACT_MAX_STEPS).fill(Number.NaN), 1e-5).converged).toBe(false);
  });

  test('powers of two: 2^(e−1) ≤ ‖X‖_F < 2^e gives 2^−e', () => {
    expect(powerOfTwoScale(1)).toBe(0.5);
    expect(powerOfTwoScale(0.75)).toBe(1);
    expect(powerOfTwoScale(3)).toBe(0.25);
    expect(powerOfTwoScale(0)).toBe(1);
  });

  test.for([
    [12, 20, 1e6],
    [20, 12, 1e4],
    [16, 16, 10],
    [1, 9, 1],
  ] as const)('%i×%i, κ = %d: the SVD polar factor', ([rows, cols, kappa]) => {
    const k = Math.min(rows, cols);
    const u = randomOrthogonal(rows, k, 31);
    const v = randomOrthogonal(cols, k, 32);
    const sigma = Array.from({ length: k }, (_, i) => 3 * kappa ** (-i / Math.max(1, k - 1)));
    const { x, stop, scale } = exactPolarCpu(compose(u, sigma, v, rows, cols), rows, cols);
    const want = compose(u, Array(k).fill(1), v, rows, cols);
    expect(
      spectralNorm(
        x.map((g, i) => g - want[i]),
        rows,
        cols,
      ),
    ).toBeLessThan(kappa >= 1e6 ? 1e-8 : 1e-10);
    expect(stop.converged).toBe(true);
    expect(stop.steps).toBeGreaterThanOrEqual(EXACT_FIRST_CHECKED_STEP);
    // s bounds σ_max of X₀ = X·2^−e from above, by at most 1.001·k^{1/8}.
    const sigmaMax0 = 3 * powerOfTwoScale(Math.hypot(...sigma));
    expect(scale).toBeGreaterThanOrEqual(sigmaMax0);
    expect(scale).toBeLessThanOrEqual(EXACT_SCALE_SAFETY * k ** (1 / 8) * sigmaMax0 * (1 + 1e-12));
  });

  test('σ below the threshold stay zero; a zero matrix stays zero', () => {
    const u = randomOrthogonal(10, 10, 41);
    const v = randomOrthogonal(24, 10, 42);
    const sigma = [2, 1.5, 1, 0.5, 0.2, 1e-9, 3e-10, 1e-10, 0, 0];
    const { x } = exactPolarCpu(compose(u, sigma, v, 10, 24), 10, 24);
    const want = compose(
      u,
      sigma.map((s) => (s > 1e-6 ? 1 : 0)),
      v,
      10,
      24,
    );
    expect(maxAbsDiff(x, want)).toBeLessThan(1e-10);
    const zero = exactPolarCpu(new Float64Array(6 * 4), 6, 4);
    expect(zero.x.every((value) => value === 0)).toBe(true);
  });
});
